/* SPDX-License-Identifier: MIT */
/* The driver: owns timing, warm-up, repetitions, pinning, side channels and output. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "driver.h"
#include "sidech.h"
#include "../common/schema.h"

static double clock_overhead_ns = -1;

double hvt_clock_overhead_ns(void)
{
	if (clock_overhead_ns < 0) {
		/* best of several batches: the cost of one read when nothing interferes */
		double best = 1e30;

		for (int b = 0; b < 20; b++) {
			uint64_t t0 = hvt_now_ns(), t1;

			for (int i = 0; i < 1000; i++)
				(void)hvt_now_ns();
			t1 = hvt_now_ns();
			if ((double)(t1 - t0) / 1001.0 < best)
				best = (double)(t1 - t0) / 1001.0;
		}
		clock_overhead_ns = best;
	}
	return clock_overhead_ns;
}

size_t hvt_nearest_rank(size_t n, double p)
{
	size_t rank;

	if (n == 0 || p <= 0)
		return 0;
	if (p >= 100)
		return n - 1;
	rank = (size_t)ceil(p / 100.0 * (double)n - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return rank - 1;
}

int hvt_rep_set(struct hvt_rep *rep, const char *metric, double value)
{
	for (size_t i = 0; i < rep->bench->nmetrics; i++) {
		if (strcmp(rep->bench->metrics[i].name, metric) == 0) {
			rep->values[i] = value;
			rep->isset[i] = 1;
			return 0;
		}
	}
	hvt_err("%s: internal: unknown metric '%s'", rep->bench->name, metric);
	return -ENOENT;
}

void hvt_rep_extra(struct hvt_rep *rep, const char *key, json_t *v)
{
	if (!v)
		return;
	if (!rep->extra)
		rep->extra = json_object();
	if (rep->extra)
		json_object_set_new(rep->extra, key, v);
	else
		json_decref(v);
}

void hvt_out_record(FILE *out, const char *type, json_t *rec)
{
	if (!rec)
		return;
	json_object_set_new(rec, "type", json_string(type));
	json_object_set_new(rec, "schema", json_integer(HVT_SCHEMA_VERSION));
	json_dumpf(rec, out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
	fputc('\n', out);
	fflush(out);
	json_decref(rec);
}

static json_t *metrics_json(const struct hvt_bench *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b->nmetrics; i++)
		json_array_append_new(
			a, json_pack("{s:s,s:s,s:s}", "name", b->metrics[i].name, "unit",
				     b->metrics[i].unit, "dir",
				     b->metrics[i].dir == HVT_HIGHER_IS_BETTER ? HVT_DIR_HIGHER
									       : HVT_DIR_LOWER));
	return a;
}

static json_t *case_head(const struct hvt_case *c)
{
	return json_pack("{s:s,s:s,s:O}", "bench", c->bench->name, "case", c->key, "params", c->echo);
}

static void out_error(struct hvt_driver *d, const struct hvt_case *c, int round, int err,
		      const char *msg, json_t *extra)
{
	json_t *rec = c ? case_head(c) : json_object();

	if (extra)
		json_object_set_new(rec, "extra", extra);
	json_object_set_new(rec, "message", json_string(msg));
	if (round >= 0)
		json_object_set_new(rec, "round", json_integer(round));
	if (err)
		json_object_set_new(rec, "errno", json_integer(err));
	hvt_out_record(d->out, HVT_REC_ERROR, rec);
	d->nerrors++;
}

int hvt_driver_init(struct hvt_driver *d, struct hvt_suite *s, FILE *out)
{
	json_t *plan, *cases;
	int fatal = 0;

	memset(d, 0, sizeof(*d));
	d->suite = s;
	d->out = out;
	d->t0_ns = hvt_now_ns();
	d->progress = !hvt_quiet;
	d->seed = s->set.seed ? s->set.seed : (hvt_now_ns() ^ ((uint64_t)getpid() << 32));
	hvt_rng_seed(&d->rng, d->seed);
	d->skip = hvt_calloc(s->ncases + 1, sizeof(*d->skip));
	if (!d->skip)
		return -ENOMEM;
	hvt_side_init();
	(void)hvt_clock_overhead_ns();

	cases = json_array();
	for (size_t i = 0; i < s->ncases; i++)
		json_array_append_new(cases, case_head(&s->cases[i]));
	plan = json_pack("{s:s,s:s?,s:i,s:i,s:f,s:f,s:I,s:o,s:f}", "suite", s->set.name, "suite_file",
			 s->path, "rounds", (int)s->set.rounds, "reps", (int)s->set.reps, "duration_s",
			 (double)s->set.duration_ns * 1e-9, "warmup_s", (double)s->set.warmup_ns * 1e-9,
			 "seed", (json_int_t)d->seed, "cases", cases, "estimated_s",
			 (double)s->ncases * s->set.rounds *
				 ((double)s->set.warmup_ns + (double)s->set.reps * (double)s->set.duration_ns) *
				 1e-9);
	hvt_out_record(out, HVT_REC_PLAN, plan);

	for (size_t i = 0; i < s->ncases; i++) {
		const struct hvt_case *c = &s->cases[i];
		char why[512] = "";
		int r = 0;

		if (c->bench->probe)
			r = c->bench->probe(c->params, why, sizeof(why));
		if (r == -EPERM) {
			hvt_err("%s: refused: %s", c->key, why[0] ? why : "not permitted");
			fatal = -EPERM;
		} else if (r) {
			json_t *rec = case_head(c);

			if (!why[0])
				snprintf(why, sizeof(why), "%s", strerror(-r));
			json_object_set_new(rec, "reason", json_string(why));
			hvt_out_record(out, HVT_REC_SKIP, rec);
			d->skip[i] = hvt_strdup(why);
			if (d->progress)
				hvt_info("skip %s: %s", c->key, why);
		} else {
			d->nrun++;
		}
	}
	return fatal;
}

/* One repetition: returns 0, or -errno from the benchmark. */
static int one_rep(const struct hvt_case *c, void *state, uint64_t dur_ns, int rep_idx, int warmup,
		   json_t *samples, char *msg, size_t msglen, json_t **fail_extra)
{
	const struct hvt_bench *b = c->bench;
	struct hvt_side_snap s0, s1;
	struct hvt_rep rep;
	double wall = hvt_wall_s();
	json_t *vals, *sample;
	int r;

	memset(&rep, 0, sizeof(rep));
	rep.bench = b;
	rep.values = hvt_calloc(b->nmetrics + 1, sizeof(double));
	rep.isset = hvt_calloc(b->nmetrics + 1, sizeof(int));
	if (!rep.values || !rep.isset) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b->nmetrics; i++)
		rep.values[i] = NAN;
	rep.duration_ns = dur_ns;
	if (hvt_side_counters == HVT_COUNTERS_ALL || (warmup && hvt_side_counters == HVT_COUNTERS_WARMUP))
		hvt_side_start();
	hvt_side_snap(&s0);
	rep.t_start_ns = hvt_now_ns();
	rep.deadline_ns = rep.t_start_ns + dur_ns;
	r = b->run(c->params, state, &rep);
	hvt_side_snap(&s1);
	hvt_side_stop();
	if (r) {
		snprintf(msg, msglen, "run failed: %s", strerror(-r));
		/* what the benchmark recorded about the failure (e.g. wrong elements) goes with the error */
		*fail_extra = rep.extra;
		rep.extra = NULL;
		goto out;
	}
	vals = json_object();
	for (size_t i = 0; i < b->nmetrics; i++) {
		if (!rep.isset[i]) {
			snprintf(msg, msglen, "internal: metric '%s' was not set", b->metrics[i].name);
			json_decref(vals);
			r = -EPROTO;
			goto out;
		}
		/* a non-finite value cannot be stored as JSON; null marks it */
		json_object_set_new(vals, b->metrics[i].name,
				    isfinite(rep.values[i]) ? json_real(rep.values[i]) : json_null());
	}
	sample = json_pack("{s:i,s:b,s:f,s:f,s:o,s:o}", "rep", rep_idx, "warmup", warmup, "t_start", wall,
			   "dur_s", (double)(s1.t_ns - rep.t_start_ns) * 1e-9, "values", vals, "side",
			   hvt_side_delta(&s0, &s1));
	if (rep.extra) {
		json_object_set_new(sample, "extra", rep.extra);
		rep.extra = NULL;
	}
	json_array_append_new(samples, sample);
out:
	json_decref(rep.extra);
	free(rep.values);
	free(rep.isset);
	return r;
}

