/* The trade-off plot: estimated latency (x) against NAS-Bench-201 accuracy
 * when an oracle is loaded, else against the TE-NAS proxy (y), for every
 * candidate and pick seen, the current pick marked and the latency limit
 * drawn as a vertical line.  Braille dots (2 x 4 per cell) on a UTF-8
 * terminal, one ASCII character per cell otherwise.
 *
 * Candidates are supernets after one removal: their x is the supernet's
 * estimated latency (every op left run), their y the mean accuracy of the
 * archs left in it (oracle) or the candidate's rank-sum proxy in its round
 * (1 = best).  Picks are single archs: x their latency, y their accuracy
 * (oracle) or the mean proxy of the removals that produced them. */
#include "config.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "braille.h"

#define PLOT_MAX_W 256
#define PLOT_MAX_H 128

enum overlay { OV_NONE, OV_LIMIT, OV_PICK, OV_CURRENT };

struct canvas {
	struct plot_frame f;
	unsigned char dots[PLOT_MAX_H][PLOT_MAX_W];  /* braille bits, or a count */
	unsigned char over[PLOT_MAX_H][PLOT_MAX_W];
};


static int to_dot(const struct canvas *c, double x, double y, int *cx, int *cy, int *bx, int *by)
{
	int px, py;
	if (!plot_frame_dot(&c->f, x, y, &px, &py))
		return 0;
	*cx = px / c->f.sub_x;
	*cy = py / c->f.sub_y;
	*bx = px % c->f.sub_x;
	*by = py % c->f.sub_y;
	return 1;
}

static double point_y(const struct tui_app *a, const struct tui_point *p)
{
	return a->have_oracle ? p->oracle_mean : p->proxy;
}

static double pick_y(const struct tui_app *a, const struct tui_pick *p)
{
	return a->have_oracle ? p->oracle : p->proxy;
}

#define PLOT_LABEL_W 5 /* the y labels' columns */

static void draw_title(const struct tui_app *a, struct tui_rect r, const char *ylabel)
{
	if (r.w >= 40) {
		char t[120];
		tui_put(a, r.y, r.x, r.w, TS_TITLE, "Trade-off");
		snprintf(t, sizeof t, " x latency ms, y %s", ylabel);
		tui_put(a, r.y, r.x + 9, r.w - 9, TS_DIM, t);
	} else {
		tui_putf(a, r.y, r.x, r.w, TS_TITLE, "lat(x) vs %s(y)", a->have_oracle ? "acc" : "proxy");
	}
}

/* c's data range: every candidate and pick with both coordinates, the
 * limit line included when it is set, padded so the extremes are not on
 * the frame.  The number of points it spans (0: nothing to draw). */
static int set_range(const struct tui_app *a, struct canvas *c, double lim)
{
	int n = 0;
	for (int i = 0; i < a->n_points + a->n_picks; i++) {
		double x, y;
		if (i < a->n_points) {
			x = a->points[i].latency_ms;
			y = point_y(a, &a->points[i]);
		} else {
			x = a->picks[i - a->n_points].latency_ms;
			y = pick_y(a, &a->picks[i - a->n_points]);
		}
		if (!isfinite(x) || !isfinite(y))
			continue;
		n++;
		plot_frame_take(&c->f, x, y);
	}
	if (n == 0)
		return 0;
	if (lim > 0) {
		c->f.x0 = fmin(c->f.x0, lim);
		c->f.x1 = fmax(c->f.x1, lim);
	}
	plot_pad_range(&c->f.x0, &c->f.x1, 0.03, 0.1);
	plot_pad_range(&c->f.y0, &c->f.y1, 0.05, 0.05);
	return n;
}

/* The layers into c: the limit line, the candidates, the picks (the
 * current one marked). */
static void draw_layers(const struct tui_app *a, struct canvas *c, double lim)
{
	int cx, cy, bx, by;
	if (lim > 0 && to_dot(c, lim, c->f.y0, &cx, &cy, &bx, &by))
		for (int row = 0; row < c->f.h; row++)
			c->over[row][cx] = OV_LIMIT;
	for (int i = 0; i < a->n_points; i++)
		if (to_dot(c, a->points[i].latency_ms, point_y(a, &a->points[i]), &cx, &cy, &bx, &by)) {
			if (a->utf8)
				c->dots[cy][cx] |= braille_bit(bx, by);
			else if (c->dots[cy][cx] < 255)
				c->dots[cy][cx]++;
		}
	for (int i = 0; i < a->n_picks; i++)
		if (to_dot(c, a->picks[i].latency_ms, pick_y(a, &a->picks[i]), &cx, &cy, &bx, &by))
			c->over[cy][cx] = i == a->current_pick ? OV_CURRENT : OV_PICK;
}

