/* The live proxy rankings: every (edge, op) candidate of the shown round
 * with its NTK and linear-region changes, FLOPs and latency after the
 * removal, the four ranks and the combined score; the op to be pruned on
 * each edge highlighted; sorted by any column. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "proxy/proxy_set.h"

struct col {
	const char *head, *wide_head;
	int w, wide_w;
	int dec; /* decimals of numeric columns */
};

static const struct col cols[COL_COUNT] = {
	[COL_EDGE] = {"edge", "edge", 4, 4, 0},
	[COL_OP] = {"op", "op", 4, 12, 0},
	/* One header per column at every width, so that a proxy has one name
	 * (K for the NTK condition number, R for the linear regions; the help
	 * and the sort message spell them out from the proxy table). */
	[COL_DK] = {"dK", "dK", 6, 8, 3},
	[COL_DR] = {"dR", "dR", 6, 8, 3},
	[COL_FLOPS] = {"MFLOP", "MFLOPs", 6, 8, 1},
	[COL_LAT] = {"lat ms", "lat ms", 6, 8, 1},
	[COL_RNTK] = {"#K", "#K", 2, 4, 0},
	[COL_RLR] = {"#R", "#R", 2, 4, 0},
	[COL_RFLOPS] = {"#F", "#F", 2, 4, 0},
	[COL_RLAT] = {"#L", "#L", 2, 4, 0},
	[COL_SCORE] = {"score", "score", 5, 7, 1},
};

/* The proxies' names are the proxy table's labels (proxy_set.c). */
const char *tui_col_name(int col, char *buf, size_t n)
{
	static const char *const fixed[COL_COUNT] = {
		[COL_EDGE] = "edge", [COL_OP] = "op", [COL_FLOPS] = "MFLOPs after removal",
		[COL_LAT] = "latency after removal", [COL_RFLOPS] = "FLOPs rank #F",
		[COL_RLAT] = "latency rank #L", [COL_SCORE] = "combined score",
	};
	const char *ntk = mn_proxy_info(MN_PROXY_NTK_COND)->label;
	const char *lr = mn_proxy_info(MN_PROXY_LINEAR_REGIONS)->label;
	switch (col) {
	case COL_DK: snprintf(buf, n, "%s change dK", ntk); break;
	case COL_DR: snprintf(buf, n, "%s change dR", lr); break;
	case COL_RNTK: snprintf(buf, n, "%s rank #K", ntk); break;
	case COL_RLR: snprintf(buf, n, "%s rank #R", lr); break;
	default: snprintf(buf, n, "%s", col >= 0 && col < COL_COUNT && fixed[col] ? fixed[col] : "?");
	}
	return buf;
}

static int is_wide(int cols_total) { return cols_total >= 120; }

int view_rankings_width(int cols_total)
{
	int wide = is_wide(cols_total), w = 1; /* the marker column */
	for (int c = 0; c < COL_COUNT; c++)
		w += 1 + (wide ? cols[c].wide_w : cols[c].w);
	return w;
}

/* Title and header take two rows. */
int view_rankings_rows(int h) { return h > 2 ? h - 2 : 0; }

/* Columns that only exist once the candidate was measured. */
static int needs_eval(int col)
{
	return col == COL_DK || col == COL_DR || col == COL_RNTK || col == COL_RLR ||
	       col == COL_RFLOPS || col == COL_RLAT || col == COL_SCORE;
}

static double key(const struct mn_candidate *c, int col)
{
	switch (col) {
	case COL_EDGE: return c->edge * 10 + c->op;
	case COL_OP: return c->op * 10 + c->edge;
	case COL_DK: return c->dk;
	case COL_DR: return c->dr;
	case COL_FLOPS: return c->flops_m;
	case COL_LAT: return c->latency_ms;
	case COL_RNTK: return c->rank_ntk;
	case COL_RLR: return c->rank_lr;
	case COL_RFLOPS: return c->rank_flops;
	case COL_RLAT: return c->rank_latency;
	case COL_SCORE: return c->score;
	}
	return 0;
}

/* < 0 when x goes before y. */
static int compare(const struct tui_app *a, const struct mn_candidate *x, const struct mn_candidate *y)
{
	int col = a->sort_col;
	if (needs_eval(col) && x->evaluated != y->evaluated)
		return x->evaluated ? -1 : 1; /* unmeasured last, in either direction */
	double kx = key(x, col), ky = key(y, col);
	if (kx != ky)
		return (kx < ky ? -1 : 1) * (a->sort_desc ? -1 : 1);
	return (x->edge * 10 + x->op) - (y->edge * 10 + y->op);
}