static void run_case(struct hvt_driver *d, size_t ci, unsigned round)
{
	const struct hvt_case *c = &d->suite->cases[ci];
	const struct hvt_settings *set = &d->suite->set;
	void *state = NULL;
	json_t *rec, *samples = json_array(), *placement, *fail_extra = NULL;
	char msg[512] = "";
	int cpu = hvt_cpu_nth(0), r;

	/* single-threaded work runs on the first allowed CPU; teams pin themselves */
	if (cpu >= 0 && hvt_pin_self(cpu))
		cpu = -1;
	placement = json_pack("{s:i,s:i}", "main_cpu", cpu, "threads",
			      c->bench->nthreads ? (int)c->bench->nthreads(c->params) : 1);
	if (c->bench->setup) {
		r = c->bench->setup(c->params, &state);
		if (r) {
			snprintf(msg, sizeof(msg), "setup failed: %s", strerror(-r));
			out_error(d, c, (int)round, -r, msg, NULL);
			if (c->bench->teardown)
				c->bench->teardown(c->params, state);
			json_decref(samples);
			json_decref(placement);
			hvt_unpin_self();
			return;
		}
	}
	r = 0;
	if (set->warmup_ns)
		r = one_rep(c, state, set->warmup_ns, 0, 1, samples, msg, sizeof(msg), &fail_extra);
	for (unsigned k = 0; !r && k < set->reps; k++)
		r = one_rep(c, state, set->duration_ns, (int)k, 0, samples, msg, sizeof(msg), &fail_extra);
	if (c->bench->teardown)
		c->bench->teardown(c->params, state);
	hvt_unpin_self();
	/* what was measured before a failure is kept */
	if (json_array_size(samples)) {
		rec = case_head(c);
		json_object_set_new(rec, "metrics", metrics_json(c->bench));
		json_object_set_new(rec, "round", json_integer(round));
		json_object_set_new(rec, "placement", placement);
		placement = NULL;
		json_object_set_new(rec, "samples", samples);
		samples = NULL;
		hvt_out_record(d->out, HVT_REC_RESULT, rec);
	}
	if (r) {
		out_error(d, c, (int)round, r < 0 ? -r : r, msg, fail_extra);
		fail_extra = NULL;
	}
	json_decref(fail_extra);
	json_decref(samples);
	json_decref(placement);
}

