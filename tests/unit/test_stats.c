/* SPDX-License-Identifier: MIT */
/* Unit tests of harness/stats.c: percentiles, Mann-Whitney U, bootstrap, tax, geomean, noise. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above */
#include <cmocka.h>

#include "../../common/util.h"
#include "../../harness/stats.h"

#define assert_close(a, b, tol)                                                                    \
	do {                                                                                       \
		const double a_ = (a), b_ = (b);                                                   \
		if (!(fabs(a_ - b_) <= (tol)))                                                     \
			fail_msg("%s = %.12g, expected %.12g (tol %g)", #a, a_, b_,                \
				 (double)(tol));                                                   \
	} while (0)

static void test_percentile(void **state)
{
	(void)state;
	/* sorted: 15 20 35 40 50 (the classic nearest-rank example) */
	const double v[] = {50, 15, 40, 20, 35};
	double out;

	/* rank = ceil(p/100 * 5): p5 -> 1, p30 -> 2, p40 -> 2, p50 -> 3, p100 -> 5 */
	assert_int_equal(hvt_stats_percentile(v, 5, 5, &out), 0);
	assert_close(out, 15, 0);
	assert_int_equal(hvt_stats_percentile(v, 5, 30, &out), 0);
	assert_close(out, 20, 0);
	assert_int_equal(hvt_stats_percentile(v, 5, 40, &out), 0);
	assert_close(out, 20, 0);
	assert_int_equal(hvt_stats_percentile(v, 5, 50, &out), 0);
	assert_close(out, 35, 0);
	assert_int_equal(hvt_stats_percentile(v, 5, 100, &out), 0);
	assert_close(out, 50, 0);
	assert_int_equal(hvt_stats_percentile(v, 5, 0, &out), 0);
	assert_close(out, 15, 0);
	assert_int_equal(hvt_stats_percentile(v, 0, 50, &out), -EINVAL);
	assert_int_equal(hvt_stats_percentile(v, 5, 101, &out), -EINVAL);

	/* 1..2000: p97.5 is rank 1950 exactly, p2.5 rank 50 (no float round-up) */
	double *big = malloc(2000 * sizeof(*big));

	assert_non_null(big);
	for (int i = 0; i < 2000; i++)
		big[i] = i + 1;
	assert_close(hvt_stats_percentile_sorted(big, 2000, 97.5), 1950, 0);
	assert_close(hvt_stats_percentile_sorted(big, 2000, 2.5), 50, 0);
	assert_close(hvt_stats_percentile_sorted(big, 2000, 99.9), 1998, 0);
	free(big);
}

static void test_median(void **state)
{
	(void)state;
	const double odd[] = {3, 1, 2};
	const double even[] = {4, 1, 3, 2}; /* middle 2 and 3 -> 2.5 */
	double out;

	assert_int_equal(hvt_stats_median(odd, 3, &out), 0);
	assert_close(out, 2, 0);
	assert_int_equal(hvt_stats_median(even, 4, &out), 0);
	assert_close(out, 2.5, 0);
	assert_int_equal(hvt_stats_median(odd, 1, &out), 0);
	assert_close(out, 3, 0);

	/* selection median agrees with the sorted median, duplicates included */
	struct hvt_rng r;

	hvt_rng_seed(&r, 7);
	for (size_t n = 1; n < 200; n++) {
		double a[200], ref;

		for (size_t i = 0; i < n; i++)
			a[i] = (double)hvt_rng_below(&r, n / 3 + 2);
		assert_int_equal(hvt_stats_median(a, n, &ref), 0);
		assert_close(hvt_stats_median_inplace(a, n), ref, 0);
	}
}

