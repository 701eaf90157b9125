/* SPDX-License-Identifier: MIT */
/* The benchmark interface: parameters, metrics, callbacks, and the core's helpers. */
#ifndef HVT_CORE_H
#define HVT_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "../common/util.h"

/*
 * A benchmark is one `struct hvt_bench` row in bench/registry.c. It declares
 * its parameters and metrics once; the core parses, validates, echoes and
 * documents parameters from the descriptors, owns timing, warm-up,
 * repetitions, pinning, side channels and output, and calls the callbacks.
 */

enum hvt_ptype {
	HVT_P_INT,	/* int64_t, bounds min..max */
	HVT_P_SIZE,	/* uint64_t bytes, accepts 4KiB etc., bounds min..max */
	HVT_P_DURATION, /* uint64_t ns, accepts 500ms etc. */
	HVT_P_DOUBLE,	/* double, bounds min..max */
	HVT_P_BOOL,	/* int 0/1 */
	HVT_P_CHOICE,	/* const char * pointing into choices[] */
	HVT_P_STRING,	/* const char * (owned by the case) */
	HVT_P_THREADS,	/* int64_t thread count; also accepts "all" (= CPUs allowed) */
};

struct hvt_param {
	const char *name;
	enum hvt_ptype type;
	size_t offset;		     /* offsetof(struct my_params, field) */
	const char *def;	     /* default, as text; NULL = required */
	double min, max;	     /* bounds for numeric types (inclusive); min>max: unbounded */
	const char *const *choices;  /* NULL-terminated, for HVT_P_CHOICE */
	const char *help;
};

enum hvt_dir {
	HVT_HIGHER_IS_BETTER,
	HVT_LOWER_IS_BETTER,
};

struct hvt_metric {
	const char *name; /* snake_case, e.g. "op_time", "bw", "iops", "lat_p99" */
	const char *unit; /* base unit: "s", "B/s", "op/s", "B", "1" */
	enum hvt_dir dir;
	const char *help;
};

struct hvt_case;
struct hvt_rep;

/*
 * Callbacks. All return 0 or -errno. `params` points at the benchmark's own
 * parameter struct (params_size bytes), filled by the core. `state` is the
 * benchmark's private per-case pointer, set by setup.
 *
 *  probe:    can this case run here? 0, or -ENODEV/-EOPNOTSUPP/-EACCES with
 *            a reason written into `why` (recorded as a skip). Optional.
 *  setup:    allocate and touch buffers, open files. Optional.
 *  run:      one timed repetition: work until hvt_rep_done(rep), then call
 *            hvt_rep_set() for every metric. Required.
 *  teardown: free whatever setup built; must accept a half-built state.
 */
struct hvt_bench {
	const char *name; /* family.case */
	const char *help; /* one line */
	const struct hvt_param *params;
	size_t nparams;
	size_t params_size;
	const struct hvt_metric *metrics;
	size_t nmetrics;
	int (*probe)(const void *params, char *why, size_t whylen);
	int (*setup)(const void *params, void **state);
	int (*run)(const void *params, void *state, struct hvt_rep *rep);
	void (*teardown)(const void *params, void *state);
	/* Optional: the number of threads the case uses (for pinning records). */
	unsigned (*nthreads)(const void *params);
};

/* Registry (bench/registry.c). */
struct hvt_unbuilt {
	const char *family;
	const char *why;
};
extern const struct hvt_bench *const hvt_benches[];
extern const size_t hvt_nbenches;
extern const struct hvt_unbuilt hvt_unbuilt[];
extern const size_t hvt_nunbuilt;
const struct hvt_bench *hvt_bench_find(const char *name);
/*
 * Report a name hvt_bench_find() did not know, with a "did you mean" from the table:
 * "unknown benchmark 'NAME' (...)", or "WHERE: unknown benchmark (...)" when where is set.
 */
void hvt_report_unknown_bench(const char *where, const char *name);

