/* SPDX-License-Identifier: MIT */
/* The report as one self-contained HTML file: taxes, charts, fingerprints, methodology, raw data.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/units.h"
#include "../common/util.h"
#include "../bench/params.h"
#include "report.h"
#include "report_src.h"

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;"
    "max-width:1200px;color:#222;padding:0 1em}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.88em}"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.diff td{background:#fff3cd}tr.diff td:first-child{font-weight:bold}"
    ".bad{color:#b00020;font-weight:bold}.good{color:#1b7f2a;font-weight:bold}"
    ".chart{margin:1em 0;overflow-x:auto}figure.chart{margin:.5em 0}.chart "
    "svg{max-width:100%;height:auto}"
    ".grid{display:flex;flex-wrap:wrap;gap:1em}.grid .chart{flex:0 0 auto}"
    "code{font-size:.92em}.warn{background:#fff3cd;padding:.5em 1em;border-left:4px solid "
    "#e0a800}.muted{color:#666;font-size:.9em}";

static void esc(FILE *f, const char *s)
{
	hvt_fput_xml(f, s);
}

/* A case by its short label, the full canonical key as the hover title. */
static void case_code(FILE *f, const char *case_key)
{
	char *label = hvt_case_label(case_key);

	fprintf(f, "<code title=\"");
	esc(f, case_key);
	fprintf(f, "\">");
	esc(f, label ? label : case_key);
	fprintf(f, "</code>");
	free(label);
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

static void fmt_pct(char *buf, size_t len, double frac)
{
	if (isfinite(frac))
		snprintf(buf, len, "%+.1f%%", frac * 100.0);
	else
		snprintf(buf, len, "n/a");
}

static void base64(FILE *f, const char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)p;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		fputc(t[u[i] >> 2], f);
		fputc(t[((u[i] & 3) << 4) | (u[i + 1] >> 4)], f);
		fputc(t[((u[i + 1] & 15) << 2) | (u[i + 2] >> 6)], f);
		fputc(t[u[i + 2] & 63], f);
	}
	if (n - i == 1) {
		fputc(t[u[i] >> 2], f);
		fputc(t[(u[i] & 3) << 4], f);
		fputs("==", f);
	} else if (n - i == 2) {
		fputc(t[u[i] >> 2], f);
		fputc(t[((u[i] & 3) << 4) | (u[i + 1] >> 4)], f);
		fputc(t[(u[i + 1] & 15) << 2], f);
		fputc('=', f);
	}
}

/* ---- fingerprints side by side ---- */

struct fp_row {
	char *key;
	char **val; /* one per run, NULL when absent */
};

struct fp_table {
	struct fp_row *rows;
	size_t n, cap, nruns;
};

static struct fp_row *fp_get(struct fp_table *t, const char *key)
{
	struct fp_row *r;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].key, key))
			return &t->rows[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct fp_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->n];
	r->key = hvt_strdup(key);
	r->val = hvt_calloc(t->nruns, sizeof(*r->val));
	if (!r->key || !r->val) {
		free(r->key);
		free(r->val);
		return NULL;
	}
	t->n++;
	return r;
}

static char *scalar_text(json_t *v)
{
	if (json_is_string(v))
		return hvt_strdup(json_string_value(v));
	if (json_is_null(v))
		return hvt_strdup("null");
	if (json_is_true(v))
		return hvt_strdup("true");
	if (json_is_false(v))
		return hvt_strdup("false");
	if (json_is_integer(v))
		return hvt_asprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return hvt_asprintf("%.10g", json_real_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

static int fp_flatten(struct fp_table *t, size_t run, const char *prefix, json_t *v, int depth)
{
	const char *k;
	json_t *sub;

	if (json_is_object(v) && depth < 4) {
		json_object_foreach (v, k, sub) {
			char key[512];

			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			if (fp_flatten(t, run, key, sub, depth + 1))
				return -ENOMEM;
		}
		return 0;
	}
	{
		struct fp_row *r = fp_get(t, prefix);
		char *s;

		if (!r)
			return -ENOMEM;
		s = scalar_text(v);
		if (!s)
			return -ENOMEM;
		if (strlen(s) > 300)
			strcpy(s + 296, " ...");
		free(r->val[run]);
		r->val[run] = s;
	}
	return 0;
}

static void fp_free(struct fp_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->nruns; j++)
			free(t->rows[i].val[j]);
		free(t->rows[i].val);
		free(t->rows[i].key);
	}
	free(t->rows);
}

