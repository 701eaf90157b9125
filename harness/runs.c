/* SPDX-License-Identifier: MIT */
/* The store's commands: hvtax runs, show, export, import. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/units.h"
#include "../common/util.h"
#include "../bench/params.h"
#include "export.h"
#include "opts.h"
#include "runs.h"
#include "stats.h"
#include "store.h"

const char *hvt_default_db(void)
{
	const char *env = getenv("HVTAX_DB");

	return env && *env ? env : HVT_DEFAULT_DB;
}

/* ---- options shared by the commands ---- */

enum { OPT_OUTPUT = 'o', OPT_LABEL = 0x200 };

/* Every command takes --db and --help; export and import one more each (struct cmd.extra). */
static const struct hvt_opt runs_opts[] = {
	HVT_OPT_ROW_DB,
	{ "output", 'o', required_argument, OPT_OUTPUT, "FILE", "write to FILE (default: stdout)" },
	{ "label", 0, required_argument, OPT_LABEL, "L",
	  "label of the new run (default: the file's own)" },
	HVT_OPT_ROW_HELP,
};

struct cmd {
	const char *name;
	const char *args;  /* usage after the name */
	const char *about; /* lines between the usage line and the options */
	int extra;	   /* the val of the one option only this command takes, or 0 */
	int npos;	   /* positional arguments required */
	const char *db;
	const char *out;
	const char *label;
	char **pos;
};

static void usage(const struct cmd *c, FILE *f)
{
	struct hvt_opt rows[HVT_ARRAY_SIZE(runs_opts)];
	size_t n = 0;

	for (size_t i = 0; i < HVT_ARRAY_SIZE(runs_opts); i++)
		if (runs_opts[i].val == HVT_OPT_DB || runs_opts[i].val == HVT_OPT_HELP ||
		    runs_opts[i].val == c->extra)
			rows[n++] = runs_opts[i];
	fprintf(f, "usage: hvtax %s %s\n%s", c->name, c->args, c->about ? c->about : "");
	hvt_opts_usage(f, rows, n);
}

/* 0 to go on, else the exit code (help printed, or usage error reported). */
static int parse(struct cmd *c, int argc, char **argv, int *exit_code)
{
	struct hvt_getopt go;
	int o;

	c->db = hvt_default_db();
	if (hvt_opts_build(&go, runs_opts, HVT_ARRAY_SIZE(runs_opts), "")) {
		*exit_code = HVT_EXIT_FAIL;
		return 1;
	}
	optind = 0; /* full reset: commands may run more than once per process */
	opterr = 0;
	while ((o = getopt_long(argc, argv, go.shorts, go.lopts, NULL)) != -1) {
		if ((o == OPT_OUTPUT || o == OPT_LABEL) && o != c->extra)
			goto not_here;
		switch (o) {
		case HVT_OPT_DB:
			c->db = optarg;
			break;
		case OPT_OUTPUT:
			c->out = optarg;
			break;
		case OPT_LABEL:
			c->label = optarg;
			break;
		case HVT_OPT_HELP:
			usage(c, stdout);
			*exit_code = HVT_EXIT_OK;
			return 1;
		default:
			goto bad_opt;
		}
	}
	if (argc - optind != c->npos) {
		hvt_err("%s: expected %d argument%s, got %d", c->name, c->npos,
			c->npos == 1 ? "" : "s", argc - optind);
		usage(c, stderr);
		*exit_code = HVT_EXIT_USAGE;
		return 1;
	}
	c->pos = argv + optind;
	return 0;

not_here:
	hvt_err("%s: option '%s' does not apply here", c->name, o == 'o' ? "-o" : "--label");
	usage(c, stderr);
	*exit_code = HVT_EXIT_USAGE;
	return 1;
bad_opt:
	if (optopt && optopt < 256 && o == '?')
		hvt_err("%s: unknown option '-%c'", c->name, optopt);
	else
		hvt_err("%s: unknown or misplaced option '%s'", c->name, argv[optind - 1]);
	usage(c, stderr);
	*exit_code = HVT_EXIT_USAGE;
	return 1;
}

/* Open an existing database (reading commands do not create one). 0 or exit code. */
static int open_existing(struct hvt_store *st, const char *db)
{
	if (access(db, F_OK)) {
		hvt_err(
		    "no database at '%s' (run 'hvtax run' or 'hvtax import' first, or give --db)",
		    db);
		return HVT_EXIT_FAIL;
	}
	return hvt_store_open(st, db) ? HVT_EXIT_FAIL : 0;
}

/* ---- a small text table ---- */

#define MAX_COLS 12

struct table {
	int ncols;
	const char *align; /* 'l' or 'r' per column */
	char **cell;	   /* nrows * ncols */
	size_t nrows, cap;
};

