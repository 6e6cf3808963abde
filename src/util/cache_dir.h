/* The one cache directory of micronas (the search's evaluation cache and
 * the atlas files live there): $XDG_CACHE_HOME/micronas, or
 * ~/.cache/micronas; a relative XDG_CACHE_HOME is ignored, as the XDG spec
 * says. */
#ifndef MN_CACHE_DIR_H
#define MN_CACHE_DIR_H

#include <stddef.h>

/* The directory into out[n]; 0, or -1 when neither variable gives one or
 * it does not fit. */
int mn_cache_dir(char *out, size_t n);

#endif
