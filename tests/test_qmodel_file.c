/* The int8 model file (export/qmodel_file.h): a model saved and loaded
 * over another quantization of the same network takes the saved one's
 * every number (fingerprint, scales, outputs); damaged or foreign files
 * are refused in one line before anything is copied; the probe tells a
 * model file and its arch from other files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset_source.h"
#include "export/calibrate.h"
#include "export/qmodel_file.h"
#include "rand_weights.h"
#include "tap.h"
#include "util/rng.h"

#define ARCH "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"
#define OTHER "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"

static uint32_t fp(const struct mn_qmodel *q) { return mnq_fingerprint(&q->net, NULL); }

/* The file's bytes with the last one flipped (the classifier's last bias). */
static int flip_last(const char *from, const char *to)
{
	FILE *f = fopen(from, "rb"), *g = fopen(to, "wb");
	int c, prev = -1, ok = f && g;
	while (ok && (c = fgetc(f)) != EOF) {
		if (prev >= 0)
			ok = fputc(prev, g) != EOF;
		prev = c;
	}
	ok = ok && prev >= 0 && fputc(prev ^ 0x40, g) != EOF;
	if (f)
		fclose(f);
	if (g && fclose(g) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int main(void)
{
	struct mn_arch a, other;
	struct mn_parse_error pe;
	struct mn_net_shape s = {8, 1, 32, 10, 3, 0};
	char err[1024] = "", dir[] = "/tmp/mn_qfile_XXXXXX", path[256], bad[256];
	struct mn_rng rng;
	struct rand_weights w;
	struct mn_fnet f;
	struct mn_dataset d;
	struct mn_qmodel q1, q2;
	memset(&q1, 0, sizeof q1);
	memset(&q2, 0, sizeof q2);
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/model.int8.safetensors", dir);
	snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
	mn_arch_parse(ARCH, &a, &pe);
	mn_arch_parse(OTHER, &other, &pe);
	mn_rng_seed(&rng, 11);
	/* two quantizations of one network: 4 and 8 calibration images */
	int ok = rand_weights_make(&w, &a, &s, &rng) == 0 &&
		 rand_weights_bind(&w, NULL, &a, &s, &f, err, sizeof err) == 0 &&
		 mn_dataset_synthetic(&d, 12, 3, err, sizeof err) == 0 &&
		 mn_calibrate(&q1, &f, &d, 4, 1, err, sizeof err) == 0 &&
		 mn_calibrate(&q2, &f, &d, 8, 1, err, sizeof err) == 0;
	tap_ok(ok, "random weights quantized twice (%s)", err);
	if (!ok)
		return tap_done();
	uint32_t fp1 = fp(&q1), fp2 = fp(&q2);
	tap_ok(fp1 != fp2, "the two differ (fingerprints %08x, %08x): the load below has work to do",
	       (unsigned)fp1, (unsigned)fp2);

	tap_ok(mn_qmodel_save(&q1, &a, path, err, sizeof err) == 0, "saved (%s)", err);

	/* refusals first: q2 must come out of each unchanged */
	FILE *g = fopen(bad, "wb");
	if (g) {
		fputs("not a model", g);
		fclose(g);
	}
	tap_ok(mn_qmodel_load(&q2, &a, bad, err, sizeof err) == -1 && strstr(err, bad) &&
		       strstr(err, "model.int8.safetensors") && !strchr(err, '\n') && fp(&q2) == fp2 &&
		       !strstr(strchr(err, '(') ? strchr(err, '(') + 1 : err, "("),
	       "not a safetensors file: one line naming it and the file to give, once (%s)", err);
	ok = mn_qmodel_save(&q1, &other, bad, err, sizeof err) == 0;
	tap_ok(ok && mn_qmodel_load(&q2, &a, bad, err, sizeof err) == -1 && strstr(err, "arch") &&
		       strstr(err, "nor_conv_1x1~0") && fp(&q2) == fp2,
	       "a model for another arch: refused, naming it (%s)", err);
	int8_t *sh = (int8_t *)(uintptr_t)q1.convs[0].shift, keep = sh[0];
	sh[0] = 40;
	ok = mn_qmodel_save(&q1, &a, bad, err, sizeof err) == 0;
	sh[0] = keep;
	tap_ok(ok && mn_qmodel_load(&q2, &a, bad, err, sizeof err) == -1 &&
		       strstr(err, "conv.0.shift[0] is 40") && fp(&q2) == fp2,
	       "a shift qnet cannot take: refused before anything is copied (%s)", err);
	/* found by fuzzing: a bias near 2^31 overflowed qnet's int32 sum */
	int32_t *bi = (int32_t *)(uintptr_t)q1.convs[0].b, keep_b = bi ? bi[0] : 0;
	if (bi)
		bi[0] = INT32_MAX - 5;
	ok = bi && mn_qmodel_save(&q1, &a, bad, err, sizeof err) == 0;
	if (bi)
		bi[0] = keep_b;
	tap_ok(ok && mn_qmodel_load(&q2, &a, bad, err, sizeof err) == -1 &&
		       strstr(err, "conv.0.b[0] is 2147483642") && fp(&q2) == fp2,
	       "a conv bias with no room for its sum: refused (%s)", err);
	int32_t *ad = NULL;
	for (int i = 0; i < 18 * s.cells + 2 && !ad; i++)
		if (q1.adds[i].ma)
			ad = &q1.adds[i].ma;
	int32_t keep_add = ad ? *ad : 0;
	if (ad)
		*ad = 40000;
	ok = ad && mn_qmodel_save(&q1, &a, bad, err, sizeof err) == 0;
	if (ad)
		*ad = keep_add;
	tap_ok(ok && mn_qmodel_load(&q2, &a, bad, err, sizeof err) == -1 && strstr(err, "adds[") &&
		       strstr(err, "40000") && fp(&q2) == fp2,
	       "an add factor outside Q15: refused (%s)", err);
	char wfile[300];
	snprintf(wfile, sizeof wfile, "%s/w.safetensors", dir);
	struct mn_fnet fw; /* the same weights, written to wfile (f stays in use) */
	ok = rand_weights_bind(&w, wfile, &a, &s, &fw, err, sizeof err) == 0;
	if (ok)
		mn_fnet_free(&fw);
	tap_ok(ok && mn_qmodel_load(&q2, &a, wfile, err, sizeof err) == -1 &&
		       strstr(err, "not a micronas int8 model file") && fp(&q2) == fp2,
	       "the float weights given for the model: refused, saying what to give (%s)", err);
	/* The probe (the TUI's check when the file is given) */
	struct mn_arch pa;
	char pas[MN_ARCH_STRLEN] = "";
	ok = mn_qmodel_probe(path, &pa, err, sizeof err) == 0;
	if (ok)
		mn_arch_format(&pa, pas, sizeof pas);
	tap_ok(ok && !strcmp(pas, ARCH), "probe: an int8 model file, for %s (%s)", pas, err);
	tap_ok(mn_qmodel_probe(wfile, &pa, err, sizeof err) == -1 &&
		       strstr(err, "not a micronas int8 model file") && strstr(err, wfile),
	       "probe: the float weights refused in one line naming the file (%s)", err);
	tap_ok(flip_last(path, bad) == 0 && mn_qmodel_load(&q2, &a, bad, err, sizeof err) == -1 &&
		       strstr(err, "fingerprint") && strstr(err, "damaged"),
	       "one byte changed in the data: the fingerprint no longer matches (%s)", err);
	mn_qmodel_free(&q2);
	memset(&q2, 0, sizeof q2);
	ok = mn_calibrate(&q2, &f, &d, 8, 1, err, sizeof err) == 0;

	/* the load proper */
	tap_ok(ok && mn_qmodel_load(&q2, &a, path, err, sizeof err) == 0, "loaded over the other (%s)",
	       err);
	tap_ok(fp(&q2) == fp1 && q2.in_scale == q1.in_scale && q2.logit_scale == q1.logit_scale,
	       "it now has the saved model's fingerprint %08x and scales", (unsigned)fp(&q2));
	float x[3 * 32 * 32];
	int8_t img[3 * 32 * 32];
	int32_t l1[10], l2[10];
	mn_calib_image(&d, 10, &s, x);
	mn_qmodel_quantize_input(&q1, x, img);
	ok = mn_qmodel_run(&q1, img, l1) == 0 && mn_qmodel_run(&q2, img, l2) == 0;
	tap_ok(ok && !memcmp(l1, l2, sizeof l1), "and the same int32 logits on an image");

	/* The layout alone (no calibration) takes the file as well: validate
	 * --model's path. */
	struct mn_qmodel q3;
	int32_t l3[10];
	err[0] = 0;
	ok = mn_quantize_layout(&q3, &f) == 0;
	tap_ok(ok && fp(&q3) != fp1, "a placeholder model of the same layout (fingerprint %08x)",
	       ok ? (unsigned)fp(&q3) : 0u);
	tap_ok(ok && mn_qmodel_load(&q3, &a, path, err, sizeof err) == 0 && fp(&q3) == fp1 &&
		       q3.in_scale == q1.in_scale && q3.logit_scale == q1.logit_scale &&
		       mn_qmodel_run(&q3, img, l3) == 0 && !memcmp(l1, l3, sizeof l1),
	       "loaded over it: the saved model's fingerprint, scales and logits (%s)", err);
	if (ok)
		mn_qmodel_free(&q3);

	unlink(path), unlink(bad), unlink(wfile), rmdir(dir);
	mn_qmodel_free(&q1);
	mn_qmodel_free(&q2);
	mn_fnet_free(&f);
	mn_dataset_free(&d);
	rand_weights_free(&w);
	return tap_done();
}
