/* SPDX-License-Identifier: MIT */
/* Unit tests of the coll family: nccl-tests' busbw factors, the size sweep, element types, fill and
 * check. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../bench/coll.h"
#include "../../bench/families.h"
#include "../../bench/gpu.h"
#include "../../bench/params.h"
#include "../../bench/ranks.h"

#define assert_close(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static void test_busbw_factor(void **unused)
{
	(void)unused;
	/* nccl-tests doc/PERFORMANCE.md, AllReduce: 2(n-1)/n */
	assert_close(hvt_coll_busbw_factor(1), 0.0, 1e-15);
	assert_close(hvt_coll_busbw_factor(2), 1.0, 1e-15);
	assert_close(hvt_coll_busbw_factor(8), 1.75, 1e-15);
	assert_close(hvt_coll_busbw_factor(4), 1.5, 1e-15);
	assert_close(hvt_coll_busbw_factor(0), 0.0, 1e-15);
}

static void test_bandwidths(void **unused)
{
	(void)unused;
	/* 1 GiB in 10 ms over 8 GPUs */
	assert_close(hvt_coll_algbw(1ull << 30, 0.01), 107374182400.0, 1e-3);
	assert_close(hvt_coll_busbw(1ull << 30, 0.01, 8), 107374182400.0 * 1.75, 1e-2);
	assert_close(hvt_coll_busbw(8, 1e-6, 2), 8e6, 1e-6);
	assert_close(hvt_coll_busbw(4096, 1e-6, 1), 0.0, 1e-15);
	assert_true(isnan(hvt_coll_algbw(8, 0)));
}

/* -p size=8..1GiB*2: nccl-tests' default sweep (-b 8 -e 1G -f 2), one case per size. */
static void test_size_sweep(void **unused)
{
	struct hvt_assign a[] = {
	    {"size", "8..1GiB*2", NULL, 0},
	    {"backend", "mpi", NULL, 0},
	};
	struct hvt_case *c = NULL;
	size_t n = 0;

	(void)unused;
	assert_int_equal(hvt_cases_expand(&hvt_bench_coll_allreduce, a, 2, &c, &n), 0);
	assert_int_equal(n, 28);
	for (size_t i = 0; i < n; i++) {
		const char *size = json_string_value(json_object_get(c[i].echo, "size"));
		uint64_t want = 8ull << i;
		char exp[32];

		assert_non_null(size);
		if (want >= 1ull << 30)
			snprintf(exp, sizeof(exp), "%lluGiB", (unsigned long long)(want >> 30));
		else if (want >= 1ull << 20)
			snprintf(exp, sizeof(exp), "%lluMiB", (unsigned long long)(want >> 20));
		else if (want >= 1ull << 10)
			snprintf(exp, sizeof(exp), "%lluKiB", (unsigned long long)(want >> 10));
		else
			snprintf(exp, sizeof(exp), "%lluB", (unsigned long long)want);
		assert_string_equal(size, exp);
		assert_non_null(strstr(c[i].key, "backend=mpi"));
		assert_string_equal(json_string_value(json_object_get(c[i].echo, "combine")),
				    "max");
	}
	hvt_cases_free(c, n);

	/* the e2e test's sweep: 8..1MiB*8 stops at the last size not above the end */
	{
		struct hvt_assign b[] = {{"size", "8..1MiB*8", NULL, 0}};

		c = NULL;
		n = 0;
		assert_int_equal(hvt_cases_expand(&hvt_bench_coll_allreduce, b, 1, &c, &n), 0);
		assert_int_equal(n, 6);
		assert_string_equal(json_string_value(json_object_get(c[5].echo, "size")),
				    "256KiB");
		hvt_cases_free(c, n);
	}
	/* below one element of any type, and unknown types, are refused */
	{
		struct hvt_assign b[] = {{"size", "4", NULL, 0}};
		struct hvt_assign d[] = {{"dtype", "int8", NULL, 0}};

		c = NULL;
		n = 0;
		assert_int_equal(hvt_cases_expand(&hvt_bench_coll_allreduce, b, 1, &c, &n),
				 -EINVAL);
		assert_int_equal(hvt_cases_expand(&hvt_bench_coll_allreduce, d, 1, &c, &n),
				 -EINVAL);
		hvt_cases_free(c, n);
	}
}

