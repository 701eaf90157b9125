/* SPDX-License-Identifier: MIT */
/* STREAM kernels (copy, scale, add, triad) per instruction set, normal and streaming stores. */
#include <stdint.h>
#include <string.h>

#include "mem.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HVT_X86 1
#endif

/*
 * Why intrinsics rather than trusting the vectoriser: the Makefile builds
 * with -O2 and no -march, so plain loops would get SSE2 at best, and
 * non-temporal stores cannot be asked for from C at all. Each kernel peels
 * scalar iterations until the destination is 64 B aligned (streaming
 * stores need it), then runs 4 vectors per iteration, then a scalar tail.
 */

/* Scalar element operations, shared by every set for peel and tail. */
#define S_COPY(i) d[i] = x[i]
#define S_SCALE(i) d[i] = s * x[i]
#define S_ADD(i) d[i] = x[i] + y[i]
#define S_TRIAD(i) d[i] = x[i] + s * y[i]

#define KSIG(name) \
	name(double *restrict d, const double *restrict x, const double *restrict y, double s, size_t n)

/* ---- portable C (the compiler may vectorise these; no streaming stores) ---- */

#define DEF_SCALAR(name, SOP)                   \
	static void KSIG(name)                  \
	{                                       \
		(void)s;                        \
		(void)y;                        \
		_Pragma("GCC ivdep") for (size_t i = 0; i < n; i++) SOP(i); \
	}

DEF_SCALAR(scalar_copy, S_COPY)
DEF_SCALAR(scalar_scale, S_SCALE)
DEF_SCALAR(scalar_add, S_ADD)
DEF_SCALAR(scalar_triad, S_TRIAD)

static const struct hvt_mem_kernels k_scalar = {
	.isa = "scalar",
	.fn = {
		{ scalar_copy, NULL },
		{ scalar_scale, NULL },
		{ scalar_add, NULL },
		{ scalar_triad, NULL },
	},
};

#ifdef HVT_X86
/*
 * One vector kernel: ATTR the target attribute, VT the vector type, W its
 * width in doubles, ST the store intrinsic, VOP(p) the vector value for
 * element offset p (may use sv, x, y), SOP the scalar form.
 */
#define DEF_VEC(name, ATTR, VT, W, SET1, ST, VOP, SOP, FENCE) \
	static ATTR void KSIG(name)                             \
	{                                                       \
		const VT sv = SET1(s);                          \
		size_t i = 0;                                   \
		(void)sv;                                       \
		(void)y;                                        \
		while (i < n && ((uintptr_t)(d + i) & 63))      \
			SOP(i), i++;                            \
		for (; i + 4 * (W) <= n; i += 4 * (W)) {        \
			ST(d + i, VOP(i));                      \
			ST(d + i + (W), VOP(i + (W)));          \
			ST(d + i + 2 * (W), VOP(i + 2 * (W)));  \
			ST(d + i + 3 * (W), VOP(i + 3 * (W)));  \
		}                                               \
		for (; i < n; i++)                              \
			SOP(i);                                 \
		FENCE;                                          \
	}

#define NOFENCE ((void)0)
#define SFENCE _mm_sfence()

