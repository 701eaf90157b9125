/* SPDX-License-Identifier: MIT */
/* Parsing and formatting of sizes, durations, counts and booleans. */
#ifndef HVT_UNITS_H
#define HVT_UNITS_H

#include <stdint.h>
#include <stddef.h>

/*
 * Each parser returns 0 and stores the value, or -EINVAL when the text is
 * not a valid value (empty, trailing garbage, unknown unit) and -ERANGE when
 * it overflows. Nothing is stored on error.
 */

/* "4096", "4KiB", "4K" (binary), "1MB" (decimal), "2GiB" -> bytes */
int hvt_parse_size(const char *s, uint64_t *bytes) __attribute__((warn_unused_result));
/* "500ms", "2s", "1.5s", "100us", "250ns", "1m", bare number = seconds -> ns */
int hvt_parse_duration(const char *s, uint64_t *ns) __attribute__((warn_unused_result));
/* signed decimal integer, whole string */
int hvt_parse_int(const char *s, int64_t *v) __attribute__((warn_unused_result));
/* finite floating point number, whole string */
int hvt_parse_double(const char *s, double *v) __attribute__((warn_unused_result));
/* 1/0, true/false, yes/no, on/off */
int hvt_parse_bool(const char *s, int *v) __attribute__((warn_unused_result));
/* "5%" or "0.05" -> 0.05; a bare number > 1 is read as percent */
int hvt_parse_percent(const char *s, double *frac) __attribute__((warn_unused_result));

/* Canonical text of a size: the largest exact binary unit ("4KiB", "1536B"). */
void hvt_fmt_size(char *buf, size_t len, uint64_t bytes);
/* Canonical text of a duration: the largest exact unit ("500ms", "2s"). */
void hvt_fmt_duration(char *buf, size_t len, uint64_t ns);

/* Display a value of base unit `unit` ("s", "B/s", "op/s", "B") for humans. */
void hvt_fmt_value(char *buf, size_t len, double v, const char *unit);

#endif
