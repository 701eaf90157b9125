/* SPDX-License-Identifier: MIT */
/* The gpu family (host<->device copy bandwidth), the GPU fingerprint, and the NCCL AllReduce
 * engine. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "cuda_dl.h"
#include "families.h"
#include "gpu.h"
#include "ranks.h"

double hvt_pcie_Bps(unsigned gen, unsigned width)
{
	/* per lane and direction: transfer rate x line-code efficiency / 8 bits */
	static const double gts[] = {0, 2.5, 5, 8, 16, 32, 64};
	double eff;

	if (gen < 1 || gen >= HVT_ARRAY_SIZE(gts) || !width)
		return 0;
	if (gen <= 2)
		eff = 8.0 / 10.0; /* 8b/10b */
	else if (gen <= 5)
		eff = 128.0 / 130.0; /* 128b/130b */
	else
		eff = 242.0 / 256.0; /* gen 6 FLIT mode, PAM4 */
	return gts[gen] * 1e9 * eff / 8.0 * width;
}

/* ---- fingerprint ---- */

static const char *virt_name(int m)
{
	switch (m) {
	case HVT_NVML_VIRT_NONE:
		return "none";
	case HVT_NVML_VIRT_PASSTHROUGH:
		return "passthrough";
	case HVT_NVML_VIRT_VGPU:
		return "vgpu";
	case HVT_NVML_VIRT_HOST_VGPU:
		return "host_vgpu";
	case HVT_NVML_VIRT_HOST_VSGA:
		return "host_vsga";
	default:
		return "unknown";
	}
}

