/* cp -p, for one file's bytes and modification time. */
#ifndef MN_COPY_FILE_H
#define MN_COPY_FILE_H

/* Copies the regular file from to to (created mode 0644, or truncated),
 * then gives the copy from's modification time, so that make compares the
 * copy with its sources as it compared the original.  0, or -1 with errno
 * set by the call that failed (to may then be left cut short). */
int mn_copy_file_keep_mtime(const char *from, const char *to);

#endif
