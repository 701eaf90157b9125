/* SPDX-License-Identifier: MIT */
/* The mem family: mem.stream (STREAM bandwidth, NUMA placement), mem.latency (pointer chase). */
#include <errno.h>
#include <hwloc.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_NUMA
#include <numa.h>
#include <numaif.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core.h"
#include "fsroot.h"
#include "mem.h"

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define HUGE_2M (2 * MiB)
#define LINE 64

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

/* Pages sampled per array for the placement record. */
#define PLACEMENT_SAMPLES 64

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* ---------------------------------------------------------------- pure helpers */

uint64_t hvt_mem_stream_bytes(enum hvt_mem_kernel k, uint64_t n)
{
	/* STREAM: copy c=a and scale b=s*c touch 2 arrays, add c=a+b and triad a=b+s*c touch 3 */
	switch (k) {
	case HVT_MEM_COPY:
	case HVT_MEM_SCALE:
		return 2 * sizeof(double) * n;
	case HVT_MEM_ADD:
	case HVT_MEM_TRIAD:
		return 3 * sizeof(double) * n;
	}
	return 0;
}

void hvt_mem_sattolo(uint32_t *next, size_t n, struct hvt_rng *r)
{
	for (size_t i = 0; i < n; i++)
		next[i] = (uint32_t)i;
	/* j < i strictly: that is what makes the permutation a single cycle */
	for (size_t i = n - 1; i > 0 && n > 1; i--) {
		size_t j = (size_t)hvt_rng_below(r, i);
		uint32_t t = next[i];

		next[i] = next[j];
		next[j] = t;
	}
}

json_t *hvt_mem_placement_json(const int *status, size_t n)
{
	json_t *o = json_object();
	json_t *per = json_object();
	json_t *bad = json_object();

	if (!o || !per || !bad)
		goto out_fail;
	for (size_t i = 0; i < n; i++) {
		char key[32];
		json_t *dst = per, *c;

		if (status[i] >= 0) {
			snprintf(key, sizeof(key), "%d", status[i]);
		} else {
			const char *name = status[i] == -ENOENT	 ? "ENOENT"
					   : status[i] == -EFAULT ? "EFAULT"
					   : status[i] == -EACCES ? "EACCES"
								  : NULL;
			if (name)
				snprintf(key, sizeof(key), "%s", name);
			else
				snprintf(key, sizeof(key), "errno_%d", -status[i]);
			dst = bad;
		}
		c = json_object_get(dst, key);
		if (json_object_set_new(dst, key, json_integer(c ? json_integer_value(c) + 1 : 1)))
			goto out_fail;
	}
	if (json_object_set_new(o, "pages_sampled", json_integer((json_int_t)n)))
		goto out_fail;
	if (json_object_size(bad) && json_object_set(o, "unplaced", bad))
		goto out_fail;
	if (json_object_set(o, "per_node", per))
		goto out_fail;
	json_decref(per);
	json_decref(bad);
	return o;
out_fail:
	json_decref(per);
	json_decref(bad);
	json_decref(o);
	return NULL;
}

int hvt_mem_meminfo_get(const char *text, const char *key, uint64_t *val)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p = l;
		char *end;
		unsigned long long v;

		/* node meminfo lines carry a "Node N " prefix */
		if (!strncmp(p, "Node ", 5)) {
			p += 5;
			while (*p >= '0' && *p <= '9')
				p++;
			while (*p == ' ')
				p++;
		}
		if (strncmp(p, key, kl) || p[kl] != ':')
			continue;
		p += kl + 1;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (end == p || errno)
			return -EINVAL;
		while (*end == ' ' || *end == '\t')
			end++;
		if (!strncmp(end, "kB", 2))
			v *= 1024;
		*val = v;
		return 0;
	}
	return -ENOENT;
}

int hvt_mem_smaps_huge(const char *smaps, uintptr_t lo, uintptr_t hi, uint64_t *anon_huge_bytes,
		       uint64_t *hugetlb_bytes, uint64_t *kernel_page_size)
{
	uintptr_t vlo = 0, vhi = 0;
	int in = 0, found = 0;
	uint64_t anon = 0, tlb = 0, kps_max = 0;

	for (const char *l = smaps; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long a, b;
		int used = 0;

		/* a mapping header: "lo-hi perms offset dev inode [path]" */
		if (sscanf(l, "%lx-%lx %*4s %n", &a, &b, &used) == 2 && used > 0) {
			vlo = a;
			vhi = b;
			in = vlo < hi && vhi > lo;
			found |= in;
			continue;
		}
		if (!in)
			continue;
		uint64_t clip = (vhi < hi ? vhi : hi) - (vlo > lo ? vlo : lo);
		uint64_t v;

		if (!strncmp(l, "AnonHugePages:", 14) && sscanf(l + 14, "%" SCNu64, &v) == 1) {
			v *= 1024;
			anon += v < clip ? v : clip;
		} else if (!strncmp(l, "KernelPageSize:", 15) && sscanf(l + 15, "%" SCNu64, &v) == 1) {
			v *= 1024;
			if (v > kps_max)
				kps_max = v;
			if (v > 4096)
				tlb += clip;
		}
	}
	if (!found)
		return -ENOENT;
	*anon_huge_bytes = anon;
	*hugetlb_bytes = tlb;
	*kernel_page_size = kps_max;
	return 0;
}

/* ---------------------------------------------------------------- system queries */

/* Total size of the last-level caches (all instances), from hwloc; 0 if unknown. Cached. */
static uint64_t llc_total_bytes(void)
{
	static uint64_t cached;
	static int done;
	static const hwloc_obj_type_t levels[] = { HWLOC_OBJ_L5CACHE, HWLOC_OBJ_L4CACHE,
						   HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L2CACHE,
						   HWLOC_OBJ_L1CACHE };
	hwloc_topology_t topo;

	if (done)
		return cached;
	done = 1;
	if (hwloc_topology_init(&topo))
		return 0;
	if (hwloc_topology_load(topo) == 0) {
		for (size_t l = 0; l < HVT_ARRAY_SIZE(levels) && !cached; l++) {
			int n = hwloc_get_nbobjs_by_type(topo, levels[l]);

			for (int i = 0; i < n; i++) {
				hwloc_obj_t o = hwloc_get_obj_by_type(topo, levels[l], (unsigned)i);

				if (o && o->attr)
					cached += o->attr->cache.size;
			}
		}
	}
	hwloc_topology_destroy(topo);
	return cached;
}

