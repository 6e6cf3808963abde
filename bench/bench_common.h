/* Shared bits of the benchmarks: finding the source tree (presets,
 * ../shared), arguments (timing is util/clock.h's mn_now_s). */
#ifndef MN_BENCH_COMMON_H
#define MN_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/exe_tree.h"
#include "util/clock.h"

/* The source tree: $MN_TOP_SRCDIR (make bench sets it), else the one this
 * benchmark was built from, found from the executable as a build-tree
 * micronas finds its presets (a benchmark is in bench/, one level below the
 * build tree's top), so that bench/bench_search run directly, from any
 * directory, finds the presets and ../shared.  NULL when neither (a
 * benchmark copied out of its build tree). */
static inline const char *bench_srcdir(char *buf, size_t n)
{
	const char *top = getenv("MN_TOP_SRCDIR");
	if (top && *top) {
		snprintf(buf, n, "%s", top);
		return buf;
	}
	char *tree = mn_exe_source_tree_up(1);
	if (!tree)
		return NULL;
	snprintf(buf, n, "%s", tree);
	free(tree);
	return buf;
}

/* ../shared/REL relative to the source tree, or NULL when absent. */
static inline const char *bench_shared(const char *rel, char *buf, size_t n)
{
	char top[4096];
	if (!bench_srcdir(top, sizeof top))
		return NULL;
	if (snprintf(buf, n, "%s/../shared/%s", top, rel) >= (int)n)
		return NULL; /* too long to be there */
	return access(buf, R_OK) == 0 ? buf : NULL;
}

/* The source tree's presets/NAME.ini into buf, checked before any work:
 * when there is no source tree to find it in, or no such file, one line
 * saying so and what to do, exit 1. */
static inline const char *bench_preset(const char *prog, const char *name, char *buf, size_t n)
{
	char top[4096];
	if (!bench_srcdir(top, sizeof top)) {
		fprintf(stderr, "%s: cannot find the presets (this benchmark is not in its build tree); set "
			"MN_TOP_SRCDIR to the source tree or run 'make bench'\n", prog);
		exit(1);
	}
	if (snprintf(buf, n, "%s/presets/%s.ini", top, name) >= (int)n)
		errno = ENAMETOOLONG;
	else if (access(buf, R_OK) == 0)
		return buf;
	fprintf(stderr, "%s: cannot read the preset %s: %s; set MN_TOP_SRCDIR to the source tree or run "
		"'make bench'\n", prog, buf, strerror(errno));
	exit(1);
}

/* "--name value" lookup in argv; def when absent. */
static inline const char *bench_arg(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

/* Every argument must be "--name value" with name in NAMES (NULL-ended):
 * --help prints USAGE and exits 0; anything else (an unknown or misspelt
 * flag, a flag without its value) is a usage error, exit 2, so a benchmark
 * never runs for an hour on settings it silently ignored. */
static inline void bench_check_args(int argc, char **argv, const char *prog, const char *usage,
				    const char *const *names)
{
	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s\n", usage);
			exit(0);
		}
		int known = 0;
		for (const char *const *n = names; *n && !known; n++)
			known = !strcmp(argv[i], *n);
		if (!known || i + 1 >= argc) {
			fprintf(stderr, "%s: %s option '%s' (usage: %s)\n", prog,
				known ? "no value for the" : "unknown", argv[i], usage);
			exit(2);
		}
	}
}

/* "--name X" as a number in lo..hi (a whole one, read by strtol, when
 * whole), def when absent; anything else is a usage error (exit 2) naming
 * the option and the range.  Whole numbers pass through a double: exact
 * for the ranges benchmarks take (far below 2^53). */
static inline double bench_number(int argc, char **argv, const char *prog, const char *name,
				  double def, double lo, double hi, int whole)
{
	const char *v = bench_arg(argc, argv, name, NULL);
	if (!v)
		return def;
	char *end;
	errno = 0;
	double x = whole ? (double)strtol(v, &end, 10) : strtod(v, &end);
	if (errno || end == v || *end || !(x >= lo && x <= hi)) {
		if (whole)
			fprintf(stderr, "%s: %s needs a whole number in %.0f..%.0f, got '%s'\n", prog, name,
				lo, hi, v);
		else
			fprintf(stderr, "%s: %s needs a number in %g..%g, got '%s'\n", prog, name, lo, hi, v);
		exit(2);
	}
	return x;
}

static inline long bench_int(int argc, char **argv, const char *prog, const char *name, long def,
			     long lo, long hi)
{
	return (long)bench_number(argc, argv, prog, name, (double)def, (double)lo, (double)hi, 1);
}

static inline double bench_num(int argc, char **argv, const char *prog, const char *name, double def,
			       double lo, double hi)
{
	return bench_number(argc, argv, prog, name, def, lo, hi, 0);
}

/* "--name WORD" as one of WORDS (NULL-ended), def when absent; else exit 2. */
static inline const char *bench_word(int argc, char **argv, const char *prog, const char *name,
				     const char *def, const char *const *words, const char *list)
{
	const char *v = bench_arg(argc, argv, name, def);
	for (const char *const *w = words; *w; w++)
		if (!strcmp(v, *w))
			return v;
	fprintf(stderr, "%s: %s takes %s, got '%s'\n", prog, name, list, v);
	exit(2);
}

static inline int bench_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

#endif
