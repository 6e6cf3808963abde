/* Calibration: the activation ranges of the float network on a batch of
 * images, then int8 quantization (quantize.h).  `micronas deploy` and
 * `micronas validate --weights` both quantize through here, so the same
 * weights, data and image count give the same model, byte for byte (its
 * fingerprint, mnq_fingerprint, is what the board is checked against),
 * whatever the thread counts. */
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

/* The clipping range r of a symmetric int8 tensor (scale r / 127) that
 * minimises the expected squared quantization error of the values whose
 * magnitudes hist counts (bins bins over [0, hist_max]): values within r
 * cost the rounding noise (r / 127)^2 / 12, values above it their
 * clipping, (|v| - r)^2 at the bin's centre.  The candidates are the bins'
 * upper edges. */
float mn_calib_mse_range(const double *hist, int bins, float hist_max);

/* What the float network shows on a calibration batch. */
struct mn_calib {
	int images, nconv;
	float *amax;         /* [slots] (fnet.h): the largest |value| */
	float *range;        /* [slots]: the MSE-optimal clipping range (above) */
	double **patch_mean; /* [convs] (fnet.h): E[x] of each conv's input patch
			      * elements, NULL for an edge that is not a conv */
	float **patch_cov;   /* [convs]: E[x x^T] of the same (upper triangle) */
	double *pooled_mean; /* [4C]: E of the pooled features */
};

/* Runs the float network on images 0 .. n-1 of d (two passes: the largest
 * magnitudes, then histograms over them, the means and the patches'
 * second moments), on up to `threads` threads (< 1: all cores; images in
 * parts of 16, a part a thread; the result does not depend on the thread
 * count).  0, or
 * -1 with one line in err (c then holds nothing). */
int mn_calib_collect(struct mn_calib *c, const struct mn_fnet *f, const struct mn_dataset *d,
		     int n, int threads, char *err, size_t errn);
void mn_calib_free(struct mn_calib *c);

/* mn_calib_collect (threads as there), then int8 quantization with the MSE ranges, GPTQ
 * weights and the bias correction (quantize.h).  0, or -1 with one line
 * in err. */
int mn_calibrate(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d, int n,
		 int threads, char *err, size_t errn);

/* Asked on the calling thread between steps: nonzero to stop (deploy's
 * pending Ctrl-C). */
typedef int (*mn_calib_stop_fn)(void *ctx);

/* mn_calibrate, asking stop(ctx) (NULL: never) before each wave of parts
 * and before the GPTQ rounding, so that a stop is honoured within one
 * wave (16 images a thread) rather than after every image: 1 when it
 * stopped (q then holds nothing, err ""), else as mn_calibrate.  The
 * model does not depend on stop. */
int mn_calibrate_stoppable(struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d,
			   int n, int threads, mn_calib_stop_fn stop, void *ctx, char *err, size_t errn);

#endif
