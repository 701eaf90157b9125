/* SPDX-License-Identifier: MIT */
/* Ranks of a multi-process run: MPI in hvtax-bench-mpi, a single rank in hvtax-bench. */
#ifndef HVT_RANKS_H
#define HVT_RANKS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every rank runs the same driver over the same cases in the same order, so
 * that collective benchmarks meet in the same collective calls. Each call
 * below is collective (every rank must make it, in the same order) except
 * hvt_rank(), hvt_nranks(), hvt_ranks_local() and hvt_ranks_mpi(). Without
 * MPI they are the trivial single-rank versions.
 */

/* How per-rank times are combined into one value. */
enum hvt_combine {
	HVT_COMBINE_MAX,   /* the slowest rank */
	HVT_COMBINE_AVG,   /* mean over ranks */
	HVT_COMBINE_MIN,   /* the fastest rank */
	HVT_COMBINE_RANK0, /* rank 0's own value */
};

/*
 * Start MPI (when built with it). Ranks on one node that the launcher left
 * unbound (same CPU set) are each restricted to a different allowed CPU, so
 * the driver's pinning does not stack them on one CPU. 0 or -errno.
 */
int hvt_ranks_init(int *argc, char ***argv);
/* End MPI (when built with it). */
void hvt_ranks_finalize(void);

/* 1 when built with MPI (hvtax-bench-mpi). */
int hvt_ranks_mpi(void);
/* This process's rank, 0..hvt_nranks()-1. */
int hvt_rank(void);
int hvt_nranks(void);
/* This process's rank among the ranks on its node, and how many there are. */
void hvt_ranks_local(int *local_rank, int *local_size);

/* Rank 0's len bytes to every rank (symmetrically, an AllReduce: see ranks.c). 0 or -EIO. */
int hvt_ranks_bcast(void *buf, size_t len);
/* Rank `root`'s len bytes to every rank, as hvt_ranks_bcast. 0 or -EIO. */
int hvt_ranks_bcast_from(int root, void *buf, size_t len);
/* Every rank waits for every other. 0 or -EIO. */
int hvt_ranks_barrier(void);
/*
 * A barrier that does not block: every rank calls hvt_ranks_ibarrier_start()
 * once, then hvt_ranks_ibarrier_test() until it answers 1 (all ranks have
 * started it; -EIO on error). A rank that serves sockets polls it between
 * accepts; the measuring rank starts it when it is done.
 */
int hvt_ranks_ibarrier_start(void);
int hvt_ranks_ibarrier_test(void);
/* Rank 0's `v`, on every rank: one rank decides, all follow. */
int hvt_ranks_decide(int v);
/* 1 when `ok` is non-zero on every rank. */
int hvt_ranks_all(int ok);
/* Element-wise maximum of n values over ranks, in place. 0 or -EIO. */
int hvt_ranks_max_i64(int64_t *v, int n);
/* 1 when every rank passed the same `v`. */
int hvt_ranks_same(uint64_t v);
/* Sum of `v` over ranks. */
uint64_t hvt_ranks_sum_u64(uint64_t v);
/* Per-rank values combined as `how`, on every rank. */
double hvt_ranks_combine(double v, enum hvt_combine how);

/* Element types of hvt_ranks_allreduce_sum. */
enum hvt_rdtype {
	HVT_RD_FLOAT,
	HVT_RD_DOUBLE,
};
/*
 * MPI_Allreduce(MPI_SUM) of `count` elements; recv == NULL means in place
 * (MPI_IN_PLACE on send). 0 or -EIO; -EOVERFLOW when count exceeds INT_MAX.
 */
int hvt_ranks_allreduce_sum(const void *send, void *recv, size_t count, enum hvt_rdtype t);
/*
 * `iters` calls of the same AllReduce back to back, the loop a bare benchmark
 * would write (the MPI call inlined in it, nothing else per call): the timed
 * part of coll.allreduce's mpi backend. Stops at the first error. 0 or -errno.
 */
int hvt_ranks_allreduce_loop(const void *send, void *recv, size_t count, enum hvt_rdtype t,
			     int64_t iters);

/* Library version text ("Open MPI v4.1.4 ..."), or NULL without MPI. */
const char *hvt_ranks_library(void);

#endif
