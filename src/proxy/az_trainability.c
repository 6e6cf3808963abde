#include "proxy/az_trainability.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

double mn_az_trainability_block(const float *g_in, int ci, int hi, int wi, const float *g_out,
				int co, int ho, int wo, int b)
{
	if (!g_in || !g_out || b < 1 || ci < 1 || co < 1 || ho < 1 || wo < 1 || hi % ho ||
	    wi % wo || hi / ho != wi / wo)
		return NAN;
	if (ci == co && hi == ho && wi == wo) {
		/* value equality, as the authors' torch.all(g_in == g_out) */
		size_t q = 0, nq = (size_t)b * ci * hi * wi;
		while (q < nq && g_in[q] == g_out[q])
			q++;
		if (q == nq)
			return -INFINITY;
	}
	int s = hi / ho, cu = ci * s * s; /* channels after the pixel unshuffle */
	size_t hwo = (size_t)ho * wo, hwi = (size_t)hi * wi;
	double *M = calloc((size_t)cu * co, sizeof *M), *A = NULL, *ev = NULL, *U = NULL, *G = NULL;
	double out = NAN;
	if (!M)
		return NAN;
	/* M[u][o] = sum over (n, y, x) of g_in'[n][u][y][x] g_out[n][o][y][x],
	 * with u = c*s*s + dy*s + dx naming g_in[n][c][y*s+dy][x*s+dx] (the
	 * pixel unshuffle): per sample, M += U G^T with U [cu][hwo] the
	 * unshuffled g_in and G [co][hwo] g_out, in double. */
	U = malloc((size_t)cu * hwo * sizeof *U);
	G = malloc((size_t)co * hwo * sizeof *G);
	if (!U || !G)
		goto out;
	for (int n = 0; n < b; n++) {
		for (int c = 0; c < ci; c++)
			for (int dy = 0; dy < s; dy++)
				for (int dx = 0; dx < s; dx++) {
					const float *gi = g_in + ((size_t)n * ci + c) * hwi;
					double *u = U + (size_t)((c * s + dy) * s + dx) * hwo;
					for (int y = 0; y < ho; y++)
						for (int x = 0; x < wo; x++)
							u[(size_t)y * wo + x] = gi[(size_t)(y * s + dy) * wi + x * s + dx];
				}
		for (size_t q = 0; q < (size_t)co * hwo; q++)
			G[q] = g_out[(size_t)n * co * hwo + q];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cu, co, (int)hwo, 1.0, U, (int)hwo, G,
			    (int)hwo, 1.0, M, co);
	}
	/* sigma^2 = the largest eigenvalue of the smaller Gram matrix. */
	int k = cu < co ? cu : co;
	A = calloc((size_t)k * k, sizeof *A);
	ev = malloc((size_t)k * sizeof *ev);
	if (!A || !ev)
		goto out;
	double scale = 1.0 / ((double)b * hwo);
	for (int i = 0; i < k; i++)
		for (int j = 0; j <= i; j++) {
			double acc = 0;
			if (cu < co)
				for (int o = 0; o < co; o++)
					acc += M[(size_t)i * co + o] * M[(size_t)j * co + o];
			else
				for (int u = 0; u < cu; u++)
					acc += M[(size_t)u * co + i] * M[(size_t)u * co + j];
			A[(size_t)i * k + j] = A[(size_t)j * k + i] = acc * scale * scale;
		}
	if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', k, A, k, ev) != 0)
		goto out;
	double sigma = sqrt(ev[k - 1] > 0 ? ev[k - 1] : 0);
	out = -sigma - 1.0 / (sigma + 1e-6) + 2.0;
out:
	free(M);
	free(U);
	free(G);
	free(A);
	free(ev);
	return out;
}

double mn_az_trainability(const double *terms, int n)
{
	if (n < 1)
		return NAN;
	double sum = 0;
	for (int i = 0; i < n; i++) {
		if (isnan(terms[i]))
			return -INFINITY; /* the authors map a NaN score to -inf */
		sum += terms[i];
	}
	return sum / n;
}
