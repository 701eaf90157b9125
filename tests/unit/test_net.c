/* SPDX-License-Identifier: MIT */
/* Unit tests of the net family: percentiles, HELLO encoding, line protocol, a self-contained session, fingerprint replay. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../bench/core.h"
#include "../../bench/families.h"
#include "../../bench/fsroot.h"
#include "../../bench/net.h"
#include "../../bench/params.h"

#define assert_close(a, b, tol)                                                                     \
	do {                                                                                        \
		const double a_ = (a), b_ = (b);                                                    \
		if (!(fabs(a_ - b_) <= (tol)))                                                      \
			fail_msg("%s = %.12g, expected %.12g (tol %g)", #a, a_, b_, (double)(tol)); \
	} while (0)

static void test_pctl_nearest_rank(void **state)
{
	uint64_t v[1000];

	(void)state;
	for (int i = 0; i < 1000; i++)
		v[i] = (uint64_t)i + 1;
	assert_int_equal(hvt_net_pctl_sorted(v, 1000, 50), 500);
	assert_int_equal(hvt_net_pctl_sorted(v, 1000, 99), 990);
	assert_int_equal(hvt_net_pctl_sorted(v, 1000, 99.9), 999);
	assert_int_equal(hvt_net_pctl_sorted(v, 1000, 0), 1);
	assert_int_equal(hvt_net_pctl_sorted(v, 1000, 100), 1000);
	/* ten values: p99.9 is rank ceil(9.99) = 10, p50 rank 5, p11 rank ceil(1.1) = 2 */
	assert_int_equal(hvt_net_pctl_sorted(v, 10, 99.9), 10);
	assert_int_equal(hvt_net_pctl_sorted(v, 10, 50), 5);
	assert_int_equal(hvt_net_pctl_sorted(v, 10, 11), 2);
	assert_int_equal(hvt_net_pctl_sorted(v, 1, 99.9), 1);
	assert_int_equal(hvt_net_pctl_sorted(v, 0, 50), 0);
}

static void test_summary_one_way(void **state)
{
	/* round trips in ns, unsorted; one-way is half */
	uint64_t v[] = { 4000, 2000, 10000, 6000, 8000 };
	struct hvt_net_lat_summary s;

	(void)state;
	assert_int_equal(hvt_net_lat_summarize(v, 5, &s), 0);
	assert_int_equal(s.n, 5);
	assert_close(s.min_s, 1e-6, 1e-15);
	assert_close(s.max_s, 5e-6, 1e-15);
	assert_close(s.p50_s, 3e-6, 1e-15);
	assert_close(s.p99_s, 5e-6, 1e-15);
	assert_close(s.p999_s, 5e-6, 1e-15);
	assert_close(s.mean_s, 3e-6, 1e-15);
	assert_int_equal(v[0], 2000); /* sorted in place */
	assert_int_equal(hvt_net_lat_summarize(v, 0, &s), -ENODATA);
}

static void test_samples_grow(void **state)
{
	struct hvt_net_samples s = { 0 };

	(void)state;
	for (uint64_t i = 0; i < 100000; i++)
		assert_int_equal(hvt_net_samples_add(&s, i), 0);
	assert_int_equal(s.n, 100000);
	assert_int_equal(s.v[99999], 99999);
	hvt_net_samples_release(&s);
	assert_null(s.v);
}

