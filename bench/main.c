/* SPDX-License-Identifier: MIT */
/* hvtax-bench: runs benchmark cases inside the environment being measured, writes JSON Lines. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bare_allreduce.h"
#include "core.h"
#include "driver.h"
#include "fingerprint.h"
#include "net.h"
#include "params.h"
#include "ranks.h"
#include "sidech.h"
#include "suite.h"
#include "../common/schema.h"
#include "../common/units.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvtax-bench <command> [options]\n"
		"\n"
		"Runs benchmark cases inside the environment being measured and writes\n"
		"JSON Lines (schema %d) to stdout: fingerprint, plan, result, skip, error, end.\n"
		"\n"
		"commands:\n"
		"  list [--params]          benchmarks built here, their parameters and metrics,\n"
		"                           and what was not built and why\n"
		"  fingerprint              this environment as one JSON object\n"
		"  run [options]            run a suite or chosen benchmarks\n"
		"  agent [options]          like run, but rounds are started by 'round K' lines\n"
		"                           on stdin (one environment kept up, driven round by round)\n"
		"  bare-allreduce [-d TIME] [-n N] SIZE...\n"
		"                           hvtax-bench-mpi only: the control for coll.allreduce, a\n"
		"                           bare MPI_Allreduce loop (float, sum) run right after\n"
		"                           MPI_Init, before any harness work; prints 'BYTES SECONDS'\n"
		"                           per repetition (default 200ms x 3; see docs/coll.md)\n"
		"\n"
		"run/agent options:\n"
		"  -s, --suite NAME|FILE    suite file (configs/NAME.ini); settings and cases\n"
		"  -b, --bench NAME,...     benchmarks to run (instead of, or added to, the suite)\n"
		"  -p, --param KEY=VALUE    parameter for the -b benchmarks that have KEY; lists\n"
		"                           (1,2,4) and ranges (4KiB..1MiB*4) expand into cases\n"
		"  -d, --duration TIME      per repetition (default 200ms; e.g. 500ms, 2s)\n"
		"  -w, --warmup TIME        warm-up per case per round (default 50ms)\n"
		"  -n, --reps N             timed repetitions per case per round (default 3)\n"
		"  -r, --rounds N           rounds; each runs every case once, in random order (default 5)\n"
		"      --seed N             case-order seed (default: from the clock; recorded)\n"
		"  -o, --output FILE        write records to FILE instead of stdout\n"
		"      --allow-destructive  permit writes to an explicitly named block device\n"
		"      --counters WHEN      perf counters on: warmup (default: the warm-up repetition\n"
		"                           of each case), all (every repetition; open events cost\n"
		"                           ~2 us per context switch), off. Steal time and rusage\n"
		"                           are recorded on every repetition regardless\n"
		"      --no-counters        same as --counters off\n"
		"      --listen [ADDR:]PORT serve the net cases a --peer client asks for, one\n"
		"                           session at a time, until SIGINT or SIGTERM\n"
		"      --peer HOST:PORT     run net cases as the client of a --listen server\n"
		"                           (default: both ends on this host, over loopback)\n"
		"  -q, --quiet              no progress on stderr\n"
		"\n"
		"exit status: 0 ok, 1 a case failed, 2 usage or bad input, 77 nothing could run\n",
		HVT_SCHEMA_VERSION);
}

static int cmd_list(int argc, char **argv)
{
	int params = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--params") == 0 || strcmp(argv[i], "-p") == 0) {
			params = 1;
		} else {
			hvt_err("list: unknown option '%s'", argv[i]);
			return HVT_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < hvt_nbenches; i++) {
		const struct hvt_bench *b = hvt_benches[i];

		printf("%-22s %s\n", b->name, b->help);
		if (!params)
			continue;
		for (size_t k = 0; k < b->nparams; k++) {
			const struct hvt_param *p = &b->params[k];
			char range[128] = "";

			if (p->type == HVT_P_CHOICE) {
				size_t l = 0;

				for (size_t c = 0; p->choices[c]; c++)
					l += (size_t)snprintf(range + l, sizeof(range) - l, "%s%s",
							      c ? "|" : "", p->choices[c]);
			} else if (p->min <= p->max && p->type != HVT_P_BOOL) {
				snprintf(range, sizeof(range), "%g..%g", p->min, p->max);
			}
			printf("    -p %-14s %-8s default %-10s %-18s %s\n", p->name, hvt_ptype_name(p->type),
			       p->def ? p->def : "(required)", range, p->help);
		}
		for (size_t k = 0; k < b->nmetrics; k++) {
			const struct hvt_metric *m = &b->metrics[k];

			printf("    metric %-14s %-5s %s is better; %s\n", m->name, m->unit,
			       m->dir == HVT_HIGHER_IS_BETTER ? "higher" : "lower", m->help);
		}
	}
	if (hvt_nunbuilt)
		printf("\nnot built here:\n");
	for (size_t i = 0; i < hvt_nunbuilt; i++)
		printf("%-22s %s\n", hvt_unbuilt[i].family, hvt_unbuilt[i].why);
	return 0;
}

static int cmd_fingerprint(void)
{
	json_t *fp = hvt_fingerprint_collect();

	json_dumpf(fp, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(fp);
	return 0;
}

json_t *hvt_fingerprint_record(void)
{
	char iso[64];

	hvt_fmt_iso8601(iso, sizeof(iso), hvt_wall_s());
	return json_pack("{s:s,s:s,s:s,s:s,s:f,s:o}", "tool", "hvtax-bench", "version", hvt_version,
			 "commit", hvt_commit, "time", iso, "overhead_clock_ns", hvt_clock_overhead_ns(),
			 "fingerprint", hvt_fingerprint_collect());
}

struct opts {
	const char *suite;
	const char *listen; /* --listen: serve net cases instead of running any */
	char *benches;
	struct hvt_assign *params;
	size_t nparams;
	const char *out;
	struct hvt_settings over;
	int have_duration, have_warmup, have_reps, have_rounds, have_seed;
};

