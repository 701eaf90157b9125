/* SPDX-License-Identifier: MIT */
/* net.rdma_send_lat, net.rdma_write_lat, net.rdma_write_bw: RC queue pairs through libibverbs (perftest's tests). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "families.h"
#include "net.h"
#include "verbs_ops.h"

extern const struct hvt_metric hvt_net_lat_metrics[];
extern const size_t hvt_net_nlat_metrics;
extern const struct hvt_metric hvt_net_bw_metrics[];
extern const size_t hvt_net_nbw_metrics;

int hvt_rdma_dest_fmt(const struct hvt_rdma_dest *d, char *buf, size_t len)
{
	char gid[33];
	int n;

	for (int i = 0; i < 16; i++)
		snprintf(gid + 2 * i, 3, "%02x", d->gid[i]);
	n = snprintf(buf, len, "QP %u %u %u %s %u %" PRIx64, d->lid, d->qpn, d->psn, gid, d->rkey, d->addr);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int hvt_rdma_dest_parse(const char *line, struct hvt_rdma_dest *d)
{
	unsigned lid, qpn, psn, rkey;
	char gid[40];
	uint64_t addr;

	memset(d, 0, sizeof(*d));
	if (sscanf(line, "QP %u %u %u %39s %u %" SCNx64, &lid, &qpn, &psn, gid, &rkey, &addr) != 6 ||
	    lid > 0xffff || qpn > 0xffffff || psn > 0xffffff || strlen(gid) != 32 ||
	    strspn(gid, "0123456789abcdefABCDEF") != 32)
		return -EPROTO;
	for (int i = 0; i < 16; i++) {
		unsigned b;

		if (sscanf(gid + 2 * i, "%2x", &b) != 1)
			return -EPROTO;
		d->gid[i] = (uint8_t)b;
	}
	d->lid = (uint16_t)lid;
	d->qpn = qpn;
	d->psn = psn;
	d->rkey = rkey;
	d->addr = addr;
	return 0;
}

#if HVT_HAVE_VERBS_OPS

/* ---- the real ops (static inline functions and macros in verbs.h need a body to point at) ---- */

static struct ibv_device **real_get_device_list(int *n)
{
	return ibv_get_device_list(n);
}
static void real_free_device_list(struct ibv_device **l)
{
	ibv_free_device_list(l);
}
static const char *real_get_device_name(struct ibv_device *d)
{
	return ibv_get_device_name(d);
}
static struct ibv_context *real_open_device(struct ibv_device *d)
{
	return ibv_open_device(d);
}
static int real_close_device(struct ibv_context *c)
{
	return ibv_close_device(c);
}
static int real_query_port(struct ibv_context *c, uint8_t port, struct ibv_port_attr *a)
{
	return ibv_query_port(c, port, a);
}
static int real_query_gid(struct ibv_context *c, uint8_t port, int idx, union ibv_gid *g)
{
	return ibv_query_gid(c, port, idx, g);
}
static struct ibv_pd *real_alloc_pd(struct ibv_context *c)
{
	return ibv_alloc_pd(c);
}
static int real_dealloc_pd(struct ibv_pd *pd)
{
	return ibv_dealloc_pd(pd);
}
static struct ibv_mr *real_reg_mr(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	return ibv_reg_mr(pd, addr, len, access);
}
static int real_dereg_mr(struct ibv_mr *mr)
{
	return ibv_dereg_mr(mr);
}
static struct ibv_cq *real_create_cq(struct ibv_context *c, int cqe)
{
	return ibv_create_cq(c, cqe, NULL, NULL, 0);
}
static int real_destroy_cq(struct ibv_cq *cq)
{
	return ibv_destroy_cq(cq);
}
static struct ibv_qp *real_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *a)
{
	return ibv_create_qp(pd, a);
}
static int real_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask)
{
	return ibv_modify_qp(qp, a, mask);
}
static int real_destroy_qp(struct ibv_qp *qp)
{
	return ibv_destroy_qp(qp);
}
static int real_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	return ibv_post_send(qp, wr, bad);
}
static int real_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	return ibv_post_recv(qp, wr, bad);
}
static int real_poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc)
{
	return ibv_poll_cq(cq, n, wc);
}

