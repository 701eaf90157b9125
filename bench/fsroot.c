/* SPDX-License-Identifier: MIT */
/* The fsroot seam: small-file readers that prefix hvt_fsroot, so tests replay captured trees. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsroot.h"

/* Larger files are not "small": /proc/cpuinfo of a 512-CPU host is about 1 MiB. */
#define HVT_FS_MAX_BYTES (4u << 20)

const char *hvt_fsroot = "";

const char *hvt_fsroot_get(void)
{
	const char *env;

	if (hvt_fsroot && hvt_fsroot[0])
		return hvt_fsroot;
	env = getenv("HVT_FSROOT");
	return env ? env : "";
}

int hvt_fsroot_is_live(void)
{
	return hvt_fsroot_get()[0] == '\0';
}

int hvt_fsroot_path(char *buf, size_t len, const char *path)
{
	int n = snprintf(buf, len, "%s%s", hvt_fsroot_get(), path);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

char *hvt_strtrim(char *s)
{
	char *start = s;
	size_t n;

	while (*start && isspace((unsigned char)*start))
		start++;
	n = strlen(start);
	while (n > 0 && isspace((unsigned char)start[n - 1]))
		n--;
	memmove(s, start, n);
	s[n] = '\0';
	return s;
}

char *hvt_fs_read(const char *path, size_t *len)
{
	char full[PATH_MAX];
	char *buf = NULL;
	size_t cap = 4096, used = 0;
	int fd, err;

	err = hvt_fsroot_path(full, sizeof(full), path);
	if (err) {
		errno = -err;
		return NULL;
	}
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf) {
		err = ENOMEM;
		goto out_close_fd;
	}
	for (;;) {
		ssize_t r;

		if (used + 1 >= cap) {
			char *nb;

			if (cap >= HVT_FS_MAX_BYTES) {
				err = EFBIG;
				goto out_free;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + used, cap - used - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out_free;
		}
		if (r == 0)
			break;
		used += (size_t)r;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	close(fd);
	return buf;

out_free:
	free(buf);
out_close_fd:
	close(fd);
	errno = err;
	return NULL;
}

char *hvt_fs_read_trim(const char *path)
{
	char *s = hvt_fs_read(path, NULL);

	return s ? hvt_strtrim(s) : NULL;
}

char *hvt_fs_read_line(const char *path)
{
	char *s = hvt_fs_read(path, NULL);
	char *nl;

	if (!s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	return hvt_strtrim(s);
}

int hvt_fs_read_int(const char *path, int64_t *v)
{
	char *s = hvt_fs_read_trim(path);
	char *end;
	long long x;
	int ret = 0;

	if (!s)
		return -errno;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno)
		ret = errno == ERANGE ? -ERANGE : -EINVAL;
	else
		*v = x;
	free(s);
	return ret;
}

int hvt_fs_exists(const char *path)
{
	char full[PATH_MAX];
	struct stat st;

	if (hvt_fsroot_path(full, sizeof(full), path))
		return 0;
	return lstat(full, &st) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hvt_fs_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int hvt_fs_list(const char *path, char ***names, size_t *n)
{
	char full[PATH_MAX];
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	DIR *d;
	int err;

	err = hvt_fsroot_path(full, sizeof(full), path);
	if (err)
		return err;
	d = opendir(full);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(v, ncap * sizeof(*nv));

			if (!nv) {
				err = -ENOMEM;
				goto out_free;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt]) {
			err = -ENOMEM;
			goto out_free;
		}
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;

out_free:
	hvt_fs_list_free(v, cnt);
	closedir(d);
	return err;
}

char *hvt_fs_readlink(const char *path)
{
	char full[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t r;
	char *s;

	if (hvt_fsroot_path(full, sizeof(full), path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	r = readlink(full, target, sizeof(target) - 1);
	if (r >= 0) {
		target[r] = '\0';
		return strdup(target);
	}
	if (errno != EINVAL || hvt_fsroot_is_live() || lstat(full, &st) || !S_ISREG(st.st_mode))
		return NULL;
	s = hvt_fs_read_trim(path);
	return s;
}
