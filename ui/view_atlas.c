/* The trade-off pane when an atlas is loaded: every atlas arch as a dot,
 * estimated latency (x) against the accuracy estimate (y; the NAS-Bench-201
 * accuracy with --oracle), the Pareto front drawn through its archs, the
 * latency limit as a vertical line, archs outside any limit dimmed, the
 * atlas pick (A) and the pruning search's pick (P, or p for its
 * provisional arch while it runs) marked; axes with round-number ticks.
 * Braille dots (2 x 4 per cell) on a UTF-8 terminal, one character per
 * cell otherwise.  It only draws the model (ui/model_atlas.c). */
#include "config.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "braille.h"

#define AT_MAX_W 256
#define AT_MAX_H 96
#define AT_LABEL_W 6

struct at_canvas {
	struct plot_frame f;
	unsigned char in[AT_MAX_H][AT_MAX_W];    /* archs within the limits: dot bits or a count */
	unsigned char out[AT_MAX_H][AT_MAX_W];   /* archs outside a limit */
	unsigned char front[AT_MAX_H][AT_MAX_W]; /* the Pareto front's line */
	char mark[AT_MAX_H][AT_MAX_W];           /* 'A', 'P', 'p', '|' (limit) or 0 */
};


static void set_dot(const struct at_canvas *c, unsigned char layer[AT_MAX_H][AT_MAX_W], int utf8, int px,
		    int py)
{
	int cx = px / c->f.sub_x, cy = py / c->f.sub_y;
	if (cx < 0 || cy < 0 || cx >= c->f.w || cy >= c->f.h)
		return;
	if (utf8)
		layer[cy][cx] |= braille_bit(px % c->f.sub_x, py % c->f.sub_y);
	else if (layer[cy][cx] < 255)
		layer[cy][cx]++;
}

/* A straight segment of dots (the front between two of its archs). */
static void line(struct at_canvas *c, int utf8, int x0, int y0, int x1, int y1)
{
	int n = abs(x1 - x0) > abs(y1 - y0) ? abs(x1 - x0) : abs(y1 - y0);
	for (int k = 0; k <= n; k++) {
		double f = n ? (double)k / n : 0;
		set_dot(c, c->front, utf8, (int)lround(x0 + f * (x1 - x0)), (int)lround(y0 + f * (y1 - y0)));
	}
}

/* A round tick step: 1, 2 or 5 times a power of ten, giving at most
 * max_ticks steps over range. */
