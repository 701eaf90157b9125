/* SPDX-License-Identifier: MIT */
/* The SQLite store: open and migrate, ingest JSON Lines records, query runs and series. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/schema.h"
#include "../common/util.h"
#include "store.h"

#define BUSY_TIMEOUT_MS 30000

/*
 * Migrations, applied in order inside one transaction each. Append new ones;
 * never edit a released one. Migration i brings the schema to version i+1.
 */
static const char *const migrations[] = {
    /* 1: everything */
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " label TEXT,"
    " target TEXT,"
    " suite TEXT,"
    " source TEXT,"
    " status TEXT NOT NULL,"
    " started TEXT,"
    " ended TEXT,"
    " tool_version TEXT,"
    " tool_commit TEXT,"
    " fingerprint TEXT,"
    " plan TEXT,"
    " seed INTEGER,"
    " payload_hash TEXT,"
    " host TEXT);"
    "CREATE INDEX runs_label ON runs(label, id);"
    "CREATE TABLE cases ("
    " id INTEGER PRIMARY KEY,"
    " bench TEXT NOT NULL,"
    " case_key TEXT NOT NULL UNIQUE,"
    " params TEXT NOT NULL);"
    "CREATE TABLE metrics ("
    " id INTEGER PRIMARY KEY,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " name TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " higher_better INTEGER NOT NULL,"
    " UNIQUE(case_id, name));"
    "CREATE TABLE samples ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " metric_id INTEGER NOT NULL REFERENCES metrics(id),"
    " round INTEGER NOT NULL,"
    " rep INTEGER NOT NULL,"
    " warmup INTEGER NOT NULL,"
    " t_start REAL,"
    " dur_s REAL,"
    " value REAL NOT NULL);"
    "CREATE INDEX samples_run ON samples(run_id, case_id, metric_id);"
    "CREATE TABLE side ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " round INTEGER NOT NULL,"
    " rep INTEGER NOT NULL,"
    " warmup INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " value REAL NOT NULL);"
    "CREATE INDEX side_run ON side(run_id, case_id, round, rep);"
    "CREATE TABLE results_extra ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " round INTEGER NOT NULL,"
    " json TEXT);"
    "CREATE INDEX results_extra_run ON results_extra(run_id, case_id, round);"
    "CREATE TABLE skips ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " case_key TEXT NOT NULL,"
    " bench TEXT NOT NULL,"
    " params TEXT,"
    " reason TEXT NOT NULL);"
    "CREATE INDEX skips_run ON skips(run_id);"
    "CREATE TABLE errors ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " bench TEXT,"
    " case_key TEXT,"
    " round INTEGER,"
    " errno INTEGER,"
    " message TEXT NOT NULL);"
    "CREATE INDEX errors_run ON errors(run_id);"
    "INSERT INTO schema_version(version) VALUES (0);",
    /* 2: what a failed case recorded about its failure (e.g. coll's wrong_elements), as JSON */
    "ALTER TABLE errors ADD COLUMN extra TEXT;",
};

int hvt_store_schema_version(void)
{
	return (int)HVT_ARRAY_SIZE(migrations);
}

static int db_err(struct hvt_store *st, const char *what)
{
	int code = sqlite3_errcode(st->db);

	hvt_err("database '%s': %s: %s", st->path, what, sqlite3_errmsg(st->db));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return -EBUSY;
	if (code == SQLITE_FULL)
		return -ENOSPC;
	if (code == SQLITE_READONLY || code == SQLITE_PERM)
		return -EACCES;
	if (code == SQLITE_NOMEM)
		return -ENOMEM;
	return -EIO;
}

static int exec(struct hvt_store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(st, what);
	return 0;
}

/* 0 and the version (0 for a fresh database), or -errno. */
static int read_version(struct hvt_store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int ret = 0, rc;

	*version = 0;
	if (sqlite3_prepare_v2(
		st->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'",
		-1, &s, NULL) != SQLITE_OK)
		return db_err(st, "cannot read schema");
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_err(st, "cannot read schema");
	if (sqlite3_prepare_v2(st->db, "SELECT MAX(version) FROM schema_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return db_err(st, "cannot read schema version");
	if (sqlite3_step(s) == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	else
		ret = db_err(st, "cannot read schema version");
	sqlite3_finalize(s);
	return ret;
}

static int migrate(struct hvt_store *st)
{
	const int target = hvt_store_schema_version();
	int version, ret;

	ret = exec(st, "BEGIN IMMEDIATE", "cannot start migration");
	if (ret)
		return ret;
	ret = read_version(st, &version);
	if (ret)
		goto out_rollback;
	if (version > target) {
		hvt_err("database '%s' has schema version %d, newer than this hvtax supports (%d); "
			"upgrade hvtax",
			st->path, version, target);
		ret = -EPROTONOSUPPORT;
		goto out_rollback;
	}
	for (int v = version; v < target; v++) {
		char *err = NULL;
		char sql[96];

		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, &err) != SQLITE_OK) {
			hvt_err("database '%s': migration %d failed: %s", st->path, v + 1,
				err ? err : "unknown error");
			sqlite3_free(err);
			ret = -EIO;
			goto out_rollback;
		}
		snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", v + 1);
		ret = exec(st, sql, "cannot record schema version");
		if (ret)
			goto out_rollback;
	}
	ret = exec(st, "COMMIT", "cannot commit migration");
	if (ret)
		goto out_rollback;
	return 0;

out_rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* mkdir -p of the directory part of `path`. */
static int make_parent(const char *path)
{
	char *dir = hvt_strdup(path);
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0777) && errno != EEXIST) {
			ret = -errno;
			hvt_err("cannot create directory '%s': %s", dir, strerror(errno));
			break;
		}
		*p = '/';
	}
	free(dir);
	return ret;
}

int hvt_store_open(struct hvt_store *st, const char *path)
{
	int ret;

	st->db = NULL;
	st->path = hvt_strdup(path);
	if (!st->path)
		return -ENOMEM;
	ret = make_parent(path);
	if (ret)
		goto out_free;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		hvt_err("cannot open database '%s': %s", path,
			st->db ? sqlite3_errmsg(st->db) : "out of memory");
		ret = -EIO;
		goto out_close;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 0);
	ret = exec(st, "PRAGMA journal_mode=WAL", "cannot enable WAL mode");
	if (ret)
		goto out_close;
	ret = exec(st, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", "cannot set pragmas");
	if (ret)
		goto out_close;
	ret = migrate(st);
	if (ret)
		goto out_close;
	return 0;

out_close:
	sqlite3_close(st->db);
	st->db = NULL;
out_free:
	free(st->path);
	st->path = NULL;
	return ret;
}

