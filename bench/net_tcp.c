/* SPDX-License-Identifier: MIT */
/* net.tcp_lat and net.tcp_bw: the ping-pong protocol and a stream over TCP sockets. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "families.h"
#include "net.h"

/* The sink reads in chunks of this size whatever the message size (as iperf3's receiver does). */
#define SINK_CHUNK (256u * 1024u)

static int alloc_buf(struct hvt_net_sess *s, size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 1))
		return -ENOMEM;
	memset(p, 0xa5, len);
	s->buf = p;
	return 0;
}

static int tune_data(struct hvt_net_sess *s, int nodelay)
{
	const struct hvt_net_params *p = s->p;
	int one = 1;

	if (nodelay && setsockopt(s->data, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	if (p->busy_poll_us > 0) {
		int us = (int)p->busy_poll_us;

		if (setsockopt(s->data, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us))) {
			snprintf(s->err, sizeof(s->err), "cannot set SO_BUSY_POLL=%d: %s%s", us, strerror(errno),
				 errno == EPERM ? " (needs CAP_NET_ADMIN above net.core.busy_read)" : "");
			return -errno;
		}
	}
	return hvt_net_set_timeouts(s->data, p->timeout_ns);
}

/* Client: open the data connection to where the control connection goes, tagged with the cookie. */
static int client_data_open(struct hvt_net_sess *s, int nodelay)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char line[HVT_NET_LINE_MAX];
	int r;

	if (getpeername(s->ctl, (struct sockaddr *)&ss, &sl))
		return -errno;
	s->data = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->data < 0)
		return -errno;
	r = hvt_net_set_timeouts(s->data, s->p->timeout_ns);
	if (r)
		return r;
	if (connect(s->data, (struct sockaddr *)&ss, sl))
		return errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
	r = tune_data(s, nodelay);
	if (r)
		return r;
	r = hvt_net_write_line(s->data, "%s DATA %016" PRIx64, HVT_NET_PROTO, s->cookie);
	if (r)
		return r;
	r = hvt_net_read_line(s->ctl, line, sizeof(line), s->p->timeout_ns);
	if (r)
		return r;
	if (strcmp(line, HVT_NET_PROTO " READY") != 0) {
		snprintf(s->err, sizeof(s->err), "peer said '%.200s'", line);
		return -EPROTO;
	}
	return alloc_buf(s, s->p->size);
}

/* Server: take the data connection, then say READY on the control connection. */
static int server_data_open(struct hvt_net_sess *s, int nodelay, size_t buflen)
{
	int r = hvt_net_accept_data(s);

	if (r) {
		snprintf(s->err, sizeof(s->err), "no data connection from the client");
		return r;
	}
	r = tune_data(s, nodelay);
	if (r)
		return r;
	r = alloc_buf(s, buflen);
	if (r)
		return r;
	return hvt_net_write_line(s->ctl, "%s READY", HVT_NET_PROTO);
}

/* ---- net.tcp_lat ---- */

static int lat_client_setup(struct hvt_net_sess *s)
{
	return client_data_open(s, 1);
}

static int lat_client_run(struct hvt_net_sess *s, struct hvt_rep *rep)
{
	size_t len = s->p->size;
	uint64_t t_prev, t;
	int r;

	s->rtt.n = 0;
	/* one clock read per round trip, as perftest does: consecutive stamps bound each exchange */
	t_prev = hvt_now_ns();
	do {
		r = hvt_net_send_all(s->data, s->buf, len);
		if (!r)
			r = hvt_net_recv_all(s->data, s->buf, len);
		if (r)
			return r;
		t = hvt_now_ns();
		r = hvt_net_samples_add(&s->rtt, t - t_prev);
		if (r)
			return r;
		t_prev = t;
	} while (t < rep->deadline_ns);
	rep->nclock += (unsigned)(s->rtt.n > UINT32_MAX ? UINT32_MAX : s->rtt.n);
	return hvt_net_lat_report(rep, &s->rtt);
}

static int lat_serve(struct hvt_net_sess *s)
{
	size_t len = s->p->size;
	int r = server_data_open(s, 1, len);

	/* echo until the client closes the data connection (-ECONNRESET: the normal end) */
	while (!r) {
		r = hvt_net_recv_all(s->data, s->buf, len);
		if (!r)
			r = hvt_net_send_all(s->data, s->buf, len);
	}
	return r;
}

const struct hvt_net_proto hvt_net_tcp_lat_proto = {
	.bench = "net.tcp_lat",
	.is_lat = 1,
	.client_setup = lat_client_setup,
	.client_run = lat_client_run,
	.serve = lat_serve,
};

/* ---- net.tcp_bw ---- */

