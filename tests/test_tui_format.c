/* The TUI's text helpers without a screen: a value that rounds to zero
 * prints as 0.0, not -0.0 (the validation's "err -0.0%"), and a message is
 * wrapped at spaces into lines that fit (it was cut at the box's edge). */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "tap.h"

int main(void)
{
	char b[64];
	tap_ok(!strcmp(tui_signed(b, sizeof b, -0.04, 1), "0.0"), "-0.04 at 1 decimal: 0.0 (%s)", b);
	tap_ok(!strcmp(tui_signed(b, sizeof b, -0.0, 1), "0.0"), "-0.0: 0.0 (%s)", b);
	tap_ok(!strcmp(tui_signed(b, sizeof b, 0.04, 1), "0.0"), "+0.04: 0.0, no sign (%s)", b);
	tap_ok(!strcmp(tui_signed(b, sizeof b, -0.06, 1), "-0.1"), "-0.06: -0.1 (%s)", b);
	tap_ok(!strcmp(tui_signed(b, sizeof b, 2.5, 1), "+2.5"), "2.5: +2.5 (%s)", b);
	tap_ok(!strcmp(tui_signed(b, sizeof b, -0.004, 2), "0.00"), "-0.004 at 2 decimals: 0.00 (%s)", b);
	tui_fmt_num(b, sizeof b, -0.0004, 6, 3, 1);
	tap_ok(!strchr(b, '-') && strstr(b, "0.000"), "the table's signed numbers: -0.0004 as 0.000 ('%s')", b);
	tui_fmt_num(b, sizeof b, -0.2, 6, 3, 1);
	tap_ok(strstr(b, "-0.200") != NULL, "...and -0.2 keeps its sign ('%s')", b);

	const char *msg = "cannot write /a/very/long/path/name.json: No such file or directory "
			  "(check that the directory exists)";
	int st[8], len[8], w = 30;
	int n = tui_wrap(msg, w, st, len, 8);
	int fits = 1, spaces_ok = 1;
	size_t covered = 0;
	for (int i = 0; i < n; i++) {
		fits &= len[i] <= w;
		/* A break is at a space unless a word is longer than the line. */
		if (i + 1 < n && msg[st[i] + len[i]] != ' ' && msg[st[i] + len[i] - 1] != ' ' &&
		    memchr(msg + st[i], ' ', (size_t)len[i]))
			spaces_ok = 0;
		covered += (size_t)len[i];
	}
	tap_ok(n >= 4 && fits, "a %zu-byte message in %d columns: %d lines, each fits", strlen(msg), w, n);
	tap_ok(spaces_ok, "...broken at spaces");
	tap_ok(n > 0 && st[n - 1] + len[n - 1] == (int)strlen(msg), "...to its very end (nothing cut)");
	tap_ok(covered >= strlen(msg) - (size_t)n, "...every word kept");
	n = tui_wrap("short", 30, st, len, 8);
	tap_ok(n == 1 && len[0] == 5, "a short message: one line");
	n = tui_wrap(msg, 30, st, len, 2);
	tap_ok(n == 2, "at most max lines");
	n = tui_wrap("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 2, st, len, 8);
	tap_ok(n == 2 && len[0] == 4, "UTF-8: columns are characters, not bytes");
	return tap_done();
}
