/* See clock.h. */
#include "util/clock.h"

#include <time.h>

double mn_now_s(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC cannot fail on Linux (see mn_now_ms). */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

long long mn_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mn_sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	(void)nanosleep(&ts, NULL);
}
