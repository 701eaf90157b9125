/* SPDX-License-Identifier: MIT */
/* Unit tests of harness/compare.c on a real SQLite store built through the ingest API. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka needs the headers above */
#include <cmocka.h>

#include "../../common/schema.h"
#include "../../common/util.h"
#include "../../harness/compare.h"
#include "../../harness/store.h"

#define assert_close(a, b, tol)                                                                    \
	do {                                                                                       \
		const double a_ = (a), b_ = (b);                                                   \
		if (!(fabs(a_ - b_) <= (tol)))                                                     \
			fail_msg("%s = %.12g, expected %.12g (tol %g)", #a, a_, b_,                \
				 (double)(tol));                                                   \
	} while (0)

struct fix {
	char dir[64];
	char db[128];
	struct hvt_store st;
	int64_t base, cand, same, other;
};

/* One case as the bench writes it: bench, case key, metric, unit, dir, typical value. */
struct spec {
	const char *bench, *key, *metric, *unit, *dir;
	double value;
};

static const struct spec base_cases[] = {
    {"cpu.int", "cpu.int?threads=1", "op_rate", "op/s", HVT_DIR_HIGHER, 2.0e9},
    {"cpu.syscall", "cpu.syscall", "op_time", "s", HVT_DIR_LOWER, 80e-9},
    {"mem.stream", "mem.stream?kernel=triad", "bw", "B/s", HVT_DIR_HIGHER, 20e9},
    {"io.randread", "io.randread?qd=1", "iops", "op/s", HVT_DIR_HIGHER, 1e5},
};

#define ROUNDS 4
#define REPS 5

static double gauss(struct hvt_rng *r)
{
	double s = 0;

	for (int i = 0; i < 12; i++)
		s += hvt_rng_double(r);
	return s - 6.0;
}

/*
 * Store one run: each case of `cases` with its value multiplied by scale[i]
 * (scale 0 leaves the case out), ROUNDS rounds of REPS reps with 0.5% noise,
 * plus a warm-up sample per round that must not count.
 */
