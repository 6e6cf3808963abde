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

int mn_calibrate(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d, int n,
		 char *err, size_t errn)
{
	const struct mn_net_shape *s = &f->shape;
	int rc = -1;
	float *amax = calloc((size_t)mn_slot_count(s), sizeof *amax);
	float *x = malloc(sizeof(float) * mn_shape_input_values(s));
	float *lg = malloc(sizeof(float) * (size_t)s->classes);
	if (!amax || !x || !lg) {
		snprintf(err, errn, "out of memory calibrating");
		goto out;
	}
	for (int i = 0; i < n && (size_t)i < d->count; i++) {
		mn_calib_image(d, (size_t)i, s, x);
		if (mn_fnet_forward(f, x, lg, amax) != 0) {
			snprintf(err, errn, "out of memory in the float forward");
			goto out;
		}
	}
	if (mn_quantize(q, f, amax) != 0) {
		snprintf(err, errn, "out of memory quantizing");
		goto out;
	}
	rc = 0;
out:
	free(amax), free(x), free(lg);
	return rc;
}