static void draw_cells(const struct tui_app *a, const struct canvas *c, struct tui_rect r)
{
	int x_left = r.x + PLOT_LABEL_W + 1;
	for (int row = 0; row < c->f.h; row++) {
		int y = r.y + 1 + row;
		tui_put(a, y, r.x + PLOT_LABEL_W, 1, TS_DIM, tui_glyph(a, "\xe2\x94\x82", "|"));
		for (int col = 0; col < c->f.w; col++) {
			char g[8];
			enum tui_style st = TS_POINT;
			switch (c->over[row][col]) {
			case OV_CURRENT:
				snprintf(g, sizeof g, "%s", tui_glyph(a, "\xe2\x97\x86", "@"));
				st = TS_CURRENT;
				break;
			case OV_PICK:
				snprintf(g, sizeof g, "+");
				st = TS_PICK;
				break;
			default:
				if (c->dots[row][col]) {
					if (a->utf8)
						braille_utf8(c->dots[row][col], g);
					else
						snprintf(g, sizeof g, "%c", c->dots[row][col] == 1 ? '.' :
							 c->dots[row][col] < 4 ? ':' : '*');
				} else if (c->over[row][col] == OV_LIMIT) {
					snprintf(g, sizeof g, "%s", tui_glyph(a, "\xe2\x94\x8a", "|"));
					st = TS_LIMIT;
				} else {
					continue;
				}
			}
			tui_put(a, y, x_left + col, 1, st, g);
		}
	}
}

/* Axis labels: y at the top, middle and bottom rows, x under the ends and
 * the latency limit's between them where it fits. */
static void draw_labels(const struct tui_app *a, const struct canvas *c, struct tui_rect r,
			double lim)
{
	const int label_w = PLOT_LABEL_W;
	int x_left = r.x + label_w + 1, cx, cy, bx, by;
	char lo[32], hi[32];
	tui_fmt_num(hi, sizeof hi, c->f.y1, label_w, a->have_oracle ? 1 : 2, 0);
	tui_fmt_num(lo, sizeof lo, c->f.y0, label_w, a->have_oracle ? 1 : 2, 0);
	tui_put(a, r.y + 1, r.x, label_w, TS_DIM, hi);
	tui_put(a, r.y + c->f.h, r.x, label_w, TS_DIM, lo);
	if (c->f.h >= 9) {
		char mid[32];
		/* The value at the middle row's centre, as to_dot() maps it. */
		int row = (c->f.h - 1) / 2, H = c->f.h * c->f.sub_y;
		double py = row * c->f.sub_y + (c->f.sub_y - 1) / 2.0;
		tui_fmt_num(mid, sizeof mid, c->f.y1 - py / (H - 1) * (c->f.y1 - c->f.y0), label_w,
			    a->have_oracle ? 1 : 2, 0);
		tui_put(a, r.y + 1 + row, r.x, label_w, TS_DIM, mid);
	}
	int yb = r.y + 1 + c->f.h;
	snprintf(lo, sizeof lo, "%.0f", c->f.x0);
	snprintf(hi, sizeof hi, "%.0f ms", c->f.x1);
	tui_put(a, yb, x_left, c->f.w, TS_DIM, lo);
	tui_put(a, yb, x_left + c->f.w - (int)strlen(hi), (int)strlen(hi), TS_DIM, hi);
	if (lim > 0 && to_dot(c, lim, c->f.y0, &cx, &cy, &bx, &by)) {
		char l[32];
		snprintf(l, sizeof l, "max %g", lim);
		int lx = x_left + cx - (int)strlen(l) / 2;
		if (lx < x_left + (int)strlen(lo) + 1)
			lx = x_left + (int)strlen(lo) + 1;
		if (lx + (int)strlen(l) < x_left + c->f.w - (int)strlen(hi))
			tui_put(a, yb, lx, (int)strlen(l), TS_LIMIT, l);
	}
}

void view_plot_draw(const struct tui_app *a, struct tui_rect r)
{
	/* About 64 KB on the UI thread's stack (a static would be a global). */
	struct canvas c;
	double lim = a->limits.max_latency_ms;
	if (r.h < 5 || r.w < PLOT_LABEL_W + 8)
		return;
	draw_title(a, r, a->have_oracle ? "NB201 acc %" : "TE-NAS proxy");
	memset(&c, 0, sizeof c);
	plot_frame_init(&c.f, r.w - PLOT_LABEL_W - 1, r.h - 2, PLOT_MAX_W, PLOT_MAX_H, a->utf8);
	if (set_range(a, &c, lim) == 0) {
		tui_put(a, r.y + 1 + c.f.h / 2, r.x + PLOT_LABEL_W + 2, c.f.w - 1, TS_DIM, "(none yet)");
		return;
	}
	draw_layers(a, &c, lim);
	draw_cells(a, &c, r);
	draw_labels(a, &c, r, lim);
}