const struct hvt_verbs_ops hvt_verbs_real = {
	.get_device_list = real_get_device_list,
	.free_device_list = real_free_device_list,
	.get_device_name = real_get_device_name,
	.open_device = real_open_device,
	.close_device = real_close_device,
	.query_port = real_query_port,
	.query_gid = real_query_gid,
	.alloc_pd = real_alloc_pd,
	.dealloc_pd = real_dealloc_pd,
	.reg_mr = real_reg_mr,
	.dereg_mr = real_dereg_mr,
	.create_cq = real_create_cq,
	.destroy_cq = real_destroy_cq,
	.create_qp = real_create_qp,
	.modify_qp = real_modify_qp,
	.destroy_qp = real_destroy_qp,
	.post_send = real_post_send,
	.post_recv = real_post_recv,
	.poll_cq = real_poll_cq,
};

/* ---- the state machine ---- */

#define RX_DEPTH 64 /* receives kept posted for send/recv */

static unsigned rx_depth(const struct hvt_rdma_ep *ep)
{
	return ep->kind == HVT_RDMA_SEND_LAT ? RX_DEPTH : 1;
}

int hvt_rdma_open(struct hvt_rdma_ep *ep, const struct hvt_verbs_ops *ops, enum hvt_rdma_kind kind,
		  const struct hvt_net_params *p)
{
	struct ibv_device **list;
	struct ibv_port_attr pa;
	struct ibv_qp_init_attr qia;
	struct ibv_qp_attr qa;
	int n = 0, want_inline;
	void *mem = NULL;

	memset(ep, 0, sizeof(*ep));
	ep->ops = ops;
	ep->kind = kind;
	ep->size = p->size;
	ep->port = (uint8_t)p->ib_port;
	ep->tx_depth = kind == HVT_RDMA_WRITE_BW ? (uint32_t)p->tx_depth : 16;
	ep->timeout_ns = p->timeout_ns;
	ep->sig_every = 1;
	list = ops->get_device_list(&n);
	if (!list || n <= 0) {
		snprintf(ep->err, sizeof(ep->err), "no RDMA device (ibv_get_device_list found none)");
		if (list)
			ops->free_device_list(list);
		return -ENODEV;
	}
	for (int i = 0; i < n && !ep->ctx; i++) {
		if (p->ib_dev && *p->ib_dev && strcmp(ops->get_device_name(list[i]), p->ib_dev) != 0)
			continue;
		ep->ctx = ops->open_device(list[i]);
		if (!ep->ctx) {
			snprintf(ep->err, sizeof(ep->err), "cannot open RDMA device '%s': %s",
				 ops->get_device_name(list[i]), strerror(errno));
			ops->free_device_list(list);
			return -ENODEV;
		}
	}
	ops->free_device_list(list);
	if (!ep->ctx) {
		snprintf(ep->err, sizeof(ep->err), "no RDMA device named '%s'", p->ib_dev);
		return -ENODEV;
	}
	if (ops->query_port(ep->ctx, ep->port, &pa)) {
		snprintf(ep->err, sizeof(ep->err), "cannot query port %u: %s", ep->port, strerror(errno));
		return -ENODEV;
	}
	if (pa.state != IBV_PORT_ACTIVE) {
		snprintf(ep->err, sizeof(ep->err), "port %u is not active (state %d)", ep->port, (int)pa.state);
		return -ENETDOWN;
	}
	ep->link_ethernet = pa.link_layer == IBV_LINK_LAYER_ETHERNET;
	ep->gid_index = p->gid_index >= 0 ? (int)p->gid_index : (ep->link_ethernet ? 0 : -1);
	ep->local.lid = pa.lid;
	if (ep->gid_index >= 0) {
		union ibv_gid g;

		if (ops->query_gid(ep->ctx, ep->port, ep->gid_index, &g)) {
			snprintf(ep->err, sizeof(ep->err), "cannot read GID %d of port %u", ep->gid_index, ep->port);
			return -EINVAL;
		}
		memcpy(ep->local.gid, g.raw, 16);
	}
	if (posix_memalign(&mem, 4096, 2 * ep->size))
		return -ENOMEM;
	ep->buf = mem;
	memset(ep->buf, 0, 2 * ep->size);
	ep->pd = ops->alloc_pd(ep->ctx);
	if (!ep->pd) {
		snprintf(ep->err, sizeof(ep->err), "cannot allocate a protection domain");
		return -ENOMEM;
	}
	ep->mr = ops->reg_mr(ep->pd, ep->buf, 2 * ep->size, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!ep->mr) {
		snprintf(ep->err, sizeof(ep->err), "cannot register %zu bytes: %s", 2 * ep->size, strerror(errno));
		return -ENOMEM;
	}
	ep->cq = ops->create_cq(ep->ctx, (int)(ep->tx_depth + rx_depth(ep)));
	if (!ep->cq) {
		snprintf(ep->err, sizeof(ep->err), "cannot create a completion queue");
		return -ENOMEM;
	}
	/* the largest inline size the device takes (up to 256), or the one asked for */
	want_inline = p->inline_size >= 0 ? (int)p->inline_size : 256;
	for (;;) {
		memset(&qia, 0, sizeof(qia));
		qia.send_cq = qia.recv_cq = ep->cq;
		qia.qp_type = IBV_QPT_RC;
		qia.cap.max_send_wr = ep->tx_depth;
		qia.cap.max_recv_wr = rx_depth(ep);
		qia.cap.max_send_sge = qia.cap.max_recv_sge = 1;
		qia.cap.max_inline_data = (uint32_t)want_inline;
		ep->qp = ops->create_qp(ep->pd, &qia);
		if (ep->qp || p->inline_size >= 0 || want_inline == 0)
			break;
		want_inline /= 2;
	}
	if (!ep->qp) {
		snprintf(ep->err, sizeof(ep->err), "cannot create an RC queue pair: %s", strerror(errno));
		return -ENOMEM;
	}
	ep->max_inline = qia.cap.max_inline_data;
	memset(&qa, 0, sizeof(qa));
	qa.qp_state = IBV_QPS_INIT;
	qa.pkey_index = 0;
	qa.port_num = ep->port;
	qa.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	if (ops->modify_qp(ep->qp, &qa, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS)) {
		snprintf(ep->err, sizeof(ep->err), "cannot move the queue pair to INIT");
		return -EIO;
	}
	ep->local.qpn = ep->qp->qp_num;
	if (getrandom(&ep->local.psn, sizeof(ep->local.psn), GRND_NONBLOCK) != sizeof(ep->local.psn))
		ep->local.psn = (uint32_t)hvt_now_ns();
	ep->local.psn &= 0xffffff;
	ep->local.rkey = ep->mr->rkey;
	ep->local.addr = (uint64_t)(uintptr_t)(ep->buf + ep->size);
	ep->state = HVT_RDMA_OPEN;
	return 0;
}

