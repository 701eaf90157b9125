/* SPDX-License-Identifier: MIT */
/* Pure statistics: percentiles, summaries, Mann-Whitney U, hierarchical bootstrap, tax. */
#ifndef HVT_STATS_H
#define HVT_STATS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Everything here is pure: doubles in, doubles out, no I/O, no globals.
 * Functions that need scratch memory allocate it and return -ENOMEM when
 * that fails. Inputs must be finite (no NaN or infinity): -EINVAL otherwise.
 */

/*
 * Nearest-rank percentile of an ascending array: the value of rank
 * ceil(p/100 * n) (1-based, at least 1), so the result is always an
 * observed value. p in [0, 100]; p = 0 gives the minimum, p = 100 the
 * maximum. A tiny relative tolerance keeps p/100*n that is an integer in
 * exact arithmetic (97.5% of 2000 = 1950) from rounding up to the next rank.
 * n must be > 0.
 */
double hvt_stats_percentile_sorted(const double *sorted, size_t n, double p);
/* Same on an unsorted array (copied, not modified). 0, -EINVAL (n == 0, bad p), -ENOMEM. */
int hvt_stats_percentile(const double *v, size_t n, double p, double *out)
    __attribute__((warn_unused_result));

/*
 * Median: the middle value for odd n; for even n the mean of the two middle
 * values (not a nearest-rank percentile). n must be > 0.
 */
double hvt_stats_median_sorted(const double *sorted, size_t n);
/* Same on an unsorted array (copied, not modified). 0, -EINVAL (n == 0), -ENOMEM. */
int hvt_stats_median(const double *v, size_t n, double *out) __attribute__((warn_unused_result));

/*
 * Median of a[0..n) by selection in O(n), reordering a (no allocation);
 * same definition as hvt_stats_median_sorted(). n must be > 0.
 */
double hvt_stats_median_inplace(double *a, size_t n);

struct hvt_summary {
	size_t n;
	double min;
	double p50, p90, p99, p999; /* nearest-rank percentiles */
	double max;
	double median; /* mean of the two middle values for even n */
	double mean;
	double stdev; /* sample standard deviation (n - 1); 0 when n < 2 */
	double cv;    /* stdev / |mean|; 0 when mean == 0 or n < 2 */
};

/* Summary of v[0..n). 0, -EINVAL (n == 0 or non-finite value), -ENOMEM. */
int hvt_stats_summary(const double *v, size_t n, struct hvt_summary *s)
    __attribute__((warn_unused_result));

/* ---- Mann-Whitney U (Wilcoxon rank-sum), two-sided ---- */

/* Exact distribution is used when both n <= this and there are no ties. */
#define HVT_MWU_EXACT_MAX 10

struct hvt_mwu {
	double u;  /* U of x: R_x - nx(nx+1)/2, ties counting 1/2 (scipy's U1) */
	double z;  /* normal-approximation z (with corrections); 0 when exact */
	double p;  /* two-sided p-value in [0, 1] */
	int exact; /* 1: exact distribution; 0: normal approximation */
};

/*
 * Two-sided Mann-Whitney U test of x against y. Ranks of tied values are
 * averaged. With nx, ny <= HVT_MWU_EXACT_MAX and no ties, p is exact:
 * 2 * min(P(U <= u), P(U >= u)) capped at 1, from the counting recurrence.
 * Otherwise the normal approximation: mean nx*ny/2, variance
 * nx*ny/12 * ((N+1) - sum(t^3 - t) / (N(N-1))) over tie groups of size t,
 * z = (|U - mean| - 0.5) / sd (continuity correction), p = erfc(z/sqrt 2)
 * capped at 1; all values tied gives p = 1. This matches
 * scipy.stats.mannwhitneyu(x, y, alternative='two-sided') with method
 * 'exact' resp. 'asymptotic'.
 * 0, -EINVAL (an empty side, non-finite value), -ENOMEM.
 */
int hvt_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
			   struct hvt_mwu *out) __attribute__((warn_unused_result));

/* ---- bootstrap CI of the ratio of medians ---- */

/* A side: values and the round index of each value (round may be NULL: all one round). */
struct hvt_sample_set {
	const double *v;
	const int *round;
	size_t n;
};

struct hvt_boot_opts {
	double level;	    /* confidence level, (0, 1); default 0.95 */
	unsigned resamples; /* bootstrap replicates B; default 2000 */
	uint64_t seed;	    /* hvt_rng seed: same seed and data -> same CI */
	int paired;	    /* 1: resample round indices common to both sides jointly */
};
#define HVT_BOOT_LEVEL_DEFAULT 0.95
#define HVT_BOOT_RESAMPLES_DEFAULT 2000u
void hvt_boot_opts_init(struct hvt_boot_opts *o);

