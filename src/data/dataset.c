#include "data/dataset.h"
#include "util/hash.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


int mn_dataset_labels_check(const struct mn_dataset *d, const char *path, int classes, char *err,
			    size_t errn)
{
	int32_t top = -1;
	if (d->synthetic || !d->labels)
		return 0;
	for (size_t i = 0; i < d->count; i++)
		if (d->labels[i] > top)
			top = d->labels[i];
	if (top < classes)
		return 0;
	snprintf(err, errn, "%.300s has labels up to %d but the network has %d classes; pass "
		 "--classes %d (with weights trained for them) or give data of %d classes", path,
		 (int)top, classes, (int)top + 1, classes);
	return -1;
}

size_t mn_dataset_image_size(const struct mn_dataset *d)
{
	return (size_t)d->channels * (size_t)d->height * (size_t)d->width;
}

void mn_dataset_proxy_size(const struct mn_dataset *d, int *height, int *width)
{
	*height = d->height;
	*width = d->width;
}

size_t mn_dataset_batch_image_size(const struct mn_dataset *d)
{
	int h, w;
	mn_dataset_proxy_size(d, &h, &w);
	return (size_t)d->channels * (size_t)h * (size_t)w;
}

int mn_dataset_alloc(struct mn_dataset *d, size_t count, int height, int width, int channels,
		     int floats, char *err, size_t errn)
{
	memset(d, 0, sizeof *d);
	if (count == 0 || height < 1 || width < 1 || channels < 1) {
		snprintf(err, errn, "no images (%zu of %dx%dx%d): give a data set with at least one image",
			 count, height, width, channels);
		return -1;
	}
	d->count = count;
	d->height = height;
	d->width = width;
	d->channels = channels;
	size_t per = mn_dataset_image_size(d), elem = floats ? sizeof(float) : 1;
	if ((size_t)height > SIZE_MAX / (size_t)width / (size_t)channels ||
	    count > SIZE_MAX / per / elem) {
		snprintf(err, errn, "%zu images of %dx%dx%d: too large (give fewer images)", count, height,
			 width, channels);
		memset(d, 0, sizeof *d);
		return -1;
	}
	d->labels = calloc(count, sizeof *d->labels);
	d->mean = calloc((size_t)channels, sizeof *d->mean);
	d->std = calloc((size_t)channels, sizeof *d->std);
	if (floats)
		d->values = malloc(count * per * sizeof(float));
	else
		d->pixels = malloc(count * per);
	if (!d->labels || !d->mean || !d->std || (floats ? !d->values : !d->pixels)) {
		snprintf(err, errn, "out of memory for %zu images of %dx%dx%d (%zu MB; give fewer images)",
			 count, height, width, channels, count * per * elem >> 20);
		mn_dataset_free(d);
		return -1;
	}
	for (int c = 0; c < channels; c++)
		d->std[c] = 1.0;
	return 0;
}

void mn_dataset_free(struct mn_dataset *d)
{
	free(d->labels);
	free(d->pixels);
	free(d->values);
	free(d->mean);
	free(d->std);
	free(d->lut);
	memset(d, 0, sizeof *d);
}

int mn_dataset_set_stats(struct mn_dataset *d, const double *mean, const double *std,
			 char *err, size_t errn)
{
	size_t plane = (size_t)d->height * (size_t)d->width;
	for (int c = 0; c < d->channels; c++) {
		if (mean) {
			d->mean[c] = mean[c];
			d->std[c] = std[c];
			continue;
		}
		/* Two passes in double: the mean, then the spread about it. */
		double s = 0, q = 0, n = (double)d->count * (double)plane;
		for (size_t i = 0; i < d->count; i++) {
			size_t base = (i * (size_t)d->channels + (size_t)c) * plane;
			for (size_t p = 0; p < plane; p++)
				s += d->pixels ? d->pixels[base + p] / 255.0 : (double)d->values[base + p];
		}
		double m = s / n;
		for (size_t i = 0; i < d->count; i++) {
			size_t base = (i * (size_t)d->channels + (size_t)c) * plane;
			for (size_t p = 0; p < plane; p++) {
				double v = d->pixels ? d->pixels[base + p] / 255.0 : (double)d->values[base + p];
				q += (v - m) * (v - m);
			}
		}
		double sd = sqrt(q / n);
		d->mean[c] = m;
		d->std[c] = sd > 1e-12 && isfinite(sd) ? sd : 1.0;
	}
	free(d->lut);
	d->lut = NULL;
	if (d->pixels) {
		d->lut = malloc((size_t)d->channels * 256 * sizeof *d->lut);
		if (!d->lut) {
			snprintf(err, errn, "out of memory for the normalisation table");
			return -1;
		}
		/* The same expression as mn_cifar_normalize: one rounding. */
		for (int c = 0; c < d->channels; c++)
			for (int v = 0; v < 256; v++)
				d->lut[c * 256 + v] = (float)((v / 255.0 - d->mean[c]) / d->std[c]);
	}
	return 0;
}

