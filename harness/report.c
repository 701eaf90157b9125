/* SPDX-License-Identifier: MIT */
/* hvtax report: one data model of runs and their taxes; the command; text, Markdown, CSV, JSON. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/units.h"
#include "../common/util.h"
#include "../bench/params.h"
#include "export.h"
#include "opts.h"
#include "report.h"
#include "report_src.h"
#include "runs.h"

#define HVT_STEAL_WARN 0.01 /* steal above 1% of the measured time */

/* ---- model ---- */

static void run_clear(struct hvt_report_run *rr)
{
	free(rr->name);
	json_decref(rr->info);
	json_decref(rr->skips);
	json_decref(rr->errors);
	hvt_series_free(rr->series, rr->nseries);
	free(rr->sum);
	free(rr->jsonl);
	memset(rr, 0, sizeof(*rr));
}

void hvt_report_free(struct hvt_report *r)
{
	for (size_t i = 0; i < r->nruns; i++) {
		run_clear(&r->runs[i]);
		if (r->cmp && r->has_base && i != r->base)
			hvt_compare_free(&r->cmp[i]);
	}
	free(r->runs);
	free(r->cmp);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->generated);
	memset(r, 0, sizeof(*r));
}

static int add_warning(struct hvt_report *r, char *msg)
{
	char **w;

	if (!msg)
		return -ENOMEM;
	w = realloc(r->warnings, (r->nwarnings + 1) * sizeof(*w));
	if (!w) {
		free(msg);
		return -ENOMEM;
	}
	r->warnings = w;
	w[r->nwarnings++] = msg;
	return 0;
}

/* Steal time as a share of the timed repetitions' duration. */
static double steal_fraction(struct hvt_store *st, int64_t id)
{
	static const char sql[] =
	    "SELECT (SELECT SUM(value) FROM side WHERE run_id = ?1 AND warmup = 0 AND "
	    "name = 'steal_s'), (SELECT SUM(d) FROM (SELECT MAX(dur_s) AS d FROM samples "
	    "WHERE run_id = ?1 AND warmup = 0 GROUP BY case_id, round, rep))";
	sqlite3_stmt *s = NULL;
	double v = NAN;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NAN;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL &&
	    sqlite3_column_type(s, 1) != SQLITE_NULL && sqlite3_column_double(s, 1) > 0)
		v = sqlite3_column_double(s, 0) / sqlite3_column_double(s, 1);
	sqlite3_finalize(s);
	return v;
}

/* Deterministic mode: drop what changes from one report of the same data to the next. */
static void strip_info(json_t *info)
{
	static const char *const keys[] = {"uuid",   "started", "ended",       "version",
					   "commit", "source",	"payload_hash"};
	json_t *fp = json_object_get(info, "fingerprint");

	for (size_t i = 0; i < HVT_ARRAY_SIZE(keys); i++)
		json_object_del(info, keys[i]);
	if (json_is_object(fp)) {
		json_object_del(fp, "tool");
		json_object_del(fp, "time");
	}
}

static int export_mem(struct hvt_store *st, struct hvt_report_run *rr)
{
	FILE *f = open_memstream(&rr->jsonl, &rr->jsonl_len);
	int ret;

	if (!f)
		return -ENOMEM;
	ret = hvt_export_run(st, rr->id, f);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	return ret;
}