struct bw_state {
	uint64_t sent; /* bytes sent on this connection, over every repetition */
};

static int bw_client_setup(struct hvt_net_sess *s)
{
	s->priv = hvt_calloc(1, sizeof(struct bw_state));
	if (!s->priv)
		return -ENOMEM;
	return client_data_open(s, 0);
}

static void bw_client_teardown(struct hvt_net_sess *s)
{
	free(s->priv);
	s->priv = NULL;
}

static int bw_client_run(struct hvt_net_sess *s, struct hvt_rep *rep)
{
	struct bw_state *st = s->priv;
	size_t len = s->p->size;
	/* read the clock about every 64 KiB sent: small messages stay syscall-bound, not clock-bound */
	uint64_t batch = len >= 65536 ? 1 : 65536 / len, bytes = 0, msgs = 0, t0 = rep->t_start_ns, t1, acked;
	char line[HVT_NET_LINE_MAX];
	int r;

	do {
		for (uint64_t i = 0; i < batch; i++) {
			r = hvt_net_send_all(s->data, s->buf, len);
			if (r)
				return r;
		}
		bytes += batch * len;
		msgs += batch;
	} while (!hvt_rep_done(rep));
	st->sent += bytes;
	/* bandwidth counts bytes the receiver has taken, so nothing still in flight is credited */
	r = hvt_net_write_line(s->ctl, "SYNC %" PRIu64, st->sent);
	if (!r)
		r = hvt_net_read_line(s->ctl, line, sizeof(line), s->p->timeout_ns);
	if (r)
		return r;
	t1 = hvt_now_ns();
	if (sscanf(line, "ACK %" SCNu64, &acked) != 1 || acked != st->sent) {
		snprintf(s->err, sizeof(s->err), "bad SYNC answer '%.200s'", line);
		return -EPROTO;
	}
	hvt_rep_set(rep, "bw", (double)bytes / ((double)(t1 - t0) * 1e-9));
	hvt_rep_set(rep, "msg_rate", (double)msgs / ((double)(t1 - t0) * 1e-9));
	hvt_rep_extra(rep, "bytes", json_integer((json_int_t)bytes));
	return 0;
}

