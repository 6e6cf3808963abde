/* Built by tests/test_deploy.sh with the host compiler against the sources
 * `micronas deploy` wrote (model.c, fw-profiler/qnet.c, kernels.c): runs
 * mn_model_run on the images of check.bin and compares the int32 logits
 * byte for byte with micronas's host int8 reference stored there.
 * Prints "exact N/M"; exit 0 only when every image matches.
 *   deploy_driver CHECK.bin [PIXELS.npy FIRST]
 * With an 8-bit NHWC .npy set (deploy's --data) and the index of
 * check.bin's first image in it (deploy's first evaluation image, --calib),
 * each image is also made from its raw pixels by mn_model_input_from_pixels
 * and must equal check.bin's int8 input byte for byte ("pixels N/M"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#ifdef MN_MODEL_PIXEL_INPUT
/* The data of an 8-bit .npy file (format 1.0 or 2.0), at image `first`
 * of ib bytes each; NULL when it cannot be read. */
static FILE *npy_at(const char *path, long first, long ib)
{
	unsigned char h[12];
	FILE *f = fopen(path, "rb");
	if (!f || fread(h, 1, 12, f) != 12 || memcmp(h, "\x93NUMPY", 6) != 0) {
		if (f)
			fclose(f);
		return NULL;
	}
	long off = h[6] == 1 ? 10 + (long)(h[8] | h[9] << 8) : 12 + (long)le32(h + 8);
	if (fseek(f, off + first * ib, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	return f;
}
#endif

int main(int argc, char **argv)
{
	unsigned char h[16];
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	if (!f || fread(h, 1, 16, f) != 16 || memcmp(h, "MNQC", 4)) {
		fprintf(stderr, "deploy_driver: cannot read check.bin\n");
		return 2;
	}
	uint32_t n = le32(h + 4), ib = le32(h + 8), k = le32(h + 12), exact = 0;
	if (ib != (uint32_t)MN_MODEL_INPUT_CHANNELS * MN_MODEL_HEIGHT * MN_MODEL_WIDTH ||
	    k != MN_MODEL_CLASSES) {
		fprintf(stderr, "deploy_driver: check.bin is for another model\n");
		return 2;
	}
	FILE *px = NULL;
	if (argc > 3) {
#ifdef MN_MODEL_PIXEL_INPUT
		px = npy_at(argv[2], atol(argv[3]), (long)ib);
#endif
		if (!px) {
			fprintf(stderr, "deploy_driver: no pixel input (model.h without "
					"mn_model_input_from_pixels, or %s unreadable)\n", argv[2]);
			return 2;
		}
	}
	int8_t *img = malloc(ib), *from_px = malloc(ib);
	unsigned char *ref = malloc(4 * k), *raw = malloc(ib);
	int32_t logits[MN_MODEL_CLASSES];
	uint32_t same_px = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (fread(img, 1, ib, f) != ib || fread(ref, 1, 4 * k, f) != 4 * k)
			return 2;
		int ok = mn_model_run(img, logits) == 0;
		for (uint32_t c = 0; c < k && ok; c++)
			ok = (uint32_t)logits[c] == le32(ref + 4 * c);
		exact += ok;
		if (px) {
			if (fread(raw, 1, ib, px) != ib)
				return 2;
#ifdef MN_MODEL_PIXEL_INPUT
			mn_model_input_from_pixels(raw, from_px);
#endif
			same_px += memcmp(from_px, img, ib) == 0;
		}
	}
	printf("exact %u/%u", exact, n);
	if (px)
		printf(", pixels %u/%u", same_px, n);
	printf("\n");
	fclose(f);
	if (px)
		fclose(px);
	free(img), free(from_px), free(ref), free(raw);
	return exact == n && n > 0 && (!px || same_px == n) ? 0 : 1;
}
