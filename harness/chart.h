/* SPDX-License-Identifier: MIT */
/* Charts drawn with cairo: tax bars with CI whiskers, and line charts; SVG, PNG or PDF in memory.
 */
#ifndef HVT_CHART_H
#define HVT_CHART_H

#include <stddef.h>

enum hvt_chart_format { HVT_CHART_SVG, HVT_CHART_PNG, HVT_CHART_PDF };

/* One horizontal bar: a value with its interval (lo, hi may be NAN: no whisker). */
struct hvt_chart_bar {
	const char *label;
	double v, lo, hi;
	int tone; /* 0 neutral, 1 bad (significant slowdown), -1 good (significant speedup) */
};

/* One line of points (x ascending). */
struct hvt_chart_line {
	const char *name;
	const double *x, *y;
	size_t n;
};

enum hvt_chart_kind { HVT_CHART_BARS, HVT_CHART_LINES };

struct hvt_chart {
	enum hvt_chart_kind kind;
	const char *title, *xlabel, *ylabel;
	const char *subtitle; /* smaller second line under the title; may be NULL */
	int width, height;    /* points; 0: defaults (bars: height from the number of bars) */
	/* bars: values are fractions, drawn as percentages; `ref` draws a dashed line (NAN: none)
	 */
	const struct hvt_chart_bar *bars;
	size_t nbars;
	double ref;
	/* lines */
	const struct hvt_chart_line *lines;
	size_t nlines;
	int logx, logy;
	/* x tick text: NULL for numbers; else called for each tick value */
	void (*xfmt)(char *buf, size_t len, double x);
	void (*yfmt)(char *buf, size_t len, double y);
};

/*
 * Release cairo's and fontconfig's process-wide caches (fonts, glyphs), so a
 * leak checker sees only our own allocations. Call once, after the last
 * chart; charts may be drawn again afterwards (the caches are rebuilt).
 */
void hvt_chart_cleanup(void);

/* 1 when charts can be drawn (built with cairo), else 0. */
int hvt_chart_available(void);

/*
 * Render `c` in format `f` into a malloc'ed buffer (*out, *len; caller
 * frees). For SVG the XML declaration is left out and every id is prefixed
 * with `idprefix` (may be NULL), so several charts can be inlined in one
 * HTML document. 0, -EINVAL (nothing to draw), -EOPNOTSUPP (built without
 * cairo), -ENOMEM, -EIO (cairo error).
 */
int hvt_chart_render(const struct hvt_chart *c, enum hvt_chart_format f, const char *idprefix,
		     char **out, size_t *len) __attribute__((warn_unused_result));

#endif
