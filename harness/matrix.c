/* SPDX-License-Identifier: MIT */
/* hvtax matrix: targets kept up side by side, rounds interleaved, paired taxes against host. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "child.h"
#include "compare.h"
#include "matrix.h"
#include "netpair.h"
#include "opts.h"
#include "runs.h"
#include "store.h"
#include "target.h"
#include "../bench/suite.h"
#include "../common/units.h"
#include "../common/util.h"

struct slot {
	struct hvt_target t;
	struct hvt_ingest *in;
	int inited, live, failed, skipped, saw_end, bad;
	int restarted;	    /* a round timed out and the target was started again (once) */
	int replay;	    /* a restarted agent's fingerprint and plan are not stored twice */
	int64_t run_id;
	double busy_s; /* time spent in rounds, for the progress line */
	json_t *peer_facts; /* --peer-target: where its net cases' server is */
	char **extra;	    /* --peer ADDR:PORT and the matrix's extra arguments */
	char peer[300];
	unsigned ndone;	    /* cases reported (result, skip, error) in the current round */
	char last_case[256]; /* the last of them, to say where a round that times out stood */
};

static int record_type(const char *line, const char *type)
{
	char pat[48];

	snprintf(pat, sizeof(pat), "\"type\":\"%s\"", type);
	return strstr(line, pat) != NULL;
}

/* Store one line; a bad record is kept as an error of the run, the rest still counts. */
static int feed(struct slot *s, const char *line)
{
	int r;

	if (s->replay && (record_type(line, "fingerprint") || record_type(line, "plan"))) {
		s->replay = !record_type(line, "plan");
		return 0;
	}
	r = hvt_ingest_line(s->in, line, s->t.lineno);

	if (record_type(line, "end"))
		s->saw_end = 1;
	if (record_type(line, "result") || record_type(line, "skip") || record_type(line, "error")) {
		json_t *j = json_loads(line, 0, NULL);
		const char *c = json_string_value(json_object_get(j, "case"));

		s->ndone++;
		snprintf(s->last_case, sizeof(s->last_case), "%s", c ? c : "?");
		json_decref(j);
	}
	if (r == -EINVAL) {
		s->bad++;
		return 0;
	}
	return r;
}

/*
 * A hint of what went wrong inside: the engine's stderr, or the guest console's last lines
 * (a stalled TCG guest showed only "hvtax-init: starting agent" there: what the kernel
 * says before it, hung tasks and RCU stalls at loglevel 4, is what tells why).
 */
static void tail_hint(struct slot *s, char *buf, size_t len)
{
	char t[1024] = "";

	hvt_target_stderr_tail(&s->t, t, sizeof(t));
	if (!t[0] && s->t.console[0]) {
		char c[1000];

		hvt_target_console_tail(&s->t, 12, c, sizeof(c));
		if (c[0])
			snprintf(t, sizeof(t), "console: %s", c);
	}
	snprintf(buf, len, "%s%s", t[0] ? "; " : "", t);
}

/* Stop the target and store its run as failed with `msg` and what arrived. */
static void fail_slot(struct slot *s, const char *msg)
{
	char hint[1100];

	tail_hint(s, hint, sizeof(hint));
	hvt_target_stop(&s->t, 2 * HVT_TARGET_S);
	if (!s->in) {
		hvt_err("%s: %s%s", s->t.name, msg, hint);
		s->failed = 1;
		s->live = 0;
		return;
	}
	{
		char *full = hvt_asprintf("%s: %s%s", s->t.name, msg, hint);

		hvt_err("%s", full ? full : msg);
		hvt_ingest_error(s->in, full ? full : msg);
		free(full);
	}
	s->run_id = hvt_ingest_commit(s->in, "failed");
	s->in = NULL;
	s->failed = 1;
	s->live = 0;
	if (s->run_id > 0)
		hvt_info("%s: stored run %lld (failed)", s->t.name, (long long)s->run_id);
}

/*
 * Read and store records until one for which `until` holds. 1 found, 0 timed
 * out, -EPIPE ended, -EINTR interrupted, other -errno store errors.
 */
