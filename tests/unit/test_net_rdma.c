/* SPDX-License-Identifier: MIT */
/* Unit tests of the RDMA state machine (bench/net_rdma.c) driven through a fake verbs ops table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../bench/verbs_ops.h"

static void test_dest_roundtrip(void **state)
{
	struct hvt_rdma_dest d = { .lid = 7, .qpn = 0x123456, .psn = 0xabcdef, .rkey = 0xdeadbeef,
				   .addr = 0x7f00deadbeef00ull };
	struct hvt_rdma_dest e;
	char line[256];

	(void)state;
	for (int i = 0; i < 16; i++)
		d.gid[i] = (uint8_t)(0xf0 + i);
	assert_int_equal(hvt_rdma_dest_fmt(&d, line, sizeof(line)), 0);
	assert_int_equal(hvt_rdma_dest_parse(line, &e), 0);
	assert_memory_equal(&d, &e, sizeof(d));
	assert_int_equal(hvt_rdma_dest_fmt(&d, line, 10), -ENAMETOOLONG);
	assert_int_equal(hvt_rdma_dest_parse("QP 1 2 3 zz 4 5", &e), -EPROTO);
	assert_int_equal(hvt_rdma_dest_parse("QP 1 99999999 3 00000000000000000000000000000000 4 5", &e), -EPROTO);
	assert_int_equal(hvt_rdma_dest_parse("HVTNET/1 ERR no", &e), -EPROTO);
}

#if HVT_HAVE_VERBS_OPS

/* ---- the fake: two QPs in one process, a "wire" that delivers at once ---- */

struct fake_cq {
	struct ibv_cq cq;
	struct ibv_wc q[1024];
	unsigned head, tail;
};

struct fake_qp {
	struct ibv_qp qp;
	struct fake_cq *cq;
	enum ibv_qp_state state;
	uint32_t dest_qpn;
	uint64_t recv_addr[128];
	unsigned rhead, rtail;
	enum ibv_qp_state history[8];
	unsigned nhist;
};

static struct {
	int ndev;
	int port_state;
	int link_layer;
	uint32_t inline_cap;	     /* create_qp fails above this */
	int fail_reg_mr;
	enum ibv_wc_status next_status; /* status of the next send completion */
	struct fake_qp *qps[8];
	unsigned nqp;
	int live;		     /* objects created minus destroyed */
	unsigned posted_recvs;
	unsigned last_send_flags;
	struct ibv_qp_attr last_rtr;
	int last_rtr_mask;
} F;

static struct ibv_device *fake_devs[2];

static struct ibv_device **f_get_device_list(int *n)
{
	struct ibv_device **l = calloc(3, sizeof(*l));

	*n = F.ndev;
	for (int i = 0; i < F.ndev; i++)
		l[i] = (struct ibv_device *)&fake_devs[i];
	return l;
}
static void f_free_device_list(struct ibv_device **l)
{
	free(l);
}
static const char *f_get_device_name(struct ibv_device *d)
{
	return d == (struct ibv_device *)&fake_devs[0] ? "fake0" : "fake1";
}
static struct ibv_context *f_open_device(struct ibv_device *d)
{
	(void)d;
	F.live++;
	return calloc(1, sizeof(struct ibv_context));
}
static int f_close_device(struct ibv_context *c)
{
	F.live--;
	free(c);
	return 0;
}
static int f_query_port(struct ibv_context *c, uint8_t port, struct ibv_port_attr *a)
{
	(void)c;
	(void)port;
	memset(a, 0, sizeof(*a));
	a->state = (enum ibv_port_state)F.port_state;
	a->link_layer = (uint8_t)F.link_layer;
	a->lid = 3;
	a->active_mtu = IBV_MTU_4096;
	return 0;
}
static int f_query_gid(struct ibv_context *c, uint8_t port, int idx, union ibv_gid *g)
{
	(void)c;
	(void)port;
	memset(g, 0, sizeof(*g));
	g->raw[15] = (uint8_t)idx + 1;
	return 0;
}
static struct ibv_pd *f_alloc_pd(struct ibv_context *c)
{
	(void)c;
	F.live++;
	return calloc(1, sizeof(struct ibv_pd));
}
static int f_dealloc_pd(struct ibv_pd *pd)
{
	F.live--;
	free(pd);
	return 0;
}
static struct ibv_mr *f_reg_mr(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr;

	(void)pd;
	(void)access;
	if (F.fail_reg_mr)
		return NULL;
	mr = calloc(1, sizeof(*mr));
	mr->addr = addr;
	mr->length = len;
	mr->lkey = 11;
	mr->rkey = 22;
	F.live++;
	return mr;
}
static int f_dereg_mr(struct ibv_mr *mr)
{
	F.live--;
	free(mr);
	return 0;
}
static struct ibv_cq *f_create_cq(struct ibv_context *c, int cqe)
{
	(void)c;
	(void)cqe;
	F.live++;
	return &((struct fake_cq *)calloc(1, sizeof(struct fake_cq)))->cq;
}
static int f_destroy_cq(struct ibv_cq *cq)
{
	F.live--;
	free(cq);
	return 0;
}
static struct ibv_qp *f_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *a)
{
	struct fake_qp *q;

