/* A seedable, deterministic PRNG (xoshiro256**, seeded through splitmix64).
 * The same seed gives the same stream on every platform; nothing in the
 * engine draws randomness from anywhere else. */
#ifndef MN_RNG_H
#define MN_RNG_H

#include <stdint.h>

struct mn_rng {
	uint64_t s[4];
};

void mn_rng_seed(struct mn_rng *r, uint64_t seed);
/* A child stream: deterministic in (parent seed state, tag), independent of
 * how much the parent has drawn since; used to give every repeat, candidate
 * or thread its own stream. */
void mn_rng_derive(struct mn_rng *child, uint64_t seed, uint64_t tag);
uint64_t mn_rng_u64(struct mn_rng *r);
/* Uniform in [0, n), without modulo bias. */
uint32_t mn_rng_below(struct mn_rng *r, uint32_t n);
/* Uniform in [0, 1) with 53 random bits. */
double mn_rng_uniform(struct mn_rng *r);
/* Standard normal (Box-Muller, no cached second value, so the stream
 * position depends only on the number of calls). */
double mn_rng_normal(struct mn_rng *r);

#endif