void hvt_store_close(struct hvt_store *st)
{
	if (!st)
		return;
	if (st->db)
		sqlite3_close(st->db);
	st->db = NULL;
	free(st->path);
	st->path = NULL;
}

/* ---------------------------------------------------------------- ingest */

enum {
	S_FIND_CASE,
	S_INS_CASE,
	S_FIND_METRIC,
	S_INS_METRIC,
	S_INS_SAMPLE,
	S_INS_SIDE,
	S_INS_EXTRA,
	S_INS_SKIP,
	S_INS_ERROR,
	S_UPD_FP,
	S_UPD_PLAN,
	S_UPD_END,
	S_COUNT,
};

static const char *const ingest_sql[S_COUNT] = {
    [S_FIND_CASE] = "SELECT id FROM cases WHERE case_key = ?1",
    [S_INS_CASE] = "INSERT INTO cases(bench, case_key, params) VALUES (?1, ?2, ?3)",
    [S_FIND_METRIC] = "SELECT id FROM metrics WHERE case_id = ?1 AND name = ?2",
    [S_INS_METRIC] = "INSERT INTO metrics(case_id, name, unit, higher_better) "
		     "VALUES (?1, ?2, ?3, ?4)",
    [S_INS_SAMPLE] = "INSERT INTO samples(run_id, case_id, metric_id, round, rep, warmup, "
		     "t_start, dur_s, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_INS_SIDE] = "INSERT INTO side(run_id, case_id, round, rep, warmup, name, value) "
		   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_INS_EXTRA] = "INSERT INTO results_extra(run_id, case_id, round, json) "
		    "VALUES (?1, ?2, ?3, ?4)",
    [S_INS_SKIP] = "INSERT INTO skips(run_id, case_key, bench, params, reason) "
		   "VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_INS_ERROR] = "INSERT INTO errors(run_id, bench, case_key, round, errno, message, extra) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_UPD_FP] = "UPDATE runs SET tool_version = ?2, tool_commit = ?3, "
		 "started = COALESCE(?4, started), fingerprint = ?5, host = ?6 WHERE id = ?1",
    [S_UPD_PLAN] = "UPDATE runs SET plan = ?2, seed = ?3, suite = COALESCE(suite, ?4) "
		   "WHERE id = ?1",
    [S_UPD_END] = "UPDATE runs SET ended = ?2 WHERE id = ?1",
};

/*
 * Records are checked as they arrive and spooled to an unlinked temporary
 * file; the commit writes them all in one short transaction. So a run that
 * lasts an hour holds no write lock meanwhile, and several runs (targets
 * measured interleaved) can be ingested at once over one connection.
 */
struct hvt_ingest {
	struct hvt_store *st;
	int64_t run_id; /* 0 until the commit inserts the run */
	int dry;	/* 1: check records only (arrival); 0: store them (commit) */
	FILE *spool;	/* "L lineno line" and "E message" entries */
	char *source, *label, *target, *suite;
	char started[64];
	sqlite3_stmt *s[S_COUNT];
	int saw_fingerprint;
	int saw_end;
	char end_status[16];
	uint64_t hash; /* FNV-1a over the records, for spotting duplicate imports */
	size_t nresults, nsamples;
	/* the record being validated, for messages */
	int lineno;
	const char *type;
};

static void bad(const struct hvt_ingest *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bad(const struct hvt_ingest *in, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (in->type)
		hvt_err("%s:%d: %s: %s", in->source, in->lineno, in->type, msg);
	else
		hvt_err("%s:%d: %s", in->source, in->lineno, msg);
}

static void gen_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n <= 0) {
			/* no entropy source: time and pid still make a unique enough id */
			uint64_t x = hvt_now_ns() ^ ((uint64_t)getpid() << 32);

			for (size_t i = got; i < sizeof(b); i++, x = x * 6364136223846793005ull + 1)
				b[i] = (unsigned char)(x >> 56);
			break;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

static void now_iso(char *buf, size_t len)
{
	hvt_fmt_iso8601(buf, len, hvt_wall_s());
}

static void free_ingest(struct hvt_ingest *in)
{
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(in->s[i]);
	if (in->spool)
		fclose(in->spool);
	free(in->source);
	free(in->label);
	free(in->target);
	free(in->suite);
	free(in);
}

static int dup_opt(const char *v, char **out)
{
	*out = NULL;
	if (!v)
		return 0;
	*out = hvt_strdup(v);
	return *out ? 0 : -ENOMEM;
}

struct hvt_ingest *hvt_ingest_begin(struct hvt_store *st, const struct hvt_run_meta *m)
{
	struct hvt_ingest *in = hvt_calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->st = st;
	in->dry = 1;
	in->hash = 0xcbf29ce484222325ull;
	now_iso(in->started, sizeof(in->started));
	if (dup_opt(m && m->source ? m->source : "records", &in->source) ||
	    dup_opt(m ? m->label : NULL, &in->label) ||
	    dup_opt(m && m->target ? m->target : "unknown", &in->target) ||
	    dup_opt(m ? m->suite : NULL, &in->suite))
		goto out_free;
	in->spool = tmpfile();
	if (!in->spool) {
		hvt_err("cannot create a temporary file for the records of '%s': %s", in->source,
			strerror(errno));
		goto out_free;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v2(st->db, ingest_sql[i], -1, &in->s[i], NULL) != SQLITE_OK) {
			db_err(st, "cannot prepare statement");
			goto out_free;
		}
	}
	return in;

out_free:
	free_ingest(in);
	return NULL;
}

const char *hvt_ingest_end_status(const struct hvt_ingest *in)
{
	return in->saw_end ? in->end_status : NULL;
}

void hvt_ingest_counts(const struct hvt_ingest *in, size_t *nresults, size_t *nsamples)
{
	if (nresults)
		*nresults = in->nresults;
	if (nsamples)
		*nsamples = in->nsamples;
}

/* ---- field validation ---- */

enum kind { K_STR, K_OBJ, K_ARR, K_INT, K_NUM, K_BOOL, K_TIME /* string or number */ };

static const char *const kind_name[] = {
    [K_STR] = "a string",
    [K_OBJ] = "an object",
    [K_ARR] = "an array",
    [K_INT] = "an integer",
    [K_NUM] = "a number",
    [K_BOOL] = "a boolean",
    [K_TIME] = "a string or a number",
};

