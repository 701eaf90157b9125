/* SPDX-License-Identifier: MIT */
/* hvtax report: one data model of runs and their taxes, many writers. */
#ifndef HVT_REPORT_H
#define HVT_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chart.h"
#include "compare.h"
#include "stats.h"
#include "store.h"

/* Version of the JSON, CSV and OpenMetrics documents. */
#define HVT_REPORT_SCHEMA 1

/* One run as the writers see it. */
struct hvt_report_run {
	int64_t id;
	char *name;   /* label, else "run N" */
	json_t *info; /* hvt_store_run_info(), stripped in deterministic mode */
	json_t *skips, *errors;
	struct hvt_series *series;
	size_t nseries;
	struct hvt_summary *sum; /* one per series (n == 0 when the series is empty) */
	double steal_frac;	 /* steal time over timed repetition time; NAN when unknown */
	char *jsonl;		 /* the run exported as JSON Lines (raw data for download) */
	size_t jsonl_len;
};

struct hvt_report {
	struct hvt_report_run *runs;
	size_t nruns;
	int has_base;		 /* 1 when taxes are computed */
	size_t base;		 /* index of the baseline run */
	struct hvt_compare *cmp; /* nruns entries; cmp[i] of run i against the base (i != base) */
	struct hvt_compare_opts opts;
	int deterministic; /* no timestamps, versions or paths: stable for golden files */
	char **warnings;   /* noise warnings, in order */
	size_t nwarnings;
	char *generated; /* ISO 8601 time of the report; NULL in deterministic mode */
};

/*
 * Build the model: runs ids[0..n) of `st`, taxes against ids[base] when
 * base >= 0 (compare options `o`, may be NULL). 0 or -errno (reported).
 */
int hvt_report_build(struct hvt_report *r, struct hvt_store *st, const int64_t *ids, size_t n,
		     long base, const struct hvt_compare_opts *o, int deterministic)
    __attribute__((warn_unused_result));
void hvt_report_free(struct hvt_report *r);

/* The model as one JSON document (new reference; NULL on allocation failure). */
json_t *hvt_report_to_json(const struct hvt_report *r);

/* Writers: none computes; each formats the model. 0 or -errno. */
int hvt_report_write_text(const struct hvt_report *r, FILE *out);
int hvt_report_write_md(const struct hvt_report *r, FILE *out);
int hvt_report_write_csv(const struct hvt_report *r, FILE *out);
int hvt_report_write_json(const struct hvt_report *r, FILE *out);
int hvt_report_write_openmetrics(const struct hvt_report *r, FILE *out);
int hvt_report_write_html(const struct hvt_report *r, FILE *out);

/* ---- charts of the model (report_charts.c) ---- */

/* A chart with its data kept alive, and a file-name-safe slug. */
struct hvt_report_chart {
	struct hvt_chart c;
	char *slug;
	char *section;		      /* "tax", "sweep", "percentiles" */
	struct hvt_chart_bar *bars;   /* owned */
	struct hvt_chart_line *lines; /* owned, with their x, y and names */
	char **labels;		      /* owned strings behind bars and titles */
	size_t nlabels;
};

/* Every chart of the report. 0 or -ENOMEM. */
int hvt_report_charts(const struct hvt_report *r, struct hvt_report_chart **out, size_t *n)
    __attribute__((warn_unused_result));
void hvt_report_charts_free(struct hvt_report_chart *c, size_t n);

/*
 * `hvtax report RUN... [--baseline RUN] [--format text|md|html|csv|json|openmetrics]
 *  [-o FILE] [--charts DIR] [--chart-format svg|png|pdf] [--deterministic] [--db FILE]`.
 * 0 ok, 2 usage or data errors, 1 other failures.
 */
int hvt_cmd_report(int argc, char **argv);

#endif
