/* The set-up both conv^T kernels share (simd_target.h says what each
 * function does): the AVX2 kernel of simd_conv.c and the AVX-512 one of
 * simd_conv512.c carve their scratch, pack their weights, order their
 * images and fill their padded planes through these, so that the two give
 * the same bits.  In a file of their own so that neither kernel's file
 * depends on the other's for them. */
#include "nn/simd.h"

#include <stdint.h>
#include <string.h>

#include "nn/simd_target.h"

int mn_convT_cs3(const struct mn_convT_job *j)
{
	int cs3 = 0;
	while (cs3 < j->nin && j->in[cs3].k == 3)
		cs3++;
	return cs3;
}

size_t mn_convT_setup_floats(const struct mn_convT_job *j, int PP, int Cp, int lanes)
{
	/* every input counted as a 3x3 one: the bound for any cs3; lanes more
	 * for the planes' alignment */
	return (size_t)j->nin * PP + lanes + (size_t)j->nin * 9 * Cp + 5 * (size_t)lanes;
}

float *mn_convT_setup(const struct mn_convT_job *j, int cs3, int PP, int Cp, int lanes,
		      int aligned, const struct mn_simd_scratch *scr, float **wt)
{
	const int C = j->C;
	size_t npad = (size_t)j->nin * PP + lanes;
	float *pad = mn_scratch_floats(scr, mn_convT_setup_floats(j, PP, Cp, lanes));
	if (!pad)
		return NULL;
	/* pad[aligned] on a vector boundary: the fill's stores (and the centre
	 * taps' loads) then never straddle two cache lines */
	uintptr_t a = (uintptr_t)(pad + aligned), v = sizeof(float) * (uintptr_t)lanes;
	pad += (v - a % v) % v / sizeof(float);
	memset(pad, 0, sizeof(float) * npad);
	*wt = pad + npad;
	for (int co = 0; co < cs3; co++)
		for (int t = 0; t < 9; t++)
			for (int ci = 0; ci < Cp; ci++)
				(*wt)[((size_t)co * 9 + t) * Cp + ci] =
					ci < C ? j->in[co].w[(size_t)ci * 9 + t] : 0;
	for (int co = cs3; co < j->nin; co++)
		for (int ci = 0; ci < Cp; ci++)
			(*wt)[(size_t)cs3 * 9 * Cp + (size_t)(co - cs3) * Cp + ci] =
				ci < C ? j->in[co].w[ci] : 0;
	return pad;
}

void mn_convT_toff(int PW, int *toff)
{
	for (int t = 0; t < 9; t++)
		toff[t] = (2 - t / 3) * PW + (2 - t % 3);
}

int mn_convT_image(const struct mn_convT_job *j, int m0, int m1, int mm)
{
	int nq = j->nimg / j->nb;
	return m0 == 0 && m1 == j->nimg && nq > 1 ? (mm % nq) * j->nb + mm / nq : mm;
}

void mn_convT_planes(const struct mn_convT_job *j, int m, float *pad, int PW, int PP,
		     mn_convT_fill_fn fill)
{
	const int h = j->h, w = j->w, hw = h * w, n = m % j->nb;
	for (int co = 0; co < j->nin; co++) {
		const struct mn_convT_in *in = &j->in[co];
		const float *src = in->src + (size_t)m * hw;
		float *dst = pad + (size_t)co * PP + PW + 1;
		if (!in->coef) {
			for (int y = 0; y < h; y++)
				memcpy(dst + (size_t)y * PW, src + (size_t)y * w, sizeof(float) * w);
			continue;
		}
		const float *c = in->coef + (size_t)(m / j->nb) * 3;
		const float *xh = in->xhat ? in->xhat + (size_t)n * hw : NULL;
		fill(dst, PW, src, xh, h, w, c[0], c[1], xh ? c[2] : 0);
	}
}
