/* SPDX-License-Identifier: MIT */
/* Unit tests of the mem family: bytes, Sattolo cycles, kernels, placement, smaps parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../bench/mem.h"

static void test_stream_bytes(void **unused)
{
	(void)unused;
	/* STREAM: copy and scale move 2 arrays, add and triad 3; 8 B per double, no write-allocate */
	assert_int_equal(hvt_mem_stream_bytes(HVT_MEM_COPY, 1000), 16000);
	assert_int_equal(hvt_mem_stream_bytes(HVT_MEM_SCALE, 1000), 16000);
	assert_int_equal(hvt_mem_stream_bytes(HVT_MEM_ADD, 1000), 24000);
	assert_int_equal(hvt_mem_stream_bytes(HVT_MEM_TRIAD, 1000), 24000);
	assert_int_equal(hvt_mem_stream_bytes(HVT_MEM_TRIAD, 10000000), 240000000);
	assert_int_equal(hvt_mem_stream_bytes(HVT_MEM_COPY, 0), 0);
}

/* Following next[] from 0 must visit every element exactly once and come back. */
static void check_one_cycle(size_t n, uint64_t seed)
{
	uint32_t *next = calloc(n, sizeof(*next));
	unsigned char *seen = calloc(n, 1);
	struct hvt_rng r;
	size_t i = 0, steps = 0;

	assert_non_null(next);
	assert_non_null(seen);
	hvt_rng_seed(&r, seed);
	hvt_mem_sattolo(next, n, &r);
	do {
		assert_true(next[i] < n);
		assert_false(seen[i]);
		seen[i] = 1;
		i = next[i];
		steps++;
	} while (i != 0 && steps <= n);
	assert_int_equal(steps, n);
	for (size_t k = 0; k < n; k++)
		assert_true(seen[k]);
	/* no fixed points except for n == 1 */
	for (size_t k = 0; n > 1 && k < n; k++)
		assert_int_not_equal(next[k], k);
	free(seen);
	free(next);
}

static void test_sattolo_single_cycle(void **unused)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 1000, 65537, 262144 };

	(void)unused;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (uint64_t seed = 1; seed <= 5; seed++)
			check_one_cycle(sizes[s], seed);
}

static void test_sattolo_seeded(void **unused)
{
	uint32_t a[500], b[500], c[500];
	struct hvt_rng r;

	(void)unused;
	hvt_rng_seed(&r, 42);
	hvt_mem_sattolo(a, 500, &r);
	hvt_rng_seed(&r, 42);
	hvt_mem_sattolo(b, 500, &r);
	hvt_rng_seed(&r, 43);
	hvt_mem_sattolo(c, 500, &r);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
}

static void test_placement_json(void **unused)
{
	const int st[] = { 0, 0, 1, -ENOENT, -EFAULT, 0, 3, -ENOENT, -99 };
	json_t *o;

	(void)unused;
	o = hvt_mem_placement_json(st, sizeof(st) / sizeof(st[0]));
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "pages_sampled")), 9);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "per_node"), "0")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "per_node"), "1")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "per_node"), "3")), 1);
	assert_null(json_object_get(json_object_get(o, "per_node"), "2"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "unplaced"), "ENOENT")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "unplaced"), "EFAULT")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "unplaced"), "errno_99")), 1);
	json_decref(o);

	/* all placed: no "unplaced" key */
	o = hvt_mem_placement_json(st, 3);
	assert_non_null(o);
	assert_null(json_object_get(o, "unplaced"));
	json_decref(o);
}

static const char smaps[] =
	"7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
	"Size:               4096 kB\n"
	"KernelPageSize:        4 kB\n"
	"MMUPageSize:           4 kB\n"
	"AnonHugePages:      4096 kB\n"
	"VmFlags: rd wr mr mw me ac sd hg \n"
	"7f0000400000-7f0000a00000 rw-p 00000000 00:00 0 \n"
	"Size:               6144 kB\n"
	"KernelPageSize:        4 kB\n"
	"AnonHugePages:      2048 kB\n"
	"7f0000a00000-7f0000e00000 rw-p 00000000 00:0f 1234                      /anon_hugepage (deleted)\n"
	"Size:               4096 kB\n"
	"KernelPageSize:     2048 kB\n"
	"MMUPageSize:        2048 kB\n"
	"AnonHugePages:         0 kB\n"
	"Private_Hugetlb:    4096 kB\n";

