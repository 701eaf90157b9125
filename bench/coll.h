/* SPDX-License-Identifier: MIT */
/* The coll family's arithmetic: nccl-tests' bandwidths, element types, verifiable fill and check.
 */
#ifndef HVT_COLL_H
#define HVT_COLL_H

#include <stddef.h>
#include <stdint.h>

enum hvt_coll_dtype {
	HVT_COLL_FLOAT,
	HVT_COLL_DOUBLE,
	HVT_COLL_HALF,
	HVT_COLL_BF16,
};

/* "float", "double", "half", "bfloat16" -> type; -EINVAL for anything else. */
int hvt_coll_dtype_parse(const char *name, enum hvt_coll_dtype *t);
/* Bytes per element. */
size_t hvt_coll_dtype_size(enum hvt_coll_dtype t);

/*
 * nccl-tests' bandwidths (doc/PERFORMANCE.md there): algbw = S / t with S
 * the bytes of one rank's buffer (count x element size) and t the time of
 * one AllReduce; busbw = algbw x 2(n-1)/n, the factor that makes a ring's
 * per-link traffic comparable with the hardware's bandwidth for any n.
 * For n = 1 the factor is 0 (nothing crosses a link), as in nccl-tests.
 */
double hvt_coll_busbw_factor(int n);
double hvt_coll_algbw(uint64_t bytes, double t_s);
double hvt_coll_busbw(uint64_t bytes, double t_s, int n);

/*
 * Verifiable data: participant `rank` holds ((rank + i) mod 3) + 1 at element
 * i. Every partial sum of n participants is an integer <= 3n: exact in
 * bfloat16 up to n = 85, in half up to 682, in float and double far beyond,
 * whatever order the reduction takes, so the check compares exactly.
 */
void hvt_coll_fill(void *buf, size_t count, enum hvt_coll_dtype t, int rank);
/* Elements of an n-participant sum that are not what they must be. */
uint64_t hvt_coll_check(const void *buf, size_t count, enum hvt_coll_dtype t, int n);
/* The largest participant count the check is exact for in every type (bfloat16: 3n <= 256). */
#define HVT_COLL_MAX_EXACT 85
/* Whether every partial sum of n participants is exact in type t (3n within its integer range). */
int hvt_coll_check_exact(enum hvt_coll_dtype t, int n);

/* IEEE half and bfloat16 from and to float (round to nearest even). */
uint16_t hvt_half_from_float(float f);
float hvt_half_to_float(uint16_t h);
uint16_t hvt_bf16_from_float(float f);
float hvt_bf16_to_float(uint16_t b);

#endif
