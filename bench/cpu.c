/* SPDX-License-Identifier: MIT */
/* The cpu family: compute throughput and virtualization probes (exits, syscalls, faults, IPIs). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#define HVT_CPU_X86 1
#else
#define HVT_CPU_X86 0
#endif

#include "core.h"
#include "families.h"

/*
 * Timing model shared by every case here. Work is done in batches between
 * clock reads; a batch is sized (per case state, kept across repetitions) to
 * take about HVT_CPU_BATCH_NS, so clock reads stay below 0.1% of the time
 * even where reading the clock costs a microsecond (a trapped clocksource).
 * Each read inside the measured interval is subtracted at the calibrated
 * hvt_clock_overhead_ns(), so op_time = (elapsed - nreads * overhead) / ops.
 */
#define HVT_CPU_BATCH_NS 2000000ull
#define HVT_CPU_BATCH_MAX (1ull << 40)

static const struct hvt_metric metrics_rate[] = {
    {"ops", "op/s", HVT_HIGHER_IS_BETTER, "operations per second"},
    {"op_time", "s", HVT_LOWER_IS_BETTER, "time per operation, clock overhead removed"},
};

static inline uint64_t now_count(unsigned *nclock)
{
	(*nclock)++;
	return hvt_now_ns();
}

/* Next batch size from the last one's size and duration. */
static uint64_t batch_adapt(uint64_t n, uint64_t took_ns)
{
	if (took_ns < HVT_CPU_BATCH_NS / 8 && n < HVT_CPU_BATCH_MAX)
		return n * 8;
	if (took_ns < HVT_CPU_BATCH_NS / 2 && n < HVT_CPU_BATCH_MAX)
		return n * 2;
	if (took_ns > HVT_CPU_BATCH_NS * 2 && n > 1)
		return n / 2;
	return n;
}

/* Elapsed time of an interval that contained `reads` clock reads beyond its first one. */
static double corrected_ns(uint64_t t0, uint64_t t1, unsigned reads)
{
	double ns = (double)(t1 - t0) - (double)reads * hvt_clock_overhead_ns();

	/* Overhead calibration can exceed a noisy tiny interval; never go below 1 ns. */
	return ns < 1.0 ? 1.0 : ns;
}

/*
 * Run fn(ctx, n) in adaptive batches until `deadline`. Returns 0 or the
 * first negative value fn returned. *ops and *t_ns receive the work done and
 * its clock-corrected duration; *nclock is incremented per clock read.
 */
typedef int (*work_fn)(void *ctx, uint64_t n);

static int timed_loop(uint64_t deadline, uint64_t *batch, work_fn fn, void *ctx, uint64_t *ops,
		      double *t_ns, unsigned *nclock)
{
	unsigned reads = 0;
	uint64_t t0 = now_count(&reads), prev = t0, t = t0, done = 0;
	uint64_t n = *batch ? *batch : 1;
	int r = 0;

	do {
		r = fn(ctx, n);
		if (r < 0)
			break;
		done += n;
		t = now_count(&reads);
		n = batch_adapt(n, t - prev);
		prev = t;
	} while (t < deadline);
	*batch = n;
	*ops = done;
	*t_ns = corrected_ns(t0, t, reads - 1);
	*nclock += reads;
	return r;
}

static int set_rate(struct hvt_rep *rep, const char *ops_name, const char *time_name, uint64_t ops,
		    double t_ns)
{
	int r;

	if (!ops || t_ns <= 0)
		return -EIO;
	r = hvt_rep_set(rep, ops_name, (double)ops / (t_ns * 1e-9));
	if (!r)
		r = hvt_rep_set(rep, time_name, t_ns * 1e-9 / (double)ops);
	return r;
}

/* Resolve a thread count: HVT_P_THREADS "all" may arrive as 0 or negative. */
static unsigned resolve_threads(int64_t threads)
{
	return threads > 0 ? (unsigned)threads : hvt_cpus_allowed();
}

