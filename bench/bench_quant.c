/* make bench (through bench/bench_export.sh): where the int8 model's top-1
 * disagreements with the float model come from.  Each tensor group is
 * rounded alone in the float forward as the int8 model stores it
 * (mn_fnet_forward_fq: per-tensor symmetric scales range/127 with the
 * MSE-optimal ranges mn_calibrate takes from the first CALIB images, each
 * slot its own, or with max/127 when the last argument is "max"; the
 * weights as mn_quantize_calib makes them: GPTQ and bias correction but
 * for the reduction shortcuts' bias, which has no float place), then
 * all together, and all together with every activation rounded to 16
 * bits instead (int8 weights, int16 activations: what TFLite's 16x8 mode
 * and CMSIS-NN's s16 kernels would give); for each, the top-1 flips against the
 * float model on the EVAL images after the calibration ones, and the
 * logit error (RMS of the logit change over the RMS deviation of the
 * float logits from their mean).  The flips of the whole simulated model
 * are then split by the float top-2 margin (in units of the logits'
 * standard deviation).  The simulation leaves out the integer details (Q15
 * adds, Q14 head, the 3x3 pools' rounding, the node scale rule), so its
 * "all" row is close to, not equal to, deploy's agreement; the "deployed"
 * row is the int8 model itself (mn_quantize_calib with the same calibration,
 * run by the host int8 reference, logits times their scale), so the two
 * rows tell the rounding the simulation models from the integer details.
 *
 * Usage: bench_quant WEIGHTS ARCH DATA CHANNELS CELLS CALIB EVAL [max] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/dataset_source.h"
#include "export/calibrate.h"
#include "export/fnet.h"
#include "export/quantize.h"
#include "export/safetensors.h"
#include "export/weights_check.h"

enum { G_INPUT, G_STEM, G_EDGE, G_NODE, G_RED, G_HEAD, G_WEIGHTS, G_ALL, G_ALL16, G_COUNT };
static const char *const group_name[G_COUNT] = {
    "input", "stem", "conv edges", "cell nodes", "reductions", "head (ReLU out)", "weights", "all",
    "all, 16-bit act."};

/* Sets fq[slot] = scale for the slots of group g (G_ALL: every group; G_ALL16:
 * every group at 16 bits, amax / 32767: with 256 times finer steps,
 * clipping would cost more than it saves). */
static void group_scales(const struct mn_net_shape *s, int g, const float *range,
			 const float *amax, float *fq)
{
	int ns = mn_slot_count(s);
	memset(fq, 0, sizeof(float) * (size_t)ns);
	for (int k = 0; k < ns; k++) {
		int grp = -1;
		if (k == MN_SLOT_INPUT)
			grp = G_INPUT;
		else if (k == MN_SLOT_STEM)
			grp = G_STEM;
		else if (k == mn_slot_head(s))
			grp = G_HEAD;
		else if (k == mn_slot_pooled(s) || k == mn_slot_logits(s))
			continue;
		else if (k >= mn_slot_red(s, 0, 0))
			grp = G_RED;
		else
			grp = (k - 2) % 9 < 6 ? G_EDGE : G_NODE; /* fnet.c's slot layout */
		if ((g == G_ALL || g == grp) && range[k] > 0)
			fq[k] = range[k] / 127.0f;
		if (g == G_ALL16 && amax[k] > 0)
			fq[k] = amax[k] / 32767.0f;
	}
}

/* The weights of fw (a copy of f; its arrays are its own store) as
 * mn_quantize_calib makes them: conv rows by GPTQ at max|w|/127 with their
 * bias correction (none for the reduction shortcuts, which have no float
 * bias to carry it), the classifier rounded at one scale with its bias
 * correction.  0, or -1 when out of memory. */