/* The metrics a repetition gets, through the core's own hvt_rep_set. */
static void test_lat_report(void **state)
{
	const struct hvt_bench *b = &hvt_bench_net_tcp_lat;
	double vals[8];
	int isset[8] = { 0 };
	struct hvt_rep rep = { .values = vals, .isset = isset, .bench = b };
	struct hvt_net_samples s = { 0 };

	(void)state;
	for (uint64_t i = 1; i <= 1000; i++)
		assert_int_equal(hvt_net_samples_add(&s, i * 2), 0);
	assert_int_equal(hvt_net_lat_report(&rep, &s), 0);
	for (size_t i = 0; i < b->nmetrics; i++)
		assert_true(isset[i]);
	assert_close(vals[0], 500e-9, 1e-15);  /* lat_p50 */
	assert_close(vals[1], 990e-9, 1e-15);  /* lat_p99 */
	assert_close(vals[2], 999e-9, 1e-15);  /* lat_p999 */
	assert_close(vals[3], 1e-9, 1e-15);    /* lat_min */
	assert_close(vals[4], 1000e-9, 1e-15); /* lat_max */
	assert_close(vals[5], 500.5e-9, 1e-15);
	assert_int_equal(json_integer_value(json_object_get(rep.extra, "round_trips")), 1000);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(rep.extra, "rtt_hist"), "count")), 1000);
	json_decref(rep.extra);
	hvt_net_samples_release(&s);
}

static struct hvt_case one_case(const struct hvt_bench *b, struct hvt_assign *a, size_t na)
{
	struct hvt_case *cs = NULL, c;
	size_t n = 0;

	assert_int_equal(hvt_cases_expand(b, a, na, &cs, &n), 0);
	assert_int_equal(n, 1);
	c = cs[0];
	free(cs);
	return c;
}

static void test_hello_roundtrip(void **state)
{
	struct hvt_assign a[] = {
		{ "size", "4MiB", NULL, 0 },	  { "timeout", "2s", NULL, 0 }, { "busy_poll", "50", NULL, 0 },
		{ "dma_latency", "1", NULL, 0 }, { "addr", "::1", NULL, 0 },
	};
	struct hvt_case c = one_case(&hvt_bench_net_tcp_lat, a, 5);
	const struct hvt_bench *b = NULL;
	const struct hvt_net_params *p;
	void *params = NULL;
	char line[HVT_NET_LINE_MAX], err[256];

	(void)state;
	assert_int_equal(hvt_net_hello_encode(&hvt_bench_net_tcp_lat, c.params, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "HVTNET/1 HELLO net.tcp_lat "));
	assert_non_null(strstr(line, " size=4MiB"));
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(hvt_net_hello_decode(line, &b, &params, err, sizeof(err)), 0);
	assert_ptr_equal(b, &hvt_bench_net_tcp_lat);
	p = params;
	assert_int_equal(p->size, 4u << 20);
	assert_int_equal(p->timeout_ns, 2000000000ull);
	assert_int_equal(p->busy_poll_us, 50);
	assert_int_equal(p->dma_latency, 1);
	assert_string_equal(p->addr, "::1");
	hvt_net_params_free(b, params);
	/* too small a buffer is an error, not a truncated line */
	assert_int_equal(hvt_net_hello_encode(&hvt_bench_net_tcp_lat, c.params, line, 20), -ENAMETOOLONG);
	hvt_case_release(&c);
}

static void test_hello_refusals(void **state)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1",
		"HVTNET/1 HI net.tcp_lat",
		"HVTNET/1 HELLO",
		"HVTNET/1 HELLO net.nope size=2",
		"HVTNET/1 HELLO null.loop batch=1",
		"HVTNET/1 HELLO net.tcp_lat size=abc",
		"HVTNET/1 HELLO net.tcp_lat size=1GiB",
		"HVTNET/1 HELLO net.tcp_lat colour=red",
		"HVTNET/1 HELLO net.tcp_lat =3",
	};
	const struct hvt_bench *b;
	void *params;
	char err[256];

	(void)state;
	for (size_t i = 0; i < HVT_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_true(hvt_net_hello_decode(bad[i], &b, &params, err, sizeof(err)) < 0);
		assert_null(params);
		assert_true(err[0] != '\0');
	}
}