static int post_recv(struct hvt_rdma_ep *ep)
{
	struct ibv_sge sge = { .addr = (uintptr_t)(ep->buf + ep->size), .length = (uint32_t)ep->size,
			       .lkey = ep->mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1 }, *bad = NULL;

	if (ep->ops->post_recv(ep->qp, &wr, &bad)) {
		snprintf(ep->err, sizeof(ep->err), "cannot post a receive");
		return -EIO;
	}
	return 0;
}

int hvt_rdma_connect(struct hvt_rdma_ep *ep, const struct hvt_rdma_dest *remote)
{
	struct ibv_port_attr pa;
	struct ibv_qp_attr qa;

	if (ep->state != HVT_RDMA_OPEN)
		return -EINVAL;
	ep->remote = *remote;
	if (ep->ops->query_port(ep->ctx, ep->port, &pa))
		return -ENODEV;
	memset(&qa, 0, sizeof(qa));
	qa.qp_state = IBV_QPS_RTR;
	qa.path_mtu = pa.active_mtu;
	qa.dest_qp_num = remote->qpn;
	qa.rq_psn = remote->psn;
	qa.max_dest_rd_atomic = 1;
	qa.min_rnr_timer = 12;
	qa.ah_attr.dlid = remote->lid;
	qa.ah_attr.port_num = ep->port;
	if (ep->gid_index >= 0) {
		qa.ah_attr.is_global = 1;
		memcpy(qa.ah_attr.grh.dgid.raw, remote->gid, 16);
		qa.ah_attr.grh.sgid_index = (uint8_t)ep->gid_index;
		qa.ah_attr.grh.hop_limit = 1;
	}
	if (ep->ops->modify_qp(ep->qp, &qa,
			       IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
				       IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER)) {
		snprintf(ep->err, sizeof(ep->err), "cannot move the queue pair to RTR (peer qpn %u)", remote->qpn);
		return -EIO;
	}
	memset(&qa, 0, sizeof(qa));
	qa.qp_state = IBV_QPS_RTS;
	qa.timeout = 14;
	qa.retry_cnt = 7;
	qa.rnr_retry = 7;
	qa.sq_psn = ep->local.psn;
	qa.max_rd_atomic = 1;
	if (ep->ops->modify_qp(ep->qp, &qa,
			       IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
				       IBV_QP_MAX_QP_RD_ATOMIC)) {
		snprintf(ep->err, sizeof(ep->err), "cannot move the queue pair to RTS");
		return -EIO;
	}
	if (ep->kind == HVT_RDMA_SEND_LAT)
		for (unsigned i = 0; i < rx_depth(ep); i++)
			if (post_recv(ep))
				return -EIO;
	ep->recvs_posted = rx_depth(ep);
	ep->state = HVT_RDMA_RTS;
	return 0;
}

