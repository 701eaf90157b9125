/* SPDX-License-Identifier: MIT */
/* The benchmark table: one row per benchmark, and the families not built here with the reason. */
#include <string.h>

#include "core.h"
#include "families.h"
#include "gpu.h"
#include "mem.h"
#include "net.h"

const struct hvt_bench *const hvt_benches[] = {
	/* cpu family */
	&hvt_bench_cpu_int,
	&hvt_bench_cpu_fp,
	&hvt_bench_cpu_cpuid,
	&hvt_bench_cpu_rdtsc,
	&hvt_bench_cpu_clock_gettime,
	&hvt_bench_cpu_syscall,
	&hvt_bench_cpu_pagefault,
	&hvt_bench_cpu_mmap,
	&hvt_bench_cpu_ctxswitch,
	&hvt_bench_cpu_timer,
	/* mem family */
	&hvt_bench_mem_stream,
	&hvt_bench_mem_latency,
	/* io family */
#ifdef HAVE_URING
	&hvt_bench_io_randread,
	&hvt_bench_io_randwrite,
	&hvt_bench_io_randrw,
	&hvt_bench_io_seqread,
	&hvt_bench_io_seqwrite,
#endif
	/* net family */
	&hvt_bench_net_tcp_lat,
	&hvt_bench_net_tcp_bw,
#ifdef HAVE_VERBS
	&hvt_bench_net_rdma_send_lat,
	&hvt_bench_net_rdma_write_lat,
	&hvt_bench_net_rdma_write_bw,
#endif
	/* coll family */
#if defined(HAVE_CUDA) || defined(HAVE_MPI)
	&hvt_bench_coll_allreduce,
#endif
	/* gpu family */
#ifdef HAVE_CUDA
	&hvt_bench_gpu_copy,
#endif
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
#if !defined(HAVE_CUDA) && !defined(HAVE_MPI)
	{ "coll", "built without CUDA headers (CUDA_HOME) and without MPI: the mpi backend is in hvtax-bench-mpi (needs mpicc)" },
#endif
#ifndef HAVE_CUDA
	{ "gpu", "built without CUDA headers (install CUDA and NCCL, set CUDA_HOME and rebuild)" },
#endif
};

const size_t hvt_nunbuilt = HVT_ARRAY_SIZE(hvt_unbuilt);

const struct hvt_fp_hook hvt_fp_hooks[] = {
	{ "memory_detail", hvt_mem_fingerprint },
	{ "net", hvt_net_fingerprint },
	{ "gpu", hvt_gpu_fingerprint },
};

const size_t hvt_nfp_hooks = HVT_ARRAY_SIZE(hvt_fp_hooks);

const struct hvt_bench *hvt_bench_find(const char *name)
{
	for (size_t i = 0; i < hvt_nbenches; i++)
		if (strcmp(hvt_benches[i]->name, name) == 0)
			return hvt_benches[i];
	return NULL;
}

void hvt_report_unknown_bench(const char *where, const char *name)
{
	const char *names[512];
	size_t nn = 0;
	const char *dym;

	for (size_t k = 0; k < hvt_nbenches && nn < HVT_ARRAY_SIZE(names); k++)
		names[nn++] = hvt_benches[k]->name;
	dym = hvt_did_you_mean(name, names, nn);
	if (where && dym)
		hvt_err("%s: unknown benchmark (did you mean '%s'?)", where, dym);
	else if (where)
		hvt_err("%s: unknown benchmark (see: hvtax-bench list)", where);
	else if (dym)
		hvt_err("unknown benchmark '%s' (did you mean '%s'?)", name, dym);
	else
		hvt_err("unknown benchmark '%s' (see: hvtax-bench list)", name);
}
