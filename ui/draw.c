/* Drawing helpers shared by the views: styles with a monochrome fallback,
 * clipped UTF-8 text, glyphs with ASCII fallbacks, bars, numbers that fit.
 *
 * Curses output calls return ERR when text runs past the window's edge;
 * that only means it was clipped, so their results are deliberately not
 * checked here (every caller goes through these helpers). */
#include "config.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

/* Colour pairs, numbered by style (pair 0 is the terminal's default). */
static const struct {
	short fg, bg;
	int attr;      /* added to the colour */
	int mono;      /* used instead on a monochrome terminal */
} style_def[TS_COUNT] = {
	[TS_NORMAL] = {-1, -1, 0, 0},
	[TS_TITLE] = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
	[TS_DIM] = {COLOR_BLUE, -1, A_BOLD, A_DIM},
	[TS_PRUNE] = {COLOR_BLACK, COLOR_YELLOW, 0, A_REVERSE},
	[TS_LATEST] = {COLOR_GREEN, -1, A_BOLD, A_BOLD},
	[TS_BAR] = {COLOR_GREEN, -1, 0, 0},
	[TS_POINT] = {COLOR_CYAN, -1, 0, 0},
	[TS_PICK] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
	[TS_CURRENT] = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD | A_UNDERLINE},
	[TS_LIMIT] = {COLOR_RED, -1, 0, A_DIM},
	[TS_ERROR] = {COLOR_RED, -1, A_BOLD, A_BOLD},
	[TS_OK] = {COLOR_GREEN, -1, A_BOLD, A_BOLD},
	[TS_KEY] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
	[TS_SELECT] = {COLOR_BLACK, COLOR_WHITE, 0, A_REVERSE},
};

void tui_styles_init(struct tui_app *a)
{
	a->colors = 0;
	if (a->cfg->no_color || !has_colors() || start_color() == ERR)
		return;
	/* -1 (the terminal's own colours) needs use_default_colors(); without
	 * it, fall back to black backgrounds and white text. */
	int defaults = use_default_colors() == OK;
	if (COLOR_PAIRS < TS_COUNT)
		return;
	for (int s = 1; s < TS_COUNT; s++) {
		short fg = style_def[s].fg, bg = style_def[s].bg;
		if (!defaults) {
			if (fg < 0)
				fg = COLOR_WHITE;
			if (bg < 0)
				bg = COLOR_BLACK;
		}
		if (init_pair((short)s, fg, bg) == ERR)
			return;
	}
	a->colors = 1;
}

int tui_attr(const struct tui_app *a, enum tui_style s)
{
	if (s <= TS_NORMAL || s >= TS_COUNT)
		return A_NORMAL;
	if (a->colors)
		return (int)COLOR_PAIR(s) | style_def[s].attr;
	return style_def[s].mono;
}

/* Bytes of the UTF-8 sequence starting with c (1 for anything malformed). */
static int seq_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0)
		return c < 0xf0 ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* Control bytes (from a file name, a port's description, a message
 * quoting input) would move the cursor or clear the line if drawn raw:
 * they are shown as ^X, as cat -v does. */