/* STREAM's rule: each array at least 4x the last-level caches; we also ask for 64 MiB at least. */
static uint64_t stream_auto_size(void)
{
	uint64_t s = pow2_up(4 * llc_total_bytes());

	return s < 64 * MiB ? 64 * MiB : s;
}

static uint64_t mem_available(void)
{
	char *t = hvt_read_file("/proc/meminfo", NULL);
	uint64_t v = 0;

	if (t && hvt_mem_meminfo_get(t, "MemAvailable", &v))
		v = 0;
	free(t);
	return v;
}

/* Nodes that exist (configured), or 1 without libnuma. */
static int numa_nodes(void)
{
#ifdef HAVE_NUMA
	if (numa_available() < 0)
		return 1;
	return numa_max_node() + 1;
#else
	return 1;
#endif
}

/*
 * Where pages are: move_pages(2) with no target nodes only queries. Called
 * directly, so placement is recorded in builds without libnuma too.
 */
static json_t *placement_sample(const void *base, size_t len)
{
	void *pages[PLACEMENT_SAMPLES];
	int status[PLACEMENT_SAMPLES];
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t npages = len / pg, n;

	if (npages == 0)
		return NULL;
	n = npages < PLACEMENT_SAMPLES ? npages : PLACEMENT_SAMPLES;
	for (size_t i = 0; i < n; i++) {
		pages[i] = (char *)base + (npages * i / n) * pg;
		status[i] = -ENOENT;
	}
	if (syscall(SYS_move_pages, 0, (unsigned long)n, pages, NULL, status, 0) < 0) {
		json_t *o = json_object();

		json_object_set_new(o, "error", json_string(strerror(errno)));
		return o;
	}
	return hvt_mem_placement_json(status, n);
}

/* ---------------------------------------------------------------- mem.stream */

static const char *const kernel_choices[] = { "copy", "scale", "add", "triad", NULL };
static const char *const store_choices[] = { "normal", "nt", NULL };
static const char *const isa_choices[] = { "auto", "avx512", "avx2", "sse2", "scalar", NULL };
static const char *const sync_choices[] = { "pass", "run", NULL };

struct stream_params {
	const char *kernel;
	uint64_t size;
	int64_t threads;
	const char *stores;
	int64_t cpu_node;
	int64_t mem_node;
	const char *isa;
	const char *sync;
};

static const struct hvt_param stream_params[] = {
	{ "kernel", HVT_P_CHOICE, offsetof(struct stream_params, kernel), "triad", 0, 0, kernel_choices,
	  "STREAM kernel: copy c=a, scale b=s*c, add c=a+b, triad a=b+s*c" },
	{ "size", HVT_P_SIZE, offsetof(struct stream_params, size), "0", 0, 1099511627776.0, NULL,
	  "bytes per array (3 arrays); 0 = auto: 4x the last-level caches (hwloc), next power of 2, "
	  "at least 64MiB" },
	{ "threads", HVT_P_THREADS, offsetof(struct stream_params, threads), "all", 1, 4096, NULL,
	  "threads, one per CPU, each streaming its own slice (capped at the CPUs of cpu_node)" },
	{ "stores", HVT_P_CHOICE, offsetof(struct stream_params, stores), "normal", 0, 0, store_choices,
	  "normal stores, or nt: non-temporal (streaming) stores that bypass the caches" },
	{ "cpu_node", HVT_P_INT, offsetof(struct stream_params, cpu_node), "-1", -1, 1023, NULL,
	  "run the threads on the CPUs of this NUMA node (-1: on all allowed CPUs)" },
	{ "mem_node", HVT_P_INT, offsetof(struct stream_params, mem_node), "-1", -1, 1023, NULL,
	  "bind the arrays to this NUMA node (-1: first touch by the owning thread)" },
	{ "isa", HVT_P_CHOICE, offsetof(struct stream_params, isa), "auto", 0, 0, isa_choices,
	  "kernel instruction set (auto: the widest this CPU has)" },
	{ "sync", HVT_P_CHOICE, offsetof(struct stream_params, sync), "pass", 0, 0, sync_choices,
	  "pass: threads meet after every pass, as STREAM's OpenMP loops do; run: each thread "
	  "streams its slice until the deadline and they meet once, as likwid-bench does "
	  "(bw_best_iter is then null)" },
};

static const struct hvt_metric stream_metrics[] = {
	{ "bw", "B/s", HVT_HIGHER_IS_BETTER,
	  "STREAM bandwidth over the whole repetition: bytes counted as STREAM does / time" },
	{ "bw_best_iter", "B/s", HVT_HIGHER_IS_BETTER,
	  "bandwidth of the fastest single pass in the repetition (STREAM's reported rate); "
	  "null with sync=run" },
};

struct stream_state {
	const struct hvt_mem_kernels *ks;
	void (*fn)(double *restrict, const double *restrict, const double *restrict, double, size_t);
	enum hvt_mem_kernel k;
	size_t n;	  /* doubles per array */
	size_t chunk;	  /* doubles per thread slice, multiple of 8 */
	double *arr[3];	  /* STREAM's a, b, c */
	double *dst;
	const double *x, *y;
	double expect;	  /* value of dst after any pass */
	void *map;
	size_t maplen;
	unsigned nthreads;
	int sync_run;	  /* sync=run: no barrier between passes */
	int *cpus;	  /* per thread, when cpu_node is set; else NULL (the core's order) */
	struct hvt_thread *th;
	/* per repetition, written by thread 0 */
	struct hvt_rep *rep;
	int stop;
	uint64_t iters;
	uint64_t sum_ns, best_ns;
};

static const double STREAM_SCALAR = 3.0;


static enum hvt_mem_kernel kernel_of(const char *name)
{
	for (int i = 0; kernel_choices[i]; i++)
		if (!strcmp(name, kernel_choices[i]))
			return (enum hvt_mem_kernel)i;
	return HVT_MEM_TRIAD;
}

