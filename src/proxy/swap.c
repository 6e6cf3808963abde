#include "proxy/swap.h"

#include <stdlib.h>

#include "proxy/linear_regions.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

long mn_swap_score(const uint64_t *bits, size_t words, size_t nbits, int batch)
{
	if (!bits || batch < 1 || words * 64 < nbits)
		return -1;
	/* pat[b*sw ...]: unit b's pattern over the samples, sw words of 64
	 * samples; filled word by word from the set bits of each sample. */
	size_t sw = ((size_t)batch + 63) / 64;
	uint64_t *pat = calloc(nbits * sw, sizeof *pat);
	struct mn_patset *set = mn_patset_create(sw);
	long count = -1;
	if (!pat || !set)
		goto out;
	for (int n = 0; n < batch; n++)
		for (size_t w = 0; w < words; w++) {
			uint64_t x = bits[(size_t)n * words + w];
			while (x) {
				size_t b = w * 64 + (size_t)__builtin_ctzll(x);
				x &= x - 1;
				if (b < nbits)
					pat[b * sw + (size_t)n / 64] |= 1ULL << (n % 64);
			}
		}
	if (sw == 1) { /* one word per pattern: sort and count the runs */
		qsort(pat, nbits, sizeof *pat, cmp_u64);
		count = nbits > 0;
		for (size_t b = 1; b < nbits; b++)
			count += pat[b] != pat[b - 1];
		goto out;
	}
	for (size_t b = 0; b < nbits; b++)
		if (mn_patset_add(set, pat + b * sw) < 0)
			goto out;
	count = (long)mn_patset_count(set);
out:
	free(pat);
	mn_patset_free(set);
	return count;
}