/* hvt_boot_ci.flags */
enum {
	HVT_BOOT_FLAT_BASE = 1 << 0, /* base has one round: its samples resampled flat */
	HVT_BOOT_FLAT_CAND = 1 << 1, /* candidate has one round: likewise */
	HVT_BOOT_UNPAIRED = 1 << 2,  /* paired asked, < 2 common rounds: resampled independently */
	HVT_BOOT_DROPPED_ROUNDS = 1
				  << 3, /* paired: rounds present on one side only were left out */
	HVT_BOOT_DEGENERATE = 1 << 4, /* some replicates had a zero base median and were left out */
};

struct hvt_boot_ci {
	double ratio;  /* point estimate median(cand) / median(base), from all data */
	double lo, hi; /* percentile CI of the ratio at opts->level */
	unsigned used; /* replicates that gave a finite ratio */
	size_t rounds_base, rounds_cand; /* distinct rounds per side */
	size_t rounds_common;		 /* rounds resampled jointly (paired), else 0 */
	int paired;			 /* 1 if the paired scheme was actually used */
	unsigned flags;			 /* HVT_BOOT_* */
};

/*
 * Hierarchical bootstrap percentile CI of median(cand) / median(base).
 * One replicate, per side (independent scheme): draw as many rounds as the
 * side has, with replacement, from its distinct rounds; within each drawn
 * round draw as many values as it has, with replacement; the replicate
 * statistic is median(cand*) / median(base*). Paired scheme: draw round
 * indices (with replacement) from the rounds present on both sides and use
 * the same drawn indices on both sides, then resample within each side's
 * round as above; this cancels drift common to both sides. A side with one
 * round degenerates to a plain resample of its values (flagged). The CI is
 * the nearest-rank (1-level)/2 and (1+level)/2 percentiles of the replicates.
 * ci->ratio comes from the full data, not from the replicates: equal
 * medians give exactly 1.
 * 0, -EINVAL (empty side, non-finite value, bad level or B == 0),
 * -EDOM (median of base is 0: the ratio is undefined), -ENOMEM.
 */
int hvt_stats_boot_ratio(const struct hvt_sample_set *base, const struct hvt_sample_set *cand,
			 const struct hvt_boot_opts *o, struct hvt_boot_ci *ci)
    __attribute__((warn_unused_result));

/* ---- tax ---- */

/*
 * Tax of the candidate against the base from their medians (or any
 * positive statistic): higher-is-better: base/cand - 1; lower-is-better:
 * cand/base - 1. Positive means the candidate is slower. Equal inputs give
 * exactly 0. NaN if the divisor is 0.
 */
double hvt_stats_tax(double base, double cand, int higher_better);
/* Tax from a ratio cand/base: higher-is-better 1/ratio - 1, lower-is-better ratio - 1. */
double hvt_stats_tax_from_ratio(double ratio, int higher_better);
/*
 * Map a CI of the ratio cand/base to a CI of the tax. For higher-is-better
 * the map 1/r - 1 is decreasing, so the bounds swap: tax_lo = 1/ratio_hi - 1,
 * tax_hi = 1/ratio_lo - 1.
 */
void hvt_stats_tax_ci(double ratio_lo, double ratio_hi, int higher_better, double *tax_lo,
		      double *tax_hi);

/*
 * Geometric mean of taxes: exp(mean(log(1 + tax))) - 1.
 * 0, -EINVAL (n == 0), -EDOM (a tax <= -1 or not finite).
 */
int hvt_stats_geomean_tax(const double *tax, size_t n, double *out)
    __attribute__((warn_unused_result));

/* ---- noise flags ---- */

struct hvt_noise_opts {
	double cv_max;	    /* default 0.05 */
	size_t min_samples; /* default 5 */
	size_t min_rounds;  /* default 3 */
};
void hvt_noise_opts_init(struct hvt_noise_opts *o);

enum {
	HVT_NOISE_CV = 1 << 0,		/* coefficient of variation above cv_max */
	HVT_NOISE_FEW_SAMPLES = 1 << 1, /* fewer than min_samples values */
	HVT_NOISE_FEW_ROUNDS = 1 << 2,	/* fewer than min_rounds distinct rounds */
};

/* Number of distinct values in round[0..n) (1 when round is NULL and n > 0). -ENOMEM. */
long hvt_stats_count_rounds(const int *round, size_t n);

/*
 * HVT_NOISE_* flags of one side. `cv` may be NULL; else receives the CV
 * (stdev/|mean|). Returns the flags (>= 0) or -ENOMEM.
 */
int hvt_stats_noise_flags(const struct hvt_sample_set *s, const struct hvt_noise_opts *o,
			  double *cv);

#endif