static uint64_t stream_size(const struct stream_params *p)
{
	return p->size ? round_up(p->size, LINE) : stream_auto_size();
}

/* CPUs of node `node` that this process may use, in order; count in *n. NULL + -errno. */
static int node_cpus(int node, int **out, unsigned *n)
{
#ifdef HAVE_NUMA
	struct bitmask *bm;
	unsigned cnt = 0, allowed = hvt_cpus_allowed();
	int *cpus = hvt_calloc(allowed, sizeof(*cpus));

	if (!cpus)
		return -ENOMEM;
	bm = numa_allocate_cpumask();
	if (!bm) {
		free(cpus);
		return -ENOMEM;
	}
	if (numa_node_to_cpus(node, bm) == 0) {
		for (unsigned k = 0; k < allowed; k++) {
			int c = hvt_cpu_nth(k);

			if (c >= 0 && numa_bitmask_isbitset(bm, (unsigned)c))
				cpus[cnt++] = c;
		}
	}
	numa_free_cpumask(bm);
	*out = cpus;
	*n = cnt;
	return 0;
#else
	(void)node;
	*out = NULL;
	*n = 0;
	return -EOPNOTSUPP;
#endif
}

static unsigned stream_threads(const struct stream_params *p)
{
	unsigned n = p->threads > 0 ? (unsigned)p->threads : hvt_cpus_allowed();

	if (p->cpu_node >= 0) {
		int *cpus = NULL;
		unsigned nc = 0;

		if (node_cpus((int)p->cpu_node, &cpus, &nc) == 0 && nc > 0 && n > nc)
			n = nc;
		free(cpus);
	}
	return n;
}

static unsigned stream_nthreads(const void *params)
{
	return stream_threads(params);
}

static int stream_probe(const void *params, char *why, size_t whylen)
{
	const struct stream_params *p = params;
	const struct hvt_mem_kernels *ks = hvt_mem_kernels_get(p->isa);
	const int nt = !strcmp(p->stores, "nt");
	const int nodes = numa_nodes();
	uint64_t need = 3 * stream_size(p), avail = mem_available();

	if (!ks) {
		snprintf(why, whylen, "this cpu lacks the '%s' instruction set", p->isa);
		return -EOPNOTSUPP;
	}
	if (nt && !ks->fn[kernel_of(p->kernel)][1]) {
		snprintf(why, whylen, "no non-temporal stores with the '%s' kernels", ks->isa);
		return -EOPNOTSUPP;
	}
	if (p->cpu_node >= 0 || p->mem_node >= 0) {
#ifdef HAVE_NUMA
		if (numa_available() < 0) {
			snprintf(why, whylen, "libnuma: the kernel has no NUMA support");
			return -ENODEV;
		}
#else
		snprintf(why, whylen, "built without libnuma: no NUMA placement");
		return -EOPNOTSUPP;
#endif
	}
	if (p->cpu_node >= nodes || p->mem_node >= nodes) {
		if (nodes == 1 && p->cpu_node != p->mem_node && p->cpu_node >= 0 && p->mem_node >= 0)
			snprintf(why, whylen, "only 1 NUMA node: remote placement needs 2");
		else
			snprintf(why, whylen, "only %d NUMA node%s: node %" PRId64 " does not exist", nodes,
				 nodes == 1 ? "" : "s",
				 p->cpu_node >= nodes ? p->cpu_node : p->mem_node);
		return -ENODEV;
	}
#ifdef HAVE_NUMA
	if (p->cpu_node >= 0) {
		int *cpus = NULL;
		unsigned nc = 0;
		int r = node_cpus((int)p->cpu_node, &cpus, &nc);

		free(cpus);
		if (r == 0 && nc == 0) {
			snprintf(why, whylen, "numa node %" PRId64 " has no cpu this process may use",
				 p->cpu_node);
			return -ENODEV;
		}
	}
	if (p->mem_node >= 0) {
		long long freeb = 0;

		if (numa_node_size64((int)p->mem_node, &freeb) <= 0) {
			snprintf(why, whylen, "numa node %" PRId64 " has no memory", p->mem_node);
			return -ENODEV;
		}
		if (avail > (uint64_t)freeb)
			avail = (uint64_t)freeb;
	}
#endif
	if (avail && need > avail / 10 * 9) {
		snprintf(why, whylen,
			 "3 arrays need %" PRIu64 " MiB, only %" PRIu64 " MiB available", need / MiB,
			 avail / MiB);
		return -ENODEV;
	}
	return 0;
}

static void slice(const struct stream_state *st, unsigned idx, size_t *lo, size_t *len)
{
	size_t a = (size_t)idx * st->chunk, b = a + st->chunk;

	if (a > st->n)
		a = st->n;
	if (b > st->n)
		b = st->n;
	*lo = a;
	*len = b - a;
}

static void repin(struct hvt_thread *t, const struct stream_state *st)
{
	if (st->cpus) {
		int r = hvt_pin_self(st->cpus[t->idx]);

		if (r)
			t->err = r;
		else
			t->cpu = st->cpus[t->idx];
	}
}

/* First touch by the thread that will stream the slice, so pages land on its node. */
static void stream_touch(struct hvt_thread *t)
{
	struct stream_state *st = t->arg;
	size_t lo, len;

	repin(t, st);
	slice(st, t->idx, &lo, &len);
	for (size_t i = lo; i < lo + len; i++) {
		st->arr[0][i] = 1.0;
		st->arr[1][i] = 2.0;
		st->arr[2][i] = 0.5;
	}
}

/*
 * sync=run: every thread streams its own slice back to back; thread 0 raises
 * the stop flag at the deadline, each finishes the pass it is in, and one
 * barrier ends the run. Bytes are counted per thread (passes x its slice).
 */
