/* SPDX-License-Identifier: MIT */
/*
 * The control that coll.allreduce's mpi backend is compared with: one source
 * built twice, into hvtax-bench-mpi (`hvtax-bench-mpi bare-allreduce`, run
 * right after MPI_Init) and by scripts/compare-mpi.sh as a program of its own
 * (-DHVT_BARE_MAIN), so the two controls are the same code by construction.
 * Nothing of hvtax is in it.
 */
#ifdef HAVE_MPI
#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "bare_allreduce.h"

int hvt_bare_allreduce(double dur_s, int reps, const uint64_t *bytes, size_t nsizes, FILE *out)
{
	int rank;

	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	for (size_t z = 0; z < nsizes; z++) {
		size_t count = bytes[z] / sizeof(float), al = (bytes[z] + 4095) & ~(size_t)4095;
		float *s, *r;
		double t, tmax;
		long n = 1;

		if (count > INT_MAX)
			return -EOVERFLOW;
		s = aligned_alloc(4096, al);
		r = aligned_alloc(4096, al);
		if (!s || !r) {
			free(s);
			free(r);
			return -ENOMEM;
		}
		for (size_t i = 0; i < count; i++)
			s[i] = (float)(rank + (int)(i % 3) + 1);
		memset(r, 0, bytes[z]);
		for (;;) { /* every rank sees the same max and takes the same branch */
			MPI_Barrier(MPI_COMM_WORLD);
			t = MPI_Wtime();
			for (long k = 0; k < n; k++)
				MPI_Allreduce(s, r, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
			t = MPI_Wtime() - t;
			MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
			if (tmax >= dur_s / 4 || n > (1L << 40))
				break;
			n *= 2;
		}
		if (tmax > 0)
			n = (long)((double)n * dur_s / tmax) + 1;
		for (int k = 0; k < reps; k++) {
			MPI_Barrier(MPI_COMM_WORLD);
			t = MPI_Wtime();
			for (long i = 0; i < n; i++)
				MPI_Allreduce(s, r, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
			t = (MPI_Wtime() - t) / (double)n;
			MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
			if (rank == 0)
				fprintf(out, "%llu %.9e\n", (unsigned long long)bytes[z], tmax);
		}
		free(s);
		free(r);
	}
	return 0;
}

#ifdef HVT_BARE_MAIN
/* bare-allreduce DURATION_S REPS BYTES... (under mpirun) */
int main(int argc, char **argv)
{
	uint64_t *bytes;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: %s DURATION_S REPS BYTES...\n", argv[0]);
		return 2;
	}
	MPI_Init(&argc, &argv);
	bytes = calloc((size_t)argc - 3, sizeof(*bytes));
	if (!bytes)
		MPI_Abort(MPI_COMM_WORLD, 1);
	for (int a = 3; a < argc; a++)
		bytes[a - 3] = strtoull(argv[a], NULL, 10);
	r = hvt_bare_allreduce(atof(argv[1]), atoi(argv[2]), bytes, (size_t)argc - 3, stdout);
	free(bytes);
	MPI_Finalize();
	return r ? 1 : 0;
}
#endif
#else /* hvtax-bench without MPI: the command says what to run instead */
#include <errno.h>

#include "bare_allreduce.h"

int hvt_bare_allreduce(double dur_s, int reps, const uint64_t *bytes, size_t nsizes, FILE *out)
{
	(void)dur_s;
	(void)reps;
	(void)bytes;
	(void)nsizes;
	(void)out;
	return -ENOTSUP;
}
#endif
