/* SPDX-License-Identifier: MIT */
/* Parameters: parse, validate, canonicalise, and expand value lists into cases. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "../common/units.h"

const char *hvt_ptype_name(enum hvt_ptype t)
{
	switch (t) {
	case HVT_P_INT:
		return "int";
	case HVT_P_SIZE:
		return "size";
	case HVT_P_DURATION:
		return "duration";
	case HVT_P_DOUBLE:
		return "number";
	case HVT_P_BOOL:
		return "bool";
	case HVT_P_CHOICE:
		return "choice";
	case HVT_P_STRING:
		return "string";
	case HVT_P_THREADS:
		return "threads";
	}
	return "?";
}

static int bounded(const struct hvt_param *p)
{
	return p->min <= p->max;
}

static int check_bounds(const struct hvt_param *p, double v, const char *value, char *err, size_t errlen)
{
	if (bounded(p) && (v < p->min || v > p->max)) {
		char lo[32], hi[32];

		if (p->type == HVT_P_SIZE) {
			hvt_fmt_size(lo, sizeof(lo), (uint64_t)p->min);
			hvt_fmt_size(hi, sizeof(hi), (uint64_t)p->max);
		} else if (p->type == HVT_P_DURATION) {
			hvt_fmt_duration(lo, sizeof(lo), (uint64_t)p->min);
			hvt_fmt_duration(hi, sizeof(hi), (uint64_t)p->max);
		} else {
			snprintf(lo, sizeof(lo), "%g", p->min);
			snprintf(hi, sizeof(hi), "%g", p->max);
		}
		snprintf(err, errlen, "value '%s' out of range [%s, %s]", value, lo, hi);
		return -ERANGE;
	}
	return 0;
}

int hvt_param_set(const struct hvt_param *p, void *dst, char **strslot, const char *value, char *err,
		  size_t errlen)
{
	char *field = (char *)dst + p->offset;
	int r = 0;

	switch (p->type) {
	case HVT_P_INT: {
		int64_t v;

		r = hvt_parse_int(value, &v);
		if (r) {
			snprintf(err, errlen, "'%s' is not an integer", value);
			return r;
		}
		r = check_bounds(p, (double)v, value, err, errlen);
		if (!r)
			memcpy(field, &v, sizeof(v));
		return r;
	}
	case HVT_P_THREADS: {
		int64_t v;

		if (strcmp(value, "all") == 0) {
			v = hvt_cpus_allowed();
		} else if (hvt_parse_int(value, &v)) {
			snprintf(err, errlen, "'%s' is not a thread count (a number or 'all')", value);
			return -EINVAL;
		} else if (v < 1) {
			snprintf(err, errlen, "thread count must be at least 1, not '%s'", value);
			return -ERANGE;
		}
		r = check_bounds(p, (double)v, value, err, errlen);
		if (r)
			return r;
		memcpy(field, &v, sizeof(v));
		if (strslot) {
			free(*strslot);
			*strslot = strcmp(value, "all") == 0 ? hvt_strdup("all") : NULL;
		}
		return 0;
	}
	case HVT_P_SIZE: {
		uint64_t v;

		r = hvt_parse_size(value, &v);
		if (r) {
			snprintf(err, errlen, "'%s' is not a size (e.g. 4096, 4KiB, 1GiB)", value);
			return r;
		}
		r = check_bounds(p, (double)v, value, err, errlen);
		if (!r)
			memcpy(field, &v, sizeof(v));
		return r;
	}
	case HVT_P_DURATION: {
		uint64_t v;

		r = hvt_parse_duration(value, &v);
		if (r) {
			snprintf(err, errlen, "'%s' is not a duration (e.g. 500ms, 2s, 50us)", value);
			return r;
		}
		r = check_bounds(p, (double)v, value, err, errlen);
		if (!r)
			memcpy(field, &v, sizeof(v));
		return r;
	}
	case HVT_P_DOUBLE: {
		double v;

		r = hvt_parse_double(value, &v);
		if (r) {
			snprintf(err, errlen, "'%s' is not a number", value);
			return r;
		}
		r = check_bounds(p, v, value, err, errlen);
		if (!r)
			memcpy(field, &v, sizeof(v));
		return r;
	}
	case HVT_P_BOOL: {
		int v;

		r = hvt_parse_bool(value, &v);
		if (r) {
			snprintf(err, errlen, "'%s' is not a boolean (0/1, true/false, yes/no, on/off)", value);
			return r;
		}
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	case HVT_P_CHOICE: {
		size_t n = 0;

		for (; p->choices && p->choices[n]; n++) {
			if (strcmp(p->choices[n], value) == 0) {
				const char *c = p->choices[n];

				memcpy(field, &c, sizeof(c));
				return 0;
			}
		}
		const char *dym = hvt_did_you_mean(value, p->choices, n);
		char list[256] = "";

		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(list);

			snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", p->choices[i]);
		}
		if (dym)
			snprintf(err, errlen, "'%s' is not one of: %s (did you mean '%s'?)", value, list, dym);
		else
			snprintf(err, errlen, "'%s' is not one of: %s", value, list);
		return -EINVAL;
	}
	case HVT_P_STRING: {
		char *s = hvt_strdup(value);
		const char *cs = s;

		if (!s)
			return -ENOMEM;
		if (!strslot) {
			free(s);
			snprintf(err, errlen, "internal: no storage for string");
			return -EINVAL;
		}
		free(*strslot);
		*strslot = s;
		memcpy(field, &cs, sizeof(cs));
		return 0;
	}
	}
	snprintf(err, errlen, "internal: unknown parameter type");
	return -EINVAL;
}

void hvt_param_fmt(const struct hvt_param *p, const void *src, char *buf, size_t len)
{
	const char *field = (const char *)src + p->offset;

	switch (p->type) {
	case HVT_P_INT:
	case HVT_P_THREADS: {
		int64_t v;

		memcpy(&v, field, sizeof(v));
		snprintf(buf, len, "%lld", (long long)v);
		break;
	}
	case HVT_P_SIZE: {
		uint64_t v;

		memcpy(&v, field, sizeof(v));
		hvt_fmt_size(buf, len, v);
		break;
	}
	case HVT_P_DURATION: {
		uint64_t v;

		memcpy(&v, field, sizeof(v));
		hvt_fmt_duration(buf, len, v);
		break;
	}
	case HVT_P_DOUBLE: {
		double v;

		memcpy(&v, field, sizeof(v));
		snprintf(buf, len, "%.17g", v);
		break;
	}
	case HVT_P_BOOL: {
		int v;

		memcpy(&v, field, sizeof(v));
		snprintf(buf, len, "%d", v ? 1 : 0);
		break;
	}
	case HVT_P_CHOICE:
	case HVT_P_STRING: {
		const char *s;

		memcpy(&s, field, sizeof(s));
		snprintf(buf, len, "%s", s ? s : "");
		break;
	}
	}
}

void hvt_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_push(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strndup(s, len);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* "A..B*F" (geometric) or "A..B+S" (arithmetic) for numeric types. */
static int expand_range(const struct hvt_param *p, const char *item, char ***v, size_t *n)
{
	const char *dots = strstr(item, "..");
	const char *op;
	char a[64], b[64], f[64], txt[64];
	double lo, hi, step;
	int geometric, r;

	if (!dots)
		return 1; /* not a range */
	op = strpbrk(dots + 2, "*+");
	if (!op || (size_t)(dots - item) >= sizeof(a) || (size_t)(op - dots - 2) >= sizeof(b) ||
	    strlen(op + 1) >= sizeof(f))
		return -EINVAL;
	geometric = *op == '*';
	snprintf(a, sizeof(a), "%.*s", (int)(dots - item), item);
	snprintf(b, sizeof(b), "%.*s", (int)(op - dots - 2), dots + 2);
	snprintf(f, sizeof(f), "%s", op + 1);

	if (p->type == HVT_P_SIZE) {
		uint64_t x, y;

		if (hvt_parse_size(a, &x) || hvt_parse_size(b, &y))
			return -EINVAL;
		lo = (double)x;
		hi = (double)y;
	} else if (p->type == HVT_P_DURATION) {
		uint64_t x, y;

		if (hvt_parse_duration(a, &x) || hvt_parse_duration(b, &y))
			return -EINVAL;
		lo = (double)x;
		hi = (double)y;
	} else if (p->type == HVT_P_INT || p->type == HVT_P_THREADS || p->type == HVT_P_DOUBLE) {
		if (hvt_parse_double(a, &lo) || hvt_parse_double(b, &hi))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (geometric) {
		if (hvt_parse_double(f, &step) || step <= 1.0 || lo <= 0)
			return -EINVAL;
	} else {
		uint64_t s64;

		if (p->type == HVT_P_SIZE && !hvt_parse_size(f, &s64))
			step = (double)s64;
		else if (hvt_parse_double(f, &step))
			return -EINVAL;
		if (step <= 0)
			return -EINVAL;
	}
	if (hi < lo)
		return -EINVAL;
	for (double x = lo; x <= hi * (1 + 1e-12); x = geometric ? x * step : x + step) {
		if (*n > 4096)
			return -E2BIG;
		if (p->type == HVT_P_SIZE)
			hvt_fmt_size(txt, sizeof(txt), (uint64_t)llround(x));
		else if (p->type == HVT_P_DURATION)
			hvt_fmt_duration(txt, sizeof(txt), (uint64_t)llround(x));
		else if (p->type == HVT_P_DOUBLE)
			snprintf(txt, sizeof(txt), "%.17g", x);
		else
			snprintf(txt, sizeof(txt), "%lld", (long long)llround(x));
		r = strv_push(v, n, txt, strlen(txt));
		if (r)
			return r;
	}
	return 0;
}

int hvt_value_split(const struct hvt_param *p, const char *value, char ***items, size_t *n)
{
	const char *s = value;
	int r = 0;

	*items = NULL;
	*n = 0;
	if (p->type == HVT_P_STRING)
		return strv_push(items, n, value, strlen(value));
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char *item;

		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		item = strndup(s, len);
		if (!item) {
			r = -ENOMEM;
			goto out_fail;
		}
		r = expand_range(p, item, items, n);
		if (r == 1)
			r = strv_push(items, n, item, len);
		free(item);
		if (r)
			goto out_fail;
		if (!comma)
			break;
		s = comma + 1;
	}
	return 0;
out_fail:
	hvt_strv_free(*items, *n);
	*items = NULL;
	*n = 0;
	return r;
}

