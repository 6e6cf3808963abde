#include "util/rankstat.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static int has_nan(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isnan(v[i]))
			return 1;
	return 0;
}

/* Bottom-up merge sort of an index array by key(a) < key(b), stable, with
 * an O(n) scratch.  Written out (rather than qsort) because Kendall needs
 * the number of inversions the merges remove, and qsort has no context
 * pointer in C11. */
struct keys {
	const double *primary;   /* compared first */
	const double *secondary; /* may be NULL */
};

static int less(const struct keys *k, size_t a, size_t b)
{
	if (k->primary[a] != k->primary[b])
		return k->primary[a] < k->primary[b];
	return k->secondary && k->secondary[a] < k->secondary[b];
}

/* Sorts idx[0..n) and returns the number of inversions (pairs i < j with
 * idx[j] strictly before idx[i] in key order), i.e. the swaps bubble sort
 * would make. */
static uint64_t merge_sort(size_t *idx, size_t *tmp, size_t n, const struct keys *k)
{
	uint64_t swaps = 0;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi) {
				if (less(k, idx[j], idx[i])) {
					/* idx[j] jumps over the mid - i left elements. */
					swaps += mid - i;
					tmp[o++] = idx[j++];
				} else {
					tmp[o++] = idx[i++];
				}
			}
			while (i < mid)
				tmp[o++] = idx[i++];
			while (j < hi)
				tmp[o++] = idx[j++];
		}
		for (size_t i = 0; i < n; i++)
			idx[i] = tmp[i];
	}
	return swaps;
}

/* Number of pairs sharing a value in sorted order: sum of t(t-1)/2 over runs
 * of equal values (equal in v, and in w too when w is given). */
static uint64_t tied_pairs(const size_t *idx, size_t n, const double *v, const double *w)
{
	uint64_t pairs = 0, run = 1;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && v[idx[i]] == v[idx[i - 1]] && (!w || w[idx[i]] == w[idx[i - 1]])) {
			run++;
		} else {
			pairs += run * (run - 1) / 2;
			run = 1;
		}
	}
	return pairs;
}

/* The identity permutation of n positions to sort, and merge_sort's
 * scratch; -1 when out of memory (nothing left allocated). */
static int index_new(size_t n, size_t **idx, size_t **tmp)
{
	*idx = malloc(n * sizeof **idx);
	*tmp = malloc(n * sizeof **tmp);
	if (!*idx || !*tmp) {
		free(*idx);
		free(*tmp);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		(*idx)[i] = i;
	return 0;
}

/* The positions of v (no NaN) in ascending order, stable: *order (n
 * entries, the caller frees it).  0, or -1 for NaN or no memory. */
static int ascending_order(const double *v, size_t n, size_t **order)
{
	size_t *tmp;
	*order = NULL;
	if (has_nan(v, n))
		return -1;
	if (n == 0)
		return 0;
	if (index_new(n, order, &tmp))
		return -1;
	struct keys k = {v, NULL};
	merge_sort(*order, tmp, n, &k);
	free(tmp);
	return 0;
}

int mn_kendall_tau_b(const double *x, const double *y, size_t n, double *tau)
{
	if (n < 2 || has_nan(x, n) || has_nan(y, n))
		return -1;
	size_t *idx, *tmp;
	if (index_new(n, &idx, &tmp))
		return -1;
	/* Sort by (x, y): then a discordant pair is an inversion in y, and
	 * pairs tied in x are in y order so they count no inversion. */
	struct keys kxy = {x, y};
	merge_sort(idx, tmp, n, &kxy);
	uint64_t n1 = tied_pairs(idx, n, x, NULL); /* tied in x */
	uint64_t n3 = tied_pairs(idx, n, x, y);    /* tied in both */
	struct keys ky = {y, NULL};
	uint64_t swaps = merge_sort(idx, tmp, n, &ky); /* strict: ties in y not swapped */
	uint64_t n2 = tied_pairs(idx, n, y, NULL);     /* tied in y */
	free(idx);
	free(tmp);

	uint64_t n0 = (uint64_t)n * (n - 1) / 2;
	/* concordant - discordant = (n0 - n1 - n2 + n3) - 2 * discordant, where
	 * the untied-in-both pairs are n0 - n1 - n2 + n3. */
	double num = (double)n0 - (double)n1 - (double)n2 + (double)n3 - 2.0 * (double)swaps;
	double den = sqrt((double)(n0 - n1) * (double)(n0 - n2));
	*tau = den > 0 ? num / den : NAN;
	return 0;
}

int mn_rank_average(const double *v, size_t n, double *rank)
{
	size_t *idx;
	if (ascending_order(v, n, &idx))
		return -1;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && v[idx[j]] == v[idx[i]])
			j++;
		/* positions i..j-1 hold ranks i+1..j; their mean: */
		double r = (double)(i + 1 + j) / 2.0;
		for (size_t t = i; t < j; t++)
			rank[idx[t]] = r;
		i = j;
	}
	free(idx);
	return 0;
}

int mn_spearman_rho(const double *x, const double *y, size_t n, double *rho)
{
	if (n < 2 || has_nan(x, n) || has_nan(y, n))
		return -1;
	double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
	if (!rx || !ry || mn_rank_average(x, n, rx) != 0 || mn_rank_average(y, n, ry) != 0) {
		free(rx);
		free(ry);
		return -1;
	}
	/* Pearson on the ranks; the mean rank is (n+1)/2 exactly. */
	double m = (n + 1) / 2.0, sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		double a = rx[i] - m, b = ry[i] - m;
		sxy += a * b;
		sxx += a * a;
		syy += b * b;
	}
	free(rx);
	free(ry);
	*rho = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
	return 0;
}

int mn_rank_dense(const double *v, size_t n, enum mn_rank_dir dir, int *rank)
{
	size_t *idx;
	if (ascending_order(v, n, &idx))
		return -1;
	/* Walk from the best end: ascending order for LOW_BEST, descending
	 * for HIGH_BEST. */
	int r = 0;
	for (size_t t = 0; t < n; t++) {
		size_t pos = dir == MN_RANK_LOW_BEST ? t : n - 1 - t;
		size_t prev = dir == MN_RANK_LOW_BEST ? pos - 1 : pos + 1;
		if (t == 0 || v[idx[pos]] != v[idx[prev]])
			r++;
		rank[idx[pos]] = r;
	}
	free(idx);
	return 0;
}
