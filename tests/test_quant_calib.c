/* The int8 calibration's two corrections on cases worked by hand:
 * mn_calib_mse_range (the clipping range minimising the quantization MSE)
 * mn_qrow_shift (the bias correction's expected output shift) and GPTQ
 * (mn_gptq_factor, mn_gptq_row). */
#include <math.h>
#include <stdlib.h>

#include "export/calibrate.h"
#include "export/quantize.h"
#include "tap.h"

int main(void)
{
	enum { B = 2048 };
	double *h = calloc(B, sizeof *h);
	if (!h)
		return 1;

	/* |v| uniform on [0, 1]: MSE(r) = r^3 / (12 127^2) + (1 - r)^3 / 3,
	 * least where r^2 / (4 127^2) = (1 - r)^2, r = 254 / 255. */
	for (int b = 0; b < B; b++)
		h[b] = 1000;
	float r = mn_calib_mse_range(h, B, 1.0f);
	tap_ok(fabs(r - 254.0 / 255) <= 1.0 / B, "uniform values: range %.5f = 254/255 = %.5f within a bin",
	       r, 254.0 / 255);
	/* A range scales with the values: the same counts over [0, 4]. */
	float r4 = mn_calib_mse_range(h, B, 4.0f);
	tap_ok(fabs(r4 - 4 * r) < 1e-5, "the same shape over [0, 4]: range %.5f = 4 x %.5f", r4, r);

	/* n values at 0.01 and one at the last bin's centre v ~ 1: MSE(r) =
	 * n (r / 127)^2 / 12 + (v - r)^2, least at r = v / (1 + A), A = n /
	 * (12 127^2): a million small values clip the outlier to 0.16, a
	 * thousand barely (0.995). */
	double v = 1.0 - 0.5 / B;
	for (int k = 0; k < 2; k++) {
		double n = k ? 1e3 : 1e6;
		for (int b = 0; b < B; b++)
			h[b] = 0;
		h[(int)(0.01 * B)] = n;
		h[B - 1] = 1;
		double A = n / (12.0 * 127 * 127), want = v / (1 + A);
		r = mn_calib_mse_range(h, B, 1.0f);
		tap_ok(fabs(r - want) <= 1.0 / B,
		       "one outlier among %.0f small values: range %.5f = v/(1+A) = %.5f", n, r, want);
	}

	/* Bias correction: w = (1, 0.3, -0.5) at the row's scale 1/127 rounds
	 * 0.3 to 38/127 (off by -0.1/127) and keeps 1 and -0.5 (-63.5 rounds
	 * to -64: off by -0.5/127); inputs of mean (5, 2, 1) move the output
	 * by (-0.1 * 2 - 0.5 * 1) / 127. */
	const float w[3] = {1.0f, 0.3f, -0.5f};
	const double mean[3] = {5, 2, 1};
	double sh = mn_qrow_shift(w, 3, 1.0 / 127, mean), want_sh = (-0.1 * 2 - 0.5) / 127;
	tap_ok(fabs(sh - want_sh) < 1e-7, "row shift %.7f = -0.7/127 = %.7f", sh, want_sh);
	/* The corrected row's output on an input at its mean is the float
	 * row's. */
	double yf = 0, yq = 0;
	for (int i = 0; i < 3; i++) {
		yf += w[i] * mean[i];
		yq += rint(w[i] * 127.0) / 127.0 * mean[i];
	}
	tap_ok(fabs((yq - sh) - yf) < 1e-6, "rounded row minus the shift = float row at the mean (%.6f, %.6f)",
	       yq - sh, yf);

	/* GPTQ at the scale 1 on the row (0.4, 0.3).  Independent inputs
	 * (E[x x^T] = I): nothing to carry, plain rounding, (0, 0).  Equal
	 * inputs (E[x x^T] all ones; the lower triangle is not read): the
	 * first weight's error 0.4 moves into the second through the damped
	 * inverse, 0.3 + 0.4 / 1.01 = 0.696, which rounds to 1: the row's
	 * output on x = (1, 1) is 1 against 0.7 (plain rounding: 0). */
	const float row[2] = {0.4f, 0.3f}, eye[4] = {1, 0, 0, 1}, ones[4] = {1, 1, -7, 1};
	double U[4], tmp[2];
	int8_t qr[2];
	int ok = mn_gptq_factor(eye, 2, U) == 0;
	mn_gptq_row(row, 2, 1.0, U, tmp, qr);
	tap_ok(ok && qr[0] == 0 && qr[1] == 0, "GPTQ, independent inputs: (%d, %d) = plain rounding (0, 0)",
	       qr[0], qr[1]);
	ok = mn_gptq_factor(ones, 2, U) == 0;
	mn_gptq_row(row, 2, 1.0, U, tmp, qr);
	tap_ok(ok && qr[0] == 0 && qr[1] == 1 && fabs(tmp[1] - (0.3 + 0.4 / 1.01)) < 1e-6,
	       "GPTQ, equal inputs: the second weight carries the first's error, %.4f = 0.3 + 0.4/1.01, "
	       "(%d, %d) = (0, 1)", tmp[1], qr[0], qr[1]);
	free(h);
	return tap_done();
}
