/* SPDX-License-Identifier: MIT */
/* The benchmark table: one row per benchmark, and the families not built here with the reason. */
#include <string.h>

#include "core.h"
#include "families.h"

const struct hvt_bench *const hvt_benches[] = {
	/* cpu family */
	/* mem family */
	/* io family */
	/* net family */
	/* coll family */
	/* gpu family */
	/* null family */
	&hvt_bench_null_loop,
	&hvt_bench_null_fault,
};

const size_t hvt_nbenches = HVT_ARRAY_SIZE(hvt_benches);

const struct hvt_unbuilt hvt_unbuilt[] = {
#ifndef HAVE_URING
	{ "io", "built without liburing (install liburing-dev and rebuild)" },
#endif
#ifndef HAVE_VERBS
	{ "net.rdma", "built without libibverbs (install libibverbs-dev and rebuild)" },
#endif
	{ "coll", "not built: the coll family is not implemented yet" },
	{ "gpu", "not built: the gpu family is not implemented yet" },
};

const size_t hvt_nunbuilt = HVT_ARRAY_SIZE(hvt_unbuilt);

const struct hvt_bench *hvt_bench_find(const char *name)
{
	for (size_t i = 0; i < hvt_nbenches; i++)
		if (strcmp(hvt_benches[i]->name, name) == 0)
			return hvt_benches[i];
	return NULL;
}
