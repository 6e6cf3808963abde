/* See str_join.h. */
#include "util/str_join.h"

#include <stdlib.h>
#include <string.h>

char *mn_str_join(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
	char *s = malloc(la + lb + lc + 1);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c ? c : "", lc + 1);
	return s;
}