static int pump(struct slot *s, uint64_t deadline, int (*until)(const char *line, long k), long k)
{
	for (;;) {
		const char *line;
		int r = hvt_target_read(&s->t, deadline, &line);

		if (r <= 0)
			return r;
		r = feed(s, line);
		if (r)
			return r;
		if (until(line, k))
			return 1;
	}
}

static int is_plan(const char *line, long k)
{
	(void)k;
	return record_type(line, "plan") || record_type(line, "end");
}

static int is_round(const char *line, long k)
{
	json_t *j, *v;
	int hit = 0;

	if (record_type(line, "end"))
		return 1;
	if (!record_type(line, "round"))
		return 0;
	j = json_loads(line, 0, NULL);
	v = json_object_get(j, "round");
	hit = json_is_integer(v) && json_integer_value(v) == k;
	json_decref(j);
	return hit;
}

static int is_end(const char *line, long k)
{
	(void)k;
	return record_type(line, "end");
}

static void describe_exit(struct slot *s, char *buf, size_t len)
{
	if (!s->t.reaped)
		hvt_target_wait(&s->t, 2 * HVT_TARGET_S);
	if (s->t.reaped)
		hvt_child_describe(s->t.status, buf, len);
	else
		snprintf(buf, len, "closed its output");
}

/* What a slot's agent is started with: the matrix's launch, with the slot's own arguments. */
static struct hvt_launch slot_launch(const struct slot *s, const struct hvt_launch *l)
{
	struct hvt_launch li = *l;

	if (s->extra)
		li.extra = s->extra;
	return li;
}

/* Wait for the agent's plan: 0 when it came; otherwise the slot is failed (-EINTR: interrupted). */
static int await_plan(struct slot *s, const char *who)
{
	char msg[512], how[128];
	int r = pump(s, hvt_now_ns() + s->t.conf.start_timeout_ns, is_plan, 0);

	if (r == 1 && !s->saw_end)
		return 0;
	if (r == 1) {
		snprintf(msg, sizeof(msg), "%s ended before its first round (see the run's errors)", who);
	} else if (r == 0) {
		snprintf(msg, sizeof(msg), "no plan from %s within %.0fs", who,
			 (double)s->t.conf.start_timeout_ns * 1e-9);
	} else if (r == -EPIPE) {
		describe_exit(s, how, sizeof(how));
		snprintf(msg, sizeof(msg), "%s %s before its plan", who, how);
	} else {
		fail_slot(s, r == -EINTR ? "interrupted" : "cannot store its records");
		return r == -EINTR ? r : -EIO;
	}
	fail_slot(s, msg);
	return -EIO;
}

static int start_slot(struct slot *s, struct hvt_store *st, const struct hvt_matrix_opts *o,
		      const struct hvt_launch *l, const char *suite_name)
{
	struct hvt_run_meta m = { .target = s->t.name, .suite = suite_name, .source = s->t.name };
	char *label = NULL, msg[1400];
	int r;

	if (o->label)
		label = hvt_strdup(o->label);
	else if (o->label_prefix && *o->label_prefix)
		label = hvt_asprintf("%s-%s", o->label_prefix, s->t.name);
	else
		label = hvt_strdup(s->t.name);
	m.label = label;
	if (s->peer_facts)
		json_object_set(s->t.facts, "net_peer", s->peer_facts);
	r = hvt_target_start(&s->t, l);
	if (r == -ENODEV) {
		/* this host cannot run the target: skipped, nothing stored */
		hvt_warn("%s: skipped: %s", s->t.name, s->t.why);
		hvt_target_stop(&s->t, HVT_TARGET_S);
		s->skipped = 1;
		free(label);
		return 0;
	}
	s->in = hvt_ingest_begin(st, &m);
	free(label);
	if (!s->in) {
		hvt_target_stop(&s->t, HVT_TARGET_S);
		s->run_id = -1;
		s->failed = 1;
		return -EIO;
	}
	if (r) {
		snprintf(msg, sizeof(msg), "cannot start: %s", s->t.why);
		fail_slot(s, msg);
		return 0;
	}
	s->live = 1;
	hvt_info("%s: started; waiting for its agent (up to %.0fs)", s->t.name,
		 (double)s->t.conf.start_timeout_ns * 1e-9);
	r = await_plan(s, "the agent");
	return r == -EINTR ? r : 0;
}