static int quantize_weights(struct mn_fnet *fw, const struct mn_fnet *f, const struct mn_calib *cs)
{
	const struct mn_net_shape *s = &f->shape;
	for (int i = 0; i < mn_fconv_count(s); i++) {
		const struct mn_fconv *c = mn_fnet_conv(f, i), *cw = mn_fnet_conv(fw, i);
		if (!c)
			continue;
		int K = c->cin * c->k * c->k;
		int8_t *q = malloc((size_t)c->cout * K);
		if (!q || mn_gptq_conv(c, cs->patch_cov[i], q) != 0) {
			free(q);
			return -1;
		}
		float *w = (float *)(uintptr_t)cw->w, *b = (float *)(uintptr_t)cw->b;
		for (int oc = 0; oc < c->cout; oc++) {
			const float *wr = c->w + (size_t)oc * K;
			const int8_t *qi = q + (size_t)oc * K;
			double sw = mn_qrow_scale(wr, K);
			for (int j = 0; j < K; j++) {
				if (b)
					b[oc] -= (float)((qi[j] * sw - wr[j]) * cs->patch_mean[i][j]);
				w[(size_t)oc * K + j] = (float)(qi[j] * sw);
			}
		}
		free(q);
	}
	int cf = 4 * s->channels, K = s->classes;
	float m = 0, *b = (float *)(uintptr_t)fw->fc_b, *w = (float *)(uintptr_t)fw->fc_w;
	for (int i = 0; i < K * cf; i++)
		m = fmaxf(m, fabsf(f->fc_w[i]));
	for (int k = 0; m > 0 && k < K; k++)
		b[k] -= (float)mn_qrow_shift(f->fc_w + (size_t)k * cf, cf, m / 127.0, cs->pooled_mean);
	for (int i = 0; m > 0 && i < K * cf; i++)
		w[i] = (float)(rint(f->fc_w[i] / (m / 127.0)) * (m / 127.0));
	return 0;
}

static double rel_err(const float *a, const float *b, int K)
{
	double mu = 0, e = 0, d = 0;
	for (int k = 0; k < K; k++)
		mu += b[k] / K;
	for (int k = 0; k < K; k++) {
		e += (double)(a[k] - b[k]) * (a[k] - b[k]);
		d += (b[k] - mu) * (b[k] - mu);
	}
	return d > 0 ? sqrt(e / d) : 0;
}

