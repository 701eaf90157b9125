/* SPDX-License-Identifier: MIT */
/* Compare two runs: per (case, metric) tax with bootstrap CI and p-value, family geomeans. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/units.h"
#include "../common/util.h"
#include "../bench/params.h"
#include "compare.h"
#include "opts.h"

void hvt_compare_opts_init(struct hvt_compare_opts *o)
{
	o->level = HVT_BOOT_LEVEL_DEFAULT;
	o->resamples = HVT_BOOT_RESAMPLES_DEFAULT;
	o->seed = 1;
	o->paired = 0;
	hvt_noise_opts_init(&o->noise);
}

static void row_clear(struct hvt_compare_row *r)
{
	free(r->case_key);
	free(r->bench);
	free(r->metric);
	free(r->unit);
}

void hvt_compare_free(struct hvt_compare *c)
{
	for (size_t i = 0; i < c->nrows; i++)
		row_clear(&c->rows[i]);
	free(c->rows);
	for (size_t i = 0; i < c->n_only_base; i++) {
		free(c->only_base[i].case_key);
		free(c->only_base[i].metric);
	}
	free(c->only_base);
	for (size_t i = 0; i < c->n_only_cand; i++) {
		free(c->only_cand[i].case_key);
		free(c->only_cand[i].metric);
	}
	free(c->only_cand);
	for (size_t i = 0; i < c->nresolved; i++) {
		free(c->resolved[i].case_key);
		free(c->resolved[i].diff);
	}
	free(c->resolved);
	for (size_t i = 0; i < c->nfamilies; i++)
		free(c->families[i].family);
	free(c->families);
	memset(c, 0, sizeof(*c));
}

/* Order of series: case key, then metric. */
static int series_cmp(const struct hvt_series *a, const struct hvt_series *b)
{
	const int c = strcmp(a->case_key, b->case_key);

	return c ? c : strcmp(a->metric, b->metric);
}

static int series_ptr_cmp(const void *a, const void *b)
{
	return series_cmp(*(const struct hvt_series *const *)a,
			  *(const struct hvt_series *const *)b);
}

/* Non-empty series of s[0..n), sorted; NULL on allocation failure. */
static const struct hvt_series **series_index(const struct hvt_series *s, size_t n, size_t *m)
{
	const struct hvt_series **ix = hvt_calloc(n ? n : 1, sizeof(*ix));

	*m = 0;
	if (!ix)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i].n > 0)
			ix[(*m)++] = &s[i];
	qsort(ix, *m, sizeof(*ix), series_ptr_cmp);
	return ix;
}

/* Per-row seed: stable whatever other rows exist, and different rows decorrelated. */
static uint64_t row_seed(uint64_t seed, const char *case_key, const char *metric)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const char *p = case_key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull;
	for (const char *p = metric; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return seed ^ h;
}

static char *family_of(const struct hvt_series *s)
{
	const char *name = s->bench ? s->bench : s->case_key;
	size_t len = strcspn(name, ".?");

	return strndup(name, len);
}