static int table_add(struct table *t, ...)
{
	va_list ap;

	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 32;
		char **nc = realloc(t->cell, ncap * (size_t)t->ncols * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		t->cell = nc;
		t->cap = ncap;
	}
	va_start(ap, t);
	for (int i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		t->cell[t->nrows * (size_t)t->ncols + (size_t)i] = strdup(s ? s : "-");
	}
	va_end(ap);
	t->nrows++;
	return 0;
}

static void table_print(struct table *t, FILE *f)
{
	size_t w[MAX_COLS] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cell[r * (size_t)t->ncols + (size_t)c];
			size_t n = s ? strlen(s) : 1;

			w[c] = n > w[c] ? n : w[c];
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cell[r * (size_t)t->ncols + (size_t)c];
			int last = c == t->ncols - 1;

			if (!s)
				s = "?";
			if (t->align[c] == 'r')
				fprintf(f, "%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
}

/* ---- hvtax runs ---- */

static const char *str_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

int hvt_cmd_runs(int argc, char **argv)
{
	static const char sql[] =
	    "SELECT id, label, target, suite, status, started, fingerprint, "
	    "(SELECT COUNT(DISTINCT case_id) FROM results_extra WHERE run_id = runs.id), "
	    "(SELECT COUNT(*) FROM samples WHERE run_id = runs.id) FROM runs ORDER BY id";
	struct cmd c = {.name = "runs", .args = "[--db FILE]"};
	struct table t = {.ncols = 10, .align = "rllllllrrl"};
	struct hvt_store st;
	sqlite3_stmt *s = NULL;
	int code, rc;

	if (parse(&c, argc, argv, &code))
		return code;
	code = open_existing(&st, c.db);
	if (code)
		return code;
	if (sqlite3_prepare_v2(st.db, sql, -1, &s, NULL) != SQLITE_OK) {
		hvt_err("database '%s': %s", c.db, sqlite3_errmsg(st.db));
		code = HVT_EXIT_FAIL;
		goto out;
	}
	table_add(&t, "ID", "LABEL", "TARGET", "SUITE", "STATUS", "STARTED", "HYPERVISOR", "CASES",
		  "SAMPLES", "KIND");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *fpt = (const char *)sqlite3_column_text(s, 6);
		json_t *fp = fpt ? json_loads(fpt, 0, NULL) : NULL;
		char id[32], nc[32], ns[32];

		snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(s, 0));
		snprintf(nc, sizeof(nc), "%lld", (long long)sqlite3_column_int64(s, 7));
		snprintf(ns, sizeof(ns), "%lld", (long long)sqlite3_column_int64(s, 8));
		rc =
		    table_add(&t, id, (const char *)sqlite3_column_text(s, 1),
			      (const char *)sqlite3_column_text(s, 2),
			      (const char *)sqlite3_column_text(s, 3),
			      (const char *)sqlite3_column_text(s, 4),
			      (const char *)sqlite3_column_text(s, 5),
			      str_at(fp, "virt", "hypervisor"), nc, ns, str_at(fp, "virt", "kind"));
		json_decref(fp);
		if (rc) {
			hvt_err("out of memory");
			code = HVT_EXIT_FAIL;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		hvt_err("database '%s': %s", c.db, sqlite3_errmsg(st.db));
		code = HVT_EXIT_FAIL;
		goto out;
	}
	if (t.nrows == 1)
		printf("no runs in '%s'\n", c.db);
	else
		table_print(&t, stdout);
out:
	sqlite3_finalize(s);
	table_free(&t);
	hvt_store_close(&st);
	return code;
}

/* ---- hvtax show ---- */

static void show_env(json_t *fp)
{
	static const struct {
		const char *label, *a, *b;
	} items[] = {
	    {"hypervisor", "virt", "hypervisor"}, {"kind", "virt", "kind"},
	    {"cpu", "cpu", "model_name"},	  {"kernel", "kernel", "release"},
	    {"hostname", "hostname", NULL},
	};
	json_t *clk = json_object_get(json_object_get(fp, "kernel"), "clocksource");
	json_t *emu = json_object_get(json_object_get(fp, "virt"), "emulated");
	json_t *ct = json_object_get(json_object_get(fp, "virt"), "container");

	if (!json_is_object(fp)) {
		printf("environment: no fingerprint recorded\n");
		return;
	}
	printf("environment:\n");
	for (size_t i = 0; i < HVT_ARRAY_SIZE(items); i++) {
		const char *v = str_at(fp, items[i].a, items[i].b);

		if (v)
			printf("  %-12s %s\n", items[i].label, v);
	}
	if (json_is_boolean(emu))
		printf("  %-12s %s\n", "emulated",
		       json_is_true(emu) ? "yes (no hardware acceleration)" : "no");
	if (json_is_boolean(ct))
		printf("  %-12s %s\n", "container", json_is_true(ct) ? "yes" : "no");
	if (json_is_string(clk))
		printf("  %-12s %s\n", "clocksource", json_string_value(clk));
	else if (json_is_string(json_object_get(clk, "current")))
		printf("  %-12s %s\n", "clocksource",
		       json_string_value(json_object_get(clk, "current")));
}

