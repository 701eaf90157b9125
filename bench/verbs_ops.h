/* SPDX-License-Identifier: MIT */
/* A thin ops table over libibverbs, and the RC queue-pair state machine the rdma cases drive through it. */
#ifndef HVT_VERBS_OPS_H
#define HVT_VERBS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

/*
 * Every verbs call of net_rdma.c goes through `struct hvt_verbs_ops`, so
 * unit tests can drive connect / post / poll / error completions with a
 * fake. The fake is never used to produce a measurement: the benchmarks
 * always take hvt_verbs_real.
 */

/* What each end tells the other over the control connection (one "QP ..." line). */
struct hvt_rdma_dest {
	uint16_t lid;
	uint32_t qpn;
	uint32_t psn;
	uint32_t rkey;
	uint64_t addr; /* where the peer may RDMA-write (the receive half of the buffer) */
	uint8_t gid[16];
};

/* "QP <lid> <qpn> <psn> <gid 32 hex> <rkey> <addr hex>". 0 or -ENAMETOOLONG. */
int hvt_rdma_dest_fmt(const struct hvt_rdma_dest *d, char *buf, size_t len);
/* Parse the line above. 0 or -EPROTO. */
int hvt_rdma_dest_parse(const char *line, struct hvt_rdma_dest *d);

enum hvt_rdma_kind {
	HVT_RDMA_SEND_LAT,
	HVT_RDMA_WRITE_LAT,
	HVT_RDMA_WRITE_BW,
};

#ifdef HAVE_VERBS
#include <infiniband/verbs.h>
#define HVT_HAVE_VERBS_OPS 1

struct hvt_verbs_ops {
	struct ibv_device **(*get_device_list)(int *n);
	void (*free_device_list)(struct ibv_device **list);
	const char *(*get_device_name)(struct ibv_device *dev);
	struct ibv_context *(*open_device)(struct ibv_device *dev);
	int (*close_device)(struct ibv_context *ctx);
	int (*query_port)(struct ibv_context *ctx, uint8_t port, struct ibv_port_attr *attr);
	int (*query_gid)(struct ibv_context *ctx, uint8_t port, int index, union ibv_gid *gid);
	struct ibv_pd *(*alloc_pd)(struct ibv_context *ctx);
	int (*dealloc_pd)(struct ibv_pd *pd);
	struct ibv_mr *(*reg_mr)(struct ibv_pd *pd, void *addr, size_t len, int access);
	int (*dereg_mr)(struct ibv_mr *mr);
	struct ibv_cq *(*create_cq)(struct ibv_context *ctx, int cqe);
	int (*destroy_cq)(struct ibv_cq *cq);
	struct ibv_qp *(*create_qp)(struct ibv_pd *pd, struct ibv_qp_init_attr *attr);
	int (*modify_qp)(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask);
	int (*destroy_qp)(struct ibv_qp *qp);
	int (*post_send)(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad);
	int (*post_recv)(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad);
	int (*poll_cq)(struct ibv_cq *cq, int n, struct ibv_wc *wc);
};

/* The real libibverbs. */
extern const struct hvt_verbs_ops hvt_verbs_real;

/* QP states as the state machine tracks them. */
enum hvt_rdma_state {
	HVT_RDMA_CLOSED,
	HVT_RDMA_OPEN,	/* device, PD, MR, CQ, QP created; QP in INIT */
	HVT_RDMA_RTS,	/* connected: RTR then RTS */
	HVT_RDMA_ERROR, /* an error completion was seen */
};

/* One end: a device context, a PD, one MR over a 2×size buffer, one CQ, one RC QP. */
struct hvt_rdma_ep {
	const struct hvt_verbs_ops *ops;
	enum hvt_rdma_state state;
	enum hvt_rdma_kind kind;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	char *buf;	     /* [0, size) sent from, [size, 2 size) written/received into */
	size_t size;
	uint8_t port;
	int gid_index;	     /* -1: no GRH */
	int link_ethernet;   /* RoCE */
	uint32_t max_inline; /* what the QP was created with */
	uint32_t tx_depth;
	unsigned sig_every;  /* one send in this many is signaled (1 for latency) */
	uint64_t timeout_ns;
	struct hvt_rdma_dest local, remote;
	uint64_t posted;     /* sends posted */
	uint64_t completed;  /* sends completed */
	unsigned recvs_posted;
	char err[256];
};

/*
 * Open the device named p->ib_dev ("" = the first), port, GID, PD, MR, CQ and
 * an RC QP moved to INIT; fill ep->local. 0 or -errno (-ENODEV: no device),
 * reason in ep->err. ep is zeroed first. Close with hvt_rdma_close even on failure.
 */
int hvt_rdma_open(struct hvt_rdma_ep *ep, const struct hvt_verbs_ops *ops, enum hvt_rdma_kind kind,
		  const struct hvt_net_params *p) __attribute__((warn_unused_result));
/* RTR then RTS towards `remote`; posts the receive ring for send/recv. 0 or -errno. */
int hvt_rdma_connect(struct hvt_rdma_ep *ep, const struct hvt_rdma_dest *remote)
	__attribute__((warn_unused_result));
/* Post one message (SEND, or RDMA WRITE to the remote's receive half), inline when it fits. */
int hvt_rdma_post(struct hvt_rdma_ep *ep, int signaled) __attribute__((warn_unused_result));
/*
 * Wait for the next receive completion (send/recv) and re-post a receive;
 * send completions met on the way are counted. 0, -ETIMEDOUT, -EIO (error
 * completion; status text in ep->err).
 */
int hvt_rdma_wait_recv(struct hvt_rdma_ep *ep) __attribute__((warn_unused_result));
/* Wait until the last byte of the receive half equals tag (RDMA write). 0 or -ETIMEDOUT. */
int hvt_rdma_wait_byte(struct hvt_rdma_ep *ep, uint8_t tag) __attribute__((warn_unused_result));
/* Reap send completions without waiting (each covers `per` sends, RC completes in order). >= 0 reaped, or -EIO. */
int hvt_rdma_reap(struct hvt_rdma_ep *ep, unsigned per) __attribute__((warn_unused_result));
/* Free whatever was built (accepts a half-built or failed endpoint). */
void hvt_rdma_close(struct hvt_rdma_ep *ep);
#else
#define HVT_HAVE_VERBS_OPS 0
#endif

#endif
