/* SPDX-License-Identifier: MIT */
/* Unit tests of the SQLite store, ingest, export/import and the store's commands. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/schema.h"
#include "../../common/util.h"
#include "../../harness/export.h"
#include "../../harness/runs.h"
#include "../../harness/store.h"

/* A run as hvtax-bench writes it: two rounds of one case, one more case, a skip, an error. */
static const char *const stream[] = {
    "{\"type\":\"fingerprint\",\"schema\":1,\"tool\":\"hvtax-bench\",\"version\":\"0.1\","
    "\"commit\":\"abc\",\"time\":\"2026-01-01T00:00:00Z\",\"fingerprint\":{\"hostname\":\"box\","
    "\"virt\":{\"hypervisor\":\"KVM\",\"kind\":\"vm\"}}}",
    "{\"type\":\"plan\",\"schema\":1,\"suite\":\"quick\",\"rounds\":2,\"reps\":2,\"duration_s\":0."
    "1,"
    "\"warmup_s\":0.05,\"seed\":42,\"cases\":[{\"bench\":\"cpu.int\",\"case\":\"cpu.int?threads="
    "1\","
    "\"params\":{\"threads\":1}}]}",
    "",
    "{\"type\":\"result\",\"schema\":1,\"bench\":\"cpu.int\",\"case\":\"cpu.int?threads=1\","
    "\"params\":{\"threads\":1},\"metrics\":[{\"name\":\"op_time\",\"unit\":\"s\",\"dir\":"
    "\"lower\"},"
    "{\"name\":\"ops\",\"unit\":\"op/s\",\"dir\":\"higher\"}],\"round\":0,"
    "\"placement\":{\"main_cpu\":0,\"threads\":1},\"samples\":["
    "{\"rep\":0,\"warmup\":true,\"t_start\":1.0,\"dur_s\":0.05,\"values\":{\"op_time\":9e-9,"
    "\"ops\":1.1e8}},"
    "{\"rep\":0,\"warmup\":false,\"t_start\":1.1,\"dur_s\":0.1,\"values\":{\"op_time\":1e-9,"
    "\"ops\":1e9},"
    "\"side\":{\"steal_s\":0.001,\"nvcsw\":3}},"
    "{\"rep\":1,\"warmup\":false,\"t_start\":1.2,\"dur_s\":0.1,\"values\":{\"op_time\":1.5e-9,"
    "\"ops\":null},"
    "\"extra\":{\"hist\":[1,2]}}]}",
    "{\"type\":\"result\",\"schema\":1,\"bench\":\"cpu.int\",\"case\":\"cpu.int?threads=1\","
    "\"params\":{\"threads\":1},\"metrics\":[{\"name\":\"op_time\",\"unit\":\"s\",\"dir\":"
    "\"lower\"},"
    "{\"name\":\"ops\",\"unit\":\"op/s\",\"dir\":\"higher\"}],\"round\":1,\"samples\":["
    "{\"rep\":0,\"warmup\":false,\"t_start\":2.1,\"dur_s\":0.1,\"values\":{\"op_time\":2e-9,"
    "\"ops\":5e8}},"
    "{\"rep\":1,\"warmup\":false,\"t_start\":2.2,\"dur_s\":0.1,\"values\":{\"op_time\":3e-9,"
    "\"ops\":3.3e8}}]}",
    "{\"type\":\"result\",\"schema\":1,\"bench\":\"mem.stream\",\"case\":\"mem.stream?kernel="
    "triad\","
    "\"params\":{\"kernel\":\"triad\"},\"metrics\":[{\"name\":\"bw\",\"unit\":\"B/"
    "s\",\"dir\":\"higher\"}],"
    "\"round\":0,\"samples\":[{\"rep\":0,\"warmup\":false,\"values\":{\"bw\":1.25e10}}],"
    "\"extra\":{\"note\":\"x\"}}",
    "{\"type\":\"skip\",\"schema\":1,\"bench\":\"gpu.copy\",\"case\":\"gpu.copy?dir=h2d\","
    "\"params\":{\"dir\":\"h2d\"},\"reason\":\"no gpu\"}",
    "{\"type\":\"error\",\"schema\":1,\"bench\":\"io.rand\",\"case\":\"io.rand?qd=1\",\"round\":1,"
    "\"message\":\"cannot open file\",\"errno\":13,\"extra\":{\"wrong_elements\":3}}",
    "{\"type\":\"end\",\"schema\":1,\"status\":\"ok\",\"time\":\"2026-01-01T00:01:00Z\",\"wall_s\":"
    "60.0}",
};