static int compute_row(const struct hvt_series *b, const struct hvt_series *c,
		       const struct hvt_compare_opts *o, struct hvt_compare_row *r)
{
	const struct hvt_sample_set sb = {b->v, b->round, b->n}, sc = {c->v, c->round, c->n};
	struct hvt_boot_opts bo = {o->level, o->resamples,
				   row_seed(o->seed, b->case_key, b->metric), o->paired};
	struct hvt_boot_ci ci;
	struct hvt_mwu mwu;
	int fb, fc, ret;

	memset(r, 0, sizeof(*r));
	r->case_key = hvt_strdup(b->case_key);
	r->bench = hvt_strdup(b->bench ? b->bench : b->case_key);
	r->metric = hvt_strdup(b->metric);
	r->unit = hvt_strdup(b->unit ? b->unit : "");
	if (!r->case_key || !r->bench || !r->metric || !r->unit)
		goto out_nomem;
	r->higher_better = b->higher_better;
	if ((b->unit && c->unit && strcmp(b->unit, c->unit)) ||
	    b->higher_better != c->higher_better) {
		r->flags |= HVT_CMP_MISMATCH;
		hvt_warn(
		    "'%s' metric '%s': unit or direction differ between runs; using the base's",
		    b->case_key, b->metric);
	}
	r->n_base = b->n;
	r->n_cand = c->n;

	ret = hvt_stats_median(b->v, b->n, &r->median_base);
	if (!ret)
		ret = hvt_stats_median(c->v, c->n, &r->median_cand);
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret) {
		hvt_warn("'%s' metric '%s': non-finite sample values", b->case_key, b->metric);
		goto out_clear;
	}

	/* Point estimates straight from the medians: identical runs give exactly 1 and 0. */
	r->ratio = r->median_base != 0.0 ? r->median_cand / r->median_base : NAN;
	r->tax = hvt_stats_tax(r->median_base, r->median_cand, r->higher_better);
	r->ratio_lo = r->ratio_hi = r->tax_lo = r->tax_hi = NAN;

	ret = hvt_stats_boot_ratio(&sb, &sc, &bo, &ci);
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret == 0) {
		r->ratio_lo = ci.lo;
		r->ratio_hi = ci.hi;
		hvt_stats_tax_ci(ci.lo, ci.hi, r->higher_better, &r->tax_lo, &r->tax_hi);
		r->rounds_base = ci.rounds_base;
		r->rounds_cand = ci.rounds_cand;
		if (ci.flags & (HVT_BOOT_FLAT_BASE | HVT_BOOT_FLAT_CAND))
			r->flags |= HVT_CMP_FLAT;
		if (ci.paired)
			r->flags |= HVT_CMP_PAIRED;
		if (ci.flags & HVT_BOOT_UNPAIRED)
			r->flags |= HVT_CMP_UNPAIRED;
	} else {
		long k = hvt_stats_count_rounds(b->round, b->n);

		r->rounds_base = k > 0 ? (size_t)k : 0;
		k = hvt_stats_count_rounds(c->round, c->n);
		r->rounds_cand = k > 0 ? (size_t)k : 0;
	}
	if (!isfinite(r->tax) || !isfinite(r->tax_lo) || !isfinite(r->tax_hi)) {
		r->flags |= HVT_CMP_UNDEF;
	} else if (r->tax_lo > 0.0 || r->tax_hi < 0.0) {
		r->flags |= HVT_CMP_SIG;
	}

	ret = hvt_stats_mann_whitney(c->v, c->n, b->v, b->n, &mwu);
	if (ret == -ENOMEM)
		goto out_nomem;
	r->u = ret ? NAN : mwu.u;
	r->p = ret ? NAN : mwu.p;

	fb = hvt_stats_noise_flags(&sb, &o->noise, &r->cv_base);
	fc = hvt_stats_noise_flags(&sc, &o->noise, &r->cv_cand);
	if (fb < 0 || fc < 0)
		goto out_nomem;
	if ((fb | fc) & HVT_NOISE_CV)
		r->flags |= HVT_CMP_NOISY;
	if ((fb | fc) & (HVT_NOISE_FEW_SAMPLES | HVT_NOISE_FEW_ROUNDS))
		r->flags |= HVT_CMP_FEW;
	return 0;

out_nomem:
	ret = -ENOMEM;
	row_clear(r);
	return ret;
out_clear:
	row_clear(r);
	return ret;
}

static int add_only(struct hvt_compare_only **arr, size_t *n, const struct hvt_series *s)
{
	struct hvt_compare_only *o = &(*arr)[(*n)];

	o->case_key = hvt_strdup(s->case_key);
	o->metric = hvt_strdup(s->metric);
	(*n)++;
	return o->case_key && o->metric ? 0 : -ENOMEM;
}

