/* SPDX-License-Identifier: MIT */
/* cpu family tests: each case runs one short repetition via its callbacks; metrics set and sane. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../bench/core.h"
#include "../../bench/families.h"
#include "../../bench/params.h"

#define REP_NS 20000000ull

/* Parameters filled from the descriptors' defaults, then the overrides "k=v". */
struct tcase {
	const struct hvt_bench *b;
	void *params;
	char **strs;
};

static void tcase_init(struct tcase *c, const struct hvt_bench *b, const char *const *over)
{
	char err[256];

	c->b = b;
	c->params = calloc(1, b->params_size ? b->params_size : 1);
	c->strs = calloc(b->nparams ? b->nparams : 1, sizeof(*c->strs));
	assert_non_null(c->params);
	assert_non_null(c->strs);
	for (size_t i = 0; i < b->nparams; i++) {
		const struct hvt_param *p = &b->params[i];
		const char *v = p->def;

		for (size_t k = 0; over && over[k]; k++) {
			size_t n = strlen(p->name);

			if (!strncmp(over[k], p->name, n) && over[k][n] == '=')
				v = over[k] + n + 1;
		}
		assert_non_null(v);
		if (hvt_param_set(p, c->params, &c->strs[i], v, err, sizeof(err)))
			fail_msg("%s: %s=%s: %s", b->name, p->name, v, err);
	}
}

static void tcase_release(struct tcase *c)
{
	for (size_t i = 0; i < c->b->nparams; i++)
		free(c->strs[i]);
	free(c->strs);
	free(c->params);
}

/*
 * Probe, set up, run one repetition of REP_NS, tear down. Returns 1 with
 * values[] filled (each checked set and finite), or 0 when the probe says
 * the case cannot run here (the test is then skipped).
 */
static int run_one(const struct hvt_bench *b, const char *const *over, double *values)
{
	struct tcase c;
	struct hvt_rep rep;
	int isset[16];
	void *state = NULL;
	char why[256] = "";
	int r;

	assert_true(b->nmetrics <= 16);
	tcase_init(&c, b, over);
	if (b->probe) {
		r = b->probe(c.params, why, sizeof(why));
		if (r == -ENODEV || r == -EOPNOTSUPP) {
			print_message("skip %s: %s\n", b->name, why);
			tcase_release(&c);
			return 0;
		}
		assert_int_equal(r, 0);
	}
	if (b->setup)
		assert_int_equal(b->setup(c.params, &state), 0);
	memset(&rep, 0, sizeof(rep));
	for (size_t i = 0; i < b->nmetrics; i++) {
		values[i] = NAN;
		isset[i] = 0;
	}
	rep.duration_ns = REP_NS;
	rep.values = values;
	rep.isset = isset;
	rep.bench = b;
	rep.t_start_ns = hvt_now_ns();
	rep.deadline_ns = rep.t_start_ns + rep.duration_ns;
	r = b->run(c.params, state, &rep);
	if (b->teardown)
		b->teardown(c.params, state);
	assert_int_equal(r, 0);
	assert_true(rep.nclock > 0);
	for (size_t i = 0; i < b->nmetrics; i++) {
		if (!isset[i] || !isfinite(values[i]))
			fail_msg("%s: metric '%s' not set or not finite (%g)", b->name,
				 b->metrics[i].name, values[i]);
		print_message("%s %s = %g %s\n", b->name, b->metrics[i].name, values[i],
			      b->metrics[i].unit);
	}
	tcase_release(&c);
	return 1;
}

static double metric(const struct hvt_bench *b, const double *values, const char *name)
{
	for (size_t i = 0; i < b->nmetrics; i++)
		if (!strcmp(b->metrics[i].name, name))
			return values[i];
	fail_msg("%s has no metric '%s'", b->name, name);
	return NAN;
}

static void assert_between(double v, double lo, double hi)
{
	if (!(v >= lo && v <= hi))
		fail_msg("%g not in [%g, %g]", v, lo, hi);
}