/* NUMA node of a PCI device from sysfs, for drivers without nvmlDeviceGetNumaNodeId. */
static int sysfs_numa(const char *nvml_bus_id)
{
	char path[256], id[32], *txt;
	size_t l = strlen(nvml_bus_id);
	int node = -1;

	/* NVML: "00000000:3B:00.0" (32-bit domain); sysfs: "0000:3b:00.0" */
	if (l < 12)
		return -1;
	snprintf(id, sizeof(id), "%s", nvml_bus_id + l - 12);
	for (char *c = id; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/numa_node", id);
	txt = hvt_read_file(path, NULL);
	if (txt) {
		node = atoi(txt);
		free(txt);
	}
	return node;
}

static json_t *gpu_one(const struct hvt_nvml *nv, struct hvt_nvml_dev *d, unsigned idx)
{
	char name[96] = "", uuid[96] = "";
	struct hvt_nvml_pci pci;
	struct hvt_nvml_mem mem;
	unsigned gen = 0, genmax = 0, w = 0, wmax = 0, cur, pend, node;
	int vm, active, nlinks = 0;
	json_t *g = json_pack("{s:i}", "index", (int)idx);

	if (nv->name && !nv->name(d, name, sizeof(name)))
		json_object_set_new(g, "model", json_string(name));
	if (nv->uuid && !nv->uuid(d, uuid, sizeof(uuid)))
		json_object_set_new(g, "uuid", json_string(uuid));
	memset(&pci, 0, sizeof(pci));
	if (nv->pci && !nv->pci(d, &pci)) {
		pci.bus_id[sizeof(pci.bus_id) - 1] = '\0';
		json_object_set_new(g, "pci_bus_id", json_string(pci.bus_id));
		json_object_set_new(g, "pci_device_id", json_integer(pci.pci_device_id));
	}
	if (nv->memory && !nv->memory(d, &mem))
		json_object_set_new(g, "memory_bytes", json_integer((json_int_t)mem.total));
	if (nv->pcie_gen && !nv->pcie_gen(d, &gen))
		json_object_set_new(g, "pcie_gen", json_integer(gen));
	if (nv->pcie_gen_max && !nv->pcie_gen_max(d, &genmax))
		json_object_set_new(g, "pcie_gen_max", json_integer(genmax));
	if (nv->pcie_width && !nv->pcie_width(d, &w))
		json_object_set_new(g, "pcie_width", json_integer(w));
	if (nv->pcie_width_max && !nv->pcie_width_max(d, &wmax))
		json_object_set_new(g, "pcie_width_max", json_integer(wmax));
	/* idle GPUs train the link down: the maximum is what a copy will get */
	if (hvt_pcie_Bps(genmax ? genmax : gen, wmax ? wmax : w) > 0)
		json_object_set_new(
		    g, "pcie_link_Bps",
		    json_real(hvt_pcie_Bps(genmax ? genmax : gen, wmax ? wmax : w)));
	if (nv->numa_node && !nv->numa_node(d, &node))
		json_object_set_new(g, "numa_node", json_integer(node));
	else if (pci.bus_id[0])
		json_object_set_new(g, "numa_node", json_integer(sysfs_numa(pci.bus_id)));
	if (nv->nvlink_state) {
		for (unsigned l = 0; l < HVT_NVML_NVLINK_MAX; l++) {
			if (nv->nvlink_state(d, l, &active))
				break;
			nlinks += active != 0;
		}
		json_object_set_new(g, "nvlink_active_links", json_integer(nlinks));
	}
	if (nv->mig_mode && !nv->mig_mode(d, &cur, &pend))
		json_object_set_new(g, "mig", json_boolean(cur != 0));
	else
		json_object_set_new(g, "mig", json_string("unsupported"));
	if (nv->virt_mode && !nv->virt_mode(d, &vm))
		json_object_set_new(g, "virtualization", json_string(virt_name(vm)));
	return g;
}

json_t *hvt_gpu_fingerprint(void)
{
	const struct hvt_nvml *nv;
	char why[256] = "", drv[96] = "";
	struct hvt_nvml_dev *devs[64];
	unsigned n = 0;
	int cudadrv = 0;
	json_t *fp, *gpus, *p2p;
	const char *ncclv = hvt_nccl_version();
	int r = hvt_nvml_open(&nv, why, sizeof(why));

	if (!r && (nv->count(&n) || n == 0)) {
		snprintf(why, sizeof(why), "NVML sees no GPU");
		r = -ENODEV;
	}
	if (r) {
		fp = json_pack("{s:b,s:s}", "present", 0, "reason", why);
		if (ncclv)
			json_object_set_new(fp, "nccl_version", json_string(ncclv));
		return fp;
	}
	if (n > HVT_ARRAY_SIZE(devs))
		n = HVT_ARRAY_SIZE(devs);
	fp = json_pack("{s:b,s:i}", "present", 1, "count", (int)n);
	if (nv->driver_version && !nv->driver_version(drv, sizeof(drv)))
		json_object_set_new(fp, "driver_version", json_string(drv));
	if (nv->cuda_driver_version && !nv->cuda_driver_version(&cudadrv))
		json_object_set_new(fp, "cuda_driver_version",
				    json_sprintf("%d.%d", cudadrv / 1000, (cudadrv % 1000) / 10));
	if (ncclv)
		json_object_set_new(fp, "nccl_version", json_string(ncclv));
	gpus = json_array();
	for (unsigned i = 0; i < n; i++) {
		if (nv->handle(i, &devs[i])) {
			devs[i] = NULL;
			continue;
		}
		json_array_append_new(gpus, gpu_one(nv, devs[i], i));
	}
	json_object_set_new(fp, "gpus", gpus);
	/* p2p[i][j]: "nvlink", "pcie" (read access over PCIe), "none", or null (unknown) */
	p2p = json_array();
	for (unsigned i = 0; nv->p2p_status && i < n; i++) {
		json_t *row = json_array();

		for (unsigned j = 0; j < n; j++) {
			int st_nv = -1, st_rd = -1;

			if (i == j || !devs[i] || !devs[j]) {
				json_array_append_new(row, json_null());
				continue;
			}
			if (nv->p2p_status(devs[i], devs[j], HVT_NVML_P2P_NVLINK, &st_nv))
				st_nv = -1;
			if (nv->p2p_status(devs[i], devs[j], HVT_NVML_P2P_READ, &st_rd))
				st_rd = -1;
			json_array_append_new(row,
					      json_string(st_nv == HVT_NVML_P2P_OK   ? "nvlink"
							  : st_rd == HVT_NVML_P2P_OK ? "pcie"
										     : "none"));
		}
		json_array_append_new(p2p, row);
	}
	json_object_set_new(fp, "p2p", p2p);
	return fp;
}

/* ---- gpu.copy and the NCCL engine: CUDA runtime through cuda_dl ---- */

struct copy_params {
	const char *dir;
	const char *host;
	uint64_t size;
	int64_t gpu;
	int64_t iters;
};

static const char *const copy_dirs[] = {"h2d", "d2h", "d2d", NULL};
static const char *const copy_hosts[] = {"pinned", "pageable", NULL};

static const struct hvt_param copy_params[] = {
    {"dir", HVT_P_CHOICE, offsetof(struct copy_params, dir), "h2d", 0, -1, copy_dirs,
     "h2d: host to device; d2h: device to host; d2d: within the device"},
    {"host", HVT_P_CHOICE, offsetof(struct copy_params, host), "pinned", 0, -1, copy_hosts,
     "host buffer: pinned (cudaMallocHost, DMA straight from it) or pageable (malloc, staged)"},
    {"size", HVT_P_SIZE, offsetof(struct copy_params, size), "64MiB", 1, 68719476736.0, NULL,
     "bytes per copy; sweep as 4KiB..1GiB*4"},
    {"gpu", HVT_P_INT, offsetof(struct copy_params, gpu), "0", 0, 1023, NULL, "CUDA device index"},
    {"iters", HVT_P_INT, offsetof(struct copy_params, iters), "0", 0, 1e9, NULL,
     "copies per timed batch; 0 = auto (batches of about 1/20 of the duration, 1..20 ms)"},
};

static const struct hvt_metric copy_metrics[] = {
    {"bw", "B/s", HVT_HIGHER_IS_BETTER,
     "bytes copied / time (each copy counted once, also d2d: nvbandwidth's convention)"},
    {"time", "s", HVT_LOWER_IS_BETTER, "time of one copy"},
};

#ifdef HAVE_CUDA

static int cuda_fail(cudaError_t e, const char *what, char *why, size_t len)
{
	const struct hvt_cudart *rt;
	char w[64];

	if (e == cudaSuccess)
		return 0;
	if (!hvt_cudart_open(&rt, w, sizeof(w)))
		snprintf(why, len, "%s: %s", what, rt->cudaGetErrorString(e));
	else
		snprintf(why, len, "%s: CUDA error %d", what, (int)e);
	return -EIO;
}

static int copy_probe(const void *params, char *why, size_t len)
{
	const struct copy_params *p = params;
	int n = hvt_cuda_ndev(why, len);

	if (n < 1)
		return -ENODEV;
	if (p->gpu >= n) {
		snprintf(why, len, "no CUDA device %lld (this machine has %d)", (long long)p->gpu,
			 n);
		return -ENODEV;
	}
	if (strcmp(p->dir, "d2d") == 0 && strcmp(p->host, "pageable") == 0) {
		snprintf(why, len, "d2d uses no host memory: the host=pinned case measures it");
		return -EOPNOTSUPP;
	}
	return 0;
}

struct copy_state {
	const struct hvt_cudart *rt;
	enum cudaMemcpyKind kind;
	void *host, *dev, *dev2;
	int pinned;
	cudaStream_t stream;
	cudaEvent_t ev0, ev1;
	int64_t iters;
	char bus_id[32];
	double pcie_Bps; /* the link's theoretical rate per direction, 0 if unknown */
};

/* The PCIe rate of the NVML GPU with the CUDA device's bus id (CUDA and NVML number GPUs
 * differently). */
static double link_rate(const char *bus_id)
{
	json_t *fp = hvt_gpu_fingerprint(), *g;
	size_t i, lb = strlen(bus_id);
	double bps = 0;

	json_array_foreach (json_object_get(fp, "gpus"), i, g) {
		const char *id = json_string_value(json_object_get(g, "pci_bus_id"));
		size_t li = id ? strlen(id) : 0;

		if (li >= 12 && lb >= 12 && strcasecmp(id + li - 12, bus_id + lb - 12) == 0)
			bps = json_number_value(json_object_get(g, "pcie_link_Bps"));
	}
	json_decref(fp);
	return bps;
}

static int copy_setup(const void *params, void **state)
{
	const struct copy_params *p = params;
	struct copy_state *s = hvt_calloc(1, sizeof(*s));
	const struct hvt_cudart *rt;
	char why[256] = "";
	int r;

	if (!s)
		return -ENOMEM;
	*state = s;
	r = hvt_cudart_open(&rt, why, sizeof(why));
	if (r)
		goto out;
	s->rt = rt;
	s->iters = p->iters;
	s->pinned = strcmp(p->host, "pinned") == 0;
	s->kind = strcmp(p->dir, "h2d") == 0   ? cudaMemcpyHostToDevice
		  : strcmp(p->dir, "d2h") == 0 ? cudaMemcpyDeviceToHost
					       : cudaMemcpyDeviceToDevice;
	r = cuda_fail(rt->cudaSetDevice((int)p->gpu), "cudaSetDevice", why, sizeof(why));
	if (!r)
		r = cuda_fail(rt->cudaMalloc(&s->dev, p->size), "cudaMalloc", why, sizeof(why));
	if (!r && s->kind == cudaMemcpyDeviceToDevice)
		r = cuda_fail(rt->cudaMalloc(&s->dev2, p->size), "cudaMalloc", why, sizeof(why));
	if (!r && s->kind != cudaMemcpyDeviceToDevice) {
		if (s->pinned) {
			r = cuda_fail(rt->cudaMallocHost(&s->host, p->size), "cudaMallocHost", why,
				      sizeof(why));
		} else {
			s->host = malloc(p->size);
			if (!s->host)
				r = -ENOMEM;
		}
		if (!r)
			memset(s->host, 0x5a, p->size); /* touch every page before timing */
	}
	if (!r)
		r = cuda_fail(rt->cudaMemset(s->dev, 0xa5, p->size), "cudaMemset", why,
			      sizeof(why));
	if (!r)
		r = cuda_fail(rt->cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking),
			      "cudaStreamCreate", why, sizeof(why));
	if (!r)
		r = cuda_fail(rt->cudaEventCreate(&s->ev0), "cudaEventCreate", why, sizeof(why));
	if (!r)
		r = cuda_fail(rt->cudaEventCreate(&s->ev1), "cudaEventCreate", why, sizeof(why));
	if (!r &&
	    rt->cudaDeviceGetPCIBusId(s->bus_id, sizeof(s->bus_id), (int)p->gpu) == cudaSuccess)
		s->pcie_Bps = link_rate(s->bus_id);
out:
	if (r && why[0])
		hvt_err("gpu.copy: %s", why);
	return r;
}

