/* LD_PRELOAD fault injection for test_write_faults when a small tmpfs
 * cannot be mounted (no mount namespace in CI): every write(), fflush()
 * and fsync() on a file under $MN_FAULT_DIR fails with ENOSPC, as on a full
 * disk.  (Running as root, chmod cannot make a directory unwritable.)
 * stdio's own writes go through libc's internal write and are not seen
 * here; the fflush() a writer checks is.  MN_FAULT_AFTER=N lets the first
 * N write() calls under the directory through (a disk that fills up part
 * way through a run, e.g. after the evaluation cache's header). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether fd is a file under $MN_FAULT_DIR (by its /proc name). */
static int faulty(int fd)
{
	const char *dir = getenv("MN_FAULT_DIR");
	char link[64], path[4096];
	if (!dir || !dir[0] || fd < 0)
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	size_t l = strlen(dir);
	return strncmp(path, dir, l) == 0 && path[l] == '/';
}

/* Whether this write under the directory should fail (after the first
 * $MN_FAULT_AFTER, counted over all threads). */
static int fail_now(void)
{
	static _Atomic long seen;
	const char *after = getenv("MN_FAULT_AFTER");
	long n = seen++;
	return !after || n >= atol(after);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	if (faulty(fd) && fail_now()) {
		errno = ENOSPC;
		return -1;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "write");
	return real ? real(fd, buf, n) : -1;
}

int fflush(FILE *f)
{
	static int (*real)(FILE *);
	if (f && faulty(fileno(f))) {
		errno = ENOSPC;
		return EOF;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fflush");
	return real ? real(f) : EOF;
}

int fsync(int fd)
{
	static int (*real)(int);
	if (faulty(fd)) {
		errno = ENOSPC;
		return -1;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	return real ? real(fd) : -1;
}
