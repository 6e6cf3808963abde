#include "data/cifar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* TE-NAS's statistics, as it passes them to torchvision. */
static const double mean10[MN_CIFAR_CHANNELS] = {125.3 / 255.0, 123.0 / 255.0, 113.9 / 255.0};
static const double std10[MN_CIFAR_CHANNELS] = {63.0 / 255.0, 62.1 / 255.0, 66.7 / 255.0};
static const double mean100[MN_CIFAR_CHANNELS] = {129.3 / 255.0, 124.1 / 255.0, 112.4 / 255.0};
static const double std100[MN_CIFAR_CHANNELS] = {68.2 / 255.0, 65.4 / 255.0, 70.4 / 255.0};
const float mn_cifar_mean[MN_CIFAR_CHANNELS] = {125.3f / 255.0f, 123.0f / 255.0f, 113.9f / 255.0f};
const float mn_cifar_std[MN_CIFAR_CHANNELS] = {63.0f / 255.0f, 62.1f / 255.0f, 66.7f / 255.0f};

#define BATCH_FILES 5
#define FIX_GET "download the binary version (cifar-10-binary.tar.gz or cifar-100-binary.tar.gz) and give a .bin file or its directory"

float mn_cifar_normalize(int channel, unsigned char v)
{
	/* In double, then rounded once, so the value does not depend on the
	 * order of float operations. */
	return (float)((v / 255.0 - mean10[channel]) / std10[channel]);
}

int mn_cifar_set_stats(struct mn_dataset *d, int classes, char *err, size_t errn)
{
	d->classes = classes;
	snprintf(d->format, sizeof d->format, "CIFAR-%d", classes);
	return classes == MN_CIFAR100_CLASSES ? mn_dataset_set_stats(d, mean100, std100, err, errn)
					      : mn_dataset_set_stats(d, mean10, std10, err, errn);
}

/* A file to read, found while expanding the paths. */
struct file_entry {
	char *path;
	size_t records;
	int classes; /* 10 or 100: the record layout */
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

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static size_t record_bytes(int classes)
{
	return classes == MN_CIFAR100_CLASSES ? MN_CIFAR100_RECORD_BYTES : MN_CIFAR_RECORD_BYTES;
}

/* Checks one file's size, decides its layout and adds it.  Every size
 * problem is found here, before any memory is allocated for pixels. */
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
		snprintf(err, errn, "%s: is a directory inside the data set, expected a CIFAR binary file (%s)",
			 path, FIX_GET);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errn, "%s: is not a regular file (give a CIFAR binary file such as data_batch_1.bin)", path);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errn, "%s: the file is empty (%s)", path, FIX_GET);
		return -1;
	}
	/* The record size decides; CIFAR-100's file names (train.bin,
	 * test.bin) only break a tie, or name the format a truncated file was
	 * meant to have.  A CIFAR-10 file that a user or a script named
	 * train.bin is still CIFAR-10. */
	int classes;
	const char *b = base_name(path);
	int named100 = strcmp(b, "train.bin") == 0 || strcmp(b, "test.bin") == 0;
	int fits10 = st.st_size % MN_CIFAR_RECORD_BYTES == 0;
	int fits100 = st.st_size % MN_CIFAR100_RECORD_BYTES == 0;
	if (fits10 && fits100)
		classes = named100 ? MN_CIFAR100_CLASSES : MN_CIFAR_CLASSES;
	else if (fits10)
		classes = MN_CIFAR_CLASSES;
	else if (fits100 || named100)
		classes = MN_CIFAR100_CLASSES;
	else {
		snprintf(err, errn, "%s: size %lld bytes is not a multiple of %d (a CIFAR-10 record) or %d (a CIFAR-100 record): the file is truncated or not a CIFAR binary (%s; .npy files need the .npy suffix)",
			 path, (long long)st.st_size, MN_CIFAR_RECORD_BYTES, MN_CIFAR100_RECORD_BYTES, FIX_GET);
		return -1;
	}
	if (st.st_size % (long long)record_bytes(classes) != 0) {
		snprintf(err, errn, "%s: size %lld bytes is not a multiple of %zu, the size of one CIFAR-%d record (the file is truncated or not CIFAR-%d's binary version; %s)",
			 path, (long long)st.st_size, record_bytes(classes), classes, classes, FIX_GET);
		return -1;
	}
	if (l->n > 0 && l->v[0].classes != classes) {
		snprintf(err, errn, "%s: is CIFAR-%d but %s is CIFAR-%d (give files of one data set)", path,
			 classes, l->v[0].path, l->v[0].classes);
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
	l->v[l->n].records = (size_t)st.st_size / record_bytes(classes);
	l->v[l->n].classes = classes;
	l->n++;
	return 0;
}