/*
 * A round timed out with rounds still to come: keep the run, say so in it, and
 * start the target again for the rest (once per target; a second timeout fails
 * it). A TCG guest that stalls once otherwise costs every round after it.
 * 0 restarted; otherwise the slot has been failed (-EINTR when interrupted).
 */
static int restart_slot(struct slot *s, const struct hvt_launch *l, const char *msg)
{
	char hint[1100], why[1100];
	char *full;
	int r;

	tail_hint(s, hint, sizeof(hint));
	full = hvt_asprintf("%s: %s%s; the target was restarted for the rounds after it", s->t.name,
			    msg, hint);
	hvt_warn("%s", full ? full : msg);
	hvt_ingest_error(s->in, full ? full : msg);
	free(full);
	s->restarted = 1;
	hvt_target_stop(&s->t, 2 * HVT_TARGET_S);
	r = hvt_target_start(&s->t, l);
	if (r) {
		snprintf(why, sizeof(why), "cannot restart: %s", s->t.why);
		fail_slot(s, why);
		return r;
	}
	hvt_info("%s: restarted; waiting for its agent (up to %.0fs)", s->t.name,
		 (double)s->t.conf.start_timeout_ns * 1e-9);
	s->replay = 1;
	return await_plan(s, "the restarted agent");
}

static void finish_slot(struct slot *s)
{
	char msg[256] = "", how[128];
	const char *status = "ok";
	int r;

	if (!s->live)
		return;
	if (hvt_target_send(&s->t, "end") == 0)
		r = pump(s, hvt_now_ns() + s->t.conf.stop_timeout_ns, is_end, 0);
	else
		r = -EPIPE;
	if (r != 1 && !s->saw_end) {
		snprintf(msg, sizeof(msg), "no end record within %.0fs of 'end'",
			 (double)s->t.conf.stop_timeout_ns * 1e-9);
		fail_slot(s, msg);
		return;
	}
	/* a guest must power off by itself; one that does not is killed, and that is a failure */
	if (!hvt_target_wait(&s->t, s->t.conf.stop_timeout_ns)) {
		snprintf(msg, sizeof(msg), "%s within %.0fs after its end record; killed",
			 strcmp(s->t.ops->kind, "vm") ? "did not exit" : "the guest did not power off",
			 (double)s->t.conf.stop_timeout_ns * 1e-9);
		fail_slot(s, msg);
		return;
	}
	describe_exit(s, how, sizeof(how));
	if (hvt_ingest_end_status(s->in) && strcmp(hvt_ingest_end_status(s->in), "ok"))
		status = "failed";
	if (s->restarted)
		status = "failed"; /* a round is incomplete: the run says so, its other rounds count */
	if (s->t.damaged) {
		snprintf(msg, sizeof(msg), "%u records arrived damaged and were dropped", s->t.damaged);
		hvt_ingest_error(s->in, msg);
		status = "failed";
	}
	if (s->bad) {
		snprintf(msg, sizeof(msg), "%d malformed records were not stored", s->bad);
		hvt_ingest_error(s->in, msg);
		status = "failed";
	}
	hvt_target_stop(&s->t, 2 * HVT_TARGET_S);
	s->run_id = hvt_ingest_commit(s->in, status);
	s->in = NULL;
	s->live = 0;
	if (strcmp(status, "ok"))
		s->failed = 1;
	if (s->run_id > 0)
		hvt_info("%s: stored run %lld (%s)", s->t.name, (long long)s->run_id, status);
	else
		s->failed = 1;
}

static uint64_t round_timeout(const struct hvt_suite *su, size_t ncases_guess)
{
	double n = su->ncases ? (double)su->ncases : (double)ncases_guess;
	double est = n * ((double)su->set.warmup_ns + (double)su->set.reps * (double)su->set.duration_ns);

	/* time-bounded cases keep even an emulated guest near this; set-up (files) is not bounded */
	return (uint64_t)(5 * est) + 120 * HVT_TARGET_S;
}

