/* SPDX-License-Identifier: MIT */
/* Compare two runs: per (case, metric) tax with bootstrap CI and p-value, family geomeans. */
#ifndef HVT_COMPARE_H
#define HVT_COMPARE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"
#include "store.h"

/* Version of the JSON document written by hvt_compare_to_json(). */
#define HVT_COMPARE_JSON_SCHEMA 1

struct hvt_compare_opts {
	double level;	    /* CI level, default 0.95 */
	unsigned resamples; /* bootstrap replicates, default 2000 */
	uint64_t seed;	    /* bootstrap seed, default 1 */
	int paired;	    /* 1: pair rounds by index (interleaved environments); default 0 */
	struct hvt_noise_opts noise;
};
void hvt_compare_opts_init(struct hvt_compare_opts *o);

/* hvt_compare_row.flags */
enum {
	HVT_CMP_NOISY = 1 << 0,	   /* CV above the threshold on either side */
	HVT_CMP_FEW = 1 << 1,	   /* too few samples or rounds on either side */
	HVT_CMP_SIG = 1 << 2,	   /* tax CI excludes 0 */
	HVT_CMP_FLAT = 1 << 3,	   /* a side had one round: bootstrap resampled samples only */
	HVT_CMP_PAIRED = 1 << 4,   /* the paired bootstrap was used */
	HVT_CMP_UNPAIRED = 1 << 5, /* paired asked but < 2 common rounds */
	HVT_CMP_UNDEF = 1 << 6,	   /* base median (or cand median, higher-is-better) is 0:
				      no ratio, tax and CI are NaN */
	HVT_CMP_MISMATCH = 1 << 7, /* unit or direction differ between the runs (base's kept) */
	HVT_CMP_RESOLVED = 1 << 8, /* automatic parameters resolved differently: different work */
};

struct hvt_compare_row {
	char *case_key, *bench, *metric, *unit;
	int higher_better;
	size_t n_base, n_cand;
	size_t rounds_base, rounds_cand;
	double median_base, median_cand;
	double ratio, ratio_lo, ratio_hi; /* cand/base, CI from the bootstrap */
	double tax, tax_lo, tax_hi; /* tax point estimate from the medians; NaN if undefined */
	double u, p;		    /* Mann-Whitney U of the candidate, two-sided p */
	double cv_base, cv_cand;
	unsigned flags; /* HVT_CMP_* */
};

/* A series present in one run only. */
struct hvt_compare_only {
	char *case_key, *metric;
};

/* A case whose automatic parameters resolved differently in the two runs (HVT_CMP_RESOLVED). */
struct hvt_compare_resolved {
	char *case_key;
	char *diff; /* "name V in the base, W in the candidate; ..." */
};

struct hvt_compare_family {
	char *family;	    /* bench name before the dot */
	size_t n;	    /* rows with a defined tax */
	double geomean_tax; /* NaN when n == 0 */
};

struct hvt_compare {
	int64_t base_id, cand_id;
	struct hvt_compare_opts opts;
	struct hvt_compare_row *rows; /* ordered by case key, then metric */
	size_t nrows;
	struct hvt_compare_only *only_base, *only_cand;
	size_t n_only_base, n_only_cand;
	struct hvt_compare_resolved *resolved; /* in row order */
	size_t nresolved;
	struct hvt_compare_family *families; /* ordered by name */
	size_t nfamilies;
	size_t overall_n;	/* rows with a defined tax */
	double overall_geomean; /* over all those rows; NaN when none */
};

/*
 * Compare run `cand` against run `base` in `st` (o may be NULL: defaults).
 * Series are matched by (case key, metric); series with no samples count as
 * absent. The tax point estimate comes from the medians directly, so a run
 * compared with itself gives ratio 1 and tax 0 exactly. `out` is filled and
 * owned by the caller (hvt_compare_free) even when no case is common; it is
 * left empty on error. 0 or -errno (store errors are reported by the store).
 */
int hvt_compare_runs(struct hvt_store *st, int64_t base, int64_t cand,
		     const struct hvt_compare_opts *o, struct hvt_compare *out)
    __attribute__((warn_unused_result));
void hvt_compare_free(struct hvt_compare *c);

/* Aligned text table with human units, then family and overall geomeans. */
void hvt_compare_print(const struct hvt_compare *c, FILE *out);
/* The same numbers as JSON (NaN as null). New reference, NULL on allocation failure. */
json_t *hvt_compare_to_json(const struct hvt_compare *c);

/*
 * `hvtax compare BASE CAND [--db FILE] [--seed N] [--level 0.95] [--resamples N]
 *  [--paired] [--format text|json]`; argv[0] is "compare". Returns the exit code:
 * 0 ok, 2 usage, missing run or no common case, 1 other failure.
 */
int hvt_cmd_compare(int argc, char **argv);

#endif