static void copy_teardown(const void *params, void *state)
{
	struct copy_state *s = state;

	(void)params;
	if (!s)
		return;
	if (s->rt) {
		if (s->ev0)
			s->rt->cudaEventDestroy(s->ev0);
		if (s->ev1)
			s->rt->cudaEventDestroy(s->ev1);
		if (s->stream)
			s->rt->cudaStreamDestroy(s->stream);
		if (s->dev)
			s->rt->cudaFree(s->dev);
		if (s->dev2)
			s->rt->cudaFree(s->dev2);
		if (s->host && s->pinned)
			s->rt->cudaFreeHost(s->host);
	}
	if (s->host && !s->pinned)
		free(s->host);
	free(s);
}

static int copy_batch(struct copy_state *s, uint64_t bytes, int64_t iters, double *t_s)
{
	const struct hvt_cudart *rt = s->rt;
	void *dst = s->kind == cudaMemcpyHostToDevice	? s->dev
		    : s->kind == cudaMemcpyDeviceToHost ? s->host
							: s->dev2;
	const void *src = s->kind == cudaMemcpyHostToDevice ? s->host : s->dev;
	char why[256];
	float ms = 0;
	int r;

	r = cuda_fail(rt->cudaEventRecord(s->ev0, s->stream), "cudaEventRecord", why, sizeof(why));
	for (int64_t k = 0; !r && k < iters; k++)
		r = cuda_fail(rt->cudaMemcpyAsync(dst, src, bytes, s->kind, s->stream),
			      "cudaMemcpyAsync", why, sizeof(why));
	if (!r)
		r = cuda_fail(rt->cudaEventRecord(s->ev1, s->stream), "cudaEventRecord", why,
			      sizeof(why));
	if (!r)
		r = cuda_fail(rt->cudaEventSynchronize(s->ev1), "cudaEventSynchronize", why,
			      sizeof(why));
	if (!r)
		r = cuda_fail(rt->cudaEventElapsedTime(&ms, s->ev0, s->ev1), "cudaEventElapsedTime",
			      why, sizeof(why));
	if (r)
		hvt_err("gpu.copy: %s", why);
	*t_s = (double)ms * 1e-3;
	return r;
}