static int is_kind(const json_t *v, enum kind k)
{
	switch (k) {
	case K_STR:
		return json_is_string(v);
	case K_OBJ:
		return json_is_object(v);
	case K_ARR:
		return json_is_array(v);
	case K_INT:
		return json_is_integer(v);
	case K_NUM:
		return json_is_number(v);
	case K_BOOL:
		return json_is_boolean(v);
	case K_TIME:
		return json_is_string(v) || json_is_number(v);
	}
	return 0;
}

/*
 * Fetch obj[name] and check its kind. `where` prefixes the field name in
 * messages ("samples[2]."). Sets *err = -EINVAL (after reporting) when a
 * required field is missing or any present field has the wrong kind.
 */
static json_t *get(const struct hvt_ingest *in, json_t *obj, const char *where, const char *name,
		   enum kind k, int required, int *err)
{
	json_t *v = json_object_get(obj, name);

	if (*err)
		return NULL;
	if (!v || (json_is_null(v) && !required)) {
		if (required) {
			bad(in, "field '%s%s' is missing", where, name);
			*err = -EINVAL;
		}
		return NULL;
	}
	if (!is_kind(v, k)) {
		bad(in, "field '%s%s' must be %s", where, name, kind_name[k]);
		*err = -EINVAL;
		return NULL;
	}
	return v;
}

static const char *get_str(const struct hvt_ingest *in, json_t *obj, const char *name, int required,
			   int *err)
{
	json_t *v = get(in, obj, "", name, K_STR, required, err);

	return v ? json_string_value(v) : NULL;
}

/* A time field as ISO 8601 text into buf; "" when absent. */
static void time_text(json_t *v, char *buf, size_t len)
{
	buf[0] = '\0';
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_number(v))
		hvt_fmt_iso8601(buf, len, json_number_value(v));
}

/* The case key must be the bench name, alone or followed by '?' and the parameters. */
static int check_case_key(const struct hvt_ingest *in, const char *bench, const char *key)
{
	size_t n = strlen(bench);

	if (!*bench) {
		bad(in, "field 'bench' is empty");
		return -EINVAL;
	}
	if (strncmp(key, bench, n) || (key[n] != '\0' && key[n] != '?')) {
		bad(in, "field 'case' ('%s') does not start with the bench name '%s'", key, bench);
		return -EINVAL;
	}
	return 0;
}

/* ---- statement helpers ---- */

static sqlite3_stmt *st_reset(struct hvt_ingest *in, int i)
{
	sqlite3_stmt *s = in->s[i];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static int st_done(struct hvt_ingest *in, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(in->st, what);
	return 0;
}

static void bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Dump `v` compactly; bound as text and freed. */
static int bind_json(sqlite3_stmt *s, int i, const json_t *v)
{
	char *t;

	if (!v) {
		sqlite3_bind_null(s, i);
		return 0;
	}
	t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!t)
		return -ENOMEM;
	sqlite3_bind_text(s, i, t, -1, free);
	return 0;
}

/* Step a bound lookup: 1 and *id when a row was found, 0 when none, -errno on error. */
static int lookup_id(struct hvt_ingest *in, sqlite3_stmt *s, const char *what, int64_t *id)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_err(in->st, what);
}

/* Finish a bound insert and return its row id in *id. */
static int insert_id(struct hvt_ingest *in, sqlite3_stmt *s, const char *what, int64_t *id)
{
	int ret = st_done(in, s, what);

	if (!ret)
		*id = sqlite3_last_insert_rowid(in->st->db);
	return ret;
}