static const char *visible(const char *s, char *buf, size_t n)
{
	size_t o = 0;
	int any = 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			any = 1;
	if (!any)
		return s;
	for (const char *p = s; *p && o + 3 < n; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f) {
			buf[o++] = '^';
			buf[o++] = (char)(c ^ 0x40);
		} else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

int tui_put(const struct tui_app *a, int y, int x, int w, enum tui_style st, const char *text)
{
	char shown[2048];
	const char *s = visible(text, shown, sizeof shown);
	int cols = 0;
	size_t bytes = 0, len = strlen(s);
	if (w <= 0 || y < 0 || x < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	while (bytes < len && cols < w) {
		int l = seq_len((unsigned char)s[bytes]);
		if (bytes + (size_t)l > len)
			break;
		bytes += (size_t)l;
		cols++;
	}
	int at = tui_attr(a, st);
	attron(at);
	mvaddnstr(y, x, s, (int)bytes);
	attroff(at);
	return cols;
}

int tui_putf(const struct tui_app *a, int y, int x, int w, enum tui_style st, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return tui_put(a, y, x, w, st, buf);
}

void tui_fill(int y, int x, int w, int ch)
{
	if (y < 0 || y >= LINES || x < 0 || x >= COLS || w <= 0)
		return;
	if (x + w > COLS)
		w = COLS - x;
	mvhline(y, x, (chtype)ch, w);
}

const char *tui_glyph(const struct tui_app *a, const char *utf8, const char *ascii)
{
	return a->utf8 ? utf8 : ascii;
}

/* g written count times into buf (n bytes), as many as fit with room for
 * one more glyph of up to 3 bytes and the NUL. */
static void repeat_glyph(char *buf, size_t n, const char *g, int count)
{
	size_t o = 0, l = strlen(g);
	for (int i = 0; i < count && o + 4 < n; i++) {
		memcpy(buf + o, g, l);
		o += l;
	}
	buf[o] = '\0';
}

void tui_bar(const struct tui_app *a, int y, int x, int w, double frac)
{
	char buf[1024];
	if (w < 3)
		return;
	if (!(frac >= 0))
		frac = 0;
	if (frac > 1)
		frac = 1;
	int inner = w - 2;
	int full = (int)(frac * inner + 0.5);
	tui_put(a, y, x, 1, TS_DIM, "[");
	repeat_glyph(buf, sizeof buf, tui_glyph(a, "\xe2\x96\x88", "#"), full); /* U+2588 full block */
	tui_put(a, y, x + 1, full, TS_BAR, buf);
	repeat_glyph(buf, sizeof buf, tui_glyph(a, "\xc2\xb7", "."), inner - full); /* U+00B7 middle dot */
	tui_put(a, y, x + 1 + full, inner - full, TS_DIM, buf);
	tui_put(a, y, x + 1 + inner, 1, TS_DIM, "]");
}

double tui_unsigned_zero(double v, int dec)
{
	/* printf rounds -0.04 to "-0.0" at one decimal: a value that shows
	 * as zero is shown as 0, with no sign. */
	double half = 0.5 * pow(10.0, -dec);
	return fabs(v) < half ? 0.0 : v;
}

const char *tui_signed(char *buf, size_t n, double v, int dec)
{
	double z = tui_unsigned_zero(v, dec);
	snprintf(buf, n, z == 0.0 ? "%.*f" : "%+.*f", dec, z);
	return buf;
}

void tui_fmt_num(char *buf, size_t n, double v, int w, int dec, int sign)
{
	if (!isfinite(v)) {
		snprintf(buf, n, "%*s", w, isnan(v) ? "-" : (v > 0 ? "inf" : "-inf"));
		return;
	}
	for (int d = dec; d >= 0; d--) {
		double z = tui_unsigned_zero(v, d);
		int len = snprintf(buf, n, sign && z != 0.0 ? "%+*.*f" : "%*.*f", w, d, z);
		if (len <= w)
			return;
	}
	/* Too large for fixed notation in w columns. */
	snprintf(buf, n, "%*.*g", w, w > 6 ? w - 6 : 1, v);
}

const char *tui_op_short(int op)
{
	static const char *const names[MN_OP_COUNT] = {"none", "skip", "c1x1", "c3x3", "pool"};
	return op >= 0 && op < MN_OP_COUNT ? names[op] : "?";
}

const char *tui_op_tiny(int op)
{
	static const char *const names[MN_OP_COUNT] = {"--", "sk", "c1", "c3", "ap"};
	return op >= 0 && op < MN_OP_COUNT ? names[op] : "??";
}

void tui_arch_compact(const struct mn_arch *a, char *buf, size_t n)
{
	/* Grouped by target node as in the NB201 string: 1 | 2 2 | 3 3 3. */
	snprintf(buf, n, "%s | %s %s | %s %s %s", tui_op_tiny(a->op[0]), tui_op_tiny(a->op[1]),
		 tui_op_tiny(a->op[2]), tui_op_tiny(a->op[3]), tui_op_tiny(a->op[4]),
		 tui_op_tiny(a->op[5]));
}

int tui_put_memory(const struct tui_app *a, int y, int x, int w, const char *name, int decimals,
		   double kb, double board_kb, int always)
{
	char buf[80];
	int over = board_kb > 0 && kb > board_kb;
	if (!over && !always)
		return 0;
	int n = snprintf(buf, sizeof buf, "  %s %.*f KB", name, decimals, kb);
	if (over && n > 0 && (size_t)n < sizeof buf)
		snprintf(buf + n, sizeof buf - (size_t)n, " > board %.0f", board_kb);
	return tui_put(a, y, x, w, over ? TS_ERROR : TS_NORMAL, buf);
}
