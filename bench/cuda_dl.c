/* SPDX-License-Identifier: MIT */
/* Run-time loading of libcudart, libnccl and libnvidia-ml, with the reason when one is missing. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "cuda_dl.h"

#ifndef HVT_CUDA_HOME
#define HVT_CUDA_HOME "/usr/local/cuda"
#endif

/* The symbol a header name stands for (cudaMemcpy may be a macro for a _ptds variant). */
#define HVT_STR(x) #x
#define HVT_XSTR(x) HVT_STR(x)

static void *try_dir(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (!dir || !dir[0])
		return NULL;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return NULL;
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

void *hvt_dl_open_first(const char *const *names)
{
	const char *env = getenv("CUDA_HOME");
	static const char *const subdirs[] = {"lib", "lib64", "targets/x86_64-linux/lib"};

	for (size_t i = 0; names[i]; i++) {
		void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);

		if (h)
			return h;
	}
	for (int home = 0; home < 2; home++) {
		const char *base = home ? HVT_CUDA_HOME : env;
		char dir[PATH_MAX];

		if (!base || !base[0] || (home && env && strcmp(env, HVT_CUDA_HOME) == 0))
			continue;
		for (size_t d = 0; d < HVT_ARRAY_SIZE(subdirs); d++) {
			if (snprintf(dir, sizeof(dir), "%s/%s", base, subdirs[d]) >=
			    (int)sizeof(dir))
				continue;
			for (size_t i = 0; names[i]; i++) {
				void *h = try_dir(dir, names[i]);

				if (h)
					return h;
			}
		}
	}
	return NULL;
}

#ifdef HAVE_CUDA

/* Fill `n` function pointers from `syms`; the first missing name, or NULL when all resolved. */
static const char *resolve(void *h, void **slots, const char *const *syms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		slots[i] = dlsym(h, syms[i]);
		if (!slots[i])
			return syms[i];
	}
	return NULL;
}

static const char *const cudart_syms[] = {
    HVT_XSTR(cudaGetDeviceCount),
    HVT_XSTR(cudaSetDevice),
    HVT_XSTR(cudaMalloc),
    HVT_XSTR(cudaFree),
    HVT_XSTR(cudaMallocHost),
    HVT_XSTR(cudaFreeHost),
    HVT_XSTR(cudaMemcpy),
    HVT_XSTR(cudaMemcpyAsync),
    HVT_XSTR(cudaMemset),
    HVT_XSTR(cudaStreamCreateWithFlags),
    HVT_XSTR(cudaStreamDestroy),
    HVT_XSTR(cudaStreamSynchronize),
    HVT_XSTR(cudaEventCreate),
    HVT_XSTR(cudaEventRecord),
    HVT_XSTR(cudaEventSynchronize),
    HVT_XSTR(cudaEventElapsedTime),
    HVT_XSTR(cudaEventDestroy),
    HVT_XSTR(cudaGetErrorString),
    HVT_XSTR(cudaDeviceGetAttribute),
    HVT_XSTR(cudaDeviceGetPCIBusId),
    HVT_XSTR(cudaRuntimeGetVersion),
    HVT_XSTR(cudaDriverGetVersion),
    HVT_XSTR(cudaDeviceSynchronize),
};
_Static_assert(sizeof(struct hvt_cudart) == sizeof(cudart_syms), "one name per cudart entry");

static const char *const nccl_syms[] = {
    "ncclGetVersion",  "ncclGetUniqueId", "ncclCommInitRank",
    "ncclCommInitAll", "ncclCommDestroy", "ncclAllReduce",
    "ncclGroupStart",  "ncclGroupEnd",	  "ncclGetErrorString",
};
_Static_assert(sizeof(struct hvt_nccl) == sizeof(nccl_syms), "one name per nccl entry");

static pthread_once_t cudart_once = PTHREAD_ONCE_INIT, nccl_once = PTHREAD_ONCE_INIT;
static struct hvt_cudart cudart;
static struct hvt_nccl nccl;
static int cudart_err, nccl_err;
static char cudart_why[256], nccl_why[256];

/* The runtime we were compiled against first, then the others this code works with. */
static void cudart_load(void)
{
	char so[32];
	const char *names[] = {so, "libcudart.so.13", "libcudart.so.12", "libcudart.so", NULL};
	void *h;
	const char *miss;
	int n = 0;
	cudaError_t e;

	snprintf(so, sizeof(so), "libcudart.so.%d", CUDART_VERSION / 1000);
	h = hvt_dl_open_first(names);
	if (!h) {
		cudart_err = -ENOENT;
		snprintf(cudart_why, sizeof(cudart_why),
			 "no CUDA runtime library found (libcudart.so)");
		return;
	}
	miss = resolve(h, (void **)&cudart, cudart_syms, HVT_ARRAY_SIZE(cudart_syms));
	if (miss) {
		cudart_err = -ENOENT;
		snprintf(cudart_why, sizeof(cudart_why),
			 "no CUDA runtime library found ('%s' lacks '%s')", "libcudart", miss);
		return;
	}
	e = cudart.cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n < 1) {
		cudart_err = -ENODEV;
		if (e != cudaSuccess)
			snprintf(cudart_why, sizeof(cudart_why), "no CUDA device (%s)",
				 cudart.cudaGetErrorString(e));
		else
			snprintf(cudart_why, sizeof(cudart_why), "no CUDA device");
	}
}

