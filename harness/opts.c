/* SPDX-License-Identifier: MIT */
/* Harness options declared once in a table that drives getopt_long and the usage text. */
#include <errno.h>
#include <string.h>

#include "compare.h"
#include "opts.h"
#include "../common/units.h"
#include "../common/util.h"

/* Widest left column before the help moves to a line of its own. */
#define LEFT_MAX 30

int hvt_opts_build(struct hvt_getopt *g, const struct hvt_opt *t, size_t n, const char *lead)
{
	size_t k;

	if (n > HVT_OPT_MAX || strlen(lead) > 2)
		return -E2BIG;
	memset(g, 0, sizeof(*g));
	k = (size_t)snprintf(g->shorts, sizeof(g->shorts), "%s", lead);
	for (size_t i = 0; i < n; i++) {
		g->lopts[i] = (struct option){ t[i].name, t[i].has_arg, NULL, t[i].val };
		if (!t[i].short_name)
			continue;
		if (t[i].short_name != t[i].val)
			return -EINVAL;
		g->shorts[k++] = t[i].short_name;
		if (t[i].has_arg == required_argument)
			g->shorts[k++] = ':';
	}
	g->shorts[k] = '\0';
	return 0;
}

static int left_column(char *buf, size_t size, const struct hvt_opt *o, int with_short)
{
	char sh[8] = "";

	if (o->short_name)
		snprintf(sh, sizeof(sh), "-%c, ", o->short_name);
	else if (with_short)
		snprintf(sh, sizeof(sh), "    ");
	return snprintf(buf, size, "%s--%s%s%s", sh, o->name, o->arg ? " " : "",
			o->arg ? o->arg : "");
}

void hvt_opts_usage(FILE *f, const struct hvt_opt *t, size_t n)
{
	int with_short = 0, width = 0;

	for (size_t i = 0; i < n; i++)
		with_short |= t[i].short_name != 0;
	for (size_t i = 0; i < n; i++) {
		char left[64];
		int w = left_column(left, sizeof(left), &t[i], with_short);

		if (w > width && w <= LEFT_MAX)
			width = w;
	}
	for (size_t i = 0; i < n; i++) {
		const char *h = t[i].help, *nl;
		char left[64];

		if (left_column(left, sizeof(left), &t[i], with_short) > width)
			fprintf(f, "  %s\n  %-*s  ", left, width, "");
		else
			fprintf(f, "  %-*s  ", width, left);
		/* continuation lines of the help line up under its first */
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n  %-*s  ", (int)(nl - h), h, width, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
}

void hvt_opts_bad(const char *cmd, char *const *argv)
{
	hvt_err("invalid option '%s' (see: hvtax %s --help)", argv[optind - 1], cmd);
}

int hvt_opt_seed(const char *arg, uint64_t *out)
{
	int64_t v;

	if (hvt_parse_int(arg, &v) || v < 0) {
		hvt_err("invalid --seed '%s': expected an integer >= 0", arg);
		return -EINVAL;
	}
	*out = (uint64_t)v;
	return 0;
}

int hvt_opt_level(const char *arg, double *out)
{
	double v;

	if (hvt_parse_percent(arg, &v) || !(v > 0.0 && v < 1.0)) {
		hvt_err("invalid --level '%s': expected a level between 0 and 1 (e.g. 0.95)", arg);
		return -EINVAL;
	}
	/* '3' reads as 3%: a typo for 0.3? 99.7 (3 sigma)? Below 50% no interval means much */
	if (v < 0.5) {
		hvt_err("invalid --level '%s': a confidence level of %g%% is below 50%%; give e.g. 0.95 or 95%%",
			arg, v * 100.0);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int hvt_opt_rounds(const char *arg, unsigned *out)
{
	int64_t v;

	if (hvt_parse_int(arg, &v) || v < 1 || v > 100000) {
		hvt_err("--rounds: '%s' is not a count between 1 and 100000", arg);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

int hvt_opt_resamples(const char *arg, unsigned *out)
{
	int64_t v;

	if (hvt_parse_int(arg, &v) || v < 100 || v > 1000000) {
		hvt_err("invalid --resamples '%s': expected 100..1000000", arg);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

int hvt_opt_choice(const char *opt, const char *arg, const char *const *choices, size_t n)
{
	char list[256];
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(arg, choices[i]))
			return (int)i;
	list[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(list); i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(list + len, sizeof(list) - len, "%s%s", sep, choices[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
	hvt_err("invalid --%s '%s': expected %s", opt, arg, list);
	return -EINVAL;
}

int hvt_opt_append(const char *opt, const char **list, size_t *n, size_t max, const char *arg)
{
	if (*n == max) {
		hvt_err("--%s: at most %zu files", opt, max);
		return -E2BIG;
	}
	list[(*n)++] = arg;
	return 0;
}

int hvt_opt_compare(int val, const char *arg, struct hvt_compare_opts *co)
{
	switch (val) {
	case HVT_OPT_SEED:
		return hvt_opt_seed(arg, &co->seed);
	case HVT_OPT_LEVEL:
		return hvt_opt_level(arg, &co->level);
	case HVT_OPT_RESAMPLES:
		return hvt_opt_resamples(arg, &co->resamples);
	case HVT_OPT_PAIRED:
		co->paired = 1;
		return 0;
	default:
		return 1;
	}
}
