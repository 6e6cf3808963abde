#include "cli_eta.h"

#include <stdio.h>

double mn_cli_rate(int done_at_start, int done, double elapsed_s)
{
	int now = done - done_at_start;
	if (now <= 0 || !(elapsed_s > 0))
		return 0;
	return now / elapsed_s;
}

double mn_cli_eta_s(int done_at_start, int done, int total, double elapsed_s)
{
	if (done >= total)
		return 0;
	double rate = mn_cli_rate(done_at_start, done, elapsed_s);
	return rate > 0 ? (total - done) / rate : -1;
}

void mn_cli_fmt_duration(double s, char *buf, size_t n)
{
	if (!(s >= 0) || s > 1e7)
		snprintf(buf, n, "?");
	else if (s < 60)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}