static void test_dtypes(void **unused)
{
	enum hvt_coll_dtype t;

	(void)unused;
	assert_int_equal(hvt_coll_dtype_parse("bfloat16", &t), 0);
	assert_int_equal(t, HVT_COLL_BF16);
	assert_int_equal(hvt_coll_dtype_size(t), 2);
	assert_int_equal(hvt_coll_dtype_parse("double", &t), 0);
	assert_int_equal(hvt_coll_dtype_size(t), 8);
	assert_int_equal(hvt_coll_dtype_parse("float", &t), 0);
	assert_int_equal(hvt_coll_dtype_size(t), 4);
	assert_int_equal(hvt_coll_dtype_parse("half", &t), 0);
	assert_int_equal(hvt_coll_dtype_size(t), 2);
	assert_int_equal(hvt_coll_dtype_parse("int8", &t), -EINVAL);
	/* IEEE bit patterns */
	assert_int_equal(hvt_half_from_float(1.0f), 0x3c00);
	assert_int_equal(hvt_half_from_float(-2.0f), 0xc000);
	assert_int_equal(hvt_half_from_float(65504.0f), 0x7bff);
	assert_int_equal(hvt_half_from_float(1e6f), 0x7c00);
	assert_int_equal(hvt_half_from_float(0x1p-24f), 0x0001);
	assert_int_equal(hvt_half_from_float(0.0f), 0x0000);
	assert_int_equal(hvt_bf16_from_float(1.0f), 0x3f80);
	assert_int_equal(hvt_bf16_from_float(-3.0f), 0xc040);
	/* round to nearest even: 1 + 2^-11 is halfway between two halves, 1 + 3*2^-11 rounds up */
	assert_int_equal(hvt_half_from_float(1.0f + 0x1p-11f), 0x3c00);
	assert_int_equal(hvt_half_from_float(1.0f + 3 * 0x1p-11f), 0x3c02);
	for (int v = 0; v <= 2048; v++) {
		assert_close(hvt_half_to_float(hvt_half_from_float((float)v)), v, 0);
		if (v <= 256)
			assert_close(hvt_bf16_to_float(hvt_bf16_from_float((float)v)), v, 0);
	}
	assert_close(hvt_half_to_float(0x0001), 0x1p-24, 0);
	assert_true(isinf(hvt_half_to_float(0x7c00)));
}

/* n participants' buffers summed element by element in the type's own precision, then checked. */
static void sum_and_check(enum hvt_coll_dtype t, int n, size_t count)
{
	size_t es = hvt_coll_dtype_size(t);
	void *acc = calloc(count, es), *one = calloc(count, es);

	assert_non_null(acc);
	assert_non_null(one);
	hvt_coll_fill(acc, count, t, 0);
	for (int r = 1; r < n; r++) {
		hvt_coll_fill(one, count, t, r);
		for (size_t i = 0; i < count; i++) {
			switch (t) {
			case HVT_COLL_FLOAT:
				((float *)acc)[i] += ((float *)one)[i];
				break;
			case HVT_COLL_DOUBLE:
				((double *)acc)[i] += ((double *)one)[i];
				break;
			case HVT_COLL_HALF:
				((uint16_t *)acc)[i] =
				    hvt_half_from_float(hvt_half_to_float(((uint16_t *)acc)[i]) +
							hvt_half_to_float(((uint16_t *)one)[i]));
				break;
			case HVT_COLL_BF16:
				((uint16_t *)acc)[i] =
				    hvt_bf16_from_float(hvt_bf16_to_float(((uint16_t *)acc)[i]) +
							hvt_bf16_to_float(((uint16_t *)one)[i]));
				break;
			}
		}
	}
	assert_int_equal(hvt_coll_check(acc, count, t, n), 0);
	/* a missing participant is caught everywhere; a single wrong element once */
	assert_int_equal(hvt_coll_check(acc, count, t, n + 1), count);
	if (t == HVT_COLL_FLOAT) {
		((float *)acc)[count / 2] += 1.0f;
		((float *)acc)[count - 1] = NAN;
		assert_int_equal(hvt_coll_check(acc, count, t, n), 2);
	}
	free(acc);
	free(one);
}

