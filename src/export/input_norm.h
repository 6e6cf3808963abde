/* The input normalisation trained weights carry.  model.py normalises its
 * training images per channel, (v - mean) / std, and writes that mean and
 * std into the weights' metadata (input_mean, input_std: comma-separated
 * numbers, one per input channel).  deploy and validate --weights normalise
 * their images with those, so the int8 model is calibrated and run on
 * inputs scaled as in training, whichever file the images come from (a
 * NumPy set's own statistics change with the images in it).  Weights
 * without the keys (older model.py files, other writers) keep the data's
 * own statistics. */
#ifndef MN_INPUT_NORM_H
#define MN_INPUT_NORM_H

#include <stddef.h>

struct mn_safetensors;
struct mn_dataset;

struct mn_input_norm {
	int channels;        /* 0: the weights carry none */
	double *mean, *std;  /* channels each */
};

/* Reads the keys of st for a network of `channels` input channels.  0 (n
 * filled, or n->channels 0 when both keys are absent), or -1 with one line
 * in err naming label and the bad key (one key without the other, not
 * `channels` finite numbers, a std not above 0). */
int mn_input_norm_read(struct mn_input_norm *n, const struct mn_safetensors *st, int channels,
		       const char *label, char *err, size_t errn);

/* Normalises d with n (mn_dataset_set_stats); *same is 1 when d's own
 * statistics agreed with n's to 1e-6 (relative), else 0.  0, or -1 with
 * one line in err (out of memory, or d's channels are not n's). */
int mn_input_norm_apply(const struct mn_input_norm *n, struct mn_dataset *d, int *same, char *err,
			size_t errn);

void mn_input_norm_free(struct mn_input_norm *n);

#endif
