/* Calibration: the activation ranges of the float network on a batch of
 * images, then int8 quantization (quantize.h).  `micronas deploy` and
 * `micronas validate --weights` both quantize through here, so the same
 * weights, data and image count give the same model, byte for byte (its
 * fingerprint, mnq_fingerprint, is what the board is checked against). */
#ifndef MN_CALIBRATE_H
#define MN_CALIBRATE_H

#include <stddef.h>

#include "data/dataset.h"
#include "export/quantize.h"
#include "export/weights_check.h"

/* Image i of d as normalised float [channels][height][width] of the
 * network's input (s): the data's own when it has that size, generated
 * pixels otherwise. */
void mn_calib_image(const struct mn_dataset *d, size_t i, const struct mn_net_shape *s, float *x);

/* Runs the float network on images 0 .. n-1 of d, sets each activation
 * tensor's range and quantizes.  0, or -1 with one line in err. */
int mn_calibrate(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d, int n,
		 char *err, size_t errn);

#endif
