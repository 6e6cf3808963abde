/* The TUI's key table: the one list of what each key does in the normal
 * mode.  The dispatcher (ui/actions.c) looks keys up here and the help
 * screen and footer (ui/view_help.c) are drawn from it, so a binding can
 * not be changed in one and forgotten in the other.  The forms and lists
 * have their own few keys (Enter, Esc, Tab, arrows), named in their boxes. */
#ifndef MN_TUI_KEYS_H
#define MN_TUI_KEYS_H

#include <stddef.h>

#include "search/engine.h"

/* Steps and bounds of the live edits, shown in the help text too.  The
 * weight keys' step is the engine's look-ahead step, so that every press
 * lands on a weight point the look-ahead measured. */
#define TUI_WEIGHT_STEP MN_LOOKAHEAD_STEP /* f/F, l/L */
#define TUI_WEIGHT_MAX 100.0 /* the weights form and the keys stop there */
#define TUI_LIMIT_MAX 1e9    /* the limits form's largest value */

enum tui_action {
	ACT_NONE,
	ACT_QUIT,
	ACT_HELP,
	ACT_SEARCH,       /* start / stop */
	ACT_FLOPS_DOWN,
	ACT_FLOPS_UP,
	ACT_LATENCY_DOWN,
	ACT_LATENCY_UP,
	ACT_WEIGHTS_FORM,
	ACT_LIMITS_FORM,
	ACT_SAVE,
	ACT_SORT_NEXT,
	ACT_SORT_PREV,
	ACT_SORT_REVERSE,
	ACT_ROUND_PREV,
	ACT_ROUND_NEXT,
	ACT_SCROLL_UP,
	ACT_SCROLL_DOWN,
	ACT_PAGE_UP,
	ACT_PAGE_DOWN,
	ACT_SCROLL_TOP,
	ACT_SCROLL_END,
	ACT_PRESETS,
	ACT_BOARD,
	ACT_PROFILE,
	ACT_VALIDATE,
	ACT_MODEL_FORM,
	ACT_USE_TABLE,
	ACT_CANCEL_BOARD,
	ACT_ATLAS_RELOAD,
	ACT_ATLAS_EXTEND,
	ACT_PLOT_TOGGLE,
	ACT_REDRAW
};

#define TUI_ROW_KEYS 6

/* One row of the help screen: the keys it lists and what each does. */
struct tui_key_row {
	const char *label;  /* the keys as the help shows them ("f/F l/L") */
	const char *footer; /* short name in the footer; NULL: only in the help */
	int pinned;         /* always in the footer, however narrow (help, quit) */
	/* The help text; "%g" in it stands for `value` (e.g. the weight step). */
	const char *text;
	double value;
	struct {
		int ch; /* a curses key code */
		enum tui_action action;
	} keys[TUI_ROW_KEYS]; /* ended by ch == 0 */
};

/* The rows in footer order (the footer drops entries from the end when the
 * terminal is narrow); n rows. */
const struct tui_key_row *tui_key_rows(size_t *n);
/* The action of a key in the normal mode; ACT_NONE if it has none. */
enum tui_action tui_key_action(int ch);
/* A row's help text with its value filled in. */
void tui_key_row_text(const struct tui_key_row *r, char *buf, size_t n);

#endif