static int copy_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct copy_params *p = params;
	struct copy_state *s = state;
	uint64_t target_ns = rep->duration_ns / 20;
	int64_t iters = s->iters ? s->iters : 1, done = 0;
	double t_sum = 0, t;
	int r = 0;

	if (target_ns < 1000000)
		target_ns = 1000000;
	if (target_ns > 20000000)
		target_ns = 20000000;
	do {
		double tb = 0;

		r = copy_batch(s, p->size, iters, &tb);
		if (r)
			return r;
		t_sum += tb;
		done += iters;
		if (!p->iters && tb * 1e9 < (double)target_ns && iters < (int64_t)1 << 40)
			iters *= tb * 1e9 < (double)target_ns / 8 ? 8 : 2;
	} while (!hvt_rep_done(rep));
	s->iters = p->iters ? p->iters : iters;
	t = t_sum / (double)done;
	hvt_rep_set(rep, "time", t);
	hvt_rep_set(rep, "bw", (double)p->size / t);
	hvt_rep_extra(rep, "copy",
		      json_pack("{s:I,s:s,s:s,s:o?}", "copies", (json_int_t)done, "timer",
				"cuda_events", "pci_bus_id", s->bus_id, "pcie_link_Bps",
				s->pcie_Bps > 0 ? json_real(s->pcie_Bps) : NULL));
	return r;
}

