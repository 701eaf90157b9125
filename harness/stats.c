/* SPDX-License-Identifier: MIT */
/* Pure statistics: percentiles, summaries, Mann-Whitney U, hierarchical bootstrap, tax. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int all_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

/* Sorted copy of v[0..n), or NULL. */
static double *sorted_copy(const double *v, size_t n)
{
	double *c = malloc(n * sizeof(*c));

	if (!c)
		return NULL;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	return c;
}

double hvt_stats_percentile_sorted(const double *sorted, size_t n, double p)
{
	double r = p / 100.0 * (double)n;
	size_t rank;

	/* p/100*n that is integral in exact arithmetic may land a few ulps above it. */
	r = ceil(r - 1e-9 * (r > 1.0 ? r : 1.0));
	rank = r < 1.0 ? 1 : (size_t)r;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

int hvt_stats_percentile(const double *v, size_t n, double p, double *out)
{
	double *c;

	if (n == 0 || !(p >= 0.0 && p <= 100.0) || !all_finite(v, n))
		return -EINVAL;
	c = sorted_copy(v, n);
	if (!c)
		return -ENOMEM;
	*out = hvt_stats_percentile_sorted(c, n, p);
	free(c);
	return 0;
}

double hvt_stats_median_sorted(const double *sorted, size_t n)
{
	if (n % 2)
		return sorted[n / 2];
	return (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
}

int hvt_stats_median(const double *v, size_t n, double *out)
{
	double *c;

	if (n == 0 || !all_finite(v, n))
		return -EINVAL;
	c = sorted_copy(v, n);
	if (!c)
		return -ENOMEM;
	*out = hvt_stats_median_sorted(c, n);
	free(c);
	return 0;
}

/* Mean and sample standard deviation (Welford, stable for large offsets). */
static void mean_stdev(const double *v, size_t n, double *mean, double *sd)
{
	double m = 0.0, m2 = 0.0;

	for (size_t i = 0; i < n; i++) {
		const double d = v[i] - m;

		m += d / (double)(i + 1);
		m2 += d * (v[i] - m);
	}
	*mean = m;
	*sd = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0.0;
}

static double cv_of(double mean, double sd, size_t n)
{
	if (n < 2 || mean == 0.0)
		return 0.0;
	return sd / fabs(mean);
}

int hvt_stats_summary(const double *v, size_t n, struct hvt_summary *s)
{
	double *c;

	if (n == 0 || !all_finite(v, n))
		return -EINVAL;
	c = sorted_copy(v, n);
	if (!c)
		return -ENOMEM;
	s->n = n;
	s->min = c[0];
	s->max = c[n - 1];
	s->p50 = hvt_stats_percentile_sorted(c, n, 50.0);
	s->p90 = hvt_stats_percentile_sorted(c, n, 90.0);
	s->p99 = hvt_stats_percentile_sorted(c, n, 99.0);
	s->p999 = hvt_stats_percentile_sorted(c, n, 99.9);
	s->median = hvt_stats_median_sorted(c, n);
	mean_stdev(v, n, &s->mean, &s->stdev);
	s->cv = cv_of(s->mean, s->stdev, n);
	free(c);
	return 0;
}

/* ---- Mann-Whitney U ---- */

struct tagged {
	double v;
	int from_x;
};

static int cmp_tagged(const void *a, const void *b)
{
	return cmp_double(&((const struct tagged *)a)->v, &((const struct tagged *)b)->v);
}

/*
 * Exact two-sided p for U = u (integral, no ties): counts of arrangements
 * f(i, j, k) of i x's and j y's with U_x = k follow from where the largest
 * value sits: f(i,j,k) = f(i-1,j,k-j) + f(i,j-1,k).
 */
static int mwu_exact_p(size_t nx, size_t ny, double u, double *p)
{
	const size_t umax = nx * ny, w = umax + 1;
	double *f = calloc((nx + 1) * (ny + 1) * w, sizeof(*f));
	double total = 0.0, le = 0.0, ge = 0.0;
	const size_t uk = (size_t)llround(u);

	if (!f)
		return -ENOMEM;
#define F(i, j, k) f[((i) * (ny + 1) + (j)) * w + (k)]
	for (size_t i = 0; i <= nx; i++) {
		for (size_t j = 0; j <= ny; j++) {
			if (i == 0 || j == 0) {
				F(i, j, 0) = 1.0;
				continue;
			}
			for (size_t k = 0; k <= i * j; k++)
				F(i, j, k) = (k >= j ? F(i - 1, j, k - j) : 0.0) + F(i, j - 1, k);
		}
	}
	for (size_t k = 0; k <= umax; k++) {
		total += F(nx, ny, k);
		if (k <= uk)
			le += F(nx, ny, k);
		if (k >= uk)
			ge += F(nx, ny, k);
	}
#undef F
	free(f);
	*p = 2.0 * fmin(le, ge) / total;
	if (*p > 1.0)
		*p = 1.0;
	return 0;
}

int hvt_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
			   struct hvt_mwu *out)
{
	const size_t n = nx + ny;
	struct tagged *t;
	double rx = 0.0, tie_sum = 0.0;
	int ret = 0;

	if (nx == 0 || ny == 0 || !all_finite(x, nx) || !all_finite(y, ny))
		return -EINVAL;
	t = malloc(n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < nx; i++)
		t[i] = (struct tagged){x[i], 1};
	for (size_t i = 0; i < ny; i++)
		t[nx + i] = (struct tagged){y[i], 0};
	qsort(t, n, sizeof(*t), cmp_tagged);

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		double rank, tsz;

		while (j < n && t[j].v == t[i].v)
			j++;
		/* positions i..j-1 hold ranks i+1..j; their average */
		rank = ((double)(i + 1) + (double)j) / 2.0;
		tsz = (double)(j - i);
		tie_sum += tsz * tsz * tsz - tsz;
		for (size_t k = i; k < j; k++)
			if (t[k].from_x)
				rx += rank;
		i = j;
	}
	free(t);

	out->u = rx - (double)nx * ((double)nx + 1.0) / 2.0;
	out->z = 0.0;
	if (nx <= HVT_MWU_EXACT_MAX && ny <= HVT_MWU_EXACT_MAX && tie_sum == 0.0) {
		out->exact = 1;
		ret = mwu_exact_p(nx, ny, out->u, &out->p);
	} else {
		const double dn = (double)n, mu = (double)nx * (double)ny / 2.0;
		const double var =
		    (double)nx * (double)ny / 12.0 * ((dn + 1.0) - tie_sum / (dn * (dn - 1.0)));

		out->exact = 0;
		if (var <= 0.0) {
			out->p = 1.0; /* every value tied: no evidence either way */
		} else {
			out->z = (fabs(out->u - mu) - 0.5) / sqrt(var);
			out->p = fmin(1.0, erfc(out->z / sqrt(2.0)));
		}
	}
	return ret;
}

