/* The key table (see keys.h). */
#include "config.h"

#include <curses.h>
#include <stdio.h>

#include "keys.h"

/* What matters most at the bench comes first. */
static const struct tui_key_row rows[] = {
	{"s", "search", 0, "start the search / stop it (a new start resumes from the cache)", 0,
	 {{'s', ACT_SEARCH}}},
	{"f/F l/L", "weights", 0, "FLOPs / latency weight -/+ %g (the atlas re-picks at once, the search re-ranks)",
	 TUI_WEIGHT_STEP,
	 {{'f', ACT_FLOPS_DOWN}, {'F', ACT_FLOPS_UP}, {'l', ACT_LATENCY_DOWN}, {'L', ACT_LATENCY_UP}}},
	{"v", "validate", 0, "run the pick on the board: measured vs estimated latency, SRAM (with weights loaded by m: the deployed int8 model, bit-exact and top-1 checks)", 0,
	 {{'v', ACT_VALIDATE}}},
	{"m", "model", 0, "load trained weights (.safetensors) for v, and the int8 model file if deployed on another computer; the board must run deploy's image for them", 0,
	 {{'m', ACT_MODEL_FORM}}},
	{"p", "profile", 0, "profile the board into BOARD-latency.ini (p again cancels)", 0,
	 {{'p', ACT_PROFILE}}},
	{"b", "board", 0, "pick a serial port or the emulated board (QEMU)", 0, {{'b', ACT_BOARD}}},
	{"c", "limits", 0, "edit the limits: latency ms, SRAM KB, flash KB (0 = none; SRAM and flash start at the board's)", 0,
	 {{'c', ACT_LIMITS_FORM}}},
	{"w", "save", 0, "save BASE.json (as search --json), BASE.arch, BASE.log", 0,
	 {{'w', ACT_SAVE}}},
	{"Tab/k", "sort", 0, "sort the rankings by the next column (K, Shift-Tab: back)", 0,
	 {{'\t', ACT_SORT_NEXT}, {'k', ACT_SORT_NEXT}, {KEY_BTAB, ACT_SORT_PREV}, {'K', ACT_SORT_PREV}}},
	{"a", "atlas", 0, "load the atlas again (after 'micronas atlas' extended it); says what it holds", 0,
	 {{'a', ACT_ATLAS_RELOAD}}},
	{"e", NULL, 0, "pause / resume extending the atlas while the search is idle", 0,
	 {{'e', ACT_ATLAS_EXTEND}}},
	{"A", NULL, 0, "trade-off pane: the atlas scatter / the search's candidates", 0,
	 {{'A', ACT_PLOT_TOGGLE}}},
	{"P", "preset", 0, "pick a preset (the search is set up again)", 0, {{'P', ACT_PRESETS}}},
	{"W", NULL, 0, "type both weights", 0, {{'W', ACT_WEIGHTS_FORM}}},
	{"r", NULL, 0, "reverse the sort order", 0, {{'r', ACT_SORT_REVERSE}}},
	{"[ ]", NULL, 0, "previous / next round (] past the last follows the search)", 0,
	 {{'[', ACT_ROUND_PREV}, {']', ACT_ROUND_NEXT}}},
	{"Up/Dn", NULL, 0, "scroll the rankings (PgUp, PgDn, Home, End too)", 0,
	 {{KEY_UP, ACT_SCROLL_UP}, {KEY_DOWN, ACT_SCROLL_DOWN}, {KEY_PPAGE, ACT_PAGE_UP},
	  {KEY_NPAGE, ACT_PAGE_DOWN}, {KEY_HOME, ACT_SCROLL_TOP}, {KEY_END, ACT_SCROLL_END}}},
	{"t", NULL, 0, "search with the latency table the last profile wrote", 0,
	 {{'t', ACT_USE_TABLE}}},
	{"x", NULL, 0, "cancel the board's job", 0, {{'x', ACT_CANCEL_BOARD}}},
	{"Ctrl-L", NULL, 0, "redraw the screen", 0, {{12, ACT_REDRAW}}},
	{"?/F1", "help", 1, "this help (any key closes it)", 0, {{'?', ACT_HELP}, {KEY_F(1), ACT_HELP}}},
	{"q", "quit", 1, "quit: stops the search and QEMU, restores the terminal", 0,
	 {{'q', ACT_QUIT}}},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

const struct tui_key_row *tui_key_rows(size_t *n)
{
	*n = N_ROWS;
	return rows;
}

enum tui_action tui_key_action(int ch)
{
	if (ch == 0)
		return ACT_NONE;
	for (size_t i = 0; i < N_ROWS; i++)
		for (int k = 0; k < TUI_ROW_KEYS && rows[i].keys[k].ch; k++)
			if (rows[i].keys[k].ch == ch)
				return rows[i].keys[k].action;
	return ACT_NONE;
}

void tui_key_row_text(const struct tui_key_row *r, char *buf, size_t n)
{
	/* The texts are this file's literals: each holds at most one %g. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(buf, n, r->text, r->value);
#pragma GCC diagnostic pop
}
