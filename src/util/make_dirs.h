/* mkdir -p: a directory and every missing one above it. */
#ifndef MN_MAKE_DIRS_H
#define MN_MAKE_DIRS_H

/* Creates dir and its missing parents (mode 0755); one that exists is
 * fine.  0, or -1 with errno set by the mkdir() that failed. */
int mn_make_dirs(const char *dir);

#endif