/* ---- bootstrap ---- */

void hvt_boot_opts_init(struct hvt_boot_opts *o)
{
	o->level = HVT_BOOT_LEVEL_DEFAULT;
	o->resamples = HVT_BOOT_RESAMPLES_DEFAULT;
	o->seed = 1;
	o->paired = 0;
}

/* One side's values grouped by round, rounds ascending. */
struct groups {
	size_t ng;
	int *id;     /* round index of group g */
	size_t *off; /* group g is vals[off[g] .. off[g+1]) */
	double *vals;
	size_t maxcnt;
};

struct idx_round {
	int round;
	size_t i;
};

static int cmp_idx_round(const void *a, const void *b)
{
	const struct idx_round *x = a, *y = b;

	if (x->round != y->round)
		return (x->round > y->round) - (x->round < y->round);
	return (x->i > y->i) - (x->i < y->i);
}

static void groups_free(struct groups *g)
{
	free(g->id);
	free(g->off);
	free(g->vals);
	memset(g, 0, sizeof(*g));
}

static int groups_build(const struct hvt_sample_set *s, struct groups *g)
{
	struct idx_round *ir = malloc(s->n * sizeof(*ir));
	size_t ng = 0;

	memset(g, 0, sizeof(*g));
	if (!ir)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		ir[i] = (struct idx_round){s->round ? s->round[i] : 0, i};
	qsort(ir, s->n, sizeof(*ir), cmp_idx_round);
	for (size_t i = 0; i < s->n; i++)
		if (i == 0 || ir[i].round != ir[i - 1].round)
			ng++;
	g->id = malloc(ng * sizeof(*g->id));
	g->off = malloc((ng + 1) * sizeof(*g->off));
	g->vals = malloc(s->n * sizeof(*g->vals));
	if (!g->id || !g->off || !g->vals) {
		free(ir);
		groups_free(g);
		return -ENOMEM;
	}
	g->ng = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (i == 0 || ir[i].round != ir[i - 1].round) {
			g->id[g->ng] = ir[i].round;
			g->off[g->ng++] = i;
		}
		g->vals[i] = s->v[ir[i].i];
	}
	g->off[g->ng] = s->n;
	for (size_t k = 0; k < g->ng; k++)
		if (g->off[k + 1] - g->off[k] > g->maxcnt)
			g->maxcnt = g->off[k + 1] - g->off[k];
	free(ir);
	return 0;
}

/* Largest element of a[0..n). */
static double max_of(const double *a, size_t n)
{
	double m = a[0];

	for (size_t i = 1; i < n; i++)
		if (a[i] > m)
			m = a[i];
	return m;
}

