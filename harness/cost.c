/* SPDX-License-Identifier: MIT */
/* Cost per job: hourly prices per environment, job profiles, projected runtime and break-even. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/units.h"
#include "../common/util.h"
#include "cost.h"
#include "opts.h"
#include "report_ini.h"
#include "report_src.h"
#include "runs.h"

#define HVT_PRICES_DEFAULT "configs/prices.ini"
#define HVT_JOBS_GLOB "configs/jobs/*.ini"

/* ---- prices ---- */

void hvt_prices_free(struct hvt_prices *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->env[i].name);
		free(p->env[i].desc);
	}
	free(p->env);
	memset(p, 0, sizeof(*p));
}

const struct hvt_price *hvt_prices_find(const struct hvt_prices *p, const char *name)
{
	for (size_t i = 0; name && i < p->n; i++)
		if (!strcmp(p->env[i].name, name))
			return &p->env[i];
	return NULL;
}

static int bad_value(const char *file, int line, const char *key, const char *value,
		     const char *want)
{
	hvt_err("%s:%d: invalid %s '%s': expected %s", file, line, key, value, want);
	return -EINVAL;
}

static int price_cb(void *ctx, const char *section, const char *key, const char *value,
		    const char *file, int line)
{
	struct hvt_prices *p = ctx;
	struct hvt_price *e;
	double v;

	if (!strcmp(section, "prices")) {
		if (strcmp(key, "currency")) {
			hvt_err("%s:%d: unknown key '%s' in [prices] (expected currency)", file,
				line, key);
			return -EINVAL;
		}
		if (!*value || strlen(value) >= sizeof(p->currency))
			return bad_value(file, line, key, value, "a currency code such as USD");
		snprintf(p->currency, sizeof(p->currency), "%s", value);
		return 0;
	}
	if (strncmp(section, "env ", 4) || !section[4]) {
		hvt_err("%s:%d: unknown section '%s' (expected [prices] or [env NAME])", file, line,
			section);
		return -EINVAL;
	}
	if (!p->n || strcmp(p->env[p->n - 1].name, section + 4)) {
		struct hvt_price *env;

		if (hvt_prices_find(p, section + 4)) {
			hvt_err("%s:%d: environment '%s' defined twice", file, line, section + 4);
			return -EINVAL;
		}
		env = realloc(p->env, (p->n + 1) * sizeof(*env));
		if (!env)
			return -ENOMEM;
		p->env = env;
		env[p->n] = (struct hvt_price){strdup(section + 4), NULL, NAN, NAN, 1.0};
		if (!env[p->n].name)
			return -ENOMEM;
		p->n++;
	}
	e = &p->env[p->n - 1];
	if (!strcmp(key, "description")) {
		free(e->desc);
		e->desc = strdup(value);
		return e->desc ? 0 : -ENOMEM;
	}
	if (!strcmp(key, "on_demand") || !strcmp(key, "reserved")) {
		if (hvt_parse_double(value, &v) || v < 0)
			return bad_value(file, line, key, value, "a price per hour >= 0");
		*(!strcmp(key, "on_demand") ? &e->on_demand : &e->reserved) = v;
		return 0;
	}
	if (!strcmp(key, "utilization")) {
		if (hvt_parse_percent(value, &v) || !(v > 0 && v <= 1))
			return bad_value(file, line, key, value,
					 "a fraction in (0, 1] or a percentage");
		e->utilization = v;
		return 0;
	}
	hvt_err("%s:%d: unknown key '%s' (expected description, on_demand, reserved, "
		"utilization)",
		file, line, key);
	return -EINVAL;
}

int hvt_prices_load(struct hvt_prices *p, const char *path)
{
	int ret;

	memset(p, 0, sizeof(*p));
	snprintf(p->currency, sizeof(p->currency), "USD");
	ret = hvt_ini_parse(path, price_cb, p);
	for (size_t i = 0; !ret && i < p->n; i++)
		if (isnan(p->env[i].on_demand)) {
			hvt_err("%s: environment '%s' has no on_demand price", path,
				p->env[i].name);
			ret = -EINVAL;
		}
	if (ret)
		hvt_prices_free(p);
	return ret;
}

/* ---- job profiles ---- */

void hvt_job_free(struct hvt_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->shares[i].key);
	free(j->shares);
	free(j->name);
	free(j->desc);
	free(j->path);
	memset(j, 0, sizeof(*j));
}

