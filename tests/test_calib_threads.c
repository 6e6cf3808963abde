/* Calibration and deploy's int8-against-float measure shared among
 * threads (calibrate.h, agreement.h): 1, 2 and 3 threads give the same
 * numbers bit for bit, so deploy and validate --weights make the same
 * model whatever the thread count; and what they compute is what a plain
 * loop over the images computes (the reference: the largest magnitudes
 * exactly, the means to float rounding, the top-1s exactly). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/dataset_source.h"
#include "export/agreement.h"
#include "export/calibrate.h"
#include "export/fnet.h"
#include "export/quantize.h"
#include "rand_weights.h"
#include "tap.h"
#include "util/rng.h"

#define ARCH "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"
#define CALIB 40 /* three parts of calibrate.c's 16: 16, 16 and 8 */
#define EVAL 16
#define KEEP 6

/* 1 when a and b hold the same numbers, bit for bit. */
static int same_calib(const struct mn_calib *a, const struct mn_calib *b, int ns, int cf,
		      const struct mn_fnet *f)
{
	if (memcmp(a->amax, b->amax, sizeof(float) * ns) ||
	    memcmp(a->range, b->range, sizeof(float) * ns) ||
	    memcmp(a->pooled_mean, b->pooled_mean, sizeof(double) * cf))
		return 0;
	for (int i = 0; i < a->nconv; i++) {
		const struct mn_fconv *c = mn_fnet_conv(f, i);
		if (!c)
			continue;
		size_t K = (size_t)c->cin * c->k * c->k;
		if (memcmp(a->patch_mean[i], b->patch_mean[i], sizeof(double) * K) ||
		    memcmp(a->patch_cov[i], b->patch_cov[i], sizeof(float) * K * K))
			return 0;
	}
	return 1;
}

