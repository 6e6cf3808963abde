/* NWOT, "neural architecture search without training" (Mellor, Turner,
 * Storkey, Crowley, ICML 2021, Sec. 3, Eq. 2):
 *
 *   K_H[i][j] = N_A - d_H(c_i, c_j),   score = log |det K_H|
 *
 * where c_i is sample i's binary code (1 where a ReLU unit is active) over
 * the N_A ReLU units of the network and d_H the Hamming distance: K_H counts
 * the units on which two samples agree.  Codes are the packed patterns of
 * net.h (mn_net_patterns), so the score costs one forward. */
#ifndef MN_NWOT_H
#define MN_NWOT_H

#include <stddef.h>
#include <stdint.h>

/* K_H [batch][batch] of the codes bits[n*words ...] (nbits units, packed as
 * mn_net_patterns does; bits past nbits are ignored).  0, or -1 on a bad
 * argument. */
int mn_nwot_kernel(const uint64_t *bits, size_t words, size_t nbits, int batch, double *K);

/* log |det K| of a [n][n] matrix (LU with partial pivoting in double; K is
 * overwritten); -INFINITY when K is singular. */
double mn_logabsdet(double *K, int n);

/* The NWOT score of one batch of codes: log |det K_H|; NaN on a bad
 * argument or out of memory. */
double mn_nwot_score(const uint64_t *bits, size_t words, size_t nbits, int batch);

#endif
