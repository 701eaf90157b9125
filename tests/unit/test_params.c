/* SPDX-License-Identifier: MIT */
/* Unit tests: units parsing, parameter validation, sweep expansion, suite files, registry invariants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../bench/core.h"
#include "../../bench/params.h"
#include "../../bench/suite.h"
#include "../../common/units.h"

static void test_sizes(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(hvt_parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(hvt_parse_size("4KiB", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(hvt_parse_size("4k", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(hvt_parse_size("1MB", &b), 0);
	assert_int_equal(b, 1000000);
	assert_int_equal(hvt_parse_size("1.5GiB", &b), 0);
	assert_int_equal(b, 1610612736ull);
	assert_int_equal(hvt_parse_size("", &b), -EINVAL);
	assert_int_equal(hvt_parse_size("4 parsecs", &b), -EINVAL);
	assert_int_equal(hvt_parse_size("-4KiB", &b), -EINVAL);
	assert_int_equal(hvt_parse_size("0.5B", &b), -EINVAL);
	assert_int_equal(hvt_parse_size("99999999TiB", &b), -ERANGE);
	char buf[32];
	hvt_fmt_size(buf, sizeof(buf), 4096);
	assert_string_equal(buf, "4KiB");
	hvt_fmt_size(buf, sizeof(buf), 1536);
	assert_string_equal(buf, "1536B");
	hvt_fmt_size(buf, sizeof(buf), 3ull << 30);
	assert_string_equal(buf, "3GiB");
}

static void test_durations(void **state)
{
	uint64_t ns;
	char buf[32];

	(void)state;
	assert_int_equal(hvt_parse_duration("500ms", &ns), 0);
	assert_int_equal(ns, 500000000ull);
	assert_int_equal(hvt_parse_duration("2s", &ns), 0);
	assert_int_equal(ns, 2000000000ull);
	assert_int_equal(hvt_parse_duration("1.5", &ns), 0);
	assert_int_equal(ns, 1500000000ull);
	assert_int_equal(hvt_parse_duration("50us", &ns), 0);
	assert_int_equal(ns, 50000ull);
	assert_int_equal(hvt_parse_duration("1m", &ns), 0);
	assert_int_equal(ns, 60000000000ull);
	assert_int_equal(hvt_parse_duration("fast", &ns), -EINVAL);
	assert_int_equal(hvt_parse_duration("5 fortnights", &ns), -EINVAL);
	hvt_fmt_duration(buf, sizeof(buf), 500000000ull);
	assert_string_equal(buf, "500ms");
	hvt_fmt_duration(buf, sizeof(buf), 1500000000ull);
	assert_string_equal(buf, "1500ms");
}

static void test_misc_parsers(void **state)
{
	int v;
	double d;
	int64_t i;

	(void)state;
	assert_int_equal(hvt_parse_bool("yes", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(hvt_parse_bool("off", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hvt_parse_bool("maybe", &v), -EINVAL);
	assert_int_equal(hvt_parse_percent("5%", &d), 0);
	assert_true(d > 0.0499999 && d < 0.0500001);
	assert_int_equal(hvt_parse_percent("0.05", &d), 0);
	assert_true(d > 0.0499999 && d < 0.0500001);
	assert_int_equal(hvt_parse_int("12x", &i), -EINVAL);
	assert_int_equal(hvt_parse_int("-12", &i), 0);
	assert_int_equal(i, -12);
	assert_int_equal(hvt_edit_distance("kitten", "sitting"), 3);
}

/* A benchmark table entry for tests only: exercises every parameter type. */
struct tp {
	int64_t n;
	uint64_t size;
	uint64_t dur;
	double x;
	int flag;
	const char *mode;
	const char *path;
	int64_t threads;
};
static const char *const modes[] = { "fast", "slow", NULL };
static const struct hvt_param tparams[] = {
	{ "n", HVT_P_INT, offsetof(struct tp, n), "4", 1, 64, NULL, "count" },
	{ "size", HVT_P_SIZE, offsetof(struct tp, size), "4KiB", 512, 1073741824.0, NULL, "size" },
	{ "dur", HVT_P_DURATION, offsetof(struct tp, dur), "1ms", 0, -1, NULL, "duration" },
	{ "x", HVT_P_DOUBLE, offsetof(struct tp, x), "0.5", 0, 1, NULL, "fraction" },
	{ "flag", HVT_P_BOOL, offsetof(struct tp, flag), "0", 0, -1, NULL, "flag" },
	{ "mode", HVT_P_CHOICE, offsetof(struct tp, mode), "fast", 0, -1, modes, "mode" },
	{ "path", HVT_P_STRING, offsetof(struct tp, path), "", 0, -1, NULL, "path" },
	{ "threads", HVT_P_THREADS, offsetof(struct tp, threads), "1", 1, 4096, NULL, "threads" },
};
static const struct hvt_metric tmetrics[] = { { "t", "s", HVT_LOWER_IS_BETTER, "time" } };
static int trun(const void *p, void *s, struct hvt_rep *r)
{
	(void)p;
	(void)s;
	(void)r;
	return 0;
}
static const struct hvt_bench tbench = {
	.name = "test.params", .help = "test", .params = tparams, .nparams = HVT_ARRAY_SIZE(tparams),
	.params_size = sizeof(struct tp), .metrics = tmetrics, .nmetrics = 1, .run = trun,
};

