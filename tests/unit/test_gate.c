/* SPDX-License-Identifier: MIT */
/* Unit tests of harness/gate.c: thresholds parsing and lookup, gate decisions, JUnit and Markdown.
 */
#include <errno.h>
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

#include "../../common/util.h"
#include "../../harness/gate.h"

#define assert_close(a, b, tol)                                                                    \
	do {                                                                                       \
		const double a_ = (a), b_ = (b);                                                   \
		if (!(fabs(a_ - b_) <= (tol)))                                                     \
			fail_msg("%s = %.12g, expected %.12g (tol %g)", #a, a_, b_,                \
				 (double)(tol));                                                   \
	} while (0)

/* Write `text` to a fresh temporary file; returns its path (static buffer). */
static const char *tmp_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/hvt-test-gate-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_thresholds_file(void **state)
{
	struct hvt_thresholds t;
	const struct hvt_threshold_rule *rule;
	const char *p = tmp_file("# comment\n[thresholds]\ndefault = 7%\n"
				 "io.*:lat_p99* = 20% ; inline comment\n"
				 "cpu.int?threads=1:ops = 0.10\n"
				 "mem = 12.5%\n"
				 "cpu.* = 30%\n");

	(void)state;
	hvt_thresholds_init(&t, HVT_GATE_THRESHOLD_DEFAULT);
	assert_int_equal(hvt_thresholds_load(&t, p), 0);
	unlink(p);
	assert_close(t.def, 0.07, 1e-12);
	assert_int_equal(t.n, 4);
	/* a case key holding '=' and ':' splits at the last ':' and the value after the last '=' */
	assert_string_equal(t.rules[1].pattern, "cpu.int?threads=1");
	assert_string_equal(t.rules[1].metric, "ops");
	assert_close(hvt_thresholds_lookup(&t, "io.randread?qd=1", "io.randread", "lat_p99", &rule),
		     0.20, 1e-12);
	assert_non_null(rule);
	assert_close(
	    hvt_thresholds_lookup(&t, "io.randread?qd=1", "io.randread", "lat_p9999", NULL), 0.20,
	    1e-12);
	/* iops: no io rule, the default */
	assert_close(hvt_thresholds_lookup(&t, "io.randread?qd=1", "io.randread", "iops", &rule),
		     0.07, 1e-12);
	assert_null(rule);
	/* first match wins: the exact case line before the cpu.* glob */
	assert_close(hvt_thresholds_lookup(&t, "cpu.int?threads=1", "cpu.int", "ops", NULL), 0.10,
		     1e-12);
	assert_close(hvt_thresholds_lookup(&t, "cpu.int?threads=1", "cpu.int", "op_time", NULL),
		     0.30, 1e-12);
	/* a family name matches every case of the family */
	assert_close(hvt_thresholds_lookup(&t, "mem.stream?x=1", "mem.stream", "triad", NULL),
		     0.125, 1e-12);
	hvt_thresholds_free(&t);
}

static void test_thresholds_errors(void **state)
{
	static const char *const bad[] = {
	    "[thresholds]\ndefault = lots\n",
	    "[thresholds]\ncpu = -5%\n",
	    "[other]\ncpu = 5%\n",
	    "[thresholds]\njust a line\n",
	    "[thresholds]\n:ops = 5%\n",
	    "[thresholds\ncpu = 5%\n",
	};
	struct hvt_thresholds t;

	(void)state;
	for (size_t i = 0; i < HVT_ARRAY_SIZE(bad); i++) {
		const char *p = tmp_file(bad[i]);

		hvt_thresholds_init(&t, 0.05);
		assert_int_equal(hvt_thresholds_load(&t, p), -EINVAL);
		hvt_thresholds_free(&t);
		unlink(p);
	}
	hvt_thresholds_init(&t, 0.05);
	assert_int_equal(hvt_thresholds_load(&t, "/nonexistent/thresholds.ini"), -ENOENT);
	hvt_thresholds_free(&t);
}

/* A fabricated comparison: rows with given taxes and CIs. */
static void row(struct hvt_compare_row *r, const char *key, const char *metric, double tax,
		double lo, double hi)
{
	memset(r, 0, sizeof(*r));
	r->case_key = (char *)key;
	r->bench = (char *)"cpu.int";
	r->metric = (char *)metric;
	r->unit = (char *)"op/s";
	r->higher_better = 1;
	r->median_base = 100;
	r->median_cand = 100 / (1 + tax);
	r->tax = tax;
	r->tax_lo = lo;
	r->tax_hi = hi;
	r->p = 0.01;
	if (lo > 0 || hi < 0)
		r->flags |= HVT_CMP_SIG;
	if (!isfinite(tax))
		r->flags |= HVT_CMP_UNDEF;
}

struct fab {
	struct hvt_compare c;
	struct hvt_compare_row rows[5];
	struct hvt_compare_only only_base[1], only_cand[1];
};

static void fabricate(struct fab *f)
{
	memset(f, 0, sizeof(*f));
	/* regressed: lower bound 8% > 5% */
	row(&f->rows[0], "cpu.int?threads=1", "ops", 0.10, 0.08, 0.12);
	/* point estimate above the threshold, but the CI reaches below it: not proven */
	row(&f->rows[1], "cpu.int?threads=2", "ops", 0.07, 0.03, 0.11);
	/* improved beyond -5% */
	row(&f->rows[2], "cpu.int?threads=4", "ops", -0.20, -0.25, -0.15);
	/* undefined */
	row(&f->rows[3], "cpu.int?threads=8", "ops", NAN, NAN, NAN);
	/* within */
	row(&f->rows[4], "cpu.int?threads=16", "ops", 0.0, -0.01, 0.01);
	f->only_base[0] = (struct hvt_compare_only){(char *)"cpu.syscall", (char *)"op_time"};
	f->only_cand[0] = (struct hvt_compare_only){(char *)"cpu.cpuid", (char *)"op_time"};
	f->c.rows = f->rows;
	f->c.nrows = 5;
	f->c.only_base = f->only_base;
	f->c.n_only_base = 1;
	f->c.only_cand = f->only_cand;
	f->c.n_only_cand = 1;
	f->c.base_id = 1;
	f->c.cand_id = 2;
	hvt_compare_opts_init(&f->c.opts);
}

