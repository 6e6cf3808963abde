#include "data/cifar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* TE-NAS's CIFAR-10 statistics, as it passes them to torchvision. */
static const double mean_d[MN_CIFAR_CHANNELS] = {125.3 / 255.0, 123.0 / 255.0, 113.9 / 255.0};
static const double std_d[MN_CIFAR_CHANNELS] = {63.0 / 255.0, 62.1 / 255.0, 66.7 / 255.0};
const float mn_cifar_mean[MN_CIFAR_CHANNELS] = {125.3f / 255.0f, 123.0f / 255.0f, 113.9f / 255.0f};
const float mn_cifar_std[MN_CIFAR_CHANNELS] = {63.0f / 255.0f, 62.1f / 255.0f, 66.7f / 255.0f};

#define BATCH_FILES 5
#define FIX_GET "download the binary version, cifar-10-binary.tar.gz, and give data_batch_N.bin or its directory"

float mn_cifar_normalize(int channel, unsigned char v)
{
	/* In double, then rounded once, so the value does not depend on the
	 * order of float operations. */
	return (float)((v / 255.0 - mean_d[channel]) / std_d[channel]);
}

/* A file to read, found while expanding the paths. */
struct file_entry {
	char *path;
	size_t records;
};

struct file_list {
	struct file_entry *v;
	size_t n, cap;
};

static void list_free(struct file_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Checks one file's size and adds it.  Every size problem is found here,
 * before any memory is allocated for pixels. */
static int add_file(struct file_list *l, const char *path, char *err, size_t errn)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errn, "%s: cannot open: %s (%s)", path, strerror(errno),
			 errno == EACCES ? "check the permissions of the file and its directories"
					 : "check the path; " FIX_GET);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errn, "%s: is a directory inside the data set, expected a CIFAR-10 binary file (%s)",
			 path, FIX_GET);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errn, "%s: is not a regular file (give a CIFAR-10 binary file such as data_batch_1.bin)", path);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errn, "%s: the file is empty (%s)", path, FIX_GET);
		return -1;
	}
	if (st.st_size % MN_CIFAR_RECORD_BYTES != 0) {
		snprintf(err, errn, "%s: size %lld bytes is not a multiple of %d, the size of one CIFAR-10 record (the file is truncated or not CIFAR-10's binary version; %s)",
			 path, (long long)st.st_size, MN_CIFAR_RECORD_BYTES, FIX_GET);
		return -1;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct file_entry *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			snprintf(err, errn, "%s: out of memory", path);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	char *copy = strdup(path);
	if (!copy) {
		snprintf(err, errn, "%s: out of memory", path);
		return -1;
	}
	l->v[l->n].path = copy;
	l->v[l->n].records = (size_t)(st.st_size / MN_CIFAR_RECORD_BYTES);
	l->n++;
	return 0;
}

/* A directory stands for the official training batches it holds. */
static int add_dir(struct file_list *l, const char *dir, char *err, size_t errn)
{
	size_t found = 0;
	size_t len = strlen(dir);
	int slash = len > 0 && dir[len - 1] == '/';
	for (int k = 1; k <= BATCH_FILES; k++) {
		char path[4096];
		struct stat st;
		int n = snprintf(path, sizeof path, "%s%sdata_batch_%d.bin", dir, slash ? "" : "/", k);
		if (n < 0 || (size_t)n >= sizeof path) {
			snprintf(err, errn, "%.200s...: path too long (give a shorter path)", dir);
			return -1;
		}
		if (stat(path, &st) != 0 && errno == ENOENT)
			continue;
		if (add_file(l, path, err, errn) != 0)
			return -1;
		found++;
	}
	if (found == 0) {
		snprintf(err, errn, "%s: the directory holds none of data_batch_1.bin .. data_batch_5.bin (give the extracted cifar-10-batches-bin directory or a .bin file)",
			 dir);
		return -1;
	}
	return 0;
}

