/* The NTK Gram matrix and its condition number (TE-NAS's trainability
 * proxy).  The per-sample gradients come from net.h. */
#ifndef MN_NTK_H
#define MN_NTK_H

#include <stddef.h>

/* What a NaN (or otherwise non-finite) condition number counts as. */
#define MN_NTK_BAD_COND 100000.0

/* K[B][B] (row-major, both triangles) = G G^T for G [B][P] with row stride
 * ldg.  Float G is multiplied in float blocks of columns and summed in
 * double.  0, or -1 when out of memory. */
int mn_ntk_gram(const float *G, int B, size_t P, size_t ldg, double *K);

/* Largest / smallest eigenvalue of the symmetric K (LAPACKE_dsyevd, double);
 * MN_NTK_BAD_COND when K has a non-finite entry, the solver fails or the
 * ratio is not finite.  eig (optional) receives the B eigenvalues in
 * ascending order (NaN when they could not be computed).  K is not
 * modified. */
double mn_ntk_cond(const double *K, int B, double *eig);

#endif