static const struct hvt_gate_item *item(const struct hvt_gate *g, const char *key)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->items[i].case_key, key))
			return &g->items[i];
	fail_msg("no gate item '%s'", key);
	return NULL;
}

static void test_decide(void **state)
{
	struct fab f;
	struct hvt_thresholds t;
	struct hvt_gate g;

	(void)state;
	fabricate(&f);
	hvt_thresholds_init(&t, 0.05);
	assert_int_equal(hvt_gate_decide(&g, &f.c, &t, 0), 0);
	assert_int_equal(g.n, 7);
	assert_int_equal(g.n_regressed, 1);
	assert_int_equal(g.n_improved, 1);
	assert_int_equal(g.n_undef, 1);
	assert_int_equal(g.n_pass, 2);
	assert_int_equal(g.n_missing, 1);
	assert_int_equal(g.n_new, 1);
	assert_true(g.failed);
	/* failures come first */
	assert_string_equal(g.items[0].case_key, "cpu.int?threads=1");
	assert_int_equal(item(&g, "cpu.int?threads=1")->verdict, HVT_GATE_REGRESSED);
	assert_int_equal(item(&g, "cpu.int?threads=2")->verdict, HVT_GATE_PASS);
	assert_int_equal(item(&g, "cpu.int?threads=4")->verdict, HVT_GATE_IMPROVED);
	assert_int_equal(item(&g, "cpu.int?threads=8")->verdict, HVT_GATE_UNDEF);
	assert_int_equal(item(&g, "cpu.syscall")->verdict, HVT_GATE_MISSING);
	assert_false(item(&g, "cpu.syscall")->fails);
	assert_int_equal(item(&g, "cpu.cpuid")->verdict, HVT_GATE_NEW);
	hvt_gate_free(&g);

	/* a threshold of 10% for threads=1: lower bound 8% no longer fails */
	assert_int_equal(hvt_thresholds_add(&t, "cpu.int?threads=1:ops", "10%", "test"), 0);
	assert_int_equal(hvt_gate_decide(&g, &f.c, &t, 0), 0);
	assert_false(g.failed);
	assert_int_equal(item(&g, "cpu.int?threads=1")->verdict, HVT_GATE_PASS);
	hvt_gate_free(&g);

	/* missing series fail on request */
	assert_int_equal(hvt_gate_decide(&g, &f.c, &t, 1), 0);
	assert_true(g.failed);
	assert_true(item(&g, "cpu.syscall")->fails);
	hvt_gate_free(&g);
	hvt_thresholds_free(&t);
}

/* Output of fn into a malloc'ed string (a temporary file keeps the compiler's alias analysis
 * simple). */
static char *capture(void (*fn)(const struct hvt_gate *, FILE *), const struct hvt_gate *g)
{
	FILE *f = tmpfile();
	char *buf;
	long len;

	assert_non_null(f);
	fn(g, f);
	len = ftell(f);
	assert_true(len > 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static size_t count(const char *s, const char *sub)
{
	size_t n = 0, off = 0;
	const char *p;

	while ((p = strstr(s + off, sub)) != NULL) {
		n++;
		off = (size_t)(p - s) + 1;
	}
	return n;
}

static void test_outputs(void **state)
{
	struct fab f;
	struct hvt_thresholds t;
	struct hvt_gate g;
	char *x, *md;

	(void)state;
	fabricate(&f);
	hvt_thresholds_init(&t, 0.05);
	assert_int_equal(hvt_gate_decide(&g, &f.c, &t, 0), 0);
	g.base_name = "base<1>";
	g.cand_name = "cand&2";
	x = capture(hvt_gate_write_junit, &g);
	/* one testcase per series, one failure naming the metric and the tax */
	assert_int_equal(count(x, "<testcase "), 7);
	assert_int_equal(count(x, "<failure "), 1);
	assert_non_null(strstr(x, "failures=\"1\""));
	/* readable labels (threads=1 is cpu.int's default), the full key in a property */
	assert_non_null(strstr(x, "metric &#39;ops&#39; of cpu.int: tax +10.0% [+8.0%, +12.0%]"));
	assert_non_null(strstr(x, "name=\"cpu.int?threads=2:ops\""));
	assert_non_null(strstr(x, "<property name=\"case\" value=\"cpu.int?threads=1\"/>"));
	assert_non_null(strstr(x, "cand&amp;2 vs base&lt;1&gt;"));
	assert_int_equal(count(x, "<skipped "), 3);
	md = capture(hvt_gate_write_markdown, &g);
	assert_non_null(strstr(md, ":x: regression"));
	assert_non_null(strstr(md, "| :x: REGRESSED | `cpu.int` | ops |"));
	assert_non_null(strstr(md, "<details>"));
	free(x);
	free(md);
	hvt_gate_free(&g);
	hvt_thresholds_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thresholds_file),
	    cmocka_unit_test(test_thresholds_errors),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_outputs),
	};

	hvt_set_prog("test_gate");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
