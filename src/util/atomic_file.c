#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary file must be in the target's directory: rename() is atomic
 * only within one file system. */
static char *temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = slash ? slash + 1 : path;
	size_t n = dirlen + 1 + strlen(base) + sizeof ".tmpXXXXXX";
	char *t = malloc(n);
	if (!t)
		return NULL;
	memcpy(t, path, dirlen);
	snprintf(t + dirlen, n - dirlen, ".%s.tmpXXXXXX", base);
	return t;
}

/* A new empty file beside path (temp_template), open for writing: its fd,
 * its name in *tmp (free it); or -1 with err saying that `what` ("a file",
 * "a temporary file") could not be created there. */
static int temp_open(const char *path, const char *what, char **tmp, char *err, size_t errn)
{
	*tmp = temp_template(path);
	if (!*tmp) {
		snprintf(err, errn, "%s: out of memory", path);
		return -1;
	}
	int fd = mkstemp(*tmp);
	if (fd < 0) {
		int saved = errno;
		snprintf(err, errn, "%s: cannot create %s beside it: %s (check that the directory exists and is writable)",
			 path, what, strerror(saved));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	return fd;
}

/* After the rename the new name lives in the directory entry; without this
 * fsync a crash could bring back the old name.  File systems that cannot
 * fsync a directory (EINVAL) give no stronger guarantee, so that is not an
 * error. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -1;
	int fd = open(dir, O_RDONLY);
	free(dir);
	if (fd < 0)
		return 0; /* the rename is done; durability is best effort here */
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	if (rc != 0 && saved != EINVAL && saved != EBADF) {
		errno = saved;
		return -1;
	}
	return 0;
}

int mn_atomic_check(const char *path, char *err, size_t errn)
{
	struct stat st;
	if (path[0] == '\0') {
		snprintf(err, errn, "empty file name (give a file name to write)");
		return -1;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errn, "%s: is a directory (give a file name to write)", path);
		return -1;
	}
	char *tmp;
	int fd = temp_open(path, "a file", &tmp, err, errn);
	if (fd < 0)
		return -1;
	/* Nothing was written: close and unlink cannot lose data here. */
	(void)close(fd);
	(void)unlink(tmp);
	free(tmp);
	return 0;
}

int mn_atomic_write(const char *path, mn_atomic_writer_fn fn, void *user, char *err, size_t errn)
{
	struct stat st;
	mode_t mode = 0644;
	int saved;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errn, "%s: is a directory (give a file name to write)", path);
			return -1;
		}
		mode = st.st_mode & 07777;
	}
	char *tmp;
	int fd = temp_open(path, "a temporary file", &tmp, err, errn);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		saved = errno;
		close(fd);
		goto fail_unlink;
	}
	errno = 0;
	if (fn(f, user) != 0) {
		saved = errno ? errno : EIO;
		fclose(f);
		goto fail_unlink;
	}
	if (fflush(f) != 0 || ferror(f) || fchmod(fileno(f), mode) != 0 || fsync(fileno(f)) != 0) {
		saved = errno ? errno : EIO;
		fclose(f);
		goto fail_unlink;
	}
	if (fclose(f) != 0) {
		saved = errno;
		goto fail_unlink;
	}
	if (rename(tmp, path) != 0) {
		saved = errno;
		goto fail_unlink;
	}
	free(tmp);
	if (sync_dir(path) != 0) {
		snprintf(err, errn, "%s: written, but syncing its directory failed: %s (check the disk)",
			 path, strerror(errno));
		return -1;
	}
	return 0;

fail_unlink:
	unlink(tmp);
	snprintf(err, errn, "%s: write failed: %s (check the disk space and the path; the old file, if any, is unchanged)",
		 path, strerror(saved));
	free(tmp);
	return -1;
}
