/* SPDX-License-Identifier: MIT */
/* Export a stored run as JSON Lines and import a JSON Lines file as a run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/schema.h"
#include "../common/util.h"
#include "export.h"

static int db_fail(struct hvt_store *st, const char *what)
{
	hvt_err("database '%s': %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return -EIO;
}

static json_t *col_text_json(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
}

static void set_text(json_t *o, const char *key, sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	if (t)
		json_object_set_new(o, key, json_string(t));
}

static json_t *record(const char *type)
{
	json_t *o = json_object();

	if (o) {
		json_object_set_new(o, "type", json_string(type));
		json_object_set_new(o, "schema", json_integer(HVT_SCHEMA_VERSION));
	}
	return o;
}

/* Write one record and free it. */
static int emit(FILE *out, json_t *rec)
{
	int ret = 0;

	if (!rec)
		return -ENOMEM;
	if (json_dumpf(rec, out, JSON_COMPACT) || fputc('\n', out) == EOF)
		ret = -EIO;
	json_decref(rec);
	return ret;
}

static int prepare(struct hvt_store *st, const char *sql, int64_t run_id, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return db_fail(st, "cannot prepare statement");
	sqlite3_bind_int64(*s, 1, run_id);
	return 0;
}

static int export_head(struct hvt_store *st, int64_t run_id, FILE *out, char *status,
		       size_t status_len, char *ended, size_t ended_len)
{
	static const char sql[] = "SELECT uuid, label, target, suite, host, tool_version, "
				  "tool_commit, started, fingerprint, plan, status, ended "
				  "FROM runs WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	json_t *rec, *origin, *fp, *plan;
	int rc, ret;

	ret = prepare(st, sql, run_id, &s);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			hvt_err("no run with id %lld in '%s'", (long long)run_id, st->path);
			ret = -ENOENT;
		} else {
			ret = db_fail(st, "cannot read run");
		}
		goto out;
	}
	rec = record(HVT_REC_FINGERPRINT);
	origin = json_object();
	if (!rec || !origin) {
		json_decref(rec);
		json_decref(origin);
		ret = -ENOMEM;
		goto out;
	}
	json_object_set_new(rec, "tool", json_string("hvtax-bench"));
	if (sqlite3_column_type(s, 5) == SQLITE_NULL)
		json_object_set_new(rec, "version", json_string("unknown"));
	else
		set_text(rec, "version", s, 5);
	set_text(rec, "commit", s, 6);
	set_text(rec, "time", s, 7);
	fp = col_text_json(s, 8);
	json_object_set_new(rec, "fingerprint", json_is_object(fp) ? fp : json_object());
	if (fp && !json_is_object(fp))
		json_decref(fp);
	set_text(origin, "uuid", s, 0);
	set_text(origin, "label", s, 1);
	set_text(origin, "target", s, 2);
	set_text(origin, "suite", s, 3);
	set_text(origin, "host", s, 4);
	json_object_set_new(rec, "origin", origin);
	ret = emit(out, rec);
	if (ret)
		goto out;
	plan = col_text_json(s, 9);
	if (json_is_object(plan)) {
		ret = emit(out, plan);
		if (ret)
			goto out;
	} else {
		json_decref(plan);
	}
	snprintf(status, status_len, "%s",
		 sqlite3_column_text(s, 10) ? (const char *)sqlite3_column_text(s, 10) : "");
	snprintf(ended, ended_len, "%s",
		 sqlite3_column_text(s, 11) ? (const char *)sqlite3_column_text(s, 11) : "");
out:
	sqlite3_finalize(s);
	return ret;
}

