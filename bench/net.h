/* SPDX-License-Identifier: MIT */
/* The net family: one ping-pong protocol over TCP and RDMA, its control channel, statistics, fingerprint. */
#ifndef HVT_NET_H
#define HVT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "core.h"

/*
 * Two ends. The client measures; the server echoes (latency) or sinks
 * (bandwidth). A client talks to the server over a TCP control connection
 * of text lines (HVT_NET_PROTO), then moves data over a second TCP
 * connection (tcp cases) or RC queue pairs (rdma cases):
 *
 *   C: HVTNET/1 HELLO <bench> <key=value>...   every parameter of the case
 *   S: HVTNET/1 OK <cookie>                    or: HVTNET/1 ERR <message>
 *   tcp:  C opens the data connection, first line "HVTNET/1 DATA <cookie>"
 *         S: READY (on control)
 *   rdma: C: QP <lid> <qpn> <psn> <gid hex> <rkey> <addr>
 *         S: QP ... (its own, sent once its QP is in RTS with receives posted)
 *   bandwidth, at the end of each repetition:  C: SYNC <bytes>  S: ACK <bytes>
 *   C: BYE (or closing the connections) ends the session.
 *
 * Where the server runs:
 *  - neither HVT_NET_PEER nor --listen: the case forks its serving end,
 *    pinned to the second allowed CPU, on `addr` (loopback by default);
 *  - HVT_NET_PEER=HOST:PORT (hvtax-bench run --peer): client of that server;
 *  - hvtax-bench run --listen [ADDR:]PORT: hvt_net_serve(), sessions one at a time.
 */
#define HVT_NET_PROTO "HVTNET/1"
#define HVT_NET_LINE_MAX 1024

/* One parameter struct for every net case; each case declares the fields it uses. */
struct hvt_net_params {
	uint64_t size;	       /* message size, bytes */
	const char *addr;      /* self-contained mode: the address both ends use */
	uint64_t timeout_ns;   /* connect and I/O timeout */
	int64_t busy_poll_us;  /* SO_BUSY_POLL on the data sockets, 0 = off */
	int dma_latency;       /* hold /dev/cpu_dma_latency at 0 during the case */
	const char *ib_dev;    /* RDMA device name, "" = the first one */
	int64_t ib_port;       /* RDMA port number */
	int64_t gid_index;     /* GID index, -1 = none on IB, 0 on RoCE */
	int64_t inline_size;   /* -1 = as large as the device allows (up to 256) */
	int64_t tx_depth;      /* bandwidth: work requests in flight */
};

/* ---- statistics (perftest's definitions) ---- */

/* Growable array of round-trip times in ns. */
struct hvt_net_samples {
	uint64_t *v;
	size_t n, cap;
};

/* Append one value; 0 or -ENOMEM. */
int hvt_net_samples_add(struct hvt_net_samples *s, uint64_t v_ns) __attribute__((warn_unused_result));
void hvt_net_samples_release(struct hvt_net_samples *s);

/*
 * Summary of round trips as one-way latency (round trip / 2, as perftest's
 * send and write latency tests report it), in seconds. Percentiles are
 * nearest-rank over every round trip: the value of rank ceil(p/100 * n).
 */
struct hvt_net_lat_summary {
	size_t n;
	double min_s, p50_s, p99_s, p999_s, max_s, mean_s;
};

/* Nearest-rank percentile of sorted values, p in [0, 100]; 0 when n is 0. */
uint64_t hvt_net_pctl_sorted(const uint64_t *sorted, size_t n, double p);
/* Sort v in place and summarise. -ENODATA when n is 0. */
int hvt_net_lat_summarize(uint64_t *v, size_t n, struct hvt_net_lat_summary *out);
/*
 * Set the metrics lat_p50, lat_p99, lat_p999, lat_min, lat_max, lat_mean from
 * the round trips in s (sorted in place), and attach to the repetition a
 * log-linear histogram of the round trips (bench/iohist.h) as "rtt_hist".
 * -ENODATA (and metrics left unset) when there is no round trip.
 */
int hvt_net_lat_report(struct hvt_rep *rep, struct hvt_net_samples *s);

/* ---- control protocol (text lines) ---- */

/*
 * Encode the HELLO line for a case: "HVTNET/1 HELLO <bench> k=v k=v\n"
 * (empty strings left out: the server then takes the default). 0, or
 * -ENAMETOOLONG / -EINVAL (a value with a space or newline).
 */
int hvt_net_hello_encode(const struct hvt_bench *b, const void *params, char *buf, size_t len)
	__attribute__((warn_unused_result));
/*
 * Decode a HELLO line (with or without its newline) into a case of a net
 * benchmark: *bench and a newly allocated params struct (*params, free with
 * hvt_net_params_free; strings owned by it). 0, or -EPROTO / -ENOENT (not a
 * net benchmark) / -EINVAL (bad parameter) with the reason in err.
 */
int hvt_net_hello_decode(const char *line, const struct hvt_bench **bench, void **params, char *err,
			 size_t errlen) __attribute__((warn_unused_result));
void hvt_net_params_free(const struct hvt_bench *b, void *params);

/* Split "[ADDR:]PORT" or "HOST:PORT" ("[v6]:PORT" too). 0 or -EINVAL. */
int hvt_net_split_hostport(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
			   int need_host) __attribute__((warn_unused_result));

/* ---- socket helpers shared by the transports ---- */