static int probe_threads(unsigned n, char *why, size_t whylen)
{
	unsigned allowed = hvt_cpus_allowed();

	if (n > allowed) {
		snprintf(why, whylen, "needs %u cpus, %u allowed (threads would share cpus)", n,
			 allowed);
		return -ENODEV;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* cpu.int and cpu.fp: compute throughput, per core and all cores       */

struct compute_params {
	int64_t threads;
};

static const struct hvt_param compute_params[] = {
    {"threads", HVT_P_THREADS, offsetof(struct compute_params, threads), "1", 1, 4096, NULL,
     "worker threads, one per allowed cpu (\"all\" = every allowed cpu)"},
};

struct compute_state {
	uint64_t *batch; /* per thread, kept across repetitions */
	struct hvt_thread *th;
	unsigned n;
};

struct compute_ctx {
	struct hvt_rep *rep;
	struct compute_state *st;
	work_fn fn;
};

/*
 * Integer mix: eight independent accumulators, each step a multiply, a
 * shift, an xor and an add (4 integer ops), so throughput rather than the
 * 5-cycle dependency chain bounds it.
 */
#define HVT_INT_ACC 8
#define HVT_INT_OPS_PER_ITER (HVT_INT_ACC * 4)
#define INT_STEP(a, k) a = ((a * 0x9e3779b97f4a7c15ull) ^ (a >> 29)) + (k)

static int int_work(void *ctx, uint64_t n)
{
	uint64_t a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		INT_STEP(a0, 1);
		INT_STEP(a1, 3);
		INT_STEP(a2, 5);
		INT_STEP(a3, 7);
		INT_STEP(a4, 11);
		INT_STEP(a5, 13);
		INT_STEP(a6, 17);
		INT_STEP(a7, 19);
	}
	hvt_do_not_optimize(a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7);
	return 0;
}

/*
 * FP mix: 24 independent double lanes in 2-wide vectors, each step one
 * multiply and one add (2 flops, never fused: ISO C mode keeps
 * -ffp-contract=off). a = a*m + c converges to c/(1-m), so values stay
 * normal (no denormal slow path) however long it runs.
 */
typedef double hvt_v2d __attribute__((vector_size(16)));
#define HVT_FP_VEC 12
#define HVT_FP_FLOPS_PER_ITER (HVT_FP_VEC * 2 * 2)

#define FP_STEP(a) a = a * m + c

static int fp_work(void *ctx, uint64_t n)
{
	const hvt_v2d m = {0.9999999, 0.99999991}, c = {1e-9, 2e-9};
	/* Separate variables, not an array: an array lives in memory (store forwarding). */
	hvt_v2d a0 = {1, 2}, a1 = {3, 4}, a2 = {5, 6}, a3 = {7, 8}, a4 = {9, 10}, a5 = {11, 12},
		a6 = {13, 14}, a7 = {15, 16}, a8 = {17, 18}, a9 = {19, 20}, a10 = {21, 22},
		a11 = {23, 24};
	hvt_v2d sum;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		FP_STEP(a0);
		FP_STEP(a1);
		FP_STEP(a2);
		FP_STEP(a3);
		FP_STEP(a4);
		FP_STEP(a5);
		FP_STEP(a6);
		FP_STEP(a7);
		FP_STEP(a8);
		FP_STEP(a9);
		FP_STEP(a10);
		FP_STEP(a11);
	}
	sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
	hvt_do_not_optimize(sum[0] + sum[1]);
	return 0;
}

static void compute_thread(struct hvt_thread *t)
{
	struct compute_ctx *cx = t->arg;
	unsigned nclock = 0;
	uint64_t ops = 0;
	double t_ns = 0;

	t->err = timed_loop(cx->rep->deadline_ns, &cx->st->batch[t->idx], cx->fn, NULL, &ops, &t_ns,
			    &nclock);
	t->ops = ops;
	t->t_ns = (uint64_t)t_ns;
	t->result = (double)nclock;
}

static int compute_probe(const void *params, char *why, size_t whylen)
{
	const struct compute_params *p = params;

	return probe_threads(resolve_threads(p->threads), why, whylen);
}

static int compute_setup(const void *params, void **state)
{
	const struct compute_params *p = params;
	struct compute_state *st = hvt_calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->n = resolve_threads(p->threads);
	(void)hvt_clock_overhead_ns(); /* calibrate now, not racing in the threads */
	st->batch = hvt_calloc(st->n, sizeof(*st->batch));
	st->th = hvt_calloc(st->n, sizeof(*st->th));
	*state = st;
	if (!st->batch || !st->th)
		return -ENOMEM;
	return 0;
}

static void compute_teardown(const void *params, void *state)
{
	struct compute_state *st = state;

	(void)params;
	if (!st)
		return;
	free(st->batch);
	free(st->th);
	free(st);
}

/*
 * ops: the sum over threads of each thread's rate (ops / its own time);
 * op_time: the mean over threads of time per op (a single core's view).
 */
static int compute_run(struct compute_state *st, struct hvt_rep *rep, work_fn fn, uint64_t per_iter,
		       const char *ops_name)
{
	struct compute_ctx cx = {rep, st, fn};
	double rate = 0, per_op = 0;
	int r;

	memset(st->th, 0, st->n * sizeof(*st->th));
	r = hvt_threads_run(st->n, compute_thread, &cx, st->th);
	if (r)
		return r;
	for (unsigned i = 0; i < st->n; i++) {
		const struct hvt_thread *t = &st->th[i];
		double ops = (double)t->ops * (double)per_iter,
		       t_ns = t->t_ns ? (double)t->t_ns : 1.0;

		if (!t->ops)
			return -EIO;
		rate += ops / (t_ns * 1e-9);
		per_op += t_ns * 1e-9 / ops;
		rep->nclock += (unsigned)t->result;
	}
	r = hvt_rep_set(rep, ops_name, rate);
	if (!r)
		r = hvt_rep_set(rep, "op_time", per_op / st->n);
	return r;
}

static int int_run(const void *params, void *state, struct hvt_rep *rep)
{
	(void)params;
	return compute_run(state, rep, int_work, HVT_INT_OPS_PER_ITER, "ops");
}