static void test_split_hostport(void **state)
{
	char h[64], p[16];

	(void)state;
	assert_int_equal(hvt_net_split_hostport("7000", h, sizeof(h), p, sizeof(p), 0), 0);
	assert_string_equal(h, "");
	assert_string_equal(p, "7000");
	assert_int_equal(hvt_net_split_hostport("10.0.0.1:7000", h, sizeof(h), p, sizeof(p), 1), 0);
	assert_string_equal(h, "10.0.0.1");
	assert_int_equal(hvt_net_split_hostport("[fe80::1%eth0]:99", h, sizeof(h), p, sizeof(p), 1), 0);
	assert_string_equal(h, "fe80::1%eth0");
	assert_string_equal(p, "99");
	assert_int_equal(hvt_net_split_hostport("7000", h, sizeof(h), p, sizeof(p), 1), -EINVAL);
	assert_int_equal(hvt_net_split_hostport("host:", h, sizeof(h), p, sizeof(p), 1), -EINVAL);
	assert_int_equal(hvt_net_split_hostport("host:70000", h, sizeof(h), p, sizeof(p), 1), -EINVAL);
	assert_int_equal(hvt_net_split_hostport("host:7x", h, sizeof(h), p, sizeof(p), 1), -EINVAL);
	assert_int_equal(hvt_net_split_hostport("::1:7000", h, sizeof(h), p, sizeof(p), 1), -EINVAL);
	assert_int_equal(hvt_net_split_hostport("", h, sizeof(h), p, sizeof(p), 0), -EINVAL);
}

static void test_lines(void **state)
{
	int sv[2];
	char buf[64];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(hvt_net_write_line(sv[0], "ACK %d", 42), 0);
	/* raw data right after a line stays unread for the data path */
	assert_int_equal(hvt_net_send_all(sv[0], "\x01\x02", 2), 0);
	assert_int_equal(hvt_net_read_line(sv[1], buf, sizeof(buf), 1000000000ull), 0);
	assert_string_equal(buf, "ACK 42");
	assert_int_equal(hvt_net_recv_all(sv[1], buf, 2), 0);
	assert_int_equal(buf[1], 2);
	/* silence is a timeout */
	assert_int_equal(hvt_net_read_line(sv[1], buf, sizeof(buf), 20000000ull), -ETIMEDOUT);
	assert_int_equal(hvt_net_set_timeouts(sv[1], 20000000ull), 0);
	assert_int_equal(hvt_net_recv_all(sv[1], buf, 1), -ETIMEDOUT);
	/* a line longer than the buffer is a protocol error */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(hvt_net_send_all(sv[0], buf, sizeof(buf)), 0);
	assert_int_equal(hvt_net_read_line(sv[1], buf, 16, 1000000000ull), -EPROTO);
	/* the peer going away is ECONNRESET */
	close(sv[0]);
	assert_int_equal(hvt_net_recv_all(sv[1], buf, sizeof(buf)), -ECONNRESET);
	assert_int_equal(hvt_net_read_line(sv[1], buf, sizeof(buf), 1000000000ull), -ECONNRESET);
	close(sv[1]);
}

/* Both ends on this host, through the benchmark's own callbacks: the whole session machine. */
static void run_self(const struct hvt_bench *b, const char *size)
{
	struct hvt_assign a[] = { { "size", size, NULL, 0 } };
	struct hvt_case c = one_case(b, a, 1);
	double vals[8];
	int isset[8] = { 0 };
	struct hvt_rep rep = { .values = vals, .isset = isset, .bench = b };
	void *st = NULL;
	char why[256] = "";

	unsetenv("HVT_NET_PEER");
	assert_int_equal(b->probe(c.params, why, sizeof(why)), 0);
	assert_int_equal(b->setup(c.params, &st), 0);
	for (int k = 0; k < 2; k++) {
		memset(isset, 0, sizeof(isset));
		rep.t_start_ns = hvt_now_ns();
		rep.deadline_ns = rep.t_start_ns + 30000000ull;
		assert_int_equal(b->run(c.params, st, &rep), 0);
		for (size_t i = 0; i < b->nmetrics; i++) {
			assert_true(isset[i]);
			assert_true(vals[i] > 0);
		}
		assert_string_equal(json_string_value(json_object_get(rep.extra, "mode")), "self");
		json_decref(rep.extra);
		rep.extra = NULL;
	}
	b->teardown(c.params, st);
	hvt_case_release(&c);
}