struct fx {
	char dir[64];
	char db[128];
	struct hvt_store st;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hvt-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/sub/dir/hvtax.db", f->dir);
	if (hvt_store_open(&f->st, f->db)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hvt_store_close(&f->st);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void assert_close(double a, double b)
{
	assert_true(fabs(a - b) <= 1e-12 * (fabs(a) + fabs(b)) + 1e-300);
}

static int64_t count(struct hvt_store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static int64_t ingest_stream(struct hvt_store *st, const char *label, size_t nlines)
{
	struct hvt_run_meta m = {label, "host", "quick", "run.jsonl"};
	struct hvt_ingest *in = hvt_ingest_begin(st, &m);

	assert_non_null(in);
	for (size_t i = 0; i < nlines; i++)
		assert_int_equal(hvt_ingest_line(in, stream[i], (int)i + 1), 0);
	return hvt_ingest_commit(in, NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Run fn with stderr going to a file; returns what it wrote (caller frees). */
static char *capture_stderr(struct fx *f, int (*fn)(struct fx *f, void *arg), void *arg, int *ret)
{
	char path[160];
	int saved = dup(2), fd;
	char *text;

	snprintf(path, sizeof(path), "%s/stderr.txt", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	*ret = fn(f, arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text = hvt_read_file(path, NULL);
	assert_non_null(text);
	return text;
}

/* ---- tests ---- */

static void test_open_migrate_reopen(void **state)
{
	struct fx *f = *state;

	assert_true(hvt_store_schema_version() >= 1);
	assert_int_equal(count(&f->st, "SELECT MAX(version) FROM schema_version"),
			 hvt_store_schema_version());
	assert_int_equal(count(&f->st, "PRAGMA foreign_keys"), 1);
	hvt_store_close(&f->st);
	assert_int_equal(hvt_store_open(&f->st, f->db), 0);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM schema_version"), 1);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM runs"), 0);

	/* a version-1 database (errors without extra) is brought up to date on open */
	assert_int_equal(sqlite3_exec(f->st.db,
				      "ALTER TABLE errors DROP COLUMN extra;"
				      "UPDATE schema_version SET version = 1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	hvt_store_close(&f->st);
	assert_int_equal(hvt_store_open(&f->st, f->db), 0);
	assert_int_equal(count(&f->st, "SELECT MAX(version) FROM schema_version"),
			 hvt_store_schema_version());
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM pragma_table_info('errors') "
				       "WHERE name = 'extra'"),
			 1);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct hvt_store st2;

	assert_int_equal(
	    sqlite3_exec(f->st.db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(hvt_store_open(&st2, f->db), -EPROTONOSUPPORT);
	assert_null(st2.db);
	/* and the database was not touched */
	assert_int_equal(count(&f->st, "SELECT version FROM schema_version"), 99);
}

static void test_ingest_and_series(void **state)
{
	struct fx *f = *state;
	struct hvt_series *se;
	json_t *info, *skips, *errs;
	int64_t id;
	size_t n;

	id = ingest_stream(&f->st, "base", HVT_ARRAY_SIZE(stream));
	assert_true(id > 0);
	assert_int_equal(hvt_store_series(&f->st, id, &se, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(se[0].case_key, "cpu.int?threads=1");
	assert_string_equal(se[0].bench, "cpu.int");
	assert_string_equal(se[0].metric, "op_time");
	assert_string_equal(se[0].unit, "s");
	assert_int_equal(se[0].higher_better, 0);
	assert_int_equal(se[0].n, 4); /* warm-up left out */
	assert_close(se[0].v[0], 1e-9);
	assert_close(se[0].v[1], 1.5e-9);
	assert_close(se[0].v[2], 2e-9);
	assert_close(se[0].v[3], 3e-9);
	assert_int_equal(se[0].round[2], 1);
	assert_int_equal(se[0].rep[1], 1);
	assert_string_equal(se[1].metric, "ops");
	assert_int_equal(se[1].higher_better, 1);
	assert_int_equal(se[1].n, 3); /* null value skipped */
	assert_string_equal(se[2].case_key, "mem.stream?kernel=triad");
	assert_int_equal(se[2].n, 1);
	assert_close(se[2].v[0], 1.25e10);
	hvt_series_free(se, n);

	info = hvt_store_run_info(&f->st, id);
	assert_non_null(info);
	assert_string_equal(json_string_value(json_object_get(info, "status")), "ok");
	assert_string_equal(json_string_value(json_object_get(info, "label")), "base");
	assert_string_equal(json_string_value(json_object_get(info, "host")), "box");
	assert_string_equal(json_string_value(json_object_get(info, "started")),
			    "2026-01-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(info, "ended")),
			    "2026-01-01T00:01:00Z");
	assert_int_equal(json_integer_value(json_object_get(info, "seed")), 42);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(info, "fingerprint"), "virt"), "hypervisor")),
	    "KVM");
	json_decref(info);
	skips = hvt_store_run_skips(&f->st, id);
	errs = hvt_store_run_errors(&f->st, id);
	assert_int_equal(json_array_size(skips), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(skips, 0), "reason")),
			    "no gpu");
	assert_int_equal(json_array_size(errs), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errs, 0), "round")), 1);
	/* what the failed case recorded comes back as JSON */
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_array_get(errs, 0), "extra"), "wrong_elements")),
			 3);
	json_decref(skips);
	json_decref(errs);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM side"), 2);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM samples WHERE warmup = 1"), 2);
}

