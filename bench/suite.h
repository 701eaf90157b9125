/* SPDX-License-Identifier: MIT */
/* Suite files (INI): run settings and the cases to run. */
#ifndef HVT_SUITE_H
#define HVT_SUITE_H

#include <stdint.h>
#include "params.h"

/*
 * [suite]                 run settings: name, description, rounds, reps,
 *                         duration, warmup, seed, timeout
 * [family.case]           one benchmark with parameter assignments;
 * [family.case#tag]       the same benchmark again with other values
 */
struct hvt_settings {
	char name[64];
	char description[256];
	unsigned rounds;      /* rounds: each runs every case once, in random order */
	unsigned reps;	      /* timed repetitions per case per round */
	uint64_t duration_ns; /* per repetition */
	uint64_t warmup_ns;   /* per case per round, before its repetitions */
	uint64_t seed;	      /* case order; 0 = from the clock (recorded) */
	uint64_t timeout_ns;  /* harness timeout for the whole run; 0 = estimate */
};

void hvt_settings_default(struct hvt_settings *s);

struct hvt_suite {
	struct hvt_settings set;
	struct hvt_case *cases;
	size_t ncases;
	char *path;
};

/*
 * Load a suite file. A bare name ("quick") is looked up as configs/NAME.ini
 * relative to the directories in HVTAX_CONFIGS, the current directory, and
 * the installed data directory. Errors are reported as "FILE:LINE: KEY: ..."
 * and give -EINVAL (bad content) or -ENOENT (no such suite).
 */
int hvt_suite_load(const char *name_or_path, struct hvt_suite *s) __attribute__((warn_unused_result));
/* Resolve a suite name to a path (malloc'd) or NULL. */
char *hvt_suite_resolve(const char *name_or_path);
void hvt_suite_release(struct hvt_suite *s);

#endif
