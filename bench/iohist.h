/* SPDX-License-Identifier: MIT */
/* Log-linear latency histogram (fio/HdrHistogram style) with a stated relative error bound. */
#ifndef HVT_IOHIST_H
#define HVT_IOHIST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * Values are non-negative integers (ns). Values below 2^HVT_IOHIST_SUB_BITS
 * get one bucket each (exact). Above, every power of two [2^e, 2^(e+1)) is
 * cut into 2^HVT_IOHIST_SUB_BITS equal buckets of width 2^(e - SUB_BITS).
 * A percentile is reported as the midpoint of its bucket, clamped to the
 * exact min and max, so its relative error against the nearest-rank value of
 * the raw samples is at most
 *
 *     HVT_IOHIST_REL_ERROR = 1 / 2^(SUB_BITS + 1) = 1/256 = 0.39%
 *
 * (half a bucket width over the bucket's lower bound, which is at least
 * 2^SUB_BITS bucket widths). Count, sum, min and max are exact, so the mean
 * and max carry no histogram error. fio's clat histogram uses 64 buckets per
 * power of two (error up to 1/128 with its midpoint); ours is twice as fine.
 */
#define HVT_IOHIST_SUB_BITS 7
#define HVT_IOHIST_SUB (1u << HVT_IOHIST_SUB_BITS)
#define HVT_IOHIST_NBUCKETS (HVT_IOHIST_SUB + (64 - HVT_IOHIST_SUB_BITS) * HVT_IOHIST_SUB)
#define HVT_IOHIST_REL_ERROR (1.0 / (double)(2u * HVT_IOHIST_SUB))

struct hvt_iohist {
	uint64_t count;
	uint64_t sum;	/* exact sum of values (ns); overflows only past ~584 years of latency */
	uint64_t min;	/* UINT64_MAX when empty */
	uint64_t max;
	uint64_t b[HVT_IOHIST_NBUCKETS];
};

/* Bucket index of a value. Inline: called once per I/O. */
static inline unsigned hvt_iohist_index(uint64_t v)
{
	if (v < HVT_IOHIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - HVT_IOHIST_SUB_BITS;

	return HVT_IOHIST_SUB + shift * HVT_IOHIST_SUB + (unsigned)((v >> shift) - HVT_IOHIST_SUB);
}

/* Record one value. */
static inline void hvt_iohist_add(struct hvt_iohist *h, uint64_t v)
{
	h->b[hvt_iohist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* A new empty histogram (about 58 KiB), or NULL after reporting. Free with free(). */
struct hvt_iohist *hvt_iohist_new(void);
/* Empty it. */
void hvt_iohist_reset(struct hvt_iohist *h);
/* dst += src. */
void hvt_iohist_merge(struct hvt_iohist *dst, const struct hvt_iohist *src);

/* Smallest value of bucket i and its width (both in value units). */
uint64_t hvt_iohist_bucket_lo(unsigned i);
uint64_t hvt_iohist_bucket_width(unsigned i);

/*
 * Nearest-rank percentile, p in [0, 100]: the value of rank ceil(p/100 * n)
 * (rank 1 for p = 0), reported as its bucket's midpoint clamped to [min, max].
 * p = 100 gives the exact max. NaN when the histogram is empty.
 */
double hvt_iohist_percentile(const struct hvt_iohist *h, double p);
/* Exact mean, NaN when empty. */
double hvt_iohist_mean(const struct hvt_iohist *h);

/*
 * Compact JSON: {"unit": unit, "rel_error": HVT_IOHIST_REL_ERROR,
 * "sub_buckets": 128, "count": n, "min": x, "max": x,
 * "buckets": [[lo, width, count], ...]} with only non-empty buckets, in
 * increasing order. New reference or NULL when out of memory.
 */
json_t *hvt_iohist_json(const struct hvt_iohist *h, const char *unit);

#endif
