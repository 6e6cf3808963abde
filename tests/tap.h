/* A minimal TAP producer for the C tests: each check prints "ok N - what"
 * or "not ok N - what", and tap_done() prints the plan last. */
#ifndef MN_TAP_H
#define MN_TAP_H

#include <stdarg.h>
#include <stdio.h>

struct tap_state {
	int count;
	int failed;
};

static struct tap_state tap_state_;

static inline int tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;
	tap_state_.count++;
	if (!ok)
		tap_state_.failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_state_.count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

/* A diagnostic line, kept in the log. */
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_state_.count);
	return tap_state_.failed ? 1 : 0;
}

/* Path of the shared reference data, or NULL (after one note) when the
 * checkout has no ../shared beside it, as a user's clone does not. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static inline const char *tap_shared_path(const char *rel, char *buf, size_t n)
{
	const char *top = getenv("MN_TOP_SRCDIR");
	snprintf(buf, n, "%s/../shared/%s", top ? top : "..", rel);
	if (access(buf, R_OK) == 0)
		return buf;
	printf("# SKIP-NOTE ../shared/%s is not present: the checks that read it did not run\n", rel);
	return NULL;
}

#endif