void tui_sort_candidates(const struct tui_app *a, const struct mn_round *r, int *idx)
{
	/* At most 30 candidates: an insertion sort is plenty. */
	for (int i = 0; i < r->n; i++) {
		int v = idx[i] = i, j = i;
		while (j > 0 && compare(a, &r->cand[v], &r->cand[idx[j - 1]]) < 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

static void cell(const struct tui_app *a, const struct mn_candidate *c, int col, int w, int wide,
		 char *buf, size_t n)
{
	/* Costs are filled in with the proxies: 0 until then means unknown. */
	if (!c->evaluated && (needs_eval(col) || ((col == COL_FLOPS || col == COL_LAT) &&
						  key(c, col) == 0))) {
		snprintf(buf, n, "%*s", w, "-");
		return;
	}
	switch (col) {
	case COL_EDGE: snprintf(buf, n, "%-*s", w, mn_edge_name(c->edge)); return;
	case COL_OP: snprintf(buf, n, "%-*s", w, wide ? mn_op_name(c->op) : tui_op_short(c->op)); return;
	case COL_DK:
	case COL_DR: tui_fmt_num(buf, n, key(c, col), w, cols[col].dec, 1); return;
	case COL_FLOPS:
	case COL_LAT:
	case COL_SCORE: tui_fmt_num(buf, n, key(c, col), w, cols[col].dec, 0); return;
	default: snprintf(buf, n, "%*d", w, (int)key(c, col)); return;
	}
	(void)a;
}

void view_rankings_draw(const struct tui_app *a, struct tui_rect r)
{
	int ri = 0, wide = is_wide(COLS), end = r.x + r.w;
	const struct mn_round *rd = tui_shown_round(a, &ri);
	const char *up = tui_glyph(a, "\xe2\x86\x91", "^"), *down = tui_glyph(a, "\xe2\x86\x93", "v");
	int x = r.x, y = r.y;
	if (r.h < 3)
		return;

	/* Title: which round, how much of it is measured, the sort. */
	x += tui_put(a, y, x, end - x, TS_TITLE, "Rankings ");
	if (!rd) {
		tui_put(a, y, x, end - x, TS_DIM, "(no round yet)");
	} else {
		int measured = 0;
		for (int i = 0; i < rd->n; i++)
			measured += rd->cand[i].evaluated;
		const struct mn_engine_snapshot *s = a->snap.n_rounds > 0 ? &a->snap : &a->done_snap;
		int live = ri >= s->decided;
		char t[200], name[64];
		snprintf(t, sizeof t, "round %d/3 %s %d/%d  sort:%s%s%s", ri + 1,
			 live ? "live" : "final", measured, rd->n, wide ? " " : "",
			 wide ? tui_col_name(a->sort_col, name, sizeof name) : cols[a->sort_col].head,
			 a->sort_desc ? down : up);
		x += tui_put(a, y, x, end - x, TS_NORMAL, t);
		if (a->view_round >= 0)
			tui_put(a, y, x, end - x, TS_DIM, "  (] back to live)");
	}

	/* Header. */
	y++;
	x = r.x + 1;
	for (int c = 0; c < COL_COUNT && x < end; c++) {
		int w = wide ? cols[c].wide_w : cols[c].w;
		char h[32];
		const char *name = wide ? cols[c].wide_head : cols[c].head;
		/* Text columns read left-aligned, numbers right-aligned. */
		if (c == COL_EDGE || c == COL_OP)
			snprintf(h, sizeof h, "%-*s", w, name);
		else
			snprintf(h, sizeof h, "%*s", w, name);
		tui_put(a, y, x, end - x, c == a->sort_col ? TS_SELECT : TS_TITLE, h);
		x += w + 1;
	}
	if (!rd)
		return;

	int idx[MN_MAX_CANDIDATES];
	tui_sort_candidates(a, rd, idx);
	int rows = view_rankings_rows(r.h);
	int max_scroll = rd->n > rows ? rd->n - rows : 0;
	int top = a->scroll > max_scroll ? max_scroll : a->scroll;
	int latest = -1;
	if (a->snap.latest_round == ri && a->snap.n_rounds > 0)
		latest = a->snap.latest_index;
	for (int k = 0; k < rows && top + k < rd->n; k++) {
		int i = idx[top + k];
		const struct mn_candidate *c = &rd->cand[i];
		enum tui_style st = TS_NORMAL;
		const char *mark = " ";
		if (c->pruned) {
			st = TS_PRUNE;
			mark = "x";
		} else if (i == latest) {
			st = TS_LATEST;
			mark = "*";
		} else if (!c->evaluated) {
			st = TS_DIM;
		} else if (!c->keeps_feasible) {
			mark = "!";
		}
		y = r.y + 2 + k;
		x = r.x;
		if (st == TS_PRUNE) {
			/* The whole row in the highlight, separators included. */
			char blank[512];
			int bw = view_rankings_width(COLS) < r.w ? view_rankings_width(COLS) : r.w;
			if (bw > (int)sizeof blank - 1)
				bw = (int)sizeof blank - 1;
			memset(blank, ' ', (size_t)bw);
			blank[bw] = '\0';
			tui_put(a, y, x, bw, st, blank);
		}
		tui_put(a, y, x, 1, st, mark);
		x++;
		for (int col = 0; col < COL_COUNT && x < end; col++) {
			int w = wide ? cols[col].wide_w : cols[col].w;
			char v[64];
			cell(a, c, col, w, wide, v, sizeof v);
			tui_put(a, y, x, end - x < w ? end - x : w, st, v);
			x += w + 1;
		}
	}
	/* More rows than fit: say where we are. */
	if (rd->n > rows && rows > 0) {
		char m[64];
		snprintf(m, sizeof m, "%d-%d/%d", top + 1, top + rows < rd->n ? top + rows : rd->n, rd->n);
		tui_put(a, r.y, end - (int)strlen(m), (int)strlen(m), TS_DIM, m);
	}
}
