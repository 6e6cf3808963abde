/* Built by tests/test_deploy.sh with the host compiler against the sources
 * `micronas deploy` wrote (model.c, fw-profiler/qnet.c, kernels.c): runs
 * mn_model_run on the images of check.bin and compares the int32 logits
 * byte for byte with micronas's host int8 reference stored there.
 * Prints "exact N/M"; exit 0 only when every image matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

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
	int8_t *img = malloc(ib);
	unsigned char *ref = malloc(4 * k);
	int32_t logits[MN_MODEL_CLASSES];
	for (uint32_t i = 0; i < n; i++) {
		if (fread(img, 1, ib, f) != ib || fread(ref, 1, 4 * k, f) != 4 * k)
			return 2;
		int ok = mn_model_run(img, logits) == 0;
		for (uint32_t c = 0; c < k && ok; c++)
			ok = (uint32_t)logits[c] == le32(ref + 4 * c);
		exact += ok;
	}
	printf("exact %u/%u\n", exact, n);
	fclose(f);
	free(img);
	free(ref);
	return exact == n && n > 0 ? 0 : 1;
}
