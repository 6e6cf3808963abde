/* Rank statistics: how well a proxy's ordering of archs agrees with their
 * accuracy (Kendall tau-b, Spearman rho), and TE-NAS's dense ranking used to
 * combine proxies.  NaN is not a value anyone can rank: every function
 * refuses it (returns -1), and callers map NaN first (TE-NAS maps a NaN
 * condition number to 100000). */
#ifndef MN_RANKSTAT_H
#define MN_RANKSTAT_H

#include <stddef.h>

enum mn_rank_dir {
	MN_RANK_HIGH_BEST = 0, /* the largest value gets rank 1 */
	MN_RANK_LOW_BEST = 1   /* the smallest value gets rank 1 */
};

/* Kendall's tau-b of the pairs (x[i], y[i]), with ties, in O(n log n)
 * (Knight's algorithm: sort by x then y, count discordant pairs as merge-sort
 * swaps on y).  *tau = NaN when x or y is constant (tau-b is undefined).
 * Returns 0, or -1 for NaN input, n < 2 or no memory. */
int mn_kendall_tau_b(const double *x, const double *y, size_t n, double *tau);

/* Spearman's rho: Pearson correlation of the average ranks (ties share the
 * mean of the ranks they span).  *rho = NaN when x or y is constant.
 * Returns 0, or -1 for NaN input, n < 2 or no memory. */
int mn_spearman_rho(const double *x, const double *y, size_t n, double *rho);

/* Average ranks, 1-based, smallest value = rank 1; ties get the mean of
 * their ranks (1, 2.5, 2.5, 4).  Returns 0 or -1 (NaN, no memory). */
int mn_rank_average(const double *v, size_t n, double *rank);

/* TE-NAS's ranking: rank 1 = best in the given direction; equal values
 * share a rank and the next distinct value gets the next rank (dense:
 * 1, 2, 2, 3).  Returns 0 or -1 (NaN, no memory). */
int mn_rank_dense(const double *v, size_t n, enum mn_rank_dir dir, int *rank);

#endif
