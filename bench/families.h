/* SPDX-License-Identifier: MIT */
/* Declarations of every benchmark table entry (one per line, by family). */
#ifndef HVT_FAMILIES_H
#define HVT_FAMILIES_H

#include "core.h"

/* null family */
extern const struct hvt_bench hvt_bench_null_loop;
extern const struct hvt_bench hvt_bench_null_fault;
/* cpu family */
extern const struct hvt_bench hvt_bench_cpu_int;
extern const struct hvt_bench hvt_bench_cpu_fp;
extern const struct hvt_bench hvt_bench_cpu_cpuid;
extern const struct hvt_bench hvt_bench_cpu_rdtsc;
extern const struct hvt_bench hvt_bench_cpu_clock_gettime;
extern const struct hvt_bench hvt_bench_cpu_syscall;
extern const struct hvt_bench hvt_bench_cpu_pagefault;
extern const struct hvt_bench hvt_bench_cpu_mmap;
extern const struct hvt_bench hvt_bench_cpu_ctxswitch;
extern const struct hvt_bench hvt_bench_cpu_timer;
/* mem family */
extern const struct hvt_bench hvt_bench_mem_stream;
extern const struct hvt_bench hvt_bench_mem_latency;
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
