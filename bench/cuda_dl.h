/* SPDX-License-Identifier: MIT */
/* The CUDA runtime, NCCL and NVML, loaded at run time with dlopen (no link-time dependency). */
#ifndef HVT_CUDA_DL_H
#define HVT_CUDA_DL_H

#include <stddef.h>

/*
 * hvtax-bench goes into containers and VM images, so it links none of the
 * GPU libraries: they are opened at run time, and a machine without them
 * gets GPU cases skipped with the reason. The CUDA runtime and NCCL tables
 * are typed from the CUDA headers (HAVE_CUDA: headers found at CUDA_HOME at
 * build time); NVML is declared here, so the GPU fingerprint needs no
 * headers at all.
 */

#ifdef HAVE_CUDA
#include <cuda_runtime_api.h>
#include <nccl.h>

/* A function pointer of the same type as the header's declaration. */
#define HVT_DL_FN(f) __typeof__(&f) f

struct hvt_cudart {
	HVT_DL_FN(cudaGetDeviceCount);
	HVT_DL_FN(cudaSetDevice);
	HVT_DL_FN(cudaMalloc);
	HVT_DL_FN(cudaFree);
	HVT_DL_FN(cudaMallocHost);
	HVT_DL_FN(cudaFreeHost);
	HVT_DL_FN(cudaMemcpy);
	HVT_DL_FN(cudaMemcpyAsync);
	HVT_DL_FN(cudaMemset);
	HVT_DL_FN(cudaStreamCreateWithFlags);
	HVT_DL_FN(cudaStreamDestroy);
	HVT_DL_FN(cudaStreamSynchronize);
	HVT_DL_FN(cudaEventCreate);
	HVT_DL_FN(cudaEventRecord);
	HVT_DL_FN(cudaEventSynchronize);
	HVT_DL_FN(cudaEventElapsedTime);
	HVT_DL_FN(cudaEventDestroy);
	HVT_DL_FN(cudaGetErrorString);
	HVT_DL_FN(cudaDeviceGetAttribute);
	HVT_DL_FN(cudaDeviceGetPCIBusId);
	HVT_DL_FN(cudaRuntimeGetVersion);
	HVT_DL_FN(cudaDriverGetVersion);
	HVT_DL_FN(cudaDeviceSynchronize);
};

struct hvt_nccl {
	HVT_DL_FN(ncclGetVersion);
	HVT_DL_FN(ncclGetUniqueId);
	HVT_DL_FN(ncclCommInitRank);
	HVT_DL_FN(ncclCommInitAll);
	HVT_DL_FN(ncclCommDestroy);
	HVT_DL_FN(ncclAllReduce);
	HVT_DL_FN(ncclGroupStart);
	HVT_DL_FN(ncclGroupEnd);
	HVT_DL_FN(ncclGetErrorString);
};

/*
 * The CUDA runtime, opened once. 0 with *rt set and at least one device;
 * -ENOENT "no CUDA runtime library found", -ENODEV "no CUDA device (...)",
 * with the reason in `why`. The table lives until exit.
 */
int hvt_cudart_open(const struct hvt_cudart **rt, char *why, size_t len)
    __attribute__((warn_unused_result));
/* NCCL, opened once: 0 with *nc set, or -ENOENT "no NCCL library found". */
int hvt_nccl_open(const struct hvt_nccl **nc, char *why, size_t len)
    __attribute__((warn_unused_result));
#endif /* HAVE_CUDA */

/*
 * Number of CUDA devices, 0 when there are none or no runtime (reason in
 * `why`); always 0 when built without CUDA headers.
 */
int hvt_cuda_ndev(char *why, size_t len);

/* NCCL's version as "2.28.9", or NULL (library absent or built without CUDA). */
const char *hvt_nccl_version(void);

/* ---- NVML: declared here, opened at run time ---- */

struct hvt_nvml_dev;
typedef int hvt_nvml_ret; /* nvmlReturn_t: 0 = success */