#else /* built without the CUDA headers */

static int copy_probe(const void *params, char *why, size_t len)
{
	(void)params;
	snprintf(why, len, "built without CUDA headers (set CUDA_HOME and rebuild)");
	return -EOPNOTSUPP;
}

static int copy_run(const void *params, void *state, struct hvt_rep *rep)
{
	(void)params;
	(void)state;
	(void)rep;
	return -EOPNOTSUPP;
}

#define copy_setup NULL
#define copy_teardown NULL

#endif /* HAVE_CUDA */

const struct hvt_bench hvt_bench_gpu_copy = {
    .name = "gpu.copy",
    .help = "host<->device and device<->device copy bandwidth, pinned and pageable (the PCIe "
	    "pass-through tax)",
    .params = copy_params,
    .nparams = HVT_ARRAY_SIZE(copy_params),
    .params_size = sizeof(struct copy_params),
    .metrics = copy_metrics,
    .nmetrics = HVT_ARRAY_SIZE(copy_metrics),
    .probe = copy_probe,
    .setup = copy_setup,
    .run = copy_run,
    .teardown = copy_teardown,
};

/* ---- the NCCL AllReduce engine ---- */

#ifdef HAVE_CUDA

struct hvt_nccl_ar {
	const struct hvt_cudart *rt;
	const struct hvt_nccl *nc;
	struct hvt_nccl_ar_cfg cfg;
	int ng;		/* GPUs this process drives */
	int nranks;	/* NCCL ranks in the communicator */
	int first_rank; /* NCCL rank of this process's first GPU */
	int *devs;
	ncclComm_t *comms;
	cudaStream_t *streams;
	cudaEvent_t *ev0, *ev1;
	void **send, **recv;
	void *host; /* staging for fill and check */
	size_t bytes;
	ncclDataType_t nt;
};

static ncclDataType_t nccl_type(enum hvt_coll_dtype t)
{
	switch (t) {
	case HVT_COLL_DOUBLE:
		return ncclDouble;
	case HVT_COLL_HALF:
		return ncclHalf;
	case HVT_COLL_BF16:
		return ncclBfloat16;
	case HVT_COLL_FLOAT:
	default:
		return ncclFloat;
	}
}

int hvt_nccl_ar_probe(char *why, size_t len)
{
	const struct hvt_cudart *rt;
	const struct hvt_nccl *nc;
	int r = hvt_cudart_open(&rt, why, len);

	return r ? r : hvt_nccl_open(&nc, why, len);
}

static int nccl_fail(const struct hvt_nccl_ar *a, ncclResult_t e, const char *what, char *why,
		     size_t len)
{
	if (e == ncclSuccess)
		return 0;
	snprintf(why, len, "%s: %s", what, a->nc->ncclGetErrorString(e));
	return -EIO;
}

