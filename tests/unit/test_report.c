/* SPDX-License-Identifier: MIT */
/* Unit tests of harness/report*.c and chart.c: the model, every writer, charts, determinism. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka needs the headers above */
#include <cmocka.h>

#include "../../common/schema.h"
#include "../../common/util.h"
#include "../../harness/chart.h"
#include "../../harness/report.h"
#include "../../harness/store.h"

struct fix {
	char dir[64];
	char db[128];
	struct hvt_store st;
	int64_t ids[2];
};

static const char *const sizes[] = {"4KiB", "64KiB", "1MiB", "16MiB"};

/*
 * One run, fabricated: mem.latency over 4 sizes (a sweep), and io.randread
 * with iops and latency percentiles. The candidate is `slow` times slower.
 */
static int64_t store_run(struct hvt_store *st, const char *label, double slow, uint64_t seed)
{
	const struct hvt_run_meta meta = {label, "host", "unit", "test_report"};
	struct hvt_ingest *in = hvt_ingest_begin(st, &meta);
	struct hvt_rng r;
	char line[8192];
	int lineno = 1;

	assert_non_null(in);
	hvt_rng_seed(&r, seed);
	snprintf(
	    line, sizeof(line),
	    "{\"type\":\"fingerprint\",\"schema\":%d,\"tool\":\"hvtax-bench\",\"version\":\"t\","
	    "\"fingerprint\":{\"virt\":{\"hypervisor\":\"%s\",\"kind\":\"%s\"},"
	    "\"kernel\":{\"release\":\"6.1\"}}}",
	    HVT_SCHEMA_VERSION, slow > 1 ? "kvm" : "none", slow > 1 ? "vm" : "baremetal");
	assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
	for (int k = 0; k < 3; k++) {
		for (size_t s = 0; s < HVT_ARRAY_SIZE(sizes); s++) {
			int off = snprintf(
			    line, sizeof(line),
			    "{\"type\":\"result\",\"schema\":%d,\"bench\":\"mem.latency\","
			    "\"case\":\"mem.latency?pages=4k&size=%s\",\"params\":{},\"metrics\":"
			    "[{\"name\":\"lat\",\"unit\":\"s\",\"dir\":\"lower\"}],\"round\":%d,"
			    "\"samples\":[",
			    HVT_SCHEMA_VERSION, sizes[s], k);

			for (int j = 0; j < 4; j++)
				off += snprintf(line + off, sizeof(line) - (size_t)off,
						"%s{\"rep\":%d,\"values\":{\"lat\":%.17g}}",
						j ? "," : "", j,
						1e-9 * (double)(s * s + 1) * slow *
						    (1 + 0.01 * hvt_rng_double(&r)));
			snprintf(line + off, sizeof(line) - (size_t)off, "]}");
			assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
		}
		{
			int off =
			    snprintf(line, sizeof(line),
				     "{\"type\":\"result\",\"schema\":%d,\"bench\":\"io.randread\","
				     "\"case\":\"io.randread?qd=1\",\"params\":{},\"metrics\":["
				     "{\"name\":\"iops\",\"unit\":\"op/s\",\"dir\":\"higher\"},"
				     "{\"name\":\"lat_p50\",\"unit\":\"s\",\"dir\":\"lower\"},"
				     "{\"name\":\"lat_p99\",\"unit\":\"s\",\"dir\":\"lower\"},"
				     "{\"name\":\"lat_p999\",\"unit\":\"s\",\"dir\":\"lower\"}],"
				     "\"round\":%d,"
				     "\"samples\":[",
				     HVT_SCHEMA_VERSION, k);

			for (int j = 0; j < 4; j++) {
				const double e = 1 + 0.01 * hvt_rng_double(&r);

				off += snprintf(line + off, sizeof(line) - (size_t)off,
						"%s{\"rep\":%d,\"values\":{\"iops\":%.17g,"
						"\"lat_p50\":%.17g,\"lat_p99\":%.17g,"
						"\"lat_p999\":%.17g}}",
						j ? "," : "", j, 1e5 / slow * e, 1e-5 * slow * e,
						3e-5 * slow * e, 9e-5 * slow * e);
			}
			snprintf(line + off, sizeof(line) - (size_t)off, "]}");
			assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
		}
	}
	snprintf(line, sizeof(line), "{\"type\":\"end\",\"schema\":%d,\"status\":\"ok\"}",
		 HVT_SCHEMA_VERSION);
	assert_int_equal(hvt_ingest_line(in, line, lineno++), 0);
	return hvt_ingest_commit(in, "ok");
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hvt-test-report-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/hvtax.db", f->dir);
	if (hvt_store_open(&f->st, f->db))
		return -1;
	f->ids[0] = store_run(&f->st, "metal", 1.0, 1);
	f->ids[1] = store_run(&f->st, "vm", 1.25, 2);
	if (f->ids[0] <= 0 || f->ids[1] <= 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char path[192];

	hvt_chart_cleanup();
	hvt_store_close(&f->st);
	unlink(f->db);
	snprintf(path, sizeof(path), "%s-wal", f->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->db);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static char *render(const struct hvt_report *r, int (*fn)(const struct hvt_report *, FILE *))
{
	FILE *f = tmpfile();
	char *buf;
	long len;

	assert_non_null(f);
	assert_int_equal(fn(r, f), 0);
	len = ftell(f);
	assert_true(len > 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static size_t count(const char *s, const char *sub)
{
	size_t n = 0, off = 0;
	const char *p;

	while ((p = strstr(s + off, sub)) != NULL) {
		n++;
		off = (size_t)(p - s) + 1;
	}
	return n;
}

static void test_model(void **state)
{
	struct fix *f = *state;
	struct hvt_report r;
	const struct hvt_compare *c;

	assert_int_equal(hvt_report_build(&r, &f->st, f->ids, 2, 0, NULL, 1), 0);
	assert_int_equal(r.nruns, 2);
	assert_true(r.has_base);
	assert_int_equal(r.runs[0].nseries, 8);
	assert_null(r.generated);
	/* deterministic: no timestamps in the run info */
	assert_null(json_object_get(r.runs[0].info, "started"));
	c = &r.cmp[1];
	assert_int_equal(c->nrows, 8);
	/* every metric of the candidate is 25% slower */
	for (size_t i = 0; i < c->nrows; i++)
		if (!(fabs(c->rows[i].tax - 0.25) < 0.02))
			fail_msg("%s %s: tax %g", c->rows[i].case_key, c->rows[i].metric,
				 c->rows[i].tax);
	assert_non_null(r.runs[1].jsonl);
	assert_true(r.runs[1].jsonl_len > 100);
	hvt_report_free(&r);
}

static void test_writers(void **state)
{
	struct fix *f = *state;
	struct hvt_report r;
	char *s;
	json_t *j;
	json_error_t err;

	assert_int_equal(hvt_report_build(&r, &f->st, f->ids, 2, 0, NULL, 1), 0);

	s = render(&r, hvt_report_write_json);
	j = json_loads(s, 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "report");
	assert_int_equal(json_integer_value(json_object_get(j, "schema")), HVT_REPORT_SCHEMA);
	assert_int_equal(json_array_size(json_object_get(j, "runs")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "comparisons")), 1);
	assert_null(json_object_get(j, "generated"));
	json_decref(j);
	free(s);

	s = render(&r, hvt_report_write_csv);
	assert_non_null(strstr(s, "\nrun_id,run_name,target,case,label,bench,metric,unit,direction,n,"));
	/* comment + header + 2 runs x 8 series */
	assert_int_equal(count(s, "\n"), 18);
	assert_non_null(strstr(s, ",\"s\",lower,12,"));
	free(s);

	s = render(&r, hvt_report_write_openmetrics);
	assert_non_null(strstr(s, "# TYPE hvtax_median_seconds gauge\n"));
	assert_non_null(strstr(s, "# UNIT hvtax_median_seconds seconds\n"));
	assert_non_null(strstr(s, "# TYPE hvtax_median_ops_per_second gauge\n"));
	assert_non_null(strstr(s, "# TYPE hvtax_tax_ratio gauge\n"));
	assert_non_null(strstr(s, "case=\"mem.latency?pages=4k&size=4KiB\""));
	assert_int_equal(strcmp(s + strlen(s) - 6, "# EOF\n"), 0);
	free(s);

	s = render(&r, hvt_report_write_md);
	assert_non_null(strstr(s, "## Tax of vm against metal"));
	free(s);
	s = render(&r, hvt_report_write_text);
	assert_non_null(strstr(s, "tax of vm against metal"));
	free(s);

	s = render(&r, hvt_report_write_html);
	assert_non_null(strstr(s, "<!DOCTYPE html>"));
	assert_non_null(strstr(s, "id=\"fingerprints\""));
	/* the differing fingerprint fields are highlighted */
	assert_int_equal(count(s, "<tr class=\"diff\">"), 2);
	assert_non_null(strstr(s, "data:application/x-ndjson;base64,"));
	assert_non_null(strstr(s, "<script type=\"application/json\" id=\"hvtax-report\">"));
	if (hvt_chart_available()) {
		/* tax chart, the latency sweep, the percentile chart */
		assert_int_equal(count(s, "<svg"), 3);
		assert_true(count(s, "<path") > 20);
		assert_null(strstr(s, "<?xml"));
	}
	free(s);
	hvt_report_free(&r);
}

static void test_deterministic(void **state)
{
	struct fix *f = *state;
	struct hvt_report a, b;
	char *sa, *sb;

	assert_int_equal(hvt_report_build(&a, &f->st, f->ids, 2, 0, NULL, 1), 0);
	assert_int_equal(hvt_report_build(&b, &f->st, f->ids, 2, 0, NULL, 1), 0);
	sa = render(&a, hvt_report_write_html);
	sb = render(&b, hvt_report_write_html);
	if (strcmp(sa, sb)) {
		size_t i = 0;

		while (sa[i] == sb[i])
			i++;
		fail_msg("deterministic reports differ at byte %zu: [%.120s] vs [%.120s]", i,
			 sa + (i > 40 ? i - 40 : 0), sb + (i > 40 ? i - 40 : 0));
	}
	assert_null(strstr(sa, "Generated "));
	free(sa);
	free(sb);
	hvt_report_free(&a);
	hvt_report_free(&b);
	/* not deterministic: the generation time is there */
	assert_int_equal(hvt_report_build(&a, &f->st, f->ids, 2, 0, NULL, 0), 0);
	sa = render(&a, hvt_report_write_html);
	assert_non_null(strstr(sa, "Generated "));
	free(sa);
	hvt_report_free(&a);
}

static void test_charts(void **state)
{
	struct fix *f = *state;
	struct hvt_report r;
	struct hvt_report_chart *ch;
	size_t n;

	assert_int_equal(hvt_report_build(&r, &f->st, f->ids, 2, 0, NULL, 1), 0);
	assert_int_equal(hvt_report_charts(&r, &ch, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ch[0].section, "tax");
	/* headline metrics: lat_p999 is in the table, not in the chart */
	assert_int_equal(ch[0].c.nbars, 7);
	/* labels keep only the parameters that vary within the bench */
	{
		int found = 0;

		for (size_t k = 0; k < ch[0].c.nbars; k++)
			found |= !strcmp(ch[0].c.bars[k].label, "mem.latency size=4KiB  lat");
		assert_true(found);
	}
	assert_string_equal(ch[1].section, "sweep");
	assert_int_equal(ch[1].c.nlines, 2);
	assert_int_equal(ch[1].c.lines[0].n, 4);
	/* x sorted by size in bytes, not by the text of the case key */
	assert_true(ch[1].c.lines[0].x[0] == 4096.0 && ch[1].c.lines[0].x[3] == 16777216.0);
	assert_string_equal(ch[2].section, "percentiles");
	assert_int_equal(ch[2].c.lines[0].n, 3);
	for (size_t i = 0; i < n; i++) {
		static const enum hvt_chart_format fmts[] = {HVT_CHART_SVG, HVT_CHART_PNG,
							     HVT_CHART_PDF};

		for (size_t k = 0; k < HVT_ARRAY_SIZE(fmts); k++) {
			char *buf = NULL;
			size_t len = 0;
			const int ret = hvt_chart_render(&ch[i].c, fmts[k], "p-", &buf, &len);

			if (!hvt_chart_available()) {
				assert_int_equal(ret, -EOPNOTSUPP);
				continue;
			}
			assert_int_equal(ret, 0);
			assert_true(len > 200);
			if (fmts[k] == HVT_CHART_PNG)
				assert_memory_equal(buf, "\x89PNG", 4);
			if (fmts[k] == HVT_CHART_PDF)
				assert_memory_equal(buf, "%PDF", 4);
			if (fmts[k] == HVT_CHART_SVG) {
				assert_memory_equal(buf, "<svg", 4);
				assert_null(strstr(buf, " id=\"glyph"));
			}
			free(buf);
		}
	}
	hvt_report_charts_free(ch, n);
	hvt_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_model),
	    cmocka_unit_test(test_writers),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_charts),
	};

	hvt_set_prog("test_report");
	return cmocka_run_group_tests(tests, setup, teardown);
}