static int64_t store_run(struct hvt_store *st, const char *label, const struct spec *cases,
			 size_t ncases, const double *scale, uint64_t seed)
{
	const struct hvt_run_meta meta = {label, "host", "unit", "test_compare"};
	struct hvt_ingest *in = hvt_ingest_begin(st, &meta);
	struct hvt_rng r;
	char line[4096];
	int lineno = 1;

	assert_non_null(in);
	hvt_rng_seed(&r, seed);
	snprintf(
	    line, sizeof(line),
	    "{\"type\":\"fingerprint\",\"schema\":%d,\"tool\":\"hvtax-bench\",\"version\":\"t\","
	    "\"fingerprint\":{\"host\":{\"hostname\":\"t\"}}}",
	    HVT_SCHEMA_VERSION);
	assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
	for (int k = 0; k < ROUNDS; k++) {
		for (size_t c = 0; c < ncases; c++) {
			int off;

			if (scale[c] == 0.0)
				continue;
			off = snprintf(
			    line, sizeof(line),
			    "{\"type\":\"result\",\"schema\":%d,\"bench\":\"%s\",\"case\":\"%s\","
			    "\"params\":{},\"metrics\":[{\"name\":\"%s\",\"unit\":\"%s\","
			    "\"dir\":\"%s\"}],\"round\":%d,\"samples\":["
			    "{\"rep\":0,\"warmup\":true,\"values\":{\"%s\":%.17g}}",
			    HVT_SCHEMA_VERSION, cases[c].bench, cases[c].key, cases[c].metric,
			    cases[c].unit, cases[c].dir, k, cases[c].metric,
			    cases[c].value * 1000.0);
			for (int j = 0; j < REPS; j++) {
				const double v =
				    cases[c].value * scale[c] * (1.0 + 0.005 * gauss(&r));

				off += snprintf(line + off, sizeof(line) - (size_t)off,
						",{\"rep\":%d,\"values\":{\"%s\":%.17g}}", j,
						cases[c].metric, v);
			}
			snprintf(line + off, sizeof(line) - (size_t)off, "]}");
			assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
		}
	}
	snprintf(line, sizeof(line), "{\"type\":\"end\",\"schema\":%d,\"status\":\"ok\"}",
		 HVT_SCHEMA_VERSION);
	assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
	return hvt_ingest_commit(in, "ok");
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	/* base: all but io; cand: bw 20% lower (tax +25%), syscall 10% slower, io only here */
	const double sb[] = {1.0, 1.0, 1.0, 0.0};
	const double sc[] = {1.0, 1.10, 0.80, 1.0};
	const double so[] = {0.0, 0.0, 0.0, 1.0};

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hvt-test-compare-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/hvtax.db", f->dir);
	if (hvt_store_open(&f->st, f->db))
		return -1;
	f->base = store_run(&f->st, "base", base_cases, 4, sb, 1);
	f->cand = store_run(&f->st, "cand", base_cases, 4, sc, 2);
	f->same = store_run(&f->st, "same", base_cases, 4, sb, 3);
	f->other = store_run(&f->st, "other", base_cases, 4, so, 4);
	if (f->base <= 0 || f->cand <= 0 || f->same <= 0 || f->other <= 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char path[192];

	hvt_store_close(&f->st);
	/* the database and its WAL/SHM companions */
	unlink(f->db);
	snprintf(path, sizeof(path), "%s-wal", f->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s/out", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const struct hvt_compare_row *find_row(const struct hvt_compare *c, const char *key)
{
	for (size_t i = 0; i < c->nrows; i++)
		if (!strcmp(c->rows[i].case_key, key))
			return &c->rows[i];
	fail_msg("no row for '%s'", key);
	return NULL;
}

static void test_self(void **state)
{
	struct fix *f = *state;
	struct hvt_compare c;

	assert_int_equal(hvt_compare_runs(&f->st, f->base, f->base, NULL, &c), 0);
	assert_int_equal(c.nrows, 3);
	assert_int_equal(c.n_only_base, 0);
	assert_int_equal(c.n_only_cand, 0);
	for (size_t i = 0; i < c.nrows; i++) {
		const struct hvt_compare_row *r = &c.rows[i];

		assert_true(r->ratio == 1.0);
		assert_true(r->tax == 0.0);
		assert_true(r->tax_lo <= 0.0 && r->tax_hi >= 0.0);
		assert_false(r->flags & HVT_CMP_SIG);
		assert_int_equal(r->n_base, ROUNDS * REPS); /* warm-up left out */
		assert_int_equal(r->n_cand, ROUNDS * REPS);
		assert_int_equal(r->rounds_base, ROUNDS);
		assert_close(r->p, 1.0, 1e-12);
		assert_true(r->median_base == r->median_cand);
	}
	assert_int_equal(c.nfamilies, 2);
	assert_string_equal(c.families[0].family, "cpu");
	assert_int_equal(c.families[0].n, 2);
	assert_true(c.families[0].geomean_tax == 0.0);
	assert_string_equal(c.families[1].family, "mem");
	assert_true(c.overall_geomean == 0.0);
	assert_int_equal(c.overall_n, 3);
	hvt_compare_free(&c);
}

static void test_shift(void **state)
{
	struct fix *f = *state;
	struct hvt_compare c, c2;
	const struct hvt_compare_row *bw, *sys, *in;

	assert_int_equal(hvt_compare_runs(&f->st, f->base, f->cand, NULL, &c), 0);
	assert_int_equal(c.nrows, 3);
	assert_int_equal(c.n_only_cand, 1);
	assert_string_equal(c.only_cand[0].case_key, "io.randread?qd=1");
	assert_int_equal(c.n_only_base, 0);

	bw = find_row(&c, "mem.stream?kernel=triad");
	assert_true(bw->higher_better);
	assert_close(bw->tax, 0.25, 0.01);
	assert_close(bw->tax, bw->median_base / bw->median_cand - 1.0, 1e-15);
	assert_close(bw->ratio, 0.80, 0.01);
	assert_true(bw->tax_lo <= bw->tax && bw->tax <= bw->tax_hi);
	assert_true(bw->tax_lo > 0.2 && bw->tax_hi < 0.3);
	assert_true(bw->flags & HVT_CMP_SIG);
	assert_true(bw->p < 0.001);
	assert_string_equal(bw->unit, "B/s");

	sys = find_row(&c, "cpu.syscall");
	assert_false(sys->higher_better);
	assert_close(sys->tax, 0.10, 0.01);
	assert_true(sys->flags & HVT_CMP_SIG);

	in = find_row(&c, "cpu.int?threads=1");
	assert_close(in->tax, 0.0, 0.01);

	/* few rounds (4 >= 3) and enough samples: not flagged; 0.5% noise: not noisy */
	assert_false(bw->flags & (HVT_CMP_FEW | HVT_CMP_NOISY));

	/* families: cpu = geomean(int, syscall), mem = bw */
	assert_string_equal(c.families[1].family, "mem");
	assert_close(c.families[1].geomean_tax, bw->tax, 1e-12);
	assert_close(c.families[0].geomean_tax, sqrt((1 + in->tax) * (1 + sys->tax)) - 1, 1e-12);
	assert_close(c.overall_geomean, cbrt((1 + in->tax) * (1 + sys->tax) * (1 + bw->tax)) - 1,
		     1e-12);

	/* reproducible */
	assert_int_equal(hvt_compare_runs(&f->st, f->base, f->cand, NULL, &c2), 0);
	for (size_t i = 0; i < c.nrows; i++) {
		assert_true(c.rows[i].tax_lo == c2.rows[i].tax_lo);
		assert_true(c.rows[i].tax_hi == c2.rows[i].tax_hi);
	}
	hvt_compare_free(&c2);

	/* text table and JSON carry the same numbers */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *mf = open_memstream(&buf, &len);
		json_t *j, *rows;
		size_t i;
		json_t *row;

		assert_non_null(mf);
		hvt_compare_print(&c, mf);
		fclose(mf);
		/* the table names cases by their label: kernel=triad is mem.stream's default */
		assert_non_null(strstr(buf, "\nmem.stream "));
		assert_null(strstr(buf, "kernel=triad"));
		assert_non_null(strstr(buf, "geometric-mean tax"));
		assert_non_null(strstr(buf, "only in candidate run"));
		assert_non_null(strstr(buf, "sig"));
		free(buf);

		j = hvt_compare_to_json(&c);
		assert_non_null(j);
		rows = json_object_get(j, "rows");
		assert_int_equal(json_array_size(rows), 3);
		json_array_foreach(rows, i, row)
		{
			assert_true(json_real_value(json_object_get(row, "tax")) == c.rows[i].tax);
			assert_true(json_real_value(json_object_get(row, "tax_lo")) ==
				    c.rows[i].tax_lo);
			assert_true(json_real_value(json_object_get(row, "p")) == c.rows[i].p);
			/* JSON keeps the full key and adds the label */
			assert_string_equal(json_string_value(json_object_get(row, "case")),
					    c.rows[i].case_key);
			assert_non_null(json_string_value(json_object_get(row, "label")));
		}
		assert_int_equal(json_array_size(json_object_get(j, "only_cand")), 1);
		json_decref(j);
	}

	/* paired rounds (same round indices on both sides) */
	{
		struct hvt_compare_opts o;

		hvt_compare_opts_init(&o);
		o.paired = 1;
		assert_int_equal(hvt_compare_runs(&f->st, f->base, f->cand, &o, &c2), 0);
		for (size_t i = 0; i < c2.nrows; i++) {
			assert_true(c2.rows[i].flags & HVT_CMP_PAIRED);
			assert_true(c2.rows[i].tax == c.rows[i].tax);
		}
		hvt_compare_free(&c2);
	}
	hvt_compare_free(&c);
}

/* Run the command with stdout sent to a file; returns the exit code. */
static int run_cmd(struct fix *f, char **argv, int argc, char **out)
{
	char path[192];
	int saved, fd, rc;

	snprintf(path, sizeof(path), "%s/out", f->dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	rc = hvt_cmd_compare(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	if (out)
		*out = hvt_read_file(path, NULL);
	return rc;
}

static void test_cmd(void **state)
{
	struct fix *f = *state;
	char *out = NULL;
	char nodb[192];

	snprintf(nodb, sizeof(nodb), "%s/missing.db", f->dir);
	{
		char *argv[] = {"compare", "base", "cand", "--db", f->db, "--format", "json", NULL};
		json_error_t e;
		json_t *j;

		assert_int_equal(run_cmd(f, argv, 7, &out), 0);
		assert_non_null(out);
		j = json_loads(out, 0, &e);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "base")), f->base);
		assert_int_equal(json_array_size(json_object_get(j, "rows")), 3);
		json_decref(j);
		free(out);
	}
	{
		char *argv[] = {"compare", "--seed", "7",    "--level", "90%",
				"--db",	   f->db,    "base", "base",	NULL};

		assert_int_equal(run_cmd(f, argv, 9, &out), 0);
		assert_non_null(strstr(out, "90% CI"));
		assert_non_null(strstr(out, "+0.0%"));
		free(out);
	}
	{
		char *argv[] = {"compare", "base", "nosuchrun", "--db", f->db, NULL};

		assert_int_equal(run_cmd(f, argv, 5, NULL), 2);
	}
	{
		char *argv[] = {"compare", "base", "other",
				"--db",	   f->db,  NULL}; /* nothing common */

		assert_int_equal(run_cmd(f, argv, 5, NULL), 2);
	}
	{
		char *argv[] = {"compare", "base", "cand", "--db", nodb, NULL};

		assert_int_equal(run_cmd(f, argv, 5, NULL), 2);
		assert_int_equal(access(nodb, F_OK), -1); /* not created */
	}
	{
		char *argv[] = {"compare", "base", "cand", "--db", f->db, "--format", "xml", NULL};

		assert_int_equal(run_cmd(f, argv, 7, NULL), 2);
	}
	{
		char *argv[] = {"compare", "base", "--db", f->db, NULL};

		assert_int_equal(run_cmd(f, argv, 4, NULL), 2);
	}
	{
		char *argv[] = {"compare", "base", "cand", "--bogus", NULL};

		assert_int_equal(run_cmd(f, argv, 4, NULL), 2);
	}
	{
		char *argv[] = {"compare", "base", "cand", "--db", f->db, "--level", "100", NULL};

		assert_int_equal(run_cmd(f, argv, 7, NULL), 2);
	}
	{
		/* '3' is 3%: refused, not taken as a 3% interval */
		char *argv[] = {"compare", "base", "cand", "--db", f->db, "--level", "3", NULL};

		assert_int_equal(run_cmd(f, argv, 7, NULL), 2);
	}
	{
		char *argv[] = {"compare", "--help", NULL};

		assert_int_equal(run_cmd(f, argv, 2, &out), 0);
		assert_non_null(strstr(out, "usage: hvtax compare"));
		free(out);
	}
}

/* A run of one mem.stream case whose samples carry `resolved` (a JSON object; NULL: none). */
static int64_t store_resolved(struct hvt_store *st, const char *label, const char *resolved)
{
	const struct hvt_run_meta meta = {label, "host", "unit", "test_compare"};
	struct hvt_ingest *in = hvt_ingest_begin(st, &meta);
	char line[4096], x[256] = "";
	int lineno = 1, off;

	assert_non_null(in);
	if (resolved)
		snprintf(x, sizeof(x), ",\"extra\":{\"resolved\":%s}", resolved);
	snprintf(line, sizeof(line),
		 "{\"type\":\"fingerprint\",\"schema\":%d,\"tool\":\"hvtax-bench\","
		 "\"version\":\"t\",\"fingerprint\":{\"host\":{\"hostname\":\"t\"}}}",
		 HVT_SCHEMA_VERSION);
	assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
	for (int k = 0; k < ROUNDS; k++) {
		off = snprintf(line, sizeof(line),
			       "{\"type\":\"result\",\"schema\":%d,\"bench\":\"mem.stream\","
			       "\"case\":\"mem.stream?size=0B\",\"params\":{},\"metrics\":[{\"name\":"
			       "\"bw\",\"unit\":\"B/s\",\"dir\":\"%s\"}],\"round\":%d,\"samples\":[",
			       HVT_SCHEMA_VERSION, HVT_DIR_HIGHER, k);
		for (int j = 0; j < REPS; j++)
			off += snprintf(line + off, sizeof(line) - (size_t)off,
					"%s{\"rep\":%d,\"values\":{\"bw\":%.17g}%s}", j ? "," : "", j,
					20e9 * (1.0 + 0.001 * (j + k)), x);
		snprintf(line + off, sizeof(line) - (size_t)off, "]}");
		assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
	}
	snprintf(line, sizeof(line), "{\"type\":\"end\",\"schema\":%d,\"status\":\"ok\"}",
		 HVT_SCHEMA_VERSION);
	assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
	return hvt_ingest_commit(in, "ok");
}

/* 1 when comparing runs a and b flags the case as having resolved its "auto" differently. */
static int resolved_flag(struct fix *f, int64_t a, int64_t b)
{
	struct hvt_compare c;
	json_t *j;
	char *s;
	int flagged;

	assert_int_equal(hvt_compare_runs(&f->st, a, b, NULL, &c), 0);
	assert_int_equal(c.nrows, 1);
	flagged = (c.rows[0].flags & HVT_CMP_RESOLVED) != 0;
	/* one entry for the case, with what differed */
	assert_int_equal(c.nresolved, (size_t)flagged);
	if (flagged) {
		assert_string_equal(c.resolved[0].case_key, "mem.stream?size=0B");
		assert_non_null(strstr(c.resolved[0].diff, "in the base"));
	}
	/* the JSON output names the flag and the case too */
	j = hvt_compare_to_json(&c);
	s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	assert_int_equal(strstr(s, "\"resolved\"") != NULL, flagged);
	assert_int_equal(json_array_size(json_object_get(j, "resolved_differently")), (size_t)flagged);
	free(s);
	json_decref(j);
	if (flagged) { /* and the text output, under the table */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		assert_non_null(m);
		hvt_compare_print(&c, m);
		fclose(m);
		assert_non_null(strstr(buf, "different work: automatic parameters resolved"));
		assert_non_null(strstr(buf, c.resolved[0].diff));
		free(buf);
	}
	/* flagged rows still count: a guest that hides AVX-512 is part of the tax */
	assert_int_equal(c.overall_n, 1);
	hvt_compare_free(&c);
	return flagged;
}

static void test_resolved(void **state)
{
	struct fix *f = *state;
	const int64_t big = store_resolved(&f->st, "r-big", "{\"array_bytes\":268435456,\"isa\":\"avx2\"}");
	const int64_t big2 = store_resolved(&f->st, "r-big2", "{\"isa\":\"avx2\",\"array_bytes\":268435456}");
	const int64_t small = store_resolved(&f->st, "r-small", "{\"array_bytes\":67108864,\"isa\":\"avx2\"}");
	const int64_t wide = store_resolved(&f->st, "r-wide", "{\"isa\":\"avx512\"}");
	const int64_t none = store_resolved(&f->st, "r-none", NULL);

	assert_true(big > 0 && big2 > 0 && small > 0 && wide > 0 && none > 0);
	assert_false(resolved_flag(f, big, big2));  /* same values, another order */
	assert_true(resolved_flag(f, big, small)); /* arrays sized from other caches */
	assert_true(resolved_flag(f, small, big));
	assert_true(resolved_flag(f, big, wide));   /* another ISA; the size not said: not judged */
	assert_false(resolved_flag(f, big, none));  /* a run that does not say is not judged */
	assert_false(resolved_flag(f, none, none));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_self),
	    cmocka_unit_test(test_shift),
	    cmocka_unit_test(test_cmd),
	    cmocka_unit_test(test_resolved),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
