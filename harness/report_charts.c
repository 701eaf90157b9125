/* SPDX-License-Identifier: MIT */
/* Charts of a report's model: tax per case with CI whiskers, parameter sweeps, latency percentiles.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/units.h"
#include "../common/util.h"
#include "../bench/params.h"
#include "report.h"

#define MAX_SWEEP_CHARTS 40
#define MAX_PCT_CHARTS 16

void hvt_report_charts_free(struct hvt_report_chart *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		for (size_t k = 0; k < c[i].c.nlines; k++) {
			free((double *)c[i].lines[k].x);
			free((double *)c[i].lines[k].y);
		}
		free(c[i].lines);
		free(c[i].bars);
		for (size_t k = 0; k < c[i].nlabels; k++)
			free(c[i].labels[k]);
		free(c[i].labels);
		free(c[i].slug);
		free(c[i].section);
	}
	free(c);
}

/* Keep `s` with the chart (freed with it); returns s, NULL when s is NULL or on ENOMEM. */
static char *keep(struct hvt_report_chart *ch, char *s)
{
	char **l;

	if (!s)
		return NULL;
	l = realloc(ch->labels, (ch->nlabels + 1) * sizeof(*l));
	if (!l) {
		free(s);
		return NULL;
	}
	ch->labels = l;
	l[ch->nlabels++] = s;
	return s;
}

static char *slugify(const char *s)
{
	char *o = hvt_strdup(s);

	/* file names stay short; the index prefix keeps them unique */
	if (o && strlen(o) > 60)
		o[60] = '\0';

	for (char *p = o; p && *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '_';
	return o;
}

struct chart_list {
	struct hvt_report_chart *c;
	size_t n, cap;
};

static struct hvt_report_chart *new_chart(struct chart_list *l, const char *section,
					  const char *slug)
{
	struct hvt_report_chart *ch;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct hvt_report_chart *c = realloc(l->c, cap * sizeof(*c));

		if (!c)
			return NULL;
		l->c = c;
		l->cap = cap;
	}
	ch = &l->c[l->n];
	memset(ch, 0, sizeof(*ch));
	ch->section = hvt_strdup(section);
	ch->slug = slugify(slug);
	l->n++;
	if (!ch->section || !ch->slug)
		return NULL;
	return ch;
}

/* ---- tax per case ---- */

static int sweep_metric(const char *m);

/* Value of parameter `key` in a case key ("bench?a=1&b=2"), copied into buf; 0 if found. */
static int param_of(const char *case_key, const char *key, char *buf, size_t len)
{
	const char *q = strchr(case_key, '?');
	const size_t kl = strlen(key);

	while (q && *q) {
		q++;
		if (!strncmp(q, key, kl) && q[kl] == '=') {
			snprintf(buf, len, "%.*s", (int)strcspn(q + kl + 1, "&"), q + kl + 1);
			return 0;
		}
		q = strchr(q, '&');
	}
	return -ENOENT;
}

/*
 * Short label of a row: the bench, the parameters whose value differs from
 * the benchmark's default (hvt_case_label) or between the rows of that bench
 * (the others say nothing here), the metric. NULL when out of memory.
 */
static char *short_label(const struct hvt_compare *c, const struct hvt_compare_row *w)
{
	const char *q = strchr(w->case_key, '?');
	char out[512], key[64], v1[128], v2[128];
	char *label = hvt_case_label(w->case_key);
	/* an unknown bench's label is its full key: its defaults are not known here */
	const int known = hvt_bench_find(w->bench) != NULL;
	size_t off;

	if (!label)
		return NULL;
	off = (size_t)snprintf(out, sizeof(out), "%s", w->bench);
	while (q && *q && off < sizeof(out) - 1) {
		const size_t klen = strcspn(q + 1, "=&");
		int varies = 0;

		snprintf(key, sizeof(key), "%.*s", (int)klen, q + 1);
		if (param_of(w->case_key, key, v1, sizeof(v1)))
			break;
		varies = known && !param_of(label, key, v2, sizeof(v2));
		for (size_t k = 0; k < c->nrows && !varies; k++)
			if (!strcmp(c->rows[k].bench, w->bench))
				varies = param_of(c->rows[k].case_key, key, v2, sizeof(v2)) ||
					 strcmp(v1, v2);
		if (varies)
			off += (size_t)snprintf(out + off, sizeof(out) - off, " %s=%s", key, v1);
		q = strchr(q + 1, '&');
	}
	if (off < sizeof(out) - 1)
		snprintf(out + off, sizeof(out) - off, "  %s", w->metric);
	free(label);
	return hvt_strdup(out);
}