static void test_check_exact(void **unused)
{
	(void)unused;
	assert_true(hvt_coll_check_exact(HVT_COLL_BF16, HVT_COLL_MAX_EXACT));
	assert_false(hvt_coll_check_exact(HVT_COLL_BF16, HVT_COLL_MAX_EXACT + 1));
	assert_true(hvt_coll_check_exact(HVT_COLL_HALF, 682));
	assert_false(hvt_coll_check_exact(HVT_COLL_HALF, 683));
	assert_true(hvt_coll_check_exact(HVT_COLL_FLOAT, 100000));
	assert_true(hvt_coll_check_exact(HVT_COLL_DOUBLE, 1 << 30));
	assert_false(hvt_coll_check_exact(HVT_COLL_FLOAT, 0));
}

static void test_fill_check(void **unused)
{
	static const int ns[] = {1, 2, 3, 4, 8, 64, HVT_COLL_MAX_EXACT};
	static const int half_ns[] = {86, 300, 682};

	(void)unused;
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		sum_and_check(HVT_COLL_FLOAT, ns[k], 1001);
		sum_and_check(HVT_COLL_DOUBLE, ns[k], 1001);
		sum_and_check(HVT_COLL_HALF, ns[k], 1001);
		sum_and_check(HVT_COLL_BF16, ns[k], 1001);
	}
	for (size_t k = 0; k < sizeof(half_ns) / sizeof(half_ns[0]); k++) {
		sum_and_check(HVT_COLL_HALF, half_ns[k], 301);
		sum_and_check(HVT_COLL_FLOAT, half_ns[k], 301);
	}
}

static void test_pcie_rate(void **unused)
{
	(void)unused;
	/* gen3 x16: 8 GT/s x 128/130 / 8 x 16 = 15.75 GB/s; gen4 doubles, gen5 again; gen1 x1 = 250
	 * MB/s */
	assert_close(hvt_pcie_Bps(3, 16), 15.753846e9, 1e4);
	assert_close(hvt_pcie_Bps(4, 16), 31.507692e9, 1e4);
	assert_close(hvt_pcie_Bps(5, 16), 63.015385e9, 1e4);
	assert_close(hvt_pcie_Bps(1, 1), 250e6, 1);
	assert_close(hvt_pcie_Bps(0, 16), 0, 0);
	assert_close(hvt_pcie_Bps(9, 16), 0, 0);
}

/* Without a GPU (this machine, CI) the fingerprint says so instead of failing. */
static void test_gpu_fingerprint_shape(void **unused)
{
	json_t *fp = hvt_gpu_fingerprint();

	(void)unused;
	assert_non_null(fp);
	assert_true(json_is_boolean(json_object_get(fp, "present")));
	if (!json_is_true(json_object_get(fp, "present")))
		assert_non_null(json_string_value(json_object_get(fp, "reason")));
	else
		assert_true(json_is_array(json_object_get(fp, "gpus")));
	json_decref(fp);
}

/* The single-rank layer of hvtax-bench: every collective is the identity. */
static void test_single_rank(void **unused)
{
	float a[3] = {1, 2, 3}, b[3] = {0, 0, 0};

	(void)unused;
	assert_int_equal(hvt_ranks_mpi(), 0);
	assert_int_equal(hvt_rank(), 0);
	assert_int_equal(hvt_nranks(), 1);
	assert_int_equal(hvt_ranks_decide(7), 7);
	assert_int_equal(hvt_ranks_all(1), 1);
	assert_int_equal(hvt_ranks_all(0), 0);
	assert_int_equal(hvt_ranks_same(42), 1);
	assert_close(hvt_ranks_combine(2.5, HVT_COMBINE_MAX), 2.5, 0);
	assert_int_equal(hvt_ranks_allreduce_sum(a, b, 3, HVT_RD_FLOAT), 0);
	assert_memory_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_busbw_factor), cmocka_unit_test(test_bandwidths),
	    cmocka_unit_test(test_size_sweep),	 cmocka_unit_test(test_dtypes),
	    cmocka_unit_test(test_fill_check),	 cmocka_unit_test(test_check_exact),
	    cmocka_unit_test(test_pcie_rate),	 cmocka_unit_test(test_gpu_fingerprint_shape),
	    cmocka_unit_test(test_single_rank),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