	(void)pd;
	if (a->cap.max_inline_data > F.inline_cap)
		return NULL;
	q = calloc(1, sizeof(*q));
	q->cq = (struct fake_cq *)a->send_cq;
	q->qp.qp_num = 100 + F.nqp;
	q->state = IBV_QPS_RESET;
	F.qps[F.nqp++] = q;
	F.live++;
	return &q->qp;
}
static int f_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask)
{
	struct fake_qp *q = (struct fake_qp *)qp;

	if (!(mask & IBV_QP_STATE))
		return EINVAL;
	/* RESET -> INIT -> RTR -> RTS, nothing else */
	if ((a->qp_state == IBV_QPS_INIT && q->state != IBV_QPS_RESET) ||
	    (a->qp_state == IBV_QPS_RTR && q->state != IBV_QPS_INIT) ||
	    (a->qp_state == IBV_QPS_RTS && q->state != IBV_QPS_RTR))
		return EINVAL;
	if (a->qp_state == IBV_QPS_RTR) {
		q->dest_qpn = a->dest_qp_num;
		F.last_rtr = *a;
		F.last_rtr_mask = mask;
	}
	q->state = a->qp_state;
	q->history[q->nhist++] = a->qp_state;
	return 0;
}
static int f_destroy_qp(struct ibv_qp *qp)
{
	struct fake_qp *q = (struct fake_qp *)qp;

	for (unsigned i = 0; i < F.nqp; i++)
		if (F.qps[i] == q)
			F.qps[i] = NULL;
	F.live--;
	free(q);
	return 0;
}
static void cq_push(struct fake_cq *cq, enum ibv_wc_status st, enum ibv_wc_opcode op, uint64_t id)
{
	struct ibv_wc *wc = &cq->q[cq->tail++ % 1024];

	memset(wc, 0, sizeof(*wc));
	wc->status = st;
	wc->opcode = op;
	wc->wr_id = id;
}
static struct fake_qp *peer_of(struct fake_qp *q)
{
	for (unsigned i = 0; i < F.nqp; i++)
		if (F.qps[i] && F.qps[i]->qp.qp_num == q->dest_qpn)
			return F.qps[i];
	return NULL;
}
static int f_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	struct fake_qp *q = (struct fake_qp *)qp, *p = peer_of(q);
	enum ibv_wc_status st = F.next_status;

	(void)bad;
	if (q->state != IBV_QPS_RTS || !p)
		return EINVAL;
	F.last_send_flags = wr->send_flags;
	F.next_status = IBV_WC_SUCCESS;
	if (st == IBV_WC_SUCCESS) {
		const void *src = (const void *)(uintptr_t)wr->sg_list[0].addr;

		if (wr->opcode == IBV_WR_SEND) {
			if (p->rhead == p->rtail)
				return ENOMEM; /* receiver not ready: an RNR the test would see */
			memcpy((void *)(uintptr_t)p->recv_addr[p->rhead++ % 128], src, wr->sg_list[0].length);
			cq_push(p->cq, IBV_WC_SUCCESS, IBV_WC_RECV, 0);
		} else {
			memcpy((void *)(uintptr_t)wr->wr.rdma.remote_addr, src, wr->sg_list[0].length);
		}
	}
	if ((wr->send_flags & IBV_SEND_SIGNALED) || st != IBV_WC_SUCCESS)
		cq_push(q->cq, st, wr->opcode == IBV_WR_SEND ? IBV_WC_SEND : IBV_WC_RDMA_WRITE, wr->wr_id);
	return 0;
}
static int f_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	struct fake_qp *q = (struct fake_qp *)qp;

	(void)bad;
	q->recv_addr[q->rtail++ % 128] = wr->sg_list[0].addr;
	F.posted_recvs++;
	return 0;
}
static int f_poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc)
{
	struct fake_cq *f = (struct fake_cq *)cq;
	int k = 0;

	while (k < n && f->head != f->tail)
		wc[k++] = f->q[f->head++ % 1024];
	return k;
}