static void test_self_contained(void **state)
{
	(void)state;
	run_self(&hvt_bench_net_tcp_lat, "2");
	run_self(&hvt_bench_net_tcp_lat, "1MiB");
	run_self(&hvt_bench_net_tcp_bw, "64KiB");
}

static void test_peer_refused(void **state)
{
	struct hvt_case c = one_case(&hvt_bench_net_tcp_lat, NULL, 0);
	void *st = NULL;

	(void)state;
	setenv("HVT_NET_PEER", "127.0.0.1:1", 1);
	assert_true(hvt_bench_net_tcp_lat.setup(c.params, &st) < 0);
	hvt_bench_net_tcp_lat.teardown(c.params, st);
	unsetenv("HVT_NET_PEER");
	hvt_case_release(&c);
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[1024], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static json_t *find_named(json_t *a, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(a, i, o)
		if (strcmp(json_string_value(json_object_get(o, "name")), name) == 0)
			return o;
	return NULL;
}

static void test_fingerprint_replay(void **state)
{
	char root[] = "/tmp/hvt-net-fsroot.XXXXXX", cmd[256];
	json_t *fp, *nic, *dev, *port;

	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, "/sys/class/net/eth0/mtu", "9000\n");
	put(root, "/sys/class/net/eth0/speed", "25000\n");
	put(root, "/sys/class/net/eth0/operstate", "up\n");
	/* replay: a regular file stands for a link, its content the target */
	put(root, "/sys/class/net/eth0/device/driver", "../../../bus/pci/drivers/mlx5_core\n");
	put(root, "/sys/class/net/veth0/mtu", "1500\n");
	put(root, "/sys/class/net/veth0/operstate", "up\n");
	put(root, "/sys/class/infiniband/mlx5_0/node_type", "1: CA\n");
	put(root, "/sys/class/infiniband/mlx5_0/fw_ver", "16.35.2000\n");
	put(root, "/sys/class/infiniband/mlx5_0/ports/1/link_layer", "Ethernet\n");
	put(root, "/sys/class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n");
	put(root, "/sys/class/infiniband/mlx5_0/ports/1/rate", "25 Gb/sec (1X EDR)\n");
	hvt_fsroot = root;
	fp = hvt_net_fingerprint();
	hvt_fsroot = "";
	assert_non_null(fp);
	nic = find_named(json_object_get(fp, "nics"), "eth0");
	assert_non_null(nic);
	assert_string_equal(json_string_value(json_object_get(nic, "driver")), "mlx5_core");
	assert_int_equal(json_integer_value(json_object_get(nic, "speed_mbps")), 25000);
	assert_int_equal(json_integer_value(json_object_get(nic, "mtu")), 9000);
	assert_true(json_is_false(json_object_get(nic, "virtual")));
	nic = find_named(json_object_get(fp, "nics"), "veth0");
	assert_non_null(nic);
	assert_true(json_is_true(json_object_get(nic, "virtual")));
	assert_null(json_object_get(nic, "speed_mbps"));
	dev = find_named(json_object_get(fp, "rdma"), "mlx5_0");
	assert_non_null(dev);
	assert_string_equal(json_string_value(json_object_get(dev, "fw_ver")), "16.35.2000");
	port = json_array_get(json_object_get(dev, "ports"), 0);
	assert_string_equal(json_string_value(json_object_get(port, "link_layer")), "Ethernet");
	assert_string_equal(json_string_value(json_object_get(port, "state")), "4: ACTIVE");
	assert_true(json_is_null(json_object_get(fp, "cpu_dma_latency_us")));
	json_decref(fp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pctl_nearest_rank), cmocka_unit_test(test_summary_one_way),
		cmocka_unit_test(test_samples_grow),	  cmocka_unit_test(test_lat_report),
		cmocka_unit_test(test_hello_roundtrip),	  cmocka_unit_test(test_hello_refusals),
		cmocka_unit_test(test_split_hostport),	  cmocka_unit_test(test_lines),
		cmocka_unit_test(test_self_contained),	  cmocka_unit_test(test_peer_refused),
		cmocka_unit_test(test_fingerprint_replay),
	};

	hvt_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
