/* Shared bits of the benchmarks: finding ../shared, timing, arguments. */
#ifndef MN_BENCH_COMMON_H
#define MN_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ../shared/REL relative to the source tree, or NULL when absent. */
static inline const char *bench_shared(const char *rel, char *buf, size_t n)
{
	const char *top = getenv("MN_TOP_SRCDIR");
	snprintf(buf, n, "%s/../shared/%s", top ? top : "..", rel);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

/* "--name value" lookup in argv; def when absent. */
static inline const char *bench_arg(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

static inline int bench_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

#endif
