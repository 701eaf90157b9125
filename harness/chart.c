/* SPDX-License-Identifier: MIT */
/* Charts drawn with cairo: tax bars with CI whiskers, and line charts; SVG, PNG or PDF in memory.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

#ifdef HAVE_CAIRO
#include <dlfcn.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

int hvt_chart_available(void)
{
	return 1;
}

void hvt_chart_cleanup(void)
{
	/* fontconfig comes with cairo but is not linked by name: look its FcFini up */
	void (*fc_fini)(void) = NULL;
	void *sym;

	cairo_debug_reset_static_data();
	sym = dlsym(RTLD_DEFAULT, "FcFini");
	memcpy(&fc_fini, &sym, sizeof(fc_fini));
	if (fc_fini)
		fc_fini();
}

struct membuf {
	char *p;
	size_t len, cap;
	int err;
};

static cairo_status_t mem_write(void *closure, const unsigned char *data, unsigned int length)
{
	struct membuf *m = closure;

	if (m->len + length + 1 > m->cap) {
		size_t cap = (m->cap ? m->cap * 2 : 65536);
		char *p;

		while (cap < m->len + length + 1)
			cap *= 2;
		p = realloc(m->p, cap);
		if (!p) {
			m->err = 1;
			return CAIRO_STATUS_WRITE_ERROR;
		}
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, length);
	m->len += length;
	m->p[m->len] = '\0';
	return CAIRO_STATUS_SUCCESS;
}

static const double palette[][3] = {
    {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
};

static double nice_step(double range, int target)
{
	double raw = range / target, mag, f;

	if (!(raw > 0) || !isfinite(raw))
		return 1.0;
	mag = pow(10.0, floor(log10(raw)));
	f = raw / mag;
	return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align_x, double align_y)
{
	cairo_text_extents_t e;

	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, x - e.width * align_x - e.x_bearing,
		      y - e.height * align_y - e.y_bearing);
	cairo_show_text(cr, s);
}

static void fmt_num(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%g", v);
}

/* Show `s` centred at (x, y), shrinking the font down to `min_size` and then cutting the text to
 * fit `maxw`. */
static void fit_text(cairo_t *cr, double x, double y, const char *s, double size, double min_size,
		     double maxw)
{
	cairo_text_extents_t e;
	char buf[512];
	size_t len;

	snprintf(buf, sizeof(buf), "%s", s);
	for (;; size -= 0.5) {
		cairo_set_font_size(cr, size);
		cairo_text_extents(cr, buf, &e);
		if (e.x_advance <= maxw || size <= min_size)
			break;
	}
	len = strlen(buf);
	while (e.x_advance > maxw && len > 4) {
		len--;
		memcpy(buf + len - 3, "...", 4);
		cairo_text_extents(cr, buf, &e);
	}
	text_at(cr, x, y, buf, 0.5, 0.0);
}

static void draw_title(cairo_t *cr, const struct hvt_chart *c, double w)
{
	if (!c->title)
		return;
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	fit_text(cr, w / 2, 6, c->title, 13, 9, w - 16);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	if (c->subtitle) {
		cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
		fit_text(cr, w / 2, 22, c->subtitle, 9.5, 7, w - 16);
	}
}

