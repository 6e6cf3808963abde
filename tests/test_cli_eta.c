/* The ETA of the long commands (cli/cli_eta.c): only the work of this run
 * sets the rate, so that a resumed run (most rows already done) does not
 * claim a rate it never had nor an ETA of a few seconds. */
#include <math.h>
#include <string.h>

#include "cli_eta.h"
#include "tap.h"

static int near(double a, double b) { return fabs(a - b) < 1e-9 * (1 + fabs(b)); }

int main(void)
{
	char b[32];
	/* Fresh: 100 of 1000 in 50 s: 2/s, 900 left: 450 s. */
	tap_ok(near(mn_cli_rate(0, 100, 50), 2), "fresh run: rate 100 / 50 s = 2/s");
	tap_ok(near(mn_cli_eta_s(0, 100, 1000, 50), 450), "fresh run: 900 left at 2/s = 450 s (%g)",
	       mn_cli_eta_s(0, 100, 1000, 50));
	/* Resumed: 800 already there, 100 more in 50 s: still 2/s, 100 left: 50 s
	 * (counting the 900 as done now would say 18/s and 5.6 s). */
	tap_ok(near(mn_cli_rate(800, 900, 50), 2), "resumed run: rate counts this run's 100 rows only (%g)",
	       mn_cli_rate(800, 900, 50));
	tap_ok(near(mn_cli_eta_s(800, 900, 1000, 50), 50), "resumed run: 100 left at 2/s = 50 s (%g)",
	       mn_cli_eta_s(800, 900, 1000, 50));
	tap_ok(mn_cli_eta_s(800, 800, 1000, 5) < 0, "nothing done by this run yet: ETA unknown");
	tap_ok(mn_cli_eta_s(0, 0, 1000, 0) < 0 && mn_cli_rate(0, 0, 0) == 0, "at the start: unknown, rate 0");
	tap_ok(mn_cli_eta_s(0, 1000, 1000, 10) == 0, "all done: 0 s left");
	tap_ok(mn_cli_eta_s(999, 1000, 1000, 0) == 0, "all done at once after a resume: 0 s left");
	mn_cli_fmt_duration(450, b, sizeof b);
	tap_ok(!strcmp(b, "7m30s"), "450 s shows as 7m30s (%s)", b);
	mn_cli_fmt_duration(42.4, b, sizeof b);
	tap_ok(!strcmp(b, "42s"), "42.4 s shows as 42s (%s)", b);
	mn_cli_fmt_duration(7500, b, sizeof b);
	tap_ok(!strcmp(b, "2h05m"), "7500 s shows as 2h05m (%s)", b);
	mn_cli_fmt_duration(-1, b, sizeof b);
	tap_ok(!strcmp(b, "?"), "unknown shows as ? (%s)", b);
	return tap_done();
}
