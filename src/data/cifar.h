/* CIFAR-10 training images: reading the official binary format, TE-NAS's
 * normalisation, and the two kinds of input the proxies need (a batch of
 * whole images for the NTK, random 3x3 single-channel crops for the linear
 * regions).  The library never prints: errors come back as a return code
 * and a one-line message. */
#ifndef MN_CIFAR_H
#define MN_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

#define MN_CIFAR_SIDE 32
#define MN_CIFAR_CHANNELS 3
#define MN_CIFAR_PLANE (MN_CIFAR_SIDE * MN_CIFAR_SIDE)                /* 1024 */
#define MN_CIFAR_IMAGE_BYTES (MN_CIFAR_CHANNELS * MN_CIFAR_PLANE)     /* 3072 */
#define MN_CIFAR_RECORD_BYTES (1 + MN_CIFAR_IMAGE_BYTES)              /* 3073 */
#define MN_CIFAR_CLASSES 10
#define MN_CIFAR_CROP 3 /* the linear-region network's input is 1 x 3 x 3 */

/* The line a front end prints when it falls back to synthetic data. */
#define MN_CIFAR_SYNTHETIC_NOTICE "no CIFAR-10 data given: using a synthetic input batch"

/* TE-NAS's per-channel normalisation: (pixel/255 - mean) / std. */
extern const float mn_cifar_mean[MN_CIFAR_CHANNELS]; /* (125.3, 123.0, 113.9)/255 */
extern const float mn_cifar_std[MN_CIFAR_CHANNELS];  /* (63.0, 62.1, 66.7)/255 */

struct mn_cifar {
	size_t count;            /* images */
	unsigned char *labels;   /* count labels, 0..9 */
	unsigned char *pixels;   /* count x 3072 bytes: R, G, B planes, row-major */
	int synthetic;           /* 1: generated from a seed, not read from files */
	size_t files;            /* files read (0 when synthetic) */
};

/* Reads one path: a CIFAR-10 binary file, or a directory holding the
 * official data_batch_1.bin .. data_batch_5.bin (those that exist are read,
 * in order; none is an error).  Returns 0, or -1 with err holding one line
 * naming the file, the problem and the fix; d is then empty. */
int mn_cifar_load(struct mn_cifar *d, const char *path, char *err, size_t errn);

/* Reads several paths (files or directories, as above), concatenated. */
int mn_cifar_load_paths(struct mn_cifar *d, const char *const *paths, size_t npaths,
			char *err, size_t errn);

/* A synthetic source: count images of uniform random bytes and random
 * labels, deterministic in the seed, with d->synthetic = 1.  They go through
 * the same normalisation as real images. */
int mn_cifar_synthetic(struct mn_cifar *d, size_t count, uint64_t seed, char *err, size_t errn);

void mn_cifar_free(struct mn_cifar *d);

/* Label histogram: hist[k] = number of images of class k. */
void mn_cifar_histogram(const struct mn_cifar *d, size_t hist[MN_CIFAR_CLASSES]);

/* One byte of channel c, normalised. */
float mn_cifar_normalize(int channel, unsigned char v);

/* Draws b distinct images (without replacement within the batch), in a
 * random order, into out as float NCHW (b x 3 x 32 x 32), normalised;
 * labels (may be NULL) gets their labels and index (may be NULL) their
 * positions in d.  Needs 1 <= b <= d->count.  Returns 0 or -1 with err. */
int mn_cifar_batch(const struct mn_cifar *d, struct mn_rng *rng, size_t b, float *out,
		   unsigned char *labels, size_t *index, char *err, size_t errn);

/* Draws n crops for the linear-region network into out (n x 1 x 3 x 3):
 * each from an independently drawn image, one random channel, and a random
 * 3x3 window lying wholly inside the 32x32 image (top-left corner in
 * 0..29), normalised with that channel's mean and std.  Returns 0 or -1. */
int mn_cifar_crops(const struct mn_cifar *d, struct mn_rng *rng, size_t n, float *out,
		   char *err, size_t errn);

#endif