static void test_summary(void **state)
{
	(void)state;
	/* 2 4 4 4 5 5 7 9: mean 5, sum of squares 32, sample var 32/7 */
	const double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
	struct hvt_summary s;

	assert_int_equal(hvt_stats_summary(v, 8, &s), 0);
	assert_int_equal(s.n, 8);
	assert_close(s.min, 2, 0);
	assert_close(s.max, 9, 0);
	assert_close(s.p50, 4, 0);	/* rank ceil(4) = 4 -> 4 */
	assert_close(s.median, 4.5, 0); /* (4 + 5) / 2 */
	assert_close(s.p90, 9, 0);	/* rank ceil(7.2) = 8 */
	assert_close(s.p99, 9, 0);
	assert_close(s.p999, 9, 0);
	assert_close(s.mean, 5, 1e-12);
	assert_close(s.stdev, sqrt(32.0 / 7.0), 1e-12);
	assert_close(s.cv, sqrt(32.0 / 7.0) / 5.0, 1e-12);

	const double one[] = {3};

	assert_int_equal(hvt_stats_summary(one, 1, &s), 0);
	assert_close(s.stdev, 0, 0);
	assert_close(s.cv, 0, 0);

	const double bad[] = {1, NAN};

	assert_int_equal(hvt_stats_summary(bad, 2, &s), -EINVAL);
}

static void test_mwu_exact(void **state)
{
	(void)state;
	struct hvt_mwu m;

	/*
	 * x all below y: U = 0. Of the C(6,3) = 20 orderings only one has U = 0,
	 * so p = 2 * 1/20 = 0.1 (scipy: mannwhitneyu([1,2,3],[4,5,6]) -> 0.0, 0.1).
	 */
	const double x1[] = {1, 2, 3}, y1[] = {4, 5, 6};

	assert_int_equal(hvt_stats_mann_whitney(x1, 3, y1, 3, &m), 0);
	assert_true(m.exact);
	assert_close(m.u, 0, 0);
	assert_close(m.p, 0.1, 1e-12);
	/* swapped: U = 9, same p */
	assert_int_equal(hvt_stats_mann_whitney(y1, 3, x1, 3, &m), 0);
	assert_close(m.u, 9, 0);
	assert_close(m.p, 0.1, 1e-12);

	/*
	 * Interleaved: x = 1 3 5, y = 2 4 6. Pairs x > y: 3>2, 5>2, 5>4 -> U = 3.
	 * Counts of U = 0..9 for 3+3: 1 1 2 3 3 3 3 2 1 1 (sum 20).
	 * P(U <= 3) = 7/20, P(U >= 3) = 16/20 -> p = 2 * 7/20 = 0.7.
	 */
	const double x2[] = {5, 1, 3}, y2[] = {6, 2, 4};

	assert_int_equal(hvt_stats_mann_whitney(x2, 3, y2, 3, &m), 0);
	assert_true(m.exact);
	assert_close(m.u, 3, 0);
	assert_close(m.p, 0.7, 1e-12);

	/* U exactly at the centre (4.5 impossible; 1+1 sample: U = 1 or 0, p = 1) */
	const double a[] = {2}, b[] = {1};

	assert_int_equal(hvt_stats_mann_whitney(a, 1, b, 1, &m), 0);
	assert_close(m.u, 1, 0);
	assert_close(m.p, 1.0, 0);
}

static void test_mwu_ties(void **state)
{
	(void)state;
	struct hvt_mwu m;

	/*
	 * x = 1 2 2 3, y = 2 3 4 5 5 (ties -> normal approximation).
	 * Sorted: 1x 2x 2x 2y 3x 3y 4y 5y 5y; ranks 1, (2+3+4)/3 = 3 (x3),
	 * (5+6)/2 = 5.5 (x2), 7, (8+9)/2 = 8.5 (x2).
	 * R_x = 1 + 3 + 3 + 5.5 = 12.5; U = 12.5 - 4*5/2 = 2.5.
	 * mean = 4*5/2 = 10; ties t = 3, 2, 2: sum(t^3 - t) = 24 + 6 + 6 = 36;
	 * var = 20/12 * (10 - 36/(9*8)) = 1.6667 * 9.5 = 15.8333, sd = 3.979112;
	 * z = (|2.5 - 10| - 0.5) / 3.979112 = 1.759186;
	 * p = erfc(z / sqrt 2) = 0.0785459 (scipy asymptotic gives the same).
	 */
	const double x[] = {1, 2, 2, 3}, y[] = {2, 3, 4, 5, 5};

	assert_int_equal(hvt_stats_mann_whitney(x, 4, y, 5, &m), 0);
	assert_false(m.exact);
	assert_close(m.u, 2.5, 0);
	assert_close(m.z, 1.759186414825121, 1e-9);
	assert_close(m.p, 0.0785458509511907, 1e-9);

	/* all tied: variance 0 -> p = 1 */
	const double t1[] = {4, 4, 4}, t2[] = {4, 4};

	assert_int_equal(hvt_stats_mann_whitney(t1, 3, t2, 2, &m), 0);
	assert_close(m.u, 3, 0); /* every pair counts 1/2: 6 * 0.5 */
	assert_close(m.p, 1.0, 0);

	/*
	 * n = 11 each, no ties: asymptotic. x = 1..11 below y = 12..22: U = 0,
	 * mean 60.5, var = 121/12 * 23 = 231.9167, sd = 15.228810,
	 * z = 60 / 15.228810 = 3.939901, p = erfc(z / sqrt 2) = 8.1515e-5.
	 */
	double bx[11], by[11];

	for (int i = 0; i < 11; i++) {
		bx[i] = i + 1;
		by[i] = i + 12;
	}
	assert_int_equal(hvt_stats_mann_whitney(bx, 11, by, 11, &m), 0);
	assert_false(m.exact);
	assert_close(m.u, 0, 0);
	assert_close(m.p, 8.151536127743262e-05, 1e-12);

	assert_int_equal(hvt_stats_mann_whitney(bx, 0, by, 11, &m), -EINVAL);
}