/* The four kernels, both store variants, for one set. */
#define DEF_SET(pfx, ATTR, VT, W, SET1, ST, NT)                                               \
	DEF_VEC(pfx##_copy, ATTR, VT, W, SET1, ST, pfx##_V_COPY, S_COPY, NOFENCE)            \
	DEF_VEC(pfx##_scale, ATTR, VT, W, SET1, ST, pfx##_V_SCALE, S_SCALE, NOFENCE)         \
	DEF_VEC(pfx##_add, ATTR, VT, W, SET1, ST, pfx##_V_ADD, S_ADD, NOFENCE)               \
	DEF_VEC(pfx##_triad, ATTR, VT, W, SET1, ST, pfx##_V_TRIAD, S_TRIAD, NOFENCE)         \
	DEF_VEC(pfx##_copy_nt, ATTR, VT, W, SET1, NT, pfx##_V_COPY, S_COPY, SFENCE)          \
	DEF_VEC(pfx##_scale_nt, ATTR, VT, W, SET1, NT, pfx##_V_SCALE, S_SCALE, SFENCE)       \
	DEF_VEC(pfx##_add_nt, ATTR, VT, W, SET1, NT, pfx##_V_ADD, S_ADD, SFENCE)             \
	DEF_VEC(pfx##_triad_nt, ATTR, VT, W, SET1, NT, pfx##_V_TRIAD, S_TRIAD, SFENCE)       \
	static const struct hvt_mem_kernels k_##pfx = {                                      \
		.isa = #pfx,                                                                 \
		.fn = {                                                                      \
			{ pfx##_copy, pfx##_copy_nt },                                       \
			{ pfx##_scale, pfx##_scale_nt },                                     \
			{ pfx##_add, pfx##_add_nt },                                         \
			{ pfx##_triad, pfx##_triad_nt },                                     \
		},                                                                           \
	};

/* SSE2: part of x86-64, no runtime check needed there. */
#define sse2_V_COPY(p) _mm_loadu_pd(x + (p))
#define sse2_V_SCALE(p) _mm_mul_pd(sv, _mm_loadu_pd(x + (p)))
#define sse2_V_ADD(p) _mm_add_pd(_mm_loadu_pd(x + (p)), _mm_loadu_pd(y + (p)))
#define sse2_V_TRIAD(p) _mm_add_pd(_mm_loadu_pd(x + (p)), _mm_mul_pd(sv, _mm_loadu_pd(y + (p))))
DEF_SET(sse2, __attribute__((target("sse2"))), __m128d, 2, _mm_set1_pd, _mm_store_pd, _mm_stream_pd)

#define avx2_V_COPY(p) _mm256_loadu_pd(x + (p))
#define avx2_V_SCALE(p) _mm256_mul_pd(sv, _mm256_loadu_pd(x + (p)))
#define avx2_V_ADD(p) _mm256_add_pd(_mm256_loadu_pd(x + (p)), _mm256_loadu_pd(y + (p)))
#define avx2_V_TRIAD(p) _mm256_fmadd_pd(sv, _mm256_loadu_pd(y + (p)), _mm256_loadu_pd(x + (p)))
DEF_SET(avx2, __attribute__((target("avx2,fma"))), __m256d, 4, _mm256_set1_pd, _mm256_store_pd,
	_mm256_stream_pd)

#define avx512_V_COPY(p) _mm512_loadu_pd(x + (p))
#define avx512_V_SCALE(p) _mm512_mul_pd(sv, _mm512_loadu_pd(x + (p)))
#define avx512_V_ADD(p) _mm512_add_pd(_mm512_loadu_pd(x + (p)), _mm512_loadu_pd(y + (p)))
#define avx512_V_TRIAD(p) _mm512_fmadd_pd(sv, _mm512_loadu_pd(y + (p)), _mm512_loadu_pd(x + (p)))
DEF_SET(avx512, __attribute__((target("avx512f"))), __m512d, 8, _mm512_set1_pd, _mm512_store_pd,
	_mm512_stream_pd)
#endif /* HVT_X86 */

const struct hvt_mem_kernels *hvt_mem_kernels_get(const char *isa)
{
	const int any = !isa || !strcmp(isa, "auto");

#ifdef HVT_X86
	__builtin_cpu_init();
	if (any || !strcmp(isa, "avx512")) {
		if (__builtin_cpu_supports("avx512f"))
			return &k_avx512;
		if (!any)
			return NULL;
	}
	if (any || !strcmp(isa, "avx2")) {
		if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
			return &k_avx2;
		if (!any)
			return NULL;
	}
	if (any || !strcmp(isa, "sse2")) {
		if (__builtin_cpu_supports("sse2"))
			return &k_sse2;
		if (!any)
			return NULL;
	}
#endif
	if (any || !strcmp(isa, "scalar"))
		return &k_scalar;
	return NULL;
}
