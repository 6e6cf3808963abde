/* The key footer, the message line, the help screen (? or F1) and the
 * modal form and list boxes. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "keys.h"

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

void view_message_draw(const struct tui_app *a, struct tui_rect r)
{
	if (r.h < 1 || !a->message[0])
		return;
	tui_put(a, r.y, r.x, r.w, a->message_error ? TS_ERROR : TS_NORMAL, a->message);
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

void view_help_draw(const struct tui_app *a)
{
	size_t n;
	const struct tui_key_row *keys = tui_key_rows(&n);
	int w = COLS - 4 < 100 ? COLS - 4 : 100;
	int lines_needed = (int)n + 8;
	int h = LINES - 2 < lines_needed ? LINES - 2 : lines_needed;
	int y = (LINES - h) / 2, x = (COLS - w) / 2, row = y + 1;
	if (w < 30 || h < 6)
		return;
	box_at(a, y, x, h, w, "micronas tui: keys (any key closes)");
	for (size_t i = 0; i < n && row < y + h - 1; i++, row++) {
		char text[160];
		tui_key_row_text(&keys[i], text, sizeof text);
		tui_put(a, row, x + 2, 8, TS_KEY, keys[i].label);
		tui_put(a, row, x + 11, w - 13, TS_NORMAL, text);
	}
	static const char *const notes[] = {
		"Rankings: x pruned on its edge, * measured last, ! nothing within the limits would remain;",
		"dK dR: NTK, linear-region changes; #K #R #F #L ranks (1 = most prunable), score #K+#R+wF#F+wL#L.",
		"Atlas: x latency, y accuracy estimate (0 = best by every proxy; NB201 accuracy with --oracle);",
		"line = Pareto front, dim = breaks a limit, | limit, A atlas pick, P search pick (p provisional).",
	};
	row++;
	for (size_t i = 0; i < sizeof notes / sizeof notes[0] && row < y + h - 1; i++, row++)
		tui_put(a, row, x + 2, w - 4, TS_DIM, notes[i]);
}

static void form_draw(const struct tui_app *a)
{
	const struct tui_form *f = &a->form;
	int w = COLS - 4 < 70 ? COLS - 4 : 70, h = f->n + 5;
	int y = (LINES - h) / 2, x = (COLS - w) / 2;
	if (w < 30)
		return;
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
	if (f->error[0])
		tui_put(a, y + f->n + 2, x + 2, w - 4, TS_ERROR, f->error);
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
