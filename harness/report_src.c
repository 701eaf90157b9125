/* SPDX-License-Identifier: MIT */
/* Where analysed runs come from: run ids or labels in a database, or exported JSON Lines files. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "export.h"
#include "report_src.h"

int hvt_runsrc_is_file(const char *spec)
{
	struct stat sb;

	return stat(spec, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void hvt_runsrc_close(struct hvt_runsrc *rs)
{
	hvt_store_close(&rs->st);
	rm_tree(rs->tmpdir);
	free(rs->tmpdir);
	rs->tmpdir = NULL;
}

/* Copy run `spec` of the database `db` into the temporary store through an export file. */
static int copy_run(struct hvt_runsrc *rs, const char *db, const char *spec, int64_t *id)
{
	struct hvt_store src;
	char *path = NULL;
	int64_t sid;
	FILE *f;
	int ret;

	ret = hvt_store_open(&src, db);
	if (ret)
		return ret;
	ret = hvt_store_resolve(&src, spec, &sid);
	if (ret)
		goto out_close;
	ret = -ENOMEM;
	path = hvt_asprintf("%s/run-%lld.jsonl", rs->tmpdir, (long long)sid);
	if (!path)
		goto out_close;
	f = fopen(path, "we");
	if (!f) {
		ret = -errno;
		hvt_err("cannot create '%s': %s", path, strerror(errno));
		goto out_close;
	}
	ret = hvt_export_run(&src, sid, f);
	if (fclose(f) && !ret) {
		ret = -EIO;
		hvt_err("cannot write '%s': %s", path, strerror(errno));
	}
	if (!ret)
		ret = hvt_import_file(&rs->st, path, NULL, id);
out_close:
	free(path);
	hvt_store_close(&src);
	return ret;
}

int hvt_runsrc_open(struct hvt_runsrc *rs, const char *db, const char *const *specs, size_t n,
		    int64_t *ids)
{
	int any_file = 0, ret = 0;
	char *path = NULL;

	memset(rs, 0, sizeof(*rs));
	for (size_t i = 0; i < n; i++)
		any_file |= hvt_runsrc_is_file(specs[i]);
	if (!any_file) {
		ret = hvt_store_open(&rs->st, db);
		if (ret)
			return ret;
		for (size_t i = 0; i < n && !ret; i++)
			ret = hvt_store_resolve(&rs->st, specs[i], &ids[i]);
		goto out;
	}

	{
		const char *tmp = getenv("TMPDIR");
		char *templ = hvt_asprintf("%s/hvtax-src.XXXXXX", tmp && *tmp ? tmp : "/tmp");

		if (!templ)
			return -ENOMEM;
		if (!mkdtemp(templ)) {
			ret = -errno;
			hvt_err("cannot create a temporary directory '%s': %s", templ,
				strerror(errno));
			free(templ);
			return ret;
		}
		rs->tmpdir = templ;
	}
	path = hvt_asprintf("%s/runs.db", rs->tmpdir);
	if (!path) {
		ret = -ENOMEM;
		goto out;
	}
	ret = hvt_store_open(&rs->st, path);
	if (ret) {
		/* nothing open to close in the store; drop the directory */
		rm_tree(rs->tmpdir);
		free(rs->tmpdir);
		rs->tmpdir = NULL;
		free(path);
		return ret;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (!strcmp(specs[i], specs[j]))
				break;
		if (j < i) {
			ids[i] = ids[j];
			continue;
		}
		if (hvt_runsrc_is_file(specs[i]))
			ret = hvt_import_file(&rs->st, specs[i], NULL, &ids[i]);
		else
			ret = copy_run(rs, db, specs[i], &ids[i]);
	}
out:
	free(path);
	if (ret)
		hvt_runsrc_close(rs);
	return ret;
}

void hvt_fput_xml(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			/* control characters are not allowed in XML 1.0 */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

void hvt_fput_md(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}
