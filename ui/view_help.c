/* The key footer, the message line, the help screen (? or F1) and the
 * modal form and list boxes. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "keys.h"
#include "proxy/proxy_set.h"

void view_footer_draw(const struct tui_app *a, struct tui_rect r)
{
	size_t n;
	const struct tui_key_row *keys = tui_key_rows(&n);
	int x = r.x, end = r.x + r.w;
	int reserve = 0, full = 0;
	if (r.h < 1)
		return;
	/* The pinned entries (help, quit) are always shown: measure them first. */
	for (size_t i = 0; i < n; i++)
		if (keys[i].footer && keys[i].pinned)
			reserve += (int)(strlen(keys[i].label) + strlen(keys[i].footer)) + 3;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if (!keys[i].footer || keys[i].pinned != pass)
				continue;
			int need = (int)(strlen(keys[i].label) + strlen(keys[i].footer)) + 3;
			/* In priority order: once one does not fit, the rest
			 * wait for a wider terminal (? lists them all). */
			if (!pass && x + need > end - reserve) {
				full = 1;
				continue;
			}
			if (!pass && full)
				continue;
			x += tui_put(a, r.y, x, end - x, TS_KEY, keys[i].label);
			x += tui_put(a, r.y, x, end - x, TS_NORMAL, " ");
			x += tui_put(a, r.y, x, end - x, TS_NORMAL, keys[i].footer);
			x += tui_put(a, r.y, x, end - x, TS_NORMAL, "  ");
		}
}

int tui_wrap(const char *s, int w, int *start, int *len, int max)
{
	int n = 0;
	size_t at = 0, total = strlen(s);
	if (w < 1)
		return 0;
	while (at < total && n < max) {
		/* Columns are UTF-8 sequences (continuation bytes count none). */
		size_t end = at, brk = 0;
		int cols = 0;
		while (end < total && cols < w) {
			if (s[end] == ' ')
				brk = end;
			end++;
			while (end < total && ((unsigned char)s[end] & 0xc0) == 0x80)
				end++;
			cols++;
		}
		/* Break after the last space when a word would be cut. */
		if (end < total && s[end] != ' ' && brk > at)
			end = brk + 1;
		start[n] = (int)at;
		len[n] = (int)(end - at);
		n++;
		at = end;
		while (at < total && s[at] == ' ')
			at++;
	}
	return n;
}

enum { MESSAGE_MAX_LINES = 4 };

int tui_message_lines(const struct tui_app *a, int cols)
{
	int start[MESSAGE_MAX_LINES], len[MESSAGE_MAX_LINES];
	int n = a->message[0] ? tui_wrap(a->message, cols, start, len, MESSAGE_MAX_LINES) : 1;
	return n < 1 ? 1 : n;
}

void view_message_draw(const struct tui_app *a, struct tui_rect r)
{
	int start[MESSAGE_MAX_LINES], len[MESSAGE_MAX_LINES];
	if (r.h < 1 || !a->message[0])
		return;
	/* A message longer than the line wraps onto the lines the layout gave
	 * it (tui_message_lines) rather than being cut at the screen's edge. */
	int n = tui_wrap(a->message, r.w, start, len, r.h < MESSAGE_MAX_LINES ? r.h : MESSAGE_MAX_LINES);
	enum tui_style st = a->message_error ? TS_ERROR : TS_NORMAL;
	for (int i = 0; i < n; i++) {
		char line[sizeof a->message];
		snprintf(line, sizeof line, "%.*s", len[i], a->message + start[i]);
		tui_put(a, r.y + i, r.x, r.w, st, line);
	}
}

/* A box with a title, cleared inside. */
static void box_at(const struct tui_app *a, int y, int x, int h, int w, const char *title)
{
	for (int i = 0; i < h; i++)
		tui_fill(y + i, x, w, ' ');
	const char *hz = tui_glyph(a, "\xe2\x94\x80", "-"), *vt = tui_glyph(a, "\xe2\x94\x82", "|");
	const char *c1 = tui_glyph(a, "\xe2\x94\x8c", "+"), *c2 = tui_glyph(a, "\xe2\x94\x90", "+");
	const char *c3 = tui_glyph(a, "\xe2\x94\x94", "+"), *c4 = tui_glyph(a, "\xe2\x94\x98", "+");
	for (int i = 1; i < w - 1; i++) {
		tui_put(a, y, x + i, 1, TS_TITLE, hz);
		tui_put(a, y + h - 1, x + i, 1, TS_TITLE, hz);
	}
	for (int i = 1; i < h - 1; i++) {
		tui_put(a, y + i, x, 1, TS_TITLE, vt);
		tui_put(a, y + i, x + w - 1, 1, TS_TITLE, vt);
	}
	tui_put(a, y, x, 1, TS_TITLE, c1);
	tui_put(a, y, x + w - 1, 1, TS_TITLE, c2);
	tui_put(a, y + h - 1, x, 1, TS_TITLE, c3);
	tui_put(a, y + h - 1, x + w - 1, 1, TS_TITLE, c4);
	tui_putf(a, y, x + 2, w - 4, TS_TITLE, " %s ", title);
}