static void test_smaps_huge(void **unused)
{
	uint64_t anon = 1, tlb = 1, kps = 1;

	(void)unused;
	/* the first mapping alone */
	assert_int_equal(hvt_mem_smaps_huge(smaps, 0x7f0000000000, 0x7f0000400000, &anon, &tlb, &kps), 0);
	assert_int_equal(anon, 4 << 20);
	assert_int_equal(tlb, 0);
	assert_int_equal(kps, 4096);
	/* first two: 4 + 2 MiB of THP */
	assert_int_equal(hvt_mem_smaps_huge(smaps, 0x7f0000000000, 0x7f0000a00000, &anon, &tlb, &kps), 0);
	assert_int_equal(anon, 6 << 20);
	/* a range clipped to 2 MiB of the first mapping counts at most 2 MiB */
	assert_int_equal(hvt_mem_smaps_huge(smaps, 0x7f0000000000, 0x7f0000200000, &anon, &tlb, &kps), 0);
	assert_int_equal(anon, 2 << 20);
	/* the hugetlb mapping */
	assert_int_equal(hvt_mem_smaps_huge(smaps, 0x7f0000a00000, 0x7f0000e00000, &anon, &tlb, &kps), 0);
	assert_int_equal(anon, 0);
	assert_int_equal(tlb, 4 << 20);
	assert_int_equal(kps, 2 << 20);
	/* nothing there */
	assert_int_equal(hvt_mem_smaps_huge(smaps, 0x1000, 0x2000, &anon, &tlb, &kps), -ENOENT);
	assert_int_equal(hvt_mem_smaps_huge("", 0x1000, 0x2000, &anon, &tlb, &kps), -ENOENT);
}

