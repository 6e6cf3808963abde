/* See huge_alloc.h. */
#define _DEFAULT_SOURCE
#include "util/huge_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *mn_huge_alloc(size_t bytes)
{
	if (bytes < HUGE_PAGE)
		return malloc(bytes ? bytes : 1);
	void *p = NULL;
	if (bytes > SIZE_MAX - HUGE_PAGE)
		return NULL;
	/* whole huge pages, so that the tail is not a 4 KB remainder */
	size_t n = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	if (posix_memalign(&p, HUGE_PAGE, n) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	/* advice only: without THP the memory is ordinary pages */
	(void)madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}
