/* SPDX-License-Identifier: MIT */
/* The SQLite store: runs, cases, metrics, samples, side channels, skips, errors. */
#ifndef HVT_STORE_H
#define HVT_STORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct hvt_store {
	sqlite3 *db;
	char *path;
};

/*
 * Open (and create, with parent directory) the database at `path`, set WAL
 * mode, and bring its schema up to the current version with migrations.
 * A database from a newer hvtax is refused. 0 or -errno (message printed).
 */
int hvt_store_open(struct hvt_store *st, const char *path) __attribute__((warn_unused_result));
void hvt_store_close(struct hvt_store *st);
/* Current schema version of this build. */
int hvt_store_schema_version(void);

/* ---- ingest: one transaction per run ---- */

struct hvt_run_meta {
	const char *label;  /* may be NULL */
	const char *target; /* "host", "container", "vm", "ssh:HOST", "import" ... */
	const char *suite;  /* suite name or path, may be NULL */
	const char *source; /* where records came from, for messages (file name or "hvtax-bench") */
};

struct hvt_ingest; /* opaque: a run being stored */

/*
 * Start a run. NULL on error (reported). Records are checked as they arrive
 * and kept aside (a temporary file); nothing reaches the database before
 * hvt_ingest_commit(), which writes the whole run in one transaction. So a
 * long run holds no write lock, and several runs may be ingested at once.
 */
struct hvt_ingest *hvt_ingest_begin(struct hvt_store *st, const struct hvt_run_meta *m);
/*
 * Check and keep one JSON Lines record (blank lines are ignored). `lineno`
 * is used in messages ("SOURCE:LINE: TYPE: field 'x' must be ..."). -EINVAL
 * for a malformed, unknown or out-of-order record (reported; it is dropped
 * and the run may go on), other -errno for I/O errors.
 */
int hvt_ingest_line(struct hvt_ingest *in, const char *line, int lineno)
    __attribute__((warn_unused_result));
/* Record a harness-side error for the run (timeout, crash, exit status). */
int hvt_ingest_error(struct hvt_ingest *in, const char *message);
/*
 * Finish: BEGIN, insert the run and its records, set ended time and status
 * ("ok", "failed", "partial"; NULL = the end record's status, or "partial"
 * when there was none), COMMIT. Returns the new run id (> 0) or -errno
 * (nothing stored). Frees `in`.
 */
int64_t hvt_ingest_commit(struct hvt_ingest *in, const char *status);
/* Abandon: nothing of the run is kept. Frees `in`. */
void hvt_ingest_abort(struct hvt_ingest *in);

/* "ok"/"failed" from the run's end record, NULL when none was seen yet. */
const char *hvt_ingest_end_status(const struct hvt_ingest *in);
/* Result records and (non-null) sample values accepted so far; either pointer may be NULL. */
void hvt_ingest_counts(const struct hvt_ingest *in, size_t *nresults, size_t *nsamples);

/* ---- queries ---- */

/*
 * Resolve "42" (run id) or a label (the latest run with it) to a run id.
 * 0, or -ENOENT (reported: "no run with id or label '%s'").
 */
int hvt_store_resolve(struct hvt_store *st, const char *spec, int64_t *run_id)
    __attribute__((warn_unused_result));

/* One (case, metric) of one run: its non-warm-up samples in round/rep order. */
struct hvt_series {
	char *case_key; /* canonical case key */
	char *bench;	/* family.case */
	char *metric;
	char *unit;
	int higher_better; /* 1 higher-is-better, 0 lower-is-better */
	size_t n;
	double *v;  /* values */
	int *round; /* round index of each value */
	int *rep;   /* repetition index within the round */
};

/* All series of a run, ordered by case key then metric. 0 or -errno. */
int hvt_store_series(struct hvt_store *st, int64_t run_id, struct hvt_series **out, size_t *n)
    __attribute__((warn_unused_result));
void hvt_series_free(struct hvt_series *s, size_t n);

/* The run's row as JSON {id,label,target,suite,status,started,ended,version,fingerprint:{...}}. */
json_t *hvt_store_run_info(struct hvt_store *st, int64_t run_id);
/* Skips and errors of a run as JSON arrays of {case,reason} / {case,message}. */
json_t *hvt_store_run_skips(struct hvt_store *st, int64_t run_id);
json_t *hvt_store_run_errors(struct hvt_store *st, int64_t run_id);
/*
 * What each case's automatic parameters resolved to (the "resolved" object of its
 * samples' extra): {case_key: {name: [distinct values]}}; NULL on error.
 */
json_t *hvt_store_run_resolved(struct hvt_store *st, int64_t run_id);

#endif
