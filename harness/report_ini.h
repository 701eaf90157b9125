/* SPDX-License-Identifier: MIT */
/* A small INI reader for analysis configs whose keys hold '=' and ':' (case keys, metrics). */
#ifndef HVT_REPORT_INI_H
#define HVT_REPORT_INI_H

/*
 * Called for each "key = value" line with the current section ("" before
 * the first one). Keys may contain '=' and ':' (e.g. "cpu.int?threads=1:ops"):
 * the value is what follows the LAST '=' on the line. Whitespace around
 * keys and values is trimmed; lines starting with ';' or '#' are comments,
 * and " ;" or " #" starts an inline comment in a value. Return 0 to go on,
 * or -errno to stop (the callback reports its own message using file:line).
 */
typedef int (*hvt_ini_fn)(void *ctx, const char *section, const char *key, const char *value,
			  const char *file, int line);

/*
 * Parse `path`. 0, -ENOENT/-errno when it cannot be read (reported), -EINVAL
 * for a malformed line ("FILE:LINE: ..." reported) or the callback's error.
 */
int hvt_ini_parse(const char *path, hvt_ini_fn fn, void *ctx) __attribute__((warn_unused_result));

#endif
