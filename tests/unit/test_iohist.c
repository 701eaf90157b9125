/* SPDX-License-Identifier: MIT */
/* Unit tests of bench/iohist.c: bucket layout, percentiles against known distributions, error bound. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/util.h"
#include "../../bench/iohist.h"

#define assert_close(a, b, tol)                                                                     \
	do {                                                                                        \
		const double a_ = (a), b_ = (b);                                                    \
		if (!(fabs(a_ - b_) <= (tol)))                                                      \
			fail_msg("%s = %.12g, expected %.12g (tol %g)", #a, a_, b_, (double)(tol)); \
	} while (0)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted raw samples, the reference the histogram approximates. */
static double exact_pct(const uint64_t *s, size_t n, double p)
{
	double r = ceil(p / 100.0 * (double)n - 1e-9);
	size_t rank = r < 1.0 ? 1 : (size_t)r;

	return (double)s[rank - 1];
}

static void test_layout(void **state)
{
	(void)state;
	/* every value lands in the bucket whose [lo, lo + width) holds it, buckets tile the line */
	uint64_t expect_lo = 0;

	for (unsigned i = 0; i < HVT_IOHIST_NBUCKETS; i++) {
		uint64_t lo = hvt_iohist_bucket_lo(i), w = hvt_iohist_bucket_width(i);

		assert_true(lo == expect_lo);
		assert_int_equal(hvt_iohist_index(lo), i);
		assert_int_equal(hvt_iohist_index(lo + w - 1), i);
		/* the stated bound: half a width over the lower bound (width-1 buckets are exact) */
		if (w > 1)
			assert_true((double)w / 2.0 / (double)lo <= HVT_IOHIST_REL_ERROR + 1e-15);
		expect_lo = lo + w;
		if (expect_lo == 0) /* wrapped past UINT64_MAX: last bucket */
			assert_int_equal(i, HVT_IOHIST_NBUCKETS - 1);
	}
	assert_int_equal(hvt_iohist_index(UINT64_MAX), HVT_IOHIST_NBUCKETS - 1);
	assert_int_equal(hvt_iohist_index(0), 0);
	assert_int_equal(hvt_iohist_index(127), 127);
	assert_int_equal(hvt_iohist_index(128), 128);
	assert_int_equal(hvt_iohist_index(256), 256);
	assert_int_equal(hvt_iohist_index(257), 256); /* width 2 from 256 */
	assert_close(HVT_IOHIST_REL_ERROR, 1.0 / 256.0, 0);
}

static void test_small_exact(void **state)
{
	(void)state;
	struct hvt_iohist *h = hvt_iohist_new();

	assert_non_null(h);
	assert_true(isnan(hvt_iohist_percentile(h, 50)));
	assert_true(isnan(hvt_iohist_mean(h)));
	/* 15 20 35 40 50: nearest rank, all below 128 so exact */
	const uint64_t v[] = { 50, 15, 40, 20, 35 };

	for (size_t i = 0; i < 5; i++)
		hvt_iohist_add(h, v[i]);
	assert_close(hvt_iohist_percentile(h, 5), 15, 0);
	assert_close(hvt_iohist_percentile(h, 30), 20, 0);
	assert_close(hvt_iohist_percentile(h, 50), 35, 0);
	assert_close(hvt_iohist_percentile(h, 100), 50, 0);
	assert_close(hvt_iohist_percentile(h, 0), 15, 0);
	assert_close(hvt_iohist_mean(h), 32, 1e-12);
	assert_true(h->min == 15 && h->max == 50 && h->count == 5);
	free(h);
}

/* Fill with n samples from gen, check p50..p99.99 against the raw nearest rank within the bound. */
static void check_distribution(uint64_t (*gen)(struct hvt_rng *), size_t n, uint64_t seed)
{
	static const double ps[] = { 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	struct hvt_iohist *h = hvt_iohist_new(), *a = hvt_iohist_new(), *b = hvt_iohist_new();
	uint64_t *s = malloc(n * sizeof(*s));
	struct hvt_rng r;
	double sum = 0;

	assert_non_null(h);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(s);
	hvt_rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		s[i] = gen(&r);
		sum += (double)s[i];
		hvt_iohist_add(h, s[i]);
		hvt_iohist_add(i % 2 ? a : b, s[i]);
	}
	hvt_iohist_merge(a, b);
	qsort(s, n, sizeof(*s), cmp_u64);
	for (size_t k = 0; k < HVT_ARRAY_SIZE(ps); k++) {
		double want = exact_pct(s, n, ps[k]);
		double got = hvt_iohist_percentile(h, ps[k]);

		assert_close(got, want, want * HVT_IOHIST_REL_ERROR + 1e-9);
		/* merging two halves gives the same histogram */
		assert_close(hvt_iohist_percentile(a, ps[k]), got, 0);
	}
	assert_close(hvt_iohist_mean(h), sum / (double)n, 1e-9 * sum / (double)n);
	assert_true(h->max == s[n - 1] && h->min == s[0]);
	assert_true(a->count == n && a->sum == h->sum);
	free(s);
	free(h);
	free(a);
	free(b);
}