/* Fill every local send buffer with its NCCL rank's pattern and clear the receive buffers. */
static int ar_fill(struct hvt_nccl_ar *a, char *why, size_t len)
{
	const struct hvt_cudart *rt = a->rt;
	int r = 0;

	for (int i = 0; !r && i < a->ng; i++) {
		hvt_coll_fill(a->host, a->cfg.count, a->cfg.dtype, a->first_rank + i);
		r = cuda_fail(rt->cudaSetDevice(a->devs[i]), "cudaSetDevice", why, len);
		if (!r)
			r = cuda_fail(rt->cudaMemcpyAsync(a->send[i], a->host, a->bytes,
							  cudaMemcpyHostToDevice, a->streams[i]),
				      "cudaMemcpyAsync", why, len);
		if (!r && a->recv[i])
			r = cuda_fail(rt->cudaMemset(a->recv[i], 0, a->bytes), "cudaMemset", why,
				      len);
		/* the host buffer is reused for the next GPU: wait for this copy */
		if (!r)
			r = cuda_fail(rt->cudaStreamSynchronize(a->streams[i]),
				      "cudaStreamSynchronize", why, len);
		if (!r)
			r = cuda_fail(rt->cudaDeviceSynchronize(), "cudaDeviceSynchronize", why,
				      len);
	}
	return r;
}

static int ar_launch(struct hvt_nccl_ar *a, char *why, size_t len)
{
	int r = nccl_fail(a, a->nc->ncclGroupStart(), "ncclGroupStart", why, len);

	for (int i = 0; !r && i < a->ng; i++)
		r = nccl_fail(
		    a,
		    a->nc->ncclAllReduce(a->send[i], a->cfg.inplace ? a->send[i] : a->recv[i],
					 a->cfg.count, a->nt, ncclSum, a->comms[i], a->streams[i]),
		    "ncclAllReduce", why, len);
	if (!r)
		r = nccl_fail(a, a->nc->ncclGroupEnd(), "ncclGroupEnd", why, len);
	return r;
}