static int wc_error(struct hvt_rdma_ep *ep, const struct ibv_wc *wc)
{
	ep->state = HVT_RDMA_ERROR;
	snprintf(ep->err, sizeof(ep->err), "completion error: %s (status %d, opcode %d)",
		 ibv_wc_status_str(wc->status), (int)wc->status, (int)wc->opcode);
	return -EIO;
}

int hvt_rdma_reap(struct hvt_rdma_ep *ep, unsigned per)
{
	struct ibv_wc wc[16];
	int n = ep->ops->poll_cq(ep->cq, 16, wc), got = 0;

	if (n < 0) {
		snprintf(ep->err, sizeof(ep->err), "cannot poll the completion queue");
		return -EIO;
	}
	for (int i = 0; i < n; i++) {
		if (wc[i].status != IBV_WC_SUCCESS)
			return wc_error(ep, &wc[i]);
		if (wc[i].opcode & IBV_WC_RECV) {
			/* a receive met while reaping sends: cannot happen for writes; for sends, wait_recv takes them */
			snprintf(ep->err, sizeof(ep->err), "unexpected receive completion");
			return -EPROTO;
		}
		ep->completed += per;
		got++;
	}
	return got;
}

int hvt_rdma_post(struct hvt_rdma_ep *ep, int signaled)
{
	struct ibv_sge sge = { .addr = (uintptr_t)ep->buf, .length = (uint32_t)ep->size, .lkey = ep->mr->lkey };
	struct ibv_send_wr wr, *bad = NULL;
	uint64_t t0 = 0;

	if (ep->state != HVT_RDMA_RTS)
		return ep->state == HVT_RDMA_ERROR ? -EIO : -ENOTCONN;
	/* never overrun the send queue: wait for completions when it is full */
	while (ep->posted - ep->completed >= ep->tx_depth) {
		int r = hvt_rdma_reap(ep, ep->sig_every);

		if (r < 0)
			return r;
		if (r == 0) {
			if (!t0)
				t0 = hvt_now_ns();
			else if (hvt_now_ns() - t0 > ep->timeout_ns)
				return -ETIMEDOUT;
		}
	}
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = ep->posted;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	if (ep->kind == HVT_RDMA_SEND_LAT) {
		wr.opcode = IBV_WR_SEND;
	} else {
		wr.opcode = IBV_WR_RDMA_WRITE;
		wr.wr.rdma.remote_addr = ep->remote.addr;
		wr.wr.rdma.rkey = ep->remote.rkey;
	}
	if (ep->size <= ep->max_inline)
		wr.send_flags |= IBV_SEND_INLINE;
	if (signaled)
		wr.send_flags |= IBV_SEND_SIGNALED;
	if (ep->ops->post_send(ep->qp, &wr, &bad)) {
		snprintf(ep->err, sizeof(ep->err), "cannot post a send");
		return -EIO;
	}
	/* an unsignaled send is counted when the signaled one after it completes (RC order) */
	ep->posted++;
	return 0;
}