static void test_partial_and_harness_error(void **state)
{
	struct fx *f = *state;
	struct hvt_run_meta m = {NULL, "vm", NULL, "hvtax-bench"};
	struct hvt_ingest *in = hvt_ingest_begin(&f->st, &m);
	int64_t id;

	assert_non_null(in);
	assert_int_equal(hvt_ingest_line(in, stream[0], 1), 0);
	assert_int_equal(hvt_ingest_line(in, stream[3], 2), 0);
	/* a bad record is refused, leaves nothing, and the run goes on */
	assert_int_equal(
	    hvt_ingest_line(in,
			    "{\"type\":\"result\",\"schema\":1,\"bench\":\"x.y\","
			    "\"case\":\"x.y\",\"params\":{},\"metrics\":[],"
			    "\"round\":0,\"samples\":[{\"rep\":0,\"values\":{\"z\":1}}]}",
			    3),
	    -EINVAL);
	assert_null(hvt_ingest_end_status(in));
	assert_int_equal(hvt_ingest_error(in, "timed out after 10s"), 0);
	id = hvt_ingest_commit(in, NULL);
	assert_true(id > 0);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM runs WHERE status = 'partial'"), 1);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM cases WHERE bench = 'x.y'"), 0);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM errors WHERE case_key IS NULL"), 1);

	/* abort keeps nothing */
	in = hvt_ingest_begin(&f->st, &m);
	assert_non_null(in);
	assert_int_equal(hvt_ingest_line(in, stream[0], 1), 0);
	hvt_ingest_abort(in);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM runs"), 1);
}

static void test_concurrent_ingests(void **state)
{
	struct fx *f = *state;
	struct hvt_run_meta host = {"host", "host", "quick", "host"};
	struct hvt_run_meta vm = {"vm", "vm", "quick", "vm"};
	struct hvt_ingest *a = hvt_ingest_begin(&f->st, &host);
	struct hvt_ingest *b = hvt_ingest_begin(&f->st, &vm);
	struct hvt_store other;
	size_t nres, nsmp;
	int64_t ia, ib, id;

	/* interleaved targets: two runs in progress over one connection */
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < HVT_ARRAY_SIZE(stream); i++) {
		assert_int_equal(hvt_ingest_line(a, stream[i], (int)i + 1), 0);
		assert_int_equal(hvt_ingest_line(b, stream[i], (int)i + 1), 0);
	}
	hvt_ingest_counts(a, &nres, &nsmp);
	assert_int_equal(nres, 3);
	assert_int_equal(nsmp, 10); /* warm-up included, nulls not */
	assert_string_equal(hvt_ingest_end_status(a), "ok");
	/* a run in progress holds no lock: another process can store meanwhile */
	assert_int_equal(hvt_store_open(&other, f->db), 0);
	assert_true(ingest_stream(&other, "other", HVT_ARRAY_SIZE(stream)) > 0);
	hvt_store_close(&other);
	ib = hvt_ingest_commit(b, NULL);
	ia = hvt_ingest_commit(a, "failed");
	assert_true(ia > 0 && ib > 0 && ia != ib);
	assert_int_equal(hvt_store_resolve(&f->st, "vm", &id), 0);
	assert_int_equal(id, ib);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM runs WHERE status = 'failed'"), 1);
	assert_int_equal(count(&f->st, "SELECT COUNT(DISTINCT run_id) FROM samples"), 3);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM cases"), 2);
}