/* A rate case: ops and op_time agree (one thread) and op_time is in [lo, hi] seconds. */
static void check_rate(const struct hvt_bench *b, const char *const *over, const char *ops_name,
		       double lo, double hi)
{
	double v[16];

	if (!run_one(b, over, v)) {
		skip();
		return;
	}
	assert_between(metric(b, v, "op_time"), lo, hi);
	assert_true(fabs(metric(b, v, ops_name) * metric(b, v, "op_time") - 1.0) <= 1e-6);
}

static void test_int(void **s)
{
	(void)s;
	check_rate(&hvt_bench_cpu_int, NULL, "ops", 1e-12, 1e-8);
}

static void test_int_all(void **s)
{
	static const char *const over[] = {"threads=all", NULL};
	double v[16];

	(void)s;
	if (!run_one(&hvt_bench_cpu_int, over, v)) {
		skip();
		return;
	}
	assert_between(metric(&hvt_bench_cpu_int, v, "op_time"), 1e-12, 1e-8);
	/* Summed over threads: at least one thread's worth, whatever else runs. */
	assert_true(
	    metric(&hvt_bench_cpu_int, v, "ops") * metric(&hvt_bench_cpu_int, v, "op_time") >= 0.5);
}

static void test_fp(void **s)
{
	(void)s;
	check_rate(&hvt_bench_cpu_fp, NULL, "flops", 1e-12, 1e-8);
}

static void test_cpuid(void **s)
{
	(void)s;
	check_rate(&hvt_bench_cpu_cpuid, NULL, "ops", 5e-9, 1e-4);
}

static void test_rdtsc(void **s)
{
	static const char *const over[] = {"variant=rdtscp", NULL};

	(void)s;
	check_rate(&hvt_bench_cpu_rdtsc, NULL, "ops", 1e-9, 1e-4);
	check_rate(&hvt_bench_cpu_rdtsc, over, "ops", 1e-9, 1e-4);
}

static void test_clock_gettime(void **s)
{
	static const char *const clocks[] = {"clock=monotonic", "clock=monotonic_raw",
					     "clock=realtime", "clock=boottime"};

	(void)s;
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		const char *const over[] = {clocks[i], NULL};

		check_rate(&hvt_bench_cpu_clock_gettime, over, "ops", 5e-9, 1e-4);
	}
}

static void test_syscall(void **s)
{
	(void)s;
	check_rate(&hvt_bench_cpu_syscall, NULL, "ops", 10e-9, 1e-3);
}

static void test_pagefault(void **s)
{
	static const char *const over[] = {"size=4MiB", NULL};

	(void)s;
	check_rate(&hvt_bench_cpu_pagefault, NULL, "ops", 20e-9, 1e-3);
	check_rate(&hvt_bench_cpu_pagefault, over, "ops", 20e-9, 1e-3);
}

static void test_mmap(void **s)
{
	static const char *const one[] = {"threads=1", NULL};

	(void)s;
	check_rate(&hvt_bench_cpu_mmap, NULL, "ops", 200e-9, 10e-3);
	check_rate(&hvt_bench_cpu_mmap, one, "ops", 200e-9, 10e-3);
}

static void check_ctx(const char *const *over)
{
	const struct hvt_bench *b = &hvt_bench_cpu_ctxswitch;
	double v[16];

	if (!run_one(b, over, v)) {
		skip();
		return;
	}
	assert_between(metric(b, v, "rt_time"), 100e-9, 10e-3);
	assert_true(metric(b, v, "op_time") == metric(b, v, "rt_time"));
	assert_true(fabs(metric(b, v, "switch_time") * 2 - metric(b, v, "rt_time")) <= 1e-15);
	assert_true(fabs(metric(b, v, "ops") * metric(b, v, "rt_time") - 1.0) <= 1e-6);
}

static void test_ctxswitch_process(void **s)
{
	(void)s;
	check_ctx(NULL);
}

static void test_ctxswitch_thread(void **s)
{
	static const char *const over[] = {"mode=thread", NULL};

	(void)s;
	check_ctx(over);
}

static void test_ctxswitch_same_cpu(void **s)
{
	static const char *const over[] = {"same_cpu=1", NULL};

	(void)s;
	check_ctx(over);
}

