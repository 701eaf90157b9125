/* SPDX-License-Identifier: MIT */
/* The CI regression gate: thresholds, verdicts per case and metric, Markdown and JUnit output. */
#ifndef HVT_GATE_H
#define HVT_GATE_H

#include <stddef.h>
#include <stdio.h>

#include "compare.h"

/* Default regression threshold: a tax of 5%. */
#define HVT_GATE_THRESHOLD_DEFAULT 0.05

struct hvt_threshold_rule {
	char *pattern; /* glob on the case key, the bench name or the family */
	char *metric;  /* glob on the metric name; "*" when the rule named none */
	double frac;   /* threshold as a fraction (0.10 = 10%) */
	char *where;   /* "FILE:LINE" or "--threshold", for messages */
};

/*
 * Thresholds: a default and rules. A rule's key is "PATTERN" or
 * "PATTERN:METRIC" (split at the last ':'); PATTERN is an fnmatch(3) glob
 * matched against the case key ("cpu.int?threads=1"), the bench name
 * ("cpu.int") and the family ("cpu"). The first matching rule in file
 * order wins; without one the default applies.
 */
struct hvt_thresholds {
	double def;
	struct hvt_threshold_rule *rules;
	size_t n;
};

void hvt_thresholds_init(struct hvt_thresholds *t, double def);
void hvt_thresholds_free(struct hvt_thresholds *t);
/* Add one rule; `value` as "10%" or "0.1". 0, -EINVAL (reported with `where`), -ENOMEM. */
int hvt_thresholds_add(struct hvt_thresholds *t, const char *key, const char *value,
		       const char *where) __attribute__((warn_unused_result));
/*
 * Load an INI file: section [thresholds] with "default = 5%" and rules.
 * Other sections are errors. 0 or -errno (reported with file and line).
 */
int hvt_thresholds_load(struct hvt_thresholds *t, const char *path)
    __attribute__((warn_unused_result));
/* Threshold for one series; `rule` (may be NULL) gets the matching rule or NULL for the default. */
double hvt_thresholds_lookup(const struct hvt_thresholds *t, const char *case_key,
			     const char *bench, const char *metric,
			     const struct hvt_threshold_rule **rule);

enum hvt_gate_verdict {
	HVT_GATE_PASS = 0,  /* no regression shown */
	HVT_GATE_REGRESSED, /* CI lower bound of the tax above the threshold */
	HVT_GATE_IMPROVED,  /* CI upper bound of the tax below -threshold */
	HVT_GATE_UNDEF,	    /* tax or its CI undefined (zero medians, bad values): not judged */
	HVT_GATE_MISSING,   /* in the baseline, absent from the candidate */
	HVT_GATE_NEW,	    /* in the candidate only: informational */
};

struct hvt_gate_item {
	const char *case_key, *metric;	   /* point into the comparison */
	const struct hvt_compare_row *row; /* NULL for missing and new series */
	double threshold;
	enum hvt_gate_verdict verdict;
	int fails; /* 1 when this item fails the gate */
};

struct hvt_gate {
	const struct hvt_compare *cmp;	   /* not owned */
	const char *base_name, *cand_name; /* as given on the command line; not owned */
	int missing_fail;
	struct hvt_gate_item *items; /* regressions first, then the rest in comparison order */
	size_t n;
	size_t n_regressed, n_improved, n_undef, n_missing, n_new, n_pass;
	int failed; /* 1 when any item fails */
};

/*
 * Judge every row of `c` against `t`. Missing series fail when
 * `missing_fail`. `g` references `c` (keep it alive). 0 or -ENOMEM.
 */
int hvt_gate_decide(struct hvt_gate *g, const struct hvt_compare *c, const struct hvt_thresholds *t,
		    int missing_fail) __attribute__((warn_unused_result));
void hvt_gate_free(struct hvt_gate *g);

/* Verdict word: "pass", "REGRESSED", "improved", "undefined", "missing", "new". */
const char *hvt_gate_verdict_name(enum hvt_gate_verdict v);

/* Human summary; Markdown for a pull-request comment; JUnit XML (one testcase per series). */
void hvt_gate_print(const struct hvt_gate *g, FILE *out);
void hvt_gate_write_markdown(const struct hvt_gate *g, FILE *out);
void hvt_gate_write_junit(const struct hvt_gate *g, FILE *out);

/*
 * `hvtax gate --baseline B --candidate C [--threshold 5%] [--thresholds FILE]
 *  [--missing fail|warn] [--junit FILE] [--markdown FILE] [--db FILE] [--seed N]
 *  [--level L] [--resamples N] [--paired]`. B and C: run id, label, or an
 * exported JSON Lines file. Exit: 0 no regression, 1 a metric regressed (or a
 * series is missing with --missing fail), 2 usage or data errors (a run not
 * found, no common series, bad thresholds file).
 */
int hvt_cmd_gate(int argc, char **argv);

#endif