int hvt_matrix_run(const struct hvt_matrix_opts *o, int64_t *run_ids)
{
	struct hvt_suite su;
	struct hvt_store st;
	struct slot *slots;
	struct hvt_launch l = { .benches = o->benches, .extra = o->extra };
	struct hvt_netpair pair;
	unsigned rounds;
	uint64_t rto;
	int rc = HVT_EXIT_OK, have_suite = 0, interrupted = 0;

	memset(&su, 0, sizeof(su));
	memset(&st, 0, sizeof(st));
	memset(&pair, 0, sizeof(pair));
	hvt_settings_default(&su.set);
	if (o->suite) {
		if (hvt_suite_load(o->suite, &su))
			return HVT_EXIT_USAGE;
		have_suite = 1;
		l.suite_path = su.path;
	}
	rounds = o->rounds ? o->rounds : su.set.rounds;
	rto = o->round_timeout_ns ? o->round_timeout_ns : round_timeout(&su, 4);
	slots = hvt_calloc(o->ntargets, sizeof(*slots));
	if (!slots) {
		rc = HVT_EXIT_FAIL;
		goto out_suite;
	}
	for (size_t i = 0; i < o->ntargets; i++) {
		run_ids[i] = 0;
		if (hvt_target_init(&slots[i].t, o->targets[i], o->conf_files, o->payload)) {
			rc = HVT_EXIT_USAGE;
			goto out_slots;
		}
		slots[i].inited = 1;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(slots[j].t.name, slots[i].t.name)) {
				hvt_err("target '%s' given twice", slots[i].t.name);
				rc = HVT_EXIT_USAGE;
				goto out_slots;
			}
	}
	if (o->peer_target) {
		if (hvt_netpair_init(&pair, o->peer_target, o->conf_files, o->payload,
				     o->peer_port ? o->peer_port : HVT_NETPAIR_PORT, o->peer_addr)) {
			rc = HVT_EXIT_USAGE;
			goto out_slots;
		}
		for (size_t i = 0; i < o->ntargets; i++)
			hvt_netpair_prepare_client(&pair, &slots[i].t);
	}
	if (hvt_store_open(&st, o->db)) {
		rc = HVT_EXIT_FAIL;
		goto out_slots;
	}
	hvt_target_catch_signals();
	if (o->peer_target) {
		size_t nx = hvt_launch_nextra(&l);

		if (hvt_netpair_start(&pair)) {
			rc = HVT_EXIT_FAIL;
			hvt_store_close(&st);
			goto out_slots;
		}
		for (size_t i = 0; i < o->ntargets; i++) {
			struct slot *s = &slots[i];

			s->extra = hvt_calloc(nx + 3, sizeof(char *));
			if (!s->extra || hvt_netpair_addr(&pair, &s->t, s->peer, sizeof(s->peer))) {
				rc = HVT_EXIT_FAIL;
				hvt_store_close(&st);
				goto out_slots;
			}
			s->extra[0] = "--peer";
			s->extra[1] = s->peer;
			for (size_t k = 0; k < nx; k++)
				s->extra[2 + k] = o->extra[k];
			s->peer_facts = hvt_netpair_facts(&pair, s->peer);
			hvt_info("%s: net cases against the server in %s at %s", s->t.name, pair.t.name,
				 s->peer);
		}
	}
	hvt_info("matrix: suite '%s', %u rounds interleaved over %zu targets; round timeout %.0fs",
		 su.set.name[0] ? su.set.name : "adhoc", rounds, o->ntargets, (double)rto * 1e-9);
	for (size_t i = 0; i < o->ntargets && !interrupted; i++) {
		struct hvt_launch li = slot_launch(&slots[i], &l);

		if (start_slot(&slots[i], &st, o, &li, have_suite ? su.set.name : NULL) == -EINTR)
			interrupted = 1;
	}
	for (unsigned k = 0; k < rounds && !interrupted; k++) {
		char progress[512];
		size_t pl = 0;
		int any = 0;

		progress[0] = '\0';
		for (size_t i = 0; i < o->ntargets && !interrupted; i++) {
			struct slot *s = &slots[i];
			char cmd[32], msg[512];
			uint64_t t0 = hvt_now_ns();
			int r;

			if (!s->live)
				continue;
			any = 1;
			snprintf(cmd, sizeof(cmd), "round %u", k);
			s->ndone = 0;
			s->last_case[0] = '\0';
			r = hvt_target_send(&s->t, cmd);
			if (!r)
				r = pump(s, t0 + rto, is_round, (long)k);
			if (r == 1 && s->saw_end) {
				fail_slot(s, "the agent ended in the middle of the matrix");
			} else if (r == 0) {
				/* the case order is random per round: the stuck one is among those not reported */
				snprintf(msg, sizeof(msg),
					 "round %u/%u timed out after %.0fs with %u case%s of it reported%s%s; "
					 "records before it are kept",
					 k + 1, rounds, (double)rto * 1e-9, s->ndone, s->ndone == 1 ? "" : "s",
					 s->last_case[0] ? ", the last " : "", s->last_case);
				if (k + 1 < rounds && !s->restarted) {
					struct hvt_launch li = slot_launch(s, &l);

					if (restart_slot(s, &li, msg) == -EINTR)
						interrupted = 1;
				} else {
					fail_slot(s, msg);
				}
			} else if (r == -EINTR) {
				interrupted = 1;
			} else if (r < 0) {
				char how[128];

				describe_exit(s, how, sizeof(how));
				snprintf(msg, sizeof(msg), "the agent %s during round %u/%u; records before it are kept",
					 how, k + 1, rounds);
				fail_slot(s, msg);
			}
			if (pl < sizeof(progress))
				pl += (size_t)snprintf(progress + pl, sizeof(progress) - pl, " %s %.1fs",
						       s->t.name, (double)(hvt_now_ns() - t0) * 1e-9);
		}
		if (!any)
			break;
		hvt_info("round %u/%u:%s", k + 1, rounds, progress);
	}
	for (size_t i = 0; i < o->ntargets; i++) {
		if (interrupted && slots[i].live)
			fail_slot(&slots[i], "interrupted");
		else
			finish_slot(&slots[i]);
	}
	for (size_t i = 0; i < o->ntargets; i++) {
		run_ids[i] = slots[i].skipped ? 0 : slots[i].run_id;
		if (slots[i].failed)
			rc = HVT_EXIT_FAIL;
	}
	if (interrupted)
		rc = HVT_EXIT_FAIL;
	hvt_store_close(&st);
