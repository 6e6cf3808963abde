/* The screen's layout (see layout.h). */
#include "config.h"

#include <string.h>

#include "app.h"
#include "layout.h"

void tui_layout(int lines, int cols, int msg_lines, struct tui_layout *l)
{
	memset(l, 0, sizeof *l);
	if (lines < TUI_MIN_LINES || cols < TUI_MIN_COLS)
		return;
	l->ok = 1;
	int y = 0;
	int status_h = lines >= 36 ? 4 : 3;
	int board_h = lines >= 28 ? 2 : 1;
	l->status = (struct tui_rect){y, 0, status_h, cols};
	y += status_h;
	l->progress = (struct tui_rect){y++, 0, 1, cols};
	l->pick = (struct tui_rect){y++, 0, 1, cols};
	l->board = (struct tui_rect){y, 0, board_h, cols};
	y += board_h;
	/* A long message takes lines from the panes while the rankings keep a
	 * title, a header and a few rows. */
	if (msg_lines < 1)
		msg_lines = 1;
	while (msg_lines > 1 && lines - 1 - msg_lines - y < 10)
		msg_lines--;
	l->message = (struct tui_rect){lines - 1 - msg_lines, 0, msg_lines, cols};
	l->footer = (struct tui_rect){lines - 1, 0, 1, cols};
	int main_h = lines - 1 - msg_lines - y;
	int rw = view_rankings_width(cols);
	if (rw > cols)
		rw = cols;
	int right = cols - rw - 1;
	if (right >= 18) {
		l->rankings = (struct tui_rect){y, 0, main_h, rw};
		l->supernet = (struct tui_rect){y, rw + 1, 7, right};
		l->plot = (struct tui_rect){y + 7, rw + 1, main_h - 7, right};
	} else {
		/* Narrow: the table gets the width, the diagram and the plot
		 * share what height it leaves. */
		int th = main_h > 17 ? main_h - 9 : main_h;
		l->rankings = (struct tui_rect){y, 0, th, cols};
		if (main_h - th >= 7) {
			l->supernet = (struct tui_rect){y + th, 0, 7, 26};
			l->plot = (struct tui_rect){y + th, 27, main_h - th, cols - 27};
		}
	}
}
