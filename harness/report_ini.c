/* SPDX-License-Identifier: MIT */
/* A small INI reader for analysis configs whose keys hold '=' and ':' (case keys, metrics). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "report_ini.h"

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int hvt_ini_parse(const char *path, hvt_ini_fn fn, void *ctx)
{
	char section[256] = "";
	char *text, *save = NULL, *line;
	int lineno = 0, ret = 0;

	text = hvt_read_file(path, NULL);
	if (!text) {
		ret = errno ? -errno : -EIO;
		hvt_err("cannot read '%s': %s", path, strerror(-ret));
		return ret;
	}
	/* strsep keeps empty lines, so line numbers stay right */
	save = text;
	while ((line = strsep(&save, "\n")) != NULL && !ret) {
		char *s = trim(line), *eq, *c;

		lineno++;
		if (!*s || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (!end || end[1] != '\0' || end - s - 1 >= (long)sizeof(section)) {
				hvt_err("%s:%d: malformed section header '%s'", path, lineno, s);
				ret = -EINVAL;
				break;
			}
			*end = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		/* inline comments in the value only: keys may not hold " ;" anyway */
		eq = strrchr(s, '=');
		if (!eq) {
			hvt_err("%s:%d: expected 'key = value', got '%s'", path, lineno, s);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		for (c = eq + 1; *c; c++)
			if ((*c == ';' || *c == '#') && isspace((unsigned char)c[-1])) {
				*c = '\0';
				break;
			}
		if (!*trim(s)) {
			hvt_err("%s:%d: empty key", path, lineno);
			ret = -EINVAL;
			break;
		}
		ret = fn(ctx, section, trim(s), trim(eq + 1), path, lineno);
	}
	free(text);
	return ret;
}