out_slots:
	for (size_t i = 0; i < o->ntargets; i++) {
		if (slots[i].in)
			hvt_ingest_abort(slots[i].in);
		if (slots[i].inited)
			hvt_target_release(&slots[i].t);
		json_decref(slots[i].peer_facts);
		free(slots[i].extra);
	}
	hvt_netpair_stop(&pair);
	free(slots);
out_suite:
	hvt_suite_release(&su);
	return rc;
}

/* ---- the command ---- */

enum {
	OPT_SUITE = 's',
	OPT_BENCH = 'b',
	OPT_TARGETS = 't',
	OPT_PREFIX = 'p',
	OPT_CONF = 'c',
	OPT_ROUNDS = 'r',
	OPT_QUIET = 'q',
	OPT_PAYLOAD = 0x200,
	OPT_ROUND_TIMEOUT,
	OPT_JSON,
};

static const struct hvt_opt matrix_opts[] = {
	{ "suite", 's', required_argument, OPT_SUITE, "S", "suite name (configs/S.ini) or file" },
	{ "bench", 'b', required_argument, OPT_BENCH, "LIST",
	  "benchmarks for the agents (instead of, or with, the suite)" },
	{ "targets", 't', required_argument, OPT_TARGETS, "LIST",
	  "comma list of targets below (default host,container,vm)" },
	{ "label-prefix", 'p', required_argument, OPT_PREFIX, "P",
	  "run labels P-TARGET (default: TARGET)" },
	HVT_OPT_ROW_DB,
	{ "target-config", 'c', required_argument, OPT_CONF, "FILE",
	  "a target config ([container], [vm] ... sections) read\n"
	  "after configs/targets/KIND.ini; may be repeated" },
	{ "payload", 0, required_argument, OPT_PAYLOAD, "DIR",
	  "payload built by scripts/build-payload.sh (default: build/payload)" },
	{ "rounds", 'r', required_argument, OPT_ROUNDS, "N", "rounds (default: the suite's)" },
	{ "round-timeout", 0, required_argument, OPT_ROUND_TIMEOUT, "T",
	  "per round and target (default: 5x the estimate + 120s)" },
	{ "json", 0, required_argument, OPT_JSON, "FILE", "the comparisons as JSON too" },
	HVT_OPT_ROWS_PEER,
	{ "quiet", 'q', no_argument, OPT_QUIET, NULL, "no progress on stderr" },
	HVT_OPT_ROW_HELP,
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvtax matrix --suite NAME|FILE --targets host,container,vm [options]\n"
		"                    [-- more hvtax-bench options]\n"
		"\n"
		"Starts every target's hvtax-bench agent and keeps it up for the whole matrix,\n"
		"runs the rounds interleaved (host, container, vm, host, ...), stores each\n"
		"target's records as its own run labelled by target, then prints the tax of\n"
		"each target against host from paired rounds (round k against round k).\n"
		"A target this machine cannot run is skipped with the reason.\n"
		"\n");
	hvt_opts_usage(f, matrix_opts, HVT_ARRAY_SIZE(matrix_opts));
	fprintf(f,
		"\n"
		"targets: %s\n"
		"exit status: 0 ok, 1 a target failed, 2 usage or bad config\n",
		hvt_target_kinds());
}

