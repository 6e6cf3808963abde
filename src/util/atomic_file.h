/* Replacing a file atomically: a reader (or a crash) sees either the old
 * file or the complete new one, never a partial file. */
#ifndef MN_ATOMIC_FILE_H
#define MN_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Writes the content into f; returns 0, or -1 (errno set if it can say why). */
typedef int (*mn_atomic_writer_fn)(FILE *f, void *user);

/* Writes path by calling fn on a temporary file in the same directory
 * (".NAME.tmpXXXXXX"), flushing and fsync()ing it, renaming it over path and
 * fsync()ing the directory.  On any failure the temporary file is removed,
 * path is left as it was, and err gets one line naming the file, the problem
 * and the fix.  A new file gets mode 0644; a replaced file keeps its mode. */
int mn_atomic_write(const char *path, mn_atomic_writer_fn fn, void *user, char *err, size_t errn);

/* Whether mn_atomic_write(path) could succeed, checked before a long job
 * computes what it will write: path is not a directory and a temporary file
 * can be created (and is removed at once) beside it, which also catches a
 * missing directory and a read-only file system even for root.  Returns 0,
 * or -1 with err as mn_atomic_write would word it.  A full disk can still
 * fail the write itself. */
int mn_atomic_check(const char *path, char *err, size_t errn);

#endif