static int read_file(struct mn_cifar *d, const struct file_entry *fe, size_t first,
		     char *err, size_t errn)
{
	FILE *f = fopen(fe->path, "rb");
	if (!f) {
		snprintf(err, errn, "%s: cannot open: %s (%s)", fe->path, strerror(errno),
			 errno == EACCES ? "check the file's permissions" : "check the path");
		return -1;
	}
	unsigned char rec[MN_CIFAR_RECORD_BYTES];
	for (size_t r = 0; r < fe->records; r++) {
		if (fread(rec, 1, sizeof rec, f) != sizeof rec) {
			snprintf(err, errn, "%s: read error at image %zu of %zu: %s (the file changed while being read or the disk failed; try again)",
				 fe->path, r, fe->records, ferror(f) ? strerror(errno) : "unexpected end of file");
			fclose(f);
			return -1;
		}
		if (rec[0] >= MN_CIFAR_CLASSES) {
			snprintf(err, errn, "%s: image %zu (byte offset %zu) has label %d, expected 0..9 (the file is corrupt or not CIFAR-10; %s)",
				 fe->path, r, r * (size_t)MN_CIFAR_RECORD_BYTES, rec[0], FIX_GET);
			fclose(f);
			return -1;
		}
		d->labels[first + r] = rec[0];
		memcpy(d->pixels + (first + r) * MN_CIFAR_IMAGE_BYTES, rec + 1, MN_CIFAR_IMAGE_BYTES);
	}
	fclose(f); /* read-only: nothing to lose on close */
	return 0;
}

static int alloc_images(struct mn_cifar *d, size_t count, char *err, size_t errn)
{
	if (count > SIZE_MAX / MN_CIFAR_IMAGE_BYTES) {
		snprintf(err, errn, "%zu images: too many (give fewer files)", count);
		return -1;
	}
	d->labels = malloc(count);
	d->pixels = malloc(count * MN_CIFAR_IMAGE_BYTES);
	if (!d->labels || !d->pixels) {
		free(d->labels);
		free(d->pixels);
		d->labels = NULL;
		d->pixels = NULL;
		snprintf(err, errn, "out of memory for %zu CIFAR-10 images (%zu MB; give fewer files)",
			 count, count * (size_t)MN_CIFAR_RECORD_BYTES >> 20);
		return -1;
	}
	d->count = count;
	return 0;
}

int mn_cifar_load_paths(struct mn_cifar *d, const char *const *paths, size_t npaths,
			char *err, size_t errn)
{
	struct file_list l = {0};
	memset(d, 0, sizeof *d);
	if (npaths == 0) {
		snprintf(err, errn, "no CIFAR-10 path given (give a data_batch_N.bin file or its directory)");
		return -1;
	}
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		int rc;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc = add_dir(&l, paths[i], err, errn);
		else
			rc = add_file(&l, paths[i], err, errn);
		if (rc != 0) {
			list_free(&l);
			return -1;
		}
	}
	size_t total = 0;
	for (size_t i = 0; i < l.n; i++)
		total += l.v[i].records;
	if (alloc_images(d, total, err, errn) != 0) {
		list_free(&l);
		return -1;
	}
	size_t first = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (read_file(d, &l.v[i], first, err, errn) != 0) {
			list_free(&l);
			mn_cifar_free(d);
			return -1;
		}
		first += l.v[i].records;
	}
	d->files = l.n;
	list_free(&l);
	return 0;
}

int mn_cifar_load(struct mn_cifar *d, const char *path, char *err, size_t errn)
{
	return mn_cifar_load_paths(d, &path, 1, err, errn);
}

