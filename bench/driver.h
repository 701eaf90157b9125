/* SPDX-License-Identifier: MIT */
/* The driver: rounds of cases in random order, warm-up, timed repetitions, records. */
#ifndef HVT_DRIVER_H
#define HVT_DRIVER_H

#include <stdio.h>
#include "suite.h"

struct hvt_driver {
	struct hvt_suite *suite;
	FILE *out;
	struct hvt_rng rng;
	uint64_t seed;
	char **skip; /* per case: reason if skipped, NULL if it runs */
	unsigned nerrors;
	unsigned nrun;	/* cases that run */
	uint64_t t0_ns;
	int progress;	/* print progress on stderr */
};

/* Write one JSON record (adds "type" and "schema") as one line, flushed. Steals `rec`. */
void hvt_out_record(FILE *out, const char *type, json_t *rec);

/*
 * Prepare: seed, write the plan record, probe every case (skips are
 * written as records). Returns 0, or -EPERM when a probe refused a case as
 * unsafe (a usage error: the caller exits 2 and nothing has been measured).
 */
int hvt_driver_init(struct hvt_driver *d, struct hvt_suite *s, FILE *out)
	__attribute__((warn_unused_result));
/* Run round k: every runnable case once, in a fresh random order. 0 or -errno. */
int hvt_driver_round(struct hvt_driver *d, unsigned k);
/* Write the end record; frees what init allocated. */
void hvt_driver_finish(struct hvt_driver *d, const char *status);

/* Fingerprint record fields shared by every run (tool, version, time, fingerprint). */
json_t *hvt_fingerprint_record(void);

#endif