static void print_kv(const char *k, json_t *info, const char *key)
{
	json_t *v = json_object_get(info, key);

	if (json_is_string(v))
		printf("%-12s %s\n", k, json_string_value(v));
	else if (json_is_integer(v))
		printf("%-12s %lld\n", k, (long long)json_integer_value(v));
}

static int show_series(struct hvt_store *st, int64_t id)
{
	struct table t = {.ncols = 8, .align = "llrrrrrl"};
	struct hvt_series *se = NULL;
	size_t n = 0;
	int ret;

	ret = hvt_store_series(st, id, &se, &n);
	if (ret)
		return ret;
	table_add(&t, "CASE", "METRIC", "N", "MEDIAN", "MIN", "MAX", "CV", "BETTER");
	for (size_t i = 0; i < n && !ret; i++) {
		struct hvt_summary sum;
		char nb[32], med[48], mn[48], mx[48], cv[32];

		if (hvt_stats_summary(se[i].v, se[i].n, &sum))
			continue;
		snprintf(nb, sizeof(nb), "%zu", sum.n);
		hvt_fmt_value(med, sizeof(med), sum.median, se[i].unit);
		hvt_fmt_value(mn, sizeof(mn), sum.min, se[i].unit);
		hvt_fmt_value(mx, sizeof(mx), sum.max, se[i].unit);
		if (sum.n > 1)
			snprintf(cv, sizeof(cv), "%.2f%%", sum.cv * 100.0);
		else
			snprintf(cv, sizeof(cv), "-");
		{
			char *label = hvt_case_label(se[i].case_key);

			ret = label ? table_add(&t, label, se[i].metric, nb, med, mn, mx, cv,
						se[i].higher_better ? "higher" : "lower")
				    : -ENOMEM;
			free(label);
		}
	}
	if (n)
		table_print(&t, stdout);
	else
		printf("no samples\n");
	table_free(&t);
	hvt_series_free(se, n);
	return ret;
}

int hvt_cmd_show(int argc, char **argv)
{
	struct cmd c = {.name = "show", .args = "RUN [--db FILE]", .npos = 1};
	json_t *info = NULL, *skips = NULL, *errs = NULL, *v;
	struct hvt_store st;
	int64_t id;
	size_t i;
	int code;

	if (parse(&c, argc, argv, &code))
		return code;
	code = open_existing(&st, c.db);
	if (code)
		return code;
	if (hvt_store_resolve(&st, c.pos[0], &id)) {
		code = HVT_EXIT_USAGE;
		goto out;
	}
	info = hvt_store_run_info(&st, id);
	skips = hvt_store_run_skips(&st, id);
	errs = hvt_store_run_errors(&st, id);
	code = HVT_EXIT_FAIL;
	if (!info || !skips || !errs)
		goto out;
	print_kv("run", info, "id");
	print_kv("label", info, "label");
	print_kv("target", info, "target");
	print_kv("suite", info, "suite");
	print_kv("status", info, "status");
	print_kv("started", info, "started");
	print_kv("ended", info, "ended");
	print_kv("version", info, "version");
	print_kv("commit", info, "commit");
	print_kv("host", info, "host");
	print_kv("source", info, "source");
	print_kv("seed", info, "seed");
	print_kv("uuid", info, "uuid");
	printf("%-12s %lld cases, %lld samples, %zu skipped, %zu errors\n", "contents",
	       (long long)json_integer_value(json_object_get(info, "ncases")),
	       (long long)json_integer_value(json_object_get(info, "nsamples")),
	       json_array_size(skips), json_array_size(errs));
	show_env(json_object_get(info, "fingerprint"));
	putchar('\n');
	if (show_series(&st, id))
		goto out;
	if (json_array_size(skips))
		printf("\nskipped:\n");
	json_array_foreach (skips, i, v) {
		char *label = hvt_case_label(str_at(v, "case", NULL) ? str_at(v, "case", NULL) : "");

		printf("  %s: %s\n", label ? label : "?", str_at(v, "reason", NULL));
		free(label);
	}
	if (json_array_size(errs))
		printf("\nerrors:\n");
	json_array_foreach (errs, i, v) {
		char *ck = str_at(v, "case", NULL) ? hvt_case_label(str_at(v, "case", NULL)) : NULL;
		json_t *r = json_object_get(v, "round");

		if (ck && json_is_integer(r))
			printf("  %s (round %lld): %s\n", ck, (long long)json_integer_value(r),
			       str_at(v, "message", NULL));
		else if (ck)
			printf("  %s: %s\n", ck, str_at(v, "message", NULL));
		else
			printf("  %s\n", str_at(v, "message", NULL));
		free(ck);
	}
	code = HVT_EXIT_OK;
out:
	json_decref(info);
	json_decref(skips);
	json_decref(errs);
	hvt_store_close(&st);
	return code;
}