/* Headline metrics only (the tables keep every metric): no redundant or tail-of-tail ones. */
static int tax_metric(const char *m)
{
	return sweep_metric(m) && strcmp(m, "rt_time") && strcmp(m, "switch_time");
}

static int tax_chart(struct chart_list *l, const struct hvt_report *r, size_t i)
{
	const struct hvt_compare *c = &r->cmp[i];
	struct hvt_report_chart *ch;
	size_t n = 0;
	char slug[64];

	for (size_t k = 0; k < c->nrows; k++)
		n += (size_t)tax_metric(c->rows[k].metric);
	if (!n)
		return 0;
	n = 0;
	snprintf(slug, sizeof(slug), "tax-run%lld", (long long)r->runs[i].id);
	ch = new_chart(l, "tax", slug);
	if (!ch)
		return -ENOMEM;
	ch->bars = hvt_calloc(c->nrows, sizeof(*ch->bars));
	if (!ch->bars)
		return -ENOMEM;
	for (size_t k = 0; k < c->nrows; k++) {
		const struct hvt_compare_row *w = &c->rows[k];
		struct hvt_chart_bar *b = &ch->bars[n];

		if (!tax_metric(w->metric))
			continue;
		b->label = keep(ch, short_label(c, w));
		if (!b->label)
			return -ENOMEM;
		b->v = w->tax;
		b->lo = w->tax_lo;
		b->hi = w->tax_hi;
		b->tone = !(w->flags & HVT_CMP_SIG) ? 0 : w->tax > 0 ? 1 : -1;
		n++;
	}
	ch->c.kind = HVT_CHART_BARS;
	ch->c.bars = ch->bars;
	ch->c.nbars = n;
	ch->c.ref = NAN;
	ch->c.title =
	    keep(ch, hvt_asprintf("Tax of %s against %s (median ratio, %g%% CI)", r->runs[i].name,
				  r->runs[r->base].name, c->opts.level * 100.0));
	ch->c.subtitle = n < c->nrows ? "headline metrics; the tax table lists every metric" : NULL;
	ch->c.xlabel = "tax (> 0: slower than the baseline)";
	return ch->c.title ? 0 : -ENOMEM;
}

/* ---- sweeps ---- */

struct point {
	char *gkey; /* bench \x1f metric \x1f param \x1f other params */
	size_t run;
	double x, y;
	const char *bench, *metric, *unit; /* borrowed from the series */
	char *param, *others;
	char *shown; /* the other parameters that differ from their defaults, for the subtitle */
};

static int point_cmp(const void *a, const void *b)
{
	const struct point *p = a, *q = b;
	int c = strcmp(p->gkey, q->gkey);

	if (c)
		return c;
	if (p->run != q->run)
		return p->run < q->run ? -1 : 1;
	return (p->x > q->x) - (p->x < q->x);
}

static int sweep_metric(const char *m)
{
	static const char *const skip[] = {"op_time", "lat_mean", "lat_max",
					   "lat_p90", "lat_p999", "lat_p9999"};

	if (!strncmp(m, "slat", 4) || !strncmp(m, "clat", 4))
		return 0;
	for (size_t i = 0; i < HVT_ARRAY_SIZE(skip); i++)
		if (!strcmp(m, skip[i]))
			return 0;
	return 1;
}

/* A parameter value as a number: sizes in bytes, plain numbers as they are. */
static int param_num(const char *v, double *x)
{
	uint64_t b;

	if (!hvt_parse_double(v, x))
		return 0;
	if (!hvt_parse_size(v, &b)) {
		*x = (double)b;
		return 0;
	}
	return -EINVAL;
}

static void fmt_size_tick(char *buf, size_t len, double x)
{
	if (x >= 1024 && fmod(x, 1024) == 0)
		hvt_fmt_size(buf, len, (uint64_t)x);
	else
		snprintf(buf, len, "%g", x);
}

