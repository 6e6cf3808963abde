/* Large working buffers backed by transparent huge pages where the kernel
 * offers them on request (Linux, THP "madvise" mode, the common default).
 *
 * Why: the NTK's workspaces are tens of megabytes that a fresh network
 * touches for the first time during its first evaluation, at 4 KB a page
 * some 30,000 page faults, each several microseconds in a virtual machine.
 * Measured on a 2-core VM (the search's supernet, C=3 N=1, exact NTK at
 * batch 32, one thread): the first NTK took 0.56 s against 0.19 s for
 * every later one, with 31,000 faults; with huge pages 1,200 faults and a
 * first NTK of 0.21-0.40 s (later ones unchanged).  Elsewhere (no
 * THP, other systems) this is an ordinary aligned allocation. */
#ifndef MN_HUGE_ALLOC_H
#define MN_HUGE_ALLOC_H
#include <stddef.h>

/* bytes of uninitialised memory, 2 MB aligned and advised for huge pages
 * when bytes >= 2 MB; NULL when out of memory.  Free with free(). */
void *mn_huge_alloc(size_t bytes);

#endif