int hvt_rdma_wait_recv(struct hvt_rdma_ep *ep)
{
	uint64_t deadline = 0;

	for (unsigned spin = 0;; spin++) {
		struct ibv_wc wc[8];
		int n = ep->ops->poll_cq(ep->cq, 8, wc), got = 0;

		if (n < 0)
			return -EIO;
		for (int i = 0; i < n; i++) {
			if (wc[i].status != IBV_WC_SUCCESS)
				return wc_error(ep, &wc[i]);
			if (wc[i].opcode & IBV_WC_RECV) {
				if (post_recv(ep))
					return -EIO;
				got++;
			} else {
				ep->completed++;
			}
		}
		if (got > 1) {
			snprintf(ep->err, sizeof(ep->err), "%d messages arrived at once in a ping-pong", got);
			return -EPROTO;
		}
		if (got)
			return 0;
		if ((spin & 1023) == 0) {
			uint64_t now = hvt_now_ns();

			if (!deadline)
				deadline = now + ep->timeout_ns;
			else if (now >= deadline)
				return -ETIMEDOUT;
		}
	}
}

int hvt_rdma_wait_byte(struct hvt_rdma_ep *ep, uint8_t tag)
{
	volatile uint8_t *last = (volatile uint8_t *)(ep->buf + 2 * ep->size - 1);
	uint64_t deadline = 0;

	for (unsigned spin = 0; *last != tag; spin++) {
		if ((spin & 1023) == 0) {
			uint64_t now = hvt_now_ns();
			int r = hvt_rdma_reap(ep, ep->sig_every);

			if (r < 0)
				return r;
			if (!deadline)
				deadline = now + ep->timeout_ns;
			else if (now >= deadline)
				return -ETIMEDOUT;
		}
	}
	return 0;
}

void hvt_rdma_close(struct hvt_rdma_ep *ep)
{
	if (!ep->ops)
		return;
	if (ep->qp)
		ep->ops->destroy_qp(ep->qp);
	if (ep->cq)
		ep->ops->destroy_cq(ep->cq);
	if (ep->mr)
		ep->ops->dereg_mr(ep->mr);
	if (ep->pd)
		ep->ops->dealloc_pd(ep->pd);
	if (ep->ctx)
		ep->ops->close_device(ep->ctx);
	free(ep->buf);
	memset(ep, 0, sizeof(*ep));
}

/* ---- sessions over the control connection ---- */

static enum hvt_rdma_kind kind_of(const struct hvt_net_sess *s)
{
	if (strcmp(s->proto->bench, "net.rdma_send_lat") == 0)
		return HVT_RDMA_SEND_LAT;
	if (strcmp(s->proto->bench, "net.rdma_write_lat") == 0)
		return HVT_RDMA_WRITE_LAT;
	return HVT_RDMA_WRITE_BW;
}

/* Open our end, swap QP lines (the client speaks first), connect. */
static int exchange(struct hvt_net_sess *s)
{
	struct hvt_rdma_ep *ep = hvt_calloc(1, sizeof(*ep));
	struct hvt_rdma_dest rd;
	char mine[256], line[HVT_NET_LINE_MAX];
	int r;

	s->priv = ep;
	if (!ep)
		return -ENOMEM;
	r = hvt_rdma_open(ep, &hvt_verbs_real, kind_of(s), s->p);
	if (r) {
		snprintf(s->err, sizeof(s->err), "%s", ep->err);
		if (s->server)
			(void)hvt_net_write_line(s->ctl, "ERR %s", ep->err);
		return r;
	}
	r = hvt_rdma_dest_fmt(&ep->local, mine, sizeof(mine));
	if (r)
		return r;
	if (!s->server)
		r = hvt_net_write_line(s->ctl, "%s", mine);
	if (!r)
		r = hvt_net_read_line(s->ctl, line, sizeof(line), s->p->timeout_ns);
	if (r)
		return r;
	if (hvt_rdma_dest_parse(line, &rd)) {
		snprintf(s->err, sizeof(s->err), "peer said '%.200s'", line);
		return -EPROTO;
	}
	r = hvt_rdma_connect(ep, &rd);
	if (r) {
		snprintf(s->err, sizeof(s->err), "%s", ep->err);
		return r;
	}
	/* the server answers once its receives are posted, so the client may send at once */
	if (s->server)
		r = hvt_net_write_line(s->ctl, "%s", mine);
	return r;
}