/* ~N(0,1) from the seeded generator (sum of 12 uniforms). */
static double gauss(struct hvt_rng *r)
{
	double s = 0;

	for (int i = 0; i < 12; i++)
		s += hvt_rng_double(r);
	return s - 6.0;
}

#define ROUNDS 8
#define REPS 10
#define NV (ROUNDS * REPS)

/* value = scale * drift[round] * (1 + noise * N(0,1)) */
static void make_side(double *v, int *round, double scale, const double *drift, double noise,
		      uint64_t seed)
{
	struct hvt_rng r;

	hvt_rng_seed(&r, seed);
	for (int k = 0; k < ROUNDS; k++) {
		for (int j = 0; j < REPS; j++) {
			v[k * REPS + j] =
			    scale * (drift ? drift[k] : 1.0) * (1.0 + noise * gauss(&r));
			round[k * REPS + j] = k;
		}
	}
}

static void test_boot_identical(void **state)
{
	(void)state;
	double v[NV];
	int round[NV];
	struct hvt_sample_set s = {v, round, NV};
	struct hvt_boot_opts o;
	struct hvt_boot_ci ci;

	make_side(v, round, 100.0, NULL, 0.03, 11);
	hvt_boot_opts_init(&o);
	assert_int_equal(hvt_stats_boot_ratio(&s, &s, &o, &ci), 0);
	assert_true(ci.ratio == 1.0);
	assert_true(ci.lo <= 1.0 && ci.hi >= 1.0);
	assert_int_equal(ci.used, 2000);
	assert_int_equal(ci.rounds_base, ROUNDS);
	assert_int_equal(ci.flags, 0);

	/* paired with itself: every replicate is exactly 1 only if the within-round
	 * draws were shared; they are not, but the CI must still contain 1 */
	o.paired = 1;
	assert_int_equal(hvt_stats_boot_ratio(&s, &s, &o, &ci), 0);
	assert_true(ci.paired);
	assert_int_equal(ci.rounds_common, ROUNDS);
	assert_true(ci.ratio == 1.0);
	assert_true(ci.lo <= 1.0 && ci.hi >= 1.0);
}

static void test_boot_shift(void **state)
{
	(void)state;
	double bv[NV], cv[NV];
	int br[NV], cr[NV];
	struct hvt_sample_set b = {bv, br, NV}, c = {cv, cr, NV};
	struct hvt_boot_opts o;
	struct hvt_boot_ci ci, ci2;

	make_side(bv, br, 100.0, NULL, 0.01, 1);
	make_side(cv, cr, 110.0, NULL, 0.01, 2);
	hvt_boot_opts_init(&o);
	o.seed = 42;
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &ci), 0);
	assert_close(ci.ratio, 1.10, 0.01);
	assert_true(ci.lo > 1.0);
	assert_true(ci.lo < ci.ratio && ci.ratio < ci.hi);
	assert_true(ci.lo > 1.08 && ci.hi < 1.12);

	/* same seed: bit-identical CI; another seed: a different one */
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &ci2), 0);
	assert_true(ci.lo == ci2.lo && ci.hi == ci2.hi);
	o.seed = 43;
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &ci2), 0);
	assert_true(ci.lo != ci2.lo || ci.hi != ci2.hi);
	assert_true(ci.ratio == ci2.ratio);

	/* a wider level gives a CI at least as wide */
	o.seed = 42;
	o.level = 0.99;
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &ci2), 0);
	assert_true(ci2.lo <= ci.lo && ci2.hi >= ci.hi);

	o.level = 1.0;
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &ci2), -EINVAL);
}