int hvt_nccl_ar_setup(struct hvt_nccl_ar **out, const struct hvt_nccl_ar_cfg *cfg, char *why,
		      size_t len)
{
	struct hvt_nccl_ar *a = hvt_calloc(1, sizeof(*a));
	struct {
		int ok;
		ncclUniqueId id;
	} uid;
	int r, ndev = 0, lr, ls, g;

	*out = a;
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	a->nt = nccl_type(cfg->dtype);
	a->bytes = cfg->count * hvt_coll_dtype_size(cfg->dtype);
	r = hvt_cudart_open(&a->rt, why, len);
	if (!r)
		r = hvt_nccl_open(&a->nc, why, len);
	if (!r)
		r = cuda_fail(a->rt->cudaGetDeviceCount(&ndev), "cudaGetDeviceCount", why, len);
	hvt_ranks_local(&lr, &ls);
	g = cfg->gpus ? cfg->gpus : hvt_nranks() > 1 ? 1 : ndev;
	if (!r && (lr + 1) * g > ndev) {
		snprintf(why, len, "rank %d needs GPUs %d..%d, this node has %d", hvt_rank(),
			 lr * g, (lr + 1) * g - 1, ndev);
		r = -ENODEV;
	}
	a->ng = r ? 0 : g;
	a->nranks = g * hvt_nranks();
	a->first_rank = hvt_rank() * g;
	if (!r) {
		a->devs = hvt_calloc((size_t)g, sizeof(*a->devs));
		a->comms = hvt_calloc((size_t)g, sizeof(*a->comms));
		a->streams = hvt_calloc((size_t)g, sizeof(*a->streams));
		a->ev0 = hvt_calloc((size_t)g, sizeof(*a->ev0));
		a->ev1 = hvt_calloc((size_t)g, sizeof(*a->ev1));
		a->send = hvt_calloc((size_t)g, sizeof(*a->send));
		a->recv = hvt_calloc((size_t)g, sizeof(*a->recv));
		a->host = malloc(a->bytes);
		if (!a->devs || !a->comms || !a->streams || !a->ev0 || !a->ev1 || !a->send ||
		    !a->recv || !a->host) {
			a->ng = 0;
			r = -ENOMEM;
		}
	}
	for (int i = 0; !r && i < g; i++) {
		const struct hvt_cudart *rt = a->rt;

		a->devs[i] = lr * g + i;
		r = cuda_fail(rt->cudaSetDevice(a->devs[i]), "cudaSetDevice", why, len);
		if (!r)
			r = cuda_fail(
			    rt->cudaStreamCreateWithFlags(&a->streams[i], cudaStreamNonBlocking),
			    "cudaStreamCreate", why, len);
		if (!r)
			r = cuda_fail(rt->cudaEventCreate(&a->ev0[i]), "cudaEventCreate", why, len);
		if (!r)
			r = cuda_fail(rt->cudaEventCreate(&a->ev1[i]), "cudaEventCreate", why, len);
		if (!r)
			r = cuda_fail(rt->cudaMalloc(&a->send[i], a->bytes), "cudaMalloc", why,
				      len);
		if (!r && !cfg->inplace)
			r = cuda_fail(rt->cudaMalloc(&a->recv[i], a->bytes), "cudaMalloc", why,
				      len);
	}
	/* every rank has its GPUs ready, or none goes on to the NCCL calls */
	if (!hvt_ranks_all(r == 0))
		return r ? r : -EREMOTEIO;
	if (hvt_nranks() == 1) {
		r = nccl_fail(a, a->nc->ncclCommInitAll(a->comms, g, a->devs), "ncclCommInitAll",
			      why, len);
	} else {
		memset(&uid, 0, sizeof(uid));
		if (hvt_rank() == 0)
			uid.ok = a->nc->ncclGetUniqueId(&uid.id) == ncclSuccess;
		if (hvt_ranks_bcast(&uid, sizeof(uid)) || !uid.ok) {
			snprintf(why, len, "no NCCL unique id from rank 0");
			return -EIO;
		}
		r = nccl_fail(a, a->nc->ncclGroupStart(), "ncclGroupStart", why, len);
		for (int i = 0; !r && i < g; i++) {
			r = cuda_fail(a->rt->cudaSetDevice(a->devs[i]), "cudaSetDevice", why, len);
			if (!r)
				r = nccl_fail(a,
					      a->nc->ncclCommInitRank(&a->comms[i], a->nranks,
								      uid.id, a->first_rank + i),
					      "ncclCommInitRank", why, len);
		}
		if (!r)
			r = nccl_fail(a, a->nc->ncclGroupEnd(), "ncclGroupEnd", why, len);
	}
	if (!r)
		r = ar_fill(a, why, len);
	return r;
}

int hvt_nccl_ar_batch(struct hvt_nccl_ar *a, int64_t iters, double *t_s)
{
	const struct hvt_cudart *rt = a->rt;
	char why[256] = "";
	double worst = 0;
	int r = 0;

	for (int i = 0; !r && i < a->ng; i++) {
		r = cuda_fail(rt->cudaSetDevice(a->devs[i]), "cudaSetDevice", why, sizeof(why));
		if (!r)
			r = cuda_fail(rt->cudaEventRecord(a->ev0[i], a->streams[i]),
				      "cudaEventRecord", why, sizeof(why));
	}
	for (int64_t k = 0; !r && k < iters; k++)
		r = ar_launch(a, why, sizeof(why));
	for (int i = 0; !r && i < a->ng; i++) {
		r = cuda_fail(rt->cudaSetDevice(a->devs[i]), "cudaSetDevice", why, sizeof(why));
		if (!r)
			r = cuda_fail(rt->cudaEventRecord(a->ev1[i], a->streams[i]),
				      "cudaEventRecord", why, sizeof(why));
	}
	for (int i = 0; !r && i < a->ng; i++) {
		float ms = 0;

		r = cuda_fail(rt->cudaEventSynchronize(a->ev1[i]), "cudaEventSynchronize", why,
			      sizeof(why));
		if (!r)
			r = cuda_fail(rt->cudaEventElapsedTime(&ms, a->ev0[i], a->ev1[i]),
				      "cudaEventElapsedTime", why, sizeof(why));
		if (!r && ms * 1e-3 > worst)
			worst = ms * 1e-3;
	}
	if (r)
		hvt_err("coll.allreduce: rank %d: %s", hvt_rank(), why);
	*t_s = worst;
	return r;
}