static int rdma_client_setup(struct hvt_net_sess *s)
{
	return exchange(s);
}

static void rdma_client_teardown(struct hvt_net_sess *s)
{
	if (s->priv)
		hvt_rdma_close(s->priv);
	free(s->priv);
	s->priv = NULL;
}

static uint8_t tag_of(uint64_t k)
{
	return (uint8_t)(k % 255 + 1);
}

static int lat_client_run(struct hvt_net_sess *s, struct hvt_rep *rep)
{
	struct hvt_rdma_ep *ep = s->priv;
	uint64_t t_prev, t;
	int r;

	s->rtt.n = 0;
	t_prev = hvt_now_ns();
	do {
		if (ep->kind == HVT_RDMA_WRITE_LAT) {
			uint8_t tag = tag_of(ep->posted);

			ep->buf[ep->size - 1] = (char)tag;
			r = hvt_rdma_post(ep, 1);
			if (!r)
				r = hvt_rdma_wait_byte(ep, tag);
		} else {
			r = hvt_rdma_post(ep, 1);
			if (!r)
				r = hvt_rdma_wait_recv(ep);
		}
		if (r) {
			snprintf(s->err, sizeof(s->err), "%s", ep->err);
			return r;
		}
		t = hvt_now_ns();
		r = hvt_net_samples_add(&s->rtt, t - t_prev);
		if (r)
			return r;
		t_prev = t;
	} while (t < rep->deadline_ns);
	rep->nclock += (unsigned)(s->rtt.n > UINT32_MAX ? UINT32_MAX : s->rtt.n);
	hvt_rep_extra(rep, "inline", json_boolean(ep->size <= ep->max_inline));
	return hvt_net_lat_report(rep, &s->rtt);
}

static int bw_client_run(struct hvt_net_sess *s, struct hvt_rep *rep)
{
	struct hvt_rdma_ep *ep = s->priv;
	unsigned mod = ep->tx_depth < 16 ? ep->tx_depth : 16;
	uint64_t c0 = ep->completed, t0 = rep->t_start_ns, t1;
	int r = 0;

	ep->sig_every = mod;
	/* a signaled write every `mod` posts; the completion of one covers the ones before it (RC order) */
	do {
		while (!r && ep->posted - ep->completed < ep->tx_depth)
			r = hvt_rdma_post(ep, (ep->posted + 1) % mod == 0);
		if (!r) {
			int n = hvt_rdma_reap(ep, mod);

			r = n < 0 ? n : 0;
		}
	} while (!r && !hvt_rep_done(rep));
	/* end on a signaled write, then wait for every write to be acknowledged */
	while (!r && ep->posted % mod != 0)
		r = hvt_rdma_post(ep, (ep->posted + 1) % mod == 0);
	t1 = hvt_now_ns();
	while (!r && ep->completed < ep->posted) {
		int n = hvt_rdma_reap(ep, mod);

		r = n < 0 ? n : 0;
		if (hvt_now_ns() - t1 > ep->timeout_ns)
			r = -ETIMEDOUT;
	}
	if (r) {
		snprintf(s->err, sizeof(s->err), "%s", ep->err);
		return r;
	}
	t1 = hvt_now_ns();
	hvt_rep_set(rep, "bw", (double)(ep->completed - c0) * (double)ep->size / ((double)(t1 - t0) * 1e-9));
	hvt_rep_set(rep, "msg_rate", (double)(ep->completed - c0) / ((double)(t1 - t0) * 1e-9));
	hvt_rep_extra(rep, "inline", json_boolean(ep->size <= ep->max_inline));
	return 0;
}