/* Taxes of each target against host, paired by round. */
static int print_taxes(const char *db, const struct hvt_matrix_opts *o, const int64_t *ids,
		       const char *json_path)
{
	struct hvt_store st;
	ssize_t host = -1;
	json_t *all = json_array();
	int rc = 0;

	for (size_t i = 0; i < o->ntargets; i++)
		if (!strcmp(o->targets[i], "host"))
			host = (ssize_t)i;
	printf("\nruns:\n");
	for (size_t i = 0; i < o->ntargets; i++) {
		if (ids[i] > 0)
			printf("  %-14s run %lld\n", o->targets[i], (long long)ids[i]);
		else
			printf("  %-14s %s\n", o->targets[i], ids[i] == 0 ? "skipped (see above)" : "not stored");
	}
	if (host < 0 || ids[host] <= 0) {
		printf("\nno host run: no taxes to compute\n");
		json_decref(all);
		return 0;
	}
	if (hvt_store_open(&st, db)) {
		json_decref(all);
		return -EIO;
	}
	for (size_t i = 0; i < o->ntargets; i++) {
		struct hvt_compare_opts co;
		struct hvt_compare c;
		json_t *info;
		const char *status;

		if ((ssize_t)i == host || ids[i] <= 0)
			continue;
		hvt_compare_opts_init(&co);
		co.paired = 1;
		info = hvt_store_run_info(&st, ids[i]);
		status = json_string_value(json_object_get(info, "status"));
		printf("\n== %s vs host (run %lld vs run %lld%s) ==\n", o->targets[i], (long long)ids[i],
		       (long long)ids[host], status && strcmp(status, "ok") ? ", candidate run FAILED: partial" : "");
		{
			json_t *fp = json_object_get(info, "fingerprint");
			json_t *h = json_object_get(fp, "harness");
			json_t *virt = json_object_get(fp, "virt");

			if (json_is_true(json_object_get(h, "emulated")) ||
			    json_is_true(json_object_get(virt, "emulated")))
				printf("note: %s ran under TCG emulation: its taxes are not representative "
				       "of hardware virtualization\n", o->targets[i]);
		}
		json_decref(info);
		if (hvt_compare_runs(&st, ids[host], ids[i], &co, &c)) {
			rc = -EIO;
			continue;
		}
		hvt_compare_print(&c, stdout);
		if (all) {
			json_t *j = hvt_compare_to_json(&c);

			if (j) {
				json_object_set_new(j, "target", json_string(o->targets[i]));
				json_array_append_new(all, j);
			}
		}
		hvt_compare_free(&c);
	}
	hvt_store_close(&st);
	if (json_path && all && json_dump_file(all, json_path, JSON_INDENT(1)))
		hvt_err("cannot write '%s'", json_path);
	json_decref(all);
	return rc;
}