int hvt_nccl_ar_check(struct hvt_nccl_ar *a, uint64_t *wrong)
{
	const struct hvt_cudart *rt = a->rt;
	char why[256] = "";
	int r = ar_fill(a, why, sizeof(why));

	*wrong = 0;
	if (!r)
		r = ar_launch(a, why, sizeof(why));
	for (int i = 0; !r && i < a->ng; i++) {
		r = cuda_fail(rt->cudaSetDevice(a->devs[i]), "cudaSetDevice", why, sizeof(why));
		if (!r)
			r = cuda_fail(
			    rt->cudaMemcpyAsync(a->host, a->cfg.inplace ? a->send[i] : a->recv[i],
						a->bytes, cudaMemcpyDeviceToHost, a->streams[i]),
			    "cudaMemcpyAsync", why, sizeof(why));
		if (!r)
			r = cuda_fail(rt->cudaStreamSynchronize(a->streams[i]),
				      "cudaStreamSynchronize", why, sizeof(why));
		if (!r)
			*wrong += hvt_coll_check(a->host, a->cfg.count, a->cfg.dtype, a->nranks);
	}
	if (r)
		hvt_err("coll.allreduce: rank %d: %s", hvt_rank(), why);
	return r;
}

int hvt_nccl_ar_nranks(const struct hvt_nccl_ar *a)
{
	return a->nranks;
}

json_t *hvt_nccl_ar_describe(const struct hvt_nccl_ar *a)
{
	json_t *devs = json_array();
	const char *v = hvt_nccl_version();

	for (int i = 0; i < a->ng; i++)
		json_array_append_new(devs, json_integer(a->devs[i]));
	return json_pack("{s:i,s:i,s:o,s:s?}", "nranks", a->nranks, "gpus_per_process", a->ng,
			 "devices", devs, "version", v);
}

void hvt_nccl_ar_free(struct hvt_nccl_ar *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->ng && a->rt; i++) {
		a->rt->cudaSetDevice(a->devs[i]);
		if (a->comms && a->comms[i])
			a->nc->ncclCommDestroy(a->comms[i]);
		if (a->ev0[i])
			a->rt->cudaEventDestroy(a->ev0[i]);
		if (a->ev1[i])
			a->rt->cudaEventDestroy(a->ev1[i]);
		if (a->streams[i])
			a->rt->cudaStreamDestroy(a->streams[i]);
		if (a->send[i])
			a->rt->cudaFree(a->send[i]);
		if (a->recv[i])
			a->rt->cudaFree(a->recv[i]);
	}
	free(a->devs);
	free(a->comms);
	free(a->streams);
	free(a->ev0);
	free(a->ev1);
	free(a->send);
	free(a->recv);
	free(a->host);
	free(a);
}

#else /* built without the CUDA headers */

struct hvt_nccl_ar {
	int unused;
};

int hvt_nccl_ar_probe(char *why, size_t len)
{
	snprintf(why, len, "built without CUDA headers (set CUDA_HOME and rebuild)");
	return -EOPNOTSUPP;
}

int hvt_nccl_ar_setup(struct hvt_nccl_ar **out, const struct hvt_nccl_ar_cfg *cfg, char *why,
		      size_t len)
{
	(void)cfg;
	*out = NULL;
	return hvt_nccl_ar_probe(why, len);
}

int hvt_nccl_ar_batch(struct hvt_nccl_ar *a, int64_t iters, double *t_s)
{
	(void)a;
	(void)iters;
	*t_s = 0;
	return -EOPNOTSUPP;
}

int hvt_nccl_ar_check(struct hvt_nccl_ar *a, uint64_t *wrong)
{
	(void)a;
	*wrong = 0;
	return -EOPNOTSUPP;
}

int hvt_nccl_ar_nranks(const struct hvt_nccl_ar *a)
{
	(void)a;
	return 0;
}

json_t *hvt_nccl_ar_describe(const struct hvt_nccl_ar *a)
{
	(void)a;
	return json_null();
}

void hvt_nccl_ar_free(struct hvt_nccl_ar *a)
{
	(void)a;
}

#endif /* HAVE_CUDA */