static const struct hvt_verbs_ops fake_ops = {
	.get_device_list = f_get_device_list,
	.free_device_list = f_free_device_list,
	.get_device_name = f_get_device_name,
	.open_device = f_open_device,
	.close_device = f_close_device,
	.query_port = f_query_port,
	.query_gid = f_query_gid,
	.alloc_pd = f_alloc_pd,
	.dealloc_pd = f_dealloc_pd,
	.reg_mr = f_reg_mr,
	.dereg_mr = f_dereg_mr,
	.create_cq = f_create_cq,
	.destroy_cq = f_destroy_cq,
	.create_qp = f_create_qp,
	.modify_qp = f_modify_qp,
	.destroy_qp = f_destroy_qp,
	.post_send = f_post_send,
	.post_recv = f_post_recv,
	.poll_cq = f_poll_cq,
};

static int reset(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.ndev = 1;
	F.port_state = IBV_PORT_ACTIVE;
	F.link_layer = IBV_LINK_LAYER_INFINIBAND;
	F.inline_cap = 64;
	return 0;
}

static struct hvt_net_params params(uint64_t size)
{
	struct hvt_net_params p;

	memset(&p, 0, sizeof(p));
	p.size = size;
	p.ib_dev = "";
	p.ib_port = 1;
	p.gid_index = -1;
	p.inline_size = -1;
	p.tx_depth = 8;
	p.timeout_ns = 20000000ull;
	return p;
}

/* Open and connect two ends through the QP lines, as the control connection would carry them. */
static void pair(struct hvt_rdma_ep *a, struct hvt_rdma_ep *b, enum hvt_rdma_kind k, uint64_t size)
{
	struct hvt_net_params p = params(size);
	struct hvt_rdma_dest da, db;
	char la[256], lb[256];

	assert_int_equal(hvt_rdma_open(a, &fake_ops, k, &p), 0);
	assert_int_equal(hvt_rdma_open(b, &fake_ops, k, &p), 0);
	assert_int_equal(hvt_rdma_dest_fmt(&a->local, la, sizeof(la)), 0);
	assert_int_equal(hvt_rdma_dest_fmt(&b->local, lb, sizeof(lb)), 0);
	assert_int_equal(hvt_rdma_dest_parse(la, &da), 0);
	assert_int_equal(hvt_rdma_dest_parse(lb, &db), 0);
	assert_int_equal(hvt_rdma_connect(b, &da), 0);
	assert_int_equal(hvt_rdma_connect(a, &db), 0);
}

static void test_no_device(void **state)
{
	struct hvt_rdma_ep ep;
	struct hvt_net_params p = params(2);

	(void)state;
	F.ndev = 0;
	assert_int_equal(hvt_rdma_open(&ep, &fake_ops, HVT_RDMA_SEND_LAT, &p), -ENODEV);
	assert_string_equal(ep.err, "no RDMA device (ibv_get_device_list found none)");
	hvt_rdma_close(&ep);
	F.ndev = 1;
	p.ib_dev = "mlx5_9";
	assert_int_equal(hvt_rdma_open(&ep, &fake_ops, HVT_RDMA_SEND_LAT, &p), -ENODEV);
	assert_non_null(strstr(ep.err, "mlx5_9"));
	hvt_rdma_close(&ep);
	assert_int_equal(F.live, 0);
}