static void test_resolve(void **state)
{
	struct fx *f = *state;
	int64_t a, b, c, id;

	a = ingest_stream(&f->st, "base", HVT_ARRAY_SIZE(stream));
	b = ingest_stream(&f->st, "cand", HVT_ARRAY_SIZE(stream));
	c = ingest_stream(&f->st, "base", HVT_ARRAY_SIZE(stream));
	assert_true(a > 0 && b > a && c > b);
	assert_int_equal(hvt_store_resolve(&f->st, "2", &id), 0);
	assert_int_equal(id, b);
	assert_int_equal(hvt_store_resolve(&f->st, "base", &id), 0);
	assert_int_equal(id, c); /* the latest with that label */
	assert_int_equal(hvt_store_resolve(&f->st, "cand", &id), 0);
	assert_int_equal(id, b);
	assert_int_equal(hvt_store_resolve(&f->st, "99", &id), -ENOENT);
	assert_int_equal(hvt_store_resolve(&f->st, "nope", &id), -ENOENT);
	assert_int_equal(hvt_store_resolve(&f->st, "", &id), -ENOENT);
}

static char *export_text(struct hvt_store *st, int64_t id)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(hvt_export_run(st, id, m), 0);
	fclose(m);
	return buf;
}

static void test_export_import_roundtrip(void **state)
{
	struct fx *f = *state;
	struct hvt_series *s1, *s2;
	size_t n1, n2;
	int64_t a, b;
	char path[160], *t1, *t2;

	a = ingest_stream(&f->st, "base", HVT_ARRAY_SIZE(stream));
	assert_true(a > 0);
	t1 = export_text(&f->st, a);
	assert_int_equal(strncmp(t1, "{\"type\":\"fingerprint\"", 21), 0);
	snprintf(path, sizeof(path), "%s/run.jsonl", f->dir);
	write_file(path, t1);
	assert_int_equal(hvt_import_file(&f->st, path, NULL, &b), 0);
	assert_true(b > a);

	assert_int_equal(hvt_store_series(&f->st, a, &s1, &n1), 0);
	assert_int_equal(hvt_store_series(&f->st, b, &s2, &n2), 0);
	assert_int_equal(n1, n2);
	for (size_t i = 0; i < n1; i++) {
		assert_string_equal(s1[i].case_key, s2[i].case_key);
		assert_string_equal(s1[i].metric, s2[i].metric);
		assert_string_equal(s1[i].unit, s2[i].unit);
		assert_int_equal(s1[i].higher_better, s2[i].higher_better);
		assert_int_equal(s1[i].n, s2[i].n);
		for (size_t j = 0; j < s1[i].n; j++) {
			assert_true(s1[i].v[j] == s2[i].v[j]); /* 17 digits: exact */
			assert_int_equal(s1[i].round[j], s2[i].round[j]);
			assert_int_equal(s1[i].rep[j], s2[i].rep[j]);
		}
	}
	hvt_series_free(s1, n1);
	hvt_series_free(s2, n2);

	/* the label came back from the origin; everything but the uuid exports the same */
	assert_int_equal(hvt_store_resolve(&f->st, "base", &b), 0);
	assert_true(b > a);
	t2 = export_text(&f->st, b);
	assert_string_equal(strchr(t1, '\n'), strchr(t2, '\n'));
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM side WHERE run_id = 2"), 2);
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM samples WHERE run_id = 2"),
			 count(&f->st, "SELECT COUNT(*) FROM samples WHERE run_id = 1"));
	free(t1);
	free(t2);

	/* a label given on import wins */
	assert_int_equal(hvt_import_file(&f->st, path, "merged", &b), 0);
	assert_int_equal(hvt_store_resolve(&f->st, "merged", &a), 0);
	assert_int_equal(a, b);
}

