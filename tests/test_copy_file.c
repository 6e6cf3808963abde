/* mn_copy_file_keep_mtime: the copy has the bytes (over several buffers)
 * and the modification time of the original, overwrites a longer file,
 * and fails with the errno of a missing original, a directory, an
 * unwritable destination. */
#define _DEFAULT_SOURCE 1 /* mkdtemp() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/copy_file.h"
#include "tap.h"

enum { BYTES = 200000 }; /* more than the copy's 64 KiB buffer */

static int same_bytes(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	while (same) {
		int ca = getc(fa), cb = getc(fb);
		same = ca == cb;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static int same_mtime(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
	       sa.st_mtim.tv_nsec == sb.st_mtim.tv_nsec;
}

int main(void)
{
	char base[] = "/tmp/mn_copy_file_XXXXXX", from[256], to[256], p[256];
	if (!mkdtemp(base))
		return tap_ok(0, "temporary directory"), tap_done();
	snprintf(from, sizeof from, "%s/from", base);
	snprintf(to, sizeof to, "%s/to", base);
	FILE *f = fopen(from, "wb");
	for (int i = 0; f && i < BYTES; i++)
		putc((i * 7919) >> 3 & 0xff, f);
	if (f)
		fclose(f);
	/* An old time, so that "now" would not pass for it. */
	struct timespec old[2] = {{.tv_sec = 1000000000, .tv_nsec = 123456789},
				  {.tv_sec = 1000000000, .tv_nsec = 123456789}};
	if (!tap_ok(utimensat(AT_FDCWD, from, old, 0) == 0, "original dated 2001"))
		return tap_done();
	f = fopen(to, "wb");
	for (int i = 0; f && i < 2 * BYTES; i++)
		putc('x', f);
	if (f)
		fclose(f);
	tap_ok(mn_copy_file_keep_mtime(from, to) == 0, "copied");
	tap_ok(same_bytes(from, to), "the same %d bytes (a longer file overwritten)", BYTES);
	tap_ok(same_mtime(from, to), "the original's modification time, to the nanosecond");
	snprintf(p, sizeof p, "%s/missing", base);
	errno = 0;
	tap_ok(mn_copy_file_keep_mtime(p, to) == -1 && errno == ENOENT,
	       "a missing original: -1, ENOENT (errno %d)", errno);
	errno = 0;
	tap_ok(mn_copy_file_keep_mtime(base, to) == -1 && errno == EINVAL,
	       "a directory: -1, EINVAL (errno %d)", errno);
	snprintf(p, sizeof p, "%s/no/such/dir", base);
	errno = 0;
	tap_ok(mn_copy_file_keep_mtime(from, p) == -1 && errno == ENOENT,
	       "into a missing directory: -1, ENOENT (errno %d)", errno);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", base);
	return tap_done();
}
