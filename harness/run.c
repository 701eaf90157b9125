/* SPDX-License-Identifier: MIT */
/* hvtax run: start hvtax-bench in a target with a timeout and stream its records into the store. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "matrix.h"
#include "netpair.h"
#include "opts.h"
#include "run.h"
#include "runs.h"
#include "store.h"
#include "target.h"
#include "../bench/suite.h"
#include "../common/units.h"
#include "../common/util.h"

const char *hvt_bench_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("HVTAX_BENCH");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n > 0) {
		char *slash;

		path[n] = '\0';
		slash = strrchr(path, '/');
		if (slash && (size_t)(slash - path) + sizeof("/hvtax-bench") < sizeof(path)) {
			strcpy(slash, "/hvtax-bench");
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return "hvtax-bench";
}

struct sink {
	struct hvt_ingest *in;
	int bad;     /* records the store refused */
	int saw_end;
	int progress;
};

static int on_line(void *ctx, const char *line, int lineno)
{
	struct sink *s = ctx;
	int r;

	if (!*line)
		return 0;
	if (strstr(line, "\"type\":\"end\""))
		s->saw_end = 1;
	r = hvt_ingest_line(s->in, line, lineno);
	if (r == -EINVAL) {
		/* a bad record is kept as an error of the run, the rest still counts */
		s->bad++;
		return 0;
	}
	return r < 0 ? r : 0;
}

enum {
	OPT_SUITE = 's',
	OPT_TARGET = 't',
	OPT_CONF = 'c',
	OPT_LABEL = 'l',
	OPT_BENCH = 'b',
	OPT_ROUNDS = 'r',
	OPT_QUIET = 'q',
	OPT_PAYLOAD = 0x200,
	OPT_TIMEOUT,
};

static const struct hvt_opt run_opts[] = {
	{ "suite", 's', required_argument, OPT_SUITE, "S", "suite name (configs/S.ini) or file" },
	{ "bench", 'b', required_argument, OPT_BENCH, "LIST",
	  "benchmarks (instead of, or with, the suite; -- -p k=v sets parameters)" },
	{ "target", 't', required_argument, OPT_TARGET, "T",
	  "host (default), container, vm or ssh:HOST (configs/targets/)" },
	{ "target-config", 'c', required_argument, OPT_CONF, "FILE",
	  "target settings read after configs/targets/KIND.ini" },
	{ "payload", 0, required_argument, OPT_PAYLOAD, "DIR",
	  "payload for container/vm/ssh (default build/payload)" },
	{ "label", 'l', required_argument, OPT_LABEL, "L",
	  "label to find the run by later (compare, gate, report)" },
	HVT_OPT_ROW_DB,
	{ "rounds", 'r', required_argument, OPT_ROUNDS, "N", "rounds (default: the suite's, or 5 with -b)" },
	{ "timeout", 0, required_argument, OPT_TIMEOUT, "T",
	  "kill the run after T (default: 3x the suite's estimate + 60s)" },
	{ "quiet", 'q', no_argument, OPT_QUIET, NULL, "no progress on stderr" },
	HVT_OPT_ROWS_PEER,
	HVT_OPT_ROW_HELP,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvtax run --suite NAME|FILE | -b LIST [--target host] [--label L] [--db FILE]\n"
		   "                 [--timeout TIME] [--peer-target T] [-- hvtax-bench run options]\n"
		   "\n"
		   "Runs the suite in the target, stores every record in the database as one run\n"
		   "(one transaction; a crash or timeout is stored as the run's error with what\n"
		   "arrived before it), and prints the new run id.\n"
		   "\n"
		   "With --peer-target, the net cases' serving end (hvtax-bench run --listen) runs\n"
		   "in that target and the run's target measures against it, e.g. a container\n"
		   "client of a host server: --target container --peer-target host -b net.tcp_lat.\n"
		   "\n");
	hvt_opts_usage(f, run_opts, HVT_ARRAY_SIZE(run_opts));
}

