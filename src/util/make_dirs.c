#include "util/make_dirs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int mn_make_dirs(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return -1;
	int rc = 0;
	/* Each prefix ending before a '/' (not the root's), then the whole. */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	int e = errno;
	free(p);
	errno = e;
	return rc;
}
