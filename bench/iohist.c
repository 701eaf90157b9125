/* SPDX-License-Identifier: MIT */
/* Log-linear latency histogram: buckets, percentiles and the compact JSON dump. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "iohist.h"

struct hvt_iohist *hvt_iohist_new(void)
{
	struct hvt_iohist *h = hvt_calloc(1, sizeof(*h));

	if (h)
		h->min = UINT64_MAX;
	return h;
}

void hvt_iohist_reset(struct hvt_iohist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hvt_iohist_merge(struct hvt_iohist *dst, const struct hvt_iohist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < HVT_IOHIST_NBUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hvt_iohist_bucket_lo(unsigned i)
{
	if (i < HVT_IOHIST_SUB)
		return i;
	unsigned shift = (i - HVT_IOHIST_SUB) / HVT_IOHIST_SUB;
	uint64_t sub = (i - HVT_IOHIST_SUB) % HVT_IOHIST_SUB;

	return (HVT_IOHIST_SUB + sub) << shift;
}

uint64_t hvt_iohist_bucket_width(unsigned i)
{
	if (i < HVT_IOHIST_SUB)
		return 1;
	return 1ull << ((i - HVT_IOHIST_SUB) / HVT_IOHIST_SUB);
}

double hvt_iohist_percentile(const struct hvt_iohist *h, double p)
{
	if (!h->count)
		return NAN;
	if (p >= 100.0)
		return (double)h->max;
	if (p < 0.0)
		p = 0.0;

	/* Nearest rank; the small epsilon keeps 99.9% of 1000 at rank 999, not 1000. */
	double r = ceil(p / 100.0 * (double)h->count - 1e-9);
	uint64_t rank = r < 1.0 ? 1 : (uint64_t)r;
	uint64_t cum = 0;

	for (unsigned i = 0; i < HVT_IOHIST_NBUCKETS; i++) {
		cum += h->b[i];
		if (cum < rank)
			continue;
		uint64_t w = hvt_iohist_bucket_width(i);
		double v = (double)hvt_iohist_bucket_lo(i) + (w > 1 ? (double)w / 2.0 : 0.0);

		if (v < (double)h->min)
			v = (double)h->min;
		if (v > (double)h->max)
			v = (double)h->max;
		return v;
	}
	return (double)h->max;
}

double hvt_iohist_mean(const struct hvt_iohist *h)
{
	return h->count ? (double)h->sum / (double)h->count : NAN;
}

json_t *hvt_iohist_json(const struct hvt_iohist *h, const char *unit)
{
	json_t *o = json_object();
	json_t *bk = json_array();

	if (!o || !bk)
		goto out_free_bk;
	for (unsigned i = 0; i < HVT_IOHIST_NBUCKETS; i++) {
		if (!h->b[i])
			continue;
		json_t *e = json_pack("[III]", (json_int_t)hvt_iohist_bucket_lo(i),
				      (json_int_t)hvt_iohist_bucket_width(i), (json_int_t)h->b[i]);

		if (!e || json_array_append_new(bk, e))
			goto out_free_bk;
	}
	/* json_object_set_new steals its value even when it fails. */
	if (json_object_set_new(o, "unit", json_string(unit)) ||
	    json_object_set_new(o, "rel_error", json_real(HVT_IOHIST_REL_ERROR)) ||
	    json_object_set_new(o, "sub_buckets", json_integer(HVT_IOHIST_SUB)) ||
	    json_object_set_new(o, "count", json_integer((json_int_t)h->count)) ||
	    json_object_set_new(o, "min", h->count ? json_integer((json_int_t)h->min) : json_null()) ||
	    json_object_set_new(o, "max", h->count ? json_integer((json_int_t)h->max) : json_null()))
		goto out_free_bk;
	if (json_object_set_new(o, "buckets", bk))
		goto out_free_o;
	return o;

out_free_bk:
	json_decref(bk);
out_free_o:
	json_decref(o);
	return NULL;
}