/* 1 when a call that failed with err should be retried: EINTR, and no --listen stop asked for. */
int hvt_net_retry(int err);
/* Send/receive exactly len bytes (MSG_NOSIGNAL). 0, -ECONNRESET on EOF, -ETIMEDOUT, or -errno. */
int hvt_net_send_all(int fd, const void *buf, size_t len);
int hvt_net_recv_all(int fd, void *buf, size_t len);
/* Read one line (without '\n', NUL-terminated) waiting at most timeout_ns. 0, -ETIMEDOUT, -ECONNRESET, -EPROTO (too long). */
int hvt_net_read_line(int fd, char *buf, size_t len, uint64_t timeout_ns);
/* Write a formatted line ('\n' appended). 0 or -errno. */
int hvt_net_write_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* SO_RCVTIMEO and SO_SNDTIMEO. */
int hvt_net_set_timeouts(int fd, uint64_t timeout_ns);

/* ---- sessions ---- */

struct hvt_net_sess;

/* A transport: the client's three steps and the server's one. */
struct hvt_net_proto {
	const char *bench; /* benchmark name this row serves */
	int is_lat;	   /* latency case (dma_latency applies) */
	int (*client_setup)(struct hvt_net_sess *s);
	int (*client_run)(struct hvt_net_sess *s, struct hvt_rep *rep);
	void (*client_teardown)(struct hvt_net_sess *s);
	/* the server's side of one session, after HELLO/OK; returns when it ends */
	int (*serve)(struct hvt_net_sess *s);
};

struct hvt_net_sess {
	const struct hvt_net_proto *proto;
	const struct hvt_net_params *p;
	int server;	       /* 1 on the serving end */
	int ctl;	       /* control connection */
	int data;	       /* tcp data connection, -1 if none */
	int lfd;	       /* server: listening socket (data connections arrive on it) */
	uint64_t cookie;
	char peer[300];	       /* the other end, for messages */
	struct hvt_net_samples rtt;
	uint64_t sessions;
	void *priv;	       /* transport state */
	char *buf;	       /* message buffer (size bytes, page aligned) */
	char err[256];	       /* first error, for messages */
};

/* Transports (net_tcp.c, net_rdma.c). */
extern const struct hvt_net_proto hvt_net_tcp_lat_proto;
extern const struct hvt_net_proto hvt_net_tcp_bw_proto;
extern const struct hvt_net_proto hvt_net_rdma_send_lat_proto;
extern const struct hvt_net_proto hvt_net_rdma_write_lat_proto;
extern const struct hvt_net_proto hvt_net_rdma_write_bw_proto;

/* Generic callbacks (net.c) that each benchmark row wraps with its proto. */
int hvt_net_probe(const struct hvt_net_proto *pr, const void *params, char *why, size_t whylen);
int hvt_net_setup(const struct hvt_net_proto *pr, const void *params, void **state)
	__attribute__((warn_unused_result));
int hvt_net_run(const void *params, void *state, struct hvt_rep *rep);
void hvt_net_teardown(const void *params, void *state);

/* Server, once HELLO has been answered: accept the data connection carrying our cookie. */
int hvt_net_accept_data(struct hvt_net_sess *s) __attribute__((warn_unused_result));
/* True (1) when the client has closed or said BYE on the control connection; polls without waiting. */
int hvt_net_ctl_closed(struct hvt_net_sess *s);

/*
 * Serve sessions on [ADDR:]PORT until SIGINT or SIGTERM: one client at a
 * time, each running the case its HELLO names. Writes `fp_record` (the
 * fingerprint record, stolen) and an end record to `out`; progress on
 * stderr. Returns an exit code (0 ok, 1 cannot listen, 2 a bad address).
 */
int hvt_net_serve(const char *spec, FILE *out, json_t *fp_record);
/* A listening TCP socket on host:port (host "" = every address, IPv6 dual-stack first). fd or -errno with why. */
int hvt_net_listen(const char *host, const char *port, char *why, size_t whylen);
/*
 * Serve sessions on an already listening socket (closed at the end) until
 * SIGINT/SIGTERM or until `stop` (may be NULL), polled between sessions at
 * least every 200 ms, answers non-zero (negative: an error). Writes fp_record
 * (taken) first and an end record with role "server" last. Exit status.
 */
int hvt_net_serve_fd(int lfd, FILE *out, json_t *fp_record, int (*stop)(void));

/*
 * Net cases as two MPI ranks (hvtax-bench-mpi under mpirun -np 2): rank 1
 * listens on every address, port chosen by the kernel, and sends its host
 * name, port and IPv4 addresses to rank 0; rank 0 picks the address to reach
 * it (loopback on the same host, else one on a subnet it shares, else the
 * first) and becomes the client (HVT_NET_PEER). Collective. Returns 0 on
 * rank 0 (*peer_fp: rank 1's fingerprint record, for rank 0's), or on rank 1
 * the exit status of serving until rank 0 calls hvt_net_ranks_done(); -errno
 * when the pair could not be set up (reported).
 */
int hvt_net_ranks_pair(FILE *out, json_t **peer_fp);
/* Rank 0: the measuring is over; rank 1 stops serving. */
void hvt_net_ranks_done(void);

/* ---- idle states ---- */

/*
 * Hold /dev/cpu_dma_latency at 0 µs (the PM QoS request lasts while the
 * file stays open). Returns the fd, or -errno with the reason in why.
 */
int hvt_net_dma_hold(char *why, size_t whylen);

/* ---- fingerprint ---- */

/*
 * NICs (name, driver, speed_mbps, mtu, operstate, offloads), RDMA devices
 * and their ports (state, link layer, rate), and the current
 * /dev/cpu_dma_latency request, as a new JSON object:
 * {"nics": [...], "rdma": [...], "cpu_dma_latency_us": N|null}.
 * Reads through bench/fsroot.h (replayable); ethtool ioctls only when live.
 */
json_t *hvt_net_fingerprint(void);

#endif
