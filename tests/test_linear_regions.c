/* Linear-region counting: the hashed distinct count against brute-force
 * pairwise comparison, exactness under hash collisions, the pattern bit
 * layout, and the degenerate cases. */
#include <stdlib.h>
#include <string.h>

#include "proxy/linear_regions.h"
#include "nn/blas.h"
#include "nn/net.h"
#include "util/rng.h"
#include "tap.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

/* distinct rows by pairwise comparison: row i counts if no earlier row equals it */
static size_t brute(const uint64_t *p, size_t n, size_t words)
{
	size_t d = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < i && memcmp(p + j * words, p + i * words, sizeof(uint64_t) * words) != 0)
			j++;
		d += j == i;
	}
	return d;
}

/* TE-NAS's formula: sum over samples of 1 / (number of samples with the same pattern) */
static double tenas_formula(const uint64_t *p, size_t n, size_t words)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		size_t same = 0;
		for (size_t j = 0; j < n; j++)
			same += memcmp(p + j * words, p + i * words, sizeof(uint64_t) * words) == 0;
		s += 1.0 / same;
	}
	return s;
}

static uint64_t const_hash(const uint64_t *pat, size_t words)
{
	(void)pat;
	(void)words;
	return 42;
}

static void test_set(void)
{
	struct mn_rng rng;
	mn_rng_seed(&rng, 1);
	size_t n = 5000, words = 3;
	uint64_t *p = xmalloc(sizeof(uint64_t) * n * words);
	for (size_t i = 0; i < n; i++)
		for (size_t w = 0; w < words; w++)
			/* few distinct values so there are many duplicates */
			p[i * words + w] = mn_rng_below(&rng, w == 1 ? 40 : 3);
	struct mn_patset *s = mn_patset_create(words);
	int news = 0;
	for (size_t i = 0; i < n; i++)
		news += mn_patset_add(s, p + i * words) == 1;
	size_t want = brute(p, n, words);
	tap_ok(mn_patset_count(s) == want && (size_t)news == want,
	       "hash set counts %zu distinct of %zu patterns (brute force %zu)", mn_patset_count(s), n,
	       want);
	mn_patset_clear(s);
	tap_ok(mn_patset_count(s) == 0 && mn_patset_add(s, p) == 1, "clear empties the set");
	mn_patset_free(s);

	/* every hash collides: the full compare keeps the count exact */
	s = mn_patset_create_hashed(words, const_hash);
	for (size_t i = 0; i < 600; i++)
		mn_patset_add(s, p + i * words);
	size_t w2 = brute(p, 600, words);
	tap_ok(mn_patset_count(s) == w2, "all hashes colliding: still exact (%zu = %zu)",
	       mn_patset_count(s), w2);
	mn_patset_free(s);
	free(p);
}

static struct mn_net *thin(const unsigned char *mask, uint64_t seed, enum mn_init_mode mode)
{
	struct mn_net_config cfg;
	mn_net_config_thin(&cfg);
	struct mn_net *net = mn_net_create(&cfg);
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	if (mask)
		mn_net_set_mask(net, mask);
	mn_net_init(net, &rng, mode);
	return net;
}

static float *inputs(size_t n, uint64_t seed)
{
	struct mn_rng rng;
	mn_rng_seed(&rng, seed);
	float *x = xmalloc(sizeof(float) * n);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)mn_rng_normal(&rng);
	return x;
}

static void test_counts(void)
{
	static const unsigned char sup[MN_EDGES] = {MN_MASK_NO_NONE, MN_MASK_NO_NONE, MN_MASK_NO_NONE,
						    MN_MASK_NO_NONE, MN_MASK_NO_NONE, MN_MASK_NO_NONE};
	int sizes[2] = {60, 1000};
	for (int t = 0; t < 2; t++) {
		int nb = sizes[t], nbatch = 3;
		struct mn_net *net = thin(sup, 7 + t, t ? MN_INIT_CODE : MN_INIT_PAPER);
		size_t bits = mn_net_pattern_bits(net), words = (bits + 63) / 64;
		float *x = inputs((size_t)nb * nbatch * 9, 100 + t);
		uint64_t *all = xmalloc(sizeof(uint64_t) * words * nb * nbatch);
		for (int b = 0; b < nbatch; b++) {
			mn_net_forward(net, x + (size_t)b * nb * 9, nb, NULL);
			mn_net_patterns(net, all + (size_t)b * nb * words, words);
		}
		size_t want = brute(all, (size_t)nb * nbatch, words);
		long got = mn_linear_regions_count(net, x, nb, nbatch);
		double tf = tenas_formula(all, (size_t)nb * nbatch, words);
		tap_ok(got == (long)want && (size_t)(tf + 0.5) == want,
		       "thin supernet, %d batches of %d: %ld regions (brute force %zu, TE-NAS formula "
		       "%.3f), %zu pattern bits",
		       nbatch, nb, got, want, tf, bits);
		if (t == 0) {
			/* bit layout: node 0 is the input (no stem), its ReLU comes first */
			int bad = 0;
			for (int n = 0; n < nb; n++)
				for (int i = 0; i < 9; i++)
					bad += (int)((all[(size_t)(2 * nb + n) * words] >> i) & 1) !=
					       (x[(size_t)(2 * nb + n) * 9 + i] > 0);
			tap_ok(bits == 36 && bad == 0,
			       "pattern starts with the input node's ReLU signs (%d bad), 4 x 9 bits",
			       bad);
		}
		free(x);
		free(all);
		mn_net_free(net);
	}

	/* identical inputs: every pattern the same */
	struct mn_net *net = thin(sup, 3, MN_INIT_CODE);
	float *x = inputs(9, 5), *rep = xmalloc(sizeof(float) * 9 * 500);
	for (int i = 0; i < 500; i++)
		memcpy(rep + i * 9, x, sizeof(float) * 9);
	long c = mn_linear_regions_count(net, rep, 250, 2);
	tap_ok(c == 1, "identical inputs give 1 region (%ld)", c);
	mn_net_free(net);

	/* no conv op: only the final ReLU's 9 bits */
	unsigned char pool_skip[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		pool_skip[e] = (1u << MN_OP_SKIP) | (1u << MN_OP_POOL3);
	net = thin(pool_skip, 4, MN_INIT_CODE);
	float *y = inputs(9 * 300, 6);
	c = mn_linear_regions_count(net, y, 100, 3);
	tap_ok(mn_net_pattern_bits(net) == 9 && c >= 1 && c <= 512,
	       "skip/pool-only cell: 9 pattern bits, %ld regions", c);
	tap_ok(mn_linear_regions_count(net, y, 0, 3) == -1, "empty batch refused");
	free(x);
	free(rep);
	free(y);
	mn_net_free(net);

	/* fewer ops, fewer regions (a sanity trend, not a law: the same input) */
	net = thin(sup, 8, MN_INIT_CODE);
	float *z = inputs(9 * 3000, 9);
	long full = mn_linear_regions_count(net, z, 1000, 3);
	unsigned char one[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		one[e] = 1u << MN_OP_SKIP;
	one[0] = 1u << MN_OP_CONV3;
	mn_net_set_mask(net, one);
	long few = mn_linear_regions_count(net, z, 1000, 3);
	long again = mn_linear_regions_count(net, z, 1000, 3);
	tap_ok(few < full && few == again, "3000 crops: supernet %ld regions, one conv %ld, repeatable",
	       full, few);
	free(z);
	mn_net_free(net);
}

int main(void)
{
	mn_blas_set_threads(1);
	test_set();
	test_counts();
	return tap_done();
}