static void stream_thread_run(struct hvt_thread *t, struct stream_state *st, size_t lo, size_t len)
{
	uint64_t t0 = 0, n = 0;

	hvt_threads_barrier(t);
	if (t->idx == 0)
		t0 = hvt_now_ns();
	do {
		if (len)
			st->fn(st->dst + lo, st->x + lo, st->y ? st->y + lo : NULL, STREAM_SCALAR, len);
		n++;
		if (t->idx == 0 && hvt_now_ns() >= st->rep->deadline_ns)
			__atomic_store_n(&st->stop, 1, __ATOMIC_RELAXED);
	} while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED));
	t->ops = n;
	hvt_threads_barrier(t);
	if (t->idx == 0) {
		st->sum_ns = hvt_now_ns() - t0;
		st->rep->nclock += (unsigned)n + 1;
	}
}

static void stream_thread(struct hvt_thread *t)
{
	struct stream_state *st = t->arg;
	size_t lo, len;
	uint64_t t0 = 0;

	repin(t, st);
	slice(st, t->idx, &lo, &len);
	if (st->sync_run) {
		stream_thread_run(t, st, lo, len);
		return;
	}
	for (;;) {
		hvt_threads_barrier(t);
		if (__atomic_load_n(&st->stop, __ATOMIC_RELAXED))
			break;
		if (t->idx == 0)
			t0 = hvt_now_ns();
		if (len)
			st->fn(st->dst + lo, st->x + lo, st->y ? st->y + lo : NULL, STREAM_SCALAR, len);
		hvt_threads_barrier(t);
		if (t->idx == 0) {
			uint64_t now = hvt_now_ns(), dt = now - t0;

			st->iters++;
			st->sum_ns += dt;
			if (!st->best_ns || dt < st->best_ns)
				st->best_ns = dt;
			st->rep->nclock += 2;
			__atomic_store_n(&st->stop, now >= st->rep->deadline_ns, __ATOMIC_RELAXED);
		}
	}
}

static void stream_teardown(const void *params, void *state)
{
	struct stream_state *st = state;

	(void)params;
	if (!st)
		return;
	if (st->map)
		munmap(st->map, st->maplen);
	free(st->cpus);
	free(st->th);
	free(st);
}

static int stream_setup(const void *params, void **state)
{
	const struct stream_params *p = params;
	struct stream_state *st = hvt_calloc(1, sizeof(*st));
	uint64_t bytes = stream_size(p), per;
	char *base;
	int r;

	if (!st)
		return -ENOMEM;
	st->ks = hvt_mem_kernels_get(p->isa);
	st->k = kernel_of(p->kernel);
	if (!st->ks || !(st->fn = st->ks->fn[st->k][!strcmp(p->stores, "nt")])) {
		r = -EOPNOTSUPP;
		goto out_free;
	}
	st->n = bytes / sizeof(double);
	st->nthreads = stream_threads(p);
	st->sync_run = !strcmp(p->sync, "run");
	st->th = hvt_calloc(st->nthreads, sizeof(*st->th));
	if (!st->th) {
		r = -ENOMEM;
		goto out_free;
	}
	st->chunk = round_up((st->n + st->nthreads - 1) / st->nthreads, 8);
	if (p->cpu_node >= 0) {
		unsigned nc = 0;

		r = node_cpus((int)p->cpu_node, &st->cpus, &nc);
		if (r)
			goto out_free;
		if (nc < st->nthreads) {
			r = -ENODEV;
			goto out_free;
		}
	}
	/*
	 * One mapping, 2 MiB aligned, each array starting on a 2 MiB boundary
	 * plus a stagger of a few cache lines, so that a[i], b[i] and c[i] do
	 * not share a 4 KiB offset (store-to-load aliasing) or a cache set.
	 */
	per = round_up(bytes + 3 * 1088, HUGE_2M);
	st->maplen = 3 * per + HUGE_2M;
	st->map = mmap(NULL, st->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st->map == MAP_FAILED) {
		r = -errno;
		st->map = NULL;
		hvt_err("cannot map %" PRIu64 " bytes for 'mem.stream': %s", (uint64_t)st->maplen,
			strerror(-r));
		goto out_free;
	}
	base = (char *)round_up((uintptr_t)st->map, HUGE_2M);
#ifdef HAVE_NUMA
	if (p->mem_node >= 0) {
		struct bitmask *bm = numa_allocate_nodemask();

		if (!bm) {
			r = -ENOMEM;
			goto out_free;
		}
		numa_bitmask_setbit(bm, (unsigned)p->mem_node);
		r = mbind(base, 3 * per, MPOL_BIND, bm->maskp, bm->size + 1, 0) ? -errno : 0;
		numa_free_nodemask(bm);
		if (r) {
			hvt_err("cannot bind 'mem.stream' arrays to node %" PRId64 ": %s", p->mem_node,
				strerror(-r));
			goto out_free;
		}
	}
#endif
	for (int i = 0; i < 3; i++)
		st->arr[i] = (double *)(base + (size_t)i * per + (size_t)i * 1088);
	switch (st->k) {
	case HVT_MEM_COPY: /* c = a */
		st->dst = st->arr[2], st->x = st->arr[0], st->y = NULL, st->expect = 1.0;
		break;
	case HVT_MEM_SCALE: /* b = s*c */
		st->dst = st->arr[1], st->x = st->arr[2], st->y = NULL, st->expect = 1.5;
		break;
	case HVT_MEM_ADD: /* c = a + b */
		st->dst = st->arr[2], st->x = st->arr[0], st->y = st->arr[1], st->expect = 3.0;
		break;
	case HVT_MEM_TRIAD: /* a = b + s*c */
		st->dst = st->arr[0], st->x = st->arr[1], st->y = st->arr[2], st->expect = 3.5;
		break;
	}
	r = hvt_threads_run(st->nthreads, stream_touch, st, st->th);
	if (r)
		goto out_free;
	*state = st;
	return 0;
out_free:
	stream_teardown(params, st);
	return r;
}

