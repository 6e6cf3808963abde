/* The one input-data type every `--data` user gets (score, search, TUI,
 * atlas, deploy calibration): labelled images of one size, whatever file
 * format they came from, with the normalisation the proxies feed them
 * through and the two kinds of input the proxies draw (a batch of whole
 * images for the NTK, random 3x3 single-channel crops for the linear
 * regions).
 *
 * Formats (mn_dataset_load decides from the path; see the man page, DATA):
 *  - CIFAR-10 and CIFAR-100 binaries (cifar.h): a file, several, or the
 *    extracted directory;
 *  - NumPy .npy arrays (npy.h): X.npy with X_labels.npy beside it, or a
 *    directory holding images.npy and labels.npy;
 *  - a directory of PNG/JPEG images, one subfolder per class
 *    (image_folder.h).
 *
 * Normalisation: a value v (a byte / 255, or a float32 as stored) becomes
 * (v - mean[c]) / std[c], computed in double and rounded once.  CIFAR-10
 * and CIFAR-100 use TE-NAS's published statistics; every other set uses its
 * own per-channel mean and (population) standard deviation.
 *
 * The library never prints: errors come back as -1 and one line in err
 * naming the file, the problem and the fix. */
#ifndef MN_DATASET_H
#define MN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

#define MN_DATASET_CROP 3 /* the linear-region network's input is 1 x 3 x 3 */

/* The line a front end prints when it falls back to synthetic data. */
#define MN_DATASET_SYNTHETIC_NOTICE "no CIFAR-10 data given: using a synthetic input batch"

struct mn_dataset {
	size_t count;            /* images */
	int height, width;       /* pixels */
	int channels;            /* 1 (grayscale), 3 (RGB), or any other */
	int classes;             /* labels are 0..classes-1 */
	int32_t *labels;         /* count labels */
	/* Pixels, count x channels x height x width (planes, row-major): one
	 * of the two is set. */
	unsigned char *pixels;   /* bytes: a value is pixel / 255 */
	float *values;           /* float32 as stored */
	double *mean, *std;      /* channels each, in the value's units */
	float *lut;              /* bytes only: channels x 256 normalised values */
	int synthetic;           /* 1: generated from a seed, not read from files */
	size_t files;            /* files read (0 when synthetic) */
	char format[24];         /* "CIFAR-10", "CIFAR-100", "npy", "image folder", "synthetic" */
};

void mn_dataset_free(struct mn_dataset *d);

/* A 64-bit hash of everything the proxies read from the data: the shape,
 * the class count, the labels and the stored pixel values, in order.  Cache
 * keys and atlas settings carry it, so a file made on other data is never
 * taken for this data's. */
uint64_t mn_dataset_fingerprint(const struct mn_dataset *d);

/* Allocates count images of the given shape (bytes, or floats when
 * floats is 1), labels and the per-channel statistics (mean 0, std 1);
 * the readers fill them.  Returns 0 or -1 with err. */
int mn_dataset_alloc(struct mn_dataset *d, size_t count, int height, int width, int channels,
		     int floats, char *err, size_t errn);

/* Sets mean and std: given (n = channels values each) or, with mean NULL,
 * measured over the whole set (a constant channel gets std 1).  Then
 * builds the byte lookup table.  Returns 0 or -1 (out of memory). */
int mn_dataset_set_stats(struct mn_dataset *d, const double *mean, const double *std,
			 char *err, size_t errn);

/* Values per image (channels x height x width). */
size_t mn_dataset_image_size(const struct mn_dataset *d);

/* The size the NTK batch is drawn at: the images' own height and width.
 * The network's reductions halve any side by mn_half_side (ceil(n / 2),
 * space/cost.h), so no crop is needed: 49x10 stays 49x10.  (The batch
 * code still takes the central crop of this size, which is the whole
 * image.) */
void mn_dataset_proxy_size(const struct mn_dataset *d, int *height, int *width);

/* Floats per image of a batch: channels x proxy height x proxy width. */
size_t mn_dataset_batch_image_size(const struct mn_dataset *d);

/* Refuses labels a network of `classes` outputs cannot give (label >=
 * classes): an accuracy over them would count images the network can never
 * get right.  A synthetic set's labels are not checked (nothing counts
 * them).  Returns 0, or -1 with err naming path, the largest label, the
 * class count and the fix. */
int mn_dataset_labels_check(const struct mn_dataset *d, const char *path, int classes, char *err,
			    size_t errn);

/* Label histogram: hist[k] = images of class k, for k < d->classes. */
void mn_dataset_histogram(const struct mn_dataset *d, size_t *hist);

/* One value of image i, normalised. */
float mn_dataset_value(const struct mn_dataset *d, size_t i, int c, int y, int x);

/* Draws b distinct images (without replacement within the batch), in a
 * random order, into out as float NCHW (b x channels x proxy height x proxy
 * width, mn_dataset_proxy_size), normalised; labels (may be NULL) gets
 * their labels and index (may be NULL) their positions in d.  Needs
 * 1 <= b <= d->count.  Returns 0 or -1 with err. */
int mn_dataset_batch(const struct mn_dataset *d, struct mn_rng *rng, size_t b, float *out,
		     int32_t *labels, size_t *index, char *err, size_t errn);

/* Draws n crops for the linear-region network into out (n x 1 x 3 x 3):
 * each from an independently drawn image, one random channel, and a random
 * 3x3 window lying wholly inside the image (top-left row in
 * 0..height-3, column in 0..width-3), normalised.  Draw order: image,
 * channel, row, column.  Returns 0 or -1. */
int mn_dataset_crops(const struct mn_dataset *d, struct mn_rng *rng, size_t n, float *out,
		     char *err, size_t errn);

#endif
