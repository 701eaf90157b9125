/* SPDX-License-Identifier: MIT */
/* Side channels recorded per sample: steal time, context switches, faults, counters. */
#ifndef HVT_SIDECH_H
#define HVT_SIDECH_H

#include <stdint.h>
#include <jansson.h>

#define HVT_SIDE_MAX_EVENTS 12

struct hvt_side_snap {
	uint64_t t_ns;
	uint64_t steal_ticks; /* sum over CPUs, from /proc/stat */
	long nvcsw, nivcsw, minflt, majflt;
	double utime_s, stime_s; /* CPU time of the process (all threads) */
	uint32_t ev_valid; /* bit i: ev[i] was read */
	uint64_t ev[HVT_SIDE_MAX_EVENTS];
	uint64_t ev_enabled[HVT_SIDE_MAX_EVENTS];
	uint64_t ev_running[HVT_SIDE_MAX_EVENTS];
};

/*
 * Open the counters (hardware where the kernel grants them, software events
 * otherwise), inherited by threads and children created afterwards. Safe to
 * call once; failures are recorded, not fatal.
 */
void hvt_side_init(void);
/*
 * When perf counters are open. Open events cost 1.5-2 us per round trip of a
 * pipe ping-pong (measured: cpu.ctxswitch 12.3 us without, 14.1 us with), so
 * by default they count only the warm-up repetition of each case and timed
 * repetitions run without them; steal time and rusage are recorded always.
 */
enum { HVT_COUNTERS_OFF, HVT_COUNTERS_WARMUP, HVT_COUNTERS_ALL };
extern int hvt_side_counters;
/* Open / close the usable counters (inherited by threads and children created after). */
void hvt_side_start(void);
void hvt_side_stop(void);
void hvt_side_close(void);
void hvt_side_snap(struct hvt_side_snap *s);
/* Differences b - a as a JSON object {steal_s, utime_s, stime_s, nvcsw, nivcsw, minflt, majflt, <event>...}. */
json_t *hvt_side_delta(const struct hvt_side_snap *a, const struct hvt_side_snap *b);
/* What the PMU offers here, decided by opening events: {"hardware": bool, "events": [...], ...}. */
json_t *hvt_pmu_describe(void);

#endif
