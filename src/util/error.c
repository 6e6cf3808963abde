#include "util/error.h"

#include <stdio.h>
#include <string.h>

int mn_error_vset(struct mn_error *e, const char *fmt, va_list ap)
{
	if (e)
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return -1;
}

int mn_error_set(struct mn_error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mn_error_vset(e, fmt, ap);
	va_end(ap);
	return -1;
}

void mn_error_clear(struct mn_error *e)
{
	if (e)
		e->msg[0] = '\0';
}
