/* Joining strings into a new heap string (paths, mostly). */
#ifndef MN_STR_JOIN_H
#define MN_STR_JOIN_H

/* a + b (+ c, when not NULL): a heap string (free it), or NULL when out of
 * memory. */
char *mn_str_join(const char *a, const char *b, const char *c);

#endif
