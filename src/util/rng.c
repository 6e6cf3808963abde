#include "util/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void mn_rng_seed(struct mn_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

void mn_rng_derive(struct mn_rng *child, uint64_t seed, uint64_t tag)
{
	uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;
	uint64_t mixed = splitmix64(&x) ^ (tag * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
	mn_rng_seed(child, mixed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mn_rng_u64(struct mn_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint32_t mn_rng_below(struct mn_rng *r, uint32_t n)
{
	/* Lemire's multiply-and-reject. */
	uint64_t m = (uint64_t)(uint32_t)(mn_rng_u64(r) >> 32) * n;
	uint32_t low = (uint32_t)m;
	if (low < n) {
		uint32_t threshold = (uint32_t)(-n) % n;
		while (low < threshold) {
			m = (uint64_t)(uint32_t)(mn_rng_u64(r) >> 32) * n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

double mn_rng_uniform(struct mn_rng *r)
{
	return (double)(mn_rng_u64(r) >> 11) * 0x1.0p-53;
}

double mn_rng_normal(struct mn_rng *r)
{
	double u1 = mn_rng_uniform(r), u2 = mn_rng_uniform(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