/* nvmlPciInfo_t as of NVML v3 (stable layout). */
struct hvt_nvml_pci {
	char bus_id_legacy[16];
	unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
	char bus_id[32];
};

struct hvt_nvml_mem {
	unsigned long long total, free, used;
};

enum {
	HVT_NVML_NVLINK_MAX = 18, /* NVML_NVLINK_MAX_LINKS */
	HVT_NVML_P2P_READ = 0,	  /* nvmlGpuP2PCapsIndex_t */
	HVT_NVML_P2P_NVLINK = 2,
	HVT_NVML_P2P_OK = 0,	/* nvmlGpuP2PStatus_t */
	HVT_NVML_VIRT_NONE = 0, /* nvmlGpuVirtualizationMode_t */
	HVT_NVML_VIRT_PASSTHROUGH = 1,
	HVT_NVML_VIRT_VGPU = 2,
	HVT_NVML_VIRT_HOST_VGPU = 3,
	HVT_NVML_VIRT_HOST_VSGA = 4,
};

/* Entry points; optional ones (newer drivers) may be NULL. */
struct hvt_nvml {
	hvt_nvml_ret (*init)(void); /* nvmlInit_v2 */
	hvt_nvml_ret (*shutdown)(void);
	const char *(*error_string)(hvt_nvml_ret);
	hvt_nvml_ret (*driver_version)(char *, unsigned);	  /* nvmlSystemGetDriverVersion */
	hvt_nvml_ret (*cuda_driver_version)(int *);		  /* _v2 */
	hvt_nvml_ret (*count)(unsigned *);			  /* nvmlDeviceGetCount_v2 */
	hvt_nvml_ret (*handle)(unsigned, struct hvt_nvml_dev **); /* ByIndex_v2 */
	hvt_nvml_ret (*name)(struct hvt_nvml_dev *, char *, unsigned);
	hvt_nvml_ret (*uuid)(struct hvt_nvml_dev *, char *, unsigned);
	hvt_nvml_ret (*pci)(struct hvt_nvml_dev *, struct hvt_nvml_pci *); /* _v3 or _v2 */
	hvt_nvml_ret (*pcie_gen)(struct hvt_nvml_dev *, unsigned *);	   /* current */
	hvt_nvml_ret (*pcie_gen_max)(struct hvt_nvml_dev *, unsigned *);
	hvt_nvml_ret (*pcie_width)(struct hvt_nvml_dev *, unsigned *);
	hvt_nvml_ret (*pcie_width_max)(struct hvt_nvml_dev *, unsigned *);
	hvt_nvml_ret (*memory)(struct hvt_nvml_dev *, struct hvt_nvml_mem *);
	hvt_nvml_ret (*nvlink_state)(struct hvt_nvml_dev *, unsigned, int *);
	hvt_nvml_ret (*p2p_status)(struct hvt_nvml_dev *, struct hvt_nvml_dev *, int, int *);
	hvt_nvml_ret (*mig_mode)(struct hvt_nvml_dev *, unsigned *, unsigned *);
	hvt_nvml_ret (*virt_mode)(struct hvt_nvml_dev *, int *);
	hvt_nvml_ret (*numa_node)(struct hvt_nvml_dev *, unsigned *); /* optional */
};

/*
 * NVML, opened and initialised once. 0 with *nv set; -ENOENT when
 * libnvidia-ml is absent, -ENODEV when nvmlInit fails (reason in `why`).
 */
int hvt_nvml_open(const struct hvt_nvml **nv, char *why, size_t len)
    __attribute__((warn_unused_result));

/*
 * Open the first of `names` that loads: bare names through the dynamic
 * loader, then in $CUDA_HOME/lib, $CUDA_HOME/lib64 and the build-time
 * CUDA_HOME. Returns the handle or NULL. For the loaders above and tests.
 */
void *hvt_dl_open_first(const char *const *names);

#endif