static double nice_step(double range, int max_ticks)
{
	if (!(range > 0) || max_ticks < 1)
		return 1;
	double raw = range / max_ticks, p = pow(10, floor(log10(raw))), f = raw / p;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void fmt_tick(char *buf, size_t n, double v, double step)
{
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	if (fabs(v) < step * 1e-6)
		v = 0; /* no "-0" */
	snprintf(buf, n, "%.*f", dec, v);
}

/* Where the pruning search's pick (or provisional arch) sits, and its mark. */
static int pruning_point(const struct tui_app *a, double *x, double *y, char *mark)
{
	const struct tui_atlas *t = &a->atlas;
	struct mn_arch arch;
	double lat = NAN, acc = NAN;
	if (a->snap.state == MN_ENGINE_RUNNING && a->snap.has_provisional) {
		arch = a->snap.provisional;
		*mark = 'p';
	} else if (a->have_done && a->current_pick >= 0) {
		arch = a->picks[a->current_pick].arch;
		lat = a->picks[a->current_pick].latency_ms;
		acc = a->picks[a->current_pick].oracle;
		*mark = 'P';
	} else {
		return 0;
	}
	int row = tui_atlas_row(a, &arch);
	if (row >= 0) {
		*x = t->atlas.latency_ms[row];
		*y = t->y[row];
		return isfinite(*y);
	}
	/* Not in the atlas: with the oracle it can still be placed. */
	*x = lat;
	*y = acc;
	return a->have_oracle && isfinite(lat) && isfinite(acc);
}

/* The last line: the atlas pick in words. */
static void pick_line(const struct tui_app *a, int y, int x, int w, int have_p)
{
	const struct tui_atlas *t = &a->atlas;
	char arch[MN_ARCH_STRLEN], buf[300];
	int end = x + w;
	x += tui_put(a, y, x, end - x, TS_CURRENT, "A");
	if (t->pick < 0) {
		tui_put(a, y, x, end - x, TS_ERROR, " atlas pick: no atlas arch fits the limits");
		return;
	}
	struct mn_arch pa;
	mn_arch_from_index(t->atlas.arch[t->pick], &pa);
	tui_arch_compact(&pa, arch, sizeof arch);
	x += tui_put(a, y, x, end - x, TS_NORMAL, " atlas pick ");
	x += tui_put(a, y, x, end - x, TS_CURRENT, arch);
	snprintf(buf, sizeof buf, "  %.1f ms", t->atlas.latency_ms[t->pick]);
	x += tui_put(a, y, x, end - x, TS_NORMAL, buf);
	/* Searched without the board's limits, a pick may not fit it: said
	 * before the figures a narrow pane cuts. */
	const struct mn_preset *bp = a->have_session ? &a->session->preset : NULL;
	x += tui_put_memory(a, y, x, end - x, "SRAM", 1, t->atlas.sram_kb[t->pick], bp ? bp->sram_kb : 0, 0);
	x += tui_put_memory(a, y, x, end - x, "flash", 0, t->atlas.flash_kb[t->pick], bp ? bp->flash_kb : 0, 0);
	if (a->have_oracle && isfinite(t->y[t->pick]))
		snprintf(buf, sizeof buf, "  acc %.2f%%  est %.2f", t->y[t->pick], t->atlas.est[t->pick]);
	else
		snprintf(buf, sizeof buf, "  est %.2f", t->atlas.est[t->pick]);
	x += tui_put(a, y, x, end - x, TS_NORMAL, buf);
	const char *no_p = "  P not in the atlas";
	int say_no_p = !have_p && (a->have_done || a->snap.has_provisional);
	snprintf(buf, sizeof buf, "  (%.1f ms to pick)", t->pick_ms);
	/* The note on P before the timing when both do not fit: cut, it
	 * read as a stray "P". */
	if (!say_no_p || x + (int)strlen(buf) + (int)strlen(no_p) <= end)
		x += tui_put(a, y, x, end - x, TS_DIM, buf);
	if (say_no_p)
		tui_put(a, y, x, end - x, TS_DIM, no_p);
}

/* The title says what the axes are, as fully as the width allows. */
static void draw_title(const struct tui_app *a, struct tui_rect r, const char *ylabel)
{
	char title[200];
	snprintf(title, sizeof title, " %d archs: x latency ms, y %s; the front, A atlas pick, P pruning pick",
		 a->atlas.atlas.n, ylabel);
	if ((int)strlen(title) + 5 > r.w)
		snprintf(title, sizeof title, " %d: x latency ms, y %s", a->atlas.atlas.n, ylabel);
	if ((int)strlen(title) + 5 > r.w)
		snprintf(title, sizeof title, " x ms, y %s", a->have_oracle ? "NB201 acc" : "est. acc (0 best)");
	int tx = r.x + tui_put(a, r.y, r.x, r.w, TS_TITLE, "Atlas");
	tui_put(a, r.y, tx, r.x + r.w - tx, TS_DIM, title);
}

/* c's data range: every arch with a y, the latency limit and the pruning
 * pick (have_p at px_, py_), padded.  0, or -1 when no arch has a y. */
static int set_range(const struct tui_app *a, struct at_canvas *c, double lim, int have_p,
		     double px_, double py_)
{
	const struct tui_atlas *t = &a->atlas;
	const struct mn_atlas *at = &t->atlas;
	for (int i = 0; i < at->n; i++) {
		if (!isfinite(t->y[i]))
			continue;
		plot_frame_take(&c->f, at->latency_ms[i], t->y[i]);
	}
	if (!isfinite(c->f.x0))
		return -1;
	if (lim > 0) {
		c->f.x0 = fmin(c->f.x0, lim);
		c->f.x1 = fmax(c->f.x1, lim);
	}
	if (have_p)
		plot_frame_take(&c->f, px_, py_);
	plot_pad_range(&c->f.x0, &c->f.x1, 0.02, 0.1);
	plot_pad_range(&c->f.y0, &c->f.y1, 0.04, 0.1);
	return 0;
}

/* The layers into c, bottom to top: the limit line, every arch (in or out
 * of the limits), the front, the pruning pick, the atlas pick (on top when
 * both are the same arch). */
static void draw_layers(const struct tui_app *a, struct at_canvas *c, double lim, int have_p,
			double px_, double py_, char pmark)
{
	const struct tui_atlas *t = &a->atlas;
	const struct mn_atlas *at = &t->atlas;
	int px, py;
	if (lim > 0 && plot_frame_dot(&c->f, lim, c->f.y0, &px, &py))
		for (int row = 0; row < c->f.h; row++)
			c->mark[row][px / c->f.sub_x] = '|';
	for (int i = 0; i < at->n; i++) {
		if (!plot_frame_dot(&c->f, at->latency_ms[i], t->y[i], &px, &py))
			continue;
		int fits = (lim <= 0 || at->latency_ms[i] <= lim) &&
			   (a->limits.max_sram_kb <= 0 || at->sram_kb[i] <= a->limits.max_sram_kb) &&
			   (a->limits.max_flash_kb <= 0 || at->flash_kb[i] <= a->limits.max_flash_kb);
		set_dot(c, fits ? c->in : c->out, a->utf8, px, py);
	}
	int lx = -1, ly = -1;
	for (int k = 0; k < t->n_front; k++) {
		int i = t->front[k];
		if (!plot_frame_dot(&c->f, at->latency_ms[i], t->y[i], &px, &py))
			continue;
		if (lx >= 0)
			line(c, a->utf8, lx, ly, px, py);
		else
			set_dot(c, c->front, a->utf8, px, py);
		lx = px;
		ly = py;
	}
	if (have_p && plot_frame_dot(&c->f, px_, py_, &px, &py))
		c->mark[py / c->f.sub_y][px / c->f.sub_x] = pmark;
	if (t->pick >= 0 && plot_frame_dot(&c->f, at->latency_ms[t->pick], t->y[t->pick], &px, &py))
		c->mark[py / c->f.sub_y][px / c->f.sub_x] = 'A';
}

/* c's cells on screen, the y axis at column r.x + AT_LABEL_W. */
static void draw_cells(const struct tui_app *a, const struct at_canvas *c, struct tui_rect r)
{
	int xl = r.x + AT_LABEL_W + 1;
	for (int row = 0; row < c->f.h; row++) {
		int y = r.y + 1 + row;
		tui_put(a, y, r.x + AT_LABEL_W, 1, TS_DIM, tui_glyph(a, "\xe2\x94\x82", "|"));
		for (int col = 0; col < c->f.w; col++) {
			char g[8];
			enum tui_style st;
			char m = c->mark[row][col];
			if (m == 'A' || m == 'P' || m == 'p') {
				snprintf(g, sizeof g, "%c", m);
				st = m == 'A' ? TS_CURRENT : TS_PICK;
			} else if (c->front[row][col]) {
				if (a->utf8)
					braille_utf8(c->front[row][col] | c->in[row][col] | c->out[row][col], g);
				else
					snprintf(g, sizeof g, "*");
				st = TS_OK;
			} else if (c->in[row][col] || c->out[row][col]) {
				unsigned char v = c->in[row][col] ? c->in[row][col] : c->out[row][col];
				if (a->utf8)
					braille_utf8(c->in[row][col] | c->out[row][col], g);
				else
					snprintf(g, sizeof g, "%c", v == 1 ? '.' : ':');
				st = c->in[row][col] ? TS_POINT : TS_DIM;
			} else if (m == '|') {
				snprintf(g, sizeof g, "%s", tui_glyph(a, "\xe2\x94\x8a", "|"));
				st = TS_LIMIT;
			} else {
				continue;
			}
			tui_put(a, y, xl + col, 1, st, g);
		}
	}
}

/* y ticks: round numbers on the rows they fall in. */
static void draw_y_ticks(const struct tui_app *a, const struct at_canvas *c, struct tui_rect r)
{
	double ys = nice_step(c->f.y1 - c->f.y0, c->f.h >= 6 ? c->f.h / 3 : 2);
	int last_row = -100, px, py;
	for (double v = ceil(c->f.y0 / ys) * ys; v <= c->f.y1 + ys * 1e-9; v += ys) {
		if (!plot_frame_dot(&c->f, c->f.x0, v, &px, &py))
			continue;
		int row = py / c->f.sub_y;
		if (abs(row - last_row) < 2)
			continue;
		char buf[32];
		fmt_tick(buf, sizeof buf, v, ys);
		tui_putf(a, r.y + 1 + row, r.x, AT_LABEL_W, TS_DIM, "%*s", AT_LABEL_W, buf);
		tui_put(a, r.y + 1 + row, r.x + AT_LABEL_W, 1, TS_DIM, tui_glyph(a, "\xe2\x94\xa4", "+"));
		last_row = row;
	}
}

/* x ticks: round numbers under their columns, never overlapping; the
 * latency limit's label first (it matters more than a tick). */
static void draw_x_ticks(const struct tui_app *a, const struct at_canvas *c, struct tui_rect r,
			 double lim)
{
	int xl = r.x + AT_LABEL_W + 1, yb = r.y + 1 + c->f.h, px, py;
	unsigned char used[AT_MAX_W + 8];
	memset(used, 0, sizeof used);
	const char *unit = "ms";
	int unit_at = c->f.w - (int)strlen(unit);
	for (int k = unit_at > 0 ? unit_at - 1 : 0; k < c->f.w; k++)
		used[k] = 1;
	tui_put(a, yb, xl + unit_at, (int)strlen(unit), TS_DIM, unit);
	if (lim > 0 && plot_frame_dot(&c->f, lim, c->f.y0, &px, &py)) {
		char l[32];
		snprintf(l, sizeof l, "max %g", lim);
		int len = (int)strlen(l), at_x = px / c->f.sub_x - len / 2;
		if (at_x < 0)
			at_x = 0;
		if (at_x + len > unit_at - 1)
			at_x = unit_at - 1 - len;
		if (at_x >= 0) {
			tui_put(a, yb, xl + at_x, len, TS_LIMIT, l);
			for (int k = at_x > 0 ? at_x - 1 : 0; k <= at_x + len && k < c->f.w; k++)
				used[k] = 1;
		}
	}
	double xs = nice_step(c->f.x1 - c->f.x0, c->f.w / 6 > 1 ? c->f.w / 6 : 1);
	for (double v = ceil(c->f.x0 / xs) * xs; v <= c->f.x1 + xs * 1e-9; v += xs) {
		if (!plot_frame_dot(&c->f, v, c->f.y0, &px, &py))
			continue;
		char buf[32];
		fmt_tick(buf, sizeof buf, v, xs);
		int len = (int)strlen(buf), at_x = px / c->f.sub_x - len / 2, free = 1;
		if (at_x < 0 || at_x + len > c->f.w)
			continue;
		for (int k = at_x; k < at_x + len; k++)
			free = free && !used[k];
		if (!free)
			continue;
		tui_put(a, yb, xl + at_x, len, TS_DIM, buf);
		for (int k = at_x > 0 ? at_x - 1 : 0; k <= at_x + len && k < c->f.w; k++)
			used[k] = 1;
	}
}

void view_atlas_draw(const struct tui_app *a, struct tui_rect r)
{
	const char *ylabel = a->have_oracle ? "NB201 accuracy %" : "est. accuracy (0 = best)";
	double lim = a->limits.max_latency_ms;
	/* About 100 KB on the UI thread's stack (a static would be a global). */
	struct at_canvas c;
	if (r.h < 7 || r.w < AT_LABEL_W + 12)
		return;
	draw_title(a, r, ylabel);
	memset(&c, 0, sizeof c);
	/* Rows for the title, the x ticks and the pick line. */
	plot_frame_init(&c.f, r.w - AT_LABEL_W - 1, r.h - 3, AT_MAX_W, AT_MAX_H, a->utf8);
	double px_ = NAN, py_ = NAN;
	char pmark = 0;
	int have_p = pruning_point(a, &px_, &py_, &pmark);
	if (set_range(a, &c, lim, have_p, px_, py_) != 0) {
		tui_put(a, r.y + 1 + c.f.h / 2, r.x + AT_LABEL_W + 2, c.f.w - 1, TS_DIM,
			"(no atlas arch has an oracle accuracy)");
		return;
	}
	draw_layers(a, &c, lim, have_p, px_, py_, pmark);
	draw_cells(a, &c, r);
	draw_y_ticks(a, &c, r);
	draw_x_ticks(a, &c, r, lim);
	pick_line(a, r.y + r.h - 1, r.x, r.w, have_p);
}
