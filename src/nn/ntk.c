#include "nn/ntk.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Columns per float block: small enough that float rounding stays at the
 * level of one block's sum. */
#define MN_GRAM_BLOCK 4096

int mn_ntk_gram(const float *G, int B, size_t P, size_t ldg, double *K)
{
	if (B < 1)
		return -1;
	float *part = malloc(sizeof(float) * (size_t)B * B);
	if (!part)
		return -1;
	memset(K, 0, sizeof(double) * (size_t)B * B);
	for (size_t c0 = 0; c0 < P; c0 += MN_GRAM_BLOCK) {
		int nc = (int)(P - c0 < MN_GRAM_BLOCK ? P - c0 : MN_GRAM_BLOCK);
		cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, B, nc, 1.0f, G + c0, (int)ldg,
			    0.0f, part, B);
		for (int i = 0; i < B; i++)
			for (int j = i; j < B; j++)
				K[(size_t)i * B + j] += part[(size_t)i * B + j];
	}
	for (int i = 0; i < B; i++)
		for (int j = 0; j < i; j++)
			K[(size_t)i * B + j] = K[(size_t)j * B + i];
	free(part);
	return 0;
}

double mn_ntk_cond(const double *K, int B, double *eig)
{
	double cond = MN_NTK_BAD_COND;
	double *a = NULL, *w = NULL;
	if (eig)
		for (int i = 0; i < B; i++)
			eig[i] = NAN;
	if (B < 1)
		return cond;
	for (size_t i = 0; i < (size_t)B * B; i++)
		if (!isfinite(K[i]))
			return cond;
	a = malloc(sizeof(double) * (size_t)B * B);
	w = malloc(sizeof(double) * (size_t)B);
	if (!a || !w)
		goto out;
	memcpy(a, K, sizeof(double) * (size_t)B * B);
	if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', B, a, B, w) != 0)
		goto out;
	if (eig)
		memcpy(eig, w, sizeof(double) * (size_t)B);
	double r = w[B - 1] / w[0];
	if (isfinite(r))
		cond = r;
out:
	free(a);
	free(w);
	return cond;
}
