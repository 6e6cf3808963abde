#include "proxy/linear_regions.h"

#include <stdlib.h>
#include <string.h>

struct mn_patset {
	size_t words;
	uint64_t (*hash)(const uint64_t *, size_t);
	uint64_t *pats; /* count * words */
	size_t count, pcap;
	uint64_t *keys;   /* hash per slot */
	uint32_t *slot;   /* pattern index + 1 per slot, 0 = empty */
	size_t mask;      /* table size - 1 (a power of two) */
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t mn_pattern_hash(const uint64_t *pat, size_t words)
{
	uint64_t h = 0x243f6a8885a308d3ULL ^ words;
	for (size_t i = 0; i < words; i++)
		h = mix64(h ^ (pat[i] + 0x9e3779b97f4a7c15ULL * (i + 1)));
	return h;
}

struct mn_patset *mn_patset_create_hashed(size_t words,
					  uint64_t (*hash)(const uint64_t *pat, size_t words))
{
	if (words < 1)
		return NULL;
	struct mn_patset *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->words = words;
	s->hash = hash ? hash : mn_pattern_hash;
	s->mask = 1023;
	s->keys = malloc(sizeof(uint64_t) * (s->mask + 1));
	s->slot = calloc(s->mask + 1, sizeof(uint32_t));
	if (!s->keys || !s->slot) {
		mn_patset_free(s);
		return NULL;
	}
	return s;
}

struct mn_patset *mn_patset_create(size_t words)
{
	return mn_patset_create_hashed(words, NULL);
}

void mn_patset_free(struct mn_patset *s)
{
	if (!s)
		return;
	free(s->pats);
	free(s->keys);
	free(s->slot);
	free(s);
}

size_t mn_patset_count(const struct mn_patset *s)
{
	return s->count;
}

void mn_patset_clear(struct mn_patset *s)
{
	s->count = 0;
	memset(s->slot, 0, sizeof(uint32_t) * (s->mask + 1));
}

static int grow(struct mn_patset *s)
{
	size_t n = (s->mask + 1) * 2;
	uint64_t *keys = malloc(sizeof(uint64_t) * n);
	uint32_t *slot = calloc(n, sizeof(uint32_t));
	if (!keys || !slot) {
		free(keys);
		free(slot);
		return -1;
	}
	for (size_t i = 0; i <= s->mask; i++) {
		if (!s->slot[i])
			continue;
		size_t j = s->keys[i] & (n - 1);
		while (slot[j])
			j = (j + 1) & (n - 1);
		keys[j] = s->keys[i];
		slot[j] = s->slot[i];
	}
	free(s->keys);
	free(s->slot);
	s->keys = keys;
	s->slot = slot;
	s->mask = n - 1;
	return 0;
}

int mn_patset_add(struct mn_patset *s, const uint64_t *pat)
{
	uint64_t h = s->hash(pat, s->words);
	size_t i = h & s->mask;
	while (s->slot[i]) {
		if (s->keys[i] == h &&
		    memcmp(s->pats + (size_t)(s->slot[i] - 1) * s->words, pat,
			   sizeof(uint64_t) * s->words) == 0)
			return 0;
		i = (i + 1) & s->mask;
	}
	if (s->count >= UINT32_MAX - 1)
		return -1;
	if (s->count == s->pcap) {
		size_t nc = s->pcap ? s->pcap * 2 : 1024;
		uint64_t *p = realloc(s->pats, sizeof(uint64_t) * s->words * nc);
		if (!p)
			return -1;
		s->pats = p;
		s->pcap = nc;
	}
	memcpy(s->pats + s->count * s->words, pat, sizeof(uint64_t) * s->words);
	s->keys[i] = h;
	s->slot[i] = (uint32_t)(++s->count);
	if (2 * s->count > s->mask + 1 && grow(s) != 0)
		return -1;
	return 1;
}

long mn_linear_regions_count(struct mn_net *net, const float *x, int nb, int nbatches)
{
	const struct mn_net_config *cfg = mn_net_get_config(net);
	size_t words = (mn_net_pattern_bits(net) + 63) / 64;
	size_t in = (size_t)cfg->in_channels * cfg->H * cfg->W;
	if (nb < 1 || nbatches < 1)
		return -1;
	if (words == 0)
		words = 1;
	uint64_t *bits = malloc(sizeof(uint64_t) * words * nb);
	struct mn_patset *set = mn_patset_create(words);
	long result = bits && set ? 0 : -1;
	for (int b = 0; result == 0 && b < nbatches; b++) {
		if (mn_net_cancelled(net)) {
			result = MN_LR_CANCELLED;
			break;
		}
		int rc = mn_net_forward(net, x + (size_t)b * nb * in, nb, NULL);
		if (rc == MN_NET_CANCELLED) {
			result = MN_LR_CANCELLED;
			break;
		}
		if (rc != 0 || mn_net_patterns(net, bits, words) != 0)
			result = -1;
		for (int n = 0; result == 0 && n < nb; n++)
			if (mn_patset_add(set, bits + (size_t)n * words) < 0)
				result = -1;
	}
	if (result == 0)
		result = (long)mn_patset_count(set);
	free(bits);
	mn_patset_free(set);
	return result;
}