static void swap_d(double *a, double *b)
{
	const double t = *a;

	*a = *b;
	*b = t;
}

/* Quickselect: reorders a[0..n) so that a[k] is the k-th smallest and a[0..k) <= a[k]. */
static void select_kth(double *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1;
	const ptrdiff_t kk = (ptrdiff_t)k;

	while (lo < hi) {
		const ptrdiff_t mid = lo + (hi - lo) / 2;
		ptrdiff_t i = lo, j = hi;
		double pivot;

		if (a[mid] < a[lo])
			swap_d(&a[mid], &a[lo]);
		if (a[hi] < a[lo])
			swap_d(&a[hi], &a[lo]);
		if (a[hi] < a[mid])
			swap_d(&a[hi], &a[mid]);
		pivot = a[mid];
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				swap_d(&a[i], &a[j]);
				i++;
				j--;
			}
		}
		/* a[lo..j] <= pivot, a[i..hi] >= pivot, a[j+1..i-1] == pivot */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return;
	}
}

double hvt_stats_median_inplace(double *a, size_t n)
{
	const size_t k = n / 2;

	select_kth(a, n, k);
	if (n % 2)
		return a[k];
	return (max_of(a, k) + a[k]) / 2.0;
}

/* Append a within-round resample of group gi to buf at *m. */
static void resample_group(const struct groups *g, size_t gi, struct hvt_rng *r, double *buf,
			   size_t *m)
{
	const size_t off = g->off[gi], cnt = g->off[gi + 1] - off;

	for (size_t j = 0; j < cnt; j++)
		buf[(*m)++] = g->vals[off + hvt_rng_below(r, cnt)];
}

static double replicate_side(const struct groups *g, struct hvt_rng *r, double *buf)
{
	size_t m = 0;

	for (size_t k = 0; k < g->ng; k++)
		resample_group(g, (size_t)hvt_rng_below(r, g->ng), r, buf, &m);
	return hvt_stats_median_inplace(buf, m);
}

