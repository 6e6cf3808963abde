#ifndef MN_DATA_DATASET_SOURCE_H
#define MN_DATA_DATASET_SOURCE_H
/* Where a data set comes from: files of one of the readers (CIFAR-10/100
 * binaries, .npy sets, image folders), chosen by what the path is, or a
 * seeded synthetic batch.  The readers fill the type of data/dataset.h;
 * this file is the one place that knows all of them, so the include graph
 * of src/data stays a tree (readers -> dataset, source -> readers). */

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

/* Reads one path: a CIFAR-10/100 binary file or directory, an .npy file, a
 * directory with images.npy and labels.npy, or an image folder.  Returns 0,
 * or -1 with err holding one line; d is then empty. */
int mn_dataset_load(struct mn_dataset *d, const char *path, char *err, size_t errn);

/* Several paths, concatenated; they must be of one format, image size and
 * storage (classes: the most any of them has). */
int mn_dataset_load_paths(struct mn_dataset *d, const char *const *paths, size_t npaths,
			  char *err, size_t errn);

/* A synthetic CIFAR-10-shaped source: count 3x32x32 images of uniform random
 * bytes and random labels 0..9, deterministic in the seed, normalised with
 * CIFAR-10's statistics; d->synthetic = 1. */
int mn_dataset_synthetic(struct mn_dataset *d, size_t count, uint64_t seed, char *err, size_t errn);

/* The same at another shape (height x width x channels, classes): the
 * bytes come from the same stream, so 32x32x3 with 10 classes is exactly
 * mn_dataset_synthetic.  Three channels use CIFAR-10's statistics, any
 * other count the set's own. */
int mn_dataset_synthetic_shape(struct mn_dataset *d, size_t count, int height, int width,
			       int channels, int classes, uint64_t seed, char *err, size_t errn);

#endif
