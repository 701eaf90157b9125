/* SPDX-License-Identifier: MIT */
/* The net family's common part: control protocol, sessions (self-contained, peer, listen), statistics, fingerprint. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <math.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "fsroot.h"
#include "iohist.h"
#include "net.h"
#include "params.h"
#include "../common/schema.h"

/* Before HELLO the server does not know the client's timeout yet. */
#define HELLO_TIMEOUT_NS (5ull * 1000000000ull)

static const struct hvt_net_proto *const protos[] = {
	&hvt_net_tcp_lat_proto,	      &hvt_net_tcp_bw_proto,	     &hvt_net_rdma_send_lat_proto,
	&hvt_net_rdma_write_lat_proto, &hvt_net_rdma_write_bw_proto,
};

static const struct hvt_net_proto *proto_find(const char *bench)
{
	for (size_t i = 0; i < HVT_ARRAY_SIZE(protos); i++)
		if (strcmp(protos[i]->bench, bench) == 0)
			return protos[i];
	return NULL;
}

/* ---- statistics ---- */

int hvt_net_samples_add(struct hvt_net_samples *s, uint64_t v_ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = v_ns;
	return 0;
}

void hvt_net_samples_release(struct hvt_net_samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

uint64_t hvt_net_pctl_sorted(const uint64_t *sorted, size_t n, double p)
{
	return n ? sorted[hvt_nearest_rank(n, p)] : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int hvt_net_lat_summarize(uint64_t *v, size_t n, struct hvt_net_lat_summary *out)
{
	long double sum = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -ENODATA;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += (long double)v[i];
	/* one-way = round trip / 2 (perftest's ping-pong latency) */
	out->n = n;
	out->min_s = (double)v[0] * 0.5e-9;
	out->max_s = (double)v[n - 1] * 0.5e-9;
	out->p50_s = (double)hvt_net_pctl_sorted(v, n, 50) * 0.5e-9;
	out->p99_s = (double)hvt_net_pctl_sorted(v, n, 99) * 0.5e-9;
	out->p999_s = (double)hvt_net_pctl_sorted(v, n, 99.9) * 0.5e-9;
	out->mean_s = (double)(sum / (long double)n) * 0.5e-9;
	return 0;
}

int hvt_net_lat_report(struct hvt_rep *rep, struct hvt_net_samples *s)
{
	struct hvt_net_lat_summary sum;
	struct hvt_iohist *h;
	int r = hvt_net_lat_summarize(s->v, s->n, &sum);

	if (r)
		return r;
	hvt_rep_set(rep, "lat_p50", sum.p50_s);
	hvt_rep_set(rep, "lat_p99", sum.p99_s);
	hvt_rep_set(rep, "lat_p999", sum.p999_s);
	hvt_rep_set(rep, "lat_min", sum.min_s);
	hvt_rep_set(rep, "lat_max", sum.max_s);
	hvt_rep_set(rep, "lat_mean", sum.mean_s);
	hvt_rep_extra(rep, "round_trips", json_integer((json_int_t)sum.n));
	h = hvt_iohist_new();
	if (h) {
		for (size_t i = 0; i < s->n; i++)
			hvt_iohist_add(h, s->v[i]);
		hvt_rep_extra(rep, "rtt_hist", hvt_iohist_json(h, "ns round trip"));
		free(h);
	}
	return 0;
}

/* ---- control protocol ---- */

int hvt_net_hello_encode(const struct hvt_bench *b, const void *params, char *buf, size_t len)
{
	size_t l;
	int n = snprintf(buf, len, "%s HELLO %s", HVT_NET_PROTO, b->name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	l = (size_t)n;
	for (size_t i = 0; i < b->nparams; i++) {
		char v[256];

		hvt_param_fmt(&b->params[i], params, v, sizeof(v));
		if (!v[0])
			continue;
		if (strpbrk(v, " \t\r\n"))
			return -EINVAL;
		n = snprintf(buf + l, len - l, " %s=%s", b->params[i].name, v);
		if (n < 0 || (size_t)n >= len - l)
			return -ENAMETOOLONG;
		l += (size_t)n;
	}
	if (l + 2 > len)
		return -ENAMETOOLONG;
	buf[l++] = '\n';
	buf[l] = '\0';
	return 0;
}

void hvt_net_params_free(const struct hvt_bench *b, void *params)
{
	if (!params)
		return;
	for (size_t i = 0; i < b->nparams; i++) {
		if (b->params[i].type == HVT_P_STRING) {
			char *sp;

			memcpy(&sp, (char *)params + b->params[i].offset, sizeof(sp));
			free(sp);
		}
	}
	free(params);
}

int hvt_net_hello_decode(const char *line, const struct hvt_bench **bench, void **params, char *err,
			 size_t errlen)
{
	char *copy = hvt_strdup(line), *save = NULL, *tok;
	struct hvt_assign as[64];
	struct hvt_case *cs = NULL;
	size_t na = 0, nc = 0;
	const struct hvt_bench *b;
	int r = -EPROTO;

	*bench = NULL;
	*params = NULL;
	if (!copy)
		return -ENOMEM;
	copy[strcspn(copy, "\r\n")] = '\0';
	tok = strtok_r(copy, " ", &save);
	if (!tok || strcmp(tok, HVT_NET_PROTO) != 0) {
		snprintf(err, errlen, "not an %s peer (got '%.40s')", HVT_NET_PROTO, line);
		goto out;
	}
	tok = strtok_r(NULL, " ", &save);
	if (!tok || strcmp(tok, "HELLO") != 0) {
		snprintf(err, errlen, "expected HELLO");
		goto out;
	}
	tok = strtok_r(NULL, " ", &save);
	if (!tok) {
		snprintf(err, errlen, "HELLO without a benchmark");
		goto out;
	}
	b = hvt_bench_find(tok);
	if (!b || !proto_find(tok)) {
		snprintf(err, errlen, "benchmark '%s' is not a net benchmark built here", tok);
		r = -ENOENT;
		goto out;
	}
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || na == HVT_ARRAY_SIZE(as)) {
			snprintf(err, errlen, "bad parameter '%s'", tok);
			goto out;
		}
		*eq = '\0';
		as[na].key = tok;
		as[na].value = eq + 1;
		as[na].file = "peer";
		as[na].line = 0;
		na++;
	}
	r = hvt_cases_expand(b, as, na, &cs, &nc);
	if (r || nc != 1) {
		snprintf(err, errlen, "the peer's parameters for '%s' are not valid here", b->name);
		r = -EINVAL;
		goto out;
	}
	/* keep the params; strings are re-owned by a fresh copy so the case can go */
	*params = hvt_calloc(1, b->params_size ? b->params_size : 1);
	if (!*params) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(*params, cs[0].params, b->params_size);
	for (size_t i = 0; i < b->nparams; i++) {
		if (b->params[i].type == HVT_P_STRING) {
			const char *sp;
			char *dup;

			memcpy(&sp, (char *)*params + b->params[i].offset, sizeof(sp));
			dup = sp ? hvt_strdup(sp) : NULL;
			memcpy((char *)*params + b->params[i].offset, &dup, sizeof(dup));
		}
	}
	*bench = b;
	r = 0;
out:
	if (cs)
		hvt_cases_free(cs, nc);
	free(copy);
	return r;
}

int hvt_net_split_hostport(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
			   int need_host)
{
	const char *colon;
	size_t hl;

	host[0] = port[0] = '\0';
	if (!spec || !*spec)
		return -EINVAL;
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hl = (size_t)(end - spec - 1);
		if (hl == 0 || hl >= hostlen)
			return -EINVAL;
		memcpy(host, spec + 1, hl);
		host[hl] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon) {
			hl = (size_t)(colon - spec);
			if (hl >= hostlen || memchr(spec, ':', hl))
				return -EINVAL;
			memcpy(host, spec, hl);
			host[hl] = '\0';
		} else {
			colon = spec - 1;
		}
	}
	if (need_host && !host[0])
		return -EINVAL;
	if (!colon[1] || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	if (atol(colon + 1) < 1 || atol(colon + 1) > 65535)
		return -EINVAL;
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

/* ---- socket helpers ---- */

/* set by SIGINT/SIGTERM while a --listen server runs */
static volatile sig_atomic_t serve_stop;

/*
 * A call failed with `err`: retry it when that is EINTR and no stop was asked
 * for. On Linux a socket with SO_RCVTIMEO/SO_SNDTIMEO (ours all have one)
 * fails recv/send with EINTR after the process was stopped and continued,
 * with no handler at all (signal(7)); a make run lost a host round of
 * net.tcp_lat to it. A --listen server's SIGINT/SIGTERM still ends the wait.
 */
int hvt_net_retry(int err)
{
	return err == EINTR && !serve_stop;
}

int hvt_net_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (hvt_net_retry(errno))
				continue;
			if (errno == EINTR)
				return -EINTR;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int hvt_net_recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t r = recv(fd, p, len, 0);

		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (hvt_net_retry(errno))
				continue;
			if (errno == EINTR)
				return -EINTR;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int wait_fd(int fd, short ev, uint64_t timeout_ns)
{
	const uint64_t deadline = hvt_now_ns() + timeout_ns;

	for (;;) {
		struct pollfd pf = { .fd = fd, .events = ev };
		uint64_t now = hvt_now_ns(), left = deadline > now ? deadline - now : 0;
		int r = poll(&pf, 1, (int)(left / 1000000 + 1));

		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (!hvt_net_retry(errno))
			return -errno;
	}
}

int hvt_net_read_line(int fd, char *buf, size_t len, uint64_t timeout_ns)
{
	uint64_t deadline = hvt_now_ns() + timeout_ns;
	size_t l = 0;

	/* byte by byte: a line may be followed by raw data that is not ours to read */
	for (;;) {
		uint64_t now = hvt_now_ns();
		char c;
		ssize_t r;
		int w;

		if (now >= deadline)
			return -ETIMEDOUT;
		w = wait_fd(fd, POLLIN, deadline - now);
		if (w)
			return w;
		r = recv(fd, &c, 1, 0);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (c == '\n')
			break;
		if (l + 1 >= len)
			return -EPROTO;
		buf[l++] = c;
	}
	buf[l] = '\0';
	if (l && buf[l - 1] == '\r')
		buf[l - 1] = '\0';
	return 0;
}

int hvt_net_write_line(int fd, const char *fmt, ...)
{
	char line[HVT_NET_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -ENAMETOOLONG;
	line[n++] = '\n';
	return hvt_net_send_all(fd, line, (size_t)n);
}

int hvt_net_set_timeouts(int fd, uint64_t timeout_ns)
{
	struct timeval tv = { .tv_sec = (time_t)(timeout_ns / 1000000000ull),
			      .tv_usec = (suseconds_t)(timeout_ns % 1000000000ull / 1000) };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static void fmt_sa(const struct sockaddr *sa, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN + 1] = "?", p[16] = "?";

	getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    h, sizeof(h), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
}

/* Connect with a timeout. fd or -errno. */
static int connect_sa(const struct sockaddr *sa, socklen_t salen, uint64_t timeout_ns)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r, e = 0;
	socklen_t el = sizeof(e);

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, salen) && errno != EINPROGRESS) {
		r = -errno;
		goto out_close;
	}
	r = wait_fd(fd, POLLOUT, timeout_ns);
	if (r)
		goto out_close;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
		r = e ? -e : -errno;
		goto out_close;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		r = -errno;
		goto out_close;
	}
	return fd;
