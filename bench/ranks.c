/* SPDX-License-Identifier: MIT */
/* The rank layer: MPI collectives for hvtax-bench-mpi, single-rank versions for hvtax-bench. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>

#include "../common/util.h"
#include "ranks.h"

#ifdef HAVE_MPI
#include <mpi.h>

static int my_rank, my_size = 1, local_rank, local_size = 1, started;
static char libver[MPI_MAX_LIBRARY_VERSION_STRING];

/*
 * mpirun binds ranks to cores for small runs but not when oversubscribed,
 * and the driver pins to the first CPU a process may use: unbound ranks
 * would all land on that one CPU. The k-th local rank takes the k-th CPU
 * of its own allowed set (a bound rank keeps its one CPU).
 */
static void spread_local(void)
{
	cpu_set_t set, one;
	int n, k = 0, want;

	if (local_size < 2 || sched_getaffinity(0, sizeof(set), &set))
		return;
	n = CPU_COUNT(&set);
	if (n < 2)
		return;
	want = local_rank % n;
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (k++ == want) {
			CPU_SET(c, &one);
			break;
		}
	}
	if (sched_setaffinity(0, sizeof(one), &one))
		hvt_warn("rank %d: cannot restrict to one CPU: %s", my_rank, strerror(errno));
}

int hvt_ranks_init(int *argc, char ***argv)
{
	MPI_Comm node;
	int len = 0;

	if (MPI_Init(argc, argv) != MPI_SUCCESS)
		return -EIO;
	started = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &my_size);
	if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, my_rank, MPI_INFO_NULL,
				&node) == MPI_SUCCESS) {
		MPI_Comm_rank(node, &local_rank);
		MPI_Comm_size(node, &local_size);
		MPI_Comm_free(&node);
	}
	MPI_Get_library_version(libver, &len);
	libver[strcspn(libver, "\n,")] = '\0';
	spread_local();
	return 0;
}

void hvt_ranks_finalize(void)
{
	if (started)
		MPI_Finalize();
	started = 0;
}

int hvt_ranks_mpi(void)
{
	return 1;
}

int hvt_rank(void)
{
	return my_rank;
}

int hvt_nranks(void)
{
	return my_size;
}

void hvt_ranks_local(int *lr, int *ls)
{
	*lr = local_rank;
	*ls = local_size;
}

/*
 * Rank root's bytes to every rank, as an AllReduce (bitwise or, the others giving zeros)
 * rather than MPI_Bcast. A broadcast sends in one direction only, and on OpenMPI's
 * shared-memory transport (vader) that left the two directions' fast-box rings out of step
 * for the rest of the run: one 8-byte message fills one 32-byte slot, and an 8-byte
 * AllReduce then took 3-4% longer than in a program that never broadcast. A bare loop with
 * a single 1-byte MPI_Bcast before it read +4.3% [+2.2, +8.5] at 8 B (none at 64 B), the
 * difference hvtax showed against the bare loop from its seed broadcast. Symmetric
 * coordination leaves the transport as the measured loop's own traffic does.
 */
int hvt_ranks_bcast_from(int root, void *buf, size_t len)
{
	if (len > INT_MAX)
		return -EOVERFLOW;
	if (my_rank != root)
		memset(buf, 0, len);
	return MPI_Allreduce(MPI_IN_PLACE, buf, (int)len, MPI_BYTE, MPI_BOR, MPI_COMM_WORLD) ==
		       MPI_SUCCESS
		   ? 0
		   : -EIO;
}

int hvt_ranks_bcast(void *buf, size_t len)
{
	return hvt_ranks_bcast_from(0, buf, len);
}

int hvt_ranks_barrier(void)
{
	return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -EIO;
}

static MPI_Request ibarrier = MPI_REQUEST_NULL;

int hvt_ranks_ibarrier_start(void)
{
	return MPI_Ibarrier(MPI_COMM_WORLD, &ibarrier) == MPI_SUCCESS ? 0 : -EIO;
}

