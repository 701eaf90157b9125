/* SPDX-License-Identifier: MIT */
/* The mem family: STREAM bandwidth, pointer-chase latency, memory fingerprint. */
#ifndef HVT_MEM_H
#define HVT_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "../common/util.h"
#include "core.h"

extern const struct hvt_bench hvt_bench_mem_stream;
extern const struct hvt_bench hvt_bench_mem_latency;

/*
 * Memory part of the environment fingerprint: memory and huge page pools
 * per NUMA node, huge page sizes, THP mode, TLB geometry (CPUID, and
 * /proc/cpuinfo "TLB size"). Returns a new object (caller owns), never NULL
 * unless out of memory; parts that cannot be read are left out.
 */
json_t *hvt_mem_fingerprint(void);

/* ---- pieces shared with bench/mem_kernels.c and the unit tests ---- */

enum hvt_mem_kernel {
	HVT_MEM_COPY,
	HVT_MEM_SCALE,
	HVT_MEM_ADD,
	HVT_MEM_TRIAD,
};

/*
 * One STREAM kernel over n doubles: copy d = x, scale d = s * x,
 * add d = x + y, triad d = x + s * y (y unused by copy and scale). The
 * arrays must not overlap; any alignment works, 64 B is fastest.
 * Non-temporal variants end with a store fence.
 */
struct hvt_mem_kernels {
	const char *isa; /* "avx512", "avx2", "sse2", "scalar" */
	void (*fn[4][2])(double *restrict d, const double *restrict x, const double *restrict y,
			 double s, size_t n); /* [kernel][0 = normal stores, 1 = non-temporal] */
};

/*
 * The kernels for an instruction set ("auto" = the best this CPU runs), or
 * NULL when the name is unknown or the CPU lacks it. The "scalar" set has no
 * non-temporal variant (fn[k][1] == NULL).
 */
const struct hvt_mem_kernels *hvt_mem_kernels_get(const char *isa);

/*
 * Bytes one pass of a STREAM kernel moves over arrays of n doubles, counted
 * as STREAM does: every array read or written once, no write-allocate
 * traffic. copy, scale: 2 * 8 * n; add, triad: 3 * 8 * n.
 */
uint64_t hvt_mem_stream_bytes(enum hvt_mem_kernel k, uint64_t n);

/*
 * Sattolo's algorithm: fill next[0..n-1] with a uniformly random cyclic
 * permutation (following i -> next[i] from any i visits all n elements
 * before returning). n >= 1 (n == 1 gives next[0] = 0).
 */
void hvt_mem_sattolo(uint32_t *next, size_t n, struct hvt_rng *r);

/*
 * Placement from a move_pages(2) status array (node number, or -errno per
 * page): {"pages_sampled": n, "per_node": {"0": k, ...},
 *  "unplaced": {"ENOENT": k, ...}} (unplaced only when some page had an
 * error). Returns a new object or NULL.
 */
json_t *hvt_mem_placement_json(const int *status, size_t n);

/*
 * From the text of /proc/self/smaps, the bytes of AnonHugePages in the
 * mappings overlapping [lo, hi) (each mapping clipped to the range), the
 * bytes backed by hugetlb pages there (mappings whose KernelPageSize > 4 kB
 * count in full, clipped), and the largest KernelPageSize seen. 0, or
 * -ENOENT when no mapping overlaps the range.
 */
int hvt_mem_smaps_huge(const char *smaps, uintptr_t lo, uintptr_t hi, uint64_t *anon_huge_bytes,
		       uint64_t *hugetlb_bytes, uint64_t *kernel_page_size)
	__attribute__((warn_unused_result));

/*
 * The value of "Key:   123 kB" (or without unit) in meminfo-style text,
 * scaled to bytes when the unit is kB. 0, or -ENOENT when the key is absent.
 */
int hvt_mem_meminfo_get(const char *text, const char *key, uint64_t *val)
	__attribute__((warn_unused_result));

#endif
