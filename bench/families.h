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
extern const struct hvt_bench hvt_bench_io_randread;
extern const struct hvt_bench hvt_bench_io_randwrite;
extern const struct hvt_bench hvt_bench_io_randrw;
extern const struct hvt_bench hvt_bench_io_seqread;
extern const struct hvt_bench hvt_bench_io_seqwrite;
/* net family */
extern const struct hvt_bench hvt_bench_net_tcp_lat;
extern const struct hvt_bench hvt_bench_net_tcp_bw;
extern const struct hvt_bench hvt_bench_net_rdma_send_lat;
extern const struct hvt_bench hvt_bench_net_rdma_write_lat;
extern const struct hvt_bench hvt_bench_net_rdma_write_bw;
/* coll family */
extern const struct hvt_bench hvt_bench_coll_allreduce;
/* gpu family */
extern const struct hvt_bench hvt_bench_gpu_copy;

#endif