struct bad_case {
	const char *name;
	const char *bad_line;
	const char *expect; /* in the message */
};

static int import_it(struct fx *f, void *arg)
{
	int64_t id = 0;

	return hvt_import_file(&f->st, arg, NULL, &id);
}

static void test_corrupt_import_rolls_back(void **state)
{
	static const struct bad_case cases[] = {
	    {"truncated", "{\"type\":\"result\",\"schema\":1,\"bench\":\"cpu.i",
	     "run.jsonl:9: invalid JSON"},
	    {"newer schema",
	     "{\"type\":\"skip\",\"schema\":2,\"bench\":\"a.b\",\"case\":\"a.b\",\"reason\":\"r\"}",
	     "run.jsonl:9: skip: schema 2 is newer"},
	    {"missing field", "{\"type\":\"skip\",\"schema\":1,\"bench\":\"a.b\",\"case\":\"a.b\"}",
	     "run.jsonl:9: skip: field 'reason' is missing"},
	    {"wrong type",
	     "{\"type\":\"result\",\"schema\":1,\"bench\":\"a.b\",\"case\":\"a.b\",\"params\":{},"
	     "\"metrics\":[],\"round\":0,\"samples\":{}}",
	     "run.jsonl:9: result: field 'samples' must be an array"},
	    {"unknown type", "{\"type\":\"reslut\",\"schema\":1}", "did you mean 'result'"},
	    {"not an object", "[1,2]", "must be a JSON object"},
	    {"no schema", "{\"type\":\"end\",\"status\":\"ok\"}", "field 'schema' is missing"},
	    {"bad dir",
	     "{\"type\":\"result\",\"schema\":1,\"bench\":\"a.b\",\"case\":\"a.b\",\"params\":{},"
	     "\"metrics\":[{\"name\":\"m\",\"unit\":\"s\",\"dir\":\"up\"}],\"round\":0,\"samples\":"
	     "[]}",
	     "field 'metrics[0].dir' must be"},
	    {"bad value",
	     "{\"type\":\"result\",\"schema\":1,\"bench\":\"a.b\",\"case\":\"a.b\",\"params\":{},"
	     "\"metrics\":[{\"name\":\"m\",\"unit\":\"s\",\"dir\":\"lower\"}],\"round\":0,"
	     "\"samples\":[{\"rep\":0,\"values\":{\"m\":\"fast\"}}]}",
	     "field 'samples[0].values.m' must be a number or null"},
	    {"case key",
	     "{\"type\":\"skip\",\"schema\":1,\"bench\":\"a.b\",\"case\":\"c.d\",\"reason\":\"r\"}",
	     "does not start with the bench name"},
	};
	struct fx *f = *state;
	char path[160];

	/* runs and cases already there must stay as they are */
	assert_true(ingest_stream(&f->st, "before", HVT_ARRAY_SIZE(stream)) > 0);
	snprintf(path, sizeof(path), "%s/run.jsonl", f->dir);
	for (size_t k = 0; k < HVT_ARRAY_SIZE(cases); k++) {
		size_t len = 0;
		char *text, *msg;
		FILE *m;
		int ret;

		/* the good records of a new case first, so a half-written import would show */
		m = open_memstream(&text, &len);
		assert_non_null(m);
		for (size_t i = 0; i < HVT_ARRAY_SIZE(stream) - 1; i++) {
			const char *line = stream[i];

			if (i == 5)
				line = "{\"type\":\"result\",\"schema\":1,\"bench\":\"new.case\","
				       "\"case\":"
				       "\"new.case\",\"params\":{},\"metrics\":[{\"name\":\"m\","
				       "\"unit\":\"s\",\"dir\":\"lower\"}],\"round\":0,\"samples\":"
				       "[{\"rep\":0,\"warmup\":false,\"values\":{\"m\":1}}]}";
			fprintf(m, "%s\n", line);
		}
		fprintf(m, "%s\n", cases[k].bad_line);
		fclose(m);
		write_file(path, text);
		free(text);

		msg = capture_stderr(f, import_it, path, &ret);
		if (ret != -EINVAL || !strstr(msg, cases[k].expect))
			fail_msg("%s: ret %d, message '%s'", cases[k].name, ret, msg);
		free(msg);
		assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM runs"), 1);
		assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM cases"), 2);
		assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM samples WHERE run_id <> 1"),
				 0);
		assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM skips WHERE run_id <> 1"), 0);
	}

	/* an empty file and a file not starting with a fingerprint */
	write_file(path, "\n\n");
	{
		int64_t id;

		assert_int_equal(hvt_import_file(&f->st, path, NULL, &id), -EINVAL);
		write_file(path, "{\"type\":\"end\",\"schema\":1,\"status\":\"ok\"}\n");
		assert_int_equal(hvt_import_file(&f->st, path, NULL, &id), -EINVAL);
		snprintf(path, sizeof(path), "%s/missing.jsonl", f->dir);
		assert_int_equal(hvt_import_file(&f->st, path, NULL, &id), -ENOENT);
	}
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM runs"), 1);
}