/* Family geomeans and the overall geomean, over rows with a defined tax. */
static int compute_families(struct hvt_compare *c, const struct hvt_series *const *fam_src)
{
	const size_t nr = c->nrows ? c->nrows : 1;
	double *taxes = hvt_calloc(nr, sizeof(*taxes));
	char **fam = hvt_calloc(nr, sizeof(*fam));
	int ret = -ENOMEM;
	size_t nt = 0;

	c->families = hvt_calloc(nr, sizeof(*c->families));
	if (!taxes || !fam || !c->families)
		goto out;
	for (size_t i = 0; i < c->nrows; i++) {
		fam[i] = family_of(fam_src[i]);
		if (!fam[i])
			goto out;
	}
	for (size_t i = 0; i < c->nrows; i++) {
		size_t f;

		for (f = 0; f < c->nfamilies; f++)
			if (!strcmp(c->families[f].family, fam[i]))
				break;
		if (f < c->nfamilies)
			continue;
		/* keep families sorted by name */
		while (f > 0 && strcmp(c->families[f - 1].family, fam[i]) > 0) {
			c->families[f] = c->families[f - 1];
			f--;
		}
		c->families[f] = (struct hvt_compare_family){hvt_strdup(fam[i]), 0, NAN};
		c->nfamilies++;
		if (!c->families[f].family)
			goto out;
	}
	for (size_t f = 0; f < c->nfamilies; f++) {
		struct hvt_compare_family *cf = &c->families[f];
		size_t k = 0;

		for (size_t i = 0; i < c->nrows; i++)
			if (!(c->rows[i].flags & (HVT_CMP_UNDEF | HVT_CMP_MISMATCH)) &&
			    !strcmp(fam[i], cf->family))
				taxes[k++] = c->rows[i].tax;
		cf->n = k;
		/* a tax <= -100% cannot come from positive medians; NaN if it does */
		if (k && hvt_stats_geomean_tax(taxes, k, &cf->geomean_tax))
			cf->geomean_tax = NAN;
	}
	for (size_t i = 0; i < c->nrows; i++)
		if (!(c->rows[i].flags & (HVT_CMP_UNDEF | HVT_CMP_MISMATCH)))
			taxes[nt++] = c->rows[i].tax;
	c->overall_n = nt;
	c->overall_geomean = NAN;
	if (nt && hvt_stats_geomean_tax(taxes, nt, &c->overall_geomean))
		c->overall_geomean = NAN;
	ret = 0;
out:
	if (fam)
		for (size_t i = 0; i < c->nrows; i++)
			free(fam[i]);
	free(fam);
	free(taxes);
	return ret;
}