static json_t *metrics_of(struct hvt_store *st, int64_t case_id)
{
	sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (prepare(st,
		    "SELECT name, unit, higher_better FROM metrics WHERE case_id = ?1 ORDER BY id",
		    case_id, &s))
		return NULL;
	arr = json_array();
	while (arr && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *m = json_object();

		set_text(m, "name", s, 0);
		set_text(m, "unit", s, 1);
		json_object_set_new(
		    m, "dir",
		    json_string(sqlite3_column_int(s, 2) ? HVT_DIR_HIGHER : HVT_DIR_LOWER));
		json_array_append_new(arr, m);
	}
	if (arr && rc != SQLITE_DONE) {
		db_fail(st, "cannot read metrics");
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(s);
	return arr;
}

struct sample_q {
	sqlite3_stmt *samples, *side;
};

static json_t *side_of(struct hvt_store *st, sqlite3_stmt *s, int64_t run_id, int64_t case_id,
		       int round, int rep, int warm)
{
	json_t *o = json_object();
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int64(s, 2, case_id);
	sqlite3_bind_int(s, 3, round);
	sqlite3_bind_int(s, 4, rep);
	sqlite3_bind_int(s, 5, warm);
	while (o && (rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_set_new(o, (const char *)sqlite3_column_text(s, 0),
				    json_real(sqlite3_column_double(s, 1)));
	if (o && rc != SQLITE_DONE) {
		db_fail(st, "cannot read side channels");
		json_decref(o);
		o = NULL;
	}
	sqlite3_reset(s);
	return o;
}

/* The samples of one result record, rebuilt from the rows in stored order. */
static json_t *samples_of(struct hvt_store *st, struct sample_q *q, int64_t run_id, int64_t case_id,
			  int round, json_t *sample_extra)
{
	sqlite3_stmt *s = q->samples;
	json_t *arr = json_array(), *cur = NULL;
	int last_rep = -1, last_warm = -1, rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int64(s, 2, case_id);
	sqlite3_bind_int(s, 3, round);
	while (arr && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int rep = sqlite3_column_int(s, 0), warm = sqlite3_column_int(s, 1);

		if (!cur || rep != last_rep || warm != last_warm) {
			char k[32];
			json_t *x;

			cur = json_object();
			if (!cur)
				break;
			json_array_append_new(arr, cur);
			json_object_set_new(cur, "rep", json_integer(rep));
			json_object_set_new(cur, "warmup", json_boolean(warm));
			if (sqlite3_column_type(s, 2) != SQLITE_NULL)
				json_object_set_new(cur, "t_start",
						    json_real(sqlite3_column_double(s, 2)));
			if (sqlite3_column_type(s, 3) != SQLITE_NULL)
				json_object_set_new(cur, "dur_s",
						    json_real(sqlite3_column_double(s, 3)));
			json_object_set_new(cur, "values", json_object());
			json_object_set_new(
			    cur, "side", side_of(st, q->side, run_id, case_id, round, rep, warm));
			snprintf(k, sizeof(k), "%d%s", rep, warm ? "w" : "");
			x = json_object_get(sample_extra, k);
			if (x)
				json_object_set(cur, "extra", x);
			last_rep = rep;
			last_warm = warm;
		}
		json_object_set_new(json_object_get(cur, "values"),
				    (const char *)sqlite3_column_text(s, 4),
				    json_real(sqlite3_column_double(s, 5)));
	}
	if (arr && rc != SQLITE_DONE) {
		db_fail(st, "cannot read samples");
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_reset(s);
	return arr;
}

static int export_results(struct hvt_store *st, int64_t run_id, FILE *out)
{
	static const char sql[] =
	    "SELECT r.case_id, r.round, r.json, c.bench, c.case_key, c.params "
	    "FROM results_extra r JOIN cases c ON c.id = r.case_id "
	    "WHERE r.run_id = ?1 ORDER BY r.id";
	struct sample_q q = {NULL, NULL};
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prepare(st, sql, run_id, &s);
	if (ret)
		return ret;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT s.rep, s.warmup, s.t_start, s.dur_s, m.name, s.value "
			       "FROM samples s JOIN metrics m ON m.id = s.metric_id "
			       "WHERE s.run_id = ?1 AND s.case_id = ?2 AND s.round = ?3 "
			       "ORDER BY s.rowid",
			       -1, &q.samples, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
			       "SELECT name, value FROM side WHERE run_id = ?1 AND case_id = ?2 "
			       "AND round = ?3 AND rep = ?4 AND warmup = ?5 ORDER BY rowid",
			       -1, &q.side, NULL) != SQLITE_OK) {
		ret = db_fail(st, "cannot prepare statement");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t case_id = sqlite3_column_int64(s, 0);
		int round = sqlite3_column_int(s, 1);
		json_t *x = col_text_json(s, 2), *rec = record(HVT_REC_RESULT);
		json_t *params = col_text_json(s, 5), *metrics, *samples;

		if (!rec) {
			json_decref(x);
			json_decref(params);
			ret = -ENOMEM;
			goto out;
		}
		set_text(rec, "bench", s, 3);
		set_text(rec, "case", s, 4);
		json_object_set_new(rec, "params", json_is_object(params) ? params : json_object());
		if (params && !json_is_object(params))
			json_decref(params);
		metrics = metrics_of(st, case_id);
		samples =
		    samples_of(st, &q, run_id, case_id, round, json_object_get(x, "sample_extra"));
		if (!metrics || !samples) {
			json_decref(metrics);
			json_decref(samples);
			json_decref(x);
			json_decref(rec);
			ret = -EIO;
			goto out;
		}
		json_object_set_new(rec, "metrics", metrics);
		json_object_set_new(rec, "round", json_integer(round));
		if (json_object_get(x, "placement"))
			json_object_set(rec, "placement", json_object_get(x, "placement"));
		json_object_set_new(rec, "samples", samples);
		if (json_object_get(x, "extra"))
			json_object_set(rec, "extra", json_object_get(x, "extra"));
		json_decref(x);
		ret = emit(out, rec);
		if (ret)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(st, "cannot read results");
out:
	sqlite3_finalize(q.samples);
	sqlite3_finalize(q.side);
	sqlite3_finalize(s);
	return ret;
}

static int export_tail(struct hvt_store *st, int64_t run_id, FILE *out)
{
	sqlite3_stmt *s = NULL;
	int rc, ret;

	ret = prepare(st,
		      "SELECT bench, case_key, params, reason FROM skips WHERE run_id = ?1 "
		      "ORDER BY id",
		      run_id, &s);
	if (ret)
		return ret;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *rec = record(HVT_REC_SKIP), *params = col_text_json(s, 2);

		if (rec) {
			set_text(rec, "bench", s, 0);
			set_text(rec, "case", s, 1);
			if (json_is_object(params))
				json_object_set(rec, "params", params);
			set_text(rec, "reason", s, 3);
		}
		json_decref(params);
		ret = emit(out, rec);
		if (ret)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = db_fail(st, "cannot read skips");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	ret = prepare(st,
		      "SELECT bench, case_key, round, errno, message, extra FROM errors "
		      "WHERE run_id = ?1 ORDER BY id",
		      run_id, &s);
	if (ret)
		return ret;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *rec = record(HVT_REC_ERROR);

		if (rec) {
			set_text(rec, "bench", s, 0);
			set_text(rec, "case", s, 1);
			if (sqlite3_column_type(s, 2) != SQLITE_NULL)
				json_object_set_new(rec, "round",
						    json_integer(sqlite3_column_int64(s, 2)));
			set_text(rec, "message", s, 4);
			if (sqlite3_column_type(s, 3) != SQLITE_NULL)
				json_object_set_new(rec, "errno",
						    json_integer(sqlite3_column_int64(s, 3)));
			if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
				json_t *ex = json_loads((const char *)sqlite3_column_text(s, 5), 0, NULL);

				if (ex)
					json_object_set_new(rec, "extra", ex);
			}
		}
		ret = emit(out, rec);
		if (ret)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_fail(st, "cannot read errors");
out:
	sqlite3_finalize(s);
	return ret;
}

int hvt_export_run(struct hvt_store *st, int64_t run_id, FILE *out)
{
	char status[32], ended[64];
	int ret;

	ret = export_head(st, run_id, out, status, sizeof(status), ended, sizeof(ended));
	if (!ret)
		ret = export_results(st, run_id, out);
	if (!ret)
		ret = export_tail(st, run_id, out);
	/* only a finished run has an end record; a partial one stays partial */
	if (!ret &&
	    (!strcmp(status, "ok") || !strcmp(status, "failed") || !strcmp(status, "refused"))) {
		json_t *rec = record(HVT_REC_END);

		if (rec) {
			json_object_set_new(rec, "status", json_string(status));
			if (ended[0])
				json_object_set_new(rec, "time", json_string(ended));
		}
		ret = emit(out, rec);
	}
	if (!ret && fflush(out))
		ret = -EIO;
	if (ret == -EIO && ferror(out))
		hvt_err("cannot write run %lld: %s", (long long)run_id, strerror(errno));
	else if (ret == -ENOMEM)
		hvt_err("out of memory exporting run %lld", (long long)run_id);
	return ret;
}

/* ---- import ---- */

/* Label and target recorded by an export, so a merged run keeps its identity. */
static void origin_of(const char *line, char *label, size_t llen, char *target, size_t tlen)
{
	json_t *rec = json_loads(line, 0, NULL);
	json_t *o = json_object_get(rec, "origin");
	const char *l = json_string_value(json_object_get(o, "label"));
	const char *t = json_string_value(json_object_get(o, "target"));
	const char *type = json_string_value(json_object_get(rec, "type"));

	label[0] = target[0] = '\0';
	if (json_is_object(o) && type && !strcmp(type, HVT_REC_FINGERPRINT)) {
		if (l)
			snprintf(label, llen, "%s", l);
		if (t)
			snprintf(target, tlen, "%s", t);
	}
	json_decref(rec);
}

int hvt_import_file(struct hvt_store *st, const char *path, const char *label, int64_t *run_id)
{
	int is_stdin = !strcmp(path, "-");
	const char *source = is_stdin ? "<stdin>" : path;
	struct hvt_ingest *in = NULL;
	FILE *f = is_stdin ? stdin : fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, ret = 0;

	if (!f) {
		ret = -errno;
		hvt_err("cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((size_t)len != strlen(line)) {
			hvt_err("%s:%d: line contains a NUL byte", source, lineno);
			ret = -EINVAL;
			goto out;
		}
		if (!in) {
			char olabel[256], otarget[256];
			struct hvt_run_meta m = {NULL, NULL, NULL, source};

			if (strspn(line, " \t\r\n") == (size_t)len)
				continue;
			origin_of(line, olabel, sizeof(olabel), otarget, sizeof(otarget));
			m.label = label ? label : (olabel[0] ? olabel : NULL);
			m.target = otarget[0] ? otarget : "import";
			in = hvt_ingest_begin(st, &m);
			if (!in) {
				ret = -EIO;
				goto out;
			}
		}
		ret = hvt_ingest_line(in, line, lineno);
		if (ret)
			goto out;
	}
	if (ferror(f)) {
		ret = -EIO;
		hvt_err("cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!in) {
		hvt_err("%s: no records", source);
		ret = -EINVAL;
		goto out;
	}
	{
		int64_t id = hvt_ingest_commit(in, NULL);

		in = NULL;
		if (id < 0)
			ret = (int)id;
		else
			*run_id = id;
	}
out:
	if (in)
		hvt_ingest_abort(in);
	free(line);
	if (!is_stdin)
		fclose(f);
	return ret;
}