static int write_fingerprints(const struct hvt_report *r, FILE *out)
{
	struct fp_table t = {NULL, 0, 0, r->nruns};
	size_t ndiff = 0;
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nruns; i++)
		ret = fp_flatten(&t, i, "", json_object_get(r->runs[i].info, "fingerprint"), 0);
	if (ret)
		goto out;
	for (size_t i = 0; i < t.n; i++)
		for (size_t j = 1; j < r->nruns; j++) {
			const char *a = t.rows[i].val[0], *b = t.rows[i].val[j];

			if ((!a) != (!b) || (a && strcmp(a, b))) {
				ndiff++;
				break;
			}
		}
	fprintf(out,
		"<h2 id=\"fingerprints\">Environments</h2>\n<p>%zu fingerprint fields; "
		"%zu differ between the runs (highlighted).</p>\n<table><tr><th>field</th>",
		t.n, ndiff);
	for (size_t j = 0; j < r->nruns; j++) {
		fprintf(out, "<th>");
		esc(out, r->runs[j].name);
		fprintf(out, " (run %lld)</th>", (long long)r->runs[j].id);
	}
	fprintf(out, "</tr>\n");
	for (size_t i = 0; i < t.n; i++) {
		int diff = 0;

		for (size_t j = 1; j < r->nruns; j++) {
			const char *a = t.rows[i].val[0], *b = t.rows[i].val[j];

			diff |= (!a) != (!b) || (a && strcmp(a, b));
		}
		fprintf(out, "<tr%s><td><code>", diff ? " class=\"diff\"" : "");
		esc(out, t.rows[i].key);
		fprintf(out, "</code></td>");
		for (size_t j = 0; j < r->nruns; j++) {
			fprintf(out, "<td>");
			esc(out, t.rows[i].val[j] ? t.rows[i].val[j] : "(absent)");
			fprintf(out, "</td>");
		}
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n");
out:
	fp_free(&t);
	return ret;
}

/* ---- sections ---- */

static void write_runs(const struct hvt_report *r, FILE *out)
{
	fprintf(out, "<table><tr><th>run</th><th>name</th><th>target</th><th>hypervisor</th>"
		     "<th>kind</th><th>suite</th><th>status</th><th>series</th><th>skipped</th>"
		     "<th>errors</th></tr>\n");
	for (size_t i = 0; i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];
		json_t *virt = json_object_get(json_object_get(rr->info, "fingerprint"), "virt");

		fprintf(out, "<tr><td class=\"num\">%lld</td><td>", (long long)rr->id);
		esc(out, rr->name);
		if (r->has_base && i == r->base)
			fprintf(out, " <b>(baseline)</b>");
		fprintf(out, "</td><td>");
		esc(out, jstr(rr->info, "target"));
		fprintf(out, "</td><td>");
		esc(out, jstr(virt, "hypervisor"));
		fprintf(out, "</td><td>");
		esc(out, jstr(virt, "kind"));
		fprintf(out, "</td><td>");
		esc(out, jstr(rr->info, "suite"));
		fprintf(out, "</td><td>");
		esc(out, jstr(rr->info, "status"));
		fprintf(out,
			"</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
			"<td class=\"num\">%zu</td></tr>\n",
			rr->nseries, json_array_size(rr->skips), json_array_size(rr->errors));
	}
	fprintf(out, "</table>\n");
}