static int join(char *out, size_t n, const char *dir, const char *name)
{
	size_t len = strlen(dir);
	int slash = len > 0 && dir[len - 1] == '/';
	int k = snprintf(out, n, "%s%s%s", dir, slash ? "" : "/", name);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int mn_cifar_dir_kind(const char *dir)
{
	char path[4096];
	for (int k = 1; k <= BATCH_FILES; k++) {
		char name[32];
		snprintf(name, sizeof name, "data_batch_%d.bin", k);
		if (join(path, sizeof path, dir, name) == 0 && exists(path))
			return MN_CIFAR_CLASSES;
	}
	if (join(path, sizeof path, dir, "train.bin") == 0 && exists(path))
		return MN_CIFAR100_CLASSES;
	return 0;
}

/* A directory stands for the official training files it holds. */
static int add_dir(struct file_list *l, const char *dir, char *err, size_t errn)
{
	char path[4096];
	int kind = mn_cifar_dir_kind(dir);
	if (kind == MN_CIFAR100_CLASSES) {
		if (join(path, sizeof path, dir, "train.bin") != 0) {
			snprintf(err, errn, "%.200s...: path too long (give a shorter path)", dir);
			return -1;
		}
		return add_file(l, path, err, errn);
	}
	if (kind == 0) {
		snprintf(err, errn, "%s: the directory holds none of data_batch_1.bin .. data_batch_5.bin (CIFAR-10), train.bin (CIFAR-100), images.npy or class subfolders of images (give the extracted cifar-10-batches-bin directory, a .bin or .npy file, or an image folder)",
			 dir);
		return -1;
	}
	for (int k = 1; k <= BATCH_FILES; k++) {
		char name[32];
		snprintf(name, sizeof name, "data_batch_%d.bin", k);
		if (join(path, sizeof path, dir, name) != 0) {
			snprintf(err, errn, "%.200s...: path too long (give a shorter path)", dir);
			return -1;
		}
		if (!exists(path) && errno == ENOENT)
			continue;
		if (add_file(l, path, err, errn) != 0)
			return -1;
	}
	return 0;
}

static int read_file(struct mn_dataset *d, const struct file_entry *fe, size_t first,
		     char *err, size_t errn)
{
	FILE *f = fopen(fe->path, "rb");
	if (!f) {
		snprintf(err, errn, "%s: cannot open: %s (%s)", fe->path, strerror(errno),
			 errno == EACCES ? "check the file's permissions" : "check the path");
		return -1;
	}
	unsigned char rec[MN_CIFAR100_RECORD_BYTES];
	size_t rb = record_bytes(fe->classes), skip = rb - MN_CIFAR_IMAGE_BYTES;
	for (size_t r = 0; r < fe->records; r++) {
		if (fread(rec, 1, rb, f) != rb) {
			snprintf(err, errn, "%s: read error at image %zu of %zu: %s (the file changed while being read or the disk failed; try again)",
				 fe->path, r, fe->records, ferror(f) ? strerror(errno) : "unexpected end of file");
			fclose(f);
			return -1;
		}
		/* CIFAR-100: byte 0 is the coarse label, byte 1 the fine one. */
		int label = rec[skip - 1];
		if (label >= fe->classes) {
			snprintf(err, errn, "%s: image %zu (byte offset %zu) has label %d, expected 0..%d (the file is corrupt or not CIFAR-%d; %s)",
				 fe->path, r, r * rb, label, fe->classes - 1, fe->classes, FIX_GET);
			fclose(f);
			return -1;
		}
		d->labels[first + r] = label;
		memcpy(d->pixels + (first + r) * MN_CIFAR_IMAGE_BYTES, rec + skip, MN_CIFAR_IMAGE_BYTES);
	}
	fclose(f); /* read-only: nothing to lose on close */
	return 0;
}

int mn_cifar_read_paths(struct mn_dataset *d, const char *const *paths, size_t npaths,
			char *err, size_t errn)
{
	struct file_list l = {0};
	memset(d, 0, sizeof *d);
	if (npaths == 0) {
		snprintf(err, errn, "no CIFAR path given (give a data_batch_N.bin file or its directory)");
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
	if (mn_dataset_alloc(d, total, MN_CIFAR_SIDE, MN_CIFAR_SIDE, MN_CIFAR_CHANNELS, 0, err, errn)) {
		list_free(&l);
		return -1;
	}
	size_t first = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (read_file(d, &l.v[i], first, err, errn) != 0) {
			list_free(&l);
			mn_dataset_free(d);
			return -1;
		}
		first += l.v[i].records;
	}
	d->files = l.n;
	int classes = l.v[0].classes;
	list_free(&l);
	if (mn_cifar_set_stats(d, classes, err, errn)) {
		mn_dataset_free(d);
		return -1;
	}
	return 0;
}