static void test_port_down_and_half_built(void **state)
{
	struct hvt_rdma_ep ep;
	struct hvt_net_params p = params(2);

	(void)state;
	F.port_state = IBV_PORT_DOWN;
	assert_int_equal(hvt_rdma_open(&ep, &fake_ops, HVT_RDMA_SEND_LAT, &p), -ENETDOWN);
	hvt_rdma_close(&ep);
	assert_int_equal(F.live, 0);
	/* registration fails after the device and PD exist: close frees exactly those */
	F.port_state = IBV_PORT_ACTIVE;
	F.fail_reg_mr = 1;
	assert_int_equal(hvt_rdma_open(&ep, &fake_ops, HVT_RDMA_SEND_LAT, &p), -ENOMEM);
	assert_int_equal(F.live, 2);
	hvt_rdma_close(&ep);
	assert_int_equal(F.live, 0);
}

static void test_connect_states(void **state)
{
	struct hvt_rdma_ep a, b;
	struct fake_qp *qa;

	(void)state;
	F.link_layer = IBV_LINK_LAYER_ETHERNET; /* RoCE: GID index 0 and a GRH by default */
	pair(&a, &b, HVT_RDMA_SEND_LAT, 2);
	qa = (struct fake_qp *)a.qp;
	assert_int_equal(qa->nhist, 3);
	assert_int_equal(qa->history[0], IBV_QPS_INIT);
	assert_int_equal(qa->history[1], IBV_QPS_RTR);
	assert_int_equal(qa->history[2], IBV_QPS_RTS);
	assert_int_equal(a.gid_index, 0);
	assert_int_equal(F.last_rtr.dest_qp_num, b.local.qpn);
	assert_int_equal(F.last_rtr.rq_psn, b.local.psn);
	assert_int_equal(F.last_rtr.ah_attr.is_global, 1);
	assert_int_equal(F.last_rtr.ah_attr.grh.dgid.raw[15], 1);
	assert_int_equal(a.state, HVT_RDMA_RTS);
	/* the receive ring is posted on both ends before anything is sent */
	assert_int_equal(F.posted_recvs, 2 * 64);
	/* auto inline: the largest size the device took (256, 128 refused; 64 taken) */
	assert_int_equal(a.max_inline, 64);
	/* connecting twice is refused: the state machine does not go back */
	assert_int_equal(hvt_rdma_connect(&a, &b.local), -EINVAL);
	hvt_rdma_close(&a);
	hvt_rdma_close(&b);
	assert_int_equal(F.live, 0);
}

static void test_send_pingpong(void **state)
{
	struct hvt_rdma_ep a, b;

	(void)state;
	pair(&a, &b, HVT_RDMA_SEND_LAT, 32);
	assert_int_equal(a.gid_index, -1);
	for (int k = 0; k < 1000; k++) {
		a.buf[0] = (char)k;
		assert_int_equal(hvt_rdma_post(&a, 1), 0);
		assert_int_equal(F.last_send_flags & IBV_SEND_INLINE, IBV_SEND_INLINE);
		assert_int_equal(hvt_rdma_wait_recv(&b), 0);
		assert_int_equal(b.buf[b.size], (char)k); /* landed in the receive half */
		assert_int_equal(hvt_rdma_post(&b, 1), 0);
		assert_int_equal(hvt_rdma_wait_recv(&a), 0);
	}
	/* every receive consumed was re-posted; every signaled send completed */
	assert_int_equal(F.posted_recvs, 2 * 64 + 2 * 1000);
	assert_true(a.completed >= 999 && a.completed <= a.posted);
	/* nothing more arrives: a bounded wait */
	assert_int_equal(hvt_rdma_wait_recv(&a), -ETIMEDOUT);
	hvt_rdma_close(&a);
	hvt_rdma_close(&b);
}

