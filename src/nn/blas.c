/* The process-wide OpenBLAS thread count (see blas.h).  The only place in
 * the tree that calls openblas_set_num_threads. */
#include "nn/blas.h"

#include <cblas.h>

#include "util/pool.h"

void mn_blas_set_threads(int n)
{
	n = mn_threads_or_all(n);
	openblas_set_num_threads(n);
}

int mn_blas_get_threads(void)
{
	return openblas_get_num_threads();
}

const char *mn_blas_core(void)
{
	const char *c = openblas_get_corename();
	return c && *c ? c : "unknown";
}