/* Server: echo until the client says BYE (polled between waits) or stays silent for `timeout`. */
static int rdma_serve(struct hvt_net_sess *s)
{
	struct hvt_rdma_ep *ep;
	uint64_t idle = 0, k = 0;
	int r = exchange(s);

	ep = s->priv;
	while (!r) {
		if (ep->kind == HVT_RDMA_WRITE_BW) {
			/* writes land without us; only the control connection matters */
			if (hvt_net_ctl_closed(s))
				break;
			usleep(10000);
			continue;
		}
		ep->timeout_ns = 100000000ull;
		r = ep->kind == HVT_RDMA_WRITE_LAT ? hvt_rdma_wait_byte(ep, tag_of(k)) : hvt_rdma_wait_recv(ep);
		if (r == -ETIMEDOUT) {
			idle += ep->timeout_ns;
			if (hvt_net_ctl_closed(s))
				return 0;
			r = idle >= s->p->timeout_ns ? -ETIMEDOUT : 0;
			continue;
		}
		if (r)
			break;
		idle = 0;
		if (ep->kind == HVT_RDMA_WRITE_LAT)
			ep->buf[ep->size - 1] = (char)tag_of(k);
		k++;
		r = hvt_rdma_post(ep, 1);
	}
	if (r && ep)
		snprintf(s->err, sizeof(s->err), "%s", ep->err);
	if (ep)
		hvt_rdma_close(ep);
	free(ep);
	s->priv = NULL;
	return r;
}

static int rdma_probe_common(const struct hvt_net_proto *pr, const void *params, char *why, size_t len)
{
	struct ibv_device **l;
	int n = 0;

	l = hvt_verbs_real.get_device_list(&n);
	if (l)
		hvt_verbs_real.free_device_list(l);
	if (!l || n <= 0) {
		snprintf(why, len, "no RDMA device (ibv_get_device_list found none)");
		return -ENODEV;
	}
	return hvt_net_probe(pr, params, why, len);
}

#else /* built without libibverbs: the rows are not in the table; a peer asking gets a clear no */

static int rdma_client_setup(struct hvt_net_sess *s)
{
	snprintf(s->err, sizeof(s->err), "built without libibverbs");
	return -EOPNOTSUPP;
}
static void rdma_client_teardown(struct hvt_net_sess *s)
{
	(void)s;
}
static int lat_client_run(struct hvt_net_sess *s, struct hvt_rep *rep)
{
	(void)s;
	(void)rep;
	return -EOPNOTSUPP;
}
#define bw_client_run lat_client_run
static int rdma_serve(struct hvt_net_sess *s)
{
	return rdma_client_setup(s);
}
static int rdma_probe_common(const struct hvt_net_proto *pr, const void *params, char *why, size_t len)
{
	(void)pr;
	(void)params;
	snprintf(why, len, "built without libibverbs");
	return -EOPNOTSUPP;
}
#endif

const struct hvt_net_proto hvt_net_rdma_send_lat_proto = {
	.bench = "net.rdma_send_lat",
	.is_lat = 1,
	.client_setup = rdma_client_setup,
	.client_run = lat_client_run,
	.client_teardown = rdma_client_teardown,
	.serve = rdma_serve,
};

const struct hvt_net_proto hvt_net_rdma_write_lat_proto = {
	.bench = "net.rdma_write_lat",
	.is_lat = 1,
	.client_setup = rdma_client_setup,
	.client_run = lat_client_run,
	.client_teardown = rdma_client_teardown,
	.serve = rdma_serve,
};

const struct hvt_net_proto hvt_net_rdma_write_bw_proto = {
	.bench = "net.rdma_write_bw",
	.client_setup = rdma_client_setup,
	.client_run = bw_client_run,
	.client_teardown = rdma_client_teardown,
	.serve = rdma_serve,
};

/* ---- table entries ---- */

