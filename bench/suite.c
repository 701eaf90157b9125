/* SPDX-License-Identifier: MIT */
/* Suite files: INI (inih) with a [suite] section of run settings and one section per benchmark. */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite.h"
#include "../common/units.h"

#ifndef HVT_DATADIR
#define HVT_DATADIR "/usr/local/share/hvtax"
#endif

void hvt_settings_default(struct hvt_settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "adhoc");
	s->rounds = 5;
	s->reps = 3;
	s->duration_ns = 200000000ull;
	s->warmup_ns = 50000000ull;
}

struct sec {
	char name[128];
	int line;
	struct hvt_assign *a;
	size_t na;
};

struct parse {
	const char *path;
	FILE *f;
	int line;
	struct sec *secs;
	size_t nsecs;
	struct hvt_settings *set;
	int err;
};

static void set_err(struct parse *p, const char *key, const char *fmt, const char *val)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, val);
	hvt_err("%s:%d: %s: %s", p->path, p->line, key, msg);
	p->err = -EINVAL;
}

/* inih reads through us, so we know the line number and see empty sections. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *s = fgets(str, num, p->f);
	const char *t;

	if (!s)
		return NULL;
	p->line++;
	t = s;
	while (*t == ' ' || *t == '\t')
		t++;
	if (*t == '[') {
		const char *end = strchr(t, ']');
		struct sec *ns;

		if (!end)
			return s; /* inih reports the error */
		ns = realloc(p->secs, (p->nsecs + 1) * sizeof(*ns));
		if (!ns) {
			p->err = -ENOMEM;
			return NULL;
		}
		p->secs = ns;
		memset(&ns[p->nsecs], 0, sizeof(*ns));
		snprintf(ns[p->nsecs].name, sizeof(ns[p->nsecs].name), "%.*s", (int)(end - t - 1), t + 1);
		ns[p->nsecs].line = p->line;
		p->nsecs++;
	}
	return s;
}

static int set_setting(struct parse *p, const char *name, const char *value)
{
	struct hvt_settings *s = p->set;
	uint64_t u;
	int64_t i;

	if (strcmp(name, "name") == 0) {
		snprintf(s->name, sizeof(s->name), "%s", value);
	} else if (strcmp(name, "description") == 0) {
		snprintf(s->description, sizeof(s->description), "%s", value);
	} else if (strcmp(name, "rounds") == 0 || strcmp(name, "reps") == 0) {
		if (hvt_parse_int(value, &i) || i < 1 || i > 100000) {
			set_err(p, name, "'%s' is not a count between 1 and 100000", value);
			return 0;
		}
		if (name[1] == 'o')
			s->rounds = (unsigned)i;
		else
			s->reps = (unsigned)i;
	} else if (strcmp(name, "duration") == 0 || strcmp(name, "warmup") == 0 ||
		   strcmp(name, "timeout") == 0) {
		if (hvt_parse_duration(value, &u)) {
			set_err(p, name, "'%s' is not a duration (e.g. 500ms, 2s)", value);
			return 0;
		}
		if (name[0] == 'd') {
			if (u < 1000000) {
				set_err(p, name, "'%s' is shorter than the minimum of 1ms", value);
				return 0;
			}
			s->duration_ns = u;
		} else if (name[0] == 'w') {
			s->warmup_ns = u;
		} else {
			s->timeout_ns = u;
		}
	} else if (strcmp(name, "seed") == 0) {
		if (hvt_parse_int(value, &i) || i < 0) {
			set_err(p, name, "'%s' is not a non-negative integer", value);
			return 0;
		}
		s->seed = (uint64_t)i;
	} else {
		static const char *const keys[] = { "name",	"description", "rounds", "reps",
						    "duration", "warmup",      "seed",	 "timeout" };
		const char *dym = hvt_did_you_mean(name, keys, HVT_ARRAY_SIZE(keys));
		char msg[256];

		if (dym)
			snprintf(msg, sizeof(msg), "unknown setting in [suite] (did you mean '%s'?)", dym);
		else
			snprintf(msg, sizeof(msg), "unknown setting in [suite]");
		set_err(p, name, "%s", msg);
		return 0;
	}
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct sec *s;
	struct hvt_assign *na;

	if (p->err)
		return 0;
	if (!p->nsecs) {
		set_err(p, name, "%s", "key outside any section");
		return 0;
	}
	if (strcmp(section, "suite") == 0)
		return set_setting(p, name, value);
	s = &p->secs[p->nsecs - 1];
	na = realloc(s->a, (s->na + 1) * sizeof(*na));
	if (!na) {
		p->err = -ENOMEM;
		return 0;
	}
	s->a = na;
	na[s->na].key = strdup(name);
	na[s->na].value = strdup(value);
	na[s->na].file = p->path;
	na[s->na].line = p->line;
	s->na++;
	if (!na[s->na - 1].key || !na[s->na - 1].value) {
		p->err = -ENOMEM;
		return 0;
	}
	return 1;
}