int hvt_ranks_ibarrier_test(void)
{
	int done = 0;

	if (ibarrier == MPI_REQUEST_NULL)
		return 1;
	if (MPI_Test(&ibarrier, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
		return -EIO;
	return done;
}

int hvt_ranks_decide(int v)
{
	(void)hvt_ranks_bcast(&v, sizeof(v)); /* symmetric: see hvt_ranks_bcast_from */
	return v;
}

int hvt_ranks_all(int ok)
{
	int in = ok != 0, out = 0;

	MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	return out;
}

int hvt_ranks_max_i64(int64_t *v, int n)
{
	return MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD) ==
		       MPI_SUCCESS
		   ? 0
		   : -EIO;
}

int hvt_ranks_same(uint64_t v)
{
	uint64_t lo = 0, hi = 0;

	MPI_Allreduce(&v, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(&v, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
	return lo == hi;
}

uint64_t hvt_ranks_sum_u64(uint64_t v)
{
	uint64_t out = 0;

	MPI_Allreduce(&v, &out, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
	return out;
}

double hvt_ranks_combine(double v, enum hvt_combine how)
{
	double out = v;

	switch (how) {
	case HVT_COMBINE_MAX:
		MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		break;
	case HVT_COMBINE_MIN:
		MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
		break;
	case HVT_COMBINE_AVG:
		MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		out /= my_size;
		break;
	case HVT_COMBINE_RANK0:
		/* rank 0's value as a sum with zeros: symmetric, see hvt_ranks_bcast_from */
		out = my_rank == 0 ? v : 0.0;
		MPI_Allreduce(MPI_IN_PLACE, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		break;
	}
	return out;
}

int hvt_ranks_allreduce_sum(const void *send, void *recv, size_t count, enum hvt_rdtype t)
{
	MPI_Datatype dt = t == HVT_RD_DOUBLE ? MPI_DOUBLE : MPI_FLOAT;
	int r;

	if (count > INT_MAX)
		return -EOVERFLOW;
	if (recv)
		r = MPI_Allreduce(send, recv, (int)count, dt, MPI_SUM, MPI_COMM_WORLD);
	else
		r = MPI_Allreduce(MPI_IN_PLACE, (void *)send, (int)count, dt, MPI_SUM,
				  MPI_COMM_WORLD);
	return r == MPI_SUCCESS ? 0 : -EIO;
}

int hvt_ranks_allreduce_loop(const void *send, void *recv, size_t count, enum hvt_rdtype t,
			     int64_t iters)
{
	MPI_Datatype dt = t == HVT_RD_DOUBLE ? MPI_DOUBLE : MPI_FLOAT;
	const void *sb = recv ? send : MPI_IN_PLACE;
	void *rb = recv ? recv : (void *)send;
	int c = (int)count;

	if (count > INT_MAX)
		return -EOVERFLOW;
	for (int64_t k = 0; k < iters; k++)
		if (MPI_Allreduce(sb, rb, c, dt, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
			return -EIO;
	return 0;
}

const char *hvt_ranks_library(void)
{
	return libver[0] ? libver : "MPI";
}

#else /* one process, one rank */

int hvt_ranks_init(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

void hvt_ranks_finalize(void)
{
}

int hvt_ranks_mpi(void)
{
	return 0;
}

int hvt_rank(void)
{
	return 0;
}

int hvt_nranks(void)
{
	return 1;
}

void hvt_ranks_local(int *lr, int *ls)
{
	*lr = 0;
	*ls = 1;
}

int hvt_ranks_bcast(void *buf, size_t len)
{
	(void)buf;
	(void)len;
	return 0;
}

int hvt_ranks_bcast_from(int root, void *buf, size_t len)
{
	(void)root;
	(void)buf;
	(void)len;
	return 0;
}

int hvt_ranks_barrier(void)
{
	return 0;
}

int hvt_ranks_ibarrier_start(void)
{
	return 0;
}

int hvt_ranks_ibarrier_test(void)
{
	return 1;
}

int hvt_ranks_decide(int v)
{
	return v;
}

int hvt_ranks_all(int ok)
{
	return ok != 0;
}

int hvt_ranks_max_i64(int64_t *v, int n)
{
	(void)v;
	(void)n;
	return 0;
}

int hvt_ranks_same(uint64_t v)
{
	(void)v;
	return 1;
}

uint64_t hvt_ranks_sum_u64(uint64_t v)
{
	return v;
}

double hvt_ranks_combine(double v, enum hvt_combine how)
{
	(void)how;
	return v;
}

int hvt_ranks_allreduce_sum(const void *send, void *recv, size_t count, enum hvt_rdtype t)
{
	/* a sum over one rank is a copy */
	if (recv)
		memcpy(recv, send, count * (t == HVT_RD_DOUBLE ? sizeof(double) : sizeof(float)));
	return 0;
}

int hvt_ranks_allreduce_loop(const void *send, void *recv, size_t count, enum hvt_rdtype t,
			     int64_t iters)
{
	for (int64_t k = 0; k < iters; k++)
		(void)hvt_ranks_allreduce_sum(send, recv, count, t);
	return 0;
}

const char *hvt_ranks_library(void)
{
	return NULL;
}

#endif