static int bw_serve(struct hvt_net_sess *s)
{
	uint64_t total = 0;
	int r = server_data_open(s, 0, SINK_CHUNK);

	while (!r) {
		struct pollfd pf[2] = { { .fd = s->data, .events = POLLIN }, { .fd = s->ctl, .events = POLLIN } };
		char line[HVT_NET_LINE_MAX];
		uint64_t want;
		ssize_t n = recv(s->data, s->buf, SINK_CHUNK, MSG_DONTWAIT);
		int pr;

		if (n > 0) {
			total += (uint64_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (hvt_net_retry(errno))
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		pr = poll(pf, 2, (int)(s->p->timeout_ns / 1000000 + 1));
		if (pr < 0 && hvt_net_retry(errno))
			continue;
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -ETIMEDOUT;
		if (!(pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = hvt_net_read_line(s->ctl, line, sizeof(line), s->p->timeout_ns);
		if (r)
			break;
		if (strcmp(line, "BYE") == 0)
			return 0;
		if (sscanf(line, "SYNC %" SCNu64, &want) != 1) {
			snprintf(s->err, sizeof(s->err), "unexpected '%.200s'", line);
			return -EPROTO;
		}
		while (!r && total < want) {
			n = recv(s->data, s->buf, SINK_CHUNK, 0);
			if (n > 0)
				total += (uint64_t)n;
			else if (n < 0 && hvt_net_retry(errno))
				continue;
			else
				r = n == 0 ? -ECONNRESET : (errno == EAGAIN ? -ETIMEDOUT : -errno);
		}
		if (!r)
			r = hvt_net_write_line(s->ctl, "ACK %" PRIu64, total);
	}
	return r;
}

const struct hvt_net_proto hvt_net_tcp_bw_proto = {
	.bench = "net.tcp_bw",
	.client_setup = bw_client_setup,
	.client_run = bw_client_run,
	.client_teardown = bw_client_teardown,
	.serve = bw_serve,
};

/* ---- table entries ---- */

#define P_OFF(f) offsetof(struct hvt_net_params, f)
#define P_ADDR                                                                                        \
	{ "addr", HVT_P_STRING, P_OFF(addr), "127.0.0.1", 0, -1, NULL,                                \
	  "self-contained mode (no --peer): address both ends use on this host" }
#define P_TIMEOUT                                                                                     \
	{ "timeout", HVT_P_DURATION, P_OFF(timeout_ns), "5s", 1e6, 3600e9, NULL,                      \
	  "connect and I/O timeout: a peer silent this long fails the case" }

static const struct hvt_param tcp_lat_params[] = {
	{ "size", HVT_P_SIZE, P_OFF(size), "64", 1, 64.0 * 1024 * 1024, NULL,
	  "message size, bytes each way (perftest sweeps 2..8MiB)" },
	P_ADDR,
	P_TIMEOUT,
	{ "busy_poll", HVT_P_INT, P_OFF(busy_poll_us), "0", 0, 1e6, NULL,
	  "SO_BUSY_POLL on both ends' data sockets, in µs (0 = off)" },
	{ "dma_latency", HVT_P_BOOL, P_OFF(dma_latency), "0", 0, -1, NULL,
	  "hold /dev/cpu_dma_latency at 0 during the case (idle CPUs poll instead of halting)" },
};

static const struct hvt_param tcp_bw_params[] = {
	{ "size", HVT_P_SIZE, P_OFF(size), "128KiB", 1, 64.0 * 1024 * 1024, NULL,
	  "bytes per send() call (iperf3's default is 128KiB)" },
	P_ADDR,
	P_TIMEOUT,
};

/* Shared with net_rdma.c's rows. */
const struct hvt_metric hvt_net_lat_metrics[] = {
	{ "lat_p50", "s", HVT_LOWER_IS_BETTER, "one-way latency (round trip / 2), median: perftest's typical" },
	{ "lat_p99", "s", HVT_LOWER_IS_BETTER, "one-way latency, 99th percentile (nearest rank)" },
	{ "lat_p999", "s", HVT_LOWER_IS_BETTER, "one-way latency, 99.9th percentile (nearest rank)" },
	{ "lat_min", "s", HVT_LOWER_IS_BETTER, "one-way latency, minimum" },
	{ "lat_max", "s", HVT_LOWER_IS_BETTER, "one-way latency, maximum" },
	{ "lat_mean", "s", HVT_LOWER_IS_BETTER, "one-way latency, mean" },
};
const size_t hvt_net_nlat_metrics = HVT_ARRAY_SIZE(hvt_net_lat_metrics);

const struct hvt_metric hvt_net_bw_metrics[] = {
	{ "bw", "B/s", HVT_HIGHER_IS_BETTER, "bytes delivered per second (receiver-confirmed)" },
	{ "msg_rate", "op/s", HVT_HIGHER_IS_BETTER, "messages per second" },
};
const size_t hvt_net_nbw_metrics = HVT_ARRAY_SIZE(hvt_net_bw_metrics);

static int tcp_lat_probe(const void *p, char *why, size_t len)
{
	return hvt_net_probe(&hvt_net_tcp_lat_proto, p, why, len);
}

static int tcp_lat_setup(const void *p, void **st)
{
	return hvt_net_setup(&hvt_net_tcp_lat_proto, p, st);
}

static int tcp_bw_probe(const void *p, char *why, size_t len)
{
	return hvt_net_probe(&hvt_net_tcp_bw_proto, p, why, len);
}

static int tcp_bw_setup(const void *p, void **st)
{
	return hvt_net_setup(&hvt_net_tcp_bw_proto, p, st);
}

static unsigned two_threads(const void *p)
{
	(void)p;
	return getenv("HVT_NET_PEER") && *getenv("HVT_NET_PEER") ? 1 : 2;
}

const struct hvt_bench hvt_bench_net_tcp_lat = {
	.name = "net.tcp_lat",
	.help = "TCP ping-pong latency (TCP_NODELAY), one-way = round trip / 2",
	.params = tcp_lat_params,
	.nparams = HVT_ARRAY_SIZE(tcp_lat_params),
	.params_size = sizeof(struct hvt_net_params),
	.metrics = hvt_net_lat_metrics,
	.nmetrics = HVT_ARRAY_SIZE(hvt_net_lat_metrics),
	.probe = tcp_lat_probe,
	.setup = tcp_lat_setup,
	.run = hvt_net_run,
	.teardown = hvt_net_teardown,
	.nthreads = two_threads,
};

const struct hvt_bench hvt_bench_net_tcp_bw = {
	.name = "net.tcp_bw",
	.help = "TCP single-stream bandwidth (like iperf3 -P 1)",
	.params = tcp_bw_params,
	.nparams = HVT_ARRAY_SIZE(tcp_bw_params),
	.params_size = sizeof(struct hvt_net_params),
	.metrics = hvt_net_bw_metrics,
	.nmetrics = HVT_ARRAY_SIZE(hvt_net_bw_metrics),
	.probe = tcp_bw_probe,
	.setup = tcp_bw_setup,
	.run = hvt_net_run,
	.teardown = hvt_net_teardown,
	.nthreads = two_threads,
};
