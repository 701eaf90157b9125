/* SPDX-License-Identifier: MIT */
/* Unit tests of harness/cost.c: runtime and cost arithmetic, break-even, prices and job files. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka needs the headers above */
#include <cmocka.h>

#include "../../common/util.h"
#include "../../harness/cost.h"

#define assert_close(a, b, tol)                                                                    \
	do {                                                                                       \
		const double a_ = (a), b_ = (b);                                                   \
		if (!(fabs(a_ - b_) <= (tol)))                                                     \
			fail_msg("%s = %.12g, expected %.12g (tol %g)", #a, a_, b_,                \
				 (double)(tol));                                                   \
	} while (0)

static const char *tmp_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/hvt-test-cost-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_arithmetic(void **state)
{
	/* 60% at +10%, 25% at +40%, 15% at 0: 0.66 + 0.35 + 0.15 = 1.16 of 72 h */
	const double share[] = {0.60, 0.25, 0.15}, tax[] = {0.10, 0.40, 0.0};
	/* shares summing to 0.5: the other half runs at tax 0 */
	const double share2[] = {0.5}, tax2[] = {1.0};
	double rt, c, u;

	(void)state;
	rt = hvt_cost_runtime(72.0, share, tax, 3);
	assert_close(rt, 72.0 * 1.16, 1e-9);
	assert_close(hvt_cost_runtime(10.0, share2, tax2, 1), 15.0, 1e-12);
	assert_close(hvt_cost_runtime(10.0, NULL, NULL, 0), 10.0, 1e-12);
	c = hvt_cost_per_job(4.0, rt, 0.8);
	assert_close(c, 4.0 * 72.0 * 1.16 / 0.8, 1e-9);
	/*
	 * a: $4/h, 10 h, at 80%: $50/job. b: $3/h, 12 h: $36 per job at 100%;
	 * it matches $50 at 36/50 = 72% utilization.
	 */
	u = hvt_cost_break_even(4.0, 10.0, 0.8, 3.0, 12.0);
	assert_close(u, 0.72, 1e-12);
	assert_close(hvt_cost_per_job(3.0, 12.0, u), hvt_cost_per_job(4.0, 10.0, 0.8), 1e-9);
	/* against b at 100% ($36/job), a ($40/job at 100%) would need 111%: never */
	assert_close(hvt_cost_break_even(3.0, 12.0, 1.0, 4.0, 10.0), 40.0 / 36.0, 1e-12);
}

static void test_prices(void **state)
{
	struct hvt_prices p;
	const char *path = tmp_file("[prices]\ncurrency = EUR\n[env host]\ndescription = metal\n"
				    "on_demand = 4.5\nreserved = 3\nutilization = 80%\n"
				    "[env vm]\non_demand = 3.25\n");
	const struct hvt_price *h, *v;

	(void)state;
	assert_int_equal(hvt_prices_load(&p, path), 0);
	unlink(path);
	assert_string_equal(p.currency, "EUR");
	assert_int_equal(p.n, 2);
	h = hvt_prices_find(&p, "host");
	v = hvt_prices_find(&p, "vm");
	assert_non_null(h);
	assert_non_null(v);
	assert_null(hvt_prices_find(&p, "container"));
	assert_close(h->on_demand, 4.5, 0);
	assert_close(h->reserved, 3.0, 0);
	assert_close(h->utilization, 0.8, 1e-12);
	assert_string_equal(h->desc, "metal");
	assert_close(v->utilization, 1.0, 0);
	assert_true(isnan(v->reserved));
	hvt_prices_free(&p);

	/* errors: no on_demand, bad utilization, unknown key, duplicate env */
	{
		static const char *const bad[] = {
		    "[env a]\nreserved = 1\n",
		    "[env a]\non_demand = 1\nutilization = 0\n",
		    "[env a]\non_demand = 1\ncolour = red\n",
		    "[env a]\non_demand = 1\n[env b]\non_demand = 1\n[env a]\non_demand = 2\n",
		    "[nonsense]\nx = 1\n",
		};

		for (size_t i = 0; i < HVT_ARRAY_SIZE(bad); i++) {
			path = tmp_file(bad[i]);
			assert_int_equal(hvt_prices_load(&p, path), -EINVAL);
			unlink(path);
		}
	}
}

static void test_job(void **state)
{
	struct hvt_job j;
	const char *path = tmp_file("[job]\nname = train\nbaseline_hours = 72\n[shares]\n"
				    "coll = 60%\ngpu = 0.25\nio.seqread:bw = 10%\n");

	(void)state;
	assert_int_equal(hvt_job_load(&j, path), 0);
	unlink(path);
	assert_string_equal(j.name, "train");
	assert_close(j.hours, 72.0, 0);
	assert_int_equal(j.n, 3);
	assert_string_equal(j.shares[2].key, "io.seqread:bw");
	assert_close(j.total, 0.95, 1e-12);
	hvt_job_free(&j);

	path = tmp_file("[job]\nbaseline_hours = 1\n[shares]\ncpu = 70%\nio = 40%\n");
	assert_int_equal(hvt_job_load(&j, path), -EINVAL); /* 110% */
	unlink(path);
	path = tmp_file("[job]\nname = x\n[shares]\ncpu = 70%\n");
	assert_int_equal(hvt_job_load(&j, path), -EINVAL); /* no hours */
	unlink(path);
}

static void test_share_tax(void **state)
{
	struct hvt_compare_row rows[3];
	struct hvt_compare_family fam[1];
	struct hvt_compare c;
	double tax;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(rows, 0, sizeof(rows));
	rows[0] = (struct hvt_compare_row){.case_key = (char *)"io.randread?qd=1",
					   .bench = (char *)"io.randread",
					   .metric = (char *)"iops",
					   .tax = 0.21};
	rows[1] = (struct hvt_compare_row){.case_key = (char *)"io.randread?qd=8",
					   .bench = (char *)"io.randread",
					   .metric = (char *)"iops",
					   .tax = 0.44};
	rows[2] = (struct hvt_compare_row){.case_key = (char *)"io.randread?qd=1",
					   .bench = (char *)"io.randread",
					   .metric = (char *)"lat_p99",
					   .tax = 3.0};
	fam[0] = (struct hvt_compare_family){(char *)"io", 3, 0.5};
	c.rows = rows;
	c.nrows = 3;
	c.families = fam;
	c.nfamilies = 1;
	/* a family: the compare module's geomean */
	assert_int_equal(hvt_cost_share_tax(&c, "io", &tax), 3);
	assert_close(tax, 0.5, 0);
	/* bench and metric: geomean of 1.21 and 1.44 = 1.32 */
	assert_int_equal(hvt_cost_share_tax(&c, "io.randread:iops", &tax), 2);
	assert_close(tax, 0.32, 1e-12);
	/* a case glob */
	assert_int_equal(hvt_cost_share_tax(&c, "io.randread?qd=8", &tax), 1);
	assert_close(tax, 0.44, 1e-12);
	/* unmeasured: tax 0 */
	assert_int_equal(hvt_cost_share_tax(&c, "coll", &tax), 0);
	assert_close(tax, 0.0, 0);
	assert_int_equal(hvt_cost_share_tax(&c, "net.tcp_lat", &tax), 0);
	assert_int_equal(hvt_cost_share_tax(NULL, "io", &tax), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arithmetic),
	    cmocka_unit_test(test_prices),
	    cmocka_unit_test(test_job),
	    cmocka_unit_test(test_share_tax),
	};

	hvt_set_prog("test_cost");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
