/* One error-message type for the library: a fixed buffer that a failing
 * call fills with one line naming the problem and the fix.
 *
 *   struct mn_error e;
 *   if (mn_preset_open(&p, name, &e) != 0)
 *           fprintf(stderr, "micronas: %s\n", e.msg);
 *
 * Code that still takes (char *err, size_t errn) is called with
 * (e.msg, sizeof e.msg), and an error from such code is copied in with
 * mn_error_set(&e, "%s", buf). */
#ifndef MN_ERROR_H
#define MN_ERROR_H

#include <stdarg.h>

/* Long enough for a message quoting two paths of ordinary length. */
#define MN_ERROR_LEN 1024

struct mn_error {
	char msg[MN_ERROR_LEN]; /* "" until something failed */
};

/* Sets the message (truncated to fit); e may be NULL (nothing is kept).
 * Returns -1, so that a failing path can end with
 * `return mn_error_set(e, ...);`. */
int mn_error_set(struct mn_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mn_error_vset(struct mn_error *e, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void mn_error_clear(struct mn_error *e);

#endif