static int job_cb(void *ctx, const char *section, const char *key, const char *value,
		  const char *file, int line)
{
	struct hvt_job *j = ctx;
	double v;

	if (!strcmp(section, "job")) {
		if (!strcmp(key, "name") || !strcmp(key, "description")) {
			char **dst = !strcmp(key, "name") ? &j->name : &j->desc;

			free(*dst);
			*dst = strdup(value);
			return *dst ? 0 : -ENOMEM;
		}
		if (!strcmp(key, "baseline_hours")) {
			if (hvt_parse_double(value, &v) || !(v > 0))
				return bad_value(file, line, key, value, "hours > 0");
			j->hours = v;
			return 0;
		}
		hvt_err("%s:%d: unknown key '%s' in [job] (expected name, description, "
			"baseline_hours)",
			file, line, key);
		return -EINVAL;
	}
	if (!strcmp(section, "shares")) {
		struct hvt_job_share *s;

		if (hvt_parse_percent(value, &v) || !(v >= 0 && v <= 1))
			return bad_value(file, line, key, value, "a share such as 60% or 0.6");
		s = realloc(j->shares, (j->n + 1) * sizeof(*s));
		if (!s)
			return -ENOMEM;
		j->shares = s;
		s[j->n].key = strdup(key);
		s[j->n].share = v;
		if (!s[j->n].key)
			return -ENOMEM;
		j->n++;
		j->total += v;
		return 0;
	}
	hvt_err("%s:%d: unknown section '%s' (expected [job] or [shares])", file, line, section);
	return -EINVAL;
}

int hvt_job_load(struct hvt_job *j, const char *path)
{
	int ret;

	memset(j, 0, sizeof(*j));
	j->path = strdup(path);
	if (!j->path)
		return -ENOMEM;
	ret = hvt_ini_parse(path, job_cb, j);
	if (!ret && !(j->hours > 0)) {
		hvt_err("%s: [job] baseline_hours is required", path);
		ret = -EINVAL;
	}
	if (!ret && j->total > 1.0 + 1e-9) {
		hvt_err("%s: shares sum to %.1f%%, more than 100%%", path, j->total * 100.0);
		ret = -EINVAL;
	}
	if (!ret && !j->name) {
		const char *b = strrchr(path, '/');
		size_t len;

		b = b ? b + 1 : path;
		len = strcspn(b, ".");
		j->name = strndup(b, len);
		if (!j->name)
			ret = -ENOMEM;
	}
	if (ret)
		hvt_job_free(j);
	return ret;
}

/* ---- arithmetic ---- */

double hvt_cost_runtime(double hours, const double *share, const double *tax, size_t n)
{
	double sum = 0.0, rest = 1.0;

	for (size_t i = 0; i < n; i++) {
		sum += share[i] * (1.0 + tax[i]);
		rest -= share[i];
	}
	if (rest < 0.0)
		rest = 0.0;
	return hours * (sum + rest);
}

double hvt_cost_per_job(double price_per_hour, double runtime_hours, double utilization)
{
	return price_per_hour * runtime_hours / utilization;
}

double hvt_cost_break_even(double price_a, double runtime_a, double ua, double price_b,
			   double runtime_b)
{
	return ua * (price_b * runtime_b) / (price_a * runtime_a);
}

static int is_family_name(const char *key)
{
	return !strpbrk(key, ".:?*[");
}

size_t hvt_cost_share_tax(const struct hvt_compare *c, const char *key, double *tax)
{
	const char *colon = strrchr(key, ':');
	char pat[512], family[128];
	const char *mpat = colon ? colon + 1 : "*";
	double *taxes;
	size_t k = 0;

	*tax = 0.0;
	if (!c)
		return 0;
	if (is_family_name(key)) {
		for (size_t f = 0; f < c->nfamilies; f++)
			if (!strcmp(c->families[f].family, key) && c->families[f].n &&
			    isfinite(c->families[f].geomean_tax)) {
				*tax = c->families[f].geomean_tax;
				return c->families[f].n;
			}
		return 0;
	}
	snprintf(pat, sizeof(pat), "%.*s", colon ? (int)(colon - key) : (int)strlen(key), key);
	taxes = calloc(c->nrows ? c->nrows : 1, sizeof(*taxes));
	if (!taxes)
		return 0;
	for (size_t i = 0; i < c->nrows; i++) {
		const struct hvt_compare_row *r = &c->rows[i];

		snprintf(family, sizeof(family), "%.*s", (int)strcspn(r->bench, ".?"), r->bench);
		if (r->flags & (HVT_CMP_UNDEF | HVT_CMP_MISMATCH) || !isfinite(r->tax))
			continue;
		if (fnmatch(mpat, r->metric, 0))
			continue;
		if (!fnmatch(pat, r->case_key, 0) || !fnmatch(pat, r->bench, 0) ||
		    !fnmatch(pat, family, 0))
			taxes[k++] = r->tax;
	}
	if (k && hvt_stats_geomean_tax(taxes, k, tax)) {
		*tax = 0.0;
		k = 0;
	}
	free(taxes);
	return k;
}

