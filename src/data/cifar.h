/* CIFAR-10 and CIFAR-100 binaries (the official "binary version"), read into
 * the one input type (dataset.h), with TE-NAS's normalisation statistics.
 *
 * CIFAR-10 records are 1 label byte + 3072 pixel bytes (R, G, B planes of
 * 32x32, row-major); CIFAR-100 records are 1 coarse + 1 fine label byte +
 * the same pixels, and the fine label (0..99) is the one used.  A directory
 * stands for its training files: data_batch_1.bin .. data_batch_5.bin
 * (CIFAR-10) or train.bin (CIFAR-100).  A file named train.bin or test.bin
 * is CIFAR-100; any other file is CIFAR-10 when its size is a multiple of
 * 3073, else CIFAR-100 when a multiple of 3074. */
#ifndef MN_CIFAR_H
#define MN_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

#define MN_CIFAR_SIDE 32
#define MN_CIFAR_CHANNELS 3
#define MN_CIFAR_PLANE (MN_CIFAR_SIDE * MN_CIFAR_SIDE)                /* 1024 */
#define MN_CIFAR_IMAGE_BYTES (MN_CIFAR_CHANNELS * MN_CIFAR_PLANE)     /* 3072 */
#define MN_CIFAR_RECORD_BYTES (1 + MN_CIFAR_IMAGE_BYTES)              /* 3073 */
#define MN_CIFAR100_RECORD_BYTES (2 + MN_CIFAR_IMAGE_BYTES)           /* 3074 */
#define MN_CIFAR_CLASSES 10
#define MN_CIFAR100_CLASSES 100
#define MN_CIFAR_CROP MN_DATASET_CROP
#define MN_CIFAR_SYNTHETIC_NOTICE MN_DATASET_SYNTHETIC_NOTICE

/* TE-NAS's CIFAR-10 per-channel normalisation: (pixel/255 - mean) / std. */
extern const float mn_cifar_mean[MN_CIFAR_CHANNELS]; /* (125.3, 123.0, 113.9)/255 */
extern const float mn_cifar_std[MN_CIFAR_CHANNELS];  /* (63.0, 62.1, 66.7)/255 */

/* One byte of channel c of a CIFAR-10 image, normalised (in double, rounded
 * once: the value the proxies see). */
float mn_cifar_normalize(int channel, unsigned char v);

/* 10 or 100 when the directory holds CIFAR-10 or CIFAR-100 training files,
 * else 0. */
int mn_cifar_dir_kind(const char *dir);

/* Reads CIFAR binaries (files or directories, as above; all of one kind),
 * concatenated, into d (3x32x32 bytes, 10 or 100 classes, TE-NAS's
 * statistics).  Returns 0, or -1 with err holding one line naming the
 * file, the problem and the fix; d is then empty. */
int mn_cifar_read_paths(struct mn_dataset *d, const char *const *paths, size_t npaths,
			char *err, size_t errn);

/* Sets d's statistics to TE-NAS's for CIFAR-10 (classes 10) or CIFAR-100
 * (classes 100). */
int mn_cifar_set_stats(struct mn_dataset *d, int classes, char *err, size_t errn);

#endif