static int stream_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct stream_params *p = params;
	struct stream_state *st = state;
	const uint64_t per_iter = hvt_mem_stream_bytes(st->k, st->n);
	json_t *pl, *info, *cpus;
	int r;

	st->rep = rep;
	st->stop = 0;
	st->iters = st->sum_ns = st->best_ns = 0;
	r = hvt_threads_run(st->nthreads, stream_thread, st, st->th);
	if (r)
		return r;
	/* STREAM checks its results; so do we (a few elements, every slice's ends) */
	for (unsigned t = 0; t < st->nthreads; t++) {
		size_t lo, len;

		slice(st, t, &lo, &len);
		if (len && (st->dst[lo] != st->expect || st->dst[lo + len - 1] != st->expect)) {
			hvt_err("'mem.stream' %s: wrong result in slice %u", p->kernel, t);
			return -EIO;
		}
	}
	if (st->sync_run) {
		uint64_t bytes = 0;

		for (unsigned t = 0; t < st->nthreads; t++) {
			size_t lo, len;

			slice(st, t, &lo, &len);
			bytes += st->th[t].ops * hvt_mem_stream_bytes(st->k, len);
			st->iters += st->th[t].ops;
		}
		hvt_rep_set(rep, "bw", (double)bytes / ((double)st->sum_ns * 1e-9));
		hvt_rep_set(rep, "bw_best_iter", NAN);
	} else {
		hvt_rep_set(rep, "bw", (double)per_iter * (double)st->iters / ((double)st->sum_ns * 1e-9));
		hvt_rep_set(rep, "bw_best_iter", (double)per_iter / ((double)st->best_ns * 1e-9));
	}

	pl = json_object();
	if (pl) {
		static const char *const names[] = { "a", "b", "c" };

		json_object_set_new(pl, "cpu_node", json_integer(p->cpu_node));
		json_object_set_new(pl, "mem_node", json_integer(p->mem_node));
		for (int i = 0; i < 3; i++) {
			json_t *s = placement_sample(st->arr[i], st->n * sizeof(double));

			if (s)
				json_object_set_new(pl, names[i], s);
		}
		cpus = json_array();
		for (unsigned t = 0; t < st->nthreads; t++)
			json_array_append_new(cpus, json_integer(st->th[t].cpu));
		json_object_set_new(pl, "cpus", cpus);
		hvt_rep_extra(rep, "placement", pl);
	}
	/* iterations: team passes (sync=pass) or the sum of every thread's passes (sync=run) */
	info = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "isa", st->ks->isa, "sync", p->sync,
			 "array_bytes", (json_int_t)(st->n * sizeof(double)), "threads",
			 (json_int_t)st->nthreads, "iterations", (json_int_t)st->iters,
			 "bytes_per_iteration", (json_int_t)per_iter);
	if (info && st->sync_run) {
		json_t *per = json_array();

		for (unsigned t = 0; t < st->nthreads; t++)
			json_array_append_new(per, json_integer((json_int_t)st->th[t].ops));
		json_object_set_new(info, "passes_per_thread", per);
	} else if (info) {
		json_object_set_new(info, "best_iteration_s", json_real((double)st->best_ns * 1e-9));
	}
	if (info)
		hvt_rep_extra(rep, "stream", info);
	/* what "auto" became here: compare flags a case whose runs resolved it differently */
	if (!p->size || !strcmp(p->isa, "auto")) {
		json_t *res = json_object();

		if (res && !p->size)
			json_object_set_new(res, "array_bytes",
					    json_integer((json_int_t)(st->n * sizeof(double))));
		if (res && !strcmp(p->isa, "auto"))
			json_object_set_new(res, "isa", json_string(st->ks->isa));
		hvt_rep_extra(rep, "resolved", res);
	}
	return 0;
}

const struct hvt_bench hvt_bench_mem_stream = {
	.name = "mem.stream",
	.help = "STREAM copy/scale/add/triad bandwidth, all threads, NUMA cpu and memory node",
	.params = stream_params,
	.nparams = HVT_ARRAY_SIZE(stream_params),
	.params_size = sizeof(struct stream_params),
	.metrics = stream_metrics,
	.nmetrics = HVT_ARRAY_SIZE(stream_metrics),
	.probe = stream_probe,
	.setup = stream_setup,
	.run = stream_run,
	.teardown = stream_teardown,
	.nthreads = stream_nthreads,
};

/* ---------------------------------------------------------------- mem.latency */

static const char *const page_choices[] = { "4k", "2m", NULL };

struct lat_params {
	uint64_t size;
	const char *pages;
	int require_huge;
	int64_t seed;
};

static const struct hvt_param lat_params[] = {
	{ "size", HVT_P_SIZE, offsetof(struct lat_params, size), "64MiB", 4096, 1099511627776.0, NULL,
	  "buffer the chase runs through, one pointer per 64 B cache line" },
	{ "pages", HVT_P_CHOICE, offsetof(struct lat_params, pages), "4k", 0, 0, page_choices,
	  "4k: base pages (THP refused); 2m: hugetlb pages when the pool has enough, else THP" },
	{ "require_huge", HVT_P_BOOL, offsetof(struct lat_params, require_huge), "0", 0, 1, NULL,
	  "with pages=2m: skip the case when no huge page backs the buffer" },
	{ "seed", HVT_P_INT, offsetof(struct lat_params, seed), "1", 0, 9007199254740991.0, NULL,
	  "seed of the random cyclic permutation (Sattolo)" },
};

static const struct hvt_metric lat_metrics[] = {
	{ "lat", "s", HVT_LOWER_IS_BETTER,
	  "time per dependent load, chasing a random single cycle through every cache line" },
};

struct chase_buf {
	void *map;	       /* what to munmap */
	size_t maplen;
	char *buf;	       /* 2 MiB aligned for pages=2m */
	size_t len;	       /* usable length (>= size) */
	const char *got;       /* "4k", "hugetlb", "thp" */
	uint64_t huge_bytes;   /* bytes of [buf, buf+len) backed by huge pages */
	uint64_t page_size;    /* largest KernelPageSize seen */
	int collapsed;	       /* MADV_COLLAPSE was tried */
};

struct lat_state {
	struct chase_buf b;
	size_t nlines;
	void **cursor;
	uint64_t loads_per_batch;
};

static void chase_free(struct chase_buf *b)
{
	if (b->map)
		munmap(b->map, b->maplen);
	b->map = NULL;
}

static uint64_t huge_pool_free_bytes(void)
{
	char *t = hvt_read_file("/proc/meminfo", NULL);
	uint64_t nfree = 0, sz = 0;

	if (!t)
		return 0;
	if (hvt_mem_meminfo_get(t, "HugePages_Free", &nfree) ||
	    hvt_mem_meminfo_get(t, "Hugepagesize", &sz) || sz != HUGE_2M)
		nfree = 0;
	free(t);
	return nfree * HUGE_2M;
}

