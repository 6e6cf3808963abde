/* See core_speed.h. */
#define _GNU_SOURCE
#include "core_speed.h"

#include <sched.h>

#include "bench_common.h"

/* GB/s of b = a * s + b over n floats, best of several passes in ~40 ms. */
static double triad(float *a, float *b, size_t n)
{
	double best = 0, t_end = bench_now() + 0.04;
	float s = 1.0001f;
	do {
		double t = bench_now();
		for (int r = 0; r < 16; r++)
			for (size_t i = 0; i < n; i++)
				b[i] = a[i] * s + b[i];
		t = bench_now() - t;
		double gbs = 16.0 * 3 * n * sizeof(float) / t / 1e9;
		if (gbs > best)
			best = gbs;
	} while (bench_now() < t_end);
	return best;
}

int bench_core_speeds(char *out, size_t n)
{
	cpu_set_t old, one;
	size_t len = 64 * 1024; /* floats per array: 2 x 256 KB, an L2-sized stream */
	float *a = malloc(len * sizeof *a), *b = malloc(len * sizeof *b);
	if (!a || !b || sched_getaffinity(0, sizeof old, &old) != 0) {
		free(a), free(b);
		snprintf(out, n, "per-core speed not measured");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		a[i] = (float)(i % 7), b[i] = 0;
	int w = snprintf(out, n, "per-core streaming (2 x 256 KB triad):");
	for (int c = 0; c < CPU_SETSIZE && w > 0 && (size_t)w < n; c++) {
		if (!CPU_ISSET(c, &old))
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		if (sched_setaffinity(0, sizeof one, &one) != 0)
			continue;
		w += snprintf(out + w, n - (size_t)w, " cpu%d %.0f GB/s", c, triad(a, b, len));
	}
	sched_setaffinity(0, sizeof old, &old);
	/* keep b alive so the loops are not optimised away */
	volatile float sink = b[len / 2];
	(void)sink;
	free(a), free(b);
	return 0;
}
