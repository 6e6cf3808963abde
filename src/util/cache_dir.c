#include "util/cache_dir.h"

#include <stdio.h>
#include <stdlib.h>

int mn_cache_dir(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int w;
	if (xdg && xdg[0] == '/')
		w = snprintf(out, n, "%s/micronas", xdg);
	else if (home && home[0])
		w = snprintf(out, n, "%s/.cache/micronas", home);
	else
		return -1;
	return w > 0 && (size_t)w < n ? 0 : -1;
}