/* ---- hvtax export ---- */

int hvt_cmd_export(int argc, char **argv)
{
	struct cmd c = {.name = "export",
			.args = "RUN [-o FILE] [--db FILE]",
			.extra = OPT_OUTPUT,
			.npos = 1};
	struct hvt_store st;
	char *tmp = NULL;
	FILE *f = stdout;
	int64_t id;
	int code;

	if (parse(&c, argc, argv, &code))
		return code;
	code = open_existing(&st, c.db);
	if (code)
		return code;
	if (hvt_store_resolve(&st, c.pos[0], &id)) {
		code = HVT_EXIT_USAGE;
		goto out;
	}
	code = HVT_EXIT_FAIL;
	if (c.out && strcmp(c.out, "-")) {
		/* written beside the target and renamed: no half-written file */
		tmp = hvt_asprintf("%s.tmp.%ld", c.out, (long)getpid());
		if (!tmp)
			goto out;
		f = fopen(tmp, "we");
		if (!f) {
			hvt_err("cannot create '%s': %s", tmp, strerror(errno));
			goto out;
		}
	}
	if (hvt_export_run(&st, id, f)) {
		if (f != stdout) {
			fclose(f);
			unlink(tmp);
		}
		goto out;
	}
	if (f != stdout) {
		if (fclose(f)) {
			hvt_err("cannot write '%s': %s", tmp, strerror(errno));
			unlink(tmp);
			goto out;
		}
		if (rename(tmp, c.out)) {
			hvt_err("cannot rename '%s' to '%s': %s", tmp, c.out, strerror(errno));
			unlink(tmp);
			goto out;
		}
		hvt_info("exported run %lld to '%s'", (long long)id, c.out);
	}
	code = HVT_EXIT_OK;
out:
	free(tmp);
	hvt_store_close(&st);
	return code;
}

/* ---- hvtax import ---- */

/* Merging the same file twice is legal but rarely meant: say so. */
static void warn_duplicate(struct hvt_store *st, int64_t id, const char *hash)
{
	sqlite3_stmt *s = NULL;

	if (!hash || sqlite3_prepare_v2(st->db,
					"SELECT id FROM runs WHERE payload_hash = ?1 AND id <> ?2 "
					"ORDER BY id LIMIT 1",
					-1, &s, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		hvt_warn("run %lld holds the same records as run %lld (imported twice?)",
			 (long long)id, (long long)sqlite3_column_int64(s, 0));
	sqlite3_finalize(s);
}

int hvt_cmd_import(int argc, char **argv)
{
	struct cmd c = {.name = "import",
			.args = "FILE [--label L] [--db FILE]",
			.about = "FILE: JSON Lines from 'hvtax-bench run' or 'hvtax export'; - for stdin\n",
			.extra = OPT_LABEL,
			.npos = 1};
	struct hvt_store st;
	const char *status;
	json_t *info;
	int64_t id;
	int code, ret;

	if (parse(&c, argc, argv, &code))
		return code;
	if (strcmp(c.pos[0], "-") && access(c.pos[0], R_OK)) {
		hvt_err("cannot open '%s': %s", c.pos[0], strerror(errno));
		return HVT_EXIT_USAGE;
	}
	if (hvt_store_open(&st, c.db))
		return HVT_EXIT_FAIL;
	ret = hvt_import_file(&st, c.pos[0], c.label, &id);
	if (ret) {
		if (ret == -EINVAL)
			hvt_err("nothing imported from '%s'", c.pos[0]);
		code = ret == -EINVAL ? HVT_EXIT_USAGE : HVT_EXIT_FAIL;
		goto out;
	}
	info = hvt_store_run_info(&st, id);
	status = json_string_value(json_object_get(info, "status"));
	printf("imported '%s' as run %lld (%lld cases, %lld samples, status %s)\n", c.pos[0],
	       (long long)id, (long long)json_integer_value(json_object_get(info, "ncases")),
	       (long long)json_integer_value(json_object_get(info, "nsamples")),
	       status ? status : "?");
	warn_duplicate(&st, id, json_string_value(json_object_get(info, "payload_hash")));
	json_decref(info);
	code = HVT_EXIT_OK;
out:
	hvt_store_close(&st);
	return code;
}
