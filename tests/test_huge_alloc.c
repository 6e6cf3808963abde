/* mn_huge_alloc: small requests are plain allocations, large ones start
 * on a 2 MB boundary and every byte asked for is usable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/huge_alloc.h"
#include "tap.h"

int main(void)
{
	unsigned char *small = mn_huge_alloc(100);
	tap_ok(small != NULL, "100 bytes: allocated");
	if (small) {
		memset(small, 0xab, 100);
		tap_ok(small[99] == 0xab, "100 bytes: writable to the end");
	}
	free(small);
	unsigned char *zero = mn_huge_alloc(0);
	tap_ok(zero != NULL, "0 bytes: a pointer free() takes, not NULL (NULL means out of memory)");
	free(zero);
	/* 5 MB and one byte: not a whole number of huge pages */
	size_t n = ((size_t)5 << 20) + 1;
	unsigned char *big = mn_huge_alloc(n);
	tap_ok(big != NULL, "5 MB + 1: allocated");
	if (big) {
		tap_ok(((uintptr_t)big & (((uintptr_t)2 << 20) - 1)) == 0, "5 MB + 1: 2 MB aligned");
		memset(big, 0x5a, n);
		size_t bad = 0;
		for (size_t i = 0; i < n; i += 4093)
			bad += big[i] != 0x5a;
		tap_ok(bad == 0 && big[n - 1] == 0x5a, "5 MB + 1: every byte holds what was written");
	}
	free(big);
	tap_ok(mn_huge_alloc(SIZE_MAX - 4096) == NULL, "an impossible size: NULL, not a crash");
	return tap_done();
}