static void test_write_pingpong(void **state)
{
	struct hvt_rdma_ep a, b;

	(void)state;
	pair(&a, &b, HVT_RDMA_WRITE_LAT, 4096); /* above the inline limit: a DMA'd write */
	assert_int_equal(F.posted_recvs, 0);
	for (uint64_t k = 0; k < 600; k++) {
		uint8_t tag = (uint8_t)(k % 255 + 1);

		a.buf[a.size - 1] = (char)tag;
		assert_int_equal(hvt_rdma_post(&a, 1), 0);
		assert_int_equal(F.last_send_flags & IBV_SEND_INLINE, 0);
		assert_int_equal(hvt_rdma_wait_byte(&b, tag), 0);
		b.buf[b.size - 1] = (char)tag;
		assert_int_equal(hvt_rdma_post(&b, 1), 0);
		assert_int_equal(hvt_rdma_wait_byte(&a, tag), 0);
	}
	/* the sender never overran its queue of 16 */
	assert_true(a.posted - a.completed <= a.tx_depth);
	assert_int_equal(hvt_rdma_wait_byte(&a, 0x7f), -ETIMEDOUT);
	hvt_rdma_close(&a);
	hvt_rdma_close(&b);
}

static void test_bw_selective_signaling(void **state)
{
	struct hvt_rdma_ep a, b;

	(void)state;
	pair(&a, &b, HVT_RDMA_WRITE_BW, 1024);
	a.sig_every = 4;
	/* 64 writes through a queue of 8, one in four signaled: reaping keeps it moving */
	for (int k = 0; k < 64; k++)
		assert_int_equal(hvt_rdma_post(&a, (a.posted + 1) % 4 == 0), 0);
	while (a.completed < a.posted)
		assert_true(hvt_rdma_reap(&a, 4) >= 0);
	assert_int_equal(a.completed, 64);
	hvt_rdma_close(&a);
	hvt_rdma_close(&b);
}

static void test_error_completion(void **state)
{
	struct hvt_rdma_ep a, b;

	(void)state;
	pair(&a, &b, HVT_RDMA_SEND_LAT, 8);
	F.next_status = IBV_WC_RETRY_EXC_ERR;
	assert_int_equal(hvt_rdma_post(&a, 1), 0);
	assert_int_equal(hvt_rdma_wait_recv(&a), -EIO);
	assert_int_equal(a.state, HVT_RDMA_ERROR);
	assert_non_null(strstr(a.err, "completion error"));
	/* an end in error posts nothing more */
	assert_int_equal(hvt_rdma_post(&a, 1), -EIO);
	hvt_rdma_close(&a);
	hvt_rdma_close(&b);
	assert_int_equal(F.live, 0);
}

static void test_fixed_inline(void **state)
{
	struct hvt_rdma_ep ep;
	struct hvt_net_params p = params(2);

	(void)state;
	p.inline_size = 128; /* asked for more than the device takes: no silent downgrade */
	assert_int_equal(hvt_rdma_open(&ep, &fake_ops, HVT_RDMA_SEND_LAT, &p), -ENOMEM);
	hvt_rdma_close(&ep);
	p.inline_size = 0;
	assert_int_equal(hvt_rdma_open(&ep, &fake_ops, HVT_RDMA_SEND_LAT, &p), 0);
	assert_int_equal(ep.max_inline, 0);
	hvt_rdma_close(&ep);
	assert_int_equal(F.live, 0);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dest_roundtrip),
#if HVT_HAVE_VERBS_OPS
		cmocka_unit_test_setup(test_no_device, reset),
		cmocka_unit_test_setup(test_port_down_and_half_built, reset),
		cmocka_unit_test_setup(test_connect_states, reset),
		cmocka_unit_test_setup(test_send_pingpong, reset),
		cmocka_unit_test_setup(test_write_pingpong, reset),
		cmocka_unit_test_setup(test_bw_selective_signaling, reset),
		cmocka_unit_test_setup(test_error_completion, reset),
		cmocka_unit_test_setup(test_fixed_inline, reset),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