static void chase_measure(struct chase_buf *b)
{
	char *smaps = hvt_read_file("/proc/self/smaps", NULL);
	uint64_t anon = 0, tlb = 0, kps = 0;

	if (smaps && hvt_mem_smaps_huge(smaps, (uintptr_t)b->buf, (uintptr_t)b->buf + b->len, &anon,
					&tlb, &kps) == 0) {
		b->huge_bytes = anon > tlb ? anon : tlb;
		b->page_size = kps;
	}
	free(smaps);
}

/* Map and touch the chase buffer. 0 or -errno (reported). */
static int chase_alloc(struct chase_buf *b, uint64_t size, int huge)
{
	memset(b, 0, sizeof(*b));
	if (!huge) {
		b->len = round_up(size, 4096);
		b->maplen = b->len;
		b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			      0);
		if (b->map == MAP_FAILED)
			goto out_fail;
		/* THP=always would otherwise hand us huge pages and hide the page walk */
		madvise(b->map, b->maplen, MADV_NOHUGEPAGE);
		b->buf = b->map;
		b->got = "4k";
		memset(b->buf, 0, b->len);
		chase_measure(b);
		return 0;
	}
	b->len = round_up(size, HUGE_2M);
	if (huge_pool_free_bytes() >= b->len) {
		b->maplen = b->len;
		b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (b->map != MAP_FAILED) {
			b->buf = b->map;
			b->got = "hugetlb";
			memset(b->buf, 0, b->len);
			chase_measure(b);
			return 0;
		}
		/* the pool was taken meanwhile: fall through to THP */
	}
	b->maplen = b->len + HUGE_2M;
	b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED)
		goto out_fail;
	b->buf = (char *)round_up((uintptr_t)b->map, HUGE_2M);
	madvise(b->buf, b->len, MADV_HUGEPAGE);
	memset(b->buf, 0, b->len);
	chase_measure(b);
	if (b->huge_bytes < b->len) {
		/* fragmented memory: ask khugepaged's synchronous path (Linux >= 6.1) */
		b->collapsed = madvise(b->buf, b->len, MADV_COLLAPSE) == 0 ? 1 : -1;
		chase_measure(b);
	}
	b->got = b->huge_bytes ? "thp" : "4k";
	return 0;
out_fail:
	b->map = NULL;
	hvt_err("cannot map %" PRIu64 " bytes for 'mem.latency': %s", (uint64_t)b->maplen,
		strerror(errno));
	return -ENOMEM;
}

static int lat_probe(const void *params, char *why, size_t whylen)
{
	const struct lat_params *p = params;
	const int huge = !strcmp(p->pages, "2m");
	uint64_t avail = mem_available();
	struct chase_buf b;
	int r;

	if (p->size / LINE > UINT32_MAX) {
		snprintf(why, whylen, "size %" PRIu64 " has more than 2^32 cache lines", p->size);
		return -EINVAL;
	}
	if (avail && p->size > avail / 10 * 8) {
		snprintf(why, whylen, "needs %" PRIu64 " MiB, only %" PRIu64 " MiB available",
			 p->size / MiB, avail / MiB);
		return -ENODEV;
	}
	if (!huge || !p->require_huge)
		return 0;
	/* the only honest answer is to try: pools, THP mode, fragmentation, cgroup limits */
	r = chase_alloc(&b, p->size, 1);
	if (r) {
		snprintf(why, whylen, "cannot map the buffer: %s", strerror(-r));
		return r;
	}
	if (!b.huge_bytes) {
		char *thp = hvt_fs_read_trim("/sys/kernel/mm/transparent_hugepage/enabled");

		snprintf(why, whylen,
			 "no huge pages: hugetlb pool has %" PRIu64 " MiB free, THP mode '%s'%s",
			 huge_pool_free_bytes() / MiB, thp ? thp : "unknown",
			 b.collapsed < 0 ? ", MADV_COLLAPSE failed" : "");
		free(thp);
		r = -ENODEV;
	}
	chase_free(&b);
	return r;
}

static void lat_teardown(const void *params, void *state)
{
	struct lat_state *st = state;

	(void)params;
	if (!st)
		return;
	chase_free(&st->b);
	free(st);
}

static int lat_setup(const void *params, void **state)
{
	const struct lat_params *p = params;
	struct lat_state *st = hvt_calloc(1, sizeof(*st));
	struct hvt_rng rng;
	uint32_t *next;
	int r;

	if (!st)
		return -ENOMEM;
	r = chase_alloc(&st->b, p->size, !strcmp(p->pages, "2m"));
	if (r)
		goto out_free;
	if (p->require_huge && !strcmp(p->pages, "2m") && !st->b.huge_bytes) {
		hvt_warn("'mem.latency': no huge page backs the buffer");
		r = -ENODEV;
		goto out_free;
	}
	st->nlines = p->size / LINE;
	next = hvt_calloc(st->nlines, sizeof(*next));
	if (!next) {
		r = -ENOMEM;
		goto out_free;
	}
	hvt_rng_seed(&rng, (uint64_t)p->seed);
	hvt_mem_sattolo(next, st->nlines, &rng);
	for (size_t i = 0; i < st->nlines; i++)
		*(void **)(st->b.buf + i * LINE) = st->b.buf + (size_t)next[i] * LINE;
	free(next);
	st->cursor = (void **)st->b.buf;
	st->loads_per_batch = 1024;
	*state = st;
	return 0;
out_free:
	lat_teardown(params, st);
	return r;
}

#define CHASE1 p = (void **)*p
#define CHASE16                                                               \
	CHASE1; CHASE1; CHASE1; CHASE1; CHASE1; CHASE1; CHASE1; CHASE1; CHASE1; \
	CHASE1; CHASE1; CHASE1; CHASE1; CHASE1; CHASE1; CHASE1

