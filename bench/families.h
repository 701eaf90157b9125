/* SPDX-License-Identifier: MIT */
/* Declarations of every benchmark table entry (one per line, by family). */
#ifndef HVT_FAMILIES_H
#define HVT_FAMILIES_H

#include "core.h"

/* null family */
extern const struct hvt_bench hvt_bench_null_loop;
extern const struct hvt_bench hvt_bench_null_fault;
/* cpu family */
/* mem family */
/* io family */
/* net family */
/* coll family */
/* gpu family */

#endif