void hvt_case_release(struct hvt_case *c)
{
	if (!c)
		return;
	if (c->strs && c->bench) {
		for (size_t i = 0; i < c->bench->nparams; i++)
			free(c->strs[i]);
	}
	free(c->strs);
	free(c->params);
	free(c->key);
	json_decref(c->echo);
	memset(c, 0, sizeof(*c));
}

void hvt_cases_free(struct hvt_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hvt_case_release(&c[i]);
	free(c);
}

static void report(const struct hvt_assign *a, const char *bench, const char *key, const char *msg)
{
	if (a && a->file)
		hvt_err("%s:%d: %s: %s", a->file, a->line, key, msg);
	else
		hvt_err("%s: %s: %s", bench, key, msg);
}

/* Fill one case from the chosen item index of each parameter. */
static int build_case(const struct hvt_bench *b, char ***items, const size_t *idx,
		      const struct hvt_assign **src, struct hvt_case *c)
{
	char err[512], txt[256];
	size_t keylen = 0, keycap = 256;
	int r;

	memset(c, 0, sizeof(*c));
	c->bench = b;
	c->params = hvt_calloc(1, b->params_size ? b->params_size : 1);
	c->strs = hvt_calloc(b->nparams ? b->nparams : 1, sizeof(char *));
	c->echo = json_object();
	c->key = malloc(keycap);
	if (!c->params || !c->strs || !c->echo || !c->key) {
		r = -ENOMEM;
		goto out_fail;
	}
	keylen = (size_t)snprintf(c->key, keycap, "%s", b->name);
	for (size_t i = 0; i < b->nparams; i++) {
		const struct hvt_param *p = &b->params[i];
		const char *val = items[i] ? items[i][idx[i]] : p->def;

		if (!val) {
			report(NULL, b->name, p->name, "required parameter not given");
			r = -EINVAL;
			goto out_fail;
		}
		r = hvt_param_set(p, c->params, &c->strs[i], val, err, sizeof(err));
		if (r) {
			report(src[i], b->name, p->name, err);
			r = -EINVAL;
			goto out_fail;
		}
		if (p->type == HVT_P_THREADS && c->strs[i])
			snprintf(txt, sizeof(txt), "%s", c->strs[i]);
		else
			hvt_param_fmt(p, c->params, txt, sizeof(txt));
		json_object_set_new(c->echo, p->name, json_string(txt));
	}
	/* canonical key: parameters sorted by name */
	{
		const char **names = hvt_calloc(b->nparams ? b->nparams : 1, sizeof(*names));
		size_t nn = 0;

		if (!names) {
			r = -ENOMEM;
			goto out_fail;
		}
		for (size_t i = 0; i < b->nparams; i++)
			names[nn++] = b->params[i].name;
		for (size_t i = 1; i < nn; i++)
			for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
				const char *t = names[j];

				names[j] = names[j - 1];
				names[j - 1] = t;
			}
		for (size_t i = 0; i < nn; i++) {
			const char *v = json_string_value(json_object_get(c->echo, names[i]));
			size_t need = keylen + strlen(names[i]) + strlen(v) + 3;

			if (need >= keycap) {
				char *nk;

				keycap = need * 2;
				nk = realloc(c->key, keycap);
				if (!nk) {
					free(names);
					r = -ENOMEM;
					goto out_fail;
				}
				c->key = nk;
			}
			keylen += (size_t)snprintf(c->key + keylen, keycap - keylen, "%c%s=%s",
						   i ? '&' : '?', names[i], v);
		}
		free(names);
	}
	return 0;
