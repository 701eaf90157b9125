/* SPDX-License-Identifier: MIT */
/* GPUs: the fingerprint (NVML), and the NCCL AllReduce engine that coll.allreduce drives. */
#ifndef HVT_GPU_H
#define HVT_GPU_H

#include <jansson.h>
#include <stdint.h>

#include "coll.h"

/*
 * The GPUs of this machine as NVML sees them, loaded at run time: model,
 * memory, driver and CUDA driver versions, PCIe generation and width
 * (current and maximum, and the link's theoretical rate per direction),
 * NUMA affinity, active NVLink links, the peer-to-peer matrix (read and
 * NVLink), MIG mode, and the virtualization mode (bare metal, passthrough,
 * vGPU); plus the NCCL and CUDA runtime versions when those load.
 * Without GPUs: {"present": false, "reason": "..."}. New reference, never NULL.
 */
json_t *hvt_gpu_fingerprint(void);

/* PCIe theoretical rate per direction in B/s for a generation and lane count (0 if unknown). */
double hvt_pcie_Bps(unsigned gen, unsigned width);

/* ---- NCCL AllReduce over local GPUs, and across ranks under MPI ---- */

struct hvt_nccl_ar;

struct hvt_nccl_ar_cfg {
	enum hvt_coll_dtype dtype;
	uint64_t count; /* elements per GPU */
	int inplace;
	int gpus; /* GPUs driven by this process; 0 = all local ones (1 per rank under MPI) */
};

/*
 * Can NCCL AllReduce run here? 0, or -ENODEV/-ENOENT/-EOPNOTSUPP with the
 * reason ("no CUDA device (...)", "no CUDA runtime library found", "built
 * without CUDA headers ..."). Local: the caller makes it collective.
 */
int hvt_nccl_ar_probe(char *why, size_t len);

/*
 * Communicators, streams, events and buffers for one case. Under MPI,
 * collective (rank 0's NCCL id is broadcast). 0 or -errno, with a message
 * in `why`; *out is set even on failure (free it with hvt_nccl_ar_free).
 */
int hvt_nccl_ar_setup(struct hvt_nccl_ar **out, const struct hvt_nccl_ar_cfg *cfg, char *why,
		      size_t len) __attribute__((warn_unused_result));
/* `iters` AllReduces back to back; *t_s: the slowest local GPU's CUDA-event time of all of them. */
int hvt_nccl_ar_batch(struct hvt_nccl_ar *a, int64_t iters, double *t_s)
    __attribute__((warn_unused_result));
/* Refill, one AllReduce, copy back and count wrong elements over the local GPUs. */
int hvt_nccl_ar_check(struct hvt_nccl_ar *a, uint64_t *wrong) __attribute__((warn_unused_result));
/* NCCL ranks in the communicator (all GPUs of all processes): the n of busbw. */
int hvt_nccl_ar_nranks(const struct hvt_nccl_ar *a);
/* What was used: devices, NCCL version. New reference. */
json_t *hvt_nccl_ar_describe(const struct hvt_nccl_ar *a);
/* Frees a half-built engine too; NULL is fine. */
void hvt_nccl_ar_free(struct hvt_nccl_ar *a);

#endif