static int build_run(struct hvt_report *r, struct hvt_store *st, struct hvt_report_run *rr)
{
	const char *label;
	int ret;

	rr->info = hvt_store_run_info(st, rr->id);
	rr->skips = hvt_store_run_skips(st, rr->id);
	rr->errors = hvt_store_run_errors(st, rr->id);
	if (!rr->info || !rr->skips || !rr->errors)
		return -EIO;
	label = json_string_value(json_object_get(rr->info, "label"));
	rr->name = label ? hvt_strdup(label) : hvt_asprintf("run %lld", (long long)rr->id);
	if (!rr->name)
		return -ENOMEM;
	ret = hvt_store_series(st, rr->id, &rr->series, &rr->nseries);
	if (ret)
		return ret;
	rr->sum = hvt_calloc(rr->nseries ? rr->nseries : 1, sizeof(*rr->sum));
	if (!rr->sum)
		return -ENOMEM;
	for (size_t i = 0; i < rr->nseries; i++) {
		const struct hvt_series *s = &rr->series[i];
		struct hvt_summary *m = &rr->sum[i];

		if (!s->n)
			continue;
		ret = hvt_stats_summary(s->v, s->n, m);
		if (ret == -ENOMEM)
			return ret;
		if (ret) {
			memset(m, 0, sizeof(*m));
			continue;
		}
		if (m->cv > r->opts.noise.cv_max || m->n < r->opts.noise.min_samples) {
			/* warnings are read by people: the short label names the case */
			char *cl = hvt_case_label(s->case_key);

			if (!cl)
				return -ENOMEM;
			if (m->cv > r->opts.noise.cv_max)
				ret = add_warning(r, hvt_asprintf("%s: %s %s: coefficient of "
								  "variation %.1f%% (above %.0f%%)",
								  rr->name, cl, s->metric,
								  m->cv * 100.0,
								  r->opts.noise.cv_max * 100.0));
			if (!ret && m->n < r->opts.noise.min_samples)
				ret = add_warning(r, hvt_asprintf("%s: %s %s: only %zu samples",
								  rr->name, cl, s->metric,
								  m->n));
			free(cl);
		}
		if (ret)
			return ret;
	}
	rr->steal_frac = steal_fraction(st, rr->id);
	if (isfinite(rr->steal_frac) && rr->steal_frac > HVT_STEAL_WARN) {
		ret = add_warning(r, hvt_asprintf("%s: steal time was %.1f%% of the measured time "
						  "(the hypervisor ran something else)",
						  rr->name, rr->steal_frac * 100.0));
		if (ret)
			return ret;
	}
	if (json_array_size(rr->errors)) {
		ret = add_warning(r, hvt_asprintf("%s: %zu error%s recorded", rr->name,
						  json_array_size(rr->errors),
						  json_array_size(rr->errors) == 1 ? "" : "s"));
		if (ret)
			return ret;
	}
	ret = export_mem(st, rr);
	if (ret)
		return ret;
	if (r->deterministic)
		strip_info(rr->info);
	return 0;
}

int hvt_report_build(struct hvt_report *r, struct hvt_store *st, const int64_t *ids, size_t n,
		     long base, const struct hvt_compare_opts *o, int deterministic)
{
	int ret = -ENOMEM;

	memset(r, 0, sizeof(*r));
	if (o)
		r->opts = *o;
	else
		hvt_compare_opts_init(&r->opts);
	r->deterministic = deterministic;
	r->runs = hvt_calloc(n ? n : 1, sizeof(*r->runs));
	r->cmp = hvt_calloc(n ? n : 1, sizeof(*r->cmp));
	if (!r->runs || !r->cmp)
		goto out;
	if (!deterministic) {
		char ts[40];

		hvt_fmt_iso8601(ts, sizeof(ts), hvt_wall_s());
		r->generated = hvt_strdup(ts);
		if (!r->generated)
			goto out;
	}
	r->nruns = n;
	for (size_t i = 0; i < n; i++)
		r->runs[i].id = ids[i];
	for (size_t i = 0; i < n; i++) {
		ret = build_run(r, st, &r->runs[i]);
		if (ret)
			goto out;
	}
	if (base >= 0 && (size_t)base < n && n > 1) {
		r->has_base = 1;
		r->base = (size_t)base;
		for (size_t i = 0; i < n; i++) {
			if (i == r->base)
				continue;
			ret = hvt_compare_runs(st, ids[base], ids[i], &r->opts, &r->cmp[i]);
			if (ret) {
				/* keep hvt_report_free from freeing the rows not built */
				for (size_t j = i; j < n; j++)
					memset(&r->cmp[j], 0, sizeof(r->cmp[j]));
				goto out;
			}
		}
	}
	ret = 0;
out:
	if (ret)
		hvt_report_free(r);
	return ret;
}

