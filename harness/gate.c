/* SPDX-License-Identifier: MIT */
/* The CI regression gate: thresholds, verdicts per case and metric, Markdown and JUnit output. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/units.h"
#include "../common/util.h"
#include "../bench/params.h"
#include "gate.h"
#include "opts.h"
#include "report_ini.h"
#include "report_src.h"
#include "runs.h"

/* ---- thresholds ---- */

void hvt_thresholds_init(struct hvt_thresholds *t, double def)
{
	memset(t, 0, sizeof(*t));
	t->def = def;
}

void hvt_thresholds_free(struct hvt_thresholds *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->rules[i].pattern);
		free(t->rules[i].metric);
		free(t->rules[i].where);
	}
	free(t->rules);
	t->rules = NULL;
	t->n = 0;
}

static int parse_threshold(const char *value, const char *where, double *frac)
{
	if (hvt_parse_percent(value, frac) || *frac < 0.0 || *frac > 100.0) {
		hvt_err("%s: invalid threshold '%s': expected a percentage such as 5%% or 0.05",
			where, value);
		return -EINVAL;
	}
	return 0;
}

int hvt_thresholds_add(struct hvt_thresholds *t, const char *key, const char *value,
		       const char *where)
{
	struct hvt_threshold_rule *r, *rules;
	const char *colon = strrchr(key, ':');
	double frac;

	if (parse_threshold(value, where, &frac))
		return -EINVAL;
	if (!*key || colon == key || (colon && !colon[1])) {
		hvt_err("%s: invalid threshold key '%s': expected PATTERN or PATTERN:METRIC", where,
			key);
		return -EINVAL;
	}
	rules = realloc(t->rules, (t->n + 1) * sizeof(*rules));
	if (!rules) {
		hvt_err("cannot add threshold: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	t->rules = rules;
	r = &rules[t->n];
	r->pattern = colon ? strndup(key, (size_t)(colon - key)) : strdup(key);
	r->metric = strdup(colon ? colon + 1 : "*");
	r->where = strdup(where);
	r->frac = frac;
	if (!r->pattern || !r->metric || !r->where) {
		free(r->pattern);
		free(r->metric);
		free(r->where);
		hvt_err("cannot add threshold: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

static int thr_cb(void *ctx, const char *section, const char *key, const char *value,
		  const char *file, int line)
{
	struct hvt_thresholds *t = ctx;
	char where[512];

	snprintf(where, sizeof(where), "%s:%d", file, line);
	if (strcmp(section, "thresholds")) {
		hvt_err("%s: unknown section '%s' (expected [thresholds])", where, section);
		return -EINVAL;
	}
	if (!strcmp(key, "default"))
		return parse_threshold(value, where, &t->def);
	return hvt_thresholds_add(t, key, value, where);
}

int hvt_thresholds_load(struct hvt_thresholds *t, const char *path)
{
	return hvt_ini_parse(path, thr_cb, t);
}

static int glob_match(const char *pat, const char *s)
{
	return s && fnmatch(pat, s, 0) == 0;
}

double hvt_thresholds_lookup(const struct hvt_thresholds *t, const char *case_key,
			     const char *bench, const char *metric,
			     const struct hvt_threshold_rule **rule)
{
	char family[128];

	snprintf(family, sizeof(family), "%.*s", (int)strcspn(bench ? bench : case_key, ".?"),
		 bench ? bench : case_key);
	for (size_t i = 0; i < t->n; i++) {
		const struct hvt_threshold_rule *r = &t->rules[i];

		if (!glob_match(r->metric, metric))
			continue;
		if (glob_match(r->pattern, case_key) || glob_match(r->pattern, bench) ||
		    glob_match(r->pattern, family)) {
			if (rule)
				*rule = r;
			return r->frac;
		}
	}
	if (rule)
		*rule = NULL;
	return t->def;
}

/* ---- decisions ---- */

const char *hvt_gate_verdict_name(enum hvt_gate_verdict v)
{
	static const char *const names[] = {"pass",	 "REGRESSED", "improved",
					    "undefined", "missing",   "new"};

	return (size_t)v < HVT_ARRAY_SIZE(names) ? names[v] : "?";
}

void hvt_gate_free(struct hvt_gate *g)
{
	free(g->items);
	memset(g, 0, sizeof(*g));
}

static int item_rank(const struct hvt_gate_item *it)
{
	if (it->fails)
		return 0;
	switch (it->verdict) {
	case HVT_GATE_MISSING:
	case HVT_GATE_UNDEF:
		return 1;
	case HVT_GATE_IMPROVED:
		return 2;
	default:
		return 3;
	}
}

int hvt_gate_decide(struct hvt_gate *g, const struct hvt_compare *c, const struct hvt_thresholds *t,
		    int missing_fail)
{
	const size_t total = c->nrows + c->n_only_base + c->n_only_cand;
	struct hvt_gate_item *sorted;
	size_t k = 0;

	memset(g, 0, sizeof(*g));
	g->cmp = c;
	g->missing_fail = missing_fail;
	g->items = hvt_calloc(total ? total : 1, sizeof(*g->items));
	sorted = hvt_calloc(total ? total : 1, sizeof(*sorted));
	if (!g->items || !sorted) {
		free(sorted);
		hvt_gate_free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nrows; i++) {
		const struct hvt_compare_row *r = &c->rows[i];
		struct hvt_gate_item *it = &g->items[k++];

		it->row = r;
		it->case_key = r->case_key;
		it->metric = r->metric;
		it->threshold = hvt_thresholds_lookup(t, r->case_key, r->bench, r->metric, NULL);
		if ((r->flags & (HVT_CMP_UNDEF | HVT_CMP_MISMATCH)) || !isfinite(r->tax_lo) ||
		    !isfinite(r->tax_hi)) {
			it->verdict = HVT_GATE_UNDEF;
			g->n_undef++;
		} else if (r->tax_lo > it->threshold) {
			it->verdict = HVT_GATE_REGRESSED;
			it->fails = 1;
			g->n_regressed++;
		} else if (r->tax_hi < -it->threshold) {
			it->verdict = HVT_GATE_IMPROVED;
			g->n_improved++;
		} else {
			it->verdict = HVT_GATE_PASS;
			g->n_pass++;
		}
	}
	for (size_t i = 0; i < c->n_only_base; i++) {
		struct hvt_gate_item *it = &g->items[k++];

		it->case_key = c->only_base[i].case_key;
		it->metric = c->only_base[i].metric;
		it->threshold = NAN;
		it->verdict = HVT_GATE_MISSING;
		it->fails = missing_fail;
		g->n_missing++;
	}
	for (size_t i = 0; i < c->n_only_cand; i++) {
		struct hvt_gate_item *it = &g->items[k++];

		it->case_key = c->only_cand[i].case_key;
		it->metric = c->only_cand[i].metric;
		it->threshold = NAN;
		it->verdict = HVT_GATE_NEW;
		g->n_new++;
	}
	g->n = k;
	/* stable: failures first, then what needs a look, then the rest, each in input order */
	{
		size_t m = 0;

		for (int rank = 0; rank <= 3; rank++)
			for (size_t i = 0; i < k; i++)
				if (item_rank(&g->items[i]) == rank)
					sorted[m++] = g->items[i];
	}
	free(g->items);
	g->items = sorted;
	for (size_t i = 0; i < k; i++)
		g->failed |= g->items[i].fails;
	return 0;
}

/* ---- output ---- */

static void fmt_pct(char *buf, size_t len, double frac)
{
	if (isfinite(frac))
		snprintf(buf, len, "%+.1f%%", frac * 100.0);
	else
		snprintf(buf, len, "n/a");
}

/* "+98.1% [+90.2%, +105.3%]" */
static void fmt_tax_ci(char *buf, size_t len, const struct hvt_compare_row *r)
{
	char t[16], lo[16], hi[16];

	fmt_pct(t, sizeof(t), r->tax);
	fmt_pct(lo, sizeof(lo), r->tax_lo);
	fmt_pct(hi, sizeof(hi), r->tax_hi);
	snprintf(buf, len, "%s [%s, %s]", t, lo, hi);
}

static void fmt_thr(char *buf, size_t len, double thr)
{
	if (isfinite(thr))
		snprintf(buf, len, "%.1f%%", thr * 100.0);
	else
		snprintf(buf, len, "-");
}

static const char *run_name(const char *name, int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s (run %lld)", name ? name : "?", (long long)id);
	return buf;
}

/* One sentence per failing item, used by text, Markdown and JUnit alike. */
static void fmt_reason(char *buf, size_t len, const struct hvt_gate *g,
		       const struct hvt_gate_item *it)
{
	char tc[64], thr[16];
	char *label = hvt_case_label(it->case_key);
	const char *ck = label ? label : it->case_key;

	fmt_thr(thr, sizeof(thr), it->threshold);
	switch (it->verdict) {
	case HVT_GATE_REGRESSED:
	case HVT_GATE_IMPROVED:
	case HVT_GATE_PASS:
		fmt_tax_ci(tc, sizeof(tc), it->row);
		snprintf(buf, len, "metric '%s' of %s: tax %s (%g%% CI), threshold %s%s%s",
			 it->metric, ck, tc, g->cmp->opts.level * 100.0, thr,
			 it->verdict == HVT_GATE_REGRESSED  ? ": CI lower bound above the threshold"
			 : it->verdict == HVT_GATE_IMPROVED ? ": faster beyond the threshold"
							    : "",
			 it->row->flags & HVT_CMP_RESOLVED
			     ? " (different work: its automatic parameters resolved differently)"
			     : "");
		break;
	case HVT_GATE_UNDEF:
		snprintf(buf, len, "metric '%s' of %s: tax undefined (zero median or bad values)",
			 it->metric, ck);
		break;
	case HVT_GATE_MISSING:
		snprintf(buf, len, "metric '%s' of %s: in the baseline, missing from the candidate",
			 it->metric, ck);
		break;
	case HVT_GATE_NEW:
		snprintf(buf, len, "metric '%s' of %s: in the candidate only", it->metric, ck);
		break;
	}
	free(label);
}

void hvt_gate_print(const struct hvt_gate *g, FILE *out)
{
	char b[256], c[256];

	fprintf(out, "gate: %s against baseline %s: %s\n",
		run_name(g->cand_name, g->cmp->cand_id, c, sizeof(c)),
		run_name(g->base_name, g->cmp->base_id, b, sizeof(b)),
		g->failed ? "FAILED" : "passed");
	fprintf(out,
		"%zu series: %zu regressed, %zu improved, %zu within threshold, %zu undefined, "
		"%zu missing%s, %zu new\n",
		g->n, g->n_regressed, g->n_improved, g->n_pass, g->n_undef, g->n_missing,
		g->missing_fail ? " (counted as failures)" : "", g->n_new);
	for (size_t i = 0; i < g->n; i++) {
		const struct hvt_gate_item *it = &g->items[i];
		char reason[1024];

		if (it->verdict == HVT_GATE_PASS)
			continue;
		fmt_reason(reason, sizeof(reason), g, it);
		fprintf(out, "  %-9s %s\n", hvt_gate_verdict_name(it->verdict), reason);
	}
}

static void md_row(FILE *out, const struct hvt_gate *g, const struct hvt_gate_item *it)
{
	char tc[64] = "-", thr[16], mb[32] = "-", mc[32] = "-", p[16] = "-";
	const char *icon = it->fails			      ? ":x:"
			   : it->verdict == HVT_GATE_IMPROVED ? ":rocket:"
			   : it->verdict == HVT_GATE_PASS     ? ":white_check_mark:"
							      : ":warning:";

	(void)g;
	fmt_thr(thr, sizeof(thr), it->threshold);
	if (it->row) {
		fmt_tax_ci(tc, sizeof(tc), it->row);
		hvt_fmt_value(mb, sizeof(mb), it->row->median_base, it->row->unit);
		hvt_fmt_value(mc, sizeof(mc), it->row->median_cand, it->row->unit);
		if (isfinite(it->row->p))
			snprintf(p, sizeof(p), it->row->p < 0.001 ? "<0.001" : "%.3f", it->row->p);
	}
	fprintf(out, "| %s %s | `", icon, hvt_gate_verdict_name(it->verdict));
	{
		char *label = hvt_case_label(it->case_key);

		hvt_fput_md(out, label ? label : it->case_key);
		free(label);
	}
	fprintf(out, "` | %s | %s | %s | %s | %s | %s |\n", it->metric, mb, mc, tc, thr, p);
}

void hvt_gate_write_markdown(const struct hvt_gate *g, FILE *out)
{
	static const char hdr[] = "| verdict | case | metric | baseline | candidate | tax [CI] | "
				  "threshold | p |\n|---|---|---|---:|---:|---|---:|---:|\n";
	char b[256], c[256];
	size_t shown = 0;

	fprintf(out, "## hvtax gate: %s\n\n",
		g->failed ? ":x: regression" : ":white_check_mark: no regression");
	fprintf(out, "Candidate **");
	hvt_fput_md(out, run_name(g->cand_name, g->cmp->cand_id, c, sizeof(c)));
	fprintf(out, "** against baseline **");
	hvt_fput_md(out, run_name(g->base_name, g->cmp->base_id, b, sizeof(b)));
	fprintf(out,
		"**: %zu series, **%zu regressed**, %zu improved, %zu within threshold, "
		"%zu undefined, %zu missing%s, %zu new.\n\n",
		g->n, g->n_regressed, g->n_improved, g->n_pass, g->n_undef, g->n_missing,
		g->missing_fail ? " (failing)" : "", g->n_new);
	fprintf(out,
		"A metric regresses when the lower bound of its tax's %g%% bootstrap confidence "
		"interval (%u resamples, seed %llu) is above its threshold; tax > 0 means the "
		"candidate is slower.\n\n",
		g->cmp->opts.level * 100.0, g->cmp->opts.resamples,
		(unsigned long long)g->cmp->opts.seed);
	for (size_t i = 0; i < g->n; i++)
		if (g->items[i].verdict != HVT_GATE_PASS && g->items[i].verdict != HVT_GATE_NEW) {
			if (!shown++)
				fputs(hdr, out);
			md_row(out, g, &g->items[i]);
		}
	if (shown)
		fputc('\n', out);
	if (g->n - shown > 0) {
		fprintf(out, "<details><summary>%s (%zu)</summary>\n\n",
			shown ? "other series" : "all series", g->n - shown);
		fputs(hdr, out);
		for (size_t i = 0; i < g->n; i++)
			if (g->items[i].verdict == HVT_GATE_PASS ||
			    g->items[i].verdict == HVT_GATE_NEW)
				md_row(out, g, &g->items[i]);
		fprintf(out, "\n</details>\n");
	}
	if (g->cmp->nfamilies) {
		fprintf(out, "\n| family | geomean tax | metrics |\n|---|---:|---:|\n");
		for (size_t f = 0; f < g->cmp->nfamilies; f++) {
			char t[16];

			fmt_pct(t, sizeof(t), g->cmp->families[f].geomean_tax);
			fprintf(out, "| %s | %s | %zu |\n", g->cmp->families[f].family, t,
				g->cmp->families[f].n);
		}
	}
}

void hvt_gate_write_junit(const struct hvt_gate *g, FILE *out)
{
	size_t nfail = 0, nskip = 0;

	for (size_t i = 0; i < g->n; i++) {
		nfail += (size_t)g->items[i].fails;
		nskip += !g->items[i].fails && (g->items[i].verdict == HVT_GATE_MISSING ||
						g->items[i].verdict == HVT_GATE_UNDEF ||
						g->items[i].verdict == HVT_GATE_NEW);
	}
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out,
		"<testsuites name=\"hvtax gate\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n",
		g->n, nfail, nskip);
	fprintf(out, "  <testsuite name=\"hvtax gate: ");
	hvt_fput_xml(out, g->cand_name);
	fprintf(out, " vs ");
	hvt_fput_xml(out, g->base_name);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", g->n,
		nfail, nskip);
	for (size_t i = 0; i < g->n; i++) {
		const struct hvt_gate_item *it = &g->items[i];
		char reason[1024], cls[160];
		char *label = hvt_case_label(it->case_key);

		fmt_reason(reason, sizeof(reason), g, it);
		snprintf(cls, sizeof(cls), "hvtax.%.*s", (int)strcspn(it->case_key, "?"),
			 it->case_key);
		fprintf(out, "    <testcase classname=\"");
		hvt_fput_xml(out, cls);
		fprintf(out, "\" name=\"");
		/* the readable label names the test; the full case key goes in a property */
		hvt_fput_xml(out, label ? label : it->case_key);
		fputc(':', out);
		hvt_fput_xml(out, it->metric);
		fprintf(out, "\" time=\"0\">\n      <properties><property name=\"case\" value=\"");
		hvt_fput_xml(out, it->case_key);
		fprintf(out, "\"/></properties>");
		free(label);
		if (it->fails) {
			fprintf(out, "\n      <failure type=\"%s\" message=\"",
				it->verdict == HVT_GATE_MISSING ? "missing" : "regression");
			hvt_fput_xml(out, reason);
			fprintf(out, "\">");
			hvt_fput_xml(out, reason);
			fprintf(out, "</failure>\n    </testcase>\n");
		} else if (it->verdict == HVT_GATE_MISSING || it->verdict == HVT_GATE_UNDEF ||
			   it->verdict == HVT_GATE_NEW) {
			fprintf(out, "\n      <skipped message=\"");
			hvt_fput_xml(out, reason);
			fprintf(out, "\"/>\n    </testcase>\n");
		} else {
			fprintf(out, "\n      <system-out>");
			hvt_fput_xml(out, reason);
			fprintf(out, "</system-out>\n    </testcase>\n");
		}
	}
	fprintf(out, "  </testsuite>\n</testsuites>\n");
}

/* ---- command ---- */

enum {
	OPT_BASE = 'b',
	OPT_CAND = 'c',
	OPT_THR = 't',
	OPT_THRFILE = 'T',
	OPT_MISSING = 'm',
	OPT_JUNIT = 'j',
	OPT_MD = 'M',
	OPT_QUIET = 'q',
};

static const struct hvt_opt gate_opts[] = {
	{ "baseline", 0, required_argument, OPT_BASE, "B",
	  "baseline: run id, label, or exported JSON Lines file" },
	{ "candidate", 0, required_argument, OPT_CAND, "C",
	  "candidate: run id, label, or exported JSON Lines file" },
	{ "threshold", 0, required_argument, OPT_THR, "PCT", "default threshold (default 5%)" },
	{ "thresholds", 0, required_argument, OPT_THRFILE, "FILE",
	  "per-metric thresholds ([thresholds] INI)" },
	{ "missing", 0, required_argument, OPT_MISSING, "fail|warn",
	  "series missing from the candidate (default warn)" },
	{ "junit", 0, required_argument, OPT_JUNIT, "FILE",
	  "write JUnit XML (one testcase per case and metric)" },
	{ "markdown", 0, required_argument, OPT_MD, "FILE",
	  "write a Markdown summary (for a pull-request comment)" },
	HVT_OPT_ROW_DB,
	HVT_OPT_ROW_SEED("bootstrap seed (default 1)"),
	HVT_OPT_ROW_LEVEL,
	HVT_OPT_ROW_RESAMPLES,
	HVT_OPT_ROW_PAIRED,
	{ "quiet", 'q', no_argument, OPT_QUIET, NULL, "no summary on stdout" },
	HVT_OPT_ROW_HELP,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvtax gate --baseline B --candidate C [options]\n"
		   "Fails when a metric's tax is above its threshold with confidence: the lower\n"
		   "bound of the tax's confidence interval exceeds the threshold.\n");
	hvt_opts_usage(f, gate_opts, HVT_ARRAY_SIZE(gate_opts));
	fprintf(f, "exit status: 0 no regression, 1 regression (or missing series with "
		   "--missing fail),\n             2 usage or data error (run not found, no common "
		   "series)\n");
}

static int write_to(const char *path, void (*fn)(const struct hvt_gate *, FILE *),
		    const struct hvt_gate *g)
{
	FILE *f = fopen(path, "we");

	if (!f) {
		hvt_err("cannot create '%s': %s", path, strerror(errno));
		return -errno;
	}
	fn(g, f);
	if (fclose(f)) {
		hvt_err("cannot write '%s': %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

int hvt_cmd_gate(int argc, char **argv)
{
	static const char *const missing_choices[] = { "fail", "warn" };
	struct hvt_getopt go;
	const char *base = NULL, *cand = NULL, *thrfile = NULL, *junit = NULL, *md = NULL;
	const char *db = hvt_default_db(), *thr_arg = NULL;
	struct hvt_compare_opts co;
	struct hvt_thresholds thr;
	struct hvt_runsrc rs;
	struct hvt_compare cmp;
	struct hvt_gate g;
	int missing_fail = 0, quiet = 0, opt, r, rc = HVT_EXIT_USAGE;
	int64_t ids[2];

	hvt_compare_opts_init(&co);
	hvt_thresholds_init(&thr, HVT_GATE_THRESHOLD_DEFAULT);
	if (hvt_opts_build(&go, gate_opts, HVT_ARRAY_SIZE(gate_opts), "")) {
		rc = HVT_EXIT_FAIL;
		goto out;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, go.shorts, go.lopts, NULL)) != -1) {
		r = hvt_opt_compare(opt, optarg, &co);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		switch (opt) {
		case OPT_BASE:
			base = optarg;
			break;
		case OPT_CAND:
			cand = optarg;
			break;
		case OPT_THR:
			thr_arg = optarg;
			if (parse_threshold(optarg, "--threshold", &thr.def))
				goto out;
			break;
		case OPT_THRFILE:
			thrfile = optarg;
			break;
		case OPT_MISSING:
			r = hvt_opt_choice("missing", optarg, missing_choices, 2);
			if (r < 0)
				goto out;
			missing_fail = r == 0;
			break;
		case OPT_JUNIT:
			junit = optarg;
			break;
		case OPT_MD:
			md = optarg;
			break;
		case HVT_OPT_DB:
			db = optarg;
			break;
		case OPT_QUIET:
			quiet = 1;
			break;
		case HVT_OPT_HELP:
			usage(stdout);
			rc = 0;
			goto out;
		default:
			hvt_opts_bad("gate", argv);
			goto out;
		}
	}
	if (optind < argc) {
		hvt_err("unexpected argument '%s' (see: hvtax gate --help)", argv[optind]);
		goto out;
	}
	if (!base || !cand) {
		hvt_err("gate needs --baseline and --candidate (see: hvtax gate --help)");
		goto out;
	}
	if (thrfile) {
		/* the file's default yields to an explicit --threshold */
		double def = thr.def;

		if (hvt_thresholds_load(&thr, thrfile))
			goto out;
		if (thr_arg)
			thr.def = def;
	}
	{
		const char *specs[2] = {base, cand};

		if (hvt_runsrc_open(&rs, db, specs, 2, ids))
			goto out; /* reported; a missing run or a bad file is a data error */
	}
	if (hvt_compare_runs(&rs.st, ids[0], ids[1], &co, &cmp)) {
		rc = HVT_EXIT_FAIL;
		goto out_src;
	}
	if (cmp.nrows == 0) {
		hvt_err("no common case and metric between baseline '%s' and candidate '%s'", base,
			cand);
		goto out_cmp;
	}
	if (hvt_gate_decide(&g, &cmp, &thr, missing_fail)) {
		rc = HVT_EXIT_FAIL;
		goto out_cmp;
	}
	g.base_name = base;
	g.cand_name = cand;
	if (!quiet)
		hvt_gate_print(&g, stdout);
	rc = g.failed ? HVT_EXIT_FAIL : HVT_EXIT_OK;
	if (junit && write_to(junit, hvt_gate_write_junit, &g))
		rc = HVT_EXIT_USAGE;
	if (md && write_to(md, hvt_gate_write_markdown, &g))
		rc = HVT_EXIT_USAGE;
	hvt_gate_free(&g);
out_cmp:
	hvt_compare_free(&cmp);
out_src:
	hvt_runsrc_close(&rs);
out:
	hvt_thresholds_free(&thr);
	return rc;
}
