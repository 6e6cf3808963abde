/* SWAP, sample-wise activation patterns (Peng, Song, Leontidis, Weber,
 * Palade, "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS",
 * ICLR 2024, Sec. 3.2, Eq. 3, without the parameter-count regulariser of
 * Eq. 4, whose mu and sigma are set per search space):
 *
 *   Psi = | { (1[a_v(x_1) > 0], ..., 1[a_v(x_S) > 0]) : v a ReLU unit } |
 *
 * the number of distinct sample-wise patterns: each ReLU unit v of the
 * network gives one S-bit vector over the batch's samples, and SWAP counts
 * the distinct vectors (the linear-region count of TE-NAS transposed: that
 * one counts the distinct per-sample vectors over units). */
#ifndef MN_SWAP_H
#define MN_SWAP_H

#include <stddef.h>
#include <stdint.h>

/* SWAP of one batch of codes (bits[n*words + b/64] >> (b%64) = unit b of
 * sample n, nbits units, as mn_net_patterns packs them).  The count, or -1
 * on a bad argument or out of memory. */
long mn_swap_score(const uint64_t *bits, size_t words, size_t nbits, int batch);

#endif
