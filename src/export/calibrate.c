/* Calibration; see calibrate.h. */
#include "export/calibrate.h"

#include <stdio.h>
#include <stdlib.h>

#include "data/cifar.h"
#include "export/fnet.h"
#include "util/rng.h"

void mn_calib_image(const struct mn_dataset *d, size_t i, int R, float *x)
{
	if (d->height == R && d->width == R && d->channels == 3) {
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < R; y++)
				for (int xx = 0; xx < R; xx++)
					x[(c * R + y) * R + xx] = mn_dataset_value(d, i, c, y, xx);
		return;
	}
	struct mn_rng r;
	mn_rng_seed(&r, 0x1234 + i);
	for (int c = 0; c < 3; c++)
		for (int j = 0; j < R * R; j++)
			x[c * R * R + j] = mn_cifar_normalize(c, (unsigned char)mn_rng_below(&r, 256));
}

int mn_calibrate(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d, int n,
		 char *err, size_t errn)
{
	const struct mn_net_shape *s = &f->shape;
	int R = s->height, rc = -1; /* square RGB: deploy and validate refuse others */
	float *amax = calloc((size_t)mn_slot_count(s), sizeof *amax);
	float *x = malloc(sizeof(float) * 3 * (size_t)R * R);
	float *lg = malloc(sizeof(float) * (size_t)s->classes);
	if (!amax || !x || !lg) {
		snprintf(err, errn, "out of memory calibrating");
		goto out;
	}
	for (int i = 0; i < n && (size_t)i < d->count; i++) {
		mn_calib_image(d, (size_t)i, R, x);
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