static void test_boot_paired_drift(void **state)
{
	(void)state;
	/* +-20% round-to-round drift shared by both sides (interleaved runs) */
	const double drift[ROUNDS] = {1.00, 0.80, 1.20, 0.90, 1.15, 0.85, 1.05, 0.95};
	double bv[NV], cv[NV];
	int br[NV], cr[NV];
	struct hvt_sample_set b = {bv, br, NV}, c = {cv, cr, NV};
	struct hvt_boot_opts o;
	struct hvt_boot_ci un, pa;

	make_side(bv, br, 100.0, drift, 0.01, 3);
	make_side(cv, cr, 110.0, drift, 0.01, 4);
	hvt_boot_opts_init(&o);
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &un), 0);
	o.paired = 1;
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &pa), 0);
	assert_false(un.paired);
	assert_true(pa.paired);
	assert_true(un.ratio == pa.ratio);
	/* paired: tight around 1.10; unpaired: the drift swamps it */
	assert_true(pa.lo > 1.07 && pa.hi < 1.13);
	assert_true(pa.hi - pa.lo < (un.hi - un.lo) / 4.0);
	assert_true(un.lo < 1.0); /* independent resampling cannot tell */
}

static void test_boot_fallbacks(void **state)
{
	(void)state;
	const double bv[] = {10, 11, 9, 10, 10}, cv[] = {20, 21, 19, 20, 22, 18};
	const int cr[] = {0, 0, 1, 1, 2, 2};
	struct hvt_sample_set b = {bv, NULL, 5}, c = {cv, cr, 6};
	struct hvt_boot_opts o;
	struct hvt_boot_ci ci;

	hvt_boot_opts_init(&o);
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &ci), 0);
	assert_close(ci.ratio, 2.0, 0);
	assert_true(ci.flags & HVT_BOOT_FLAT_BASE);
	assert_false(ci.flags & HVT_BOOT_FLAT_CAND);
	assert_int_equal(ci.rounds_base, 1);
	assert_int_equal(ci.rounds_cand, 3);
	assert_true(ci.lo <= 2.0 && ci.hi >= 2.0);

	/* paired with one common round (base all round 0): falls back to independent */
	o.paired = 1;
	assert_int_equal(hvt_stats_boot_ratio(&b, &c, &o, &ci), 0);
	assert_false(ci.paired);
	assert_true(ci.flags & HVT_BOOT_UNPAIRED);

	/* paired with rounds on one side only: those are left out and flagged */
	const double b3v[] = {10, 10, 11, 11, 12, 12, 13};
	const int b3r[] = {0, 0, 1, 1, 2, 2, 7};
	struct hvt_sample_set b3 = {b3v, b3r, 7};

	assert_int_equal(hvt_stats_boot_ratio(&b3, &c, &o, &ci), 0);
	assert_true(ci.paired);
	assert_int_equal(ci.rounds_common, 3);
	assert_true(ci.flags & HVT_BOOT_DROPPED_ROUNDS);

	/* zero base median: undefined ratio */
	const double z[] = {0, 0, 0};
	struct hvt_sample_set zs = {z, NULL, 3};

	o.paired = 0;
	assert_int_equal(hvt_stats_boot_ratio(&zs, &c, &o, &ci), -EDOM);
}