static int fp_run(const void *params, void *state, struct hvt_rep *rep)
{
	(void)params;
	return compute_run(state, rep, fp_work, HVT_FP_FLOPS_PER_ITER, "flops");
}

static unsigned compute_nthreads(const void *params)
{
	const struct compute_params *p = params;

	return resolve_threads(p->threads);
}

static const struct hvt_metric metrics_int[] = {
    {"ops", "op/s", HVT_HIGHER_IS_BETTER,
     "integer ops (mul, shift, xor, add) per second, all threads summed"},
    {"op_time", "s", HVT_LOWER_IS_BETTER, "time per integer op on one thread"},
};

static const struct hvt_metric metrics_fp[] = {
    {"flops", "op/s", HVT_HIGHER_IS_BETTER,
     "double-precision flops (separate mul and add) per second, all threads summed"},
    {"op_time", "s", HVT_LOWER_IS_BETTER, "time per flop on one thread"},
};

const struct hvt_bench hvt_bench_cpu_int = {
    .name = "cpu.int",
    .help = "integer compute throughput: independent multiply/shift/xor/add chains",
    .params = compute_params,
    .nparams = HVT_ARRAY_SIZE(compute_params),
    .params_size = sizeof(struct compute_params),
    .metrics = metrics_int,
    .nmetrics = HVT_ARRAY_SIZE(metrics_int),
    .probe = compute_probe,
    .setup = compute_setup,
    .run = int_run,
    .teardown = compute_teardown,
    .nthreads = compute_nthreads,
};

const struct hvt_bench hvt_bench_cpu_fp = {
    .name = "cpu.fp",
    .help = "double-precision compute throughput: independent multiply/add lanes, no fma",
    .params = compute_params,
    .nparams = HVT_ARRAY_SIZE(compute_params),
    .params_size = sizeof(struct compute_params),
    .metrics = metrics_fp,
    .nmetrics = HVT_ARRAY_SIZE(metrics_fp),
    .probe = compute_probe,
    .setup = compute_setup,
    .run = fp_run,
    .teardown = compute_teardown,
    .nthreads = compute_nthreads,
};

/* ------------------------------------------------------------------ */
/* Simple per-operation probes: cpuid, rdtsc, clock_gettime, syscall    */

struct simple_state {
	uint64_t batch;
	const void *params;
};

static int simple_setup(const void *params, void **state)
{
	struct simple_state *st = hvt_calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->params = params;
	*state = st;
	return 0;
}

static void simple_teardown(const void *params, void *state)
{
	(void)params;
	free(state);
}

static int simple_run(struct simple_state *st, struct hvt_rep *rep, work_fn fn)
{
	uint64_t ops = 0;
	double t_ns = 0;
	int r;

	r = timed_loop(rep->deadline_ns, &st->batch, fn, st, &ops, &t_ns, &rep->nclock);
	if (r)
		return r;
	return set_rate(rep, "ops", "op_time", ops, t_ns);
}

/* cpu.cpuid: leaf 0 always exits to the hypervisor (VMX and SVM alike). */

#if HVT_CPU_X86
static int cpuid_work(void *ctx, uint64_t n)
{
	unsigned a, b, c, d, acc = 0;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		__cpuid(0, a, b, c, d);
		acc += a ^ b ^ c ^ d;
	}
	hvt_do_not_optimize(acc);
	return 0;
}
#endif