enum { HELP_ROW_LINES = 4 };

static int help_width(int cols) { return cols - 4 < 100 ? cols - 4 : 100; }

/* Lines a key row takes: its text wraps beside the key label. */
static int row_lines(const struct tui_key_row *r, int cols)
{
	char text[160];
	int st[HELP_ROW_LINES], len[HELP_ROW_LINES];
	tui_key_row_text(r, text, sizeof text);
	int n = tui_wrap(text, help_width(cols) - 13, st, len, HELP_ROW_LINES);
	return n < 1 ? 1 : n;
}

/* The help box's height: every key row and the notes when they fit. */
static int help_height(int lines, int cols)
{
	size_t n;
	const struct tui_key_row *keys = tui_key_rows(&n);
	int needed = 8;
	for (size_t i = 0; i < n; i++)
		needed += row_lines(&keys[i], cols);
	return lines - 2 < needed ? lines - 2 : needed;
}

int view_help_fit(int top, int lines, int cols)
{
	size_t n;
	const struct tui_key_row *keys = tui_key_rows(&n);
	int avail = help_height(lines, cols) - 2, k = 0;
	for (int i = top; i < (int)n; i++, k++) {
		avail -= row_lines(&keys[i], cols);
		if (avail < 0)
			break;
	}
	return k > 0 ? k : 1;
}

int view_help_back(int top, int lines, int cols)
{
	size_t n;
	const struct tui_key_row *keys = tui_key_rows(&n);
	int avail = help_height(lines, cols) - 2;
	while (top > 0 && avail - row_lines(&keys[top - 1], cols) >= 0)
		avail -= row_lines(&keys[--top], cols);
	return top;
}

void view_help_draw(const struct tui_app *a)
{
	size_t n;
	const struct tui_key_row *keys = tui_key_rows(&n);
	int w = help_width(COLS);
	int h = help_height(LINES, COLS);
	int y = (LINES - h) / 2, x = (COLS - w) / 2, row = y + 1;
	int top = a->help_top < (int)n ? a->help_top : 0;
	if (w < 30 || h < 6)
		return;
	int fit = view_help_fit(top, LINES, COLS);
	/* Too short for every key: pages, and the title says so. */
	if (top > 0 || top + fit < (int)n) {
		char title[120];
		int last = top + fit;
		snprintf(title, sizeof title, "keys %d-%d of %d (%s%s; other keys close)", top + 1, last,
			 (int)n, last < (int)n ? "Down: more" : "", top > 0 ? (last < (int)n ? ", Up" : "Up: back") : "");
		box_at(a, y, x, h, w, title);
	} else
		box_at(a, y, x, h, w, "micronas tui: keys (any key closes)");
	for (int i = top; i < top + fit && i < (int)n; i++) {
		char text[160];
		int st[HELP_ROW_LINES], len[HELP_ROW_LINES];
		tui_key_row_text(&keys[i], text, sizeof text);
		int nl = tui_wrap(text, w - 13, st, len, HELP_ROW_LINES);
		tui_put(a, row, x + 2, 8, TS_KEY, keys[i].label);
		/* The text wraps beside its key rather than being cut at the box. */
		for (int l = 0; l < nl && row < y + h - 1; l++, row++) {
			char part[160];
			snprintf(part, sizeof part, "%.*s", len[l], text + st[l]);
			tui_put(a, row, x + 11, w - 13, TS_NORMAL, part);
		}
	}
	static const char *const notes[] = {
		"Rankings: x pruned on its edge, * measured last, ! nothing within the limits would remain;",
		NULL, /* the proxies' line, from the proxy table's names */
		"Atlas: x latency, y accuracy estimate (0 = best by every proxy; NB201 accuracy with --oracle);",
		"line = Pareto front, dim = breaks a limit, | limit, A atlas pick, P search pick (p provisional).",
	};
	row++;
	for (size_t i = 0; i < sizeof notes / sizeof notes[0] && row < y + h - 1; i++) {
		char proxies[200], part[200];
		int st[HELP_ROW_LINES], len[HELP_ROW_LINES];
		if (!notes[i])
			snprintf(proxies, sizeof proxies,
				 "dK dR: %s, %s changes; #K #R #F #L ranks (1 = most prunable), score #K+#R+wF#F+wL#L.",
				 mn_proxy_info(MN_PROXY_NTK_COND)->label,
				 mn_proxy_info(MN_PROXY_LINEAR_REGIONS)->label);
		const char *note = notes[i] ? notes[i] : proxies;
		int nl = tui_wrap(note, w - 4, st, len, HELP_ROW_LINES);
		for (int l = 0; l < nl && row < y + h - 1; l++, row++) {
			snprintf(part, sizeof part, "%.*s", len[l], note + st[l]);
			tui_put(a, row, x + 2, w - 4, TS_DIM, part);
		}
	}
}

