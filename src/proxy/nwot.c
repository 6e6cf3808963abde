#include "proxy/nwot.h"

#include <math.h>
#include <stdlib.h>

/* K's entries: nbits minus the Hamming distance of the two rows. */
static inline __attribute__((always_inline)) void hamming_kernel(const uint64_t *bits, size_t words,
								  size_t nbits, int batch, double *K)
{
	size_t full = nbits / 64, rest = nbits % 64;
	uint64_t tail = rest ? (~0ULL >> (64 - rest)) : 0;
	for (int i = 0; i < batch; i++) {
		K[(size_t)i * batch + i] = (double)nbits;
		for (int j = 0; j < i; j++) {
			const uint64_t *a = bits + (size_t)i * words, *b = bits + (size_t)j * words;
			size_t d = 0;
			for (size_t w = 0; w < full; w++)
				d += (size_t)__builtin_popcountll(a[w] ^ b[w]);
			if (rest)
				d += (size_t)__builtin_popcountll((a[full] ^ b[full]) & tail);
			K[(size_t)i * batch + j] = K[(size_t)j * batch + i] = (double)(nbits - d);
		}
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same with the POPCNT instruction: built for the baseline x86-64, the
 * compiler counts bits with a library call (__popcountdi2), which took
 * three times as long as the rest of the kernel. */
__attribute__((target("popcnt"))) static void kernel_popcnt(const uint64_t *bits, size_t words,
							    size_t nbits, int batch, double *K)
{
	hamming_kernel(bits, words, nbits, batch, K);
}
#endif

int mn_nwot_kernel(const uint64_t *bits, size_t words, size_t nbits, int batch, double *K)
{
	if (!bits || !K || batch < 1 || words * 64 < nbits)
		return -1;
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("popcnt")) {
		kernel_popcnt(bits, words, nbits, batch, K);
		return 0;
	}
#endif
	hamming_kernel(bits, words, nbits, batch, K);
	return 0;
}

double mn_logabsdet(double *K, int n)
{
	double s = 0;
	for (int c = 0; c < n; c++) {
		int p = c;
		for (int r = c + 1; r < n; r++)
			if (fabs(K[(size_t)r * n + c]) > fabs(K[(size_t)p * n + c]))
				p = r;
		if (K[(size_t)p * n + c] == 0)
			return -INFINITY;
		if (p != c)
			for (int k = 0; k < n; k++) {
				double t = K[(size_t)c * n + k];
				K[(size_t)c * n + k] = K[(size_t)p * n + k];
				K[(size_t)p * n + k] = t;
			}
		double piv = K[(size_t)c * n + c];
		s += log(fabs(piv));
		for (int r = c + 1; r < n; r++) {
			double f = K[(size_t)r * n + c] / piv;
			if (f != 0)
				for (int k = c + 1; k < n; k++)
					K[(size_t)r * n + k] -= f * K[(size_t)c * n + k];
		}
	}
	return s;
}

double mn_nwot_score(const uint64_t *bits, size_t words, size_t nbits, int batch)
{
	if (batch < 1)
		return NAN;
	double *K = malloc((size_t)batch * batch * sizeof *K);
	if (!K)
		return NAN;
	double s = mn_nwot_kernel(bits, words, nbits, batch, K) ? NAN : mn_logabsdet(K, batch);
	free(K);
	return s;
}