/* Group index of round id in g, or -1. */
static long find_group(const struct groups *g, int id)
{
	size_t lo = 0, hi = g->ng;

	while (lo < hi) {
		const size_t mid = lo + (hi - lo) / 2;

		if (g->id[mid] == id)
			return (long)mid;
		if (g->id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int hvt_stats_boot_ratio(const struct hvt_sample_set *base, const struct hvt_sample_set *cand,
			 const struct hvt_boot_opts *o, struct hvt_boot_ci *ci)
{
	struct groups gb, gc;
	size_t *pair_b = NULL, *pair_c = NULL, npair = 0;
	double *bufb = NULL, *bufc = NULL, *reps = NULL, mb, mc;
	struct hvt_rng rng;
	int ret;

	if (!base->n || !cand->n || !all_finite(base->v, base->n) ||
	    !all_finite(cand->v, cand->n) || !(o->level > 0.0 && o->level < 1.0) ||
	    o->resamples == 0)
		return -EINVAL;
	memset(ci, 0, sizeof(*ci));
	ret = hvt_stats_median(base->v, base->n, &mb);
	if (ret)
		return ret;
	ret = hvt_stats_median(cand->v, cand->n, &mc);
	if (ret)
		return ret;
	if (mb == 0.0)
		return -EDOM;
	ci->ratio = mc / mb;

	ret = groups_build(base, &gb);
	if (ret)
		return ret;
	ret = groups_build(cand, &gc);
	if (ret)
		goto out_free_gb;
	ci->rounds_base = gb.ng;
	ci->rounds_cand = gc.ng;
	if (gb.ng == 1)
		ci->flags |= HVT_BOOT_FLAT_BASE;
	if (gc.ng == 1)
		ci->flags |= HVT_BOOT_FLAT_CAND;

	ret = -ENOMEM;
	if (o->paired) {
		const size_t most = gb.ng < gc.ng ? gb.ng : gc.ng;

		pair_b = malloc(most * sizeof(*pair_b));
		pair_c = malloc(most * sizeof(*pair_c));
		if (!pair_b || !pair_c)
			goto out_free;
		for (size_t k = 0; k < gb.ng; k++) {
			const long j = find_group(&gc, gb.id[k]);

			if (j < 0)
				continue;
			pair_b[npair] = k;
			pair_c[npair++] = (size_t)j;
		}
		if (npair >= 2) {
			ci->paired = 1;
			ci->rounds_common = npair;
			if (npair < gb.ng || npair < gc.ng)
				ci->flags |= HVT_BOOT_DROPPED_ROUNDS;
		} else {
			ci->flags |= HVT_BOOT_UNPAIRED;
		}
	}

	{
		const size_t nb = ci->paired ? npair : gb.ng, nc = ci->paired ? npair : gc.ng;

		bufb = malloc(nb * gb.maxcnt * sizeof(*bufb));
		bufc = malloc(nc * gc.maxcnt * sizeof(*bufc));
	}
	reps = malloc(o->resamples * sizeof(*reps));
	if (!bufb || !bufc || !reps)
		goto out_free;

	hvt_rng_seed(&rng, o->seed);
	for (unsigned b = 0; b < o->resamples; b++) {
		double rb, rc;

		if (ci->paired) {
			size_t m_b = 0, m_c = 0;

			for (size_t k = 0; k < npair; k++) {
				const size_t pk = (size_t)hvt_rng_below(&rng, npair);

				resample_group(&gb, pair_b[pk], &rng, bufb, &m_b);
				resample_group(&gc, pair_c[pk], &rng, bufc, &m_c);
			}
			rb = hvt_stats_median_inplace(bufb, m_b);
			rc = hvt_stats_median_inplace(bufc, m_c);
		} else {
			rb = replicate_side(&gb, &rng, bufb);
			rc = replicate_side(&gc, &rng, bufc);
		}
		if (rb == 0.0) {
			ci->flags |= HVT_BOOT_DEGENERATE;
			continue;
		}
		reps[ci->used++] = rc / rb;
	}
	if (ci->used == 0) {
		ret = -EDOM;
		goto out_free;
	}
	qsort(reps, ci->used, sizeof(*reps), cmp_double);
	ci->lo = hvt_stats_percentile_sorted(reps, ci->used, (1.0 - o->level) / 2.0 * 100.0);
	ci->hi = hvt_stats_percentile_sorted(reps, ci->used, (1.0 + o->level) / 2.0 * 100.0);
	ret = 0;
out_free:
	free(reps);
	free(bufb);
	free(bufc);
	free(pair_b);
	free(pair_c);
	groups_free(&gc);
out_free_gb:
	groups_free(&gb);
	return ret;
}

/* ---- tax ---- */

double hvt_stats_tax(double base, double cand, int higher_better)
{
	if (higher_better)
		return cand == 0.0 ? NAN : base / cand - 1.0;
	return base == 0.0 ? NAN : cand / base - 1.0;
}

double hvt_stats_tax_from_ratio(double ratio, int higher_better)
{
	if (higher_better)
		return ratio == 0.0 ? NAN : 1.0 / ratio - 1.0;
	return ratio - 1.0;
}

void hvt_stats_tax_ci(double ratio_lo, double ratio_hi, int higher_better, double *tax_lo,
		      double *tax_hi)
{
	if (higher_better) {
		*tax_lo = hvt_stats_tax_from_ratio(ratio_hi, 1);
		*tax_hi = hvt_stats_tax_from_ratio(ratio_lo, 1);
	} else {
		*tax_lo = ratio_lo - 1.0;
		*tax_hi = ratio_hi - 1.0;
	}
}

int hvt_stats_geomean_tax(const double *tax, size_t n, double *out)
{
	double s = 0.0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(tax[i]) || tax[i] <= -1.0)
			return -EDOM;
		s += log1p(tax[i]);
	}
	/* exact 0 for all-zero taxes: log1p(0) = 0, expm1(0) = 0 */
	*out = expm1(s / (double)n);
	return 0;
}

/* ---- noise flags ---- */

void hvt_noise_opts_init(struct hvt_noise_opts *o)
{
	o->cv_max = 0.05;
	o->min_samples = 5;
	o->min_rounds = 3;
}

static int cmp_int(const void *a, const void *b)
{
	const int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

long hvt_stats_count_rounds(const int *round, size_t n)
{
	int *c;
	long k = 0;

	if (n == 0)
		return 0;
	if (!round)
		return 1;
	c = malloc(n * sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c, round, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_int);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || c[i] != c[i - 1])
			k++;
	free(c);
	return k;
}

int hvt_stats_noise_flags(const struct hvt_sample_set *s, const struct hvt_noise_opts *o,
			  double *cv)
{
	double mean = 0.0, sd = 0.0, c = 0.0;
	long rounds = hvt_stats_count_rounds(s->round, s->n);
	int flags = 0;

	if (rounds < 0)
		return (int)rounds;
	if (s->n > 0) {
		mean_stdev(s->v, s->n, &mean, &sd);
		c = cv_of(mean, sd, s->n);
	}
	if (c > o->cv_max)
		flags |= HVT_NOISE_CV;
	if (s->n < o->min_samples)
		flags |= HVT_NOISE_FEW_SAMPLES;
	if ((size_t)rounds < o->min_rounds)
		flags |= HVT_NOISE_FEW_ROUNDS;
	if (cv)
		*cv = c;
	return flags;
}
