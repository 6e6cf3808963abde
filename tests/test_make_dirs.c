/* mn_make_dirs: mkdir -p of a nested path, an existing one, a trailing
 * slash; a path through a file fails with its errno. */
#define _DEFAULT_SOURCE 1 /* mkdtemp() */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util/make_dirs.h"
#include "tap.h"

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(void)
{
	char base[] = "/tmp/mn_make_dirs_XXXXXX", p[256];
	if (!mkdtemp(base))
		return tap_ok(0, "temporary directory"), tap_done();
	snprintf(p, sizeof p, "%s/a/b/c", base);
	tap_ok(mn_make_dirs(p) == 0 && is_dir(p), "a/b/c under an empty directory");
	tap_ok(mn_make_dirs(p) == 0 && is_dir(p), "again: it exists, fine");
	snprintf(p, sizeof p, "%s/a/d/", base);
	tap_ok(mn_make_dirs(p) == 0 && is_dir(p), "a trailing slash");
	snprintf(p, sizeof p, "%s/f", base);
	FILE *f = fopen(p, "w");
	if (f)
		fclose(f);
	snprintf(p, sizeof p, "%s/f/g", base);
	errno = 0;
	tap_ok(mn_make_dirs(p) == -1 && errno == ENOTDIR, "through a file: -1, ENOTDIR (errno %d)",
	       errno);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", base);
	return tap_done();
}