static void write_summary(const struct hvt_report *r, FILE *out)
{
	fprintf(out, "<h2 id=\"summary\">Summary of taxes</h2>\n");
	if (!r->has_base) {
		fprintf(out, "<p>One run: no baseline, so no taxes. Give two or more runs (the "
			     "first, or <code>--baseline</code>, is the baseline).</p>\n");
		return;
	}
	fprintf(out, "<p>Tax = how much slower the candidate is than baseline <b>");
	esc(out, r->runs[r->base].name);
	fprintf(out,
		"</b>, per metric from the ratio of medians, direction-aware (higher-is-better: "
		"base/cand &minus; 1; lower-is-better: cand/base &minus; 1); families and "
		"overall are geometric means.</p>\n<table><tr><th>candidate</th><th>overall</th>");
	{
		/* union of family names, in the order met */
		const char *fams[64];
		size_t nf = 0;

		for (size_t i = 0; i < r->nruns; i++)
			for (size_t f = 0; i != r->base && f < r->cmp[i].nfamilies && nf < 64;
			     f++) {
				size_t k;

				for (k = 0; k < nf; k++)
					if (!strcmp(fams[k], r->cmp[i].families[f].family))
						break;
				if (k == nf)
					fams[nf++] = r->cmp[i].families[f].family;
			}
		for (size_t k = 0; k < nf; k++) {
			fprintf(out, "<th>");
			esc(out, fams[k]);
			fprintf(out, "</th>");
		}
		fprintf(out, "<th>significant slower / faster</th></tr>\n");
		for (size_t i = 0; i < r->nruns; i++) {
			const struct hvt_compare *c = &r->cmp[i];
			size_t slow = 0, fast = 0;
			char g[16];

			if (i == r->base)
				continue;
			for (size_t k = 0; k < c->nrows; k++)
				if (c->rows[k].flags & HVT_CMP_SIG) {
					slow += c->rows[k].tax > 0;
					fast += c->rows[k].tax < 0;
				}
			fmt_pct(g, sizeof(g), c->overall_geomean);
			fprintf(out, "<tr><td>");
			esc(out, r->runs[i].name);
			fprintf(out, "</td><td class=\"num\"><b>%s</b></td>", g);
			for (size_t k = 0; k < nf; k++) {
				double v = NAN;

				for (size_t f = 0; f < c->nfamilies; f++)
					if (!strcmp(c->families[f].family, fams[k]))
						v = c->families[f].geomean_tax;
				fmt_pct(g, sizeof(g), v);
				fprintf(out, "<td class=\"num\">%s</td>", g);
			}
			fprintf(out, "<td class=\"num\">%zu / %zu of %zu</td></tr>\n", slow, fast,
				c->nrows);
		}
	}
	fprintf(out, "</table>\n");
}

static void write_tax_table(const struct hvt_report *r, size_t i, FILE *out)
{
	const struct hvt_compare *c = &r->cmp[i];

	fprintf(out, "<details><summary>Tax table: ");
	esc(out, r->runs[i].name);
	fprintf(out, " against ");
	esc(out, r->runs[r->base].name);
	fprintf(out,
		" (%zu metrics)</summary>\n<table><tr><th>case</th><th>metric</th>"
		"<th>baseline</th><th>candidate</th><th>tax</th><th>%g%% CI</th><th>p</th>"
		"<th>CV base / cand</th><th>flags</th></tr>\n",
		c->nrows, c->opts.level * 100.0);
	for (size_t k = 0; k < c->nrows; k++) {
		const struct hvt_compare_row *w = &c->rows[k];
		char b[32], cd[32], t[16], lo[16], hi[16];
		const char *cls = !(w->flags & HVT_CMP_SIG) ? "" : w->tax > 0 ? "bad" : "good";

		hvt_fmt_value(b, sizeof(b), w->median_base, w->unit);
		hvt_fmt_value(cd, sizeof(cd), w->median_cand, w->unit);
		fmt_pct(t, sizeof(t), w->tax);
		fmt_pct(lo, sizeof(lo), w->tax_lo);
		fmt_pct(hi, sizeof(hi), w->tax_hi);
		fprintf(out, "<tr><td>");
		case_code(out, w->case_key);
		fprintf(out, "</td><td>");
		esc(out, w->metric);
		fprintf(out,
			"</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num "
			"%s\">%s</td><td class=\"num\">[%s, %s]</td><td class=\"num\">%.3g</td>"
			"<td class=\"num\">%.1f%% / %.1f%%</td><td>%s%s%s%s</td></tr>\n",
			b, cd, cls, t, lo, hi, w->p, w->cv_base * 100.0, w->cv_cand * 100.0,
			w->flags & HVT_CMP_SIG ? "significant " : "",
			w->flags & HVT_CMP_NOISY ? "noisy " : "",
			w->flags & HVT_CMP_FEW ? "few " : "",
			w->flags & HVT_CMP_RESOLVED ? "resolved " : "");
	}
	fprintf(out, "</table>\n");
	for (size_t k = 0; k < c->nresolved; k++) {
		fprintf(out, "<p class=\"muted\">different work (resolved): ");
		case_code(out, c->resolved[k].case_key);
		fputc(' ', out);
		esc(out, c->resolved[k].diff);
		fprintf(out, "</p>\n");
	}
	for (size_t k = 0; k < c->n_only_base; k++) {
		fprintf(out, "<p class=\"muted\">only in the baseline: ");
		case_code(out, c->only_base[k].case_key);
		fputc(' ', out);
		esc(out, c->only_base[k].metric);
		fprintf(out, "</p>\n");
	}
	fprintf(out, "</details>\n");
}

