/* A string as one word of a POSIX shell command, for the paths in the
 * commands micronas prints for the user to paste ("build it with: ..."):
 * a path with a space or a quote must come back as one argument. */
#ifndef MN_SHELL_WORD_H
#define MN_SHELL_WORD_H
#include <stddef.h>

/* s itself when it holds only characters no shell treats specially, else
 * s in single quotes ('\'' for a quote inside; "" becomes '').  Writes at
 * most n bytes with the NUL and returns the length the whole word needs,
 * as snprintf does. */
int mn_shell_word(const char *s, char *buf, size_t n);

#endif