/* Cases for -b NAME,... with the -p assignments that apply to each. */
static int add_bench_cases(struct opts *o, struct hvt_suite *s)
{
	char *save = NULL, *list = o->benches;
	int *used = hvt_calloc(o->nparams + 1, sizeof(int));
	int r = 0;

	if (!used)
		return -ENOMEM;
	for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct hvt_bench *b = hvt_bench_find(name);
		struct hvt_assign *mine = hvt_calloc(o->nparams + 1, sizeof(*mine));
		size_t nm = 0;

		if (!mine) {
			r = -ENOMEM;
			break;
		}
		if (!b) {
			hvt_report_unknown_bench(NULL, name);
			free(mine);
			r = -EINVAL;
			break;
		}
		for (size_t k = 0; k < o->nparams; k++) {
			for (size_t j = 0; j < b->nparams; j++) {
				if (strcmp(b->params[j].name, o->params[k].key) == 0) {
					mine[nm++] = o->params[k];
					used[k] = 1;
				}
			}
		}
		r = hvt_cases_expand(b, mine, nm, &s->cases, &s->ncases);
		free(mine);
		if (r)
			break;
	}
	for (size_t k = 0; !r && k < o->nparams; k++) {
		if (!used[k]) {
			hvt_err("-p %s: no selected benchmark has a parameter '%s' (see: hvtax-bench list --params)",
				o->params[k].key, o->params[k].key);
			r = -EINVAL;
		}
	}
	free(used);
	return r;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "suite", required_argument, NULL, 's' },  { "bench", required_argument, NULL, 'b' },
		{ "param", required_argument, NULL, 'p' },  { "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' }, { "reps", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' }, { "seed", required_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' }, { "allow-destructive", no_argument, NULL, 'A' },
		{ "no-counters", no_argument, NULL, 'C' },
		{ "counters", required_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' },	    { "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, 'L' }, { "peer", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	int64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:b:p:d:w:n:r:o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->suite = optarg;
			break;
		case 'b':
			if (o->benches) {
				char *j = hvt_asprintf("%s,%s", o->benches, optarg);

				free(o->benches);
				o->benches = j;
			} else {
				o->benches = hvt_strdup(optarg);
			}
			if (!o->benches)
				return -ENOMEM;
			break;
		case 'p': {
			char *eq = strchr(optarg, '=');
			struct hvt_assign *na;

			if (!eq || eq == optarg) {
				hvt_err("-p '%s': expected KEY=VALUE", optarg);
				return -EINVAL;
			}
			na = realloc(o->params, (o->nparams + 1) * sizeof(*na));
			if (!na)
				return -ENOMEM;
			o->params = na;
			*eq = '\0';
			na[o->nparams].key = optarg;
			na[o->nparams].value = eq + 1;
			na[o->nparams].file = NULL;
			na[o->nparams].line = 0;
			o->nparams++;
			break;
		}
		case 'd':
			if (hvt_parse_duration(optarg, &o->over.duration_ns) || o->over.duration_ns < 1000000) {
				hvt_err("--duration: '%s' is not a duration of at least 1ms (e.g. 500ms, 2s)", optarg);
				return -EINVAL;
			}
			o->have_duration = 1;
			break;
		case 'w':
			if (hvt_parse_duration(optarg, &o->over.warmup_ns)) {
				hvt_err("--warmup: '%s' is not a duration (e.g. 100ms)", optarg);
				return -EINVAL;
			}
			o->have_warmup = 1;
			break;
		case 'n':
		case 'r':
			if (hvt_parse_int(optarg, &v) || v < 1 || v > 100000) {
				hvt_err("--%s: '%s' is not a count between 1 and 100000", c == 'n' ? "reps" : "rounds",
					optarg);
				return -EINVAL;
			}
			if (c == 'n') {
				o->over.reps = (unsigned)v;
				o->have_reps = 1;
			} else {
				o->over.rounds = (unsigned)v;
				o->have_rounds = 1;
			}
			break;
		case 'S':
			if (hvt_parse_int(optarg, &v) || v < 0) {
				hvt_err("--seed: '%s' is not a non-negative integer", optarg);
				return -EINVAL;
			}
			o->over.seed = (uint64_t)v;
			o->have_seed = 1;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'A':
			setenv("HVT_ALLOW_DESTRUCTIVE", "1", 1);
			break;
		case 'C':
			hvt_side_counters = HVT_COUNTERS_OFF;
			break;
		case 'K':
			if (strcmp(optarg, "off") == 0) {
				hvt_side_counters = HVT_COUNTERS_OFF;
			} else if (strcmp(optarg, "warmup") == 0) {
				hvt_side_counters = HVT_COUNTERS_WARMUP;
			} else if (strcmp(optarg, "all") == 0) {
				hvt_side_counters = HVT_COUNTERS_ALL;
			} else {
				hvt_err("--counters: '%s' is not one of: off, warmup, all", optarg);
				return -EINVAL;
			}
			break;
		case 'q':
			hvt_quiet = 1;
			break;
		case 'L':
			o->listen = optarg;
			setenv("HVT_NET_LISTEN", optarg, 1);
			break;
		case 'P': {
			char h[256], pt[16];

			if (hvt_net_split_hostport(optarg, h, sizeof(h), pt, sizeof(pt), 1)) {
				hvt_err("--peer: '%s' is not HOST:PORT (e.g. 10.0.0.1:7000, [fe80::1%%eth0]:7000)", optarg);
				return -EINVAL;
			}
			setenv("HVT_NET_PEER", optarg, 1);
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		hvt_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->suite && !o->benches && !o->listen) {
		hvt_err("nothing to run: give --suite NAME or -b BENCH (see: hvtax-bench list)");
		return -EINVAL;
	}
	if (o->nparams && !o->benches) {
		hvt_err("-p applies to the benchmarks given with -b; set suite parameters in the suite file");
		return -EINVAL;
	}
	return 0;
}

static int cmd_run(int argc, char **argv, int agent)
{
	struct opts o;
	struct hvt_suite s;
	struct hvt_driver d;
	FILE *out = stdout;
	json_t *peer_fp = NULL;
	int r, rc = HVT_EXIT_OK, net_pair = 0;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	hvt_settings_default(&s.set);
	r = parse_opts(argc, argv, &o);
	if (r) {
		rc = HVT_EXIT_USAGE;
		goto out;
	}
	if (o.suite) {
		r = hvt_suite_load(o.suite, &s);
		if (r) {
			rc = HVT_EXIT_USAGE;
			goto out;
		}
	}
	if (o.benches) {
		r = add_bench_cases(&o, &s);
		if (r) {
			rc = HVT_EXIT_USAGE;
			goto out;
		}
	}
	if (o.have_duration)
		s.set.duration_ns = o.over.duration_ns;
	if (o.have_warmup)
		s.set.warmup_ns = o.over.warmup_ns;
	if (o.have_reps)
		s.set.reps = o.over.reps;
	if (o.have_rounds)
		s.set.rounds = o.over.rounds;
	if (o.have_seed)
		s.set.seed = o.over.seed;
	if (hvt_ranks_mpi()) {
		/* every rank runs the same cases in the same order: rank 0's seed for all */
		uint64_t seed = s.set.seed ? s.set.seed : (hvt_now_ns() ^ ((uint64_t)getpid() << 32)) | 1;

		if (agent && hvt_nranks() > 1) {
			hvt_err("agent: not available under MPI (rounds would have to reach every rank)");
			rc = HVT_EXIT_USAGE;
			goto out;
		}
		if (hvt_ranks_bcast(&seed, sizeof(seed))) {
			rc = HVT_EXIT_FAIL;
			goto out;
		}
		s.set.seed = seed;
	}
	/* only rank 0 writes records (the others' stdout is /dev/null) */
	if (o.out && hvt_rank() == 0) {
		out = fopen(o.out, "w");
		if (!out) {
			hvt_err("cannot open '%s': %s", o.out, strerror(errno));
			out = stdout;
			rc = HVT_EXIT_FAIL;
			goto out;
		}
	}
	if (o.listen) {
		rc = hvt_net_serve(o.listen, out, hvt_fingerprint_record());
		goto out;
	}
	if (hvt_nranks() > 1 && !getenv("HVT_NET_PEER")) {
		/* net cases under mpirun: rank 1 serves, rank 0 measures */
		size_t nnet = 0;

		for (size_t i = 0; i < s.ncases; i++)
			nnet += strncmp(s.cases[i].bench->name, "net.", 4) == 0;
		if (nnet && (nnet != s.ncases || hvt_nranks() != 2)) {
			hvt_err("under mpirun, net cases run as a pair of ranks (rank 1 serves, rank 0 "
				"measures): run them alone and with -np 2 (%zu net of %zu cases, %d ranks)",
				nnet, s.ncases, hvt_nranks());
			rc = HVT_EXIT_USAGE;
			goto out;
		}
		if (nnet) {
			r = hvt_net_ranks_pair(out, &peer_fp);
			if (hvt_rank() != 0 || r) {
				rc = r < 0 ? HVT_EXIT_FAIL : r;
				goto out;
			}
			net_pair = 1;
		}
	}
	{
		json_t *fp = hvt_fingerprint_record();

		if (fp && peer_fp)
			json_object_set_new(json_object_get(fp, "fingerprint") ? json_object_get(fp, "fingerprint") : fp,
					    "net_peer", peer_fp);
		else
			json_decref(peer_fp);
		peer_fp = NULL;
		hvt_out_record(out, HVT_REC_FINGERPRINT, fp);
	}
	r = hvt_driver_init(&d, &s, out);
	if (r == -EPERM) {
		hvt_driver_finish(&d, "refused");
		rc = HVT_EXIT_USAGE;
		goto out;
	} else if (r) {
		hvt_err("cannot start: %s", strerror(-r));
		rc = HVT_EXIT_FAIL;
		goto out;
	}
	if (hvt_ranks_mpi() && !net_pair) {
		/* collective cases meet only if every rank runs the same ones (FNV-1a of the skips) */
		uint64_t h = 1469598103934665603ull;

		for (size_t i = 0; i < s.ncases; i++)
			h = (h ^ (d.skip[i] != NULL)) * 1099511628211ull;
		if (!hvt_ranks_same(h)) {
			hvt_err("ranks disagree on which cases can run here; run the same hvtax-bench-mpi on alike nodes");
			hvt_driver_finish(&d, "failed");
			rc = HVT_EXIT_FAIL;
			goto out;
		}
	}
	if (agent) {
		char line[256];
		long k;

		/* commands on stdin: "round K" runs round K; "end" (or EOF) finishes */
		while (fgets(line, sizeof(line), stdin)) {
			if (sscanf(line, "round %ld", &k) == 1 && k >= 0) {
				hvt_driver_round(&d, (unsigned)k);
				hvt_out_record(out, "round", json_pack("{s:i}", "round", (int)k));
			} else if (strncmp(line, "end", 3) == 0) {
				break;
			} else {
				hvt_warn("agent: ignoring unknown command '%.*s'", (int)strcspn(line, "\n"), line);
			}
		}
	} else {
		for (unsigned k = 0; k < s.set.rounds; k++)
			hvt_driver_round(&d, k);
	}
	if (d.nerrors)
		rc = HVT_EXIT_FAIL;
	else if (d.nrun == 0 && s.ncases)
		rc = HVT_EXIT_SKIP;
	hvt_driver_finish(&d, d.nerrors ? "failed" : "ok");
out:
	if (net_pair)
		hvt_net_ranks_done();
	if (out != stdout)
		fclose(out);
	hvt_suite_release(&s);
	free(o.benches);
	free(o.params);
	return rc;
}

/* the same usage error on every rank, said once */
#define BARE_ERR(...) (hvt_rank() == 0 ? hvt_err(__VA_ARGS__) : (void)0)

/* bare-allreduce [-d TIME] [-n N] SIZE...: see usage() and bare_allreduce.h */
static int cmd_bare_allreduce(int argc, char **argv)
{
	uint64_t dur_ns = 200000000, *bytes;
	int64_t reps = 3;
	int a = 1, r;

	if (!hvt_ranks_mpi()) {
		hvt_err("bare-allreduce: this is hvtax-bench without MPI; run hvtax-bench-mpi under "
			"mpirun (make WITH_MPI=1)");
		return HVT_EXIT_USAGE;
	}
	for (; a < argc && argv[a][0] == '-'; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(argv[a], "-d") && v) {
			if (hvt_parse_duration(v, &dur_ns) || dur_ns == 0) {
				BARE_ERR("bare-allreduce: -d: '%s' is not a duration > 0 (e.g. 30ms)", v);
				return HVT_EXIT_USAGE;
			}
		} else if (!strcmp(argv[a], "-n") && v) {
			if (hvt_parse_int(v, &reps) || reps < 1 || reps > 1000000) {
				BARE_ERR("bare-allreduce: -n: '%s' is not a repetition count (1..1000000)", v);
				return HVT_EXIT_USAGE;
			}
		} else {
			BARE_ERR("bare-allreduce: unknown or incomplete option '%s' (usage: bare-allreduce "
				"[-d TIME] [-n N] SIZE...)", argv[a]);
			return HVT_EXIT_USAGE;
		}
		a++;
	}
	if (a >= argc) {
		BARE_ERR("bare-allreduce: no sizes (usage: bare-allreduce [-d TIME] [-n N] SIZE...)");
		return HVT_EXIT_USAGE;
	}
	bytes = hvt_calloc((size_t)(argc - a), sizeof(*bytes));
	if (!bytes)
		return HVT_EXIT_FAIL;
	for (int i = a; i < argc; i++) {
		if (hvt_parse_size(argv[i], &bytes[i - a]) || bytes[i - a] < sizeof(float)) {
			BARE_ERR("bare-allreduce: size '%s' is not a size of at least 4 bytes (e.g. 4096, 4KiB)",
				argv[i]);
			free(bytes);
			return HVT_EXIT_USAGE;
		}
	}
	r = hvt_bare_allreduce((double)dur_ns * 1e-9, (int)reps, bytes, (size_t)(argc - a),
				     stdout);
	free(bytes);
	if (r) {
		hvt_err("bare-allreduce: rank %d: %s", hvt_rank(), strerror(-r));
		return HVT_EXIT_FAIL;
	}
	return 0;
}

static int dispatch(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HVT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "fingerprint") == 0)
		return cmd_fingerprint();
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "agent") == 0)
		return cmd_run(argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "bare-allreduce") == 0)
		return cmd_bare_allreduce(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("hvtax-bench %s (%s)\n", hvt_version, hvt_commit);
		return 0;
	}
	hvt_err("unknown command '%s' (see: hvtax-bench --help)", argv[1]);
	return HVT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int rc;

	hvt_set_prog("hvtax-bench");
	if (hvt_ranks_init(&argc, &argv)) {
		hvt_err("cannot start MPI");
		return HVT_EXIT_FAIL;
	}
	/* under MPI, one result stream: rank 0's */
	if (hvt_rank() != 0) {
		if (!freopen("/dev/null", "w", stdout))
			hvt_warn("rank %d: cannot silence stdout: %s", hvt_rank(), strerror(errno));
		hvt_quiet = 1;
	}
	rc = dispatch(argc, argv);
	fflush(stdout);
	hvt_ranks_finalize();
	return rc;
}