/* Families' additions to the live fingerprint: key -> collector (registry.c). */
struct hvt_fp_hook {
	const char *key;
	json_t *(*collect)(void);
};
extern const struct hvt_fp_hook hvt_fp_hooks[];
extern const size_t hvt_nfp_hooks;

/* ---- the repetition: what run() sees ---- */

struct hvt_rep {
	uint64_t duration_ns; /* requested duration of the timed part */
	uint64_t t_start_ns;  /* hvt_now_ns() when the repetition began */
	uint64_t deadline_ns; /* t_start_ns + duration_ns */
	double *values;	      /* one per metric, NaN until set */
	int *isset;
	const struct hvt_bench *bench;
	json_t *extra;	      /* optional benchmark-specific detail, owned by the core */
	unsigned nclock;      /* clock reads made by the benchmark (for overhead accounting) */
};

/* True once the repetition's time is up. Reads the clock: call it per batch. */
static inline int hvt_rep_done(struct hvt_rep *rep)
{
	rep->nclock++;
	return hvt_now_ns() >= rep->deadline_ns;
}

/* Set a metric's value for this repetition. Returns -ENOENT for an unknown name. */
int hvt_rep_set(struct hvt_rep *rep, const char *metric, double value);

/*
 * Attach benchmark-specific detail to this repetition (e.g. a histogram). Steals `v`.
 * Key "resolved" is read by compare: an object of what the case's automatic parameters
 * became on this machine (mem.stream's array size and ISA, coll's backend); a case whose
 * two runs resolved them differently measured different work and is flagged.
 */
void hvt_rep_extra(struct hvt_rep *rep, const char *key, json_t *v);

/*
 * Nearest-rank percentile (STYLE.md rule 7) for a benchmark that must reduce
 * its own raw values within one repetition: the 0-based index into a sorted
 * array of n > 0 values for percentile p (0..100), i.e. rank ceil(p/100 * n)
 * clamped to 1..n, minus one. An epsilon keeps 99.9% of 1000 at rank 999.
 */
size_t hvt_nearest_rank(size_t n, double p);

/* Measured cost of one hvt_now_ns() call, in ns (calibrated at start-up). */
double hvt_clock_overhead_ns(void);

/* ---- threads and pinning (bench/pin.c) ---- */

struct hvt_thread {
	unsigned idx;	 /* 0..n-1 */
	unsigned n;
	int cpu;	 /* OS index of the PU it is pinned to, -1 if not pinned */
	void *arg;	 /* the caller's argument */
	uint64_t ops;	 /* filled by the thread function: work done */
	uint64_t t_ns;	 /* filled by the thread function: time spent */
	double result;	 /* free for the thread function */
	int err;	 /* 0 or -errno from the thread function */
};

/* Number of CPUs this process may run on. */
unsigned hvt_cpus_allowed(void);
/* OS index of the k-th allowed CPU (wraps around), -1 on error. */
int hvt_cpu_nth(unsigned k);
/* Pin the calling thread to OS CPU `cpu` (hwloc). 0 or -errno. */
int hvt_pin_self(int cpu);
/* Undo pinning: the calling thread may run on every allowed CPU again. */
int hvt_unpin_self(void);

/*
 * Run fn on n threads, thread i pinned to the i-th allowed CPU, all released
 * together after a barrier. Thread 0 is the calling thread itself (so state
 * a one-thread team sets up stays with the task that created it). Blocks until all return. 0, or the first
 * non-zero hvt_thread.err, or -errno if threads could not be started.
 * `th` receives n entries (caller-allocated).
 */
int hvt_threads_run(unsigned n, void (*fn)(struct hvt_thread *), void *arg, struct hvt_thread *th)
	__attribute__((warn_unused_result));
/* Barrier for threads inside hvt_threads_run (all n threads must call it). */
void hvt_threads_barrier(struct hvt_thread *t);

/* Keep the compiler from deleting a computation. */
#define hvt_do_not_optimize(x) __asm__ volatile("" : : "r,m"(x) : "memory")
#define hvt_clobber() __asm__ volatile("" : : : "memory")

#endif
