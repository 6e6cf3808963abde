/* The one clock micronas measures elapsed time and timeouts with:
 * CLOCK_MONOTONIC, which a change of the wall clock (NTP, the user) never
 * moves, so an elapsed time or a deadline cannot jump or go backwards. */
#ifndef MN_CLOCK_H
#define MN_CLOCK_H

/* Seconds since an arbitrary fixed point; only differences mean anything. */
double mn_now_s(void);

/* The same in whole milliseconds, for the timeouts counted in ms; 0 if the
 * clock cannot be read (it cannot on Linux: a loop waiting on it then
 * waits its full timeout once more). */
long long mn_now_ms(void);

/* Sleeps about ms milliseconds, for the loops that poll a state.  A signal
 * may cut it short: such a loop only looks again sooner. */
void mn_sleep_ms(int ms);

#endif
