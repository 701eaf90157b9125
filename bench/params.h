/* SPDX-License-Identifier: MIT */
/* Parameter parsing, validation, canonical echo, and sweep expansion. */
#ifndef HVT_PARAMS_H
#define HVT_PARAMS_H

#include <jansson.h>
#include "core.h"

/*
 * A case is a benchmark plus one value for each of its parameters. Values
 * given as lists (1,2,4) or geometric ranges (A..B*F: 4KiB..1MiB*4) expand
 * into one case per combination.
 */
struct hvt_case {
	const struct hvt_bench *bench;
	void *params;	  /* bench->params_size bytes */
	char **strs;	  /* owned copies of string values, one per parameter (may be NULL) */
	char *key;	  /* canonical "bench?k=v&k=v" */
	json_t *echo;	  /* {"k": canonical text value} of every parameter */
};

/* A set of key=value assignments for one benchmark, before expansion. */
struct hvt_assign {
	const char *key;
	const char *value;
	const char *file; /* for messages: where it came from (NULL = command line) */
	int line;
};

/*
 * Expand the assignments into cases (cartesian product of list values).
 * Unknown keys, bad values and out-of-range values are reported as
 * "FILE:LINE: KEY: message" (with "did you mean") and give -EINVAL.
 * On success (*out, *nout) receive a newly allocated array of cases (appended
 * to what is there: *out may be non-NULL).
 */
int hvt_cases_expand(const struct hvt_bench *b, const struct hvt_assign *a, size_t na,
		     struct hvt_case **out, size_t *nout) __attribute__((warn_unused_result));

/* Parse one value for parameter p into `dst` (the params struct). 0 or -EINVAL/-ERANGE, message in err. */
int hvt_param_set(const struct hvt_param *p, void *dst, char **strslot, const char *value, char *err,
		  size_t errlen) __attribute__((warn_unused_result));

/* Canonical text of a parameter's current value. */
void hvt_param_fmt(const struct hvt_param *p, const void *src, char *buf, size_t len);

/* Free what a case owns (not the case struct itself). */
void hvt_case_release(struct hvt_case *c);
void hvt_cases_free(struct hvt_case *c, size_t n);

/* Split a list value "a,b,c" / "A..B*F" into items (caller frees with hvt_strv_free). */
int hvt_value_split(const struct hvt_param *p, const char *value, char ***items, size_t *n);
void hvt_strv_free(char **v, size_t n);

/*
 * Short, human label of a canonical case key "bench?k=v&k=v": the key with
 * only the parameters whose value differs from the benchmark's default (as
 * canonicalised by hvt_cases_expand), e.g. "io.randread?qd=32", or just
 * "cpu.syscall" when all are default. Parameters the benchmark does not know,
 * or that have no default, are kept. An unknown benchmark gives a copy of the
 * key unchanged. Machine formats keep the full key; this is for tables.
 * Returns a malloc'd string the caller frees; NULL only when out of memory.
 */
char *hvt_case_label(const char *case_key) __attribute__((warn_unused_result));

/* Human description of a parameter's type ("size", "duration", "int"...). */
const char *hvt_ptype_name(enum hvt_ptype t);

#endif
