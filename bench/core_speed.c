/* See core_speed.h. */
#define _GNU_SOURCE
#include "core_speed.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "bench_common.h"

/* GB/s of b = a * s + b over n floats, best of several passes in ~40 ms. */
static double triad(float *a, float *b, size_t n)
{
	double best = 0, t_end = mn_now_s() + 0.04;
	float s = 1.0001f;
	do {
		double t = mn_now_s();
		for (int r = 0; r < 16; r++)
			for (size_t i = 0; i < n; i++)
				b[i] = a[i] * s + b[i];
		t = mn_now_s() - t;
		double gbs = 16.0 * 3 * n * sizeof(float) / t / 1e9;
		if (gbs > best)
			best = gbs;
	} while (mn_now_s() < t_end);
	return best;
}

/* "CPU <model name> (family F, model M); " from /proc/cpuinfo, or "" where
 * it cannot be read.  The family tells CPU generations apart that a VM's
 * model name does not (AMD Zen 4 is family 25, Zen 5 family 26: the same
 * "AMD EPYC", the latter's AVX-512 units twice as wide). */
static int cpu_id(char *out, size_t n)
{
	char line[256], name[128] = "", fam[16] = "?", mod[16] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return snprintf(out, n, "%s", "");
	while (fgets(line, sizeof line, f)) {
		char *v = strchr(line, ':');
		if (!v)
			continue;
		v += 1 + (v[1] == ' ');
		v[strcspn(v, "\n")] = 0;
		if (!name[0] && !strncmp(line, "model name", 10))
			snprintf(name, sizeof name, "%s", v);
		else if (fam[0] == '?' && !strncmp(line, "cpu family", 10))
			snprintf(fam, sizeof fam, "%s", v);
		else if (mod[0] == '?' && !strncmp(line, "model\t", 6))
			snprintf(mod, sizeof mod, "%s", v);
	}
	fclose(f);
	return name[0] ? snprintf(out, n, "CPU %s (family %s, model %s); ", name, fam, mod)
		       : snprintf(out, n, "%s", "");
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
	int w = cpu_id(out, n);
	if (w >= 0 && (size_t)w < n)
		w += snprintf(out + w, n - (size_t)w, "per-core streaming (2 x 256 KB triad):");
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