/* The values of one resolved name: "v" for one, "[v,w]" for several (a case that changed). */
static char *resolved_str(json_t *vals)
{
	return json_dumps(json_array_size(vals) == 1 ? json_array_get(vals, 0) : vals,
			  JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Same value sets for one name? */
static int same_set(json_t *va, json_t *vb)
{
	json_t *x, *y;
	size_t i, j;

	if (json_array_size(va) != json_array_size(vb))
		return 0;
	json_array_foreach (va, i, x) {
		int found = 0;

		json_array_foreach (vb, j, y)
			found |= json_equal(x, y);
		if (!found)
			return 0;
	}
	return 1;
}

/*
 * Names both runs resolved to different values, as "name V in the base, W in the candidate;
 * ...", in buf;
 * 0 when none (a name one run does not give, e.g. from an older version, is not judged).
 */
static int resolved_diff(json_t *a, json_t *b, char *buf, size_t len)
{
	const char *name;
	json_t *va;
	size_t off = 0;
	int n = 0;

	buf[0] = '\0';
	json_object_foreach (a, name, va) {
		json_t *vb = json_object_get(b, name);
		char *sa, *sb;
		int w;

		if (!vb || same_set(va, vb))
			continue;
		sa = resolved_str(va);
		sb = resolved_str(vb);
		w = snprintf(buf + off, len - off, "%s%s %s in the base, %s in the candidate",
			     n++ ? "; " : "", name, sa ? sa : "?", sb ? sb : "?");
		free(sa);
		free(sb);
		if (w > 0 && (size_t)w < len - off)
			off += (size_t)w;
	}
	return n;
}

/*
 * A case whose automatic parameters (mem.stream's size=0, isa=auto; coll's backend=auto)
 * resolved differently in the two runs measured different work under one key: its rows
 * are flagged and the case is listed with both values (printed under the table, in the
 * JSON). A CPU model that hides AVX-512 in a guest is part of the tax; arrays sized from a
 * guest's smaller caches are not, and the reader must know.
 */
static int flag_resolved(struct hvt_store *st, struct hvt_compare *c)
{
	json_t *rb = hvt_store_run_resolved(st, c->base_id);
	json_t *rc = hvt_store_run_resolved(st, c->cand_id);
	char diff[512];
	int ret = 0;

	if (!rb || !rc) {
		ret = -EIO;
		goto out;
	}
	for (size_t i = 0; i < c->nrows; i++) {
		struct hvt_compare_row *r = &c->rows[i];
		json_t *a = json_object_get(rb, r->case_key), *b = json_object_get(rc, r->case_key);
		struct hvt_compare_resolved *nr;

		if (!a || !b || !resolved_diff(a, b, diff, sizeof(diff)))
			continue;
		r->flags |= HVT_CMP_RESOLVED;
		/* rows come grouped by case: one entry per case */
		if (c->nresolved && !strcmp(c->resolved[c->nresolved - 1].case_key, r->case_key))
			continue;
		nr = realloc(c->resolved, (c->nresolved + 1) * sizeof(*nr));
		if (!nr) {
			ret = -ENOMEM;
			goto out;
		}
		c->resolved = nr;
		nr = &c->resolved[c->nresolved];
		nr->case_key = hvt_strdup(r->case_key);
		nr->diff = hvt_strdup(diff);
		c->nresolved++;
		if (!nr->case_key || !nr->diff) {
			ret = -ENOMEM;
			goto out;
		}
	}
out:
	json_decref(rb);
	json_decref(rc);
	return ret;
}

int hvt_compare_runs(struct hvt_store *st, int64_t base, int64_t cand,
		     const struct hvt_compare_opts *o, struct hvt_compare *out)
{
	struct hvt_compare_opts defaults;
	struct hvt_series *sb = NULL, *sc = NULL;
	const struct hvt_series **ib = NULL, **ic = NULL, **fam_src = NULL;
	size_t nb = 0, nc = 0, mb = 0, mc = 0, i = 0, j = 0;
	struct hvt_compare c;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!o) {
		hvt_compare_opts_init(&defaults);
		o = &defaults;
	}
	if (!(o->level > 0.0 && o->level < 1.0) || o->resamples == 0)
		return -EINVAL;
	c.base_id = base;
	c.cand_id = cand;
	c.opts = *o;
	c.overall_geomean = NAN;

	ret = hvt_store_series(st, base, &sb, &nb);
	if (ret)
		return ret;
	ret = hvt_store_series(st, cand, &sc, &nc);
	if (ret)
		goto out_free_sb;

	ret = -ENOMEM;
	ib = series_index(sb, nb, &mb);
	ic = series_index(sc, nc, &mc);
	c.rows = hvt_calloc(mb ? mb : 1, sizeof(*c.rows));
	fam_src = hvt_calloc(mb ? mb : 1, sizeof(*fam_src));
	c.only_base = hvt_calloc(mb ? mb : 1, sizeof(*c.only_base));
	c.only_cand = hvt_calloc(mc ? mc : 1, sizeof(*c.only_cand));
	if (!ib || !ic || !c.rows || !fam_src || !c.only_base || !c.only_cand)
		goto out_free;

	while (i < mb || j < mc) {
		const int d = i == mb ? 1 : j == mc ? -1 : series_cmp(ib[i], ic[j]);

		if (d < 0) {
			ret = add_only(&c.only_base, &c.n_only_base, ib[i++]);
		} else if (d > 0) {
			ret = add_only(&c.only_cand, &c.n_only_cand, ic[j++]);
		} else {
			ret = compute_row(ib[i], ic[j], o, &c.rows[c.nrows]);
			if (ret == 0)
				fam_src[c.nrows++] = ib[i];
			else if (ret != -ENOMEM)
				ret = 0; /* bad values: reported, row left out */
			i++;
			j++;
		}
		if (ret)
			goto out_free;
	}
	ret = flag_resolved(st, &c);
	if (!ret)
		ret = compute_families(&c, fam_src);
	if (ret)
		goto out_free;
	*out = c;
	memset(&c, 0, sizeof(c));
out_free:
	hvt_compare_free(&c);
	free(fam_src);
	free(ib);
	free(ic);
	hvt_series_free(sc, nc);
out_free_sb:
	hvt_series_free(sb, nb);
	return ret;
}

/* ---- text output ---- */

static const struct {
	unsigned flag;
	const char *name;
} flag_names[] = {
    {HVT_CMP_SIG, "sig"},     {HVT_CMP_NOISY, "noisy"},	      {HVT_CMP_FEW, "few"},
    {HVT_CMP_FLAT, "flat"},   {HVT_CMP_PAIRED, "paired"},     {HVT_CMP_UNPAIRED, "unpaired"},
    {HVT_CMP_UNDEF, "undef"}, {HVT_CMP_MISMATCH, "mismatch"}, {HVT_CMP_RESOLVED, "resolved"},
};

static void fmt_flags(char *buf, size_t len, unsigned flags, int text)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < HVT_ARRAY_SIZE(flag_names); i++) {
		int w;

		/* the text header says whether rounds were paired */
		if (!(flags & flag_names[i].flag) || (text && flag_names[i].flag == HVT_CMP_PAIRED))
			continue;
		w = snprintf(buf + off, len - off, "%s%s", off ? "," : "", flag_names[i].name);
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
}