/* ---- JSON ---- */

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *hvt_report_to_json(const struct hvt_report *r)
{
	json_t *o = json_object(), *runs = json_array(), *cmps = json_array(), *warn = json_array();
	int bad = !o || !runs || !cmps || !warn;

	for (size_t i = 0; !bad && i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];
		json_t *ro = json_deep_copy(rr->info), *ser = json_array();

		bad |= !ro || !ser;
		for (size_t k = 0; !bad && k < rr->nseries; k++) {
			const struct hvt_series *s = &rr->series[k];
			const struct hvt_summary *m = &rr->sum[k];
			char *label = hvt_case_label(s->case_key);
			json_t *so =
			    label ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "case",
					      s->case_key, "label", label, "bench",
					      s->bench ? s->bench : s->case_key, "metric", s->metric,
					      "unit", s->unit ? s->unit : "", "dir",
					      s->higher_better ? "higher" : "lower", "n",
					      (json_int_t)m->n)
				  : NULL;

			free(label);
			bad |= !so;
			if (bad)
				break;
			if (m->n) {
				json_object_set_new(so, "min", jreal(m->min));
				json_object_set_new(so, "median", jreal(m->median));
				json_object_set_new(so, "p90", jreal(m->p90));
				json_object_set_new(so, "p99", jreal(m->p99));
				json_object_set_new(so, "max", jreal(m->max));
				json_object_set_new(so, "mean", jreal(m->mean));
				json_object_set_new(so, "stdev", jreal(m->stdev));
				json_object_set_new(so, "cv", jreal(m->cv));
			}
			bad |= json_array_append_new(ser, so);
		}
		if (bad) {
			json_decref(ro);
			json_decref(ser);
			break;
		}
		json_object_set_new(ro, "name", json_string(rr->name));
		json_object_set_new(ro, "steal_fraction", jreal(rr->steal_frac));
		json_object_set_new(ro, "series", ser);
		json_object_set(ro, "skips", rr->skips);
		json_object_set(ro, "errors", rr->errors);
		bad |= json_array_append_new(runs, ro);
	}
	for (size_t i = 0; !bad && r->has_base && i < r->nruns; i++) {
		json_t *c;

		if (i == r->base)
			continue;
		c = hvt_compare_to_json(&r->cmp[i]);
		bad |= !c || json_array_append_new(cmps, c);
	}
	for (size_t i = 0; !bad && i < r->nwarnings; i++)
		bad |= json_array_append_new(warn, json_string(r->warnings[i]));
	if (bad) {
		json_decref(o);
		json_decref(runs);
		json_decref(cmps);
		json_decref(warn);
		return NULL;
	}
	json_object_set_new(o, "type", json_string("report"));
	json_object_set_new(o, "schema", json_integer(HVT_REPORT_SCHEMA));
	if (!r->deterministic) {
		json_object_set_new(o, "generated", json_string(r->generated));
		json_object_set_new(o, "version", json_string(hvt_version));
	}
	json_object_set_new(o, "baseline",
			    r->has_base ? json_integer((json_int_t)r->runs[r->base].id)
					: json_null());
	json_object_set_new(o, "runs", runs);
	json_object_set_new(o, "comparisons", cmps);
	json_object_set_new(o, "warnings", warn);
	return o;
}

int hvt_report_write_json(const struct hvt_report *r, FILE *out)
{
	json_t *o = hvt_report_to_json(r);
	int ret;

	if (!o)
		return -ENOMEM;
	ret = json_dumpf(o, out, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) ? -EIO : 0;
	fputc('\n', out);
	json_decref(o);
	return ret;
}

/* ---- text and Markdown ---- */

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

static const char *fp_str(const json_t *info, const char *a, const char *b)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(json_object_get(info, "fingerprint"), a), b));

	return s ? s : "-";
}

static void fmt_pct(char *buf, size_t len, double frac)
{
	if (isfinite(frac))
		snprintf(buf, len, "%+.1f%%", frac * 100.0);
	else
		snprintf(buf, len, "n/a");
}