static int lat_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct lat_params *lp = params;
	struct lat_state *st = state;
	void **p = st->cursor;
	uint64_t loads = 0, t0, t1, batch = st->loads_per_batch;
	json_t *info;

	/*
	 * The clock is read once per batch; batches grow until one takes 50 us,
	 * so the clock's own cost stays below 0.1% even inside L1.
	 */
	t0 = t1 = hvt_now_ns();
	do {
		uint64_t tb = t1;

		for (uint64_t i = 0; i < batch; i += 16) {
			CHASE16;
		}
		hvt_do_not_optimize(p);
		loads += batch;
		t1 = hvt_now_ns();
		rep->nclock++;
		if (t1 - tb < 50000 && batch < (1ULL << 24))
			batch *= 2;
	} while (t1 < rep->deadline_ns);
	st->cursor = p;
	st->loads_per_batch = batch;
	hvt_rep_set(rep, "lat", (double)(t1 - t0) * 1e-9 / (double)loads);

	info = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "pages_requested", lp->pages,
			 "pages_got", st->b.got, "buffer_bytes", (json_int_t)st->b.len,
			 "huge_bytes", (json_int_t)st->b.huge_bytes, "huge_pages",
			 (json_int_t)(st->b.huge_bytes / HUGE_2M), "kernel_page_size",
			 (json_int_t)st->b.page_size, "loads", (json_int_t)loads);
	if (info)
		hvt_rep_extra(rep, "pages", info);
	return 0;
}

const struct hvt_bench hvt_bench_mem_latency = {
	.name = "mem.latency",
	.help = "dependent-load latency over a random cycle of cache lines, 4 KiB or 2 MiB pages",
	.params = lat_params,
	.nparams = HVT_ARRAY_SIZE(lat_params),
	.params_size = sizeof(struct lat_params),
	.metrics = lat_metrics,
	.nmetrics = HVT_ARRAY_SIZE(lat_metrics),
	.probe = lat_probe,
	.setup = lat_setup,
	.run = lat_run,
	.teardown = lat_teardown,
};

/* ---------------------------------------------------------------- fingerprint */

static void set_u64(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

/* {"total","free","reserved","surplus"} of one hugepages-NkB directory. */
static json_t *huge_pool(const char *dir, int per_node)
{
	static const char *const files[][2] = {
		{ "nr_hugepages", "total" },	  { "free_hugepages", "free" },
		{ "resv_hugepages", "reserved" }, { "surplus_hugepages", "surplus" },
	};
	json_t *o = json_object();

	for (size_t i = 0; o && i < HVT_ARRAY_SIZE(files); i++) {
		char path[1024];
		int64_t v;

		if (per_node && i == 2)
			continue; /* per-node pools have no reservation count */
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		if (hvt_fs_read_int(path, &v) == 0)
			set_u64(o, files[i][1], (uint64_t)v);
	}
	return o;
}

/* "hugepages-2048kB" -> bytes, 0 if not that form. */
static uint64_t huge_dir_bytes(const char *name)
{
	unsigned long long kb;
	char unit[4];

	if (sscanf(name, "hugepages-%llu%3s", &kb, unit) == 2 && !strcmp(unit, "kB"))
		return kb * 1024;
	return 0;
}

static json_t *fp_huge_pools(const char *base, int per_node)
{
	json_t *o = json_object();
	char **names = NULL;
	size_t n = 0;

	if (!o || hvt_fs_list(base, &names, &n))
		return o;
	for (size_t i = 0; i < n; i++) {
		char dir[512], key[32];
		uint64_t b = huge_dir_bytes(names[i]);

		if (!b)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, names[i]);
		snprintf(key, sizeof(key), "%" PRIu64, b);
		json_object_set_new(o, key, huge_pool(dir, per_node));
	}
	hvt_fs_list_free(names, n);
	return o;
}

static json_t *fp_nodes(void)
{
	json_t *a = json_array();
	char **names = NULL;
	size_t n = 0;

	if (!a || hvt_fs_list("/sys/devices/system/node", &names, &n))
		return a;
	for (size_t i = 0; i < n; i++) {
		char path[512], *txt, *cpus;
		int node;
		char tail;
		json_t *o;
		uint64_t v;

		if (sscanf(names[i], "node%d%c", &node, &tail) != 1)
			continue;
		o = json_object();
		if (!o)
			break;
		json_object_set_new(o, "node", json_integer(node));
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/cpulist", names[i]);
		cpus = hvt_fs_read_trim(path);
		if (cpus)
			json_object_set_new(o, "cpus", json_string(cpus));
		free(cpus);
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/meminfo", names[i]);
		txt = hvt_fs_read(path, NULL);
		if (txt) {
			if (hvt_mem_meminfo_get(txt, "MemTotal", &v) == 0)
				set_u64(o, "mem_total_bytes", v);
			if (hvt_mem_meminfo_get(txt, "MemFree", &v) == 0)
				set_u64(o, "mem_free_bytes", v);
		}
		free(txt);
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/hugepages", names[i]);
		json_object_set_new(o, "hugepages", fp_huge_pools(path, 1));
		json_array_append_new(a, o);
	}
	hvt_fs_list_free(names, n);
	return a;
}

static json_t *fp_thp(void)
{
	static const char *const files[][2] = {
		{ "/sys/kernel/mm/transparent_hugepage/enabled", "enabled" },
		{ "/sys/kernel/mm/transparent_hugepage/defrag", "defrag" },
		{ "/sys/kernel/mm/transparent_hugepage/shmem_enabled", "shmem_enabled" },
	};
	json_t *o = json_object();
	int64_t v;

	for (size_t i = 0; o && i < HVT_ARRAY_SIZE(files); i++) {
		char *t = hvt_fs_read_trim(files[i][0]);
		char *l, *r;

		if (!t)
			continue;
		/* "always [madvise] never": the bracketed word is the mode */
		l = strchr(t, '[');
		r = l ? strchr(l, ']') : NULL;
		if (l && r) {
			*r = '\0';
			json_object_set_new(o, files[i][1], json_string(l + 1));
		} else {
			json_object_set_new(o, files[i][1], json_string(t));
		}
		free(t);
	}
	if (o && hvt_fs_read_int("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", &v) == 0)
		set_u64(o, "pmd_size_bytes", (uint64_t)v);
	return o;
}

