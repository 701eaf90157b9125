/* SPDX-License-Identifier: MIT */
/* Parsing and formatting of sizes, durations, numbers and booleans. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

int hvt_parse_double(const char *s, double *v)
{
	char *end;
	double d;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(d))
		return -ERANGE;
	*v = d;
	return 0;
}

int hvt_parse_int(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (end == s || *end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*v = x;
	return 0;
}

/* Split "12.5KiB" into number and unit suffix. */
static int split_num(const char *s, double *num, const char **unit)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	while (*s == ' ')
		s++;
	if (*s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*num = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(*num))
		return -ERANGE;
	while (*end == ' ')
		end++;
	*unit = end;
	return 0;
}

int hvt_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *sfx;
		double mul;
	} units[] = {
		{ "", 1 },	       { "b", 1 },
		{ "k", 1024.0 },       { "kib", 1024.0 },
		{ "kb", 1e3 },	       { "m", 1048576.0 },
		{ "mib", 1048576.0 },  { "mb", 1e6 },
		{ "g", 1073741824.0 }, { "gib", 1073741824.0 },
		{ "gb", 1e9 },	       { "t", 1099511627776.0 },
		{ "tib", 1099511627776.0 }, { "tb", 1e12 },
	};
	const char *u;
	double n;
	int r = split_num(s, &n, &u);

	if (r)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(u, units[i].sfx) == 0) {
			double b = n * units[i].mul;

			if (b >= 18446744073709551615.0)
				return -ERANGE;
			if (b != floor(b))
				return -EINVAL; /* fractional bytes */
			*bytes = (uint64_t)b;
			return 0;
		}
	}
	return -EINVAL;
}

int hvt_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *sfx;
		double mul;
	} units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 },
		{ "ns", 1 }, { "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 },
	};
	const char *u;
	double n;
	int r = split_num(s, &n, &u);

	if (r)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(u, units[i].sfx) == 0) {
			double t = n * units[i].mul;

			if (t >= 1.8e19)
				return -ERANGE;
			*ns = (uint64_t)llround(t);
			return 0;
		}
	}
	return -EINVAL;
}

int hvt_parse_bool(const char *s, int *v)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int hvt_parse_percent(const char *s, double *frac)
{
	size_t n;
	char buf[64];
	double d;
	int pct = 0, r;

	if (!s || !*s || (n = strlen(s)) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	if (buf[n - 1] == '%') {
		buf[n - 1] = '\0';
		pct = 1;
	}
	r = hvt_parse_double(buf, &d);
	if (r)
		return r;
	if (d < 0)
		return -ERANGE;
	*frac = (pct || d > 1) ? d / 100.0 : d;
	return 0;
}

void hvt_fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *const sfx[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned i = 0;

	while (i < 4 && bytes && (bytes % 1024) == 0) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)bytes, sfx[i]);
}

void hvt_fmt_duration(char *buf, size_t len, uint64_t ns)
{
	if (ns && ns % 1000000000ull == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ull));
	else if (ns && ns % 1000000ull == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ull));
	else if (ns && ns % 1000ull == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000ull));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

static void fmt_scaled(char *buf, size_t len, double v, const char *const *names, const double *scale,
		       size_t n)
{
	double a = fabs(v);
	size_t i = 0;

	while (i + 1 < n && a >= scale[i + 1] * 0.9995)
		i++;
	snprintf(buf, len, "%.4g %s", v / scale[i], names[i]);
}

void hvt_fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	if (unit && strcmp(unit, "s") == 0) {
		static const char *const n[] = { "ns", "us", "ms", "s" };
		static const double sc[] = { 1e-9, 1e-6, 1e-3, 1 };

		fmt_scaled(buf, len, v, n, sc, 4);
	} else if (unit && strcmp(unit, "B/s") == 0) {
		static const char *const n[] = { "B/s", "kB/s", "MB/s", "GB/s" };
		static const double sc[] = { 1, 1e3, 1e6, 1e9 };

		fmt_scaled(buf, len, v, n, sc, 4);
	} else if (unit && strcmp(unit, "op/s") == 0) {
		static const char *const n[] = { "op/s", "kop/s", "Mop/s", "Gop/s" };
		static const double sc[] = { 1, 1e3, 1e6, 1e9 };

		fmt_scaled(buf, len, v, n, sc, 4);
	} else if (unit && strcmp(unit, "B") == 0) {
		static const char *const n[] = { "B", "KiB", "MiB", "GiB" };
		static const double sc[] = { 1, 1024.0, 1048576.0, 1073741824.0 };

		fmt_scaled(buf, len, v, n, sc, 4);
	} else {
		snprintf(buf, len, "%.4g%s%s", v, unit && strcmp(unit, "1") ? " " : "",
			 unit && strcmp(unit, "1") ? unit : "");
	}
}