int mn_cifar_synthetic(struct mn_cifar *d, size_t count, uint64_t seed, char *err, size_t errn)
{
	struct mn_rng r;
	memset(d, 0, sizeof *d);
	if (count == 0) {
		snprintf(err, errn, "a synthetic data set needs at least one image");
		return -1;
	}
	if (alloc_images(d, count, err, errn) != 0)
		return -1;
	/* A stream of its own, so the images do not depend on what else the
	 * caller draws from the same seed. */
	mn_rng_derive(&r, seed, 0x43494641u /* "CIFA" */);
	for (size_t i = 0; i < count; i++) {
		d->labels[i] = (unsigned char)mn_rng_below(&r, MN_CIFAR_CLASSES);
		unsigned char *px = d->pixels + i * MN_CIFAR_IMAGE_BYTES;
		for (size_t k = 0; k < MN_CIFAR_IMAGE_BYTES; k += 8) {
			uint64_t w = mn_rng_u64(&r);
			for (int b = 0; b < 8; b++)
				px[k + (size_t)b] = (unsigned char)(w >> (8 * b));
		}
	}
	d->synthetic = 1;
	return 0;
}

void mn_cifar_free(struct mn_cifar *d)
{
	free(d->labels);
	free(d->pixels);
	memset(d, 0, sizeof *d);
}

void mn_cifar_histogram(const struct mn_cifar *d, size_t hist[MN_CIFAR_CLASSES])
{
	for (int k = 0; k < MN_CIFAR_CLASSES; k++)
		hist[k] = 0;
	for (size_t i = 0; i < d->count; i++)
		hist[d->labels[i]]++;
}

int mn_cifar_batch(const struct mn_cifar *d, struct mn_rng *rng, size_t b, float *out,
		   unsigned char *labels, size_t *index, char *err, size_t errn)
{
	if (b == 0 || b > d->count) {
		snprintf(err, errn, "batch of %zu images asked from %zu images (give a batch from 1 to %zu, or more data)",
			 b, d->count, d->count);
		return -1;
	}
	if (d->count > UINT32_MAX) {
		snprintf(err, errn, "%zu images: too many to sample from", d->count);
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
	for (size_t i = 0; i < b; i++) {
		size_t j = i + mn_rng_below(rng, (uint32_t)(d->count - i));
		size_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		const unsigned char *px = d->pixels + perm[i] * MN_CIFAR_IMAGE_BYTES;
		float *o = out + i * MN_CIFAR_IMAGE_BYTES;
		for (int c = 0; c < MN_CIFAR_CHANNELS; c++)
			for (int p = 0; p < MN_CIFAR_PLANE; p++)
				o[c * MN_CIFAR_PLANE + p] = mn_cifar_normalize(c, px[c * MN_CIFAR_PLANE + p]);
		if (labels)
			labels[i] = d->labels[perm[i]];
		if (index)
			index[i] = perm[i];
	}
	free(perm);
	return 0;
}

int mn_cifar_crops(const struct mn_cifar *d, struct mn_rng *rng, size_t n, float *out,
		   char *err, size_t errn)
{
	/* The window's top-left corner is drawn from 0..29 so that all nine
	 * pixels lie inside the image: no padding in the crops. */
	const uint32_t positions = MN_CIFAR_SIDE - MN_CIFAR_CROP + 1;
	if (d->count == 0 || d->count > UINT32_MAX) {
		snprintf(err, errn, "no images to crop from (load CIFAR-10 or use a synthetic set)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		/* Draw order is part of the reproducibility contract: image,
		 * channel, row, column. */
		size_t img = mn_rng_below(rng, (uint32_t)d->count);
		int c = (int)mn_rng_below(rng, MN_CIFAR_CHANNELS);
		int y0 = (int)mn_rng_below(rng, positions);
		int x0 = (int)mn_rng_below(rng, positions);
		const unsigned char *plane = d->pixels + img * MN_CIFAR_IMAGE_BYTES + (size_t)c * MN_CIFAR_PLANE;
		float *o = out + i * MN_CIFAR_CROP * MN_CIFAR_CROP;
		for (int y = 0; y < MN_CIFAR_CROP; y++)
			for (int x = 0; x < MN_CIFAR_CROP; x++)
				o[y * MN_CIFAR_CROP + x] =
					mn_cifar_normalize(c, plane[(y0 + y) * MN_CIFAR_SIDE + x0 + x]);
	}
	return 0;
}