/* Uniform on [10 us, 1 ms] in ns. */
static uint64_t gen_uniform(struct hvt_rng *r)
{
	return 10000 + hvt_rng_below(r, 990001);
}

/* Exponential, mean 80 us, shifted by 20 us: the shape of device latency. */
static uint64_t gen_exp(struct hvt_rng *r)
{
	double u = hvt_rng_double(r);

	return 20000 + (uint64_t)(-log1p(-u) * 80000.0);
}

/* Log-uniform over 1 ns .. 1 s: exercises every octave. */
static uint64_t gen_loguniform(struct hvt_rng *r)
{
	return (uint64_t)exp(hvt_rng_double(r) * log(1e9));
}

static void test_uniform(void **state)
{
	(void)state;
	check_distribution(gen_uniform, 200000, 1);
	/* and the analytic quantiles: p50 = 505 us, p99 = 990.1 us (sampling error ~0.3%) */
	struct hvt_iohist *h = hvt_iohist_new();
	struct hvt_rng r;

	assert_non_null(h);
	hvt_rng_seed(&r, 7);
	for (int i = 0; i < 1000000; i++)
		hvt_iohist_add(h, gen_uniform(&r));
	assert_close(hvt_iohist_percentile(h, 50) / 505000.0, 1.0, 0.01);
	assert_close(hvt_iohist_percentile(h, 99) / 990100.0, 1.0, 0.01);
	free(h);
}

static void test_exponential(void **state)
{
	(void)state;
	check_distribution(gen_exp, 200000, 2);
	/* analytic: q(p) = 20 us + 80 us * -ln(1 - p) */
	struct hvt_iohist *h = hvt_iohist_new();
	struct hvt_rng r;

	assert_non_null(h);
	hvt_rng_seed(&r, 9);
	for (int i = 0; i < 1000000; i++)
		hvt_iohist_add(h, gen_exp(&r));
	assert_close(hvt_iohist_percentile(h, 50) / (20000.0 + 80000.0 * log(2.0)), 1.0, 0.01);
	assert_close(hvt_iohist_percentile(h, 99) / (20000.0 + 80000.0 * log(100.0)), 1.0, 0.02);
	assert_close(hvt_iohist_mean(h) / 100000.0, 1.0, 0.01);
	free(h);
}

static void test_loguniform(void **state)
{
	(void)state;
	check_distribution(gen_loguniform, 300000, 3);
}

static void test_json(void **state)
{
	(void)state;
	struct hvt_iohist *h = hvt_iohist_new();

	assert_non_null(h);
	hvt_iohist_add(h, 5);
	hvt_iohist_add(h, 5);
	hvt_iohist_add(h, 1000);
	json_t *j = hvt_iohist_json(h, "ns");

	assert_non_null(j);
	json_t *bk = json_object_get(j, "buckets");

	assert_int_equal(json_array_size(bk), 2); /* only non-empty buckets */
	assert_int_equal(json_integer_value(json_array_get(json_array_get(bk, 0), 0)), 5);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(bk, 0), 2)), 2);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(bk, 1), 0)), 1000);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(bk, 1), 1)), 4); /* [512, 1024): width 4 */
	assert_close(json_real_value(json_object_get(j, "rel_error")), HVT_IOHIST_REL_ERROR, 0);
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
	json_decref(j);
	hvt_iohist_reset(h);
	assert_true(h->count == 0 && h->min == UINT64_MAX);
	j = hvt_iohist_json(h, "ns");
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "min")));
	json_decref(j);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),	    cmocka_unit_test(test_small_exact),
		cmocka_unit_test(test_uniform),	    cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_loguniform), cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