out_fail:
	hvt_case_release(c);
	return r;
}

int hvt_cases_expand(const struct hvt_bench *b, const struct hvt_assign *a, size_t na,
		     struct hvt_case **out, size_t *nout)
{
	char ***items = NULL;
	size_t *nitems = NULL, *idx = NULL;
	const struct hvt_assign **src = NULL;
	int r = 0;

	items = hvt_calloc(b->nparams + 1, sizeof(*items));
	nitems = hvt_calloc(b->nparams + 1, sizeof(*nitems));
	idx = hvt_calloc(b->nparams + 1, sizeof(*idx));
	src = hvt_calloc(b->nparams + 1, sizeof(*src));
	if (!items || !nitems || !idx || !src) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < na; k++) {
		size_t i;

		for (i = 0; i < b->nparams; i++)
			if (strcmp(b->params[i].name, a[k].key) == 0)
				break;
		if (i == b->nparams) {
			const char **names = hvt_calloc(b->nparams + 1, sizeof(*names));
			const char *dym;
			char msg[512];

			if (!names) {
				r = -ENOMEM;
				goto out;
			}
			for (size_t j = 0; j < b->nparams; j++)
				names[j] = b->params[j].name;
			dym = hvt_did_you_mean(a[k].key, names, b->nparams);
			if (dym)
				snprintf(msg, sizeof(msg), "unknown parameter of '%s' (did you mean '%s'?)",
					 b->name, dym);
			else if (b->nparams)
				snprintf(msg, sizeof(msg),
					 "unknown parameter of '%s' (see: hvtax-bench list --params)", b->name);
			else
				snprintf(msg, sizeof(msg), "'%s' takes no parameters", b->name);
			free(names);
			report(&a[k], b->name, a[k].key, msg);
			r = -EINVAL;
			goto out;
		}
		if (items[i]) {
			report(&a[k], b->name, a[k].key, "given twice");
			r = -EINVAL;
			goto out;
		}
		r = hvt_value_split(&b->params[i], a[k].value, &items[i], &nitems[i]);
		if (r || nitems[i] == 0) {
			char msg[512];

			snprintf(msg, sizeof(msg), "'%s' is not a valid %s, list (a,b) or range (A..B*F)",
				 a[k].value, hvt_ptype_name(b->params[i].type));
			report(&a[k], b->name, a[k].key, msg);
			r = -EINVAL;
			goto out;
		}
		src[i] = &a[k];
	}
	/* cartesian product, last parameter varying fastest */
	for (;;) {
		struct hvt_case c, *nc;

		r = build_case(b, items, idx, src, &c);
		if (r)
			goto out;
		nc = realloc(*out, (*nout + 1) * sizeof(**out));
		if (!nc) {
			hvt_case_release(&c);
			r = -ENOMEM;
			goto out;
		}
		*out = nc;
		nc[(*nout)++] = c;
		size_t i = b->nparams;

		while (i > 0) {
			i--;
			if (items[i] && ++idx[i] < nitems[i])
				break;
			idx[i] = 0;
			if (i == 0) {
				i = (size_t)-1;
				break;
			}
		}
		if (i == (size_t)-1 || b->nparams == 0)
			break;
	}