static void test_ctxswitch_probe(void **s)
{
	struct tcase c;
	char why[256] = "";
	int r;

	(void)s;
	tcase_init(&c, &hvt_bench_cpu_ctxswitch, NULL);
	r = hvt_bench_cpu_ctxswitch.probe(c.params, why, sizeof(why));
	if (hvt_cpus_allowed() < 2) {
		assert_int_equal(r, -ENODEV);
		assert_non_null(strstr(why, "same_cpu=1"));
	} else {
		assert_int_equal(r, 0);
	}
	tcase_release(&c);
}

static void test_timer(void **s)
{
	const struct hvt_bench *b = &hvt_bench_cpu_timer;
	double v[16], p50, p99, max;

	(void)s;
	assert_int_equal(run_one(b, NULL, v), 1);
	p50 = metric(b, v, "overshoot_p50");
	p99 = metric(b, v, "overshoot_p99");
	max = metric(b, v, "overshoot_max");
	/* nanosleep never returns early; CLOCK_MONOTONIC_RAW vs MONOTONIC drift is ppm. */
	assert_true(p50 > -1e-6);
	assert_true(p50 <= p99 && p99 <= max);
	assert_true(max < 1.0);
}

/* Out-of-range and unknown values are refused by the descriptors. */
static void test_param_bounds(void **s)
{
	static const struct {
		const struct hvt_bench *b;
		const char *key, *value;
	} bad[] = {
	    {&hvt_bench_cpu_pagefault, "size", "1KiB"},
	    {&hvt_bench_cpu_mmap, "size", "1KiB"},
	    {&hvt_bench_cpu_mmap, "threads", "0"},
	    {&hvt_bench_cpu_int, "threads", "-1"},
	    {&hvt_bench_cpu_fp, "threads", "lots"},
	    {&hvt_bench_cpu_rdtsc, "variant", "rdpid"},
	    {&hvt_bench_cpu_clock_gettime, "clock", "tai"},
	    {&hvt_bench_cpu_ctxswitch, "mode", "fiber"},
	    {&hvt_bench_cpu_timer, "sleep", "10ns"},
	    {&hvt_bench_cpu_timer, "sleep", "2s"},
	};

	(void)s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct hvt_bench *b = bad[i].b;
		const struct hvt_param *p = NULL;
		char err[256] = "", *str = NULL;
		void *dst = calloc(1, b->params_size);

		assert_non_null(dst);
		for (size_t k = 0; k < b->nparams; k++)
			if (!strcmp(b->params[k].name, bad[i].key))
				p = &b->params[k];
		assert_non_null(p);
		if (!hvt_param_set(p, dst, &str, bad[i].value, err, sizeof(err)))
			fail_msg("%s: %s=%s accepted", b->name, bad[i].key, bad[i].value);
		free(str);
		free(dst);
	}
}

/* Every cpu case is in the registry and its descriptors are sane. */
static void test_registry(void **s)
{
	static const char *const names[] = {
	    "cpu.int",	   "cpu.fp",	    "cpu.cpuid", "cpu.rdtsc",	  "cpu.clock_gettime",
	    "cpu.syscall", "cpu.pagefault", "cpu.mmap",	 "cpu.ctxswitch", "cpu.timer"};

	(void)s;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct hvt_bench *b = hvt_bench_find(names[i]);

		if (!b) {
			fail_msg("'%s' not in the registry", names[i]);
			return;
		}
		assert_non_null(b->run);
		assert_true(b->nmetrics > 0);
		for (size_t k = 0; k < b->nparams; k++)
			assert_non_null(b->params[k].def);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_param_bounds),
	    cmocka_unit_test(test_int),
	    cmocka_unit_test(test_int_all),
	    cmocka_unit_test(test_fp),
	    cmocka_unit_test(test_cpuid),
	    cmocka_unit_test(test_rdtsc),
	    cmocka_unit_test(test_clock_gettime),
	    cmocka_unit_test(test_syscall),
	    cmocka_unit_test(test_pagefault),
	    cmocka_unit_test(test_mmap),
	    cmocka_unit_test(test_ctxswitch_probe),
	    cmocka_unit_test(test_ctxswitch_process),
	    cmocka_unit_test(test_ctxswitch_thread),
	    cmocka_unit_test(test_ctxswitch_same_cpu),
	    cmocka_unit_test(test_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
