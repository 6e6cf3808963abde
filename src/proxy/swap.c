#include "proxy/swap.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/linear_regions.h"

long mn_swap_score(const uint64_t *bits, size_t words, size_t nbits, int batch)
{
	if (!bits || batch < 1 || words * 64 < nbits)
		return -1;
	/* Unit b's pattern over the samples: sw words of 64 samples each. */
	size_t sw = ((size_t)batch + 63) / 64;
	uint64_t *pat = malloc(sw * sizeof *pat);
	struct mn_patset *set = mn_patset_create(sw);
	long count = -1;
	if (!pat || !set)
		goto out;
	for (size_t b = 0; b < nbits; b++) {
		memset(pat, 0, sw * sizeof *pat);
		for (int n = 0; n < batch; n++)
			if ((bits[(size_t)n * words + b / 64] >> (b % 64)) & 1)
				pat[n / 64] |= 1ULL << (n % 64);
		if (mn_patset_add(set, pat) < 0)
			goto out;
	}
	count = (long)mn_patset_count(set);
out:
	free(pat);
	mn_patset_free(set);
	return count;
}
