/* Calibration; see calibrate.h. */
#include "export/calibrate.h"

#include <stdio.h>
#include <stdlib.h>

#include "data/cifar.h"
#include "export/fnet.h"
#include "util/rng.h"

void mn_calib_image(const struct mn_dataset *d, size_t i, const struct mn_net_shape *s, float *x)
{
	int H = s->height, W = mn_shape_width(s), C = mn_shape_input_channels(s);
	if (d->height == H && d->width == W && d->channels == C) {
		for (int c = 0; c < C; c++)
			for (int y = 0; y < H; y++)
				for (int xx = 0; xx < W; xx++)
					x[((size_t)c * H + y) * W + xx] = mn_dataset_value(d, i, c, y, xx);
		return;
	}
	/* CIFAR-10's statistics for the generated pixels, channel by channel
	 * in turn when there are not three */
	struct mn_rng r;
	mn_rng_seed(&r, 0x1234 + i);
	for (int c = 0; c < C; c++)
		for (int j = 0; j < H * W; j++)
			x[(size_t)c * H * W + j] =
				mn_cifar_normalize(c % 3, (unsigned char)mn_rng_below(&r, 256));
}

float mn_calib_mse_range(const double *hist, int bins, float hist_max)
{
	/* Suffix sums of n, n v and n v^2 over the bins above a candidate. */
	double s0 = 0, s1 = 0, s2 = 0, in = 0, best = -1;
	double w = (double)hist_max / bins;
	int jbest = bins - 1;
	for (int b = 0; b < bins; b++)
		in += hist[b];
	for (int j = bins - 1; j >= 0; j--) {
		double c = (j + 1) * w, s = c / 127.0;
		double e = in * s * s / 12.0 + s2 - 2.0 * c * s1 + c * c * s0;
		if (best < 0 || e < best)
			best = e, jbest = j;
		double v = (j + 0.5) * w;
		in -= hist[j];
		s0 += hist[j], s1 += hist[j] * v, s2 += hist[j] * v * v;
	}
	return (float)((jbest + 1) * w);
}

void mn_calib_free(struct mn_calib *c)
{
	for (int i = 0; i < c->nconv; i++) {
		if (c->patch_mean)
			free(c->patch_mean[i]);
		if (c->patch_cov)
			free(c->patch_cov[i]);
	}
	free(c->amax), free(c->range), free(c->patch_mean), free(c->patch_cov), free(c->pooled_mean);
	*c = (struct mn_calib){0};
}

int mn_calib_collect(struct mn_calib *c, const struct mn_fnet *f, const struct mn_dataset *d,
		     int n, char *err, size_t errn)
{
	const struct mn_net_shape *s = &f->shape;
	int rc = -1;
	int ns = mn_slot_count(s), nc = mn_fconv_count(s), cf = 4 * s->channels;
	*c = (struct mn_calib){0};
	if (n > (int)d->count)
		n = (int)d->count;
	c->images = n, c->nconv = nc;
	c->amax = calloc((size_t)ns, sizeof *c->amax);
	c->range = calloc((size_t)ns, sizeof *c->range);
	c->patch_mean = calloc((size_t)nc, sizeof *c->patch_mean);
	c->patch_cov = calloc((size_t)nc, sizeof *c->patch_cov);
	c->pooled_mean = calloc((size_t)cf, sizeof *c->pooled_mean);
	double *hist = calloc((size_t)ns * MN_HIST_BINS, sizeof *hist);
	float *x = malloc(sizeof(float) * mn_shape_input_values(s));
	float *lg = malloc(sizeof(float) * (size_t)s->classes);
	if (!c->amax || !c->range || !c->patch_mean || !c->patch_cov || !c->pooled_mean || !hist || !x || !lg) {
		snprintf(err, errn, "out of memory calibrating");
		goto out;
	}
	for (int i = 0; i < nc; i++) {
		const struct mn_fconv *cv = mn_fnet_conv(f, i);
		size_t K = cv ? (size_t)cv->cin * cv->k * cv->k : 0;
		if (cv && (!(c->patch_mean[i] = calloc(K, sizeof(double))) ||
			   !(c->patch_cov[i] = calloc(K * K, sizeof(float))))) {
			snprintf(err, errn, "out of memory calibrating");
			goto out;
		}
	}
	/* Pass 1: the largest magnitudes; pass 2: the histograms over them
	 * and the means (sums here). */
	for (int pass = 0; pass < 2; pass++) {
		struct mn_fnet_obs o = {0};
		if (pass == 0)
			o.amax = c->amax;
		else
			o.hist = hist, o.hist_max = c->amax, o.patch_sum = c->patch_mean,
			o.patch_cov = c->patch_cov, o.pooled_sum = c->pooled_mean;
		for (int i = 0; i < n; i++) {
			mn_calib_image(d, (size_t)i, s, x);
			if (mn_fnet_run(f, x, lg, &o) != 0) {
				snprintf(err, errn, "out of memory in the float forward");
				goto out;
			}
		}
	}
	for (int k = 0; k < ns; k++)
		c->range[k] = c->amax[k] > 0 ? mn_calib_mse_range(hist + (size_t)k * MN_HIST_BINS,
								   MN_HIST_BINS, c->amax[k])
					     : 0;
	for (int i = 0; i < nc; i++)
		if (c->patch_mean[i]) {
			const struct mn_fconv *cv = mn_fnet_conv(f, i);
			int K = cv->cin * cv->k * cv->k;
			for (int j = 0; j < K; j++)
				c->patch_mean[i][j] /= n > 0 ? n : 1;
			for (int j = 0; j < K * K; j++)
				c->patch_cov[i][j] /= n > 0 ? n : 1;
		}
	for (int k = 0; k < cf; k++)
		c->pooled_mean[k] /= n > 0 ? n : 1;
	rc = 0;
out:
	free(hist), free(x), free(lg);
	if (rc)
		mn_calib_free(c);
	return rc;
}

int mn_calibrate(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d, int n,
		 char *err, size_t errn)
{
	struct mn_calib c;
	if (mn_calib_collect(&c, f, d, n, err, errn) != 0)
		return -1;
	const struct mn_qcalib qc = {c.range, (const double *const *)c.patch_mean, c.pooled_mean,
				     (const float *const *)c.patch_cov};
	int rc = mn_quantize_calib(q, f, &qc);
	if (rc != 0)
		snprintf(err, errn, "out of memory quantizing");
	mn_calib_free(&c);
	return rc;
}
