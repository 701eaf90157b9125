/* SPDX-License-Identifier: MIT */
/* hvtax: the control plane. Runs suites in targets, stores results, analyses and reports. */
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "matrix.h"
#include "cost.h"
#include "gate.h"
#include "report.h"
#include "run.h"
#include "runs.h"
#include "../common/util.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", hvt_cmd_run, "run a suite in a target and store it (--target host --suite quick)" },
	{ "matrix", hvt_cmd_matrix, "one suite in several targets, interleaved; taxes against host" },
	{ "runs", hvt_cmd_runs, "list stored runs" },
	{ "show", hvt_cmd_show, "one run: environment and per-case statistics" },
	{ "compare", hvt_cmd_compare, "tax of CAND against BASE per case and metric, with 95% CI" },
	{ "export", hvt_cmd_export, "a run as JSON Lines" },
	{ "import", hvt_cmd_import, "a JSON Lines file (e.g. from an air-gapped box) as a new run" },
	{ "gate", hvt_cmd_gate, "CI gate: exit 1 when a metric's tax CI is above its threshold" },
	{ "cost", hvt_cmd_cost, "cost per job of each environment from prices and job profiles" },
	{ "report", hvt_cmd_report, "report runs as text, md, html, csv, json or openmetrics" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvtax <command> [options]     (hvtax <command> --help for each)\n\n"
		   "Measures the hypervisor tax: the same benchmarks in host, container and VM,\n"
		   "every sample stored in SQLite, taxes with confidence intervals.\n\ncommands:\n");
	for (size_t i = 0; i < HVT_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nexit status: 0 ok, 1 failure or gate regression, 2 usage or bad input\n");
}

int main(int argc, char **argv)
{
	hvt_set_prog("hvtax");
	if (argc < 2) {
		usage(stderr);
		return HVT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("hvtax %s (%s)\n", hvt_version, hvt_commit);
		return 0;
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	{
		const char *names[32];
		size_t n = 0;
		const char *dym;

		for (size_t i = 0; i < HVT_ARRAY_SIZE(commands); i++)
			names[n++] = commands[i].name;
		dym = hvt_did_you_mean(argv[1], names, n);
		if (dym)
			hvt_err("unknown command '%s' (did you mean '%s'?)", argv[1], dym);
		else
			hvt_err("unknown command '%s' (see: hvtax --help)", argv[1]);
	}
	return HVT_EXIT_USAGE;
}