static int expand(const char *k1, const char *v1, const char *k2, const char *v2, struct hvt_case **c,
		  size_t *n)
{
	struct hvt_assign a[2] = { { k1, v1, "t.ini", 3 }, { k2, v2, "t.ini", 4 } };
	size_t na = k2 ? 2 : (k1 ? 1 : 0);

	*c = NULL;
	*n = 0;
	return hvt_cases_expand(&tbench, a, na, c, n);
}

static void test_defaults_and_key(void **state)
{
	struct hvt_case *c;
	size_t n;
	const struct tp *p;

	(void)state;
	assert_int_equal(expand(NULL, NULL, NULL, NULL, &c, &n), 0);
	assert_int_equal(n, 1);
	p = c[0].params;
	assert_int_equal(p->n, 4);
	assert_int_equal(p->size, 4096);
	assert_int_equal(p->dur, 1000000);
	assert_string_equal(p->mode, "fast");
	assert_int_equal(p->threads, 1);
	/* canonical key: sorted names, canonical values */
	assert_string_equal(c[0].key,
			    "test.params?dur=1ms&flag=0&mode=fast&n=4&path=&size=4KiB&threads=1&x=0.5");
	hvt_cases_free(c, n);
}

static void test_lists_and_ranges(void **state)
{
	struct hvt_case *c;
	size_t n;

	(void)state;
	assert_int_equal(expand("n", "1,2,8", "mode", "fast,slow", &c, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(((const struct tp *)c[0].params)->n, 1);
	assert_string_equal(((const struct tp *)c[1].params)->mode, "slow");
	assert_int_equal(((const struct tp *)c[5].params)->n, 8);
	hvt_cases_free(c, n);

	assert_int_equal(expand("size", "4KiB..64KiB*2", NULL, NULL, &c, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(((const struct tp *)c[4].params)->size, 65536);
	hvt_cases_free(c, n);

	assert_int_equal(expand("n", "1..7+2", NULL, NULL, &c, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(((const struct tp *)c[3].params)->n, 7);
	hvt_cases_free(c, n);

	/* "all" threads keeps its name in the key so it matches across machines */
	assert_int_equal(expand("threads", "all", NULL, NULL, &c, &n), 0);
	assert_non_null(strstr(c[0].key, "threads=all"));
	assert_int_equal(((const struct tp *)c[0].params)->threads, (int64_t)hvt_cpus_allowed());
	hvt_cases_free(c, n);

	assert_int_equal(expand("path", "/tmp/a,b", NULL, NULL, &c, &n), 0);
	assert_int_equal(n, 1); /* strings are not lists */
	assert_string_equal(((const struct tp *)c[0].params)->path, "/tmp/a,b");
	hvt_cases_free(c, n);
}

static void test_validation(void **state)
{
	struct hvt_case *c;
	size_t n;

	(void)state;
	assert_int_equal(expand("n", "65", NULL, NULL, &c, &n), -EINVAL);	/* above max */
	assert_int_equal(n, 0);
	assert_int_equal(expand("n", "0", NULL, NULL, &c, &n), -EINVAL);	/* below min */
	assert_int_equal(expand("size", "256", NULL, NULL, &c, &n), -EINVAL);	/* below min */
	assert_int_equal(expand("x", "1.5", NULL, NULL, &c, &n), -EINVAL);
	assert_int_equal(expand("mode", "fats", NULL, NULL, &c, &n), -EINVAL);
	assert_int_equal(expand("flag", "maybe", NULL, NULL, &c, &n), -EINVAL);
	assert_int_equal(expand("threads", "0", NULL, NULL, &c, &n), -EINVAL);
	assert_int_equal(expand("nn", "1", NULL, NULL, &c, &n), -EINVAL);	/* unknown key */
	assert_int_equal(expand("n", "1", "n", "2", &c, &n), -EINVAL);		/* given twice */
	assert_int_equal(expand("n", "1..", NULL, NULL, &c, &n), -EINVAL);
	assert_int_equal(expand("size", "64KiB..4KiB*2", NULL, NULL, &c, &n), -EINVAL);
	assert_null(c);
}

static void test_registry(void **state)
{
	(void)state;
	assert_true(hvt_nbenches > 0);
	for (size_t i = 0; i < hvt_nbenches; i++) {
		const struct hvt_bench *b = hvt_benches[i];
		struct hvt_case *c = NULL;
		size_t n = 0;

		assert_non_null(b->name);
		assert_non_null(strchr(b->name, '.'));
		assert_non_null(b->help);
		assert_non_null(b->run);
		assert_true(b->nmetrics > 0);
		assert_ptr_equal(hvt_bench_find(b->name), b);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(hvt_benches[j]->name, b->name);
		for (size_t k = 0; k < b->nmetrics; k++) {
			assert_non_null(b->metrics[k].unit);
			assert_non_null(b->metrics[k].help);
		}
		for (size_t k = 0; k < b->nparams; k++) {
			assert_non_null(b->params[k].help);
			assert_true(b->params[k].offset < b->params_size);
		}
		/* every default is valid */
		assert_int_equal(hvt_cases_expand(b, NULL, 0, &c, &n), 0);
		assert_int_equal(n, 1);
		hvt_cases_free(c, n);
	}
	assert_null(hvt_bench_find("no.such"));
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/hvtax-suite-XXXXXX.ini");
	int fd = mkstemps(path, 4);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

static void test_suite_files(void **state)
{
	struct hvt_suite s;
	char *p;

	(void)state;
	p = write_tmp("[suite]\nname = t\nrounds = 3\nduration = 250ms\n\n[null.loop]\nbatch = 10,100\n"
		      "[null.loop#again]\nbatch = 1000\n[null.fault]\n");
	assert_int_equal(hvt_suite_load(p, &s), 0);
	assert_string_equal(s.set.name, "t");
	assert_int_equal(s.set.rounds, 3);
	assert_int_equal(s.set.duration_ns, 250000000ull);
	assert_int_equal(s.ncases, 4);
	hvt_suite_release(&s);
	unlink(p);
	free(p);

	static const char *const bad[] = {
		"[suite]\nrounds = lots\n",
		"[suite]\nroundz = 3\n",
		"[null.lop]\n",
		"[null.loop]\nbatch = 0\n",
		"[null.loop]\nbacth = 5\n",
		"this is not ini\n",
		"[null.loop]\n[null.loop]\n",
		"[suite]\nduration = 10us\n",
	};
	for (size_t i = 0; i < HVT_ARRAY_SIZE(bad); i++) {
		p = write_tmp(bad[i]);
		assert_int_equal(hvt_suite_load(p, &s), -EINVAL);
		unlink(p);
		free(p);
	}
	assert_int_equal(hvt_suite_load("no-such-suite", &s), -ENOENT);
}

/* hvt_case_label(key), compared with `want` and freed. */
static void check_label(const char *key, const char *want)
{
	char *l = hvt_case_label(key);

	assert_non_null(l);
	assert_string_equal(l, want);
	free(l);
}

static void test_case_label(void **state)
{
	const struct hvt_bench *b = hvt_bench_find("null.fault");
	const struct hvt_assign a[] = {{"mode", "hang", NULL, 0}};
	struct hvt_case *c = NULL;
	size_t n = 0;

	(void)state;
	/* all default: the bench alone, also for a key with no parameters */
	assert_non_null(b);
	assert_int_equal(hvt_cases_expand(b, NULL, 0, &c, &n), 0);
	assert_int_equal(n, 1);
	check_label(c[0].key, "null.fault");
	hvt_cases_free(c, n);
	check_label("cpu.syscall", "cpu.syscall");
	check_label("cpu.syscall?", "cpu.syscall");
	/* some non-default: only those, in key order */
	c = NULL;
	n = 0;
	assert_int_equal(hvt_cases_expand(b, a, 1, &c, &n), 0);
	check_label(c[0].key, "null.fault?mode=hang");
	hvt_cases_free(c, n);
	check_label("null.loop?batch=1000", "null.loop");
	check_label("null.loop?batch=10", "null.loop?batch=10");
	/* the default goes through the same canonicalisation: threads "2" and "all" */
	check_label("cpu.mmap?size=64KiB&threads=2", "cpu.mmap");
	check_label("cpu.mmap?size=1MiB&threads=all", "cpu.mmap?size=1MiB&threads=all");
	/* a parameter this version does not know is kept */
	check_label("null.loop?batch=1000&newer=3", "null.loop?newer=3");
	/* unknown bench (a newer version's file): the key unchanged */
	check_label("gpu.future?a=1&b=&c=x", "gpu.future?a=1&b=&c=x");
	check_label("", "");
	/* empty values: empty defaults drop, a set value next to an empty one stays */
	b = hvt_bench_find("io.randread");
	if (b) {
		check_label("io.randread?batch=1&bs=4KiB&device=&direct=1&file=&fixed_bufs=1&"
			    "fixed_files=1&iopoll=0&jobs=1&keep=0&qd=1&size=1GiB&sqpoll=0",
			    "io.randread");
		check_label("io.randread?batch=1&bs=4KiB&device=&direct=1&file=&fixed_bufs=1&"
			    "fixed_files=1&iopoll=0&jobs=1&keep=0&qd=32&size=128MiB&sqpoll=0",
			    "io.randread?qd=32&size=128MiB");
		check_label("io.randread?device=&file=/tmp/x&qd=", "io.randread?file=/tmp/x&qd=");
	}
	/* an empty value where the default is not empty, and a bare name, are kept */
	check_label("null.loop?batch=", "null.loop?batch=");
	check_label("null.loop?batch&&", "null.loop?batch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),	       cmocka_unit_test(test_durations),
		cmocka_unit_test(test_misc_parsers),   cmocka_unit_test(test_defaults_and_key),
		cmocka_unit_test(test_lists_and_ranges), cmocka_unit_test(test_validation),
		cmocka_unit_test(test_registry),       cmocka_unit_test(test_suite_files),
		cmocka_unit_test(test_case_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