static void fmt_unit_s(char *buf, size_t len, double y)
{
	hvt_fmt_value(buf, len, y, "s");
}
static void fmt_unit_bps(char *buf, size_t len, double y)
{
	hvt_fmt_value(buf, len, y, "B/s");
}
static void fmt_unit_ops(char *buf, size_t len, double y)
{
	hvt_fmt_value(buf, len, y, "op/s");
}

static void (*yfmt_of(const char *unit))(char *, size_t, double)
{
	if (!unit)
		return NULL;
	if (!strcmp(unit, "s"))
		return fmt_unit_s;
	if (!strcmp(unit, "B/s"))
		return fmt_unit_bps;
	if (!strcmp(unit, "op/s"))
		return fmt_unit_ops;
	return NULL;
}

static int collect_points(const struct hvt_report *r, struct point **pts, size_t *np)
{
	size_t cap = 0;

	*pts = NULL;
	*np = 0;
	for (size_t i = 0; i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];

		for (size_t k = 0; k < rr->nseries; k++) {
			const struct hvt_series *s = &rr->series[k];
			const char *q = strchr(s->case_key, '?');
			char *params, *label, *save = NULL, *kv;
			char *keys[32], *vals[32];
			size_t nk = 0;

			if (!q || !rr->sum[k].n || !sweep_metric(s->metric))
				continue;
			params = hvt_strdup(q + 1);
			label = hvt_case_label(s->case_key);
			if (!params || !label) {
				free(params);
				free(label);
				return -ENOMEM;
			}
			for (kv = strtok_r(params, "&", &save); kv && nk < 32;
			     kv = strtok_r(NULL, "&", &save)) {
				char *eq = strchr(kv, '=');

				if (!eq)
					continue;
				*eq = '\0';
				keys[nk] = kv;
				vals[nk++] = eq + 1;
			}
			for (size_t a = 0; a < nk; a++) {
				struct point *p;
				char others[1024] = "", shown[1024] = "", v[128];
				size_t off = 0, soff = 0;
				double x;

				if (param_num(vals[a], &x) || !(x > 0))
					continue;
				for (size_t b = 0; b < nk; b++) {
					int w;

					if (b == a)
						continue;
					w = snprintf(others + off, sizeof(others) - off, "%s%s=%s",
						     off ? " " : "", keys[b], vals[b]);
					if (w > 0 && (size_t)w < sizeof(others) - off)
						off += (size_t)w;
					if (param_of(label, keys[b], v, sizeof(v)))
						continue;
					w = snprintf(shown + soff, sizeof(shown) - soff, "%s%s=%s",
						     soff ? " " : "", keys[b], vals[b]);
					if (w > 0 && (size_t)w < sizeof(shown) - soff)
						soff += (size_t)w;
				}
				if (*np == cap) {
					struct point *np2;

					cap = cap ? cap * 2 : 64;
					np2 = realloc(*pts, cap * sizeof(**pts));
					if (!np2) {
						free(params);
						free(label);
						return -ENOMEM;
					}
					*pts = np2;
				}
				p = &(*pts)[(*np)++];
				memset(p, 0, sizeof(*p));
				p->run = i;
				p->x = x;
				p->y = rr->sum[k].median;
				p->bench = s->bench ? s->bench : s->case_key;
				p->metric = s->metric;
				p->unit = s->unit;
				p->param = hvt_strdup(keys[a]);
				p->others = hvt_strdup(others);
				p->shown = hvt_strdup(shown);
				p->gkey = hvt_asprintf("%s\x1f%s\x1f%s\x1f%s", p->bench, s->metric,
						       keys[a], others);
				if (!p->param || !p->others || !p->shown || !p->gkey) {
					free(params);
					free(label);
					return -ENOMEM;
				}
			}
			free(params);
			free(label);
		}
	}
	qsort(*pts, *np, sizeof(**pts), point_cmp);
	return 0;
}

static void free_points(struct point *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].gkey);
		free(p[i].param);
		free(p[i].others);
		free(p[i].shown);
	}
	free(p);
}