int main(void)
{
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mn_net_shape s = {8, 1, 32, 10, 3, 0};
	char err[512] = "";
	struct mn_rng rng;
	struct rand_weights w;
	struct mn_fnet f;
	struct mn_dataset d;
	mn_arch_parse(ARCH, &a, &pe);
	mn_rng_seed(&rng, 5);
	int ok = rand_weights_make(&w, &a, &s, &rng) == 0 &&
		 rand_weights_bind(&w, NULL, &a, &s, &f, err, sizeof err) == 0 &&
		 mn_dataset_synthetic(&d, CALIB + EVAL, 9, err, sizeof err) == 0;
	tap_ok(ok, "random weights and %d synthetic images (%s)", CALIB + EVAL, err);
	if (!ok)
		return tap_done();
	int ns = mn_slot_count(&s), nc = mn_fconv_count(&s), cf = 4 * s.channels, K = s.classes;

	/* Calibration on 1, 2 and 3 threads. */
	struct mn_calib c[3];
	for (int t = 0; t < 3; t++)
		ok = mn_calib_collect(&c[t], &f, &d, CALIB, t + 1, err, sizeof err) == 0;
	tap_ok(ok, "calibrated on %d images with 1, 2 and 3 threads (%s)", CALIB, err);
	if (!ok)
		return tap_done();
	tap_ok(same_calib(&c[0], &c[1], ns, cf, &f), "2 threads: the same ranges, means and second "
	       "moments as 1, bit for bit");
	tap_ok(same_calib(&c[0], &c[2], ns, cf, &f), "3 threads: the same, bit for bit");

	/* The reference: one plain loop over the images. */
	float *amax = calloc((size_t)ns, sizeof *amax), x[3 * 32 * 32], lg[10];
	double **psum = calloc((size_t)nc, sizeof *psum), *pooled = calloc((size_t)cf, sizeof *pooled);
	for (int i = 0; i < nc; i++) {
		const struct mn_fconv *cv = mn_fnet_conv(&f, i);
		psum[i] = cv ? calloc((size_t)cv->cin * cv->k * cv->k, sizeof(double)) : NULL;
	}
	struct mn_fnet_obs o = {.amax = amax, .patch_sum = psum, .pooled_sum = pooled};
	for (int i = 0; i < CALIB; i++) {
		mn_calib_image(&d, (size_t)i, &s, x);
		mn_fnet_run(&f, x, lg, &o);
	}
	tap_ok(memcmp(amax, c[1].amax, sizeof(float) * ns) == 0,
	       "the largest magnitudes are a plain loop's, exactly");
	double worst = 0;
	for (int i = 0; i < nc; i++) {
		const struct mn_fconv *cv = mn_fnet_conv(&f, i);
		for (int j = 0; cv && j < cv->cin * cv->k * cv->k; j++)
			worst = fmax(worst, fabs(psum[i][j] / CALIB - c[1].patch_mean[i][j]) /
						    (fabs(psum[i][j] / CALIB) + 1e-6));
	}
	for (int k = 0; k < cf; k++)
		worst = fmax(worst, fabs(pooled[k] / CALIB - c[1].pooled_mean[k]) /
					    (fabs(pooled[k] / CALIB) + 1e-6));
	tap_ok(worst < 1e-6, "the patch and pooled means are a plain loop's to %.1e (< 1e-6)", worst);

	/* The model from 1 and from 2 threads: one fingerprint. */
	struct mn_qmodel q1, q2;
	memset(&q1, 0, sizeof q1);
	memset(&q2, 0, sizeof q2);
	ok = mn_calibrate(&q1, &f, &d, CALIB, 1, err, sizeof err) == 0 &&
	     mn_calibrate(&q2, &f, &d, CALIB, 2, err, sizeof err) == 0;
	tap_ok(ok && mnq_fingerprint(&q1.net, NULL) == mnq_fingerprint(&q2.net, NULL),
	       "the int8 model of 1 and of 2 threads: one fingerprint (%08x, %08x)",
	       ok ? (unsigned)mnq_fingerprint(&q1.net, NULL) : 0u,
	       ok ? (unsigned)mnq_fingerprint(&q2.net, NULL) : 0u);

	/* GPTQ's rows rounded ahead on threads (mn_calibrate) against rounded
	 * in place, conv by conv (mn_quantize_calib without them). */
	struct mn_qmodel q0;
	memset(&q0, 0, sizeof q0);
	const struct mn_qcalib qc = {c[0].range, (const double *const *)c[0].patch_mean,
				     c[0].pooled_mean, (const float *const *)c[0].patch_cov, NULL};
	int ok0 = mn_quantize_calib(&q0, &f, &qc) == 0;
	tap_ok(ok && ok0 && mnq_fingerprint(&q0.net, NULL) == mnq_fingerprint(&q2.net, NULL),
	       "GPTQ on 2 threads ahead of quantizing = GPTQ in place: one fingerprint (%08x)",
	       ok0 ? (unsigned)mnq_fingerprint(&q0.net, NULL) : 0u);
	mn_qmodel_free(&q0);

	/* int8 against float on the images after the calibration ones. */
	size_t ib = mn_shape_input_values(&s);
	int8_t *img = malloc(ib * KEEP * 3), one[3 * 32 * 32];
	int32_t *ql = malloc(sizeof(int32_t) * K * KEEP * 3), lq[10];
	struct mn_agreement ag[3];
	for (int t = 0; ok && t < 3; t++)
		ok = mn_agreement_run(&q1, &f, &d, CALIB, EVAL, t + 1, KEEP, img + ib * KEEP * t,
				      ql + (size_t)K * KEEP * t, NULL, NULL, &ag[t]) == 0;
	tap_ok(ok && ag[0].images == EVAL, "measured on %d images with 1, 2 and 3 threads",
	       ok ? ag[0].images : -1);
	tap_ok(ok && !memcmp(&ag[0], &ag[1], sizeof ag[0]) && !memcmp(&ag[0], &ag[2], sizeof ag[0]),
	       "the same counts on 1, 2 and 3 threads (agree %d)", ag[0].agree);
	tap_ok(ok && !memcmp(img, img + ib * KEEP, ib * KEEP) &&
		       !memcmp(img, img + 2 * ib * KEEP, ib * KEEP) &&
		       !memcmp(ql, ql + K * KEEP, sizeof(int32_t) * K * KEEP) &&
		       !memcmp(ql, ql + 2 * K * KEEP, sizeof(int32_t) * K * KEEP),
	       "the same %d kept inputs and logits on 1, 2 and 3 threads", KEEP);
	int agree = 0, same_kept = 1;
	for (int i = 0; ok && i < EVAL; i++) {
		mn_calib_image(&d, (size_t)(CALIB + i), &s, x);
		mn_fnet_forward(&f, x, lg, NULL);
		mn_qmodel_quantize_input(&q1, x, one);
		if (mn_qmodel_run(&q1, one, lq) != 0)
			ok = 0;
		agree += mn_argmax_f(lg, K) == mn_argmax_i(lq, K);
		if (i < KEEP)
			same_kept &= !memcmp(one, img + ib * i, ib) &&
				     !memcmp(lq, ql + (size_t)K * i, sizeof(int32_t) * K);
	}
	tap_ok(ok && agree == ag[1].agree, "agreement %d/%d = a plain loop's %d", ag[1].agree, EVAL,
	       agree);
	tap_ok(ok && same_kept, "the kept inputs and logits are a plain loop's, byte for byte");
	tap_ok(ag[1].labelled == 0, "synthetic images: no accuracy counted (%d labelled)",
	       ag[1].labelled);

	for (int t = 0; t < 3; t++)
		mn_calib_free(&c[t]);
	for (int i = 0; i < nc; i++)
		free(psum[i]);
	free(psum), free(pooled), free(amax), free(img), free(ql);
	mn_qmodel_free(&q1);
	mn_qmodel_free(&q2);
	mn_fnet_free(&f);
	mn_dataset_free(&d);
	rand_weights_free(&w);
	return tap_done();
}