static void fmt_pct(char *buf, size_t len, double frac)
{
	if (isfinite(frac))
		snprintf(buf, len, "%+.1f%%", frac * 100.0);
	else
		snprintf(buf, len, "n/a");
}

static void fmt_p(char *buf, size_t len, double p)
{
	if (!isfinite(p))
		snprintf(buf, len, "n/a");
	else if (p < 0.001)
		snprintf(buf, len, "<0.001");
	else
		snprintf(buf, len, "%.3f", p);
}

struct text_row {
	char *label; /* hvt_case_label of the row's case, NULL when out of memory */
	char base[32], cand[32], tax[16], ci[40], p[16], flags[80];
};

static size_t maxz(size_t a, size_t b)
{
	return a > b ? a : b;
}

void hvt_compare_print(const struct hvt_compare *c, FILE *out)
{
	struct text_row *t = calloc(c->nrows ? c->nrows : 1, sizeof(*t));
	size_t wcase = strlen("case"), wmet = strlen("metric"), wb = strlen("base"),
	       wc = strlen("cand"), wt = strlen("tax"), wci = strlen("95% CI"), wp = 1;
	char cihdr[32];

	if (!t) {
		hvt_err("cannot format the comparison: %s", strerror(ENOMEM));
		return;
	}
	snprintf(cihdr, sizeof(cihdr), "%g%% CI", c->opts.level * 100.0);
	wci = strlen(cihdr);
	for (size_t i = 0; i < c->nrows; i++) {
		const struct hvt_compare_row *r = &c->rows[i];
		char lo[16], hi[16];

		hvt_fmt_value(t[i].base, sizeof(t[i].base), r->median_base, r->unit);
		hvt_fmt_value(t[i].cand, sizeof(t[i].cand), r->median_cand, r->unit);
		fmt_pct(t[i].tax, sizeof(t[i].tax), r->tax);
		fmt_pct(lo, sizeof(lo), r->tax_lo);
		fmt_pct(hi, sizeof(hi), r->tax_hi);
		snprintf(t[i].ci, sizeof(t[i].ci), "[%s, %s]", lo, hi);
		fmt_p(t[i].p, sizeof(t[i].p), r->p);
		fmt_flags(t[i].flags, sizeof(t[i].flags), r->flags, 1);
		t[i].label = hvt_case_label(r->case_key);
		wcase = maxz(wcase, strlen(t[i].label ? t[i].label : r->case_key));
		wmet = maxz(wmet, strlen(r->metric));
		wb = maxz(wb, strlen(t[i].base));
		wc = maxz(wc, strlen(t[i].cand));
		wt = maxz(wt, strlen(t[i].tax));
		wci = maxz(wci, strlen(t[i].ci));
		wp = maxz(wp, strlen(t[i].p));
	}

	fprintf(out,
		"base run %lld vs candidate run %lld: %g%% bootstrap CI (%u resamples, %s, seed "
		"%llu)\n",
		(long long)c->base_id, (long long)c->cand_id, c->opts.level * 100.0,
		c->opts.resamples, c->opts.paired ? "rounds paired" : "rounds independent",
		(unsigned long long)c->opts.seed);
	fprintf(out, "tax > 0: candidate slower; p: Mann-Whitney U, two-sided\n\n");
	fprintf(out, "%-*s  %-*s  %*s  %*s  %*s  %-*s  %*s  %s\n", (int)wcase, "case", (int)wmet,
		"metric", (int)wb, "base", (int)wc, "cand", (int)wt, "tax", (int)wci, cihdr,
		(int)wp, "p", "flags");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct hvt_compare_row *r = &c->rows[i];

		fprintf(out, "%-*s  %-*s  %*s  %*s  %*s  %-*s  %*s%s%s\n", (int)wcase,
			t[i].label ? t[i].label : r->case_key, (int)wmet, r->metric, (int)wb,
			t[i].base, (int)wc, t[i].cand, (int)wt, t[i].tax, (int)wci, t[i].ci, (int)wp,
			t[i].p, t[i].flags[0] ? "  " : "", t[i].flags);
	}
	for (size_t i = 0; i < c->nrows; i++)
		free(t[i].label);
	free(t);

	if (c->n_only_base || c->n_only_cand)
		fputc('\n', out);
	for (size_t i = 0; i < c->n_only_base; i++) {
		char *l = hvt_case_label(c->only_base[i].case_key);

		fprintf(out, "only in base run %lld: %s %s\n", (long long)c->base_id,
			l ? l : c->only_base[i].case_key, c->only_base[i].metric);
		free(l);
	}
	for (size_t i = 0; i < c->n_only_cand; i++) {
		char *l = hvt_case_label(c->only_cand[i].case_key);

		fprintf(out, "only in candidate run %lld: %s %s\n", (long long)c->cand_id,
			l ? l : c->only_cand[i].case_key, c->only_cand[i].metric);
		free(l);
	}

	if (c->nresolved)
		fprintf(out, "\ndifferent work: automatic parameters resolved differently in the two "
			     "runs (rows flagged 'resolved')\n");
	for (size_t i = 0; i < c->nresolved; i++) {
		char *l = hvt_case_label(c->resolved[i].case_key);

		fprintf(out, "  %s: %s\n", l ? l : c->resolved[i].case_key, c->resolved[i].diff);
		free(l);
	}

	if (c->nrows) {
		size_t wf = strlen("overall");
		char g[16];

		for (size_t f = 0; f < c->nfamilies; f++)
			wf = maxz(wf, strlen(c->families[f].family));
		fprintf(out, "\ngeometric-mean tax\n");
		for (size_t f = 0; f < c->nfamilies; f++) {
			fmt_pct(g, sizeof(g), c->families[f].geomean_tax);
			fprintf(out, "  %-*s  %8s  (%zu metric%s)\n", (int)wf,
				c->families[f].family, g, c->families[f].n,
				c->families[f].n == 1 ? "" : "s");
		}
		fmt_pct(g, sizeof(g), c->overall_geomean);
		fprintf(out, "  %-*s  %8s  (%zu metric%s)\n", (int)wf, "overall", g, c->overall_n,
			c->overall_n == 1 ? "" : "s");
	}
}