static double plan_num(const json_t *info, const char *k)
{
	json_t *v = json_object_get(json_object_get(info, "plan"), k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

int hvt_report_write_text(const struct hvt_report *r, FILE *out)
{
	fprintf(out, "hvtax report: %zu run%s", r->nruns, r->nruns == 1 ? "" : "s");
	if (r->has_base)
		fprintf(out, ", baseline %s (run %lld)", r->runs[r->base].name,
			(long long)r->runs[r->base].id);
	if (r->generated)
		fprintf(out, ", generated %s", r->generated);
	fputs("\n\n", out);
	for (size_t i = 0; i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];
		const json_t *in = rr->info;

		fprintf(out,
			"run %lld %s: target %s, suite %s, status %s, hypervisor %s, kind %s; "
			"%g rounds x %g reps of %gs\n",
			(long long)rr->id, rr->name, jstr(in, "target"), jstr(in, "suite"),
			jstr(in, "status"), fp_str(in, "virt", "hypervisor"),
			fp_str(in, "virt", "kind"), plan_num(in, "rounds"), plan_num(in, "reps"),
			plan_num(in, "duration_s"));
		fprintf(out, "  %-44s %-10s %5s %14s %14s %7s\n", "case", "metric", "n", "median",
			"p90", "cv");
		for (size_t k = 0; k < rr->nseries; k++) {
			const struct hvt_series *s = &rr->series[k];
			const struct hvt_summary *m = &rr->sum[k];
			char med[32], p90[32], *label;

			if (!m->n)
				continue;
			hvt_fmt_value(med, sizeof(med), m->median, s->unit);
			hvt_fmt_value(p90, sizeof(p90), m->p90, s->unit);
			label = hvt_case_label(s->case_key);
			fprintf(out, "  %-44s %-10s %5zu %14s %14s %6.1f%%\n",
				label ? label : s->case_key, s->metric, m->n, med, p90,
				m->cv * 100.0);
			free(label);
		}
		for (size_t k = 0; k < json_array_size(rr->skips); k++) {
			json_t *sk = json_array_get(rr->skips, k);
			char *label = hvt_case_label(jstr(sk, "case"));

			fprintf(out, "  skipped %s: %s\n", label ? label : jstr(sk, "case"),
				jstr(sk, "reason"));
			free(label);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; r->has_base && i < r->nruns; i++) {
		if (i == r->base)
			continue;
		fprintf(out, "tax of %s against %s\n", r->runs[i].name, r->runs[r->base].name);
		hvt_compare_print(&r->cmp[i], out);
		fputc('\n', out);
	}
	if (r->nwarnings) {
		fprintf(out, "noise warnings\n");
		for (size_t i = 0; i < r->nwarnings; i++)
			fprintf(out, "  %s\n", r->warnings[i]);
	}
	return ferror(out) ? -EIO : 0;
}

int hvt_report_write_md(const struct hvt_report *r, FILE *out)
{
	fprintf(out, "# hvtax report\n\n");
	if (r->generated)
		fprintf(out, "Generated %s by hvtax %s.\n\n", r->generated, hvt_version);
	fprintf(out, "| run | name | target | hypervisor | kind | suite | status |\n"
		     "|---:|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < r->nruns; i++) {
		const json_t *in = r->runs[i].info;

		fprintf(out, "| %lld | ", (long long)r->runs[i].id);
		hvt_fput_md(out, r->runs[i].name);
		fprintf(out, "%s | %s | %s | %s | %s | %s |\n",
			r->has_base && i == r->base ? " (baseline)" : "", jstr(in, "target"),
			fp_str(in, "virt", "hypervisor"), fp_str(in, "virt", "kind"),
			jstr(in, "suite"), jstr(in, "status"));
	}
	for (size_t i = 0; r->has_base && i < r->nruns; i++) {
		const struct hvt_compare *c = &r->cmp[i];
		char g[16];

		if (i == r->base)
			continue;
		fprintf(out, "\n## Tax of %s against %s\n\n", r->runs[i].name,
			r->runs[r->base].name);
		fmt_pct(g, sizeof(g), c->overall_geomean);
		fprintf(out, "Overall geometric-mean tax: **%s** over %zu metrics", g,
			c->overall_n);
		for (size_t f = 0; f < c->nfamilies; f++) {
			fmt_pct(g, sizeof(g), c->families[f].geomean_tax);
			fprintf(out, "%s%s %s", f ? ", " : "; ", c->families[f].family, g);
		}
		fprintf(out,
			".\n\n| case | metric | baseline | candidate | tax | %g%% CI | p |\n"
			"|---|---|---:|---:|---:|---|---:|\n",
			c->opts.level * 100.0);
		for (size_t k = 0; k < c->nrows; k++) {
			const struct hvt_compare_row *w = &c->rows[k];
			char b[32], cd[32], t[16], lo[16], hi[16], *label;

			hvt_fmt_value(b, sizeof(b), w->median_base, w->unit);
			hvt_fmt_value(cd, sizeof(cd), w->median_cand, w->unit);
			fmt_pct(t, sizeof(t), w->tax);
			fmt_pct(lo, sizeof(lo), w->tax_lo);
			fmt_pct(hi, sizeof(hi), w->tax_hi);
			label = hvt_case_label(w->case_key);
			fprintf(out, "| `");
			hvt_fput_md(out, label ? label : w->case_key);
			free(label);
			fprintf(out, "` | %s | %s | %s | %s%s%s | [%s, %s] | %.3g |\n", w->metric,
				b, cd, w->flags & HVT_CMP_SIG ? "**" : "", t,
				w->flags & HVT_CMP_SIG ? "**" : "", lo, hi, w->p);
		}
		for (size_t k = 0; k < c->nresolved; k++) {
			char *label = hvt_case_label(c->resolved[k].case_key);

			fprintf(out, "%s- different work: `", k ? "" : "\n");
			hvt_fput_md(out, label ? label : c->resolved[k].case_key);
			free(label);
			fprintf(out, "` resolved its automatic parameters differently: ");
			hvt_fput_md(out, c->resolved[k].diff);
			fputc('\n', out);
		}
	}
	for (size_t i = 0; i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];

		fprintf(out, "\n## Run %lld: ", (long long)rr->id);
		hvt_fput_md(out, rr->name);
		fprintf(out, "\n\n| case | metric | n | median | p90 | p99 | CV |\n"
			     "|---|---|---:|---:|---:|---:|---:|\n");
		for (size_t k = 0; k < rr->nseries; k++) {
			const struct hvt_series *s = &rr->series[k];
			const struct hvt_summary *m = &rr->sum[k];
			char a[32], b[32], c[32], *label;

			if (!m->n)
				continue;
			hvt_fmt_value(a, sizeof(a), m->median, s->unit);
			hvt_fmt_value(b, sizeof(b), m->p90, s->unit);
			hvt_fmt_value(c, sizeof(c), m->p99, s->unit);
			label = hvt_case_label(s->case_key);
			fprintf(out, "| `");
			hvt_fput_md(out, label ? label : s->case_key);
			free(label);
			fprintf(out, "` | %s | %zu | %s | %s | %s | %.1f%% |\n", s->metric, m->n, a,
				b, c, m->cv * 100.0);
		}
	}
	if (r->nwarnings) {
		fprintf(out, "\n## Noise warnings\n\n");
		for (size_t i = 0; i < r->nwarnings; i++) {
			fprintf(out, "- ");
			hvt_fput_md(out, r->warnings[i]);
			fputc('\n', out);
		}
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- CSV ---- */

static void csv_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, ",%.17g", v);
	else
		fputc(',', out);
}

/* The row of run i's series k in the comparison against the base, or NULL. */
static const struct hvt_compare_row *cmp_row(const struct hvt_report *r, size_t i,
					     const struct hvt_series *s)
{
	if (!r->has_base || i == r->base)
		return NULL;
	for (size_t k = 0; k < r->cmp[i].nrows; k++) {
		const struct hvt_compare_row *w = &r->cmp[i].rows[k];

		if (!strcmp(w->case_key, s->case_key) && !strcmp(w->metric, s->metric))
			return w;
	}
	return NULL;
}

int hvt_report_write_csv(const struct hvt_report *r, FILE *out)
{
	/* values in the base unit named by the unit column; tax columns are fractions */
	fprintf(out,
		"# hvtax report schema %d: values in the unit of column 'unit'; tax columns "
		"are fractions (0.05 = 5%% slower than the baseline)\n",
		HVT_REPORT_SCHEMA);
	fprintf(out, "run_id,run_name,target,case,label,bench,metric,unit,direction,n,min,median,p90,p99,"
		     "max,mean,stdev,cv,baseline_run_id,tax,tax_ci_lo,tax_ci_hi,p_value\n");
	for (size_t i = 0; i < r->nruns; i++) {
		const struct hvt_report_run *rr = &r->runs[i];

		for (size_t k = 0; k < rr->nseries; k++) {
			const struct hvt_series *s = &rr->series[k];
			const struct hvt_summary *m = &rr->sum[k];
			const struct hvt_compare_row *w = cmp_row(r, i, s);

			if (!m->n)
				continue;
			fprintf(out, "%lld,", (long long)rr->id);
			csv_str(out, rr->name);
			fputc(',', out);
			csv_str(out, jstr(rr->info, "target"));
			fputc(',', out);
			csv_str(out, s->case_key);
			fputc(',', out);
			{
				char *label = hvt_case_label(s->case_key);

				if (!label)
					return -ENOMEM;
				csv_str(out, label);
				free(label);
			}
			fputc(',', out);
			csv_str(out, s->bench ? s->bench : "");
			fputc(',', out);
			csv_str(out, s->metric);
			fputc(',', out);
			csv_str(out, s->unit ? s->unit : "");
			fprintf(out, ",%s,%zu", s->higher_better ? "higher" : "lower", m->n);
			csv_num(out, m->min);
			csv_num(out, m->median);
			csv_num(out, m->p90);
			csv_num(out, m->p99);
			csv_num(out, m->max);
			csv_num(out, m->mean);
			csv_num(out, m->stdev);
			csv_num(out, m->cv);
			if (r->has_base)
				fprintf(out, ",%lld", (long long)r->runs[r->base].id);
			else
				fputc(',', out);
			csv_num(out, w ? w->tax : NAN);
			csv_num(out, w ? w->tax_lo : NAN);
			csv_num(out, w ? w->tax_hi : NAN);
			csv_num(out, w ? w->p : NAN);
			fputc('\n', out);
		}
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- OpenMetrics ---- */

/* OpenMetrics unit suffix of a base unit. */
static const char *om_unit(const char *unit)
{
	static const struct {
		const char *unit, *om;
	} map[] = {{"s", "seconds"},	       {"B", "bytes"},	 {"B/s", "bytes_per_second"},
		   {"op/s", "ops_per_second"}, {"%", "percent"}, {"", "ratio"}};

	for (size_t i = 0; i < HVT_ARRAY_SIZE(map); i++)
		if (unit && !strcmp(unit, map[i].unit))
			return map[i].om;
	return NULL;
}

static void om_label(FILE *out, const char *k, const char *v, int first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", k);
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
	fputc('"', out);
}

int hvt_report_write_openmetrics(const struct hvt_report *r, FILE *out)
{
	static const char *const units[] = {"s", "B", "B/s", "op/s", "%", ""};

	for (size_t u = 0; u < HVT_ARRAY_SIZE(units); u++) {
		const char *om = om_unit(units[u]);
		int header = 0;

		for (size_t i = 0; i < r->nruns; i++) {
			const struct hvt_report_run *rr = &r->runs[i];
			char id[32];

			snprintf(id, sizeof(id), "%lld", (long long)rr->id);
			for (size_t k = 0; k < rr->nseries; k++) {
				const struct hvt_series *s = &rr->series[k];
				const struct hvt_summary *m = &rr->sum[k];

				if (!m->n || strcmp(s->unit ? s->unit : "", units[u]))
					continue;
				if (!header) {
					fprintf(out, "# TYPE hvtax_median_%s gauge\n", om);
					fprintf(out, "# UNIT hvtax_median_%s %s\n", om, om);
					fprintf(
					    out,
					    "# HELP hvtax_median_%s median of a benchmark metric's "
					    "timed samples\n",
					    om);
					header = 1;
				}
				fprintf(out, "hvtax_median_%s{", om);
				om_label(out, "run", id, 1);
				om_label(out, "run_name", rr->name, 0);
				om_label(out, "target", jstr(rr->info, "target"), 0);
				om_label(out, "bench", s->bench ? s->bench : "", 0);
				om_label(out, "case", s->case_key, 0);
				om_label(out, "metric", s->metric, 0);
				fprintf(out, "} %.17g\n", m->median);
			}
		}
	}
	if (r->has_base) {
		static const char *const fam[] = {"tax", "tax_ci_low", "tax_ci_high"};

		for (size_t f = 0; f < HVT_ARRAY_SIZE(fam); f++) {
			fprintf(out, "# TYPE hvtax_%s_ratio gauge\n# UNIT hvtax_%s_ratio ratio\n",
				fam[f], fam[f]);
			fprintf(out,
				"# HELP hvtax_%s_ratio %s of the tax against the baseline (0.05 = "
				"5%% slower)\n",
				fam[f],
				f == 0	 ? "point estimate"
				: f == 1 ? "CI lower bound"
					 : "CI upper bound");
			for (size_t i = 0; i < r->nruns; i++) {
				char id[32], bid[32];

				if (i == r->base)
					continue;
				snprintf(id, sizeof(id), "%lld", (long long)r->runs[i].id);
				snprintf(bid, sizeof(bid), "%lld", (long long)r->runs[r->base].id);
				for (size_t k = 0; k < r->cmp[i].nrows; k++) {
					const struct hvt_compare_row *w = &r->cmp[i].rows[k];
					const double v = f == 0	  ? w->tax
							 : f == 1 ? w->tax_lo
								  : w->tax_hi;

					if (!isfinite(v))
						continue;
					fprintf(out, "hvtax_%s_ratio{", fam[f]);
					om_label(out, "run", id, 1);
					om_label(out, "baseline_run", bid, 0);
					om_label(out, "run_name", r->runs[i].name, 0);
					om_label(out, "case", w->case_key, 0);
					om_label(out, "metric", w->metric, 0);
					fprintf(out, "} %.17g\n", v);
				}
			}
		}
	}
	fprintf(out, "# EOF\n");
	return ferror(out) ? -EIO : 0;
}

/* ---- command ---- */

static const struct {
	const char *name;
	int (*fn)(const struct hvt_report *, FILE *);
} writers[] = {
    {"text", hvt_report_write_text}, {"md", hvt_report_write_md},
    {"html", hvt_report_write_html}, {"csv", hvt_report_write_csv},
    {"json", hvt_report_write_json}, {"openmetrics", hvt_report_write_openmetrics},
};

enum {
	OPT_BASE = 'b',
	OPT_FORMAT = 'f',
	OPT_OUT = 'o',
	OPT_CHARTS = 'C',
	OPT_CHARTFMT = 'F',
	OPT_DET = 'D',
};

static const struct hvt_opt rep_opts[] = {
	{ "baseline", 0, required_argument, OPT_BASE, "RUN",
	  "taxes against this run (default: the first RUN)" },
	{ "format", 'f', required_argument, OPT_FORMAT, "FMT",
	  "text|md|html|csv|json|openmetrics (default text)" },
	{ "output", 'o', required_argument, OPT_OUT, "FILE", "write to FILE (default stdout)" },
	{ "charts", 0, required_argument, OPT_CHARTS, "DIR",
	  "also write every chart as a file in DIR" },
	{ "chart-format", 0, required_argument, OPT_CHARTFMT, "svg|png|pdf",
	  "format of --charts files (default svg)" },
	{ "deterministic", 0, no_argument, OPT_DET, NULL,
	  "no timestamps or versions (golden files)" },
	HVT_OPT_ROW_DB,
	HVT_OPT_ROW_SEED("bootstrap seed (default 1)"),
	HVT_OPT_ROW_PAIRED,
	HVT_OPT_ROW_HELP,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvtax report RUN... [options]\n"
		   "RUN: run id, label, or exported JSON Lines file.\n");
	hvt_opts_usage(f, rep_opts, HVT_ARRAY_SIZE(rep_opts));
}

static int write_charts(const struct hvt_report *r, const char *dir, enum hvt_chart_format f)
{
	static const char *const ext[] = {"svg", "png", "pdf"};
	struct hvt_report_chart *ch = NULL;
	size_t n = 0;
	int ret;

	if (!hvt_chart_available()) {
		hvt_err("cannot write charts: hvtax was built without cairo");
		return -EOPNOTSUPP;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		hvt_err("cannot create '%s': %s", dir, strerror(errno));
		return -errno;
	}
	ret = hvt_report_charts(r, &ch, &n);
	for (size_t i = 0; !ret && i < n; i++) {
		char *buf = NULL, *path;
		size_t len = 0;
		FILE *fp;

		if (hvt_chart_render(&ch[i].c, f, NULL, &buf, &len)) {
			hvt_warn("chart '%s' not drawn", ch[i].slug);
			continue;
		}
		path = hvt_asprintf("%s/%02zu-%s.%s", dir, i, ch[i].slug, ext[f]);
		fp = path ? fopen(path, "we") : NULL;
		if (!fp || fwrite(buf, 1, len, fp) != len) {
			hvt_err("cannot write '%s': %s", path ? path : dir, strerror(errno));
			ret = -EIO;
		}
		if (fp && fclose(fp) && !ret)
			ret = -EIO;
		free(path);
		free(buf);
	}
	hvt_report_charts_free(ch, n);
	return ret;
}

int hvt_cmd_report(int argc, char **argv)
{
	/* in the order of enum hvt_chart_format */
	static const char *const chart_formats[] = { "svg", "png", "pdf" };
	const char *format_names[HVT_ARRAY_SIZE(writers)];
	struct hvt_getopt go;
	const char *db = hvt_default_db(), *base = NULL, *format = "text", *outpath = NULL,
		   *charts = NULL;
	const char **specs = calloc((size_t)argc + 2, sizeof(*specs));
	int64_t *ids = calloc((size_t)argc + 2, sizeof(*ids)), *uniq;
	enum hvt_chart_format cf = HVT_CHART_SVG;
	int (*writer)(const struct hvt_report *, FILE *) = NULL;
	int opt, det = 0, rc = HVT_EXIT_USAGE, ret;
	struct hvt_compare_opts co;
	struct hvt_report rep;
	struct hvt_runsrc rs;
	size_t n = 0, nu = 0;
	long bidx = -1;
	FILE *out;

	hvt_compare_opts_init(&co);
	if (!specs || !ids) {
		free(specs);
		free(ids);
		return HVT_EXIT_FAIL;
	}
	if (hvt_opts_build(&go, rep_opts, HVT_ARRAY_SIZE(rep_opts), "")) {
		rc = HVT_EXIT_FAIL;
		goto out;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, go.shorts, go.lopts, NULL)) != -1) {
		ret = hvt_opt_compare(opt, optarg, &co);
		if (ret < 0)
			goto out;
		if (ret == 0)
			continue;
		switch (opt) {
		case OPT_BASE:
			base = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_OUT:
			outpath = optarg;
			break;
		case OPT_CHARTS:
			charts = optarg;
			break;
		case OPT_CHARTFMT:
			ret = hvt_opt_choice("chart-format", optarg, chart_formats,
					     HVT_ARRAY_SIZE(chart_formats));
			if (ret < 0)
				goto out;
			cf = (enum hvt_chart_format)ret;
			break;
		case OPT_DET:
			det = 1;
			break;
		case HVT_OPT_DB:
			db = optarg;
			break;
		case HVT_OPT_HELP:
			usage(stdout);
			rc = 0;
			goto out;
		default:
			hvt_opts_bad("report", argv);
			goto out;
		}
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(writers); i++)
		format_names[i] = writers[i].name;
	ret = hvt_opt_choice("format", format, format_names, HVT_ARRAY_SIZE(writers));
	if (ret < 0)
		goto out;
	writer = writers[ret].fn;
	if (base)
		specs[n++] = base;
	for (; optind < argc; optind++)
		specs[n++] = argv[optind];
	if (!n) {
		hvt_err("report needs at least one RUN (see: hvtax report --help)");
		goto out;
	}
	if (hvt_runsrc_open(&rs, db, specs, n, ids))
		goto out;
	/* the same run named twice (as --baseline and RUN) is reported once */
	uniq = ids;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < nu; j++)
			if (uniq[j] == ids[i])
				break;
		if (j == nu)
			uniq[nu++] = ids[i];
	}
	if (nu > 1)
		bidx = 0;
	if (hvt_report_build(&rep, &rs.st, uniq, nu, bidx, &co, det)) {
		rc = HVT_EXIT_FAIL;
		goto out_src;
	}
	out = outpath ? fopen(outpath, "we") : stdout;
	if (!out) {
		hvt_err("cannot create '%s': %s", outpath, strerror(errno));
		rc = HVT_EXIT_FAIL;
		goto out_rep;
	}
	ret = writer(&rep, out);
	if (outpath && fclose(out) && !ret)
		ret = -EIO;
	if (ret) {
		hvt_err("cannot write the report%s%s: %s", outpath ? " to " : "",
			outpath ? outpath : "", strerror(-ret));
		rc = HVT_EXIT_FAIL;
		goto out_rep;
	}
	rc = HVT_EXIT_OK;
	if (charts && write_charts(&rep, charts, cf))
		rc = HVT_EXIT_FAIL;
out_rep:
	hvt_report_free(&rep);
	hvt_chart_cleanup();
out_src:
	hvt_runsrc_close(&rs);
out:
	free(specs);
	free(ids);
	return rc;
}