int hvt_driver_round(struct hvt_driver *d, unsigned k)
{
	size_t n = d->suite->ncases, m = 0;
	size_t *order = hvt_calloc(n + 1, sizeof(*order));
	uint64_t t0 = hvt_now_ns();

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!d->skip[i])
			order[m++] = i;
	/* Fisher-Yates: a fresh order every round spreads drift over all cases */
	for (size_t i = m; i > 1; i--) {
		size_t j = (size_t)hvt_rng_below(&d->rng, i);
		size_t t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < m; i++)
		run_case(d, order[i], k);
	if (d->progress)
		hvt_info("round %u/%u done: %zu cases in %.1fs (%.1fs elapsed)", k + 1, d->suite->set.rounds, m,
			 (double)(hvt_now_ns() - t0) * 1e-9, (double)(hvt_now_ns() - d->t0_ns) * 1e-9);
	free(order);
	return 0;
}

void hvt_driver_finish(struct hvt_driver *d, const char *status)
{
	char iso[64];

	hvt_fmt_iso8601(iso, sizeof(iso), hvt_wall_s());
	hvt_out_record(d->out, HVT_REC_END,
		       json_pack("{s:s,s:s,s:f,s:i}", "status", status, "time", iso, "wall_s",
				 (double)(hvt_now_ns() - d->t0_ns) * 1e-9, "errors", (int)d->nerrors));
	if (d->skip)
		for (size_t i = 0; i < d->suite->ncases; i++)
			free(d->skip[i]);
	free(d->skip);
	d->skip = NULL;
}
