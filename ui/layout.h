/* Where each view of the TUI goes, computed from the terminal size on
 * every draw (ui/tui.c) and when scrolling by a page (ui/actions.c). */
#ifndef MN_TUI_LAYOUT_H
#define MN_TUI_LAYOUT_H

struct tui_rect {
	int y, x, h, w;
};

/* Where each view goes; computed from the terminal size on every draw. */
struct tui_layout {
	int ok; /* 0: the terminal is too small for anything but a notice */
	struct tui_rect status, progress, pick, board, rankings, supernet, plot, message, footer;
};

#define TUI_MIN_COLS 60
#define TUI_MIN_LINES 20

/* msg_lines: the lines the message needs (tui_message_lines); the panes
 * above give them up, down to a minimum, rather than being drawn over. */
void tui_layout(int lines, int cols, int msg_lines, struct tui_layout *l);

#endif