static int is_file(const char *path)
{
	return access(path, R_OK) == 0;
}

char *hvt_suite_resolve(const char *name)
{
	const char *env = getenv("HVTAX_CONFIGS");
	char exe[PATH_MAX], *slash;
	ssize_t n;
	char *cand;

	if (strchr(name, '/') || strstr(name, ".ini"))
		return is_file(name) ? hvt_strdup(name) : NULL;
	if (env && *env) {
		cand = hvt_asprintf("%s/%s.ini", env, name);
		if (cand && is_file(cand))
			return cand;
		free(cand);
	}
	cand = hvt_asprintf("configs/%s.ini", name);
	if (cand && is_file(cand))
		return cand;
	free(cand);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			cand = hvt_asprintf("%s/../configs/%s.ini", exe, name);
			if (cand && is_file(cand))
				return cand;
			free(cand);
			cand = hvt_asprintf("%s/../share/hvtax/configs/%s.ini", exe, name);
			if (cand && is_file(cand))
				return cand;
			free(cand);
		}
	}
	cand = hvt_asprintf("%s/configs/%s.ini", HVT_DATADIR, name);
	if (cand && is_file(cand))
		return cand;
	free(cand);
	return NULL;
}

static void free_secs(struct parse *p)
{
	for (size_t i = 0; i < p->nsecs; i++) {
		for (size_t k = 0; k < p->secs[i].na; k++) {
			free((char *)p->secs[i].a[k].key);
			free((char *)p->secs[i].a[k].value);
		}
		free(p->secs[i].a);
	}
	free(p->secs);
}

int hvt_suite_load(const char *name, struct hvt_suite *s)
{
	struct parse p;
	int r;

	memset(s, 0, sizeof(*s));
	memset(&p, 0, sizeof(p));
	hvt_settings_default(&s->set);
	s->path = hvt_suite_resolve(name);
	if (!s->path) {
		hvt_err("no suite '%s' (looked for a file, and for configs/%s.ini)", name, name);
		return -ENOENT;
	}
	p.path = s->path;
	p.set = &s->set;
	p.f = fopen(s->path, "r");
	if (!p.f) {
		hvt_err("cannot open '%s': %s", s->path, strerror(errno));
		r = -errno;
		goto out_fail;
	}
	r = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	if (p.err) {
		r = p.err;
		goto out_fail;
	}
	if (r > 0) {
		hvt_err("%s:%d: syntax error (expected [section] or key = value)", s->path, r);
		r = -EINVAL;
		goto out_fail;
	}
	if (r < 0) {
		hvt_err("cannot parse '%s'", s->path);
		r = -EINVAL;
		goto out_fail;
	}
	for (size_t i = 0; i < p.nsecs; i++) {
		char bname[128], *hash;
		const struct hvt_bench *b;

		if (strcmp(p.secs[i].name, "suite") == 0)
			continue;
		snprintf(bname, sizeof(bname), "%s", p.secs[i].name);
		hash = strchr(bname, '#');
		if (hash)
			*hash = '\0';
		b = hvt_bench_find(bname);
		if (!b) {
			char where[4096 + 160];

			/* a family that exists but was not built here is skipped, not an error */
			for (size_t k = 0; k < hvt_nunbuilt; k++) {
				size_t fl = strlen(hvt_unbuilt[k].family);

				if (strncmp(bname, hvt_unbuilt[k].family, fl) == 0 && bname[fl] == '.') {
					hvt_warn("%s:%d: '%s' not built here: %s", s->path, p.secs[i].line,
						 bname, hvt_unbuilt[k].why);
					goto next;
				}
			}
			snprintf(where, sizeof(where), "%s:%d: [%s]", s->path, p.secs[i].line,
				 p.secs[i].name);
			hvt_report_unknown_bench(where, bname);
			r = -EINVAL;
			goto out_fail;
		}
		r = hvt_cases_expand(b, p.secs[i].a, p.secs[i].na, &s->cases, &s->ncases);
		if (r)
			goto out_fail;
next:;
	}
	/* the same case twice would be measured twice under one key */
	for (size_t i = 0; i < s->ncases; i++)
		for (size_t j = i + 1; j < s->ncases; j++)
			if (strcmp(s->cases[i].key, s->cases[j].key) == 0) {
				hvt_err("%s: case '%s' appears twice", s->path, s->cases[i].key);
				r = -EINVAL;
				goto out_fail;
			}
	free_secs(&p);
	return 0;
out_fail:
	free_secs(&p);
	hvt_suite_release(s);
	return r;
}

void hvt_suite_release(struct hvt_suite *s)
{
	hvt_cases_free(s->cases, s->ncases);
	free(s->path);
	s->cases = NULL;
	s->ncases = 0;
	s->path = NULL;
}
