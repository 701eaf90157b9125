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
/* 0 disables perf counters (--no-counters): inherited events cost a little at every context switch. */
extern int hvt_side_counters;
void hvt_side_close(void);
void hvt_side_snap(struct hvt_side_snap *s);
/* Differences b - a as a JSON object {steal_s, nvcsw, nivcsw, minflt, majflt, <event>...}. */
json_t *hvt_side_delta(const struct hvt_side_snap *a, const struct hvt_side_snap *b);
/* What the PMU offers here, decided by opening events: {"hardware": bool, "events": [...], ...}. */
json_t *hvt_pmu_describe(void);

#endif
