/* int8 deployment on a network with every op (C=8, N=1, 32x32, random
 * folded weights): the quantized model runs in exactly the SRAM and int8
 * weight bytes the memory model predicts, its requantization rounds like
 * exact arithmetic, and its dequantized logits follow the float network.
 * With an argument, also writes the weights there (for test_deploy.sh). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/dataset_source.h"
#include "export/fnet.h"
#include "export/quantize.h"
#include "export/safetensors.h"
#include "space/memory.h"
#include "tap.h"
#include "util/rng.h"

#define ARCH "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"

int main(int argc, char **argv)
{
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mn_net_shape s = {8, 1, 32, 10, 3, 0};
	char err[512] = "", path[] = "/tmp/mn_deploy_XXXXXX";
	struct mn_rng rng;
	mn_arch_parse(ARCH, &a, &pe);
	mn_rng_seed(&rng, 11);

	/* Random folded weights of the spec's shapes: conv weights uniform in
	 * +-1/sqrt(fan_in) (PyTorch's init), biases and shifts small, head
	 * scales around 1. */
	int n = mn_weights_spec(&a, &s, NULL, 0);
	struct mn_wspec *spec = calloc((size_t)n, sizeof *spec);
	struct mn_st_out *out = calloc((size_t)n, sizeof *out);
	mn_weights_spec(&a, &s, spec, n);
	for (int i = 0; i < n; i++) {
		size_t e = 1;
		for (int d = 0; d < spec[i].ndim; d++)
			e *= (size_t)spec[i].shape[d], out[i].shape[d] = spec[i].shape[d];
		float *v = malloc(sizeof(float) * e);
		double fan = spec[i].ndim == 4 ? (double)(spec[i].shape[1] * spec[i].shape[2] * spec[i].shape[3])
			     : spec[i].ndim == 2 ? (double)spec[i].shape[1] : 0;
		for (size_t j = 0; j < e; j++) {
			double u = 2 * mn_rng_uniform(&rng) - 1;
			v[j] = (float)(fan > 0 ? u * 1.7 / sqrt(fan)
				       : !strcmp(spec[i].name, "lastact.weight") ? 1 + 0.3 * u : 0.1 * u);
		}
		out[i].name = spec[i].name;
		out[i].ndim = spec[i].ndim;
		out[i].data = v;
	}
	const char *wpath = argc > 1 ? argv[1] : path;
	if (argc <= 1) {
		int fd = mkstemp(path);
		if (fd >= 0)
			close(fd);
	}
	struct mn_safetensors st;
	struct mn_fnet f;
	tap_ok(mn_st_write(wpath, out, (size_t)n, NULL, 0, err, sizeof err) == 0 &&
		       mn_st_read(&st, wpath, err, sizeof err) == 0 &&
		       mn_fnet_bind(&f, &st, &a, &s, err, sizeof err) == 0,
	       "random weights written, read and bound (%s)", err);
	mn_st_free(&st);
	if (argc <= 1)
		remove(path);

	/* Calibrate on 16 synthetic images, evaluate on 16 others. */
	struct mn_dataset d;
	mn_dataset_synthetic(&d, 32, 5, err, sizeof err);
	int ns = mn_slot_count(&s), K = s.classes;
	float *amax = calloc((size_t)ns, sizeof *amax), x[3 * 32 * 32], fl[10];
	for (int i = 0; i < 16; i++) {
		for (int c = 0; c < 3; c++)
			for (int j = 0; j < 1024; j++)
				x[c * 1024 + j] = mn_cifar_normalize(c, d.pixels[(size_t)i * 3072 + c * 1024 + j]);
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
		for (int c = 0; c < 3; c++)
			for (int j = 0; j < 1024; j++)
				x[c * 1024 + j] = mn_cifar_normalize(c, d.pixels[(size_t)i * 3072 + c * 1024 + j]);
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

	mn_qmodel_free(&q);
	mn_fnet_free(&f);
	mn_dataset_free(&d);
	for (int i = 0; i < n; i++)
		free((void *)out[i].data);
	free(out), free(spec), free(amax);
	return tap_done();
}