int main(int argc, char **argv)
{
	char err[1024];
	struct mn_safetensors st;
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mn_net_shape s = MN_SHAPE_DEFAULT;
	struct mn_fnet f, fw;
	struct mn_dataset d;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: bench_quant WEIGHTS ARCH DATA CHANNELS CELLS CALIB EVAL [max]\n");
		return 0;
	}
	if (argc != 8 && !(argc == 9 && strcmp(argv[8], "max") == 0)) {
		fprintf(stderr, "usage: bench_quant WEIGHTS ARCH DATA CHANNELS CELLS CALIB EVAL [max]\n");
		return 2;
	}
	s.channels = atoi(argv[4]);
	s.cells = atoi(argv[5]);
	int calib = atoi(argv[6]), ne = atoi(argv[7]);
	if (mn_arch_parse(argv[2], &a, &pe) != 0) {
		fprintf(stderr, "bench_quant: bad arch %s\n", argv[2]);
		return 1;
	}
	if (mn_st_read(&st, argv[1], err, sizeof err) != 0 ||
	    mn_fnet_bind(&f, &st, &a, &s, err, sizeof err) != 0 ||
	    mn_fnet_bind(&fw, &st, &a, &s, err, sizeof err) != 0 ||
	    mn_dataset_load(&d, argv[3], err, sizeof err) != 0) {
		fprintf(stderr, "bench_quant: %s\n", err);
		return 1;
	}
	mn_st_free(&st);
	int R = s.height, K = s.classes, ns = mn_slot_count(&s);
	if (calib < 1 || ne < 1 || (size_t)(calib + ne) > d.count || d.height != R ||
	    d.channels != 3) {
		fprintf(stderr, "bench_quant: need %d + %d %dx%dx3 images, the data has %zu\n", calib,
			ne, R, R, d.count);
		return 1;
	}
	float *fq = malloc(sizeof(float) * (size_t)ns);
	float *x = malloc(sizeof(float) * mn_shape_input_values(&s));
	float *lf = malloc(sizeof(float) * (size_t)K), *lq = malloc(sizeof(float) * (size_t)K);
	double *margin = malloc(sizeof(double) * (size_t)ne);
	int *flip_all = calloc((size_t)ne, sizeof *flip_all);
	if (!fq || !x || !lf || !lq || !margin || !flip_all) {
		fprintf(stderr, "bench_quant: out of memory\n");
		return 1;
	}
	struct mn_calib cs;
	if (mn_calib_collect(&cs, &f, &d, calib, 0, err, sizeof err) != 0) {
		fprintf(stderr, "bench_quant: %s\n", err);
		return 1;
	}
	if (quantize_weights(&fw, &f, &cs) != 0) {
		fprintf(stderr, "bench_quant: out of memory\n");
		return 1;
	}
	const float *range = argc == 9 ? cs.amax : cs.range;
	int flips[G_COUNT] = {0};
	double err_sum[G_COUNT] = {0};
	/* the deployed model, with deploy's calibration (MSE ranges) */
	struct mn_qmodel qm;
	const struct mn_qcalib qc = {cs.range, (const double *const *)cs.patch_mean, cs.pooled_mean,
				     (const float *const *)cs.patch_cov, NULL};
	int8_t *img = malloc(mn_shape_input_values(&s));
	int32_t *li = malloc(sizeof(int32_t) * (size_t)K);
	if (!img || !li || mn_quantize_calib(&qm, &f, &qc) != 0) {
		fprintf(stderr, "bench_quant: out of memory\n");
		return 1;
	}
	int dep_flips = 0;
	double dep_err = 0;
	for (int i = 0; i < ne; i++) {
		mn_calib_image(&d, (size_t)(calib + i), &s, x);
		if (mn_fnet_forward(&f, x, lf, NULL) != 0)
			return 1;
		int top = mn_argmax_f(lf, K), second = top == 0 ? 1 : 0;
		double mu = 0, sd = 0;
		for (int k = 0; k < K; k++) {
			if (k != top && lf[k] > lf[second])
				second = k;
			mu += lf[k] / K;
		}
		for (int k = 0; k < K; k++)
			sd += (lf[k] - mu) * (lf[k] - mu) / K;
		margin[i] = sd > 0 ? (lf[top] - lf[second]) / sqrt(sd) : 0;
		for (int g = 0; g < G_COUNT; g++) {
			int w = g == G_WEIGHTS || g >= G_ALL;
			group_scales(&s, g == G_WEIGHTS ? -1 : g, range, cs.amax, fq);
			if (mn_fnet_forward_fq(w ? &fw : &f, x, lq, NULL, fq,
					       g == G_ALL16 ? 32767 : 127) != 0)
				return 1;
			int fl = mn_argmax_f(lq, K) != top;
			flips[g] += fl;
			err_sum[g] += rel_err(lq, lf, K);
			if (g == G_ALL)
				flip_all[i] = fl;
		}
		mn_qmodel_quantize_input(&qm, x, img);
		if (mn_qmodel_run(&qm, img, li) != 0)
			return 1;
		for (int k = 0; k < K; k++)
			lq[k] = (float)li[k] * qm.logit_scale;
		dep_flips += mn_argmax_i(li, K) != top;
		dep_err += rel_err(lq, lf, K);
	}
	printf("int8 rounding by tensor group (%s ranges calibrated on %d images, %d evaluated):\n",
	       argc == 9 ? "max" : "MSE", calib, ne);
	for (int g = 0; g < G_COUNT; g++)
		printf("  %-16s %3d top-1 flips (%.2f%% agreement), logit error %.2f%%\n", group_name[g],
		       flips[g], 100.0 * (ne - flips[g]) / ne, 100.0 * err_sum[g] / ne);
	printf("  %-16s %3d top-1 flips (%.2f%% agreement), logit error %.2f%%\n", "deployed int8",
	       dep_flips, 100.0 * (ne - dep_flips) / ne, 100.0 * dep_err / ne);
	const double edges[] = {0, 0.01, 0.05, 0.2, INFINITY};
	printf("  flips of 'all' by the float top-2 margin in logit sd:");
	for (int b = 0; b < 4; b++) {
		int n = 0, f_ = 0;
		for (int i = 0; i < ne; i++)
			if (margin[i] >= edges[b] && margin[i] < edges[b + 1]) {
				n++;
				f_ += flip_all[i];
			}
		printf("%s [%g, %g): %d of %d", b ? "," : "", edges[b], edges[b + 1], f_, n);
	}
	printf("\n");
	mn_calib_free(&cs);
	mn_qmodel_free(&qm);
	free(img), free(li);
	free(fq), free(x), free(lf), free(lq), free(margin), free(flip_all);
	mn_dataset_free(&d);
	mn_fnet_free(&f);
	mn_fnet_free(&fw);
	return 0;
}