#define P_OFF(f) offsetof(struct hvt_net_params, f)
#define P_COMMON(defsize)                                                                              \
	{ "size", HVT_P_SIZE, P_OFF(size), defsize, 1, 64.0 * 1024 * 1024, NULL, "message size, bytes" }, \
	{ "addr", HVT_P_STRING, P_OFF(addr), "127.0.0.1", 0, -1, NULL,                                 \
	  "self-contained mode (no --peer): address of the TCP control connection" },                  \
	{ "timeout", HVT_P_DURATION, P_OFF(timeout_ns), "5s", 1e6, 3600e9, NULL,                       \
	  "connect, exchange and completion timeout" },                                                \
	{ "ib_dev", HVT_P_STRING, P_OFF(ib_dev), "", 0, -1, NULL, "RDMA device (default: the first)" }, \
	{ "ib_port", HVT_P_INT, P_OFF(ib_port), "1", 1, 255, NULL, "port of the device" },             \
	{ "gid_index", HVT_P_INT, P_OFF(gid_index), "-1", -1, 255, NULL,                               \
	  "GID index (-1: none on InfiniBand, 0 on RoCE)" },                                           \
	{ "inline_size", HVT_P_INT, P_OFF(inline_size), "-1", -1, 4096, NULL,                          \
	  "max inline bytes (-1: as large as the device allows, up to 256); larger messages DMA" }

static const struct hvt_param rdma_lat_params[] = {
	P_COMMON("2"),
	{ "dma_latency", HVT_P_BOOL, P_OFF(dma_latency), "0", 0, -1, NULL,
	  "hold /dev/cpu_dma_latency at 0 during the case" },
};

static const struct hvt_param rdma_bw_params[] = {
	P_COMMON("64KiB"),
	{ "tx_depth", HVT_P_INT, P_OFF(tx_depth), "128", 1, 8192, NULL, "writes in flight" },
};

static int send_lat_probe(const void *p, char *why, size_t len)
{
	return rdma_probe_common(&hvt_net_rdma_send_lat_proto, p, why, len);
}
static int send_lat_setup(const void *p, void **st)
{
	return hvt_net_setup(&hvt_net_rdma_send_lat_proto, p, st);
}
static int write_lat_probe(const void *p, char *why, size_t len)
{
	return rdma_probe_common(&hvt_net_rdma_write_lat_proto, p, why, len);
}
static int write_lat_setup(const void *p, void **st)
{
	return hvt_net_setup(&hvt_net_rdma_write_lat_proto, p, st);
}
static int write_bw_probe(const void *p, char *why, size_t len)
{
	return rdma_probe_common(&hvt_net_rdma_write_bw_proto, p, why, len);
}
static int write_bw_setup(const void *p, void **st)
{
	return hvt_net_setup(&hvt_net_rdma_write_bw_proto, p, st);
}

#define RDMA_ROW(nm, hlp, prm, met, nmet, pr, su)                                                      \
	{ .name = nm, .help = hlp, .params = prm, .nparams = HVT_ARRAY_SIZE(prm),                      \
	  .params_size = sizeof(struct hvt_net_params), .metrics = met, .nmetrics = nmet, .probe = pr, \
	  .setup = su, .run = hvt_net_run, .teardown = hvt_net_teardown }

const struct hvt_bench hvt_bench_net_rdma_send_lat =
	RDMA_ROW("net.rdma_send_lat", "RDMA RC send/recv ping-pong latency (perftest ib_send_lat)", rdma_lat_params,
		 hvt_net_lat_metrics, 6, send_lat_probe, send_lat_setup);
const struct hvt_bench hvt_bench_net_rdma_write_lat =
	RDMA_ROW("net.rdma_write_lat", "RDMA RC write ping-pong latency, polling the last byte (ib_write_lat)",
		 rdma_lat_params, hvt_net_lat_metrics, 6, write_lat_probe, write_lat_setup);
const struct hvt_bench hvt_bench_net_rdma_write_bw =
	RDMA_ROW("net.rdma_write_bw", "RDMA RC write bandwidth (perftest ib_write_bw)", rdma_bw_params,
		 hvt_net_bw_metrics, 2, write_bw_probe, write_bw_setup);