int hvt_cudart_open(const struct hvt_cudart **rt, char *why, size_t len)
{
	pthread_once(&cudart_once, cudart_load);
	if (cudart_err) {
		snprintf(why, len, "%s", cudart_why);
		return cudart_err;
	}
	*rt = &cudart;
	return 0;
}

static void nccl_load(void)
{
	static const char *const names[] = {"libnccl.so.2", "libnccl.so", NULL};
	void *h = hvt_dl_open_first(names);
	const char *miss;

	if (!h) {
		nccl_err = -ENOENT;
		snprintf(nccl_why, sizeof(nccl_why), "no NCCL library found (libnccl.so.2)");
		return;
	}
	miss = resolve(h, (void **)&nccl, nccl_syms, HVT_ARRAY_SIZE(nccl_syms));
	if (miss) {
		nccl_err = -ENOENT;
		snprintf(nccl_why, sizeof(nccl_why), "no NCCL library found ('libnccl' lacks '%s')",
			 miss);
	}
}

int hvt_nccl_open(const struct hvt_nccl **nc, char *why, size_t len)
{
	pthread_once(&nccl_once, nccl_load);
	if (nccl_err) {
		snprintf(why, len, "%s", nccl_why);
		return nccl_err;
	}
	*nc = &nccl;
	return 0;
}

int hvt_cuda_ndev(char *why, size_t len)
{
	const struct hvt_cudart *rt;
	int n = 0;

	if (hvt_cudart_open(&rt, why, len))
		return 0;
	if (rt->cudaGetDeviceCount(&n) != cudaSuccess)
		return 0;
	return n;
}

const char *hvt_nccl_version(void)
{
	static char ver[32];
	const struct hvt_nccl *nc;
	char why[256];
	int v = 0;

	if (ver[0])
		return ver;
	if (hvt_nccl_open(&nc, why, sizeof(why)) || nc->ncclGetVersion(&v) != ncclSuccess)
		return NULL;
	/* NCCL_VERSION(X,Y,Z): X*10000+Y*100+Z since 2.9, X*1000+Y*100+Z before */
	if (v >= 10000)
		snprintf(ver, sizeof(ver), "%d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
	else
		snprintf(ver, sizeof(ver), "%d.%d.%d", v / 1000, (v % 1000) / 100, v % 100);
	return ver;
}

#else /* built without the CUDA headers */

int hvt_cuda_ndev(char *why, size_t len)
{
	snprintf(why, len, "built without CUDA headers (set CUDA_HOME and rebuild)");
	return 0;
}

const char *hvt_nccl_version(void)
{
	return NULL;
}

#endif /* HAVE_CUDA */

/* ---- NVML ---- */

static const char *const nvml_syms[] = {
    "nvmlInit_v2",
    "nvmlShutdown",
    "nvmlErrorString",
    "nvmlSystemGetDriverVersion",
    "nvmlSystemGetCudaDriverVersion_v2",
    "nvmlDeviceGetCount_v2",
    "nvmlDeviceGetHandleByIndex_v2",
    "nvmlDeviceGetName",
    "nvmlDeviceGetUUID",
    "nvmlDeviceGetPciInfo_v3",
    "nvmlDeviceGetCurrPcieLinkGeneration",
    "nvmlDeviceGetMaxPcieLinkGeneration",
    "nvmlDeviceGetCurrPcieLinkWidth",
    "nvmlDeviceGetMaxPcieLinkWidth",
    "nvmlDeviceGetMemoryInfo",
    "nvmlDeviceGetNvLinkState",
    "nvmlDeviceGetP2PStatus",
    "nvmlDeviceGetMigMode",
    "nvmlDeviceGetVirtualizationMode",
    "nvmlDeviceGetNumaNodeId",
};
_Static_assert(sizeof(struct hvt_nvml) == sizeof(nvml_syms), "one name per nvml entry");

static pthread_once_t nvml_once = PTHREAD_ONCE_INIT;
static struct hvt_nvml nvml;
static int nvml_err;
static char nvml_why[256];

static void nvml_load(void)
{
	static const char *const names[] = {"libnvidia-ml.so.1", "libnvidia-ml.so", NULL};
	/* the entry points every driver since CUDA 10 has; the rest are optional */
	static const size_t nreq = 4;
	void **slots = (void **)&nvml;
	void *h = hvt_dl_open_first(names);
	hvt_nvml_ret r;

	if (!h) {
		nvml_err = -ENOENT;
		snprintf(nvml_why, sizeof(nvml_why),
			 "no NVIDIA driver (libnvidia-ml.so.1 not found)");
		return;
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(nvml_syms); i++) {
		slots[i] = dlsym(h, nvml_syms[i]);
		if (!slots[i] &&
		    i == 9) /* older drivers: the same struct as nvmlDeviceGetPciInfo_v2 */
			slots[i] = dlsym(h, "nvmlDeviceGetPciInfo_v2");
		if (!slots[i] && i < nreq) {
			nvml_err = -ENOENT;
			snprintf(nvml_why, sizeof(nvml_why), "libnvidia-ml lacks '%s'",
				 nvml_syms[i]);
			return;
		}
	}
	r = nvml.init();
	if (r) {
		nvml_err = -ENODEV;
		snprintf(nvml_why, sizeof(nvml_why), "NVML cannot start: %s", nvml.error_string(r));
	}
}

int hvt_nvml_open(const struct hvt_nvml **nv, char *why, size_t len)
{
	pthread_once(&nvml_once, nvml_load);
	if (nvml_err) {
		snprintf(why, len, "%s", nvml_why);
		return nvml_err;
	}
	*nv = &nvml;
	return 0;
}