static void test_meminfo_get(void **unused)
{
	static const char mi[] = "MemTotal:       24000000 kB\n"
				 "MemAvailable:   23000000 kB\n"
				 "HugePages_Total:      16\n"
				 "HugePages_Free:       12\n"
				 "Hugepagesize:       2048 kB\n";
	static const char node[] = "Node 0 MemTotal:       1024 kB\n"
				   "Node 0 MemFree:         512 kB\n"
				   "Node 12 HugePages_Free:     3\n";
	uint64_t v = 0;

	(void)unused;
	assert_int_equal(hvt_mem_meminfo_get(mi, "MemTotal", &v), 0);
	assert_int_equal(v, 24000000ULL * 1024);
	assert_int_equal(hvt_mem_meminfo_get(mi, "HugePages_Free", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(hvt_mem_meminfo_get(mi, "Hugepagesize", &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(hvt_mem_meminfo_get(mi, "HugePages", &v), -ENOENT);
	assert_int_equal(hvt_mem_meminfo_get(mi, "Nope", &v), -ENOENT);
	assert_int_equal(hvt_mem_meminfo_get(node, "MemFree", &v), 0);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(hvt_mem_meminfo_get(node, "HugePages_Free", &v), 0);
	assert_int_equal(v, 3);
}

/* Run one kernel into dd[0..len) and compare with the scalar formula; dd[len] must stay 0. */
static void check_kernel(const struct hvt_mem_kernels *ks, int k, int nt, double *dd, const double *x,
			 const double *y, size_t len, size_t cap)
{
	memset(dd, 0, (cap - 3) * sizeof(double));
	ks->fn[k][nt](dd, x, y, 3.0, len);
	for (size_t i = 0; i < len; i++) {
		double e = k == HVT_MEM_COPY	? x[i]
			   : k == HVT_MEM_SCALE ? 3.0 * x[i]
			   : k == HVT_MEM_ADD	? x[i] + y[i]
						: x[i] + 3.0 * y[i];
		assert_true(dd[i] == e);
	}
	assert_true(dd[len] == 0.0);
}

/* Every kernel of every instruction set this CPU has, both stores, odd lengths and alignments. */
static void test_kernels(void **unused)
{
	static const char *const isas[] = { "scalar", "sse2", "avx2", "avx512" };
	const size_t cap = 1200;
	double *d = aligned_alloc(64, cap * sizeof(double) + 64);
	double *x = aligned_alloc(64, cap * sizeof(double) + 64);
	double *y = aligned_alloc(64, cap * sizeof(double) + 64);

	(void)unused;
	assert_non_null(d);
	assert_non_null(x);
	assert_non_null(y);
	for (size_t i = 0; i < cap; i++) {
		x[i] = (double)i;
		y[i] = 0.5 * (double)i + 1.0;
	}
	assert_non_null(hvt_mem_kernels_get("auto"));
	assert_null(hvt_mem_kernels_get("mmx"));
	for (size_t s = 0; s < sizeof(isas) / sizeof(isas[0]); s++) {
		const struct hvt_mem_kernels *ks = hvt_mem_kernels_get(isas[s]);

		if (!ks)
			continue;
		assert_string_equal(ks->isa, isas[s]);
		for (int k = 0; k < 4; k++)
			for (int nt = 0; nt < 2; nt++) {
				if (!ks->fn[k][nt])
					continue;
				for (size_t off = 0; off < 3; off++)
					for (size_t n = 0; n < 100; n += 7)
						check_kernel(ks, k, nt, d + off, x, y, n * 11 + off, cap);
			}
	}
	free(d);
	free(x);
	free(y);
}

static void test_stream_probe_missing_node(void **unused)
{
	const struct hvt_bench *b = &hvt_bench_mem_stream;
	char *params = calloc(1, b->params_size);
	char why[256] = "";
	int r;

	(void)unused;
	assert_non_null(params);
	/* fill every parameter from its default through the descriptors' offsets */
	for (size_t i = 0; i < b->nparams; i++) {
		const struct hvt_param *p = &b->params[i];

		if (p->type == HVT_P_CHOICE)
			*(const char **)(params + p->offset) = p->choices[0];
	}
	*(const char **)(params + b->params[0].offset) = "triad";
	for (size_t i = 0; i < b->nparams; i++) {
		const struct hvt_param *p = &b->params[i];

		if (!strcmp(p->name, "size"))
			*(uint64_t *)(params + p->offset) = 1 << 20;
		else if (!strcmp(p->name, "threads"))
			*(int64_t *)(params + p->offset) = 1;
		else if (!strcmp(p->name, "cpu_node"))
			*(int64_t *)(params + p->offset) = -1;
		else if (!strcmp(p->name, "mem_node"))
			*(int64_t *)(params + p->offset) = 1023;
	}
	r = b->probe(params, why, sizeof(why));
	assert_true(r == -ENODEV || r == -EOPNOTSUPP);
	assert_true(strlen(why) > 0);
	free(params);
}

static void test_fingerprint(void **unused)
{
	json_t *fp = hvt_mem_fingerprint();

	(void)unused;
	assert_non_null(fp);
	assert_true(json_is_object(fp));
	assert_true(json_is_array(json_object_get(fp, "nodes")));
	assert_true(json_is_object(json_object_get(fp, "tlb")));
	assert_true(json_is_object(json_object_get(fp, "thp")));
	json_decref(fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_bytes),
		cmocka_unit_test(test_sattolo_single_cycle),
		cmocka_unit_test(test_sattolo_seeded),
		cmocka_unit_test(test_placement_json),
		cmocka_unit_test(test_smaps_huge),
		cmocka_unit_test(test_meminfo_get),
		cmocka_unit_test(test_kernels),
		cmocka_unit_test(test_stream_probe_missing_node),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
