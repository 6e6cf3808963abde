/* The rate and time left of a long command (score --all, atlas, profile),
 * counting only the work done by this run: rows or measurements resumed
 * from an earlier run took no time now and must not make the rate look
 * higher than it is. */
#ifndef MN_CLI_ETA_H
#define MN_CLI_ETA_H

#include <stddef.h>

/* Items per second done by this run: (done - done_at_start) / elapsed_s;
 * 0 while nothing was done yet or no time has passed. */
double mn_cli_rate(int done_at_start, int done, double elapsed_s);
/* Seconds left for total - done items at that rate; -1 when unknown
 * (nothing done by this run yet). 0 when done >= total. */
double mn_cli_eta_s(int done_at_start, int done, int total, double elapsed_s);
/* "42s", "3m07s", "2h05m"; "?" for a negative or absurd value. */
void mn_cli_fmt_duration(double s, char *buf, size_t n);

#endif
