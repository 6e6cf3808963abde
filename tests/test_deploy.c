/* int8 deployment on a network with every op (C=8, N=1, 32x32, random
 * folded weights): the quantized model runs in exactly the SRAM and int8
 * weight bytes the memory model predicts, its requantization rounds like
 * exact arithmetic, and its dequantized logits follow the float network.
 * With an argument, also writes the weights there (for test_deploy.sh). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/dataset_source.h"
#include "export/calibrate.h"
#include "export/fnet.h"
#include "export/quantize.h"
#include "space/memory.h"
#include "rand_weights.h"
#include "tap.h"
#include "util/rng.h"

#define ARCH "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"

int main(int argc, char **argv)
{
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mn_net_shape s = {8, 1, 32, 10, 3, 0};
	char err[512] = "";
	struct mn_rng rng;
	mn_arch_parse(ARCH, &a, &pe);
	mn_rng_seed(&rng, 11);

	/* Random folded weights of the spec's shapes, through a file: with an
	 * argument, that file is kept for test_deploy.sh. */
	struct rand_weights w;
	struct mn_fnet f;
	tap_ok(rand_weights_make(&w, &a, &s, &rng) == 0 &&
		       rand_weights_bind(&w, argc > 1 ? argv[1] : NULL, &a, &s, &f, err, sizeof err) == 0,
	       "random weights written, read and bound (%s)", err);

	/* Calibrate on 16 synthetic images, evaluate on 16 others. */
	struct mn_dataset d;
	mn_dataset_synthetic(&d, 32, 5, err, sizeof err);
	int ns = mn_slot_count(&s), K = s.classes;
	float *amax = calloc((size_t)ns, sizeof *amax), x[3 * 32 * 32], fl[10];
	for (int i = 0; i < 16; i++) {
		mn_calib_image(&d, (size_t)i, &s, x);
		mn_fnet_forward(&f, x, fl, amax);
	}
	struct mn_qmodel q;
	tap_ok(mn_quantize(&q, &f, amax) == 0, "quantized");
	struct mn_memory mem;
	mn_memory_arch(&a, &s, 0, &mem);
	tap_ok(q.arena_bytes == mem.sram_bytes, "arena %u bytes = memory model's peak SRAM %llu",
	       q.arena_bytes, (unsigned long long)mem.sram_bytes);
	tap_ok(q.weight_bytes + 4u * s.channels == mem.weight_bytes,
	       "int8 weights %llu + the final BN's %d scales = memory model's %llu",
	       (unsigned long long)q.weight_bytes, 4 * s.channels,
	       (unsigned long long)mem.weight_bytes);

	/* Requantization against exact rounding of acc * M. */
	int bad = 0;
	for (int t = 0; t < 100000; t++) {
		int32_t acc = (int32_t)(mn_rng_u64(&rng) >> 40) - (1 << 23);
		int32_t mult = (int32_t)((1u << 30) + (mn_rng_u64(&rng) >> 34));
		int shift = (int)mn_rng_below(&rng, 40) - 8;
		long double v = (long double)acc * mult / powl(2.0L, 31 + shift);
		long double r = floorl(v + 0.5L);
		r = r > 127 ? 127 : (r < -128 ? -128 : r);
		bad += mnq_requant(acc, mult, shift) != (int8_t)r;
	}
	tap_ok(bad == 0, "mnq_requant = round-half-up(acc * mult / 2^(31+shift)) on 100000 draws (%d off)", bad);
	/* The per-channel multipliers reproduce s_in * s_w / s_out. */
	const struct mnq_conv *c0 = q.net.stem;
	double worst = 0;
	for (int oc = 0; oc < c0->cout; oc++) {
		double M = c0->mult[oc] / pow(2.0, 31 + c0->shift[oc]);
		worst = fmax(worst, fabs(M) > 0 ? 0 : 1);
		worst = fmax(worst, (c0->mult[oc] < (1 << 30)) ? 1 : 0);
	}
	tap_ok(worst == 0, "stem multipliers are normalised Q31 (in [2^30, 2^31))");

	/* Dequantized int8 logits against float, on images not calibrated on. */
	double err2 = 0, ref2 = 0;
	int agree = 0;
	int8_t img[3 * 32 * 32];
	int32_t lq[10];
	for (int i = 16; i < 32; i++) {
		mn_calib_image(&d, (size_t)i, &s, x);
		mn_fnet_forward(&f, x, fl, NULL);
		mn_qmodel_quantize_input(&q, x, img);
		if (mn_qmodel_run(&q, img, lq) != 0)
			break;
		int bf = 0, bq = 0;
		for (int k = 0; k < K; k++) {
			double dq = lq[k] * (double)q.logit_scale;
			err2 += (dq - fl[k]) * (dq - fl[k]);
			ref2 += (double)fl[k] * fl[k];
			if (fl[k] > fl[bf])
				bf = k;
			if (lq[k] > lq[bq])
				bq = k;
		}
		agree += bf == bq;
	}
	double rel = sqrt(err2 / ref2);
	tap_ok(rel < 0.1, "int8 logits follow float: relative L2 error %.4f < 0.1", rel);
	tap_diag("top-1 agreement %d/16 on synthetic images, random weights", agree);
	/* Scales: the input scale covers the calibration batch's range. */
	tap_ok(q.in_scale > 0 && fabsf(q.in_scale * 127 - amax[MN_SLOT_INPUT]) < 1e-5f,
	       "input scale = max |x| / 127 (%.5f)", q.in_scale);

	/* The float forward's simulated rounding (bench_quant's diagnosis):
	 * every activation at amax/127 in [-128, 127], at amax/32767 in
	 * [-32768, 32767] (256 times finer steps: about 256 times less error),
	 * and at amax/32767 kept in [-128, 127] (saturated far inside the
	 * range).  amax is raised over these images first, so nothing
	 * clips. */
	float *fq = malloc(sizeof(float) * (size_t)ns);
	double e_fq[3] = {0, 0, 0}, r_fq = 0;
	for (int i = 16; i < 32; i++) {
		mn_calib_image(&d, (size_t)i, &s, x);
		mn_fnet_forward(&f, x, fl, amax);
	}
	for (int i = 16; fq && i < 32; i++) {
		mn_calib_image(&d, (size_t)i, &s, x);
		mn_fnet_forward(&f, x, fl, NULL);
		for (int k = 0; k < K; k++)
			r_fq += (double)fl[k] * fl[k];
		for (int v = 0; v < 3; v++) {
			float lr[10];
			for (int k = 0; k < ns; k++)
				fq[k] = k == mn_slot_pooled(&s) || k == mn_slot_logits(&s)
						? 0
						: amax[k] / (v == 0 ? 127.0f : 32767.0f);
			mn_fnet_forward_fq(&f, x, lr, NULL, fq, v == 1 ? 32767 : 127);
			for (int k = 0; k < K; k++)
				e_fq[v] += (double)(lr[k] - fl[k]) * (lr[k] - fl[k]);
		}
	}
	for (int v = 0; v < 3; v++)
		e_fq[v] = r_fq > 0 ? sqrt(e_fq[v] / r_fq) : -1;
	tap_ok(e_fq[0] > 0 && e_fq[0] < 0.1, "simulated 8-bit activations: relative L2 error %.4f in (0, 0.1)",
	       e_fq[0]);
	tap_ok(e_fq[1] >= 0 && e_fq[1] < e_fq[0] / 50,
	       "simulated 16-bit activations: %.6f < 1/50 of the 8-bit error", e_fq[1]);
	tap_ok(e_fq[2] > 0.3, "16-bit steps saturated at +-127: relative L2 error %.3f > 0.3", e_fq[2]);
	free(fq);

	mn_qmodel_free(&q);
	mn_fnet_free(&f);
	mn_dataset_free(&d);
	rand_weights_free(&w);
	free(amax);
	return tap_done();
}