/* ---- command ---- */

struct env_run {
	const char *spec; /* as given, without @ENV */
	char *spec_buf;
	const char *envname; /* @ENV, or NULL */
	int64_t id;
	const struct hvt_price *price;
	char *label;
	struct hvt_compare cmp; /* against the baseline; empty for the baseline itself */
	int has_cmp;
};

static const char *json_str(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int find_price(struct hvt_store *st, struct env_run *e, const struct hvt_prices *p)
{
	json_t *info = hvt_store_run_info(st, e->id);
	const char *cands[4] = {e->envname, NULL, NULL, NULL};
	int ret = 0;

	if (!info)
		return -ENOENT;
	if (!e->envname) {
		cands[1] = json_str(info, "label", NULL, NULL);
		cands[2] = json_str(info, "target", NULL, NULL);
		cands[3] = json_str(info, "fingerprint", "virt", "kind");
	}
	{
		const char *l = json_str(info, "label", NULL, NULL);

		e->label = hvt_asprintf("%s", l ? l : e->spec);
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(cands) && !e->price; i++)
		e->price = hvt_prices_find(p, cands[i]);
	if (!e->price) {
		hvt_err("no price for run '%s' (label '%s', target '%s', kind '%s'): add an [env "
			"NAME] section to the prices file or write RUN@ENV",
			e->spec, cands[1] ? cands[1] : "-", cands[2] ? cands[2] : "-",
			cands[3] ? cands[3] : "-");
		ret = -ENOENT;
	}
	json_decref(info);
	return ret;
}

static void fmt_money(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", v);
}

static void print_job(FILE *out, const struct hvt_job *j, struct env_run *env, size_t nenv,
		      const struct hvt_prices *p)
{
	double *rt = calloc(nenv, sizeof(*rt)), *share = calloc(j->n + 1, sizeof(*share)),
	       *tax = calloc(j->n + 1, sizeof(*tax));
	double base_od = NAN, base_res = NAN;
	size_t wname = strlen("environment");

	if (!rt || !share || !tax)
		goto out;
	fprintf(out, "job %s (%s): %.2f h per job on the baseline%s%s\n", j->name, j->path,
		j->hours, j->desc ? "; " : "", j->desc ? j->desc : "");
	for (size_t k = 0; k < j->n; k++)
		share[k] = j->shares[k].share;
	for (size_t i = 0; i < nenv; i++) {
		for (size_t k = 0; k < j->n; k++) {
			size_t used = env[i].has_cmp ? hvt_cost_share_tax(&env[i].cmp,
									  j->shares[k].key, &tax[k])
						     : 0;

			if (!env[i].has_cmp)
				tax[k] = 0.0;
			if (i > 0) {
				char t[64];

				if (used)
					snprintf(t, sizeof(t),
						 "tax %+.1f%% (geomean of %zu metric%s)",
						 tax[k] * 100.0, used, used == 1 ? "" : "s");
				else
					snprintf(t, sizeof(t), "unmeasured: counted at tax 0");
				fprintf(out, "  %-16s %-24s %5.1f%% of runtime, %s\n",
					k == 0 ? env[i].label : "", j->shares[k].key,
					share[k] * 100.0, t);
			}
		}
		rt[i] = hvt_cost_runtime(j->hours, share, tax, j->n);
	}
	if (j->total < 1.0 - 1e-9)
		fprintf(out, "  %.1f%% of runtime is in no share: counted at tax 0\n",
			(1.0 - j->total) * 100.0);
	for (size_t i = 0; i < nenv; i++) {
		const size_t w = strlen(env[i].label) + strlen(env[i].price->name) + 3;

		if (w > wname)
			wname = w;
	}
	fprintf(out, "\n  %-*s %6s %9s %10s %9s %10s %12s %16s %5s\n", (int)wname, "environment",
		"run", "price/h", "reserved/h", "runtime h", "od/job", "reserved/job",
		"vs baseline", "util");
	for (size_t i = 0; i < nenv; i++) {
		const struct hvt_price *pr = env[i].price;
		const double od = hvt_cost_per_job(pr->on_demand, rt[i], pr->utilization);
		const double res = hvt_cost_per_job(pr->reserved, rt[i], pr->utilization);
		char a[24], b[24], c[24], d[24], diff[48], name[160];

		fmt_money(a, sizeof(a), pr->on_demand);
		fmt_money(b, sizeof(b), pr->reserved);
		fmt_money(c, sizeof(c), od);
		fmt_money(d, sizeof(d), res);
		if (i == 0) {
			base_od = od;
			base_res = res;
			snprintf(diff, sizeof(diff), "baseline");
		} else {
			snprintf(diff, sizeof(diff), "%+.2f (%+.1f%%)", od - base_od,
				 (od / base_od - 1.0) * 100.0);
		}
		snprintf(name, sizeof(name), "%s [%s]", env[i].label, pr->name);
		fprintf(out, "  %-*s %6lld %9s %10s %9.2f %10s %12s %16s %4.0f%%\n", (int)wname,
			name, (long long)env[i].id, a, b, rt[i], c, d, diff,
			pr->utilization * 100.0);
	}
	(void)base_res;
	fprintf(out,
		"  (%s per job; cost = price x runtime / utilization; difference on on-demand "
		"prices)\n",
		p->currency);
	if (nenv > 1) {
		fprintf(out, "  break-even utilization (on-demand):\n");
		for (size_t a = 0; a < nenv; a++)
			for (size_t b = 0; b < nenv; b++) {
				double u;

				if (a == b)
					continue;
				u = hvt_cost_break_even(env[a].price->on_demand, rt[a],
							env[a].price->utilization,
							env[b].price->on_demand, rt[b]);
				fprintf(
				    out, "    %s matches %s (at %.0f%%) at %.1f%% utilization%s\n",
				    env[b].label, env[a].label, env[a].price->utilization * 100.0,
				    u * 100.0, u > 1.0 ? ": never" : "");
			}
	}
	fputc('\n', out);
out:
	free(rt);
	free(share);
	free(tax);
}

enum {
	OPT_BASE = 'b',
	OPT_CAND = 'c',
	OPT_PRICES = 'p',
	OPT_JOB = 'j',
	OPT_UTIL = 'u',
};

static const struct hvt_opt cost_opts[] = {
	{ "baseline", 0, required_argument, OPT_BASE, "RUN[@ENV]",
	  "baseline run (id, label or export file)" },
	{ "candidate", 0, required_argument, OPT_CAND, "RUN[@ENV]",
	  "a run to price against it (repeatable)" },
	{ "prices", 0, required_argument, OPT_PRICES, "FILE",
	  "hourly prices (default " HVT_PRICES_DEFAULT ")" },
	{ "job", 0, required_argument, OPT_JOB, "FILE",
	  "job profile (repeatable; default " HVT_JOBS_GLOB ")" },
	{ "utilization", 0, required_argument, OPT_UTIL, "U",
	  "utilization of every environment (overrides prices)" },
	HVT_OPT_ROW_DB,
	HVT_OPT_ROW_SEED("bootstrap seed of the comparisons (default 1)"),
	HVT_OPT_ROW_HELP,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvtax cost --baseline RUN --candidate RUN... [options]\n"
		   "Projected runtime = hours x sum(share x (1 + tax)); cost = price x runtime / "
		   "utilization.\n"
		   "ENV names a price section; without it: the run's label, target, then "
		   "fingerprint kind.\n");
	hvt_opts_usage(f, cost_opts, HVT_ARRAY_SIZE(cost_opts));
}

