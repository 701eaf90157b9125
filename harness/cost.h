/* SPDX-License-Identifier: MIT */
/* Cost per job: hourly prices per environment, job profiles, projected runtime and break-even. */
#ifndef HVT_COST_H
#define HVT_COST_H

#include <stddef.h>
#include <stdio.h>

#include "compare.h"

/* One environment's prices (configs/prices.ini section [env NAME]). */
struct hvt_price {
	char *name;	    /* matched against a run's label, then target, then fingerprint kind */
	char *desc;	    /* may be NULL */
	double on_demand;   /* currency per hour */
	double reserved;    /* currency per hour; NAN when not given */
	double utilization; /* share of paid hours doing useful work, (0, 1]; default 1 */
};

struct hvt_prices {
	char currency[16];
	struct hvt_price *env;
	size_t n;
};

/* Load prices. 0 or -errno (reported with file:line). */
int hvt_prices_load(struct hvt_prices *p, const char *path) __attribute__((warn_unused_result));
void hvt_prices_free(struct hvt_prices *p);
/* The environment named `name`, or NULL. */
const struct hvt_price *hvt_prices_find(const struct hvt_prices *p, const char *name);

/*
 * A share of a job's baseline runtime bound by a family ("io"), a bench or
 * case glob ("cpu.int", "io.randread?*qd=1*") optionally restricted to a
 * metric glob after the last ':' ("io.randread:iops").
 */
struct hvt_job_share {
	char *key;
	double share; /* fraction of the baseline runtime */
};

struct hvt_job {
	char *name, *desc, *path;
	double hours; /* baseline runtime per job */
	struct hvt_job_share *shares;
	size_t n;
	double total; /* sum of shares, <= 1; the rest runs at tax 0 */
};

/* Load a job profile. 0 or -errno (reported with file:line; shares must sum to <= 1). */
int hvt_job_load(struct hvt_job *j, const char *path) __attribute__((warn_unused_result));
void hvt_job_free(struct hvt_job *j);

/*
 * Tax of one share from a comparison: for a bare family name, the compare
 * module's family geomean; otherwise the geomean of the taxes of the rows
 * whose case key, bench or family matches the glob (and metric glob).
 * Returns the number of rows used; 0 means unmeasured (*tax = 0).
 */
size_t hvt_cost_share_tax(const struct hvt_compare *c, const char *key, double *tax);

/* Projected runtime: hours x (sum share_i (1 + tax_i) + (1 - sum share_i)). */
double hvt_cost_runtime(double hours, const double *share, const double *tax, size_t n);
/* Cost per job: price_per_hour x runtime_hours / utilization. */
double hvt_cost_per_job(double price_per_hour, double runtime_hours, double utilization);
/*
 * Utilization at which environment b costs the same per job as a at
 * utilization ua: ua x (price_b runtime_b) / (price_a runtime_a).
 * Above 1 means b can never match a.
 */
double hvt_cost_break_even(double price_a, double runtime_a, double ua, double price_b,
			   double runtime_b);

/*
 * `hvtax cost --baseline BASE --candidate RUN[@ENV]... [--prices FILE]
 *  [--job FILE ...] [--utilization U] [--db FILE]`. Runs: id, label or export
 * file; @ENV names the price section, else label, target, fingerprint kind.
 * Exit 0, 2 usage or data errors, 1 other failures.
 */
int hvt_cmd_cost(int argc, char **argv);

#endif