int hvt_cmd_run(int argc, char **argv)
{
	struct hvt_getopt go;
	const char *confs[17] = { NULL };
	const char *payload = NULL;
	size_t nconf = 0;
	const char *suite = NULL, *target = "host", *label = NULL, *db = hvt_default_db();
	const char *benches = NULL;
	struct hvt_matrix_opts peer;
	unsigned rounds = 0;
	char rounds_txt[16];
	uint64_t timeout_ns = 0;
	struct hvt_suite s;
	struct hvt_store st;
	struct sink sink;
	char **cargv = NULL;
	int c, rc = HVT_EXIT_FAIL, status = 0, timed_out = 0, r, nargs = 0;
	int64_t run_id;

	memset(&st, 0, sizeof(st));
	memset(&sink, 0, sizeof(sink));
	memset(&peer, 0, sizeof(peer));
	if (hvt_opts_build(&go, run_opts, HVT_ARRAY_SIZE(run_opts), "+"))
		return HVT_EXIT_FAIL;
	optind = 1;
	while ((c = getopt_long(argc, argv, go.shorts, go.lopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONF:
			if (hvt_opt_append("target-config", confs, &nconf, 16, optarg))
				return HVT_EXIT_USAGE;
			break;
		case OPT_PAYLOAD:
			payload = optarg;
			break;
		case OPT_SUITE:
			suite = optarg;
			break;
		case OPT_TARGET:
			target = optarg;
			break;
		case OPT_BENCH:
			benches = optarg;
			break;
		case OPT_LABEL:
			label = optarg;
			break;
		case HVT_OPT_DB:
			db = optarg;
			break;
		case OPT_TIMEOUT:
			if (hvt_parse_duration(optarg, &timeout_ns) || !timeout_ns) {
				hvt_err("--timeout: '%s' is not a duration (e.g. 90s, 10m)", optarg);
				return HVT_EXIT_USAGE;
			}
			break;
		case OPT_ROUNDS:
			if (hvt_opt_rounds(optarg, &rounds))
				return HVT_EXIT_USAGE;
			break;
		case OPT_QUIET:
			hvt_quiet = 1;
			break;
		case HVT_OPT_HELP:
			usage(stdout);
			return 0;
		default:
			r = hvt_netpair_opt(c, optarg, &peer);
			if (r == 1)
				break;
			if (r == 0)
				usage(stderr);
			return HVT_EXIT_USAGE;
		}
	}
	if (!suite && !benches) {
		hvt_err("run: --suite or --bench is required (e.g. --suite quick)");
		return HVT_EXIT_USAGE;
	}
	if (!hvt_target_find(target)) {
		hvt_err("run: unknown target '%s' (targets: %s)", target, hvt_target_kinds());
		return HVT_EXIT_USAGE;
	}
	if (strcmp(target, "host") != 0 || nconf || payload || peer.peer_target || benches) {
		/* other targets keep an agent up and drive its rounds, as the matrix does */
		struct hvt_matrix_opts mo;
		int64_t id = 0;
		const char *one[1] = { target };

		memset(&mo, 0, sizeof(mo));
		mo.suite = suite;
		mo.targets = one;
		mo.ntargets = 1;
		mo.label = label;
		mo.db = db;
		mo.conf_files = confs;
		mo.payload = payload;
		mo.extra = optind < argc ? argv + optind : NULL;
		mo.round_timeout_ns = timeout_ns;
		mo.benches = benches;
		mo.rounds = rounds;
		mo.peer_target = peer.peer_target;
		mo.peer_port = peer.peer_port;
		mo.peer_addr = peer.peer_addr;
		rc = hvt_matrix_run(&mo, &id);
		if (id > 0)
			printf("%lld\n", (long long)id);
		else if (id == 0 && rc == HVT_EXIT_OK)
			rc = HVT_EXIT_SKIP; /* this machine cannot run the target (reason printed) */
		return rc;
	}
	/* validate the suite here, before anything starts or is stored */
	if (hvt_suite_load(suite, &s))
		return HVT_EXIT_USAGE;
	if (rounds)
		s.set.rounds = rounds;
	if (!timeout_ns) {
		double est = (double)s.ncases * s.set.rounds *
			     ((double)s.set.warmup_ns + (double)s.set.reps * (double)s.set.duration_ns);

		timeout_ns = s.set.timeout_ns ? s.set.timeout_ns : (uint64_t)(3 * est) + 60000000000ull;
	}
	cargv = hvt_calloc((size_t)(argc - optind) + 8, sizeof(*cargv));
	if (!cargv)
		goto out_suite;
	cargv[nargs++] = (char *)hvt_bench_path();
	cargv[nargs++] = "run";
	cargv[nargs++] = "--suite";
	cargv[nargs++] = s.path;
	if (hvt_quiet)
		cargv[nargs++] = "--quiet";
	if (rounds) {
		snprintf(rounds_txt, sizeof(rounds_txt), "%u", rounds);
		cargv[nargs++] = "--rounds";
		cargv[nargs++] = rounds_txt;
	}
	for (int i = optind; i < argc; i++)
		cargv[nargs++] = argv[i];
	cargv[nargs] = NULL;

	if (hvt_store_open(&st, db))
		goto out_suite;
	{
		struct hvt_run_meta m = { .label = label, .target = target, .suite = s.set.name,
					  .source = "hvtax-bench" };

		sink.in = hvt_ingest_begin(&st, &m);
	}
	if (!sink.in)
		goto out_store;
	hvt_info("running suite '%s' (%zu cases, %u rounds) on %s; timeout %.0fs", s.set.name, s.ncases,
		 s.set.rounds, target, (double)timeout_ns * 1e-9);
	r = hvt_child_run(cargv, timeout_ns, on_line, &sink, &status, &timed_out);
	if (r == -EINTR) {
		hvt_ingest_error(sink.in, "interrupted");
		run_id = hvt_ingest_commit(sink.in, "failed");
		hvt_err("interrupted; partial run %lld stored", (long long)run_id);
		goto out_store;
	}
	if (r) {
		char *msg = hvt_asprintf("cannot start '%s': %s", cargv[0], strerror(-r));

		hvt_ingest_error(sink.in, msg ? msg : "cannot start hvtax-bench");
		free(msg);
		run_id = hvt_ingest_commit(sink.in, "failed");
		goto out_store;
	}
	{
		char how[128], *msg = NULL;
		const char *st_txt = "ok";

		hvt_child_describe(status, how, sizeof(how));
		if (timed_out) {
			msg = hvt_asprintf("timed out after %.0fs; records before it are kept",
					   (double)timeout_ns * 1e-9);
			st_txt = "failed";
		} else if (WIFSIGNALED(status)) {
			msg = hvt_asprintf("hvtax-bench %s; records before it are kept", how);
			st_txt = "failed";
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == HVT_EXIT_SKIP) {
			st_txt = "ok"; /* every case skipped, with reasons stored */
		} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
			msg = hvt_asprintf("hvtax-bench %s", how);
			st_txt = "failed";
		} else if (!sink.saw_end) {
			msg = hvt_asprintf("hvtax-bench ended without an end record");
			st_txt = "failed";
		}
		if (sink.bad && !msg) {
			msg = hvt_asprintf("%d malformed records were not stored", sink.bad);
			st_txt = "failed";
		}
		if (msg) {
			hvt_ingest_error(sink.in, msg);
			hvt_err("%s", msg);
			free(msg);
		}
		run_id = hvt_ingest_commit(sink.in, st_txt);
		if (run_id > 0) {
			printf("%lld\n", (long long)run_id);
			hvt_info("stored run %lld (%s) in %s", (long long)run_id, st_txt, db);
			rc = strcmp(st_txt, "ok") == 0 ? HVT_EXIT_OK : HVT_EXIT_FAIL;
		}
	}
out_store:
	hvt_store_close(&st);
out_suite:
	free(cargv);
	hvt_suite_release(&s);
	return rc;
}
