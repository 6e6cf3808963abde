#include "data/dataset_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/cifar.h"
#include "data/image_folder.h"
#include "data/npy.h"

int mn_dataset_synthetic_shape(struct mn_dataset *d, size_t count, int height, int width,
			       int channels, int classes, uint64_t seed, char *err, size_t errn)
{
	struct mn_rng r;
	if (count == 0 || classes < 1) {
		memset(d, 0, sizeof *d);
		snprintf(err, errn, "a synthetic data set needs at least one image and one class");
		return -1;
	}
	if (mn_dataset_alloc(d, count, height, width, channels, 0, err, errn))
		return -1;
	d->classes = classes;
	size_t per = mn_dataset_image_size(d);
	/* A stream of its own, so the images do not depend on what else the
	 * caller draws from the same seed. */
	mn_rng_derive(&r, seed, 0x43494641u /* "CIFA" */);
	for (size_t i = 0; i < count; i++) {
		d->labels[i] = (int32_t)mn_rng_below(&r, (uint32_t)classes);
		unsigned char *px = d->pixels + i * per;
		for (size_t k = 0; k < per; k += 8) {
			uint64_t w = mn_rng_u64(&r);
			for (size_t b = 0; b < 8 && k + b < per; b++)
				px[k + b] = (unsigned char)(w >> (8 * b));
		}
	}
	int rc = channels == MN_CIFAR_CHANNELS ? mn_cifar_set_stats(d, MN_CIFAR_CLASSES, err, errn)
					       : mn_dataset_set_stats(d, NULL, NULL, err, errn);
	if (rc) {
		mn_dataset_free(d);
		return -1;
	}
	d->classes = classes;
	d->synthetic = 1;
	snprintf(d->format, sizeof d->format, "synthetic");
	return 0;
}

int mn_dataset_synthetic(struct mn_dataset *d, size_t count, uint64_t seed, char *err, size_t errn)
{
	return mn_dataset_synthetic_shape(d, count, MN_CIFAR_SIDE, MN_CIFAR_SIDE, MN_CIFAR_CHANNELS,
					  MN_CIFAR_CLASSES, seed, err, errn);
}

/* What one path holds. */
enum kind { K_CIFAR, K_NPY, K_FOLDER, K_NPZ };

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static enum kind kind_of(const char *path)
{
	if (is_dir(path)) {
		if (mn_cifar_dir_kind(path) != 0)
			return K_CIFAR;
		if (mn_npy_dir_has_set(path))
			return K_NPY;
		return K_FOLDER;
	}
	if (has_suffix(path, ".npz"))
		return K_NPZ;
	return has_suffix(path, ".npy") ? K_NPY : K_CIFAR;
}

static int load_one(struct mn_dataset *d, const char *path, char *err, size_t errn)
{
	switch (kind_of(path)) {
	case K_NPY:
		return mn_npy_load_set(d, path, err, errn);
	case K_FOLDER:
		return mn_image_folder_load(d, path, err, errn);
	case K_NPZ:
		/* Read as a CIFAR binary, an archive was refused as a
		 * truncated one: name what it is and what is read instead. */
		snprintf(err, errn, "%s: a .npz archive is not read (save the images and labels as .npy files: numpy.save('X.npy', x) and numpy.save('X_labels.npy', y), then give X.npy)",
			 path);
		return -1;
	default:
		return mn_cifar_read_paths(d, &path, 1, err, errn);
	}
}

/* Appends b to a (same format, shape and storage), freeing b. */
static int append(struct mn_dataset *a, struct mn_dataset *b, const char *path, char *err, size_t errn)
{
	if (b->height != a->height || b->width != a->width || b->channels != a->channels ||
	    !b->pixels != !a->pixels || strcmp(a->format, b->format) != 0) {
		snprintf(err, errn, "%s: %s of %dx%dx%d %s does not match the paths before it (%s of %dx%dx%d %s; give data of one kind)",
			 path, b->format, b->height, b->width, b->channels, b->pixels ? "bytes" : "floats",
			 a->format, a->height, a->width, a->channels, a->pixels ? "bytes" : "floats");
		return -1;
	}
	size_t per = mn_dataset_image_size(a) * (a->pixels ? 1 : sizeof(float));
	size_t n = a->count + b->count;
	int32_t *labels = realloc(a->labels, n * sizeof *labels);
	if (!labels)
		goto oom;
	a->labels = labels;
	if (a->pixels) {
		unsigned char *px = realloc(a->pixels, n * per);
		if (!px)
			goto oom;
		a->pixels = px;
		memcpy(px + a->count * per, b->pixels, b->count * per);
	} else {
		float *v = realloc(a->values, n * per);
		if (!v)
			goto oom;
		a->values = v;
		memcpy((unsigned char *)v + a->count * per, b->values, b->count * per);
	}
	memcpy(a->labels + a->count, b->labels, b->count * sizeof *labels);
	a->count = n;
	a->files += b->files;
	/* A part may lack the highest classes: the join has them all. */
	if (b->classes > a->classes)
		a->classes = b->classes;
	mn_dataset_free(b);
	return 0;
oom:
	snprintf(err, errn, "%s: out of memory joining the data sets (give fewer paths)", path);
	return -1;
}

int mn_dataset_load_paths(struct mn_dataset *d, const char *const *paths, size_t npaths,
			  char *err, size_t errn)
{
	memset(d, 0, sizeof *d);
	if (npaths == 0) {
		snprintf(err, errn, "no data path given (give a CIFAR-10/100 binary, an .npy file or an image folder)");
		return -1;
	}
	/* CIFAR files are read together, as before: sizes are checked before
	 * anything is allocated. */
	int all_cifar = 1;
	for (size_t i = 0; i < npaths; i++)
		all_cifar &= kind_of(paths[i]) == K_CIFAR;
	if (all_cifar)
		return mn_cifar_read_paths(d, paths, npaths, err, errn);
	if (load_one(d, paths[0], err, errn))
		return -1;
	for (size_t i = 1; i < npaths; i++) {
		struct mn_dataset b;
		if (load_one(&b, paths[i], err, errn)) {
			mn_dataset_free(d);
			return -1;
		}
		if (append(d, &b, paths[i], err, errn)) {
			mn_dataset_free(&b);
			mn_dataset_free(d);
			return -1;
		}
	}
	/* The statistics of the joined set, not of the first part. */
	if (npaths > 1 && mn_dataset_set_stats(d, NULL, NULL, err, errn)) {
		mn_dataset_free(d);
		return -1;
	}
	return 0;
}

int mn_dataset_load(struct mn_dataset *d, const char *path, char *err, size_t errn)
{
	return mn_dataset_load_paths(d, &path, 1, err, errn);
}