static int sweep_charts(struct chart_list *l, const struct hvt_report *r)
{
	struct point *pts;
	size_t np, made = 0;
	int ret = collect_points(r, &pts, &np);

	for (size_t g0 = 0; !ret && g0 < np && made < MAX_SWEEP_CHARTS;) {
		size_t g1 = g0, maxx = 0;
		struct hvt_report_chart *ch;

		while (g1 < np && !strcmp(pts[g1].gkey, pts[g0].gkey))
			g1++;
		/* a sweep: at least 3 distinct x in one run */
		for (size_t a = g0; a < g1;) {
			size_t b = a, distinct = 0;

			while (b < g1 && pts[b].run == pts[a].run) {
				distinct += b == a || pts[b].x != pts[b - 1].x;
				b++;
			}
			if (distinct > maxx)
				maxx = distinct;
			a = b;
		}
		if (maxx < 3) {
			g0 = g1;
			continue;
		}
		ch = new_chart(l, "sweep", pts[g0].gkey);
		if (!ch) {
			ret = -ENOMEM;
			break;
		}
		ch->lines = hvt_calloc(r->nruns, sizeof(*ch->lines));
		if (!ch->lines) {
			ret = -ENOMEM;
			break;
		}
		for (size_t a = g0; a < g1;) {
			size_t b = a;
			struct hvt_chart_line *ln = &ch->lines[ch->c.nlines];
			double *x, *y;

			while (b < g1 && pts[b].run == pts[a].run)
				b++;
			x = hvt_calloc(b - a, sizeof(*x));
			y = hvt_calloc(b - a, sizeof(*y));
			ln->x = x;
			ln->y = y;
			ch->c.nlines++;
			if (!x || !y) {
				ret = -ENOMEM;
				break;
			}
			for (size_t k = a; k < b; k++) {
				x[k - a] = pts[k].x;
				y[k - a] = pts[k].y;
			}
			ln->n = b - a;
			ln->name = r->runs[pts[a].run].name;
			a = b;
		}
		if (ret)
			break;
		ch->c.kind = HVT_CHART_LINES;
		ch->c.lines = ch->lines;
		ch->c.logx = 1;
		ch->c.logy = pts[g0].unit && !strcmp(pts[g0].unit, "s");
		ch->c.xfmt = fmt_size_tick;
		ch->c.yfmt = yfmt_of(pts[g0].unit);
		ch->c.title = keep(ch, hvt_asprintf("%s %s over %s", pts[g0].bench, pts[g0].metric,
						    pts[g0].param));
		if (*pts[g0].shown)
			ch->c.subtitle = keep(ch, hvt_strdup(pts[g0].shown));
		ch->c.xlabel = keep(ch, hvt_strdup(pts[g0].param));
		ch->c.ylabel = keep(ch, hvt_asprintf("%s, median (%s)", pts[g0].metric,
						     pts[g0].unit ? pts[g0].unit : ""));
		if (!ch->c.title || !ch->c.xlabel || !ch->c.ylabel)
			ret = -ENOMEM;
		made++;
		g0 = g1;
	}
	free_points(pts, np);
	return ret;
}

/* ---- latency percentiles ---- */

/* "lat_p999" -> prefix length 3 and 99.9; 0 when the name is not PREFIX_pDIGITS. */
static size_t pct_metric(const char *m, double *pct)
{
	const char *u = strrchr(m, '_');
	size_t nd;

	if (!u || u[1] != 'p' || !u[2])
		return 0;
	nd = strspn(u + 2, "0123456789");
	if (u[2 + nd] || nd < 2)
		return 0;
	*pct = strtod(u + 2, NULL) / pow(10.0, (double)nd - 2.0);
	return (size_t)(u - m);
}

/* x is the number of nines, -log10(1 - p/100): p90 -> 1, p99 -> 2, p99.9 -> 3 */
static void fmt_nines(char *buf, size_t len, double x)
{
	snprintf(buf, len, "p%.6g", 100.0 * (1.0 - pow(10.0, -x)));
}

