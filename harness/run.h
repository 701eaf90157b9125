/* SPDX-License-Identifier: MIT */
/* hvtax run: one suite in one target, streamed into the store. */
#ifndef HVT_RUN_H
#define HVT_RUN_H

#include <stdint.h>

/* Path of the hvtax-bench to start: $HVTAX_BENCH, next to hvtax, or from PATH. Static buffer. */
const char *hvt_bench_path(void);

/* hvtax run --target T --suite S [--label L] [--db FILE] [--timeout T] [-- extra hvtax-bench args] */
int hvt_cmd_run(int argc, char **argv);

#endif
