/* See shell_word.h. */
#include "util/shell_word.h"

#include <stdio.h>
#include <string.h>

/* Appends c to buf (n bytes) at *len when there is room for it and the
 * NUL; counts it either way, as snprintf does. */
static void put_char(char *buf, size_t n, size_t *len, char c)
{
	if (*len + 1 < n)
		buf[*len] = c;
	(*len)++;
}

int mn_shell_word(const char *s, char *buf, size_t n)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_./:=@%+,-";
	if (s[0] && strspn(s, plain) == strlen(s))
		return snprintf(buf, n, "%s", s);
	size_t len = 0;
	put_char(buf, n, &len, '\'');
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			/* close the quotes, an escaped quote, open them again */
			for (const char *q = "'\\''"; *q; q++)
				put_char(buf, n, &len, *q);
		} else {
			put_char(buf, n, &len, *c);
		}
	}
	put_char(buf, n, &len, '\'');
	if (n)
		buf[len < n ? len : n - 1] = '\0';
	return (int)len;
}
