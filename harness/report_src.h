/* SPDX-License-Identifier: MIT */
/* Where analysed runs come from: run ids or labels in a database, or exported JSON Lines files. */
#ifndef HVT_REPORT_SRC_H
#define HVT_REPORT_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/*
 * A store holding every run named on a command line. When every spec is a
 * run id or label, this is the database itself, opened as is. When at least
 * one spec is an existing file (an export kept in a repository, say), a
 * temporary store is made in a private temporary directory: files are
 * imported into it, and runs named by id or label are copied over from the
 * database (export -> import), so the user's database is never written.
 */
struct hvt_runsrc {
	struct hvt_store st;
	char *tmpdir; /* temporary store's directory, removed on close; NULL if none */
};

/*
 * Resolve specs[0..n) into ids[0..n) (same order). `db` is the database
 * path for specs that are not files. The same spec twice gives the same id.
 * 0, -ENOENT (a run or file not found: reported), other -errno (reported).
 * On error nothing is left open.
 */
int hvt_runsrc_open(struct hvt_runsrc *rs, const char *db, const char *const *specs, size_t n,
		    int64_t *ids) __attribute__((warn_unused_result));
/* Close the store and remove the temporary one, if any. */
void hvt_runsrc_close(struct hvt_runsrc *rs);

/* 1 if `spec` names an existing regular file (so it is read as an export), else 0. */
int hvt_runsrc_is_file(const char *spec);

/* Write `s` with &, <, >, " and ' escaped for XML and HTML text and attributes. */
void hvt_fput_xml(FILE *f, const char *s);
/* Write `s` for a Markdown table cell: '|' escaped, newlines as spaces. */
void hvt_fput_md(FILE *f, const char *s);

#endif
