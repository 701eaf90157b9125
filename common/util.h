/* SPDX-License-Identifier: MIT */
/* Small helpers shared by hvtax-bench and hvtax. */
#ifndef HVT_UTIL_H
#define HVT_UTIL_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

#define HVT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes (STYLE.md rule 5). */
enum {
	HVT_EXIT_OK = 0,
	HVT_EXIT_FAIL = 1,
	HVT_EXIT_USAGE = 2,
	HVT_EXIT_GATE = 3,
	HVT_EXIT_SKIP = 77,
};

/* Tool version, set by the Makefile from git. */
extern const char hvt_version[];
extern const char hvt_commit[];

/* Diagnostics to stderr, prefixed by the program name set with hvt_set_prog(). */
void hvt_set_prog(const char *name);
void hvt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hvt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hvt_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set by --quiet: hvt_info() prints nothing. */
extern int hvt_quiet;

/* Monotonic raw clock in ns. */
uint64_t hvt_now_ns(void);
/* Wall clock, seconds since the epoch, with fraction. */
double hvt_wall_s(void);
/* ISO 8601 UTC of a wall time. */
void hvt_fmt_iso8601(char *buf, size_t len, double wall_s);

/* Allocation that reports and returns NULL on failure. */
void *hvt_calloc(size_t n, size_t size);
char *hvt_strdup(const char *s);
/* asprintf that returns NULL (after reporting) on failure. */
char *hvt_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Levenshtein distance, for "did you mean". */
unsigned hvt_edit_distance(const char *a, const char *b);
/* Closest candidate within distance 3, or NULL. */
const char *hvt_did_you_mean(const char *word, const char *const *cands, size_t n);

/* Read a whole small file into a NUL-terminated buffer (caller frees). NULL on error, errno set. */
char *hvt_read_file(const char *path, size_t *len);

/* Seeded random generator (xoshiro256**), used for case order and bootstrap. */
struct hvt_rng {
	uint64_t s[4];
};
void hvt_rng_seed(struct hvt_rng *r, uint64_t seed);
uint64_t hvt_rng_next(struct hvt_rng *r);
/* Uniform integer in [0, n). */
uint64_t hvt_rng_below(struct hvt_rng *r, uint64_t n);
/* Uniform double in [0, 1). */
double hvt_rng_double(struct hvt_rng *r);

#endif
