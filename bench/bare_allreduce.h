/* SPDX-License-Identifier: MIT */
#ifndef HVT_BARE_ALLREDUCE_H
#define HVT_BARE_ALLREDUCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A bare MPI_Allreduce loop (float, sum, out of place, page-aligned buffers
 * touched first), as a standalone benchmark writes it. Per size: double the
 * call count until one timed loop takes a quarter of `dur_s`, scale it to
 * `dur_s`, then `reps` timed loops between barriers; each rank's mean time
 * per call, the max over ranks, goes to `out` on rank 0 as "BYTES SECONDS".
 * MPI must be initialised. 0, -ENOMEM or -EOVERFLOW (more than INT_MAX floats);
 * -ENOTSUP in a build without MPI.
 */
int hvt_bare_allreduce(double dur_s, int reps, const uint64_t *bytes, size_t nsizes, FILE *out);

#endif