#if defined(__x86_64__) || defined(__i386__)
static json_t *tlb_entry(const char *level, const char *kind, const char *pages, unsigned entries,
			 unsigned ways)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i}", "level", level, "type", kind, "pages", pages,
			 "entries", (int)entries, "ways", (int)ways);
}

/* AMD: leaves 0x80000005 (L1), 0x80000006 (L2), 0x80000019 (1 GiB pages). */
static void tlb_amd(json_t *a)
{
	unsigned eax, ebx, ecx, edx, max = __get_cpuid_max(0x80000000, NULL);

	if (max >= 0x80000005 && __get_cpuid(0x80000005, &eax, &ebx, &ecx, &edx)) {
		json_array_append_new(a, tlb_entry("L1", "data", "2M/4M", (eax >> 16) & 0xff, eax >> 24));
		json_array_append_new(a, tlb_entry("L1", "instruction", "2M/4M", eax & 0xff, (eax >> 8) & 0xff));
		json_array_append_new(a, tlb_entry("L1", "data", "4K", (ebx >> 16) & 0xff, ebx >> 24));
		json_array_append_new(a, tlb_entry("L1", "instruction", "4K", ebx & 0xff, (ebx >> 8) & 0xff));
	}
	/* L2 ways are an encoded associativity (AMD table), recorded raw */
	if (max >= 0x80000006 && __get_cpuid(0x80000006, &eax, &ebx, &ecx, &edx)) {
		json_array_append_new(a, tlb_entry("L2", "data", "2M/4M", (eax >> 16) & 0xfff, eax >> 28));
		json_array_append_new(a, tlb_entry("L2", "instruction", "2M/4M", eax & 0xfff, (eax >> 12) & 0xf));
		json_array_append_new(a, tlb_entry("L2", "data", "4K", (ebx >> 16) & 0xfff, ebx >> 28));
		json_array_append_new(a, tlb_entry("L2", "instruction", "4K", ebx & 0xfff, (ebx >> 12) & 0xf));
	}
	if (max >= 0x80000019 && __get_cpuid(0x80000019, &eax, &ebx, &ecx, &edx)) {
		json_array_append_new(a, tlb_entry("L1", "data", "1G", (eax >> 16) & 0xfff, eax >> 28));
		json_array_append_new(a, tlb_entry("L2", "data", "1G", (ebx >> 16) & 0xfff, ebx >> 28));
	}
}

/* Intel: leaf 0x18, deterministic address translation parameters. */
static void tlb_intel(json_t *a)
{
	static const char *const kinds[] = { NULL, "data", "instruction", "unified", "load", "store" };
	unsigned eax, ebx, ecx, edx, nsub;

	if (__get_cpuid_max(0, NULL) < 0x18)
		return;
	__cpuid_count(0x18, 0, eax, ebx, ecx, edx);
	nsub = eax;
	for (unsigned s = 0; s <= nsub && s < 64; s++) {
		char lvl[8], pages[32] = "";
		unsigned type;

		__cpuid_count(0x18, s, eax, ebx, ecx, edx);
		type = edx & 0x1f;
		if (type == 0 || type >= HVT_ARRAY_SIZE(kinds))
			continue;
		snprintf(lvl, sizeof(lvl), "L%u", (edx >> 5) & 7);
		if (ebx & 1)
			strcat(pages, "4K/");
		if (ebx & 2)
			strcat(pages, "2M/");
		if (ebx & 4)
			strcat(pages, "4M/");
		if (ebx & 8)
			strcat(pages, "1G/");
		if (*pages)
			pages[strlen(pages) - 1] = '\0';
		json_array_append_new(a, tlb_entry(lvl, kinds[type], pages, (ebx >> 16) * ecx,
						   ebx >> 16));
	}
}
#endif

static json_t *fp_tlb(void)
{
	json_t *o = json_object();
	char *ci = hvt_fs_read("/proc/cpuinfo", NULL);

	if (!o)
		goto out;
	if (ci) {
		char *l = strstr(ci, "TLB size");
		char *c = l ? strchr(l, ':') : NULL;

		if (c) {
			char *e = strchr(c, '\n');

			if (e)
				*e = '\0';
			json_object_set_new(o, "cpuinfo_tlb_size", json_string(hvt_strtrim(c + 1)));
		}
	}
#if defined(__x86_64__) || defined(__i386__)
	/* cpuid describes this CPU, not a replayed tree */
	if (hvt_fsroot_is_live()) {
		json_t *a = json_array();
		unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
		char vendor[13] = "";

		__get_cpuid(0, &eax, &ebx, &ecx, &edx);
		memcpy(vendor, &ebx, 4);
		memcpy(vendor + 4, &edx, 4);
		memcpy(vendor + 8, &ecx, 4);
		if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
			tlb_amd(a);
		else
			tlb_intel(a);
		json_object_set_new(o, "cpuid", a);
	}
#endif
out:
	free(ci);
	return o;
}

json_t *hvt_mem_fingerprint(void)
{
	json_t *o = json_object();
	json_t *sizes;
	char *mi;
	uint64_t v;

	if (!o)
		return NULL;
	mi = hvt_fs_read("/proc/meminfo", NULL);
	if (mi) {
		if (hvt_mem_meminfo_get(mi, "MemTotal", &v) == 0)
			set_u64(o, "mem_total_bytes", v);
		if (hvt_mem_meminfo_get(mi, "Hugepagesize", &v) == 0)
			set_u64(o, "default_hugepage_bytes", v);
		free(mi);
	}
	json_object_set_new(o, "nodes", fp_nodes());
	json_object_set_new(o, "hugepages", fp_huge_pools("/sys/kernel/mm/hugepages", 0));
	sizes = json_array();
	{
		const char *k;
		json_t *val;

		json_object_foreach(json_object_get(o, "hugepages"), k, val)
		{
			(void)val;
			json_array_append_new(sizes, json_integer(strtoll(k, NULL, 10)));
		}
	}
	json_object_set_new(o, "hugepage_sizes", sizes);
	json_object_set_new(o, "thp", fp_thp());
	json_object_set_new(o, "tlb", fp_tlb());
	return o;
}
