#include "proxy/az_expressivity.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

double mn_az_feature_entropy(const float *feat, int b, int c, int h, int w)
{
	if (!feat || b < 1 || c < 1 || h < 1 || w < 1)
		return NAN;
	size_t hw = (size_t)h * w, rows = (size_t)b * hw;
	double *mean = calloc((size_t)c, sizeof *mean);
	double *cov = calloc((size_t)c * c, sizeof *cov), *ev = malloc((size_t)c * sizeof *ev);
	double *X = malloc((size_t)c * hw * sizeof *X);
	double s = NAN;
	if (!mean || !cov || !ev || !X)
		goto out;
	/* Sigma = sum over rows of (x - m)(x - m)^T / rows, a row being one pixel
	 * of one sample: per sample, X [c][hw] centred, Sigma += X X^T. */
	for (int n = 0; n < b; n++)
		for (int k = 0; k < c; k++) {
			const float *p = feat + ((size_t)n * c + k) * hw;
			for (size_t q = 0; q < hw; q++)
				mean[k] += p[q];
		}
	for (int k = 0; k < c; k++)
		mean[k] /= (double)rows;
	for (int n = 0; n < b; n++) {
		for (int k = 0; k < c; k++) {
			const float *p = feat + ((size_t)n * c + k) * hw;
			for (size_t q = 0; q < hw; q++)
				X[(size_t)k * hw + q] = p[q] - mean[k];
		}
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, c, (int)hw, 1.0, X, (int)hw, 1.0,
			    cov, c);
	}
	for (int i = 0; i < c; i++)
		for (int j = 0; j <= i; j++)
			cov[(size_t)j * c + i] = cov[(size_t)i * c + j] /= (double)rows;
	if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', c, cov, c, ev) != 0)
		goto out;
	double tot = 0;
	for (int k = 0; k < c; k++) {
		if (ev[k] < 0)
			ev[k] = 0;
		tot += ev[k];
	}
	/* A feature with no variance at all (a block fed only by "none" ops
	 * carries exact zeros) has no spectrum: NaN, as 0/0 is in the authors'
	 * code. */
	if (tot > 0) {
		s = 0;
		for (int k = 0; k < c; k++) {
			double p = ev[k] / tot;
			s -= p * log(p + 1e-8);
		}
	}
out:
	free(mean);
	free(cov);
	free(ev);
	free(X);
	return s;
}

void mn_az_expressivity(const double *s, int n, double *expressivity, double *progressivity)
{
	double sum = 0, prog = INFINITY;
	for (int l = 0; l < n; l++) {
		if (isnan(s[l])) {
			/* the authors' code: a NaN score becomes -inf */
			*expressivity = *progressivity = -INFINITY;
			return;
		}
		sum += s[l];
		if (l > 0 && s[l] - s[l - 1] < prog)
			prog = s[l] - s[l - 1];
	}
	*expressivity = sum;
	*progressivity = n >= 2 ? prog : NAN;
}