static void write_chart(FILE *out, const struct hvt_report_chart *ch, size_t idx)
{
	char prefix[32], *svg = NULL;
	size_t len = 0;
	int ret;

	snprintf(prefix, sizeof(prefix), "c%zu-", idx);
	ret = hvt_chart_render(&ch->c, HVT_CHART_SVG, prefix, &svg, &len);
	fprintf(out, "<figure class=\"chart\" id=\"chart-%s\">", ch->slug);
	if (ret == 0) {
		fwrite(svg, 1, len, out);
	} else {
		fprintf(out, "<p class=\"muted\">chart not drawn: %s</p>",
			ret == -EOPNOTSUPP ? "hvtax was built without cairo" : strerror(-ret));
	}
	fprintf(out, "</figure>\n");
	free(svg);
}

static void write_methodology(const struct hvt_report *r, FILE *out)
{
	fprintf(out, "<h2 id=\"methodology\">Methodology</h2>\n<table><tr><th>run</th>"
		     "<th>suite</th><th>rounds</th><th>reps per round</th><th>duration per rep</th>"
		     "<th>warm-up</th><th>case-order seed</th><th>cases</th><th>samples</th>"
		     "<th>steal</th></tr>\n");
	for (size_t i = 0; i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];
		json_t *plan = json_object_get(rr->info, "plan");
		char steal[32];

		if (isfinite(rr->steal_frac))
			snprintf(steal, sizeof(steal), "%.2f%%", rr->steal_frac * 100.0);
		else
			snprintf(steal, sizeof(steal), "n/a");
		fprintf(out, "<tr><td>");
		esc(out, rr->name);
		fprintf(out, "</td><td>");
		esc(out, jstr(plan, "suite"));
		fprintf(
		    out,
		    "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td "
		    "class=\"num\">%gs</td><td class=\"num\">%gs</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td><td class=\"num\">%lld</td><td "
		    "class=\"num\">%s</td></tr>\n",
		    (long long)json_integer_value(json_object_get(plan, "rounds")),
		    (long long)json_integer_value(json_object_get(plan, "reps")),
		    json_number_value(json_object_get(plan, "duration_s")),
		    json_number_value(json_object_get(plan, "warmup_s")),
		    (long long)json_integer_value(json_object_get(plan, "seed")),
		    (long long)json_integer_value(json_object_get(rr->info, "ncases")),
		    (long long)json_integer_value(json_object_get(rr->info, "nsamples")), steal);
	}
	fprintf(out,
		"</table>\n<ul><li>Every case is time-bounded: a warm-up, then repetitions of a "
		"fixed duration, in rounds; case order is shuffled per round. Every repetition's "
		"value is a stored sample; warm-ups are kept apart and not analysed.</li>"
		"<li>Tax point estimate: ratio of medians of the timed samples. Confidence "
		"interval: hierarchical percentile bootstrap of that ratio at %g%%, %u resamples, "
		"seed %llu (rounds resampled, then repetitions within each round%s), so the same "
		"data gives the same interval.</li>"
		"<li>p: two-sided Mann&ndash;Whitney U test (exact for small samples without ties, "
		"else the normal approximation with tie and continuity corrections).</li>"
		"<li>Percentiles are nearest-rank. Family and overall taxes are geometric means "
		"of (1 + tax). A result is <i>noisy</i> when its coefficient of variation exceeds "
		"%.0f%%, and has <i>few</i> samples below %zu samples or %zu rounds.</li></ul>\n",
		r->opts.level * 100.0, r->opts.resamples, (unsigned long long)r->opts.seed,
		r->opts.paired ? "; rounds paired by index across runs" : "",
		r->opts.noise.cv_max * 100.0, r->opts.noise.min_samples, r->opts.noise.min_rounds);
}

static void write_raw(const struct hvt_report *r, FILE *out)
{
	json_t *j = hvt_report_to_json(r);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;

	fprintf(out,
		"<h2 id=\"raw\">Raw data</h2>\n<p>Every sample of every run, as the JSON Lines "
		"export that <code>hvtax import</code> reads back:</p>\n<ul>\n");
	for (size_t i = 0; i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];

		fprintf(out,
			"<li><a download=\"hvtax-run-%lld.jsonl\" "
			"href=\"data:application/x-ndjson;base64,",
			(long long)rr->id);
		base64(out, rr->jsonl ? rr->jsonl : "", rr->jsonl_len);
		fprintf(out, "\">hvtax-run-%lld.jsonl</a> (", (long long)rr->id);
		esc(out, rr->name);
		fprintf(out, ", %zu bytes)</li>\n", rr->jsonl_len);
	}
	fprintf(out, "</ul>\n<p>The report's own numbers (summaries, taxes, warnings) are embedded "
		     "as JSON in <code>script#hvtax-report</code>.</p>\n");
	fprintf(out, "<script type=\"application/json\" id=\"hvtax-report\">");
	/* "</" would end the script element early */
	for (const char *p = s; p && *p; p++) {
		if (p[0] == '<' && p[1] == '/')
			fputs("<\\", out);
		else
			fputc(*p, out);
	}
	fprintf(out, "</script>\n");
	free(s);
	json_decref(j);
}