static int find_or_add_case(struct hvt_ingest *in, const char *bench, const char *key,
			    json_t *params, int64_t *id)
{
	sqlite3_stmt *s = st_reset(in, S_FIND_CASE);
	int rc, ret;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
	rc = lookup_id(in, s, "cannot look up case", id);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	s = st_reset(in, S_INS_CASE);
	sqlite3_bind_text(s, 1, bench, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	if (params) {
		ret = bind_json(s, 3, params);
		if (ret)
			return ret;
	} else {
		sqlite3_bind_text(s, 3, "{}", -1, SQLITE_STATIC);
	}
	return insert_id(in, s, "cannot insert case", id);
}

static int find_or_add_metric(struct hvt_ingest *in, int64_t case_id, const char *name,
			      const char *unit, int higher, int64_t *id)
{
	sqlite3_stmt *s = st_reset(in, S_FIND_METRIC);
	int rc;

	sqlite3_bind_int64(s, 1, case_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
	rc = lookup_id(in, s, "cannot look up metric", id);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	s = st_reset(in, S_INS_METRIC);
	sqlite3_bind_int64(s, 1, case_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, unit, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, higher);
	return insert_id(in, s, "cannot insert metric", id);
}

/* ---- records ---- */

/* Look through a few plausible places of the fingerprint for the host name. */
static const char *fp_host(json_t *fp)
{
	static const char *const paths[][2] = {
	    {"hostname", NULL}, {"host", "hostname"},	{"host", "name"},
	    {"os", "hostname"}, {"system", "hostname"}, {"host", NULL},
	};

	for (size_t i = 0; i < HVT_ARRAY_SIZE(paths); i++) {
		json_t *v = json_object_get(fp, paths[i][0]);

		if (paths[i][1])
			v = json_object_get(v, paths[i][1]);
		if (json_is_string(v))
			return json_string_value(v);
	}
	return NULL;
}

static int rec_fingerprint(struct hvt_ingest *in, json_t *rec)
{
	int err = 0;
	json_t *fp = get(in, rec, "", "fingerprint", K_OBJ, 1, &err);
	const char *version = get_str(in, rec, "version", 1, &err);
	const char *commit = get_str(in, rec, "commit", 0, &err);
	json_t *t = get(in, rec, "", "time", K_TIME, 0, &err);
	sqlite3_stmt *s;
	char tbuf[64];

	get_str(in, rec, "tool", 0, &err);
	if (err)
		return err;
	if (in->saw_fingerprint) {
		bad(in, "a run has one fingerprint record; this is a second one");
		return -EINVAL;
	}
	in->saw_fingerprint = 1;
	if (in->dry)
		return 0;
	time_text(t, tbuf, sizeof(tbuf));
	s = st_reset(in, S_UPD_FP);
	sqlite3_bind_int64(s, 1, in->run_id);
	bind_opt_text(s, 2, version);
	bind_opt_text(s, 3, commit);
	bind_opt_text(s, 4, tbuf[0] ? tbuf : NULL);
	if (bind_json(s, 5, fp))
		return -ENOMEM;
	bind_opt_text(s, 6, fp_host(fp));
	return st_done(in, s, "cannot store fingerprint");
}

static int rec_plan(struct hvt_ingest *in, json_t *rec)
{
	int err = 0;
	const char *suite = get_str(in, rec, "suite", 0, &err);
	json_t *seed = get(in, rec, "", "seed", K_INT, 0, &err);
	json_t *cases = get(in, rec, "", "cases", K_ARR, 1, &err);
	sqlite3_stmt *s;
	size_t i;
	json_t *c;

	get(in, rec, "", "rounds", K_INT, 0, &err);
	get(in, rec, "", "reps", K_INT, 0, &err);
	get(in, rec, "", "duration_s", K_NUM, 0, &err);
	get(in, rec, "", "warmup_s", K_NUM, 0, &err);
	json_array_foreach (cases, i, c) {
		char where[48];

		if (err)
			break;
		if (!json_is_object(c)) {
			bad(in, "field 'cases[%zu]' must be an object", i);
			return -EINVAL;
		}
		snprintf(where, sizeof(where), "cases[%zu].", i);
		get(in, c, where, "bench", K_STR, 1, &err);
		get(in, c, where, "case", K_STR, 1, &err);
		get(in, c, where, "params", K_OBJ, 0, &err);
	}
	if (err || in->dry)
		return err;
	s = st_reset(in, S_UPD_PLAN);
	sqlite3_bind_int64(s, 1, in->run_id);
	if (bind_json(s, 2, rec))
		return -ENOMEM;
	if (seed)
		sqlite3_bind_int64(s, 3, json_integer_value(seed));
	else
		sqlite3_bind_null(s, 3);
	bind_opt_text(s, 4, suite);
	return st_done(in, s, "cannot store plan");
}

/* Validate a result record completely before anything of it is stored. */
static int check_result(struct hvt_ingest *in, json_t *rec)
{
	int err = 0;
	const char *bench = get_str(in, rec, "bench", 1, &err);
	const char *key = get_str(in, rec, "case", 1, &err);
	json_t *metrics = get(in, rec, "", "metrics", K_ARR, 1, &err);
	json_t *round = get(in, rec, "", "round", K_INT, 1, &err);
	json_t *samples = get(in, rec, "", "samples", K_ARR, 1, &err);
	json_t *m, *smp;
	size_t i;

	get(in, rec, "", "params", K_OBJ, 1, &err);
	get(in, rec, "", "placement", K_OBJ, 0, &err);
	if (err)
		return err;
	if (check_case_key(in, bench, key))
		return -EINVAL;
	if (json_integer_value(round) < 0 || json_integer_value(round) > INT_MAX) {
		bad(in, "field 'round' must be between 0 and %d", INT_MAX);
		return -EINVAL;
	}
	json_array_foreach (metrics, i, m) {
		char where[48];
		const char *dir;

		if (!json_is_object(m)) {
			bad(in, "field 'metrics[%zu]' must be an object", i);
			return -EINVAL;
		}
		snprintf(where, sizeof(where), "metrics[%zu].", i);
		get(in, m, where, "name", K_STR, 1, &err);
		get(in, m, where, "unit", K_STR, 1, &err);
		dir = json_string_value(get(in, m, where, "dir", K_STR, 1, &err));
		if (err)
			return err;
		if (strcmp(dir, HVT_DIR_HIGHER) && strcmp(dir, HVT_DIR_LOWER)) {
			bad(in, "field '%sdir' must be \"%s\" or \"%s\", not \"%s\"", where,
			    HVT_DIR_HIGHER, HVT_DIR_LOWER, dir);
			return -EINVAL;
		}
	}
	json_array_foreach (samples, i, smp) {
		char where[48];
		json_t *values, *side, *rep, *v;
		const char *name;

		if (!json_is_object(smp)) {
			bad(in, "field 'samples[%zu]' must be an object", i);
			return -EINVAL;
		}
		snprintf(where, sizeof(where), "samples[%zu].", i);
		rep = get(in, smp, where, "rep", K_INT, 1, &err);
		get(in, smp, where, "warmup", K_BOOL, 0, &err);
		get(in, smp, where, "t_start", K_NUM, 0, &err);
		get(in, smp, where, "dur_s", K_NUM, 0, &err);
		values = get(in, smp, where, "values", K_OBJ, 1, &err);
		side = get(in, smp, where, "side", K_OBJ, 0, &err);
		get(in, smp, where, "extra", K_OBJ, 0, &err);
		if (err)
			return err;
		if (json_integer_value(rep) < 0 || json_integer_value(rep) > INT_MAX) {
			bad(in, "field '%srep' must be between 0 and %d", where, INT_MAX);
			return -EINVAL;
		}
		json_object_foreach (values, name, v) {
			int known = 0;
			size_t j;

			if (!json_is_number(v) && !json_is_null(v)) {
				bad(in, "field '%svalues.%s' must be a number or null", where,
				    name);
				return -EINVAL;
			}
			json_array_foreach (metrics, j, m) {
				known |=
				    !strcmp(json_string_value(json_object_get(m, "name")), name);
			}
			if (!known) {
				bad(in,
				    "field '%svalues.%s' names a metric not declared in 'metrics'",
				    where, name);
				return -EINVAL;
			}
		}
		json_object_foreach (side, name, v) {
			if (!json_is_number(v) && !json_is_null(v)) {
				bad(in, "field '%sside.%s' must be a number or null", where, name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The parts of a result with no column of their own, kept for export. NULL when none. */
static json_t *result_extra(json_t *rec)
{
	json_t *o = json_object(), *smp, *sx = NULL;
	size_t i;

	if (!o)
		return NULL;
	if (json_object_get(rec, "placement"))
		json_object_set(o, "placement", json_object_get(rec, "placement"));
	if (json_object_get(rec, "extra"))
		json_object_set(o, "extra", json_object_get(rec, "extra"));
	json_array_foreach (json_object_get(rec, "samples"), i, smp) {
		json_t *x = json_object_get(smp, "extra");

		if (!x || json_is_null(x))
			continue;
		if (!sx)
			sx = json_object();
		if (sx) {
			/* keyed by rep (and "w" for warm-up): positions shift when samples drop */
			char k[32];

			snprintf(k, sizeof(k), "%lld%s",
				 (long long)json_integer_value(json_object_get(smp, "rep")),
				 json_is_true(json_object_get(smp, "warmup")) ? "w" : "");
			json_object_set(sx, k, x);
		}
	}
	if (sx)
		json_object_set_new(o, "sample_extra", sx);
	if (!json_object_size(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void bind_opt_real(sqlite3_stmt *s, int i, json_t *v)
{
	if (json_is_number(v))
		sqlite3_bind_double(s, i, json_number_value(v));
	else
		sqlite3_bind_null(s, i);
}

static int rec_result(struct hvt_ingest *in, json_t *rec)
{
	const char *bench, *key;
	json_t *metrics, *samples, *m, *smp, *x;
	int64_t case_id = 0, *mid = NULL;
	int round, ret;
	size_t i, nm;
	sqlite3_stmt *s;

	ret = check_result(in, rec);
	if (ret)
		return ret;
	if (in->dry) {
		json_array_foreach (json_object_get(rec, "samples"), i, smp) {
			const char *name;
			json_t *v;

			json_object_foreach (json_object_get(smp, "values"), name, v) {
				in->nsamples += json_is_number(v);
			}
		}
		in->nresults++;
		return 0;
	}
	bench = json_string_value(json_object_get(rec, "bench"));
	key = json_string_value(json_object_get(rec, "case"));
	metrics = json_object_get(rec, "metrics");
	samples = json_object_get(rec, "samples");
	round = (int)json_integer_value(json_object_get(rec, "round"));
	nm = json_array_size(metrics);

	ret = find_or_add_case(in, bench, key, json_object_get(rec, "params"), &case_id);
	if (ret)
		return ret;
	mid = hvt_calloc(nm ? nm : 1, sizeof(*mid));
	if (!mid)
		return -ENOMEM;
	json_array_foreach (metrics, i, m) {
		const char *dir = json_string_value(json_object_get(m, "dir"));

		ret = find_or_add_metric(in, case_id, json_string_value(json_object_get(m, "name")),
					 json_string_value(json_object_get(m, "unit")),
					 !strcmp(dir, HVT_DIR_HIGHER), &mid[i]);
		if (ret)
			goto out;
	}

	json_array_foreach (samples, i, smp) {
		int rep = (int)json_integer_value(json_object_get(smp, "rep"));
		int warm = json_is_true(json_object_get(smp, "warmup"));
		json_t *values = json_object_get(smp, "values");
		const char *name;
		json_t *v;
		size_t j;

		json_array_foreach (metrics, j, m) {
			v = json_object_get(values, json_string_value(json_object_get(m, "name")));
			/* null = not measured (NaN in the writer): no sample */
			if (!json_is_number(v))
				continue;
			s = st_reset(in, S_INS_SAMPLE);
			sqlite3_bind_int64(s, 1, in->run_id);
			sqlite3_bind_int64(s, 2, case_id);
			sqlite3_bind_int64(s, 3, mid[j]);
			sqlite3_bind_int(s, 4, round);
			sqlite3_bind_int(s, 5, rep);
			sqlite3_bind_int(s, 6, warm);
			bind_opt_real(s, 7, json_object_get(smp, "t_start"));
			bind_opt_real(s, 8, json_object_get(smp, "dur_s"));
			sqlite3_bind_double(s, 9, json_number_value(v));
			ret = st_done(in, s, "cannot insert sample");
			if (ret)
				goto out;
		}
		json_object_foreach (json_object_get(smp, "side"), name, v) {
			if (!json_is_number(v))
				continue;
			s = st_reset(in, S_INS_SIDE);
			sqlite3_bind_int64(s, 1, in->run_id);
			sqlite3_bind_int64(s, 2, case_id);
			sqlite3_bind_int(s, 3, round);
			sqlite3_bind_int(s, 4, rep);
			sqlite3_bind_int(s, 5, warm);
			sqlite3_bind_text(s, 6, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_double(s, 7, json_number_value(v));
			ret = st_done(in, s, "cannot insert side channel");
			if (ret)
				goto out;
		}
	}

	/* one row per result record, even without extra: it orders the export */
	x = result_extra(rec);
	s = st_reset(in, S_INS_EXTRA);
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_int64(s, 2, case_id);
	sqlite3_bind_int(s, 3, round);
	ret = bind_json(s, 4, x);
	json_decref(x);
	if (ret)
		goto out;
	ret = st_done(in, s, "cannot insert result");
out:
	free(mid);
	return ret;
}

static int rec_skip(struct hvt_ingest *in, json_t *rec)
{
	int err = 0;
	const char *bench = get_str(in, rec, "bench", 1, &err);
	const char *key = get_str(in, rec, "case", 1, &err);
	json_t *params = get(in, rec, "", "params", K_OBJ, 0, &err);
	const char *reason = get_str(in, rec, "reason", 1, &err);
	sqlite3_stmt *s;

	if (err)
		return err;
	if (check_case_key(in, bench, key))
		return -EINVAL;
	if (in->dry)
		return 0;
	s = st_reset(in, S_INS_SKIP);
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, bench, -1, SQLITE_TRANSIENT);
	if (bind_json(s, 4, params))
		return -ENOMEM;
	sqlite3_bind_text(s, 5, reason, -1, SQLITE_TRANSIENT);
	return st_done(in, s, "cannot insert skip");
}

static int insert_error(struct hvt_ingest *in, const char *bench, const char *key, json_t *round,
			json_t *eno, const char *message, json_t *extra)
{
	sqlite3_stmt *s = st_reset(in, S_INS_ERROR);
	char *ex = extra ? json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r;

	sqlite3_bind_int64(s, 1, in->run_id);
	bind_opt_text(s, 2, bench);
	bind_opt_text(s, 3, key);
	if (round)
		sqlite3_bind_int64(s, 4, json_integer_value(round));
	if (eno)
		sqlite3_bind_int64(s, 5, json_integer_value(eno));
	sqlite3_bind_text(s, 6, message, -1, SQLITE_TRANSIENT);
	if (ex)
		sqlite3_bind_text(s, 7, ex, -1, SQLITE_TRANSIENT);
	r = st_done(in, s, "cannot insert error");
	free(ex);
	return r;
}

static int rec_error(struct hvt_ingest *in, json_t *rec)
{
	int err = 0;
	const char *bench = get_str(in, rec, "bench", 0, &err);
	const char *key = get_str(in, rec, "case", 0, &err);
	json_t *round = get(in, rec, "", "round", K_INT, 0, &err);
	json_t *eno = get(in, rec, "", "errno", K_INT, 0, &err);
	const char *message = get_str(in, rec, "message", 1, &err);
	json_t *extra = json_object_get(rec, "extra");

	if (extra && !json_is_object(extra)) {
		bad(in, "field 'extra' must be an object");
		err = -EINVAL;
	}
	if (err || in->dry)
		return err;
	return insert_error(in, bench, key, round, eno, message, extra);
}

static int rec_end(struct hvt_ingest *in, json_t *rec)
{
	int err = 0;
	const char *status = get_str(in, rec, "status", 1, &err);
	json_t *t = get(in, rec, "", "time", K_TIME, 0, &err);
	sqlite3_stmt *s;
	char tbuf[64];

	get(in, rec, "", "wall_s", K_NUM, 0, &err);
	if (err)
		return err;
	/* hvtax-bench also ends a run it refused to start (unsafe target) with "refused" */
	if (strcmp(status, "ok") && strcmp(status, "failed") && strcmp(status, "refused")) {
		bad(in, "field 'status' must be \"ok\", \"failed\" or \"refused\", not \"%s\"",
		    status);
		return -EINVAL;
	}
	snprintf(in->end_status, sizeof(in->end_status), "%s", status);
	in->saw_end = 1;
	time_text(t, tbuf, sizeof(tbuf));
	if (in->dry || !tbuf[0])
		return 0;
	s = st_reset(in, S_UPD_END);
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_text(s, 2, tbuf, -1, SQLITE_TRANSIENT);
	return st_done(in, s, "cannot store end");
}

/* agent mode marks the end of each round; nothing to store beyond validation */
static int rec_round(struct hvt_ingest *in, json_t *rec)
{
	int err = 0;

	get(in, rec, "", "round", K_INT, 1, &err);
	return err;
}

static const struct {
	const char *type;
	int (*fn)(struct hvt_ingest *in, json_t *rec);
} rec_types[] = {
    {HVT_REC_FINGERPRINT, rec_fingerprint},
    {HVT_REC_PLAN, rec_plan},
    {HVT_REC_RESULT, rec_result},
    {HVT_REC_SKIP, rec_skip},
    {HVT_REC_ERROR, rec_error},
    {HVT_REC_END, rec_end},
    {HVT_REC_ROUND, rec_round},
};

static int is_blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0';
}

/* Parse and check the envelope; then dispatch on the type. */
static int ingest_record(struct hvt_ingest *in, json_t *rec)
{
	const char *names[HVT_ARRAY_SIZE(rec_types)];
	json_t *type, *schema;
	const char *t;

	type = json_object_get(rec, "type");
	if (!type) {
		bad(in, "field 'type' is missing");
		return -EINVAL;
	}
	if (!json_is_string(type)) {
		bad(in, "field 'type' must be a string");
		return -EINVAL;
	}
	t = json_string_value(type);
	for (size_t i = 0; i < HVT_ARRAY_SIZE(rec_types); i++) {
		if (strcmp(t, rec_types[i].type))
			continue;
		in->type = rec_types[i].type;
		schema = json_object_get(rec, "schema");
		if (!schema) {
			bad(in, "field 'schema' is missing");
			return -EINVAL;
		}
		if (!json_is_integer(schema)) {
			bad(in, "field 'schema' must be an integer");
			return -EINVAL;
		}
		if (json_integer_value(schema) > HVT_SCHEMA_VERSION) {
			bad(in, "schema %lld is newer than this hvtax supports (%d); upgrade hvtax",
			    (long long)json_integer_value(schema), HVT_SCHEMA_VERSION);
			return -EINVAL;
		}
		if (json_integer_value(schema) != HVT_SCHEMA_VERSION) {
			bad(in, "unsupported schema %lld (this hvtax reads %d)",
			    (long long)json_integer_value(schema), HVT_SCHEMA_VERSION);
			return -EINVAL;
		}
		if (!in->saw_fingerprint && rec_types[i].fn != rec_fingerprint) {
			bad(in, "the first record must be a fingerprint");
			return -EINVAL;
		}
		if (in->saw_end) {
			bad(in, "record after the end record");
			return -EINVAL;
		}
		return rec_types[i].fn(in, rec);
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(rec_types); i++)
		names[i] = rec_types[i].type;
	{
		const char *dym = hvt_did_you_mean(t, names, HVT_ARRAY_SIZE(names));

		if (dym)
			bad(in, "unknown record type '%s' (did you mean '%s'?)", t, dym);
		else
			bad(in, "unknown record type '%s'", t);
	}
	return -EINVAL;
}

/* Check (dry) or store one record line. */
static int process_line(struct hvt_ingest *in, const char *line, int lineno)
{
	json_error_t jerr;
	json_t *rec;
	int ret;

	in->lineno = lineno;
	in->type = NULL;
	rec = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		bad(in, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return -EINVAL;
	}
	if (json_is_object(rec)) {
		ret = ingest_record(in, rec);
	} else {
		bad(in, "a record must be a JSON object");
		ret = -EINVAL;
	}
	in->type = NULL;
	json_decref(rec);
	return ret;
}

static int spool_fail(struct hvt_ingest *in)
{
	hvt_err("cannot spool the records of '%s': %s", in->source, strerror(errno));
	return -EIO;
}

int hvt_ingest_line(struct hvt_ingest *in, const char *line, int lineno)
{
	size_t len = strlen(line);
	int ret;

	if (is_blank(line))
		return 0;
	/* a refused record changes nothing, so the caller may go on with the next */
	ret = process_line(in, line, lineno);
	if (ret)
		return ret;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (fprintf(in->spool, "L %d ", lineno) < 0 || fwrite(line, 1, len, in->spool) != len ||
	    fputc('\n', in->spool) == EOF)
		return spool_fail(in);
	for (size_t i = 0; i < len; i++)
		in->hash = (in->hash ^ (unsigned char)line[i]) * 0x100000001b3ull;
	in->hash = (in->hash ^ '\n') * 0x100000001b3ull;
	return 0;
}

int hvt_ingest_error(struct hvt_ingest *in, const char *message)
{
	if (fputs("E ", in->spool) == EOF)
		return spool_fail(in);
	for (const char *p = message; *p; p++)
		if (fputc(*p == '\n' ? ' ' : *p, in->spool) == EOF)
			return spool_fail(in);
	if (fputc('\n', in->spool) == EOF)
		return spool_fail(in);
	return 0;
}

static int insert_run(struct hvt_ingest *in)
{
	static const char ins_run[] =
	    "INSERT INTO runs(uuid, label, target, suite, source, status, "
	    "started) VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)";
	sqlite3_stmt *s = NULL;
	char uuid[37];
	int ret = 0;

	gen_uuid(uuid);
	if (sqlite3_prepare_v2(in->st->db, ins_run, -1, &s, NULL) != SQLITE_OK)
		return db_err(in->st, "cannot prepare statement");
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
	bind_opt_text(s, 2, in->label);
	bind_opt_text(s, 3, in->target);
	bind_opt_text(s, 4, in->suite);
	bind_opt_text(s, 5, in->source);
	bind_opt_text(s, 6, in->started);
	if (sqlite3_step(s) != SQLITE_DONE)
		ret = db_err(in->st, "cannot insert run");
	else
		in->run_id = sqlite3_last_insert_rowid(in->st->db);
	sqlite3_finalize(s);
	return ret;
}

/* Store the spooled records; inside the commit's transaction. */
static int replay(struct hvt_ingest *in)
{
	char *entry = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	if (fflush(in->spool) || fseek(in->spool, 0, SEEK_SET))
		return spool_fail(in);
	in->dry = 0;
	in->saw_fingerprint = in->saw_end = 0;
	while (!ret && (len = getline(&entry, &cap, in->spool)) > 0) {
		char *p;
		long ln;

		entry[len - 1] = '\0';
		if (entry[0] == 'E') {
			ret = insert_error(in, NULL, NULL, NULL, NULL, entry + 2, NULL);
			continue;
		}
		ln = strtol(entry + 2, &p, 10);
		/* checked on arrival: a failure now is the store's, not the record's */
		ret = process_line(in, p + 1, (int)ln);
		if (ret == -EINVAL)
			ret = -EIO;
	}
	if (!ret && ferror(in->spool))
		ret = spool_fail(in);
	free(entry);
	return ret;
}

int64_t hvt_ingest_commit(struct hvt_ingest *in, const char *status)
{
	static const char upd[] = "UPDATE runs SET status = ?2, ended = COALESCE(ended, ?3), "
				  "payload_hash = ?4 WHERE id = ?1";
	struct hvt_store *st = in->st;
	sqlite3_stmt *s = NULL;
	char ended[64], hash[24];
	int64_t ret;

	if (!status)
		status = in->saw_end ? in->end_status : "partial";
	now_iso(ended, sizeof(ended));
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)in->hash);
	ret = exec(st, "BEGIN IMMEDIATE", "cannot start transaction");
	if (ret)
		goto out_free;
	ret = insert_run(in);
	if (ret)
		goto out_rollback;
	ret = replay(in);
	if (ret)
		goto out_rollback;
	if (sqlite3_prepare_v2(st->db, upd, -1, &s, NULL) != SQLITE_OK) {
		ret = db_err(st, "cannot prepare statement");
		goto out_rollback;
	}
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, ended, -1, SQLITE_TRANSIENT);
	if (in->saw_fingerprint)
		sqlite3_bind_text(s, 4, hash, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_DONE) {
		ret = db_err(st, "cannot finish run");
		goto out_rollback;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* statements must be reset before COMMIT can take the write lock away */
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_reset(in->s[i]);
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_err(st, "cannot commit run");
		goto out_rollback;
	}
	ret = in->run_id;
	goto out_free;

out_rollback:
	sqlite3_finalize(s);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_reset(in->s[i]);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out_free:
	free_ingest(in);
	return ret;
}

void hvt_ingest_abort(struct hvt_ingest *in)
{
	if (in)
		free_ingest(in);
}

/* ---------------------------------------------------------------- queries */

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return -EINVAL;
	*id = v;
	return 0;
}

int hvt_store_resolve(struct hvt_store *st, const char *spec, int64_t *run_id)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int rc;

	if (!parse_id(spec, &id)) {
		if (sqlite3_prepare_v2(st->db, "SELECT id FROM runs WHERE id = ?1", -1, &s, NULL) !=
		    SQLITE_OK)
			return db_err(st, "cannot prepare statement");
		sqlite3_bind_int64(s, 1, id);
	} else {
		if (sqlite3_prepare_v2(
			st->db, "SELECT id FROM runs WHERE label = ?1 ORDER BY id DESC LIMIT 1", -1,
			&s, NULL) != SQLITE_OK)
			return db_err(st, "cannot prepare statement");
		sqlite3_bind_text(s, 1, spec, -1, SQLITE_TRANSIENT);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*run_id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return db_err(st, "cannot look up run");
	hvt_err("no run with id or label '%s' in '%s'", spec, st->path);
	return -ENOENT;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return hvt_strdup(t ? (const char *)t : "");
}

void hvt_series_free(struct hvt_series *s, size_t n)
{
	if (!s)
		return;
	for (size_t i = 0; i < n; i++) {
		free(s[i].case_key);
		free(s[i].bench);
		free(s[i].metric);
		free(s[i].unit);
		free(s[i].v);
		free(s[i].round);
		free(s[i].rep);
	}
	free(s);
}

static int series_push(struct hvt_series *se, double v, int round, int rep)
{
	if ((se->n & (se->n - 1)) == 0) { /* grow at powers of two */
		size_t cap = se->n ? se->n * 2 : 1;
		double *nv = realloc(se->v, cap * sizeof(*nv));
		int *nr, *np;

		if (!nv)
			return -ENOMEM;
		se->v = nv;
		nr = realloc(se->round, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		se->round = nr;
		np = realloc(se->rep, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		se->rep = np;
	}
	se->v[se->n] = v;
	se->round[se->n] = round;
	se->rep[se->n] = rep;
	se->n++;
	return 0;
}

int hvt_store_series(struct hvt_store *st, int64_t run_id, struct hvt_series **out, size_t *n)
{
	static const char sql[] =
	    "SELECT s.metric_id, c.case_key, c.bench, m.name, m.unit, m.higher_better, "
	    "s.value, s.round, s.rep FROM samples s "
	    "JOIN cases c ON c.id = s.case_id JOIN metrics m ON m.id = s.metric_id "
	    "WHERE s.run_id = ?1 AND s.warmup = 0 "
	    "ORDER BY c.case_key, m.name, s.round, s.rep, s.rowid";
	struct hvt_series *arr = NULL;
	size_t len = 0, cap = 0;
	int64_t last = -1;
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, "cannot prepare statement");
	sqlite3_bind_int64(s, 1, run_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t mid = sqlite3_column_int64(s, 0);
		struct hvt_series *se;

		if (mid != last) {
			if (len == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct hvt_series *na = realloc(arr, ncap * sizeof(*na));

				if (!na) {
					ret = -ENOMEM;
					goto out;
				}
				arr = na;
				cap = ncap;
			}
			se = &arr[len++];
			memset(se, 0, sizeof(*se));
			se->case_key = col_dup(s, 1);
			se->bench = col_dup(s, 2);
			se->metric = col_dup(s, 3);
			se->unit = col_dup(s, 4);
			se->higher_better = sqlite3_column_int(s, 5) != 0;
			if (!se->case_key || !se->bench || !se->metric || !se->unit) {
				ret = -ENOMEM;
				goto out;
			}
			last = mid;
		}
		se = &arr[len - 1];
		ret = series_push(se, sqlite3_column_double(s, 6), sqlite3_column_int(s, 7),
				  sqlite3_column_int(s, 8));
		if (ret)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = db_err(st, "cannot read samples");
out:
	sqlite3_finalize(s);
	if (ret) {
		if (ret == -ENOMEM)
			hvt_err("out of memory reading run %lld", (long long)run_id);
		hvt_series_free(arr, len);
		return ret;
	}
	*out = arr;
	*n = len;
	return 0;
}

/* Column i as a JSON value: NULL -> null, integer, real, text (parsed as JSON when asked). */
static json_t *col_json(sqlite3_stmt *s, int i, int parse)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(s, i));
	case SQLITE_TEXT: {
		const char *t = (const char *)sqlite3_column_text(s, i);

		if (parse) {
			json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);

			if (v)
				return v;
		}
		return json_string(t);
	}
	default:
		return json_null();
	}
}

json_t *hvt_store_run_info(struct hvt_store *st, int64_t run_id)
{
	static const char sql[] =
	    "SELECT id, uuid, label, target, suite, source, status, started, ended, "
	    "tool_version, tool_commit, host, seed, payload_hash, fingerprint, plan, "
	    "(SELECT COUNT(DISTINCT case_id) FROM results_extra WHERE run_id = runs.id), "
	    "(SELECT COUNT(*) FROM samples WHERE run_id = runs.id) "
	    "FROM runs WHERE id = ?1";
	static const char *const keys[] = {
	    "id",     "uuid",	      "label",	     "target",	"suite",  "source",
	    "status", "started",      "ended",	     "version", "commit", "host",
	    "seed",   "payload_hash", "fingerprint", "plan",	"ncases", "nsamples",
	};
	sqlite3_stmt *s = NULL;
	json_t *o = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(st, "cannot prepare statement");
		return NULL;
	}
	sqlite3_bind_int64(s, 1, run_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		o = json_object();
		for (int i = 0; o && i < (int)HVT_ARRAY_SIZE(keys); i++) {
			int parse = !strcmp(keys[i], "fingerprint") || !strcmp(keys[i], "plan");

			json_object_set_new(o, keys[i], col_json(s, i, parse));
		}
	} else if (rc == SQLITE_DONE) {
		hvt_err("no run with id %lld in '%s'", (long long)run_id, st->path);
	} else {
		db_err(st, "cannot read run");
	}
	sqlite3_finalize(s);
	return o;
}

static json_t *rows_json(struct hvt_store *st, const char *sql, int64_t run_id,
			 const char *const *keys, int nkeys, const char *parse_key)
{
	sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(st, "cannot prepare statement");
		return NULL;
	}
	arr = json_array();
	sqlite3_bind_int64(s, 1, run_id);
	while (arr && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();

		for (int i = 0; o && i < nkeys; i++) {
			int parse = parse_key && !strcmp(keys[i], parse_key);

			json_object_set_new(o, keys[i], col_json(s, i, parse));
		}
		json_array_append_new(arr, o);
	}
	if (arr && rc != SQLITE_DONE) {
		db_err(st, "cannot read run");
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(s);
	return arr;
}

json_t *hvt_store_run_skips(struct hvt_store *st, int64_t run_id)
{
	static const char *const keys[] = {"case", "bench", "params", "reason"};

	return rows_json(st,
			 "SELECT case_key, bench, params, reason FROM skips WHERE run_id = ?1 "
			 "ORDER BY id",
			 run_id, keys, 4, "params");
}

json_t *hvt_store_run_errors(struct hvt_store *st, int64_t run_id)
{
	static const char *const keys[] = {"case", "bench", "round", "errno", "message", "extra"};

	return rows_json(st,
			 "SELECT case_key, bench, round, errno, message, extra FROM errors "
			 "WHERE run_id = ?1 ORDER BY id",
			 run_id, keys, 6, "extra");
}

json_t *hvt_store_run_resolved(struct hvt_store *st, int64_t run_id)
{
	static const char *const keys[] = {"case", "resolved"};
	json_t *rows = rows_json(st,
				 "SELECT c.case_key, json_extract(j.value, '$.resolved') "
				 "FROM results_extra r JOIN cases c ON c.id = r.case_id, "
				 "json_each(r.json, '$.sample_extra') j "
				 "WHERE r.run_id = ?1 AND json_type(j.value, '$.resolved') = 'object' "
				 "ORDER BY r.id, j.key",
				 run_id, keys, 2, "resolved");
	json_t *out = rows ? json_object() : NULL, *row;
	size_t i;

	json_array_foreach (rows, i, row) {
		const char *ck = json_string_value(json_object_get(row, "case")), *name;
		json_t *res = json_object_get(row, "resolved"), *c, *v;

		if (!out)
			break;
		if (!ck || !json_is_object(res))
			continue;
		c = json_object_get(out, ck);
		if (!c && json_object_set_new(out, ck, json_object()) == 0)
			c = json_object_get(out, ck);
		json_object_foreach (res, name, v) {
			json_t *vals = c ? json_object_get(c, name) : NULL, *x;
			size_t k;
			int seen = 0;

			if (c && !vals && json_object_set_new(c, name, json_array()) == 0)
				vals = json_object_get(c, name);
			if (!vals) {
				json_decref(out);
				out = NULL;
				break;
			}
			json_array_foreach (vals, k, x)
				seen |= json_equal(x, v);
			if (!seen)
				json_array_append(vals, v);
		}
	}
	json_decref(rows);
	return out;
}