static int split_env(struct env_run *e, const char *arg)
{
	const char *at = strrchr(arg, '@');

	memset(e, 0, sizeof(*e));
	e->spec_buf = at ? strndup(arg, (size_t)(at - arg)) : strdup(arg);
	if (!e->spec_buf)
		return -ENOMEM;
	e->spec = e->spec_buf;
	e->envname = at && at[1] ? at + 1 : NULL;
	return 0;
}

int hvt_cmd_cost(int argc, char **argv)
{
	struct hvt_getopt go;
	const char *db = hvt_default_db(), *prices_path = HVT_PRICES_DEFAULT;
	const char **job_paths = calloc((size_t)argc + 1, sizeof(*job_paths));
	const char **specs = calloc((size_t)argc + 1, sizeof(*specs));
	struct env_run *env = calloc((size_t)argc + 1, sizeof(*env));
	struct hvt_compare_opts co;
	struct hvt_prices prices;
	struct hvt_runsrc rs;
	int64_t *ids = calloc((size_t)argc + 1, sizeof(*ids));
	size_t njobs = 0, nenv = 1, nglob = 0;
	int opt, rc = HVT_EXIT_USAGE, have_base = 0, have_prices = 0, have_src = 0;
	double util = NAN;
	glob_t gl;

	memset(&gl, 0, sizeof(gl));
	memset(&prices, 0, sizeof(prices));
	hvt_compare_opts_init(&co);
	if (!job_paths || !specs || !env || !ids) {
		rc = HVT_EXIT_FAIL;
		goto out;
	}
	if (hvt_opts_build(&go, cost_opts, HVT_ARRAY_SIZE(cost_opts), "")) {
		rc = HVT_EXIT_FAIL;
		goto out;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, go.shorts, go.lopts, NULL)) != -1) {
		switch (opt) {
		case OPT_BASE:
			free(env[0].spec_buf);
			if (split_env(&env[0], optarg))
				goto out;
			have_base = 1;
			break;
		case OPT_CAND:
			if (split_env(&env[nenv++], optarg))
				goto out;
			break;
		case OPT_PRICES:
			prices_path = optarg;
			break;
		case OPT_JOB:
			job_paths[njobs++] = optarg;
			break;
		case OPT_UTIL:
			if (hvt_parse_percent(optarg, &util) || !(util > 0 && util <= 1)) {
				hvt_err(
				    "invalid --utilization '%s': expected (0, 1] or a percentage",
				    optarg);
				goto out;
			}
			break;
		case HVT_OPT_DB:
			db = optarg;
			break;
		case HVT_OPT_SEED:
			if (hvt_opt_seed(optarg, &co.seed))
				goto out;
			break;
		case HVT_OPT_HELP:
			usage(stdout);
			rc = 0;
			goto out;
		default:
			hvt_opts_bad("cost", argv);
			goto out;
		}
	}
	/* bare arguments are candidates too */
	for (; optind < argc; optind++)
		if (split_env(&env[nenv++], argv[optind]))
			goto out;
	if (!have_base) {
		hvt_err("cost needs --baseline (see: hvtax cost --help)");
		goto out;
	}
	if (hvt_prices_load(&prices, prices_path))
		goto out;
	have_prices = 1;
	if (util > 0)
		for (size_t i = 0; i < prices.n; i++)
			prices.env[i].utilization = util;
	if (!njobs) {
		if (glob(HVT_JOBS_GLOB, 0, NULL, &gl) || !gl.gl_pathc) {
			hvt_err("no job profiles: give --job FILE (none in %s)", HVT_JOBS_GLOB);
			goto out;
		}
		nglob = gl.gl_pathc;
	}
	for (size_t i = 0; i < nenv; i++)
		specs[i] = env[i].spec;
	if (hvt_runsrc_open(&rs, db, specs, nenv, ids))
		goto out;
	have_src = 1;
	for (size_t i = 0; i < nenv; i++) {
		env[i].id = ids[i];
		if (find_price(&rs.st, &env[i], &prices))
			goto out;
		if (i == 0)
			continue;
		if (hvt_compare_runs(&rs.st, ids[0], ids[i], &co, &env[i].cmp)) {
			rc = HVT_EXIT_FAIL;
			goto out;
		}
		env[i].has_cmp = 1;
		if (!env[i].cmp.nrows)
			hvt_warn("run '%s' has no case in common with the baseline: every share "
				 "counts at tax 0",
				 env[i].spec);
	}
	for (size_t k = 0; k < (njobs ? njobs : nglob); k++) {
		struct hvt_job j;

		if (hvt_job_load(&j, njobs ? job_paths[k] : gl.gl_pathv[k]))
			goto out;
		print_job(stdout, &j, env, nenv, &prices);
		hvt_job_free(&j);
	}
	rc = HVT_EXIT_OK;
out:
	if (have_src)
		hvt_runsrc_close(&rs);
	if (have_prices)
		hvt_prices_free(&prices);
	if (nglob || gl.gl_pathv)
		globfree(&gl);
	for (size_t i = 0; env && i < nenv; i++) {
		free(env[i].spec_buf);
		free(env[i].label);
		if (env[i].has_cmp)
			hvt_compare_free(&env[i].cmp);
	}
	free(env);
	free(specs);
	free(ids);
	free(job_paths);
	return rc;
}
