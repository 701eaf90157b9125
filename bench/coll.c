/* SPDX-License-Identifier: MIT */
/* The coll family: AllReduce over NCCL (local GPUs, and ranks under MPI) or MPI on host memory. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "core.h"
#include "families.h"
#include "gpu.h"
#include "ranks.h"

/* ---- arithmetic (coll.h) ---- */

int hvt_coll_dtype_parse(const char *name, enum hvt_coll_dtype *t)
{
	static const char *const names[] = {"float", "double", "half", "bfloat16"};

	for (size_t i = 0; i < HVT_ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*t = (enum hvt_coll_dtype)i;
			return 0;
		}
	}
	return -EINVAL;
}

size_t hvt_coll_dtype_size(enum hvt_coll_dtype t)
{
	switch (t) {
	case HVT_COLL_DOUBLE:
		return 8;
	case HVT_COLL_HALF:
	case HVT_COLL_BF16:
		return 2;
	case HVT_COLL_FLOAT:
	default:
		return 4;
	}
}

double hvt_coll_busbw_factor(int n)
{
	/* nccl-tests, doc/PERFORMANCE.md, AllReduce: busBw = algBw * 2*(n-1)/n */
	return n > 0 ? 2.0 * (double)(n - 1) / (double)n : 0.0;
}

double hvt_coll_algbw(uint64_t bytes, double t_s)
{
	/* nccl-tests: algBw = S / t, S = count * sizeof(element) of one rank's buffer */
	return t_s > 0 ? (double)bytes / t_s : NAN;
}

double hvt_coll_busbw(uint64_t bytes, double t_s, int n)
{
	return hvt_coll_algbw(bytes, t_s) * hvt_coll_busbw_factor(n);
}

uint16_t hvt_half_from_float(float f)
{
	uint32_t x, sign, mant;
	int32_t exp;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000u;
	exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
	mant = x & 0x7fffffu;
	if (((x >> 23) & 0xff) == 0xff) /* inf, nan */
		return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
	if (exp >= 31)
		return (uint16_t)(sign | 0x7c00u);
	if (exp <= 0) { /* subnormal half, or zero */
		uint32_t m = mant | 0x800000u, shift = (uint32_t)(14 - exp), h, rem, half;

		if (exp < -10)
			return (uint16_t)sign;
		h = m >> shift;
		rem = m & ((1u << shift) - 1);
		half = 1u << (shift - 1);
		if (rem > half || (rem == half && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	{
		uint32_t h = ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1fffu;

		if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
			h++; /* may carry into the exponent: still right, up to inf */
		return (uint16_t)(sign | h);
	}
}

float hvt_half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, x;
	float f;

	if (exp == 0) {
		/* zero or subnormal: mant * 2^-24 */
		f = (float)mant * 0x1p-24f;
		return sign ? -f : f;
	}
	if (exp == 31)
		x = sign | 0x7f800000u | (mant << 13);
	else
		x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
	memcpy(&f, &x, sizeof(f));
	return f;
}

uint16_t hvt_bf16_from_float(float f)
{
	uint32_t x;

	memcpy(&x, &f, sizeof(x));
	if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu))
		return (uint16_t)((x >> 16) | 0x40u); /* quiet nan */
	x += 0x7fffu + ((x >> 16) & 1);		      /* round to nearest even */
	return (uint16_t)(x >> 16);
}