static void form_draw(const struct tui_app *a)
{
	const struct tui_form *f = &a->form;
	enum { ERR_LINES = 5 };
	int estart[ERR_LINES], elen[ERR_LINES];
	int w = COLS - 4 < 70 ? COLS - 4 : 70;
	if (w < 30)
		return;
	/* The error wraps inside the box (which grows for it) instead of
	 * being cut at its edge: it is the reason a save or a port failed. */
	int nerr = f->error[0] ? tui_wrap(f->error, w - 4, estart, elen, ERR_LINES) : 0;
	int h = f->n + 5 + (nerr > 1 ? nerr - 1 : 0);
	int y = (LINES - h) / 2, x = (COLS - w) / 2;
	box_at(a, y, x, h, w, f->title);
	for (int i = 0; i < f->n; i++) {
		int fy = y + 1 + i, lw = 28;
		tui_put(a, fy, x + 2, lw, TS_NORMAL, f->label[i]);
		char v[TUI_FIELD_LEN + 2];
		int vw = w - lw - 5;
		const char *val = f->value[i];
		size_t len = strlen(val);
		/* The end of a long value stays in view. */
		if ((int)len >= vw && vw > 1)
			val += len - (size_t)(vw - 1);
		snprintf(v, sizeof v, "%s%s", val, i == f->focus ? "_" : "");
		char pad[TUI_FIELD_LEN + 8];
		snprintf(pad, sizeof pad, "%-*s", vw, v);
		tui_put(a, fy, x + 2 + lw, vw, i == f->focus ? TS_SELECT : TS_NORMAL, pad);
	}
	for (int i = 0; i < nerr; i++) {
		char line[sizeof f->error];
		snprintf(line, sizeof line, "%.*s", elen[i], f->error + estart[i]);
		tui_put(a, y + f->n + 2 + i, x + 2, w - 4, TS_ERROR, line);
	}
	tui_put(a, y + h - 2, x + 2, w - 4, TS_DIM, "Enter applies, Esc cancels, Tab/Up/Down move");
}

static void list_draw(const struct tui_app *a)
{
	const struct tui_list *l = &a->list;
	int w = COLS - 4 < 90 ? COLS - 4 : 90;
	int h = l->n + 4 + (l->note[0] ? 1 : 0);
	if (h > LINES - 2)
		h = LINES - 2;
	int y = (LINES - h) / 2, x = (COLS - w) / 2;
	int rows = h - 3 - (l->note[0] ? 1 : 0);
	if (w < 30 || rows < 1)
		return;
	box_at(a, y, x, h, w, l->title);
	int top = l->sel >= rows ? l->sel - rows + 1 : 0;
	for (int i = 0; i < rows && top + i < l->n; i++) {
		char line[200];
		snprintf(line, sizeof line, " %-*.*s", w - 5, w - 5, l->label[top + i]);
		tui_put(a, y + 1 + i, x + 2, w - 4, top + i == l->sel ? TS_SELECT : TS_NORMAL, line);
	}
	if (l->note[0])
		tui_put(a, y + h - 3, x + 2, w - 4, TS_DIM, l->note);
	tui_put(a, y + h - 2, x + 2, w - 4, TS_DIM, "Enter picks, Esc closes, Up/Down move");
}

void view_modal_draw(const struct tui_app *a)
{
	if (a->mode == MODE_HELP)
		view_help_draw(a);
	else if (a->mode == MODE_FORM)
		form_draw(a);
	else if (a->mode == MODE_LIST)
		list_draw(a);
}