static int quiet_cmd(int (*fn)(int, char **), int argc, char **argv)
{
	int saved = dup(1), fd = open("/dev/null", O_WRONLY), ret;

	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	ret = fn(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return ret;
}

static void test_commands(void **state)
{
	struct fx *f = *state;
	char path[160], out[160];
	int64_t id;

	assert_true(ingest_stream(&f->st, "base", HVT_ARRAY_SIZE(stream)) > 0);
	snprintf(path, sizeof(path), "%s/exp.jsonl", f->dir);
	snprintf(out, sizeof(out), "%s/exp2.jsonl", f->dir);
	{
		char *a[] = {"runs", "--db", f->db, NULL};
		char *s[] = {"show", "--db", f->db, "base", NULL};
		char *e[] = {"export", "base", "-o", path, "--db", f->db, NULL};
		char *i[] = {"import", path, "--label", "again", "--db", f->db, NULL};
		char *e2[] = {"export", "again", "--db", f->db, "--output", out, NULL};
		char *h[] = {"show", "--help", NULL};
		char *bad[] = {"runs", "--bogus", NULL};
		char *miss[] = {"show", "--db", f->db, NULL};
		char *none[] = {"show", "--db", f->db, "nope", NULL};
		char *lopt[] = {"runs", "--label", "x", "--db", f->db, NULL};

		assert_int_equal(quiet_cmd(hvt_cmd_runs, 3, a), 0);
		assert_int_equal(quiet_cmd(hvt_cmd_show, 4, s), 0);
		assert_int_equal(quiet_cmd(hvt_cmd_export, 6, e), 0);
		assert_int_equal(quiet_cmd(hvt_cmd_import, 6, i), 0);
		assert_int_equal(quiet_cmd(hvt_cmd_export, 6, e2), 0);
		assert_int_equal(quiet_cmd(hvt_cmd_show, 2, h), 0);
		assert_int_equal(quiet_cmd(hvt_cmd_runs, 2, bad), 2);
		assert_int_equal(quiet_cmd(hvt_cmd_show, 3, miss), 2);
		assert_int_equal(quiet_cmd(hvt_cmd_show, 4, none), 2);
		assert_int_equal(quiet_cmd(hvt_cmd_runs, 5, lopt), 2);
	}
	assert_int_equal(hvt_store_resolve(&f->st, "again", &id), 0);
	assert_int_equal(id, 2);
	{
		char *t1 = hvt_read_file(path, NULL), *t2 = hvt_read_file(out, NULL);

		assert_non_null(t1);
		assert_non_null(t2);
		assert_string_equal(strchr(t1, '\n'), strchr(t2, '\n'));
		free(t1);
		free(t2);
	}
	/* a corrupt file: exit 2, nothing added */
	write_file(path, "{\"type\":\"fingerprint\"");
	{
		char *i[] = {"import", path, "--db", f->db, NULL};
		char *nodb[] = {"runs", "--db", "/nonexistent/x.db", NULL};

		assert_int_equal(quiet_cmd(hvt_cmd_import, 4, i), 2);
		assert_int_equal(quiet_cmd(hvt_cmd_runs, 3, nodb), 1);
	}
	assert_int_equal(count(&f->st, "SELECT COUNT(*) FROM runs"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_migrate_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_and_series, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_and_harness_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_ingests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_import_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_import_rolls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	};

	hvt_set_prog("test_store");
	hvt_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