float hvt_bf16_to_float(uint16_t b)
{
	uint32_t x = (uint32_t)b << 16;
	float f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

void hvt_coll_fill(void *buf, size_t count, enum hvt_coll_dtype t, int rank)
{
	unsigned ph = (unsigned)rank % 3;

	for (size_t i = 0; i < count; i++) {
		float v = (float)((ph + i % 3) % 3 + 1);

		switch (t) {
		case HVT_COLL_FLOAT:
			((float *)buf)[i] = v;
			break;
		case HVT_COLL_DOUBLE:
			((double *)buf)[i] = v;
			break;
		case HVT_COLL_HALF:
			((uint16_t *)buf)[i] = hvt_half_from_float(v);
			break;
		case HVT_COLL_BF16:
			((uint16_t *)buf)[i] = hvt_bf16_from_float(v);
			break;
		}
	}
}

int hvt_coll_check_exact(enum hvt_coll_dtype t, int n)
{
	/* integers are exact up to 2^(significand bits): bf16 8, half 11, float 24, double 53 */
	static const double lim[] = {16777216.0, 9007199254740992.0, 2048.0, 256.0};

	return n >= 1 && 3.0 * n <= lim[t];
}

uint64_t hvt_coll_check(const void *buf, size_t count, enum hvt_coll_dtype t, int n)
{
	double want[3] = {0, 0, 0};
	uint64_t wrong = 0;

	/* the expected sum depends on i mod 3 only */
	for (int r = 0; r < n; r++)
		for (unsigned k = 0; k < 3; k++)
			want[k] += (double)(((unsigned)r + k) % 3 + 1);
	for (size_t i = 0; i < count; i++) {
		double v = 0;

		switch (t) {
		case HVT_COLL_FLOAT:
			v = ((const float *)buf)[i];
			break;
		case HVT_COLL_DOUBLE:
			v = ((const double *)buf)[i];
			break;
		case HVT_COLL_HALF:
			v = hvt_half_to_float(((const uint16_t *)buf)[i]);
			break;
		case HVT_COLL_BF16:
			v = hvt_bf16_to_float(((const uint16_t *)buf)[i]);
			break;
		}
		wrong += v != want[i % 3];
	}
	return wrong;
}

/* ---- coll.allreduce ---- */

struct ar_params {
	const char *backend;
	const char *dtype;
	uint64_t size;
	int inplace;
	int64_t iters;
	int64_t gpus;
	const char *combine;
	int check;
};

static const char *const ar_backends[] = {"auto", "nccl", "mpi", NULL};
static const char *const ar_dtypes[] = {"float", "double", "half", "bfloat16", NULL};
static const char *const ar_combines[] = {"max", "avg", "min", "rank0", NULL};

static const struct hvt_param ar_params[] = {
    {"backend", HVT_P_CHOICE, offsetof(struct ar_params, backend), "auto", 0, -1, ar_backends,
     "nccl: GPU buffers, all local GPUs (and ranks under MPI); mpi: MPI_Allreduce on host "
     "memory; auto: nccl where every rank has a GPU, else mpi"},
    {"dtype", HVT_P_CHOICE, offsetof(struct ar_params, dtype), "float", 0, -1, ar_dtypes,
     "element type, summed (half and bfloat16 with nccl only)"},
    {"size", HVT_P_SIZE, offsetof(struct ar_params, size), "1MiB", 8, 17179869184.0, NULL,
     "bytes per rank's buffer (count x element size); sweep as 8..1GiB*2"},
    {"inplace", HVT_P_BOOL, offsetof(struct ar_params, inplace), "0", 0, -1, NULL,
     "receive into the send buffer (nccl-tests' in-place column)"},
    {"iters", HVT_P_INT, offsetof(struct ar_params, iters), "0", 0, 1e9, NULL,
     "AllReduces per timed batch; 0 = auto (batches of about 1/10 of the duration, 1..50 ms)"},
    {"gpus", HVT_P_INT, offsetof(struct ar_params, gpus), "0", 0, 1024, NULL,
     "nccl: GPUs per process; 0 = all local GPUs (one per rank under MPI)"},
    {"combine", HVT_P_CHOICE, offsetof(struct ar_params, combine), "max", 0, -1, ar_combines,
     "how ranks' times combine: max (slowest rank), avg (nccl-tests -a 1), min, rank0"},
    {"check", HVT_P_BOOL, offsetof(struct ar_params, check), "1", 0, -1, NULL,
     "verify the reduced values after every repetition (wrong elements fail the case)"},
};

static const struct hvt_metric ar_metrics[] = {
    {"time", "s", HVT_LOWER_IS_BETTER, "time of one AllReduce (ranks combined as 'combine')"},
    {"algbw", "B/s", HVT_HIGHER_IS_BETTER, "nccl-tests algbw: size / time"},
    {"busbw", "B/s", HVT_HIGHER_IS_BETTER, "nccl-tests busbw: algbw x 2(n-1)/n, n ranks (GPUs)"},
};

enum ar_backend { AR_MPI, AR_NCCL };

struct ar_state {
	enum ar_backend backend;
	enum hvt_coll_dtype dtype;
	enum hvt_combine combine;
	uint64_t count, bytes;
	int n;	       /* participants: MPI ranks, or NCCL ranks (GPUs) */
	int64_t iters; /* per batch; grows while auto-calibrating */
	void *send, *recv;
	struct hvt_nccl_ar *nccl;
};

/*
 * Which backend runs, decided the same way on every rank: probe and setup
 * of every case run on every rank in the same order, so the collective
 * calls here meet. auto takes NCCL only when every rank can.
 */
static int ar_resolve(const struct ar_params *p, enum ar_backend *be, char *why, size_t len)
{
	char nwhy[256] = "";
	int nccl_ok, all;

	nccl_ok = hvt_nccl_ar_probe(nwhy, sizeof(nwhy)) == 0;
	all = hvt_ranks_all(nccl_ok);
	if (strcmp(p->backend, "nccl") == 0 || (strcmp(p->backend, "auto") == 0 && all)) {
		if (!all) {
			if (!nccl_ok)
				snprintf(why, len, "%s", nwhy);
			else
				snprintf(why, len, "no CUDA device on some of the %d ranks",
					 hvt_nranks());
			return -ENODEV;
		}
		*be = AR_NCCL;
		return 0;
	}
	if (!hvt_ranks_mpi()) {
		if (strcmp(p->backend, "auto") == 0)
			snprintf(why, len,
				 "%s, and this hvtax-bench is built without MPI "
				 "(run hvtax-bench-mpi under mpirun)",
				 nwhy);
		else
			snprintf(why, len, "built without MPI: run hvtax-bench-mpi under mpirun");
		return -EOPNOTSUPP;
	}
	*be = AR_MPI;
	return 0;
}

static int ar_probe(const void *params, char *why, size_t len)
{
	const struct ar_params *p = params;
	enum hvt_coll_dtype t;
	enum ar_backend be;
	int r = ar_resolve(p, &be, why, len);

	if (r)
		return r;
	if (hvt_coll_dtype_parse(p->dtype, &t))
		return -EINVAL;
	if (p->size < hvt_coll_dtype_size(t)) {
		snprintf(why, len, "size %llu is smaller than one %s", (unsigned long long)p->size,
			 p->dtype);
		return -EINVAL;
	}
	if (be == AR_MPI && (t == HVT_COLL_HALF || t == HVT_COLL_BF16)) {
		snprintf(why, len, "the mpi backend sums float and double; %s needs nccl",
			 p->dtype);
		return -EOPNOTSUPP;
	}
	if (be == AR_MPI && p->size / hvt_coll_dtype_size(t) > 2147483647ull) {
		snprintf(why, len, "MPI counts are int: at most 2^31-1 elements");
		return -EOPNOTSUPP;
	}
	return 0;
}

static enum hvt_combine combine_of(const char *s)
{
	if (strcmp(s, "avg") == 0)
		return HVT_COMBINE_AVG;
	if (strcmp(s, "min") == 0)
		return HVT_COMBINE_MIN;
	if (strcmp(s, "rank0") == 0)
		return HVT_COMBINE_RANK0;
	return HVT_COMBINE_MAX;
}

static int ar_setup_local(const struct ar_params *p, struct ar_state *s, char *why, size_t len)
{
	if (s->backend == AR_NCCL) {
		struct hvt_nccl_ar_cfg cfg = {.dtype = s->dtype,
					      .count = s->count,
					      .inplace = p->inplace,
					      .gpus = (int)p->gpus};
		int r = hvt_nccl_ar_setup(&s->nccl, &cfg, why, len);

		if (!r)
			s->n = hvt_nccl_ar_nranks(s->nccl);
		return r;
	}
	s->n = hvt_nranks();
	/*
	 * Page-aligned, whole pages, touched by the fill: the same layout every
	 * run, whatever the heap held before (send and recv at a heap-dependent
	 * distance gave a 4 KiB copy 59 or 75 ns from one process to the next).
	 */
	s->send = aligned_alloc(4096, (s->bytes + 4095) & ~(uint64_t)4095);
	if (!p->inplace)
		s->recv = aligned_alloc(4096, (s->bytes + 4095) & ~(uint64_t)4095);
	if (!s->send || (!p->inplace && !s->recv)) {
		snprintf(why, len, "cannot allocate 2 x %llu bytes", (unsigned long long)s->bytes);
		return -ENOMEM;
	}
	hvt_coll_fill(s->send, s->count, s->dtype, hvt_rank());
	if (s->recv)
		memset(s->recv, 0, s->bytes);
	return 0;
}

static int ar_setup(const void *params, void **state)
{
	const struct ar_params *p = params;
	struct ar_state *s = hvt_calloc(1, sizeof(*s));
	char why[512] = "";
	int r;

	if (!s) {
		(void)hvt_ranks_all(0); /* the other ranks wait for this answer */
		return -ENOMEM;
	}
	*state = s;
	s->combine = combine_of(p->combine);
	s->iters = p->iters;
	r = ar_resolve(p, &s->backend, why, sizeof(why));
	if (!r)
		r = hvt_coll_dtype_parse(p->dtype, &s->dtype);
	if (!r) {
		s->count = p->size / hvt_coll_dtype_size(s->dtype);
		s->bytes = s->count * hvt_coll_dtype_size(s->dtype);
		r = ar_setup_local(p, s, why, sizeof(why));
	}
	/* every rank fails together, or none enters the first collective alone */
	if (!hvt_ranks_all(r == 0)) {
		if (r)
			hvt_err("coll.allreduce: rank %d: %s", hvt_rank(),
				why[0] ? why : strerror(-r));
		return r ? r : -EREMOTEIO;
	}
	return 0;
}

static void ar_teardown(const void *params, void *state)
{
	struct ar_state *s = state;

	(void)params;
	if (!s)
		return;
	hvt_nccl_ar_free(s->nccl);
	free(s->send);
	free(s->recv);
	free(s);
}

static int mpi_batch(struct ar_state *s, int64_t iters, double *t_s)
{
	enum hvt_rdtype t = s->dtype == HVT_COLL_DOUBLE ? HVT_RD_DOUBLE : HVT_RD_FLOAT;
	uint64_t t0 = hvt_now_ns();
	int r = hvt_ranks_allreduce_loop(s->send, s->recv, s->count, t, iters);

	*t_s = (double)(hvt_now_ns() - t0) * 1e-9;
	return r;
}

static int ar_check(struct ar_state *s, uint64_t *wrong)
{
	int r;

	if (s->backend == AR_NCCL)
		return hvt_nccl_ar_check(s->nccl, wrong);
	hvt_coll_fill(s->send, s->count, s->dtype, hvt_rank());
	r = hvt_ranks_allreduce_sum(s->send, s->recv, s->count,
				    s->dtype == HVT_COLL_DOUBLE ? HVT_RD_DOUBLE : HVT_RD_FLOAT);
	if (r)
		return r;
	*wrong = hvt_coll_check(s->recv ? s->recv : s->send, s->count, s->dtype, s->n);
	return 0;
}

static int ar_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct ar_params *p = params;
	struct ar_state *s = state;
	/* auto batches: long enough that the untimed step between batches is noise */
	uint64_t target_ns = rep->duration_ns / 10;
	int64_t iters = s->iters ? s->iters : 1, done = 0;
	double t_sum = 0, t, t_one;
	uint64_t wrong = 0;
	int r = 0, ok;

	if (target_ns < 1000000)
		target_ns = 1000000;
	if (target_ns > 50000000)
		target_ns = 50000000;
	/*
	 * Start the repetition together, as nccl-tests and a bare loop do: the
	 * ranks come out of the untimed work between repetitions (samples, rank
	 * 0's output, the check) at different times, and without this the first
	 * batch of the earlier rank would time its wait for the later one.
	 */
	if (hvt_ranks_barrier())
		return -EIO;
	for (;;) {
		/* the step: an error on any rank; rank 0's "stop" and next batch size */
		int64_t step[3] = {0, 0, 0};
		double tb = 0;

		if (s->backend == AR_NCCL)
			r = hvt_nccl_ar_batch(s->nccl, iters, &tb);
		else
			r = mpi_batch(s, iters, &tb);
		step[0] = r != 0;
		if (!r) {
			t_sum += tb;
			done += iters;
		}
		if (hvt_rank() == 0) {
			step[2] = iters;
			if (!p->iters && tb * 1e9 < (double)target_ns && iters < (int64_t)1 << 40)
				step[2] *= tb * 1e9 < (double)target_ns / 8 ? 8 : 2;
			step[1] = hvt_rep_done(rep);
		}
		/*
		 * One small AllReduce(max) per batch, outside the timed part: rank 0's
		 * clock ends the repetition for all (a rank stopping on its own clock
		 * would leave the others in an AllReduce forever), an error anywhere
		 * stops everyone, and the ranks leave it together for the next batch.
		 */
		if (hvt_ranks_max_i64(step, 3)) {
			r = -EIO;
			break;
		}
		if (step[0]) {
			if (!r)
				r = -EREMOTEIO;
			break;
		}
		if (step[1])
			break;
		iters = step[2];
	}
	if (r)
		return r;
	s->iters = p->iters ? p->iters : iters;
	t_one = t_sum / (double)done;
	/* nccl-tests reports one time per size: each rank's mean, combined over ranks */
	t = hvt_ranks_combine(t_one, s->combine);
	hvt_rep_set(rep, "time", t);
	hvt_rep_set(rep, "algbw", hvt_coll_algbw(s->bytes, t));
	hvt_rep_set(rep, "busbw", hvt_coll_busbw(s->bytes, t, s->n));
	hvt_rep_extra(rep, "coll",
		      json_pack("{s:s,s:i,s:i,s:I,s:I,s:I,s:s,s:f,s:s}", "backend",
				s->backend == AR_NCCL ? "nccl" : "mpi", "ranks", hvt_nranks(), "n",
				s->n, "bytes", (json_int_t)s->bytes, "count", (json_int_t)s->count,
				"iters", (json_int_t)done, "time_combine", p->combine,
				"busbw_factor", hvt_coll_busbw_factor(s->n), "timer",
				s->backend == AR_NCCL ? "cuda_events" : "clock_monotonic_raw"));
	if (!strcmp(p->backend, "auto"))
		hvt_rep_extra(rep, "resolved", json_pack("{s:s}", "backend",
							 s->backend == AR_NCCL ? "nccl" : "mpi"));
	if (s->backend == AR_NCCL)
		hvt_rep_extra(rep, "nccl", hvt_nccl_ar_describe(s->nccl));
	else if (hvt_ranks_library())
		hvt_rep_extra(rep, "mpi", json_string(hvt_ranks_library()));
	if (p->check && !hvt_coll_check_exact(s->dtype, s->n)) {
		hvt_rep_extra(rep, "check",
			      json_sprintf("skipped: sums over %d ranks are not exact in %s", s->n,
					   p->dtype));
	} else if (p->check) {
		r = ar_check(s, &wrong);
		ok = hvt_ranks_all(r == 0);
		if (!ok)
			return r ? r : -EREMOTEIO;
		wrong = hvt_ranks_sum_u64(wrong);
		hvt_rep_extra(rep, "wrong_elements", json_integer((json_int_t)wrong));
		if (wrong) {
			if (hvt_rank() == 0)
				hvt_err("coll.allreduce: %llu of %llu elements wrong after the sum "
					"over %d ranks",
					(unsigned long long)wrong,
					(unsigned long long)s->count * (unsigned long long)s->n,
					s->n);
			return -EIO;
		}
	}
	return 0;
}

const struct hvt_bench hvt_bench_coll_allreduce = {
    .name = "coll.allreduce",
    .help = "AllReduce (sum) bandwidth, nccl-tests' algbw and busbw: NCCL on GPUs or MPI on host "
	    "memory",
    .params = ar_params,
    .nparams = HVT_ARRAY_SIZE(ar_params),
    .params_size = sizeof(struct ar_params),
    .metrics = ar_metrics,
    .nmetrics = HVT_ARRAY_SIZE(ar_metrics),
    .probe = ar_probe,
    .setup = ar_setup,
    .run = ar_run,
    .teardown = ar_teardown,
};