static void test_tax(void **state)
{
	(void)state;
	double lo, hi;

	/* bandwidth (higher is better) 10 -> 8: base/cand - 1 = 0.25 */
	assert_close(hvt_stats_tax(10, 8, 1), 0.25, 1e-15);
	assert_close(hvt_stats_tax_from_ratio(0.8, 1), 0.25, 1e-15);
	/* latency (lower is better) 10 -> 12: cand/base - 1 = 0.2 */
	assert_close(hvt_stats_tax(10, 12, 0), 0.2, 1e-15);
	assert_close(hvt_stats_tax_from_ratio(1.2, 0), 0.2, 1e-12);
	/* candidate faster: negative tax */
	assert_true(hvt_stats_tax(10, 12, 1) < 0);
	/* equal: exactly 0 */
	assert_true(hvt_stats_tax(3.7, 3.7, 1) == 0.0);
	assert_true(hvt_stats_tax(3.7, 3.7, 0) == 0.0);
	assert_true(isnan(hvt_stats_tax(1, 0, 1)));

	/* ratio CI [0.8, 0.9], higher is better: tax in [1/0.9 - 1, 1/0.8 - 1], bounds swapped */
	hvt_stats_tax_ci(0.8, 0.9, 1, &lo, &hi);
	assert_close(lo, 1.0 / 0.9 - 1.0, 1e-15);
	assert_close(hi, 0.25, 1e-15);
	assert_true(lo < hi);
	/* lower is better: same order */
	hvt_stats_tax_ci(1.1, 1.3, 0, &lo, &hi);
	assert_close(lo, 0.1, 1e-12);
	assert_close(hi, 0.3, 1e-12);
}

static void test_geomean(void **state)
{
	(void)state;
	/* (1.21 * 1.0)^(1/2) = 1.1 -> 0.1; (1.5 * 0.5 ... ) */
	const double t1[] = {0.21, 0.0};
	const double t2[] = {1.0, -0.5}; /* 2 * 0.5 = 1 -> 0 */
	const double t3[] = {0.0, 0.0, 0.0};
	const double bad[] = {0.1, -1.0};
	double g;

	assert_int_equal(hvt_stats_geomean_tax(t1, 2, &g), 0);
	assert_close(g, 0.1, 1e-12);
	assert_int_equal(hvt_stats_geomean_tax(t2, 2, &g), 0);
	assert_close(g, 0.0, 1e-15);
	assert_int_equal(hvt_stats_geomean_tax(t3, 3, &g), 0);
	assert_true(g == 0.0);
	assert_int_equal(hvt_stats_geomean_tax(bad, 2, &g), -EDOM);
	assert_int_equal(hvt_stats_geomean_tax(t1, 0, &g), -EINVAL);
}

static void test_noise(void **state)
{
	(void)state;
	struct hvt_noise_opts o;
	const double quiet[] = {100, 101, 99, 100, 100, 101};
	const int r3[] = {0, 0, 1, 1, 2, 2};
	const double loud[] = {100, 130, 70, 100, 100, 120};
	struct hvt_sample_set s = {quiet, r3, 6};
	double cv;

	hvt_noise_opts_init(&o);
	assert_int_equal(hvt_stats_noise_flags(&s, &o, &cv), 0);
	assert_true(cv < 0.05);
	s.v = loud;
	assert_int_equal(hvt_stats_noise_flags(&s, &o, &cv), HVT_NOISE_CV);
	assert_true(cv > 0.05);
	s.v = quiet;
	s.n = 4; /* 2 rounds, 4 samples */
	assert_int_equal(hvt_stats_noise_flags(&s, &o, NULL),
			 HVT_NOISE_FEW_SAMPLES | HVT_NOISE_FEW_ROUNDS);
	s.round = NULL;
	s.n = 6;
	assert_int_equal(hvt_stats_noise_flags(&s, &o, NULL), HVT_NOISE_FEW_ROUNDS);
	assert_int_equal(hvt_stats_count_rounds(r3, 6), 3);
	assert_int_equal(hvt_stats_count_rounds(NULL, 6), 1);
	assert_int_equal(hvt_stats_count_rounds(r3, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_percentile),	   cmocka_unit_test(test_median),
	    cmocka_unit_test(test_summary),	   cmocka_unit_test(test_mwu_exact),
	    cmocka_unit_test(test_mwu_ties),	   cmocka_unit_test(test_boot_identical),
	    cmocka_unit_test(test_boot_shift),	   cmocka_unit_test(test_boot_paired_drift),
	    cmocka_unit_test(test_boot_fallbacks), cmocka_unit_test(test_tax),
	    cmocka_unit_test(test_geomean),	   cmocka_unit_test(test_noise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