static int pct_charts(struct chart_list *l, const struct hvt_report *r)
{
	size_t made = 0;
	const struct hvt_report_run *r0 = &r->runs[r->has_base ? r->base : 0];

	/* cases of the first (or baseline) run that have at least 3 percentile metrics */
	for (size_t k = 0; k < r0->nseries && made < MAX_PCT_CHARTS; k++) {
		const struct hvt_series *s = &r0->series[k];
		size_t plen, cnt = 0;
		struct hvt_report_chart *ch;
		double pct;

		plen = pct_metric(s->metric, &pct);
		if (!plen)
			continue;
		/* first metric of its group only */
		if (k > 0 && !strcmp(r0->series[k - 1].case_key, s->case_key)) {
			double p2;
			size_t pl2 = pct_metric(r0->series[k - 1].metric, &p2);

			if (pl2 == plen && !strncmp(r0->series[k - 1].metric, s->metric, plen))
				continue;
		}
		for (size_t j = k; j < r0->nseries && !strcmp(r0->series[j].case_key, s->case_key);
		     j++) {
			double p2;

			if (pct_metric(r0->series[j].metric, &p2) == plen &&
			    !strncmp(r0->series[j].metric, s->metric, plen))
				cnt++;
		}
		if (cnt < 3)
			continue;
		ch = new_chart(l, "percentiles", s->case_key);
		if (!ch)
			return -ENOMEM;
		ch->lines = hvt_calloc(r->nruns, sizeof(*ch->lines));
		if (!ch->lines)
			return -ENOMEM;
		for (size_t i = 0; i < r->nruns; i++) {
			const struct hvt_report_run *rr = &r->runs[i];
			struct hvt_chart_line *ln = &ch->lines[ch->c.nlines];
			double *x = hvt_calloc(16, sizeof(*x)), *y = hvt_calloc(16, sizeof(*y));
			size_t n = 0;

			ln->x = x;
			ln->y = y;
			ch->c.nlines++;
			if (!x || !y)
				return -ENOMEM;
			for (size_t j = 0; j < rr->nseries && n < 16; j++) {
				const struct hvt_series *t = &rr->series[j];
				double p;

				if (strcmp(t->case_key, s->case_key) || !rr->sum[j].n ||
				    pct_metric(t->metric, &p) != plen ||
				    strncmp(t->metric, s->metric, plen))
					continue;
				/* x in nines: the tail spread evenly to the right */
				x[n] = -log10(1.0 - p / 100.0);
				y[n++] = rr->sum[j].median;
			}
			/* ascending x */
			for (size_t a = 1; a < n; a++)
				for (size_t b = a; b > 0 && x[b - 1] > x[b]; b--) {
					double t = x[b];

					x[b] = x[b - 1];
					x[b - 1] = t;
					t = y[b];
					y[b] = y[b - 1];
					y[b - 1] = t;
				}
			ln->n = n;
			ln->name = rr->name;
		}
		ch->c.kind = HVT_CHART_LINES;
		ch->c.lines = ch->lines;
		ch->c.logy = 1;
		ch->c.xfmt = fmt_nines;
		ch->c.yfmt = yfmt_of(s->unit);
		ch->c.title =
		    keep(ch, hvt_asprintf("%s %.*s percentiles (median over repetitions)",
					  s->bench ? s->bench : s->case_key, (int)plen, s->metric));
		{
			/* the parameters that differ from their defaults, "a=1 b=2" */
			char *label = keep(ch, hvt_case_label(s->case_key));

			if (!label)
				return -ENOMEM;
			if (strchr(label, '?')) {
				char *sub = strchr(label, '?') + 1;

				for (char *p = sub; *p; p++)
					if (*p == '&')
						*p = ' ';
				ch->c.subtitle = sub;
			}
		}
		ch->c.xlabel = "percentile (nines scale)";
		ch->c.ylabel = keep(
		    ch, hvt_asprintf("%.*s (%s)", (int)plen, s->metric, s->unit ? s->unit : ""));
		if (!ch->c.title || !ch->c.ylabel)
			return -ENOMEM;
		made++;
	}
	return 0;
}

int hvt_report_charts(const struct hvt_report *r, struct hvt_report_chart **out, size_t *n)
{
	struct chart_list l = {NULL, 0, 0};
	int ret = 0;

	for (size_t i = 0; !ret && r->has_base && i < r->nruns; i++)
		if (i != r->base)
			ret = tax_chart(&l, r, i);
	if (!ret)
		ret = sweep_charts(&l, r);
	if (!ret && r->nruns)
		ret = pct_charts(&l, r);
	if (ret) {
		hvt_report_charts_free(l.c, l.n);
		*out = NULL;
		*n = 0;
		return ret;
	}
	*out = l.c;
	*n = l.n;
	return 0;
}