int hvt_report_write_html(const struct hvt_report *r, FILE *out)
{
	struct hvt_report_chart *ch = NULL;
	size_t nch = 0, shown;
	int ret;

	ret = hvt_report_charts(r, &ch, &nch);
	if (ret)
		return ret;
	fprintf(out,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"generator\" content=\"hvtax\">"
		"<title>hvtax report</title><style>%s</style></head><body>\n",
		css);
	fprintf(out, "<h1>hvtax report: the hypervisor tax</h1>\n<p class=\"muted\">");
	if (r->generated) {
		fprintf(out, "Generated ");
		esc(out, r->generated);
		fprintf(out, " by hvtax ");
		esc(out, hvt_version);
		fprintf(out, ". ");
	}
	fprintf(out,
		"%zu run%s. Sections: <a href=\"#summary\">summary</a>, "
		"<a href=\"#charts\">charts</a>, <a href=\"#fingerprints\">environments</a>, "
		"<a href=\"#methodology\">methodology</a>, <a href=\"#noise\">noise</a>, "
		"<a href=\"#raw\">raw data</a>.</p>\n",
		r->nruns, r->nruns == 1 ? "" : "s");
	write_runs(r, out);
	write_summary(r, out);

	fprintf(out, "<h2 id=\"charts\">Tax per case</h2>\n");
	shown = 0;
	for (size_t i = 0; i < nch; i++)
		if (!strcmp(ch[i].section, "tax")) {
			write_chart(out, &ch[i], i);
			shown++;
		}
	if (!shown)
		fprintf(out, "<p class=\"muted\">No taxes to draw.</p>\n");
	for (size_t i = 0; r->has_base && i < r->nruns; i++)
		if (i != r->base)
			write_tax_table(r, i, out);

	fprintf(out, "<h2 id=\"sweeps\">Parameter sweeps</h2>\n<p>Median of each case over a "
		     "swept parameter (size, queue depth...), one line per run.</p>\n"
		     "<div class=\"grid\">\n");
	shown = 0;
	for (size_t i = 0; i < nch; i++)
		if (!strcmp(ch[i].section, "sweep")) {
			write_chart(out, &ch[i], i);
			shown++;
		}
	fprintf(out, "</div>\n");
	if (!shown)
		fprintf(out, "<p class=\"muted\">No case was run over three or more values of a "
			     "parameter.</p>\n");
	fprintf(out, "<h2 id=\"percentiles\">Latency percentiles</h2>\n<div class=\"grid\">\n");
	shown = 0;
	for (size_t i = 0; i < nch; i++)
		if (!strcmp(ch[i].section, "percentiles")) {
			write_chart(out, &ch[i], i);
			shown++;
		}
	fprintf(out, "</div>\n");
	if (!shown)
		fprintf(out, "<p class=\"muted\">No case recorded latency percentiles.</p>\n");
	hvt_report_charts_free(ch, nch);

	ret = write_fingerprints(r, out);
	if (ret)
		return ret;
	write_methodology(r, out);

	fprintf(out, "<h2 id=\"noise\">Noise warnings</h2>\n");
	if (!r->nwarnings)
		fprintf(out, "<p>None: every series is below the CV threshold, with enough samples "
			     "and no steal time above 1%%.</p>\n");
	else {
		fprintf(out, "<div class=\"warn\"><ul>\n");
		for (size_t i = 0; i < r->nwarnings; i++) {
			fprintf(out, "<li>");
			esc(out, r->warnings[i]);
			fprintf(out, "</li>\n");
		}
		fprintf(out, "</ul></div>\n");
	}
	for (size_t i = 0; i < r->nruns; i++)
		for (size_t k = 0; k < json_array_size(r->runs[i].skips); k++) {
			json_t *sk = json_array_get(r->runs[i].skips, k);

			fprintf(out, "<p class=\"muted\">");
			esc(out, r->runs[i].name);
			fprintf(out, ": skipped ");
			case_code(out, jstr(sk, "case"));
			fprintf(out, ": ");
			esc(out, jstr(sk, "reason"));
			fprintf(out, "</p>\n");
		}
	write_raw(r, out);
	fprintf(out, "</body></html>\n");
	return ferror(out) ? -EIO : 0;
}