out_close:
	close(fd);
	return r;
}

static int resolve(const char *host, const char *port, int passive, struct addrinfo **res, char *why,
		   size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0 };
	int g = getaddrinfo(host && *host ? host : NULL, port, &hints, res);

	if (g) {
		snprintf(why, whylen, "cannot resolve '%s': %s", host && *host ? host : "*", gai_strerror(g));
		return -EHOSTUNREACH;
	}
	return 0;
}

/* Connect to host:port, trying each address. fd or -errno (reason in why). */
static int connect_host(const char *host, const char *port, uint64_t timeout_ns, char *why, size_t whylen)
{
	struct addrinfo *res, *ai;
	int fd = -EHOSTUNREACH;

	if (resolve(host, port, 0, &res, why, whylen))
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_sa(ai->ai_addr, ai->ai_addrlen, timeout_ns);
		if (fd >= 0)
			break;
		snprintf(why, whylen, "cannot connect to '%s:%s': %s", host, port,
			 fd == -ETIMEDOUT ? "no answer (connect timed out)" : strerror(-fd));
	}
	freeaddrinfo(res);
	return fd;
}

/* Listening socket on host:port (host NULL/"" = every address, IPv6 dual-stack when possible). */
static int listen_on(const char *host, const char *port, char *why, size_t whylen)
{
	struct addrinfo *res, *ai;
	int fd = -EADDRNOTAVAIL, one = 1, zero = 0;

	if (resolve(host, port, 1, &res, why, whylen))
		return -EADDRNOTAVAIL;
	/* prefer IPv6 (dual-stack) for the wildcard, else take the order getaddrinfo gives */
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (ai = res; ai; ai = ai->ai_next) {
			if ((host && *host) ? pass == 1 : (pass == 0) != (ai->ai_family == AF_INET6))
				continue;
			fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				fd = -errno;
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
				int e = errno;

				snprintf(why, whylen, "cannot listen on '%s:%s': %s", host && *host ? host : "*", port,
					 strerror(e));
				close(fd);
				fd = -e;
				continue;
			}
			break;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Accept one connection within timeout_ns. fd or -errno. */
static int accept_timeout(int lfd, uint64_t timeout_ns)
{
	int r = wait_fd(lfd, POLLIN, timeout_ns), fd;

	if (r)
		return r;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int hvt_net_accept_data(struct hvt_net_sess *s)
{
	uint64_t deadline = hvt_now_ns() + s->p->timeout_ns;

	while (hvt_now_ns() < deadline) {
		char line[HVT_NET_LINE_MAX], want[64];
		int fd = accept_timeout(s->lfd, deadline - hvt_now_ns()), r;

		if (fd < 0)
			return fd;
		r = hvt_net_read_line(fd, line, sizeof(line), deadline - hvt_now_ns());
		snprintf(want, sizeof(want), "%s DATA %016" PRIx64, HVT_NET_PROTO, s->cookie);
		if (r == 0 && strcmp(line, want) == 0) {
			s->data = fd;
			return 0;
		}
		/* another client while this one is served: tell it, and keep waiting for ours */
		if (r == 0)
			(void)hvt_net_write_line(fd, "%s ERR busy: serving another session", HVT_NET_PROTO);
		close(fd);
	}
	return -ETIMEDOUT;
}

int hvt_net_ctl_closed(struct hvt_net_sess *s)
{
	struct pollfd pf = { .fd = s->ctl, .events = POLLIN };
	char line[HVT_NET_LINE_MAX];

	if (poll(&pf, 1, 0) <= 0)
		return 0;
	if (hvt_net_read_line(s->ctl, line, sizeof(line), s->p->timeout_ns))
		return 1;
	return strstr(line, "BYE") != NULL;
}

/* ---- idle states ---- */

int hvt_net_dma_hold(char *why, size_t whylen)
{
	int32_t zero = 0;
	int fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		snprintf(why, whylen, "cannot open '/dev/cpu_dma_latency': %s%s", strerror(e),
			 e == EACCES || e == EPERM ? " (holding a latency request needs root)" : "");
		return -e;
	}
	if (write(fd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
		int e = errno;

		snprintf(why, whylen, "cannot write '/dev/cpu_dma_latency': %s", strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* ---- the serving end ---- */

static uint64_t new_cookie(void)
{
	uint64_t c = 0;

	if (getrandom(&c, sizeof(c), GRND_NONBLOCK) != (ssize_t)sizeof(c))
		c = hvt_now_ns() ^ ((uint64_t)getpid() << 40);
	return c;
}

/*
 * One session on an accepted control connection: HELLO, OK, the
 * transport's serve. `lfd` is where the data connection will arrive.
 * Returns 0 or -errno; `msg` receives a summary line.
 */
static int serve_session(int ctl, int lfd, char *msg, size_t msglen)
{
	struct hvt_net_sess s;
	const struct hvt_bench *b = NULL;
	void *params = NULL;
	char line[HVT_NET_LINE_MAX], err[256] = "";
	int r, dma = -1;

	memset(&s, 0, sizeof(s));
	s.server = 1;
	s.ctl = ctl;
	s.data = -1;
	s.lfd = lfd;
	r = hvt_net_read_line(ctl, line, sizeof(line), HELLO_TIMEOUT_NS);
	if (r) {
		snprintf(msg, msglen, "no HELLO from the client: %s", strerror(-r));
		return r;
	}
	r = hvt_net_hello_decode(line, &b, &params, err, sizeof(err));
	if (r) {
		(void)hvt_net_write_line(ctl, "%s ERR %s", HVT_NET_PROTO, err);
		snprintf(msg, msglen, "refused: %s", err);
		return r;
	}
	s.p = params;
	s.proto = proto_find(b->name);
	s.cookie = new_cookie();
	if (s.p->dma_latency && s.proto->is_lat) {
		dma = hvt_net_dma_hold(err, sizeof(err));
		if (dma < 0) {
			(void)hvt_net_write_line(ctl, "%s ERR server: %s", HVT_NET_PROTO, err);
			snprintf(msg, msglen, "%s: %s", b->name, err);
			r = dma;
			goto out;
		}
	}
	hvt_net_set_timeouts(ctl, s.p->timeout_ns);
	r = hvt_net_write_line(ctl, "%s OK %016" PRIx64, HVT_NET_PROTO, s.cookie);
	if (!r)
		r = s.proto->serve(&s);
	if (r && r != -ECONNRESET)
		snprintf(msg, msglen, "%s size=%" PRIu64 ": ended with %s%s%s", b->name, s.p->size, strerror(-r),
			 s.err[0] ? ": " : "", s.err);
	else
		snprintf(msg, msglen, "%s size=%" PRIu64 ": done", b->name, s.p->size);
	if (r == -ECONNRESET)
		r = 0; /* the client closing its end is how a session ends */
out:
	if (dma >= 0)
		close(dma);
	if (s.data >= 0)
		close(s.data);
	free(s.buf);
	hvt_net_samples_release(&s.rtt);
	hvt_net_params_free(b, params);
	return r;
}

static void on_stop(int sig)
{
	(void)sig;
	serve_stop = 1;
}

/*
 * A server started by a harness (hvtax run --peer-target) has a pipe or a
 * socket on stdin: "end" or end-of-file there stops it, as SIGTERM does; a
 * remote one under ssh cannot be signalled. A terminal or /dev/null on stdin
 * (a server started by hand or in the background) is not watched. 1 stop,
 * 0 go on.
 */
static int stdin_pipe_says_end(void)
{
	static int kind = -2; /* -2 not looked yet, -1 not a pipe, 0 a pipe */
	struct pollfd pfd = {.fd = 0, .events = POLLIN};
	char buf[256];
	ssize_t n;

	if (kind == -2) {
		struct stat st;

		kind = !fstat(0, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) ? 0 : -1;
	}
	if (kind < 0)
		return 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	n = read(0, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	return strstr(buf, "end") != NULL;
}

int hvt_net_listen(const char *host, const char *port, char *why, size_t whylen)
{
	return listen_on(host, port, why, whylen);
}

int hvt_net_serve(const char *spec, FILE *out, json_t *fp_record)
{
	char host[256], port[16], why[512] = "";
	int lfd;

	if (hvt_net_split_hostport(spec, host, sizeof(host), port, sizeof(port), 0)) {
		json_decref(fp_record);
		hvt_err("--listen: '%s' is not [ADDR:]PORT (e.g. 7000, 10.0.0.1:7000, [::1]:7000)", spec);
		return HVT_EXIT_USAGE;
	}
	lfd = listen_on(host, port, why, sizeof(why));
	if (lfd < 0) {
		json_decref(fp_record);
		hvt_err("%s", why[0] ? why : strerror(-lfd));
		return HVT_EXIT_FAIL;
	}
	return hvt_net_serve_fd(lfd, out, fp_record, stdin_pipe_says_end);
}

int hvt_net_serve_fd(int lfd, FILE *out, json_t *fp_record, int (*stop)(void))
{
	struct sigaction sa, old_int, old_term;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint64_t nsess = 0, nfail = 0;
	char me[200];
	int cpu, rc = HVT_EXIT_OK;

	getsockname(lfd, (struct sockaddr *)&ss, &sl);
	fmt_sa((struct sockaddr *)&ss, me, sizeof(me));
	/* the serving end runs where the self-contained mode puts its serving process */
	cpu = hvt_cpu_nth(hvt_cpus_allowed() > 1 ? 1 : 0);
	if (cpu >= 0 && hvt_pin_self(cpu))
		cpu = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: a blocked recv returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	hvt_out_record(out, HVT_REC_FINGERPRINT, fp_record);
	fflush(out);
	hvt_info("listening on %s (cpu %d); stop with SIGINT or SIGTERM", me, cpu);
	while (!serve_stop) {
		char msg[512] = "", who[200] = "?";
		struct sockaddr_storage ps;
		socklen_t pl = sizeof(ps);
		int ctl, r = stop ? stop() : 0;

		if (r) {
			if (r < 0)
				rc = HVT_EXIT_FAIL;
			break;
		}
		r = wait_fd(lfd, POLLIN, 200000000ull);
		if (r == -ETIMEDOUT || r == -EINTR)
			continue;
		ctl = accept4(lfd, (struct sockaddr *)&ps, &pl, SOCK_CLOEXEC);
		if (ctl < 0)
			continue;
		fmt_sa((struct sockaddr *)&ps, who, sizeof(who));
		r = serve_session(ctl, lfd, msg, sizeof(msg));
		close(ctl);
		nsess++;
		if (r)
			nfail++;
		if (r)
			hvt_warn("session from %s: %s", who, msg);
		else
			hvt_info("session from %s: %s", who, msg);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(lfd);
	hvt_unpin_self();
	{
		char iso[64];

		hvt_fmt_iso8601(iso, sizeof(iso), hvt_wall_s());
		hvt_out_record(out, HVT_REC_END,
			       json_pack("{s:s,s:s,s:s,s:I,s:I,s:i}", "status", rc ? "failed" : "ok", "role", "server",
					 "time", iso, "sessions", (json_int_t)nsess, "failed_sessions",
					 (json_int_t)nfail, "errors", 0));
	}
	return rc;
}

/* ---- the measuring end ---- */

struct net_client {
	struct hvt_net_sess s; /* first: the state pointer is also the session */
	pid_t server_pid;      /* self-contained: the forked serving end, 0 if none */
	int self_lfd;	       /* self-contained: its listening socket */
	int server_cpu;
	int dma_fd;
	int mode_self;
};

/*
 * The self-contained serving end: a forked process, so the two ends are two
 * processes as with two hosts and as sockperf, qperf and iperf3 run (two
 * threads of one process measure a cheaper wake-up). Serves one session.
 */
static void server_child(struct net_client *c)
{
	char msg[512] = "";
	int ctl, r;

	if (c->server_cpu >= 0)
		(void)hvt_pin_self(c->server_cpu);
	ctl = accept_timeout(c->self_lfd, c->s.p->timeout_ns);
	if (ctl < 0)
		_exit(ctl == -EINVAL ? 0 : 1); /* -EINVAL: the client shut the socket down, gave up */
	r = serve_session(ctl, c->self_lfd, msg, sizeof(msg));
	if (r && r != -ECONNRESET)
		hvt_warn("%s: serving end: %s", c->s.proto->bench, msg);
	_exit(r ? 1 : 0);
}

int hvt_net_probe(const struct hvt_net_proto *pr, const void *params, char *why, size_t whylen)
{
	const struct hvt_net_params *p = params;
	const char *peer = getenv("HVT_NET_PEER");

	if (peer && *peer) {
		char host[256], port[16];

		if (hvt_net_split_hostport(peer, host, sizeof(host), port, sizeof(port), 1)) {
			snprintf(why, whylen, "--peer '%s' is not HOST:PORT", peer);
			return -EINVAL;
		}
	}
	if (pr->is_lat && p->dma_latency) {
		int fd = hvt_net_dma_hold(why, whylen);

		if (fd < 0)
			return fd == -ENOENT ? -ENODEV : -EACCES;
		close(fd);
	}
	return 0;
}

int hvt_net_setup(const struct hvt_net_proto *pr, const void *params, void **state)
{
	const struct hvt_net_params *p = params;
	const struct hvt_bench *b = hvt_bench_find(pr->bench);
	const char *peer = getenv("HVT_NET_PEER");
	struct net_client *c = hvt_calloc(1, sizeof(*c));
	char host[256], port[16], line[HVT_NET_LINE_MAX], why[512] = "";
	int r;

	*state = c;
	if (!c)
		return -ENOMEM;
	c->s.proto = pr;
	c->s.p = p;
	c->s.ctl = c->s.data = c->s.lfd = c->self_lfd = c->dma_fd = -1;
	c->server_cpu = -1;
	if (!b)
		return -ENOENT;
	if (pr->is_lat && p->dma_latency) {
		c->dma_fd = hvt_net_dma_hold(why, sizeof(why));
		if (c->dma_fd < 0) {
			hvt_err("%s: %s", pr->bench, why);
			return c->dma_fd;
		}
	}
	if (peer && *peer) {
		if (hvt_net_split_hostport(peer, host, sizeof(host), port, sizeof(port), 1))
			return -EINVAL;
	} else {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		c->mode_self = 1;
		c->self_lfd = listen_on(p->addr, "0", why, sizeof(why));
		if (c->self_lfd < 0) {
			hvt_err("%s: %s", pr->bench, why);
			return c->self_lfd;
		}
		getsockname(c->self_lfd, (struct sockaddr *)&ss, &sl);
		snprintf(host, sizeof(host), "%s", p->addr);
		snprintf(port, sizeof(port), "%u",
			 ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port));
		/* the main thread runs on the first allowed CPU; the server on the next */
		c->server_cpu = hvt_cpu_nth(hvt_cpus_allowed() > 1 ? 1 : 0);
		fflush(NULL);
		c->server_pid = fork();
		if (c->server_pid < 0) {
			c->server_pid = 0;
			return -errno;
		}
		if (c->server_pid == 0)
			server_child(c);
	}
	snprintf(c->s.peer, sizeof(c->s.peer), "%s:%s", host, port);
	c->s.ctl = connect_host(host, port, p->timeout_ns, why, sizeof(why));
	if (c->s.ctl < 0) {
		r = c->s.ctl;
		hvt_err("%s: %s", pr->bench, why);
		return r;
	}
	hvt_net_set_timeouts(c->s.ctl, p->timeout_ns);
	r = hvt_net_hello_encode(b, params, line, sizeof(line));
	if (!r)
		r = hvt_net_send_all(c->s.ctl, line, strlen(line));
	if (!r)
		r = hvt_net_read_line(c->s.ctl, line, sizeof(line), p->timeout_ns);
	if (r) {
		hvt_err("%s: peer '%s' %s", pr->bench, c->s.peer,
			r == -ETIMEDOUT ? "did not answer HELLO (timed out)" : strerror(-r));
		return r;
	}
	if (strncmp(line, HVT_NET_PROTO " OK ", strlen(HVT_NET_PROTO " OK ")) != 0 ||
	    sscanf(line + strlen(HVT_NET_PROTO " OK "), "%" SCNx64, &c->s.cookie) != 1) {
		hvt_err("%s: peer '%s' refused: %s", pr->bench, c->s.peer,
			strncmp(line, HVT_NET_PROTO " ERR ", strlen(HVT_NET_PROTO " ERR ")) == 0
				? line + strlen(HVT_NET_PROTO " ERR ")
				: line);
		return -EPROTO;
	}
	r = pr->client_setup(&c->s);
	if (r)
		hvt_err("%s: setting up with '%s': %s%s%s", pr->bench, c->s.peer, strerror(-r),
			c->s.err[0] ? ": " : "", c->s.err);
	return r;
}

int hvt_net_run(const void *params, void *state, struct hvt_rep *rep)
{
	struct net_client *c = state;
	int r;

	(void)params;
	r = c->s.proto->client_run(&c->s, rep);
	if (r) {
		hvt_err("%s: with '%s': %s%s%s", c->s.proto->bench, c->s.peer,
			r == -ECONNRESET ? "peer closed the connection" : strerror(-r), c->s.err[0] ? ": " : "",
			c->s.err);
		return r;
	}
	hvt_rep_extra(rep, "mode", json_string(c->mode_self ? "self" : "peer"));
	hvt_rep_extra(rep, "peer", json_string(c->s.peer));
	if (!c->mode_self && getenv("HVT_NET_VIA"))
		hvt_rep_extra(rep, "peer_via", json_string(getenv("HVT_NET_VIA")));
	if (c->mode_self)
		hvt_rep_extra(rep, "server_cpu", json_integer(c->server_cpu));
	if (c->s.proto->is_lat)
		hvt_rep_extra(rep, "cpu_dma_latency_held", json_boolean(c->dma_fd >= 0));
	return 0;
}

void hvt_net_teardown(const void *params, void *state)
{
	struct net_client *c = state;

	(void)params;
	if (!c)
		return;
	if (c->s.proto && c->s.proto->client_teardown)
		c->s.proto->client_teardown(&c->s);
	if (c->s.ctl >= 0) {
		(void)hvt_net_write_line(c->s.ctl, "BYE");
		shutdown(c->s.ctl, SHUT_WR);
	}
	if (c->s.data >= 0) {
		close(c->s.data);
		c->s.data = -1;
	}
	if (c->server_pid > 0) {
		uint64_t limit = hvt_now_ns() + c->s.p->timeout_ns + 1000000000ull;
		int st;

		/* wake a serving end still waiting for a connection; it ends with the session */
		if (c->self_lfd >= 0)
			shutdown(c->self_lfd, SHUT_RDWR);
		while (waitpid(c->server_pid, &st, WNOHANG) == 0) {
			if (hvt_now_ns() > limit) {
				kill(c->server_pid, SIGKILL);
				waitpid(c->server_pid, &st, 0);
				break;
			}
			usleep(1000);
		}
	}
	if (c->s.ctl >= 0)
		close(c->s.ctl);
	if (c->self_lfd >= 0)
		close(c->self_lfd);
	if (c->dma_fd >= 0)
		close(c->dma_fd);
	free(c->s.buf);
	hvt_net_samples_release(&c->s.rtt);
	free(c);
}

/* ---- fingerprint ---- */

static void set_str_file(json_t *o, const char *key, const char *path)
{
	char *v = hvt_fs_read_trim(path);

	if (v && *v)
		json_object_set_new(o, key, json_string(v));
	free(v);
}

static void set_int_file(json_t *o, const char *key, const char *path)
{
	int64_t v;

	if (hvt_fs_read_int(path, &v) == 0 && v >= 0)
		json_object_set_new(o, key, json_integer(v));
}

/* Offloads through the legacy ethtool ioctls: cheap, and enough to tell tso/gro apart. */
static json_t *nic_offloads(int sock, const char *ifname, char *drv, size_t drvlen)
{
	static const struct {
		const char *name;
		uint32_t cmd;
	} ops[] = {
		{ "rx_checksum", ETHTOOL_GRXCSUM }, { "tx_checksum", ETHTOOL_GTXCSUM }, { "sg", ETHTOOL_GSG },
		{ "tso", ETHTOOL_GTSO },	    { "gso", ETHTOOL_GGSO },		 { "gro", ETHTOOL_GGRO },
	};
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	json_t *o = json_object();

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (char *)&di;
	if (ioctl(sock, SIOCETHTOOL, &ifr) == 0)
		snprintf(drv, drvlen, "%s", di.driver);
	for (size_t i = 0; i < HVT_ARRAY_SIZE(ops); i++) {
		struct ethtool_value ev = { .cmd = ops[i].cmd };

		ifr.ifr_data = (char *)&ev;
		if (ioctl(sock, SIOCETHTOOL, &ifr) == 0)
			json_object_set_new(o, ops[i].name, json_boolean(ev.data != 0));
	}
	if (json_object_size(o) == 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *nics_collect(void)
{
	json_t *a = json_array();
	char **names = NULL;
	size_t n = 0;
	int sock = hvt_fsroot_is_live() ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;

	if (hvt_fs_list("/sys/class/net", &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_object();
			char path[512], drv[64] = "";
			char *link;

			json_object_set_new(o, "name", json_string(names[i]));
			snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", names[i]);
			link = hvt_fs_readlink(path);
			if (link) {
				const char *base = strrchr(link, '/');

				snprintf(drv, sizeof(drv), "%s", base ? base + 1 : link);
				free(link);
			}
			snprintf(path, sizeof(path), "/sys/class/net/%s/device", names[i]);
			json_object_set_new(o, "virtual", json_boolean(!hvt_fs_exists(path)));
			if (sock >= 0) {
				char edrv[64] = "";
				json_t *off = nic_offloads(sock, names[i], edrv, sizeof(edrv));

				if (!drv[0] && edrv[0])
					snprintf(drv, sizeof(drv), "%s", edrv);
				if (off)
					json_object_set_new(o, "offloads", off);
			}
			if (!drv[0] && strcmp(names[i], "lo") == 0)
				snprintf(drv, sizeof(drv), "loopback");
			json_object_set_new(o, "driver", drv[0] ? json_string(drv) : json_null());
			snprintf(path, sizeof(path), "/sys/class/net/%s/speed", names[i]);
			set_int_file(o, "speed_mbps", path);
			snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", names[i]);
			set_int_file(o, "mtu", path);
			snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", names[i]);
			set_str_file(o, "operstate", path);
			json_array_append_new(a, o);
		}
		hvt_fs_list_free(names, n);
	}
	if (sock >= 0)
		close(sock);
	return a;
}

static json_t *rdma_collect(void)
{
	json_t *a = json_array();
	char **devs = NULL;
	size_t nd = 0;

	if (hvt_fs_list("/sys/class/infiniband", &devs, &nd))
		return a;
	for (size_t i = 0; i < nd; i++) {
		json_t *o = json_object(), *ports = json_array();
		char path[512], **pn = NULL;
		size_t np = 0;

		json_object_set_new(o, "name", json_string(devs[i]));
		snprintf(path, sizeof(path), "/sys/class/infiniband/%s/node_type", devs[i]);
		set_str_file(o, "node_type", path);
		snprintf(path, sizeof(path), "/sys/class/infiniband/%s/fw_ver", devs[i]);
		set_str_file(o, "fw_ver", path);
		snprintf(path, sizeof(path), "/sys/class/infiniband/%s/hca_type", devs[i]);
		set_str_file(o, "hca_type", path);
		snprintf(path, sizeof(path), "/sys/class/infiniband/%s/device/driver", devs[i]);
		{
			char *link = hvt_fs_readlink(path);

			if (link) {
				const char *base = strrchr(link, '/');

				json_object_set_new(o, "driver", json_string(base ? base + 1 : link));
				free(link);
			}
		}
		snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports", devs[i]);
		if (hvt_fs_list(path, &pn, &np) == 0) {
			for (size_t k = 0; k < np; k++) {
				json_t *po = json_object();

				json_object_set_new(po, "port", json_integer(atoi(pn[k])));
				snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%s/state", devs[i], pn[k]);
				set_str_file(po, "state", path);
				snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%s/phys_state", devs[i],
					 pn[k]);
				set_str_file(po, "phys_state", path);
				snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%s/link_layer", devs[i],
					 pn[k]);
				set_str_file(po, "link_layer", path);
				snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%s/rate", devs[i], pn[k]);
				set_str_file(po, "rate", path);
				json_array_append_new(ports, po);
			}
			hvt_fs_list_free(pn, np);
		}
		json_object_set_new(o, "ports", ports);
		json_array_append_new(a, o);
	}
	hvt_fs_list_free(devs, nd);
	return a;
}

json_t *hvt_net_fingerprint(void)
{
	json_t *o = json_object();
	json_t *dma = json_null();

	if (!o)
		return NULL;
	json_object_set_new(o, "nics", nics_collect());
	json_object_set_new(o, "rdma", rdma_collect());
	/* the request in force now (a reading process does not add one); root only */
	if (hvt_fsroot_is_live()) {
		int fd = open("/dev/cpu_dma_latency", O_RDONLY | O_CLOEXEC);
		int32_t v;

		if (fd >= 0) {
			if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
				json_decref(dma);
				dma = json_integer(v);
			}
			close(fd);
		}
	}
	json_object_set_new(o, "cpu_dma_latency_us", dma);
	return o;
}