out:
	if (items)
		for (size_t i = 0; i < b->nparams; i++)
			hvt_strv_free(items[i], nitems[i]);
	free(items);
	free(nitems);
	free(idx);
	free(src);
	return r;
}

/*
 * Canonical text of parameter p's default, as build_case() would echo it, in
 * buf; 0, or -ENOENT when p has none (required) or it does not parse.
 */
static int default_text(const struct hvt_bench *b, const struct hvt_param *p, char *buf,
			size_t len)
{
	char err[256], *str = NULL;
	void *params;
	int r = -ENOENT;

	if (!p->def)
		return -ENOENT;
	params = hvt_calloc(1, b->params_size ? b->params_size : 1);
	if (!params)
		return -ENOMEM;
	if (!hvt_param_set(p, params, &str, p->def, err, sizeof(err))) {
		if (p->type == HVT_P_THREADS && str)
			snprintf(buf, len, "%s", str);
		else
			hvt_param_fmt(p, params, buf, len);
		r = 0;
	}
	free(str);
	free(params);
	return r;
}

char *hvt_case_label(const char *case_key)
{
	const char *q = strchr(case_key, '?');
	const struct hvt_bench *b;
	char name[128], def[256];
	char *out;
	size_t len = 0;
	int first = 1;

	if (!q || (size_t)(q - case_key) >= sizeof(name))
		return hvt_strdup(case_key);
	snprintf(name, sizeof(name), "%.*s", (int)(q - case_key), case_key);
	b = hvt_bench_find(name);
	if (!b)
		return hvt_strdup(case_key);
	/* the label is never longer than the key */
	out = malloc(strlen(case_key) + 1);
	if (!out)
		return NULL;
	len = (size_t)sprintf(out, "%s", name);
	for (const char *kv = q + 1; *kv;) {
		const size_t kvlen = strcspn(kv, "&");
		const char *eq = memchr(kv, '=', kvlen);
		const size_t klen = eq ? (size_t)(eq - kv) : kvlen;
		const char *val = eq ? eq + 1 : "";
		const size_t vlen = eq ? kvlen - klen - 1 : 0;
		int keep = 1;

		for (size_t i = 0; kvlen && i < b->nparams; i++) {
			const struct hvt_param *p = &b->params[i];
			int r;

			if (strlen(p->name) != klen || strncmp(p->name, kv, klen))
				continue;
			r = default_text(b, p, def, sizeof(def));
			if (r == -ENOMEM) {
				free(out);
				return NULL;
			}
			keep = r || strlen(def) != vlen || strncmp(def, val, vlen);
			break;
		}
		if (kvlen && keep) {
			out[len++] = first ? '?' : '&';
			memcpy(out + len, kv, kvlen);
			len += kvlen;
			first = 0;
		}
		kv += kvlen;
		if (*kv == '&')
			kv++;
	}
	out[len] = '\0';
	return out;
}
