/* One file's bytes and modification time; see copy_file.h. */
#include "util/copy_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* All of buf to fd, through short writes and signals. */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int mn_copy_file_keep_mtime(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	struct stat st;
	int e = fstat(in, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : 0;
	if (e) {
		close(in);
		errno = e;
		return -1;
	}
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		e = errno;
		close(in);
		errno = e;
		return -1;
	}
	char buf[65536];
	int rc = 0;
	for (;;) {
		ssize_t r = read(in, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		if (write_all(out, buf, (size_t)r) != 0) {
			rc = -1;
			break;
		}
	}
	/* The access time is left as it is (UTIME_OMIT); make reads only the
	 * modification time. */
	struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, st.st_mtim};
	if (rc == 0 && futimens(out, times) != 0)
		rc = -1;
	e = errno;
	if (close(out) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	close(in);
	errno = e;
	return rc;
}