static int x86_probe(const void *params, char *why, size_t whylen)
{
	(void)params;
	if (!HVT_CPU_X86) {
		snprintf(why, whylen, "x86-64 only (this build is not for x86-64)");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int cpuid_run(const void *params, void *state, struct hvt_rep *rep)
{
	(void)params;
#if HVT_CPU_X86
	return simple_run(state, rep, cpuid_work);
#else
	(void)state;
	(void)rep;
	return -EOPNOTSUPP;
#endif
}

const struct hvt_bench hvt_bench_cpu_cpuid = {
    .name = "cpu.cpuid",
    .help = "cpuid leaf 0 per-call time (a guaranteed vm exit under a hypervisor)",
    .params = NULL,
    .nparams = 0,
    .params_size = 0,
    .metrics = metrics_rate,
    .nmetrics = HVT_ARRAY_SIZE(metrics_rate),
    .probe = x86_probe,
    .setup = simple_setup,
    .run = cpuid_run,
    .teardown = simple_teardown,
};

/* cpu.rdtsc: traps only when the hypervisor sets tsc exiting; rdtscp also orders. */

struct rdtsc_params {
	const char *variant;
};

static const char *const rdtsc_variants[] = {"rdtsc", "rdtscp", NULL};

static const struct hvt_param rdtsc_params[] = {
    {"variant", HVT_P_CHOICE, offsetof(struct rdtsc_params, variant), "rdtsc", 1, 0, rdtsc_variants,
     "instruction: rdtsc or rdtscp"},
};

#if HVT_CPU_X86
static int rdtsc_work(void *ctx, uint64_t n)
{
	uint64_t acc = 0;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		acc += __rdtsc();
	hvt_do_not_optimize(acc);
	return 0;
}

static int rdtscp_work(void *ctx, uint64_t n)
{
	uint64_t acc = 0;
	unsigned aux;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		acc += __rdtscp(&aux);
	hvt_do_not_optimize(acc);
	return 0;
}
#endif

static int rdtsc_run(const void *params, void *state, struct hvt_rep *rep)
{
#if HVT_CPU_X86
	const struct rdtsc_params *p = params;

	return simple_run(state, rep, strcmp(p->variant, "rdtscp") ? rdtsc_work : rdtscp_work);
#else
	(void)params;
	(void)state;
	(void)rep;
	return -EOPNOTSUPP;
#endif
}

const struct hvt_bench hvt_bench_cpu_rdtsc = {
    .name = "cpu.rdtsc",
    .help = "rdtsc or rdtscp per-call time (traps where the hypervisor intercepts the tsc)",
    .params = rdtsc_params,
    .nparams = HVT_ARRAY_SIZE(rdtsc_params),
    .params_size = sizeof(struct rdtsc_params),
    .metrics = metrics_rate,
    .nmetrics = HVT_ARRAY_SIZE(metrics_rate),
    .probe = x86_probe,
    .setup = simple_setup,
    .run = rdtsc_run,
    .teardown = simple_teardown,
};

/* cpu.clock_gettime: vDSO on a stable tsc, a syscall (or an exit) on other clocksources. */

struct clock_params {
	const char *clock;
};

static const char *const clock_names[] = {"monotonic", "monotonic_raw", "realtime", "boottime",
					  NULL};
static const clockid_t clock_ids[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME,
				      CLOCK_BOOTTIME};

static const struct hvt_param clock_params[] = {
    {"clock", HVT_P_CHOICE, offsetof(struct clock_params, clock), "monotonic", 1, 0, clock_names,
     "clock id: monotonic, monotonic_raw, realtime or boottime"},
};

static int clock_id(const char *name, clockid_t *id)
{
	for (size_t i = 0; clock_names[i]; i++) {
		if (!strcmp(name, clock_names[i])) {
			*id = clock_ids[i];
			return 0;
		}
	}
	return -EINVAL;
}

static int clock_work(void *ctx, uint64_t n)
{
	const struct simple_state *st = ctx;
	const struct clock_params *p = st->params;
	struct timespec ts;
	uint64_t acc = 0;
	clockid_t id;

	if (clock_id(p->clock, &id))
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++) {
		if (clock_gettime(id, &ts))
			return -errno;
		acc += (uint64_t)ts.tv_nsec;
	}
	hvt_do_not_optimize(acc);
	return 0;
}

static int clock_probe(const void *params, char *why, size_t whylen)
{
	const struct clock_params *p = params;
	struct timespec ts;
	clockid_t id;

	if (clock_id(p->clock, &id)) {
		snprintf(why, whylen, "unknown clock '%s'", p->clock);
		return -EINVAL;
	}
	if (clock_gettime(id, &ts)) {
		snprintf(why, whylen, "clock '%s' not supported here: %s", p->clock,
			 strerror(errno));
		return -EOPNOTSUPP;
	}
	return 0;
}

static int clock_run(const void *params, void *state, struct hvt_rep *rep)
{
	(void)params;
	return simple_run(state, rep, clock_work);
}

const struct hvt_bench hvt_bench_cpu_clock_gettime = {
    .name = "cpu.clock_gettime",
    .help = "clock_gettime per-call time (vdso vs a syscall-backed clocksource)",
    .params = clock_params,
    .nparams = HVT_ARRAY_SIZE(clock_params),
    .params_size = sizeof(struct clock_params),
    .metrics = metrics_rate,
    .nmetrics = HVT_ARRAY_SIZE(metrics_rate),
    .probe = clock_probe,
    .setup = simple_setup,
    .run = clock_run,
    .teardown = simple_teardown,
};

/* cpu.syscall: the same call as `perf bench syscall basic` (getppid, never cached by libc). */

static int syscall_work(void *ctx, uint64_t n)
{
	long acc = 0;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		acc += syscall(SYS_getppid);
	hvt_do_not_optimize(acc);
	return 0;
}

static int syscall_run(const void *params, void *state, struct hvt_rep *rep)
{
	(void)params;
	return simple_run(state, rep, syscall_work);
}

const struct hvt_bench hvt_bench_cpu_syscall = {
    .name = "cpu.syscall",
    .help = "getppid system call per-call time (as perf bench syscall basic)",
    .params = NULL,
    .nparams = 0,
    .params_size = 0,
    .metrics = metrics_rate,
    .nmetrics = HVT_ARRAY_SIZE(metrics_rate),
    .setup = simple_setup,
    .run = syscall_run,
    .teardown = simple_teardown,
};

/* ------------------------------------------------------------------ */
/* cpu.pagefault: first-touch anonymous faults (nested paging shows)    */

struct pagefault_params {
	uint64_t size;
};

static const struct hvt_param pagefault_params[] = {
    {"size", HVT_P_SIZE, offsetof(struct pagefault_params, size), "64MiB", 65536,
     (double)(1ull << 40), NULL, "region mapped, faulted in page by page, and unmapped"},
};

static const struct hvt_metric metrics_fault[] = {
    {"ops", "op/s", HVT_HIGHER_IS_BETTER, "first-touch page faults per second"},
    {"op_time", "s", HVT_LOWER_IS_BETTER,
     "time per first-touch fault (touch loop only, mmap and munmap excluded)"},
};

/*
 * Only the touch loop is timed: mmap and munmap (page freeing) are outside
 * the interval. Transparent huge pages are refused with MADV_NOHUGEPAGE so
 * every page is one base-page fault. The buffer is deliberately not
 * pre-touched: the fault is the work.
 */
static int pagefault_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct pagefault_params *p = params;
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const size_t npages = p->size / page;
	double t_ns = 0;
	uint64_t faults = 0;
	int r = 0;

	(void)state;
	if (!npages)
		return -EINVAL;
	do {
		volatile char *buf = mmap(NULL, npages * page, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t t0, t1;

		if (buf == MAP_FAILED) {
			r = -errno;
			break;
		}
		/* Not fatal where THP is compiled out: faults are then base pages anyway. */
		(void)madvise((void *)buf, npages * page, MADV_NOHUGEPAGE);
		t0 = hvt_now_ns();
		for (size_t i = 0; i < npages; i++)
			buf[i * page] = 1;
		t1 = hvt_now_ns();
		rep->nclock += 2;
		t_ns += corrected_ns(t0, t1, 1);
		faults += npages;
		munmap((void *)buf, npages * page);
	} while (!hvt_rep_done(rep));
	if (r)
		return r;
	return set_rate(rep, "ops", "op_time", faults, t_ns);
}

const struct hvt_bench hvt_bench_cpu_pagefault = {
    .name = "cpu.pagefault",
    .help = "first-touch anonymous page fault time (base pages, thp refused)",
    .params = pagefault_params,
    .nparams = HVT_ARRAY_SIZE(pagefault_params),
    .params_size = sizeof(struct pagefault_params),
    .metrics = metrics_fault,
    .nmetrics = HVT_ARRAY_SIZE(metrics_fault),
    .run = pagefault_run,
};

/* ------------------------------------------------------------------ */
/* cpu.mmap: map, touch, unmap; other threads of the mm take shootdowns */

struct mmap_params {
	uint64_t size;
	int64_t threads;
};

static const struct hvt_param mmap_params[] = {
    {"size", HVT_P_SIZE, offsetof(struct mmap_params, size), "64KiB", 4096, (double)(1ull << 30),
     NULL, "region mapped, touched page by page, and unmapped per cycle"},
    {"threads", HVT_P_THREADS, offsetof(struct mmap_params, threads), "2", 1, 4096, NULL,
     "threads sharing the mm; threads 1.. keep touching their own memory on other cpus, so "
     "each munmap sends them tlb shootdown ipis"},
};

static const struct hvt_metric metrics_mmap[] = {
    {"ops", "op/s", HVT_HIGHER_IS_BETTER, "map+touch+unmap cycles per second"},
    {"op_time", "s", HVT_LOWER_IS_BETTER, "time per map+touch+unmap cycle"},
};

#define HVT_MMAP_BUSY_BYTES (256u * 1024u)

struct mmap_state {
	unsigned n;
	size_t page;
	size_t len;
	uint64_t batch;
	char **busy; /* per thread 1..n-1: memory they keep touching, pre-touched */
	struct hvt_thread *th;
	struct hvt_rep *rep;
	atomic_int stop;
	uint64_t ops;
	double t_ns;
	unsigned nclock;
};

static int mmap_cycle(void *ctx, uint64_t n)
{
	struct mmap_state *st = ctx;

	for (uint64_t k = 0; k < n; k++) {
		volatile char *buf =
		    mmap(NULL, st->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (buf == MAP_FAILED)
			return -errno;
		for (size_t i = 0; i < st->len; i += st->page)
			buf[i] = 1;
		if (munmap((void *)buf, st->len))
			return -errno;
	}
	return 0;
}

static void mmap_thread(struct hvt_thread *t)
{
	struct mmap_state *st = t->arg;

	if (t->idx == 0) {
		t->err = timed_loop(st->rep->deadline_ns, &st->batch, mmap_cycle, st, &st->ops,
				    &st->t_ns, &st->nclock);
		atomic_store_explicit(&st->stop, 1, memory_order_release);
		return;
	}
	/* Stay on the cpu with this mm active (never sleep), touching a page at a time. */
	for (size_t i = 0; !atomic_load_explicit(&st->stop, memory_order_acquire);
	     i = (i + 64) % HVT_MMAP_BUSY_BYTES)
		((volatile char *)st->busy[t->idx])[i]++;
}

static int mmap_probe(const void *params, char *why, size_t whylen)
{
	const struct mmap_params *p = params;

	return probe_threads(resolve_threads(p->threads), why, whylen);
}

static void mmap_teardown(const void *params, void *state)
{
	struct mmap_state *st = state;

	(void)params;
	if (!st)
		return;
	if (st->busy) {
		for (unsigned i = 0; i < st->n; i++)
			free(st->busy[i]);
		free(st->busy);
	}
	free(st->th);
	free(st);
}

static int mmap_setup(const void *params, void **state)
{
	const struct mmap_params *p = params;
	struct mmap_state *st = hvt_calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	*state = st;
	st->n = resolve_threads(p->threads);
	(void)hvt_clock_overhead_ns(); /* calibrate now, not racing in the threads */
	st->page = (size_t)sysconf(_SC_PAGESIZE);
	st->len = (p->size + st->page - 1) / st->page * st->page;
	st->th = hvt_calloc(st->n, sizeof(*st->th));
	st->busy = hvt_calloc(st->n, sizeof(*st->busy));
	if (!st->th || !st->busy)
		return -ENOMEM;
	for (unsigned i = 1; i < st->n; i++) {
		st->busy[i] = hvt_calloc(1, HVT_MMAP_BUSY_BYTES);
		if (!st->busy[i])
			return -ENOMEM;
		memset(st->busy[i], 1, HVT_MMAP_BUSY_BYTES);
	}
	return 0;
}

static int mmap_run(const void *params, void *state, struct hvt_rep *rep)
{
	struct mmap_state *st = state;
	int r;

	(void)params;
	st->rep = rep;
	st->ops = 0;
	st->t_ns = 0;
	st->nclock = 0;
	atomic_store(&st->stop, 0);
	memset(st->th, 0, st->n * sizeof(*st->th));
	r = hvt_threads_run(st->n, mmap_thread, st, st->th);
	rep->nclock += st->nclock;
	if (r)
		return r;
	return set_rate(rep, "ops", "op_time", st->ops, st->t_ns);
}

static unsigned mmap_nthreads(const void *params)
{
	const struct mmap_params *p = params;

	return resolve_threads(p->threads);
}

const struct hvt_bench hvt_bench_cpu_mmap = {
    .name = "cpu.mmap",
    .help = "mmap, touch and munmap cycle time, with tlb shootdowns to the other threads",
    .params = mmap_params,
    .nparams = HVT_ARRAY_SIZE(mmap_params),
    .params_size = sizeof(struct mmap_params),
    .metrics = metrics_mmap,
    .nmetrics = HVT_ARRAY_SIZE(metrics_mmap),
    .probe = mmap_probe,
    .setup = mmap_setup,
    .run = mmap_run,
    .teardown = mmap_teardown,
    .nthreads = mmap_nthreads,
};

/* ------------------------------------------------------------------ */
/* cpu.ctxswitch: pipe ping-pong, as `perf bench sched pipe`            */

struct ctx_params {
	const char *mode;
	int same_cpu;
};

static const char *const ctx_modes[] = {"process", "thread", NULL};

static const struct hvt_param ctx_params[] = {
    {"mode", HVT_P_CHOICE, offsetof(struct ctx_params, mode), "process", 1, 0, ctx_modes,
     "partner is a forked process (as perf bench sched pipe) or a thread"},
    {"same_cpu", HVT_P_BOOL, offsetof(struct ctx_params, same_cpu), "0", 0, 1, NULL,
     "pin both ends to the same cpu (a pure switch, no cross-cpu wakeup ipi)"},
};

/*
 * perf bench sched pipe reports usecs/op = total time / loops, where one loop
 * is a write+read on each side: one round trip, two switches. op_time and
 * rt_time are that round trip; switch_time is half of it.
 */
static const struct hvt_metric metrics_ctx[] = {
    {"op_time", "s", HVT_LOWER_IS_BETTER,
     "time per ping-pong loop, i.e. one round trip (perf bench sched pipe usecs/op)"},
    {"rt_time", "s", HVT_LOWER_IS_BETTER, "round-trip time through two pipes"},
    {"switch_time", "s", HVT_LOWER_IS_BETTER, "one-way wakeup and switch: round trip / 2"},
    {"ops", "op/s", HVT_HIGHER_IS_BETTER, "round trips per second (perf ops/sec)"},
};

struct ctx_state {
	int ping[2]; /* us -> partner */
	int pong[2]; /* partner -> us */
	int cpu_self, cpu_peer;
	pid_t child;
	pthread_t thread;
	int have_thread;
	uint64_t batch;
};

/* Echo every message back until the write end closes. */
static void ctx_echo(int in, int out)
{
	int m;

	for (;;) {
		ssize_t n = read(in, &m, sizeof(m));

		if (n != (ssize_t)sizeof(m))
			return;
		if (write(out, &m, sizeof(m)) != (ssize_t)sizeof(m))
			return;
	}
}

static void *ctx_partner(void *arg)
{
	struct ctx_state *st = arg;

	/* A failed pin only weakens placement; the ping-pong itself still works. */
	(void)hvt_pin_self(st->cpu_peer);
	ctx_echo(st->ping[0], st->pong[1]);
	return NULL;
}

static int ctx_pick_cpus(const struct ctx_params *p, int *self, int *peer, char *why, size_t whylen)
{
	unsigned allowed = hvt_cpus_allowed();

	if (!p->same_cpu && allowed < 2) {
		snprintf(
		    why, whylen,
		    "cross-cpu ping-pong needs 2 allowed cpus, %u allowed (same_cpu=1 runs on one)",
		    allowed);
		return -ENODEV;
	}
	*self = hvt_cpu_nth(0);
	*peer = p->same_cpu ? *self : hvt_cpu_nth(1);
	if (*self < 0 || *peer < 0) {
		snprintf(why, whylen, "cannot find allowed cpus to pin to");
		return -ENODEV;
	}
	return 0;
}

static int ctx_probe(const void *params, char *why, size_t whylen)
{
	int a, b;

	return ctx_pick_cpus(params, &a, &b, why, whylen);
}

static void ctx_teardown(const void *params, void *state)
{
	struct ctx_state *st = state;

	(void)params;
	if (!st)
		return;
	/* Closing our ends makes the partner read EOF and finish. */
	if (st->ping[1] >= 0)
		close(st->ping[1]);
	if (st->pong[0] >= 0)
		close(st->pong[0]);
	if (st->have_thread)
		pthread_join(st->thread, NULL);
	if (st->child > 0) {
		int status;

		while (waitpid(st->child, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (st->ping[0] >= 0)
		close(st->ping[0]);
	if (st->pong[1] >= 0)
		close(st->pong[1]);
	free(st);
}

static int ctx_setup(const void *params, void **state)
{
	const struct ctx_params *p = params;
	struct ctx_state *st = hvt_calloc(1, sizeof(*st));
	char why[160];
	int r;

	if (!st)
		return -ENOMEM;
	st->ping[0] = st->ping[1] = st->pong[0] = st->pong[1] = -1;
	*state = st;
	r = ctx_pick_cpus(p, &st->cpu_self, &st->cpu_peer, why, sizeof(why));
	if (r) {
		hvt_err("%s", why);
		return r;
	}
	if (pipe2(st->ping, O_CLOEXEC) || pipe2(st->pong, O_CLOEXEC)) {
		r = -errno;
		hvt_err("cannot create pipes: %s", strerror(errno));
		return r;
	}
	if (!strcmp(p->mode, "thread")) {
		r = -pthread_create(&st->thread, NULL, ctx_partner, st);
		if (r) {
			hvt_err("cannot start ping-pong thread: %s", strerror(-r));
			return r;
		}
		st->have_thread = 1;
		return 0;
	}
	st->child = fork();
	if (st->child < 0) {
		r = -errno;
		hvt_err("cannot fork ping-pong process: %s", strerror(errno));
		return r;
	}
	if (st->child == 0) {
		/* After fork only plain syscalls: pin with sched_setaffinity directly. */
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(st->cpu_peer, &set);
		(void)sched_setaffinity(0, sizeof(set), &set);
		close(st->ping[1]);
		close(st->pong[0]);
		ctx_echo(st->ping[0], st->pong[1]);
		_exit(0);
	}
	/* Keep only our ends, so a partner that dies shows as EOF or EPIPE, not a hang. */
	close(st->ping[0]);
	close(st->pong[1]);
	st->ping[0] = st->pong[1] = -1;
	return 0;
}

static int ctx_roundtrips(void *ctx, uint64_t n)
{
	const struct ctx_state *st = ctx;
	int m = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (write(st->ping[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
			return errno ? -errno : -EIO;
		if (read(st->pong[0], &m, sizeof(m)) != (ssize_t)sizeof(m))
			return errno ? -errno : -EPIPE;
	}
	return 0;
}

/*
 * The calling thread is pinned for the repetition and its previous affinity
 * restored afterwards, whatever the core had set. SIGPIPE is blocked while
 * it runs, so a partner that died gives -EPIPE instead of killing us.
 */
static int ctx_run(const void *params, void *state, struct hvt_rep *rep)
{
	struct ctx_state *st = state;
	const struct timespec zero = {0, 0};
	sigset_t pipe_set, old_mask;
	cpu_set_t saved;
	int have_saved, r;
	uint64_t ops = 0;
	double t_ns = 0;

	(void)params;
	have_saved = !pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
	r = hvt_pin_self(st->cpu_self);
	if (r)
		return r;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	errno = 0;
	r = timed_loop(rep->deadline_ns, &st->batch, ctx_roundtrips, st, &ops, &t_ns, &rep->nclock);
	if (r == -EPIPE)
		(void)sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (have_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (r)
		return r;
	if (!ops)
		return -EIO;
	r = hvt_rep_set(rep, "op_time", t_ns * 1e-9 / (double)ops);
	if (!r)
		r = hvt_rep_set(rep, "rt_time", t_ns * 1e-9 / (double)ops);
	if (!r)
		r = hvt_rep_set(rep, "switch_time", t_ns * 1e-9 / (double)ops / 2);
	if (!r)
		r = hvt_rep_set(rep, "ops", (double)ops / (t_ns * 1e-9));
	return r;
}

static unsigned ctx_nthreads(const void *params)
{
	const struct ctx_params *p = params;

	return strcmp(p->mode, "thread") ? 1 : 2;
}

const struct hvt_bench hvt_bench_cpu_ctxswitch = {
    .name = "cpu.ctxswitch",
    .help = "pipe ping-pong round trip between two pinned cpus (as perf bench sched pipe)",
    .params = ctx_params,
    .nparams = HVT_ARRAY_SIZE(ctx_params),
    .params_size = sizeof(struct ctx_params),
    .metrics = metrics_ctx,
    .nmetrics = HVT_ARRAY_SIZE(metrics_ctx),
    .probe = ctx_probe,
    .setup = ctx_setup,
    .run = ctx_run,
    .teardown = ctx_teardown,
    .nthreads = ctx_nthreads,
};

/* ------------------------------------------------------------------ */
/* cpu.timer: nanosleep overshoot (timer programming, wakeup, exits)    */

struct timer_params {
	uint64_t sleep_ns;
	uint64_t slack_ns;
};

static const struct hvt_param timer_params[] = {
    {"sleep", HVT_P_DURATION, offsetof(struct timer_params, sleep_ns), "50us", 1000, 1e9, NULL,
     "requested nanosleep duration"},
    {"slack", HVT_P_DURATION, offsetof(struct timer_params, slack_ns), "1ns", 1, 1e9, NULL,
     "thread timer slack during the run (linux default is 50us, which would hide the timer "
     "path)"},
};

static const struct hvt_metric metrics_timer[] = {
    {"overshoot_p50", "s", HVT_LOWER_IS_BETTER,
     "median of actual - requested sleep in this repetition (nearest rank)"},
    {"overshoot_p99", "s", HVT_LOWER_IS_BETTER,
     "99th percentile of actual - requested sleep (nearest rank)"},
    {"overshoot_max", "s", HVT_LOWER_IS_BETTER, "largest overshoot in this repetition"},
};

struct timer_state {
	double *v;
	size_t cap;
};

static int timer_setup(const void *params, void **state)
{
	struct timer_state *st = hvt_calloc(1, sizeof(*st));

	(void)params;
	if (!st)
		return -ENOMEM;
	*state = st;
	st->cap = 4096;
	st->v = hvt_calloc(st->cap, sizeof(*st->v));
	if (!st->v)
		return -ENOMEM;
	memset(st->v, 0, st->cap * sizeof(*st->v));
	return 0;
}

static void timer_teardown(const void *params, void *state)
{
	struct timer_state *st = state;

	(void)params;
	if (!st)
		return;
	free(st->v);
	free(st);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The repetition's own calls are reduced here (the core keeps each
 * repetition as a sample): a single sleep is far below the core's sampling
 * granularity. Percentiles by the core's nearest rank.
 */
static double nearest_rank(const double *sorted, size_t n, double p)
{
	return sorted[hvt_nearest_rank(n, p)];
}

static int timer_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct timer_params *p = params;
	struct timer_state *st = state;
	const struct timespec req = {(time_t)(p->sleep_ns / 1000000000ull),
				     (long)(p->sleep_ns % 1000000000ull)};
	int old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	size_t n = 0;
	int r = 0;

	if (prctl(PR_SET_TIMERSLACK, (unsigned long)p->slack_ns, 0, 0, 0))
		return -errno;
	do {
		struct timespec t0, t1;

		if (n == st->cap) {
			double *v = realloc(st->v, 2 * st->cap * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			st->v = v;
			st->cap *= 2;
		}
		clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
		/* A signal cuts the sleep short: count the call anyway, as measured. */
		(void)nanosleep(&req, NULL);
		clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
		rep->nclock += 2;
		st->v[n++] = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
			      (double)(t1.tv_nsec - t0.tv_nsec) - (double)p->sleep_ns) *
			     1e-9;
	} while (!hvt_rep_done(rep));
	if (old_slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)old_slack, 0, 0, 0);
	if (r)
		return r;
	qsort(st->v, n, sizeof(*st->v), cmp_double);
	r = hvt_rep_set(rep, "overshoot_p50", nearest_rank(st->v, n, 50));
	if (!r)
		r = hvt_rep_set(rep, "overshoot_p99", nearest_rank(st->v, n, 99));
	if (!r)
		r = hvt_rep_set(rep, "overshoot_max", st->v[n - 1]);
	return r;
}

const struct hvt_bench hvt_bench_cpu_timer = {
    .name = "cpu.timer",
    .help = "nanosleep overshoot percentiles (timer programming and wakeup path)",
    .params = timer_params,
    .nparams = HVT_ARRAY_SIZE(timer_params),
    .params_size = sizeof(struct timer_params),
    .metrics = metrics_timer,
    .nmetrics = HVT_ARRAY_SIZE(metrics_timer),
    .setup = timer_setup,
    .run = timer_run,
    .teardown = timer_teardown,
};