/* ---- JSON output ---- */

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static int jset(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *only_json(const struct hvt_compare_only *a, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = json_object();

		if (!o || jset(o, "case", json_string(a[i].case_key)) ||
		    jset(o, "metric", json_string(a[i].metric)) || json_array_append_new(arr, o)) {
			json_decref(o);
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *resolved_json(const struct hvt_compare *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->nresolved; i++)
		if (json_array_append_new(a, json_pack("{s:s,s:s}", "case", c->resolved[i].case_key,
						       "diff", c->resolved[i].diff))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *row_json(const struct hvt_compare_row *r)
{
	json_t *o = json_object(), *fl = json_array();
	int bad = !o || !fl;

	for (size_t i = 0; !bad && i < HVT_ARRAY_SIZE(flag_names); i++)
		if (r->flags & flag_names[i].flag)
			bad |= json_array_append_new(fl, json_string(flag_names[i].name));
	if (bad) {
		json_decref(fl);
		json_decref(o);
		return NULL;
	}
	bad |= jset(o, "case", json_string(r->case_key));
	{
		char *l = hvt_case_label(r->case_key);

		bad |= jset(o, "label", l ? json_string(l) : NULL);
		free(l);
	}
	bad |= jset(o, "bench", json_string(r->bench));
	bad |= jset(o, "metric", json_string(r->metric));
	bad |= jset(o, "unit", json_string(r->unit));
	bad |= jset(o, "dir", json_string(r->higher_better ? "higher" : "lower"));
	bad |= jset(o, "n_base", json_integer((json_int_t)r->n_base));
	bad |= jset(o, "n_cand", json_integer((json_int_t)r->n_cand));
	bad |= jset(o, "rounds_base", json_integer((json_int_t)r->rounds_base));
	bad |= jset(o, "rounds_cand", json_integer((json_int_t)r->rounds_cand));
	bad |= jset(o, "median_base", jreal(r->median_base));
	bad |= jset(o, "median_cand", jreal(r->median_cand));
	bad |= jset(o, "ratio", jreal(r->ratio));
	bad |= jset(o, "ratio_lo", jreal(r->ratio_lo));
	bad |= jset(o, "ratio_hi", jreal(r->ratio_hi));
	bad |= jset(o, "tax", jreal(r->tax));
	bad |= jset(o, "tax_lo", jreal(r->tax_lo));
	bad |= jset(o, "tax_hi", jreal(r->tax_hi));
	bad |= jset(o, "u", jreal(r->u));
	bad |= jset(o, "p", jreal(r->p));
	bad |= jset(o, "cv_base", jreal(r->cv_base));
	bad |= jset(o, "cv_cand", jreal(r->cv_cand));
	bad |= jset(o, "flags", fl);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *hvt_compare_to_json(const struct hvt_compare *c)
{
	json_t *o = json_object(), *rows = json_array(), *fams = json_array(),
	       *overall = json_object();
	int bad = !o || !rows || !fams || !overall;

	for (size_t i = 0; !bad && i < c->nrows; i++) {
		json_t *r = row_json(&c->rows[i]);

		bad |= !r || json_array_append_new(rows, r);
	}
	for (size_t f = 0; !bad && f < c->nfamilies; f++) {
		json_t *fo = json_object();

		bad |= !fo;
		if (!bad) {
			bad |= jset(fo, "family", json_string(c->families[f].family));
			bad |= jset(fo, "n", json_integer((json_int_t)c->families[f].n));
			bad |= jset(fo, "geomean_tax", jreal(c->families[f].geomean_tax));
			bad |= json_array_append_new(fams, fo);
		}
	}
	if (!bad) {
		bad |= jset(overall, "n", json_integer((json_int_t)c->overall_n));
		bad |= jset(overall, "geomean_tax", jreal(c->overall_geomean));
	}
	if (bad) {
		json_decref(o);
		json_decref(rows);
		json_decref(fams);
		json_decref(overall);
		return NULL;
	}
	bad |= jset(o, "type", json_string("compare"));
	bad |= jset(o, "schema", json_integer(HVT_COMPARE_JSON_SCHEMA));
	bad |= jset(o, "base", json_integer((json_int_t)c->base_id));
	bad |= jset(o, "cand", json_integer((json_int_t)c->cand_id));
	bad |= jset(o, "level", json_real(c->opts.level));
	bad |= jset(o, "resamples", json_integer((json_int_t)c->opts.resamples));
	/* the command line takes seeds 0..INT64_MAX */
	bad |= jset(o, "seed", json_integer((json_int_t)c->opts.seed));
	bad |= jset(o, "paired", json_boolean(c->opts.paired));
	bad |= jset(o, "rows", rows);
	bad |= jset(o, "only_base", only_json(c->only_base, c->n_only_base));
	bad |= jset(o, "only_cand", only_json(c->only_cand, c->n_only_cand));
	bad |= jset(o, "resolved_differently", resolved_json(c));
	bad |= jset(o, "families", fams);
	bad |= jset(o, "overall", overall);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- command ---- */

enum { OPT_FORMAT = 'f' };

static const struct hvt_opt cmp_opts[] = {
	HVT_OPT_ROW_DB,
	HVT_OPT_ROW_SEED("bootstrap seed (default 1)"),
	HVT_OPT_ROW_LEVEL,
	HVT_OPT_ROW_RESAMPLES,
	HVT_OPT_ROW_PAIRED,
	{ "format", 0, required_argument, OPT_FORMAT, "text|json", "output format (default text)" },
	HVT_OPT_ROW_HELP,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvtax compare BASE CAND [options]\n"
		   "BASE and CAND are run ids or labels (latest run with the label).\n");
	hvt_opts_usage(f, cmp_opts, HVT_ARRAY_SIZE(cmp_opts));
}

int hvt_cmd_compare(int argc, char **argv)
{
	static const char *const formats[] = { "text", "json" };
	struct hvt_getopt go;
	struct hvt_compare_opts o;
	struct hvt_compare c;
	struct hvt_store st;
	const char *db = hvt_default_db(), *format = "text";
	int64_t base_id, cand_id;
	int opt, ret, rc = HVT_EXIT_USAGE;

	hvt_compare_opts_init(&o);
	if (hvt_opts_build(&go, cmp_opts, HVT_ARRAY_SIZE(cmp_opts), ""))
		return HVT_EXIT_FAIL;
	optind = 0; /* glibc: full reinitialisation, argv[0] is the subcommand */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, go.shorts, go.lopts, NULL)) != -1) {
		ret = hvt_opt_compare(opt, optarg, &o);
		if (ret < 0)
			return HVT_EXIT_USAGE;
		if (ret == 0)
			continue;
		switch (opt) {
		case HVT_OPT_DB:
			db = optarg;
			break;
		case OPT_FORMAT:
			if (hvt_opt_choice("format", optarg, formats, HVT_ARRAY_SIZE(formats)) < 0)
				return HVT_EXIT_USAGE;
			format = optarg;
			break;
		case HVT_OPT_HELP:
			usage(stdout);
			return HVT_EXIT_OK;
		default:
			hvt_err("compare: unknown option or missing value in '%s'",
				argv[optind - 1]);
			usage(stderr);
			return HVT_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		hvt_err("compare: expected BASE and CAND, got %d argument%s", argc - optind,
			argc - optind == 1 ? "" : "s");
		usage(stderr);
		return HVT_EXIT_USAGE;
	}
	/* comparing must not create an empty database */
	if (access(db, R_OK)) {
		hvt_err("cannot open '%s': %s", db, strerror(errno));
		return HVT_EXIT_USAGE;
	}
	if (hvt_store_open(&st, db))
		return HVT_EXIT_USAGE;
	if (hvt_store_resolve(&st, argv[optind], &base_id) ||
	    hvt_store_resolve(&st, argv[optind + 1], &cand_id))
		goto out_close;

	ret = hvt_compare_runs(&st, base_id, cand_id, &o, &c);
	if (ret) {
		hvt_err("cannot compare runs %lld and %lld: %s", (long long)base_id,
			(long long)cand_id, strerror(-ret));
		rc = ret == -ENOMEM ? HVT_EXIT_FAIL : HVT_EXIT_USAGE;
		goto out_close;
	}
	if (c.nrows == 0) {
		hvt_err("runs %lld and %lld have no case and metric in common (%zu and %zu series)",
			(long long)base_id, (long long)cand_id, c.n_only_base, c.n_only_cand);
		goto out_free;
	}
	rc = HVT_EXIT_OK;
	if (!strcmp(format, "json")) {
		json_t *j = hvt_compare_to_json(&c);

		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) ||
		    fputc('\n', stdout) == EOF) {
			hvt_err("cannot write the comparison as JSON");
			rc = HVT_EXIT_FAIL;
		}
		json_decref(j);
	} else {
		hvt_compare_print(&c, stdout);
	}
	if (fflush(stdout)) {
		hvt_err("cannot write output: %s", strerror(errno));
		rc = HVT_EXIT_FAIL;
	}
out_free:
	hvt_compare_free(&c);
out_close:
	hvt_store_close(&st);
	return rc;
}
