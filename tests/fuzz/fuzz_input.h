/* Shared by the libFuzzer targets of file parsers: the parsers take a path,
 * so each input is written to an in-memory file (memfd) and its
 * /proc/self/fd path handed over; and every refusal must be one non-empty
 * line, as the tool's error rule says. */
#ifndef MN_FUZZ_INPUT_H
#define MN_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The memfd's path in path[n]; returns the fd to close, or -1. */
static inline int fuzz_input_file(const uint8_t *data, size_t size, char *path, size_t n)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	snprintf(path, n, "/proc/self/fd/%d", fd);
	return fd;
}

/* A refusal's message: non-empty, one line, NUL-terminated within n. */
static inline void fuzz_check_error(const char *err, size_t n)
{
	if (memchr(err, '\0', n) == NULL || err[0] == '\0' || strchr(err, '\n'))
		abort();
}

#endif
