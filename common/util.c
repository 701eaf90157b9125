/* SPDX-License-Identifier: MIT */
/* Small helpers shared by hvtax-bench and hvtax: messages, clocks, memory, RNG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#ifndef HVT_VERSION
#define HVT_VERSION "unknown"
#endif
#ifndef HVT_COMMIT
#define HVT_COMMIT "unknown"
#endif

const char hvt_version[] = HVT_VERSION;
const char hvt_commit[] = HVT_COMMIT;
int hvt_quiet;

static const char *prog = "hvtax";

void hvt_set_prog(const char *name)
{
	prog = name;
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (kind)
		fprintf(stderr, "%s: %s: %s\n", prog, kind, buf);
	else
		fprintf(stderr, "%s: %s\n", prog, buf);
}

void hvt_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", fmt, ap);
	va_end(ap);
}

void hvt_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning", fmt, ap);
	va_end(ap);
}

void hvt_info(const char *fmt, ...)
{
	va_list ap;

	if (hvt_quiet)
		return;
	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
}

uint64_t hvt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double hvt_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void hvt_fmt_iso8601(char *buf, size_t len, double wall_s)
{
	time_t t = (time_t)wall_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void *hvt_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		hvt_err("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

char *hvt_strdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		hvt_err("out of memory");
	return p;
}

char *hvt_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0) {
		hvt_err("out of memory");
		return NULL;
	}
	return p;
}

unsigned hvt_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64], prev, tmp;

	if (lb >= HVT_ARRAY_SIZE(row))
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *hvt_did_you_mean(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned bestd = 4;

	for (size_t i = 0; i < n; i++) {
		unsigned d = hvt_edit_distance(word, cands[i]);

		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return best;
}

char *hvt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, ncap + 1);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap = ncap;
		}
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		free(buf);
		fclose(f);
		errno = e;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void hvt_rng_seed(struct hvt_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t hvt_rng_next(struct hvt_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t hvt_rng_below(struct hvt_rng *r, uint64_t n)
{
	uint64_t x, lim;

	if (n <= 1)
		return 0;
	/* rejection sampling: no modulo bias */
	lim = UINT64_MAX - UINT64_MAX % n;
	do
		x = hvt_rng_next(r);
	while (x >= lim);
	return x % n;
}

double hvt_rng_double(struct hvt_rng *r)
{
	return (double)(hvt_rng_next(r) >> 11) * 0x1.0p-53;
}
