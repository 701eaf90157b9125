/* SPDX-License-Identifier: MIT */
/* The fsroot seam: every /proc, /sys and /etc read of the fingerprint, prefixed for replay. */
#ifndef HVT_FSROOT_H
#define HVT_FSROOT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Prefix put in front of every absolute path read through these helpers.
 * "" (the default) reads the live system. When it is "" and the environment
 * variable HVT_FSROOT is set and non-empty, that value is used instead, so a
 * captured tree can be replayed with `HVT_FSROOT=DIR hvtax-bench fingerprint`.
 * Tests assign it directly. Never NULL.
 */
extern const char *hvt_fsroot;

/* The effective prefix: hvt_fsroot, else $HVT_FSROOT, else "". Never NULL. */
const char *hvt_fsroot_get(void);
/* True when reading the live system (effective prefix is ""). */
int hvt_fsroot_is_live(void);

/* Write prefix + path into buf. 0, or -ENAMETOOLONG. */
int hvt_fsroot_path(char *buf, size_t len, const char *path) __attribute__((warn_unused_result));

/*
 * Read a whole small file (up to 4 MiB; /proc files whose size is reported
 * as 0 are read to EOF). Returns a malloc'd NUL-terminated buffer, length in
 * *len if len is not NULL (embedded NULs, e.g. /proc/PID/environ, are kept).
 * NULL with errno set when the file cannot be read. Caller frees.
 */
char *hvt_fs_read(const char *path, size_t *len);
/* As hvt_fs_read, with leading and trailing whitespace removed. */
char *hvt_fs_read_trim(const char *path);
/* The first line, without its newline (trimmed of trailing whitespace). NULL + errno on error. */
char *hvt_fs_read_line(const char *path);
/* A decimal integer (trimmed file). 0, -errno when unreadable, -EINVAL when not an integer. */
int hvt_fs_read_int(const char *path, int64_t *v) __attribute__((warn_unused_result));
/* 1 if the path exists (as anything, dangling symlinks included), else 0. */
int hvt_fs_exists(const char *path);
/*
 * Names in a directory, sorted, without "." and "..". On success *names is a
 * malloc'd array of *n malloc'd strings (free with hvt_fs_list_free). 0 or -errno.
 */
int hvt_fs_list(const char *path, char ***names, size_t *n) __attribute__((warn_unused_result));
void hvt_fs_list_free(char **names, size_t n);
/*
 * Target of a symbolic link (malloc'd). In replay a captured regular file
 * stands for a link whose target is the file's trimmed content, so trees
 * can hold e.g. /proc/self/ns/pid as text. NULL with errno set on error.
 */
char *hvt_fs_readlink(const char *path);

/* Remove leading and trailing whitespace in place; returns s. */
char *hvt_strtrim(char *s);

#endif