static void draw_bars(cairo_t *cr, const struct hvt_chart *c, double w, double h)
{
	const double row = 18, top = c->subtitle ? 40 : 34, bottom = 42;
	double left = 60, lo = 0, hi = 0, step, x0, x1;
	cairo_text_extents_t e;

	cairo_set_font_size(cr, 10);
	double vlo = 0, vhi = 0;

	for (size_t i = 0; i < c->nbars; i++) {
		const struct hvt_chart_bar *b = &c->bars[i];

		cairo_text_extents(cr, b->label, &e);
		if (e.x_advance + 16 > left)
			left = e.x_advance + 16;
		if (isfinite(b->v)) {
			vlo = fmin(vlo, b->v);
			vhi = fmax(vhi, b->v);
		}
	}
	/*
	 * The axis follows the point estimates, with room for moderate whiskers;
	 * a very wide interval (a noisy tail metric) is cut at the edge with an
	 * arrow rather than squashing every other bar.
	 */
	for (size_t i = 0; i < c->nbars; i++) {
		const struct hvt_chart_bar *b = &c->bars[i];
		const double span = fmax(vhi - vlo, 0.1);

		if (isfinite(b->lo))
			lo = fmin(lo, fmax(b->lo, vlo - 0.5 * span));
		if (isfinite(b->hi))
			hi = fmax(hi, fmin(b->hi, vhi + 0.5 * span));
		lo = fmin(lo, vlo);
		hi = fmax(hi, vhi);
	}
	if (left > w * 0.55)
		left = w * 0.55;
	if (isfinite(c->ref)) {
		hi = fmax(hi, c->ref);
		lo = fmin(lo, -c->ref);
	}
	if (hi - lo < 0.02) {
		hi += 0.01;
		lo -= 0.01;
	}
	step = nice_step(hi - lo, 6);
	lo = floor(lo / step) * step;
	hi = ceil(hi / step) * step;
	/* a tax is never below -100%: no axis beyond it */
	if (lo < -1.0)
		lo = -1.0;
	x0 = left;
	x1 = w - 20;
#define XPOS(v) (x0 + ((v)-lo) / (hi - lo) * (x1 - x0))
	/* grid and ticks */
	cairo_set_line_width(cr, 0.5);
	for (double t = ceil(lo / step - 1e-9) * step; t <= hi + step / 2; t += step) {
		char buf[32];

		cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
		cairo_move_to(cr, XPOS(t), top);
		cairo_line_to(cr, XPOS(t), h - bottom);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		const double tv = fabs(t) < step * 1e-6 ? 0.0 : t;

		snprintf(buf, sizeof(buf), "%+.0f%%", tv * 100.0);
		if (step < 0.01)
			snprintf(buf, sizeof(buf), "%+.1f%%", tv * 100.0);
		text_at(cr, XPOS(t), h - bottom + 6, buf, 0.5, 0.0);
	}
	if (c->xlabel)
		text_at(cr, (x0 + x1) / 2, h - 14, c->xlabel, 0.5, 0.0);
	/* zero and threshold lines */
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_set_line_width(cr, 1.0);
	cairo_move_to(cr, XPOS(0), top);
	cairo_line_to(cr, XPOS(0), h - bottom);
	cairo_stroke(cr);
	if (isfinite(c->ref)) {
		const double dash[] = {4, 3};

		cairo_set_source_rgb(cr, 0.8, 0.2, 0.2);
		cairo_set_dash(cr, dash, 2, 0);
		cairo_move_to(cr, XPOS(c->ref), top);
		cairo_line_to(cr, XPOS(c->ref), h - bottom);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
	for (size_t i = 0; i < c->nbars; i++) {
		const struct hvt_chart_bar *b = &c->bars[i];
		const double y = top + (double)i * row + 3, bh = row - 6;

		cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
		cairo_text_extents(cr, b->label, &e);
		if (e.x_advance > x0 - 12) {
			/* too long even at the widest margin: keep its end, which varies */
			char buf[512];
			size_t len = strlen(b->label), cut = 0;

			do {
				cut++;
				snprintf(buf, sizeof(buf), "...%s", b->label + cut);
				cairo_text_extents(cr, buf, &e);
			} while (e.x_advance > x0 - 12 && cut + 4 < len);
			text_at(cr, x0 - 8, y + bh / 2, buf, 1.0, 0.5);
		} else {
			text_at(cr, x0 - 8, y + bh / 2, b->label, 1.0, 0.5);
		}
		if (!isfinite(b->v))
			continue;
		if (b->tone > 0)
			cairo_set_source_rgb(cr, 0.85, 0.33, 0.31);
		else if (b->tone < 0)
			cairo_set_source_rgb(cr, 0.30, 0.65, 0.35);
		else
			cairo_set_source_rgb(cr, 0.60, 0.68, 0.78);
		cairo_rectangle(cr, fmin(XPOS(0), XPOS(b->v)), y, fabs(XPOS(b->v) - XPOS(0)), bh);
		cairo_fill(cr);
		if (isfinite(b->lo) && isfinite(b->hi)) {
			const double ym = y + bh / 2;
			const double wl = fmax(b->lo, lo), wh = fmin(b->hi, hi);

			cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
			cairo_set_line_width(cr, 1.2);
			cairo_move_to(cr, XPOS(wl), ym);
			cairo_line_to(cr, XPOS(wh), ym);
			/* a cap where the interval ends, an arrow where the axis cut it */
			if (wl == b->lo) {
				cairo_move_to(cr, XPOS(wl), ym - 4);
				cairo_line_to(cr, XPOS(wl), ym + 4);
			} else {
				cairo_move_to(cr, XPOS(wl) + 5, ym - 4);
				cairo_line_to(cr, XPOS(wl), ym);
				cairo_line_to(cr, XPOS(wl) + 5, ym + 4);
			}
			if (wh == b->hi) {
				cairo_move_to(cr, XPOS(wh), ym - 4);
				cairo_line_to(cr, XPOS(wh), ym + 4);
			} else {
				cairo_move_to(cr, XPOS(wh) - 5, ym - 4);
				cairo_line_to(cr, XPOS(wh), ym);
				cairo_line_to(cr, XPOS(wh) - 5, ym + 4);
			}
			cairo_stroke(cr);
		}
	}
#undef XPOS
}

static double tr(double v, int lg)
{
	return lg ? log10(v) : v;
}

static void draw_lines(cairo_t *cr, const struct hvt_chart *c, double w, double h)
{
	const double left = 78, right = 20, top = c->subtitle ? 40 : 34, bottom = 48;
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY, sx, sy;
	void (*xf)(char *, size_t, double) = c->xfmt ? c->xfmt : fmt_num;
	void (*yf)(char *, size_t, double) = c->yfmt ? c->yfmt : fmt_num;
	const double x0 = left, x1 = w - right, y0 = h - bottom, y1 = top;
	double legend_y = top + 6;

	for (size_t l = 0; l < c->nlines; l++)
		for (size_t i = 0; i < c->lines[l].n; i++) {
			const double x = c->lines[l].x[i], y = c->lines[l].y[i];

			if (!isfinite(x) || !isfinite(y) || (c->logx && x <= 0) ||
			    (c->logy && y <= 0))
				continue;
			xlo = fmin(xlo, tr(x, c->logx));
			xhi = fmax(xhi, tr(x, c->logx));
			ylo = fmin(ylo, tr(y, c->logy));
			yhi = fmax(yhi, tr(y, c->logy));
		}
	if (!isfinite(xlo))
		return;
	if (!c->logy && ylo > 0)
		ylo = 0;
	if (xhi - xlo <= 0) {
		xlo -= 0.5;
		xhi += 0.5;
	}
	if (yhi - ylo <= 0) {
		ylo -= c->logy ? 0.5 : fabs(ylo) * 0.1 + 1e-30;
		yhi += c->logy ? 0.5 : fabs(yhi) * 0.1 + 1e-30;
	}
	yhi += (yhi - ylo) * 0.05;
	sx = (x1 - x0) / (xhi - xlo);
	sy = (y0 - y1) / (yhi - ylo);
#define PX(v) (x0 + (tr(v, c->logx) - xlo) * sx)
#define PY(v) (y0 - (tr(v, c->logy) - ylo) * sy)
	cairo_set_font_size(cr, 10);
	cairo_set_line_width(cr, 0.5);
	/* y ticks: nice steps, or 1-2-5 per decade on a log axis (1 per decade over wide ranges) */
	{
		const double step = c->logy ? 1.0 : nice_step(yhi - ylo, 5);
		const int wide = c->logy && yhi - ylo > 3;
		double ticks[64];
		size_t nt = 0;

		if (c->logy) {
			for (double d = floor(ylo); d <= ceil(yhi) && nt < 60; d += 1.0)
				for (int m = 0; m < (wide ? 1 : 3); m++) {
					const double t = d + log10((double[]){1, 2, 5}[m]);

					if (t >= ylo - 1e-12 && t <= yhi + 1e-12)
						ticks[nt++] = t;
				}
		} else {
			for (double t = ceil(ylo / step) * step; t <= yhi + 1e-12 && nt < 60;
			     t += step)
				ticks[nt++] = t;
		}
		for (size_t ti = 0; ti < nt; ti++) {
			const double t = ticks[ti];
			const double py = y0 - (t - ylo) * sy;
			char buf[32];

			cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
			cairo_move_to(cr, x0, py);
			cairo_line_to(cr, x1, py);
			cairo_stroke(cr);
			cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
			yf(buf, sizeof(buf), c->logy ? pow(10, t) : t);
			text_at(cr, x0 - 6, py, buf, 1.0, 0.5);
		}
	}
	/* x ticks: at the data's x values when few (sizes, queue depths), else nice steps */
	double xs[12];
	size_t nxs = 0;
	int few = 1;

	for (size_t l = 0; few && l < c->nlines; l++)
		for (size_t i = 0; few && i < c->lines[l].n; i++) {
			const double x = c->lines[l].x[i];
			size_t k;

			if (!isfinite(x) || (c->logx && x <= 0))
				continue;
			for (k = 0; k < nxs; k++)
				if (xs[k] == x)
					break;
			if (k < nxs)
				continue;
			if (nxs == 12)
				few = 0;
			else
				xs[nxs++] = x;
		}
	if (few && nxs >= 2) {
		for (size_t k = 0; k < nxs; k++) {
			const double px = PX(xs[k]);
			char buf[32];

			cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
			cairo_move_to(cr, px, y1);
			cairo_line_to(cr, px, y0);
			cairo_stroke(cr);
			cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
			xf(buf, sizeof(buf), xs[k]);
			text_at(cr, px, y0 + 6 + (double)(k % 2) * (nxs > 8 ? 11 : 0), buf, 0.5,
				0.0);
		}
	} else {
		const double step =
		    c->logx ? fmax(1.0, ceil((xhi - xlo) / 8)) : nice_step(xhi - xlo, 6);

		for (double t = ceil(xlo / step - 1e-9) * step; t <= xhi + 1e-9; t += step) {
			const double px = x0 + (t - xlo) * sx;
			char buf[32];

			cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
			cairo_move_to(cr, px, y1);
			cairo_line_to(cr, px, y0);
			cairo_stroke(cr);
			cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
			xf(buf, sizeof(buf), c->logx ? pow(10, t) : t);
			text_at(cr, px, y0 + 6, buf, 0.5, 0.0);
		}
	}
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
	cairo_stroke(cr);
	if (c->xlabel)
		text_at(cr, (x0 + x1) / 2, h - 16, c->xlabel, 0.5, 0.0);
	if (c->ylabel) {
		cairo_save(cr);
		cairo_translate(cr, 14, (y0 + y1) / 2);
		cairo_rotate(cr, -M_PI / 2);
		text_at(cr, 0, 0, c->ylabel, 0.5, 0.5);
		cairo_restore(cr);
	}
	for (size_t l = 0; l < c->nlines; l++) {
		const double *col = palette[l % (sizeof(palette) / sizeof(palette[0]))];
		const struct hvt_chart_line *ln = &c->lines[l];
		int started = 0;

		cairo_set_source_rgb(cr, col[0], col[1], col[2]);
		cairo_set_line_width(cr, 1.8);
		for (size_t i = 0; i < ln->n; i++) {
			if (!isfinite(ln->x[i]) || !isfinite(ln->y[i]) ||
			    (c->logx && ln->x[i] <= 0) || (c->logy && ln->y[i] <= 0))
				continue;
			if (started)
				cairo_line_to(cr, PX(ln->x[i]), PY(ln->y[i]));
			else
				cairo_move_to(cr, PX(ln->x[i]), PY(ln->y[i]));
			started = 1;
		}
		cairo_stroke(cr);
		for (size_t i = 0; i < ln->n; i++) {
			if (!isfinite(ln->x[i]) || !isfinite(ln->y[i]) ||
			    (c->logx && ln->x[i] <= 0) || (c->logy && ln->y[i] <= 0))
				continue;
			cairo_arc(cr, PX(ln->x[i]), PY(ln->y[i]), 2.8, 0, 2 * M_PI);
			cairo_fill(cr);
		}
		if (ln->name) {
			cairo_rectangle(cr, x0 + 10, legend_y, 14, 3);
			cairo_fill(cr);
			cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
			text_at(cr, x0 + 30, legend_y + 1.5, ln->name, 0.0, 0.5);
			legend_y += 14;
		}
	}
#undef PX
#undef PY
}

/*
 * cairo names SVG surfaces with a process-wide counter ("surface16"), so the
 * same chart drawn twice in one process differs. Renumber them 1, 2, ... in
 * order of appearance (in place: the text never grows, as the new numbers
 * are at most as long as the old ones).
 */
static void renumber_surfaces(char *s, size_t *len)
{
	unsigned long seen[256];
	size_t nseen = 0, w = 0;

	for (size_t r = 0; r < *len;) {
		if (!strncmp(s + r, "surface", 7) && s[r + 7] >= '0' && s[r + 7] <= '9') {
			char *end;
			unsigned long v = strtoul(s + r + 7, &end, 10);
			size_t k;

			for (k = 0; k < nseen; k++)
				if (seen[k] == v)
					break;
			if (k == nseen && nseen < 256)
				seen[nseen++] = v;
			char num[24];
			const int nd = snprintf(num, sizeof(num), "%zu", k + 1);

			if (nd < 0 || (size_t)nd > (size_t)(end - (s + r + 7))) {
				s[w++] = s[r++]; /* would grow: keep the original */
				continue;
			}
			memmove(s + w, "surface", 7);
			w += 7;
			memcpy(s + w, num, (size_t)nd);
			w += (size_t)nd;
			r = (size_t)(end - s);
			continue;
		}
		s[w++] = s[r++];
	}
	s[w] = '\0';
	*len = w;
}

/* Copy an SVG without its XML declaration, prefixing ids and their references. */
static int svg_prefix(const char *in, const char *prefix, char **out, size_t *len)
{
	static const char *const pats[] = {"id=\"", "href=\"#", "url(#"};
	const size_t plen = prefix ? strlen(prefix) : 0;
	size_t cap = strlen(in) * 2 + 1, n = 0;
	char *o = malloc(cap);
	const char *p = in;

	if (!o)
		return -ENOMEM;
	if (!strncmp(p, "<?xml", 5)) {
		const char *e = strstr(p, "?>");

		if (e)
			p = e + 2;
		while (*p == '\n' || *p == '\r')
			p++;
	}
	while (*p) {
		size_t k, adv = 1;

		for (k = 0; plen && k < sizeof(pats) / sizeof(pats[0]); k++)
			if (!strncmp(p, pats[k], strlen(pats[k])))
				break;
		if (plen && k < sizeof(pats) / sizeof(pats[0]))
			adv = strlen(pats[k]);
		if (n + adv + plen + 1 > cap) {
			char *q;

			cap = cap * 2 + adv + plen;
			q = realloc(o, cap);
			if (!q) {
				free(o);
				return -ENOMEM;
			}
			o = q;
		}
		memcpy(o + n, p, adv);
		n += adv;
		if (plen && k < sizeof(pats) / sizeof(pats[0])) {
			memcpy(o + n, prefix, plen);
			n += plen;
		}
		p += adv;
	}
	o[n] = '\0';
	renumber_surfaces(o, &n);
	*out = o;
	*len = n;
	return 0;
}

int hvt_chart_render(const struct hvt_chart *c, enum hvt_chart_format f, const char *idprefix,
		     char **out, size_t *len)
{
	double w = c->width > 0 ? c->width : (c->kind == HVT_CHART_BARS ? 900 : 640);
	double h = c->height > 0
		       ? c->height
		       : (c->kind == HVT_CHART_BARS ? 40 + 42 + 18.0 * (double)c->nbars : 360);
	struct membuf m = {NULL, 0, 0, 0};
	cairo_surface_t *s;
	cairo_t *cr;
	int ret = 0;

	*out = NULL;
	*len = 0;
	if ((c->kind == HVT_CHART_BARS && !c->nbars) || (c->kind == HVT_CHART_LINES && !c->nlines))
		return -EINVAL;
	if (f == HVT_CHART_SVG) {
		s = cairo_svg_surface_create_for_stream(mem_write, &m, w, h);
	} else if (f == HVT_CHART_PDF) {
		s = cairo_pdf_surface_create_for_stream(mem_write, &m, w, h);
	} else {
		/* PNG at 2x for sharp text */
		s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)(w * 2), (int)(h * 2));
	}
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return -EIO;
	}
	cr = cairo_create(s);
	if (f == HVT_CHART_PNG)
		cairo_scale(cr, 2, 2);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	draw_title(cr, c, w);
	if (c->kind == HVT_CHART_BARS)
		draw_bars(cr, c, w, h);
	else
		draw_lines(cr, c, w, h);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		ret = -EIO;
	cairo_destroy(cr);
	/* an image surface is written before finishing: a finished surface cannot be read */
	if (f == HVT_CHART_PNG && !ret &&
	    cairo_surface_write_to_png_stream(s, mem_write, &m) != CAIRO_STATUS_SUCCESS)
		ret = -EIO;
	cairo_surface_finish(s);
	cairo_surface_destroy(s);
	if (m.err)
		ret = -ENOMEM;
	if (!ret && !m.p)
		ret = -EIO;
	if (ret) {
		free(m.p);
		return ret;
	}
	if (f == HVT_CHART_SVG) {
		ret = svg_prefix(m.p, idprefix, out, len);
		free(m.p);
		return ret;
	}
	*out = m.p;
	*len = m.len;
	return 0;
}

#else /* !HAVE_CAIRO */

int hvt_chart_available(void)
{
	return 0;
}

void hvt_chart_cleanup(void)
{
}

int hvt_chart_render(const struct hvt_chart *c, enum hvt_chart_format f, const char *idprefix,
		     char **out, size_t *len)
{
	(void)c;
	(void)f;
	(void)idprefix;
	*out = NULL;
	*len = 0;
	return -EOPNOTSUPP;
}

#endif