int hvt_cmd_matrix(int argc, char **argv)
{
	struct hvt_getopt go;
	struct hvt_matrix_opts o;
	const char *targets = "host,container,vm", *json_path = NULL;
	const char *confs[17] = { NULL };
	const char *specs[16];
	char *tl = NULL, *save = NULL;
	int64_t ids[16];
	size_t nconf = 0;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.db = hvt_default_db();
	if (hvt_opts_build(&go, matrix_opts, HVT_ARRAY_SIZE(matrix_opts), "+"))
		return HVT_EXIT_FAIL;
	optind = 1;
	while ((c = getopt_long(argc, argv, go.shorts, go.lopts, NULL)) != -1) {
		switch (c) {
		case OPT_SUITE:
			o.suite = optarg;
			break;
		case OPT_BENCH:
			o.benches = optarg;
			break;
		case OPT_TARGETS:
			targets = optarg;
			break;
		case OPT_PREFIX:
			o.label_prefix = optarg;
			break;
		case HVT_OPT_DB:
			o.db = optarg;
			break;
		case OPT_CONF:
			if (hvt_opt_append("target-config", confs, &nconf, 16, optarg))
				return HVT_EXIT_USAGE;
			break;
		case OPT_PAYLOAD:
			o.payload = optarg;
			break;
		case OPT_ROUNDS:
			if (hvt_opt_rounds(optarg, &o.rounds))
				return HVT_EXIT_USAGE;
			break;
		case OPT_ROUND_TIMEOUT:
			if (hvt_parse_duration(optarg, &o.round_timeout_ns) || !o.round_timeout_ns) {
				hvt_err("--round-timeout: '%s' is not a duration (e.g. 5m)", optarg);
				return HVT_EXIT_USAGE;
			}
			break;
		case OPT_JSON:
			json_path = optarg;
			break;
		case OPT_QUIET:
			hvt_quiet = 1;
			break;
		case HVT_OPT_HELP:
			usage(stdout);
			return 0;
		default:
			rc = hvt_netpair_opt(c, optarg, &o);
			if (rc == 1)
				break;
			if (rc == 0)
				usage(stderr);
			return HVT_EXIT_USAGE;
		}
	}
	if (!o.suite && !o.benches) {
		hvt_err("matrix: --suite is required (e.g. --suite quick)");
		return HVT_EXIT_USAGE;
	}
	o.extra = optind < argc ? argv + optind : NULL;
	o.conf_files = confs;
	tl = hvt_strdup(targets);
	if (!tl)
		return HVT_EXIT_FAIL;
	for (char *t = strtok_r(tl, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (o.ntargets == HVT_ARRAY_SIZE(specs)) {
			hvt_err("--targets: at most %zu targets", HVT_ARRAY_SIZE(specs));
			free(tl);
			return HVT_EXIT_USAGE;
		}
		if (!hvt_target_find(t)) {
			hvt_err("--targets: unknown target '%s' (targets: %s)", t, hvt_target_kinds());
			free(tl);
			return HVT_EXIT_USAGE;
		}
		specs[o.ntargets++] = t;
	}
	if (!o.ntargets) {
		hvt_err("--targets: empty list");
		free(tl);
		return HVT_EXIT_USAGE;
	}
	o.targets = specs;
	rc = hvt_matrix_run(&o, ids);
	if (rc != HVT_EXIT_USAGE && print_taxes(o.db, &o, ids, json_path) && rc == 0)
		rc = HVT_EXIT_FAIL;
	free(tl);
	return rc;
}
