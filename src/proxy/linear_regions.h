/* Linear-region counting (TE-NAS's expressivity proxy): the number of
 * distinct ReLU activation patterns a network shows over a set of inputs.
 *
 * Patterns are packed bits (net.h: mn_net_patterns); distinct ones are
 * counted exactly in linear time with an open-addressing hash set keyed by a
 * 64-bit hash, comparing the full packed pattern whenever hashes match.
 * TE-NAS's own counter builds a quadratic 0/1 matrix; the count is the same. */
#ifndef MN_LINEAR_REGIONS_H
#define MN_LINEAR_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#include "nn/net.h"

struct mn_patset;

/* A set of patterns of `words` 64-bit words each; NULL when out of memory. */
struct mn_patset *mn_patset_create(size_t words);
/* The same with another hash function (tests use a colliding one). */
struct mn_patset *mn_patset_create_hashed(size_t words,
					  uint64_t (*hash)(const uint64_t *pat, size_t words));
void mn_patset_free(struct mn_patset *s);
/* 1 if the pattern was new, 0 if already present, -1 when out of memory. */
int mn_patset_add(struct mn_patset *s, const uint64_t *pat);
size_t mn_patset_count(const struct mn_patset *s);
void mn_patset_clear(struct mn_patset *s);
/* The default hash. */
uint64_t mn_pattern_hash(const uint64_t *pat, size_t words);

/* TE-NAS's linear-region count: runs nbatches batches of nb inputs each
 * (x: [nbatches*nb][in][H][W], NCHW) through net in train mode (each batch
 * with its own BN statistics) and counts the distinct activation patterns
 * over all nbatches*nb samples.  The count, -1 on error, or
 * MN_LR_CANCELLED when the network's cancel flag (mn_net_set_cancel) was
 * seen before a batch. */
#define MN_LR_CANCELLED (-2L)
long mn_linear_regions_count(struct mn_net *net, const float *x, int nb, int nbatches);

#endif