float mn_dataset_value(const struct mn_dataset *d, size_t i, int c, int y, int x)
{
	size_t k = ((i * (size_t)d->channels + (size_t)c) * (size_t)d->height + (size_t)y) *
			   (size_t)d->width + (size_t)x;
	if (d->pixels)
		return d->lut[c * 256 + d->pixels[k]];
	return (float)(((double)d->values[k] - d->mean[c]) / d->std[c]);
}

void mn_dataset_histogram(const struct mn_dataset *d, size_t *hist)
{
	for (int k = 0; k < d->classes; k++)
		hist[k] = 0;
	for (size_t i = 0; i < d->count; i++)
		hist[d->labels[i]]++;
}

int mn_dataset_batch(const struct mn_dataset *d, struct mn_rng *rng, size_t b, float *out,
		     int32_t *labels, size_t *index, char *err, size_t errn)
{
	int ph, pw;
	mn_dataset_proxy_size(d, &ph, &pw);
	if (b == 0 || b > d->count) {
		snprintf(err, errn, "batch of %zu images asked from %zu images (give a batch from 1 to %zu, or more data)",
			 b, d->count, d->count);
		return -1;
	}
	if (d->count > UINT32_MAX) {
		snprintf(err, errn, "%zu images: too many to sample from", d->count);
		return -1;
	}
	if (ph < 4 || pw < 4) {
		snprintf(err, errn, "images of %dx%d are too small for the NTK network (give images of at least 4x4)",
			 d->height, d->width);
		return -1;
	}
	/* A partial Fisher-Yates shuffle: each of the b picks is uniform over
	 * the images not picked yet. */
	size_t *perm = malloc(d->count * sizeof *perm);
	if (!perm) {
		snprintf(err, errn, "out of memory drawing a batch");
		return -1;
	}
	for (size_t i = 0; i < d->count; i++)
		perm[i] = i;
	/* The central crop of the proxy size (mn_dataset_proxy_size: today the
	 * whole image, so the offsets are 0). */
	int oy = (d->height - ph) / 2, ox = (d->width - pw) / 2;
	size_t per = mn_dataset_batch_image_size(d);
	for (size_t i = 0; i < b; i++) {
		size_t j = i + mn_rng_below(rng, (uint32_t)(d->count - i));
		size_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		float *o = out + i * per;
		for (int c = 0; c < d->channels; c++)
			for (int y = 0; y < ph; y++)
				for (int x = 0; x < pw; x++)
					*o++ = mn_dataset_value(d, perm[i], c, oy + y, ox + x);
		if (labels)
			labels[i] = d->labels[perm[i]];
		if (index)
			index[i] = perm[i];
	}
	free(perm);
	return 0;
}

int mn_dataset_crops(const struct mn_dataset *d, struct mn_rng *rng, size_t n, float *out,
		     char *err, size_t errn)
{
	if (d->count == 0 || d->count > UINT32_MAX) {
		snprintf(err, errn, "no images to crop from (load a data set or use a synthetic one)");
		return -1;
	}
	if (d->height < MN_DATASET_CROP || d->width < MN_DATASET_CROP) {
		snprintf(err, errn, "images of %dx%d are smaller than the 3x3 crops of the linear-region network (give larger images)",
			 d->height, d->width);
		return -1;
	}
	/* The window's top-left corner is drawn so that all nine pixels lie
	 * inside the image: no padding in the crops (0..29 for CIFAR). */
	const uint32_t rows = (uint32_t)(d->height - MN_DATASET_CROP + 1);
	const uint32_t cols = (uint32_t)(d->width - MN_DATASET_CROP + 1);
	for (size_t i = 0; i < n; i++) {
		/* Draw order is part of the reproducibility contract: image,
		 * channel, row, column. */
		size_t img = mn_rng_below(rng, (uint32_t)d->count);
		int c = (int)mn_rng_below(rng, (uint32_t)d->channels);
		int y0 = (int)mn_rng_below(rng, rows);
		int x0 = (int)mn_rng_below(rng, cols);
		float *o = out + i * MN_DATASET_CROP * MN_DATASET_CROP;
		for (int y = 0; y < MN_DATASET_CROP; y++)
			for (int x = 0; x < MN_DATASET_CROP; x++)
				o[y * MN_DATASET_CROP + x] = mn_dataset_value(d, img, c, y0 + y, x0 + x);
	}
	return 0;
}

uint64_t mn_dataset_fingerprint(const struct mn_dataset *d)
{
	int64_t shape[5] = {(int64_t)d->count, d->height, d->width, d->channels, d->classes};
	uint64_t h = mn_hash_bytes(MN_HASH_INIT, shape, sizeof shape);
	h = mn_hash_bytes(h, d->labels, d->count * sizeof *d->labels);
	size_t n = d->count * mn_dataset_image_size(d);
	if (d->pixels)
		h = mn_hash_bytes(h, d->pixels, n);
	else if (d->values)
		h = mn_hash_bytes(h, d->values, n * sizeof *d->values);
	return h;
}
