/* SPDX-License-Identifier: MIT */
/* Harness options declared once in a table that drives getopt_long and the usage text. */
#ifndef HVT_OPTS_H
#define HVT_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runs.h"

/*
 * One command-line option. getopt_long returns val for --name (and for -short_name,
 * which must then equal val). arg names the value in the usage (NULL: a flag); help is
 * one line, or several separated by '\n' (continuations are aligned under the first).
 */
struct hvt_opt {
	const char *name;
	char short_name; /* 0: long option only */
	int has_arg;	 /* no_argument or required_argument */
	int val;
	const char *arg;
	const char *help;
};

/* Values of the options several commands share; above any character getopt returns. */
enum {
	HVT_OPT_DB = 0x100,
	HVT_OPT_SEED,
	HVT_OPT_LEVEL,
	HVT_OPT_RESAMPLES,
	HVT_OPT_PAIRED,
	HVT_OPT_PEER_TARGET,
	HVT_OPT_PEER_PORT,
	HVT_OPT_PEER_ADDR,
	HVT_OPT_HELP = 'h',
};

/* The shared rows, so that every command words them alike. */
#define HVT_OPT_ROW_DB                                                                         \
	{ "db", 0, required_argument, HVT_OPT_DB, "FILE",                                      \
	  "database (default $HVTAX_DB or " HVT_DEFAULT_DB ")" }
/* run and matrix: the net cases' serving end in a target of its own (harness/netpair.h) */
#define HVT_OPT_ROWS_PEER                                                                      \
	{ "peer-target", 0, required_argument, HVT_OPT_PEER_TARGET, "T",                       \
	  "net cases: run their serving end in target T (host,\n"                              \
	  "container, ssh:HOST); the run's target(s) measure" },                               \
	    { "peer-port", 0, required_argument, HVT_OPT_PEER_PORT, "N",                       \
	      "the server's port (default 7361)" },                                            \
	{                                                                                      \
		"peer-addr", 0, required_argument, HVT_OPT_PEER_ADDR, "A",                     \
		    "the server's address as every client sees it\n"                           \
		    "(default: worked out per target pair)"                                    \
	}
#define HVT_OPT_ROW_SEED(help) { "seed", 0, required_argument, HVT_OPT_SEED, "N", help }
#define HVT_OPT_ROW_LEVEL                                                                      \
	{ "level", 0, required_argument, HVT_OPT_LEVEL, "L",                                   \
	  "confidence level, 0.95 or 95% (default 0.95)" }
#define HVT_OPT_ROW_RESAMPLES                                                                  \
	{ "resamples", 0, required_argument, HVT_OPT_RESAMPLES, "N",                          \
	  "bootstrap replicates (default 2000)" }
#define HVT_OPT_ROW_PAIRED                                                                     \
	{ "paired", 0, no_argument, HVT_OPT_PAIRED, NULL,                                      \
	  "pair rounds by index (environments interleaved)" }
#define HVT_OPT_ROW_HELP { "help", 'h', no_argument, HVT_OPT_HELP, NULL, "this help" }

#define HVT_OPT_MAX 32

/* What getopt_long takes, built from a table. */
struct hvt_getopt {
	struct option lopts[HVT_OPT_MAX + 1];
	char shorts[3 * HVT_OPT_MAX + 4];
};

/*
 * Fill g from the n rows of t; lead ("" or "+" to stop at the first argument) starts the
 * short-option string. Returns 0, -E2BIG for more than HVT_OPT_MAX rows, or -EINVAL for
 * a row whose short_name differs from its val (a table bug).
 */
int hvt_opts_build(struct hvt_getopt *g, const struct hvt_opt *t, size_t n, const char *lead)
	__attribute__((warn_unused_result));

/* The option lines of a usage, aligned in two columns: "  -s, --suite S   help". */
void hvt_opts_usage(FILE *f, const struct hvt_opt *t, size_t n);

/* "invalid option '%s' (see: hvtax CMD --help)" for the argument getopt_long refused. */
void hvt_opts_bad(const char *cmd, char *const *argv);

/*
 * Value parsers: each stores the value and returns 0, or reports
 * "invalid --OPT 'ARG': expected ..." and returns -EINVAL.
 */
int hvt_opt_seed(const char *arg, uint64_t *out) __attribute__((warn_unused_result));
int hvt_opt_level(const char *arg, double *out) __attribute__((warn_unused_result));
int hvt_opt_resamples(const char *arg, unsigned *out) __attribute__((warn_unused_result));
/* --rounds N of run and matrix: 1..100000. 0, or -EINVAL after saying why. */
int hvt_opt_rounds(const char *arg, unsigned *out) __attribute__((warn_unused_result));

/*
 * Index of arg among the n choices, or -EINVAL after reporting
 * "invalid --OPT 'ARG': expected a, b or c".
 */
int hvt_opt_choice(const char *opt, const char *arg, const char *const *choices, size_t n)
	__attribute__((warn_unused_result));

/*
 * Append arg to list[*n] for a repeatable option, at most max of them; else reports
 * "--OPT: at most MAX files" and returns -E2BIG.
 */
int hvt_opt_append(const char *opt, const char **list, size_t *n, size_t max, const char *arg)
	__attribute__((warn_unused_result));

struct hvt_compare_opts;
/*
 * The bootstrap options (HVT_OPT_SEED, _LEVEL, _RESAMPLES, _PAIRED) into co.
 * Returns 0 when handled, 1 when val is none of them, -EINVAL on a bad value (reported).
 */
int hvt_opt_compare(int val, const char *arg, struct hvt_compare_opts *co)
	__attribute__((warn_unused_result));

#endif
