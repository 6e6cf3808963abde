#include "proxy/swap.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/linear_regions.h"

/* keys[0..n) in ascending order, by an LSD radix sort of 11 bits a pass
 * (six passes; one where every key has the same digit is skipped) through
 * tmp[n]; returns the array that holds them (keys or tmp).  Why not qsort:
 * its comparison call per step made this sort 2% of an atlas row. */
static uint64_t *radix_sort(uint64_t *keys, uint64_t *tmp, size_t n)
{
	enum { BITS = 11, BUCKETS = 1 << BITS };
	size_t start[BUCKETS];
	uint64_t *src = keys, *dst = tmp;
	for (int shift = 0; shift < 64 && n > 0; shift += BITS) {
		memset(start, 0, sizeof start);
		for (size_t i = 0; i < n; i++)
			start[(src[i] >> shift) & (BUCKETS - 1)]++;
		if (start[(src[0] >> shift) & (BUCKETS - 1)] == n)
			continue;
		size_t sum = 0;
		for (int d = 0; d < BUCKETS; d++) {
			size_t c = start[d];
			start[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[start[(src[i] >> shift) & (BUCKETS - 1)]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	return src;
}

long mn_swap_score(const uint64_t *bits, size_t words, size_t nbits, int batch)
{
	if (!bits || batch < 1 || words * 64 < nbits)
		return -1;
	/* pat[b*sw ...]: unit b's pattern over the samples, sw words of 64
	 * samples; filled word by word from the set bits of each sample. */
	size_t sw = ((size_t)batch + 63) / 64;
	/* one word a pattern: room for the radix sort's second array after it */
	uint64_t *pat = calloc(nbits * sw * (sw == 1 ? 2 : 1), sizeof *pat);
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
		const uint64_t *sorted = radix_sort(pat, pat + nbits, nbits);
		count = nbits > 0;
		for (size_t b = 1; b < nbits; b++)
			count += sorted[b] != sorted[b - 1];
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
