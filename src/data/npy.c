#include "data/npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIX_SAVE "save it with numpy.save(path, np.ascontiguousarray(x))"

/* ---- reading files ----------------------------------------------------- */

static void shape_str(const struct mn_npy_header *h, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "(");
	for (int i = 0; i < h->ndim && k < n; i++)
		k += (size_t)snprintf(out + k, n - k, "%s%llu", i ? ", " : "", (unsigned long long)h->shape[i]);
	if (k < n)
		snprintf(out + k, n - k, "%s)", h->ndim == 1 ? "," : "");
}

/* err = path cannot be opened, why (errno), and the fix. */
static void cannot_open(const char *path, char *err, size_t errn)
{
	snprintf(err, errn, "%s: cannot open: %s (%s)", path, strerror(errno),
		 errno == EACCES ? "check the file's permissions" : "check the path");
}

/* Opens path, parses its header and checks that the file holds exactly the
 * data the header announces.  *f is left at the data. */
static int open_array(const char *path, FILE **f, struct mn_npy_header *h, char *err, size_t errn)
{
	char why[200];
	struct stat st;
	*f = fopen(path, "rb");
	if (!*f) {
		cannot_open(path, err, errn);
		return -1;
	}
	if (fstat(fileno(*f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errn, "%s: not a regular file (give an .npy file)", path);
		goto fail;
	}
	unsigned char pre[12];
	size_t got = fread(pre, 1, sizeof pre, *f);
	size_t total = mn_npy_header_size(pre, got);
	unsigned char *buf = NULL;
	if (total > 0 && total - (pre[6] == 1 ? 10 : 12) <= MN_NPY_MAX_HEADER && total <= (size_t)st.st_size) {
		buf = malloc(total);
		if (!buf) {
			snprintf(err, errn, "%s: out of memory for the .npy header", path);
			goto fail;
		}
		memcpy(buf, pre, got < total ? got : total);
		if (got < total && fread(buf + got, 1, total - got, *f) != total - got) {
			free(buf);
			snprintf(err, errn, "%s: read error in the .npy header (%s)", path,
				 ferror(*f) ? strerror(errno) : "the file ends inside it");
			goto fail;
		}
		got = total;
	}
	int rc = mn_npy_parse_header(buf ? buf : pre, buf ? total : got, h, why, sizeof why);
	free(buf);
	if (rc) {
		snprintf(err, errn, "%s: %s (%s)", path, why, FIX_SAVE);
		goto fail;
	}
	if (h->fortran_order) {
		snprintf(err, errn, "%s: the array is in Fortran order, only C order is read (%s)", path, FIX_SAVE);
		goto fail;
	}
	uint64_t elems = mn_npy_elements(h);
	uint64_t have = (uint64_t)st.st_size - h->data_offset;
	char sh[160];
	shape_str(h, sh, sizeof sh);
	if (elems == UINT64_MAX || elems > have / (uint64_t)h->item_size || elems * (uint64_t)h->item_size != have) {
		snprintf(err, errn, "%s: the header says shape %s of %d-byte items but the file holds %llu bytes of data (the file is truncated or its header is wrong; %s)",
			 path, sh, h->item_size, (unsigned long long)have, FIX_SAVE);
		goto fail;
	}
	if (fseek(*f, (long)h->data_offset, SEEK_SET) != 0) {
		snprintf(err, errn, "%s: cannot seek to the data: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	fclose(*f);
	*f = NULL;
	return -1;
}

static int little_endian_host(void)
{
	const uint16_t one = 1;
	return *(const unsigned char *)&one == 1;
}

/* Reads the labels file: N integer labels, 0..K-1. */
static int read_labels(struct mn_dataset *d, const char *path, char *err, size_t errn)
{
	struct mn_npy_header h;
	FILE *f;
	char sh[160];
	if (open_array(path, &f, &h, err, errn))
		return -1;
	shape_str(&h, sh, sizeof sh);
	int sz = h.item_size;
	if ((h.kind != 'u' && h.kind != 'i') || (sz != 1 && sz != 2 && sz != 4 && sz != 8) ||
	    (sz > 1 && (h.byte_order == '>' || (h.byte_order == '=' && !little_endian_host())))) {
		snprintf(err, errn, "%s: labels of dtype %c%c%d are not supported (save them as little-endian integers, e.g. labels.astype('<i8'))",
			 path, h.byte_order, h.kind, sz);
		fclose(f);
		return -1;
	}
	if (!((h.ndim == 1 || (h.ndim == 2 && h.shape[1] == 1)) && h.shape[0] == d->count)) {
		snprintf(err, errn, "%s: labels of shape %s, expected (%zu,): one label per image (give the labels that go with the images)",
			 path, sh, d->count);
		fclose(f);
		return -1;
	}
	int32_t max = -1;
	for (size_t i = 0; i < d->count; i++) {
		unsigned char b[8];
		if (fread(b, 1, (size_t)sz, f) != (size_t)sz) {
			snprintf(err, errn, "%s: read error at label %zu: %s", path, i,
				 ferror(f) ? strerror(errno) : "unexpected end of file");
			fclose(f);
			return -1;
		}
		uint64_t u = 0;
		for (int k = sz - 1; k >= 0; k--)
			u = u << 8 | b[k];
		int neg = h.kind == 'i' && (b[sz - 1] & 0x80);
		/* Class counts beyond 100000 are refused by the networks anyway. */
		if (neg || u >= 100000) {
			/* The value too: "label 0 is negative" read as a
			 * class 0 that is negative. */
			if (neg)
				snprintf(err, errn, "%s: label %zu is %lld, negative, expected 0..99999 (labels are class indices from 0)",
					 path, i, (long long)(u | (sz < 8 ? ~0ULL << (8 * sz) : 0)));
			else
				snprintf(err, errn, "%s: label %zu is %llu, expected 0..99999 (labels are class indices from 0)",
					 path, i, (unsigned long long)u);
			fclose(f);
			return -1;
		}
		d->labels[i] = (int32_t)u;
		if ((int32_t)u > max)
			max = (int32_t)u;
	}
	fclose(f);
	d->classes = max + 1;
	return 0;
}

/* Reads the images into d, converting NHWC to planes. */
static int read_images(struct mn_dataset *d, const char *path, char *err, size_t errn)
{
	struct mn_npy_header h;
	FILE *f;
	char sh[160];
	memset(d, 0, sizeof *d);
	if (open_array(path, &f, &h, err, errn))
		return -1;
	shape_str(&h, sh, sizeof sh);
	int floats;
	if (h.kind == 'u' && h.item_size == 1)
		floats = 0;
	else if (h.kind == 'f' && h.item_size == 4 && h.byte_order != '>' &&
		 (h.byte_order != '=' || little_endian_host()) && little_endian_host())
		floats = 1;
	else {
		snprintf(err, errn, "%s: images of dtype %c%c%d are not supported (save them as uint8 or float32: x.astype('uint8') or x.astype('<f4'))",
			 path, h.byte_order, h.kind, h.item_size);
		fclose(f);
		return -1;
	}
	if (h.ndim != 3 && h.ndim != 4) {
		snprintf(err, errn, "%s: images of shape %s, expected (N, H, W) or (N, H, W, C) (reshape before saving)",
			 path, sh);
		fclose(f);
		return -1;
	}
	/* PyTorch's layout, (N, C, H, W), would read as images 1 to 3
	 * pixels high, which no network takes: name the layout and the
	 * transpose rather than the size. */
	if (h.ndim == 4 && h.shape[1] >= 1 && h.shape[1] <= 3 && h.shape[3] > 4) {
		snprintf(err, errn, "%s: images of shape %s look channels-first (N, C, H, W); the reader takes (N, H, W, C) (save np.ascontiguousarray(x.transpose(0, 2, 3, 1)))",
			 path, sh);
		fclose(f);
		return -1;
	}
	uint64_t C = h.ndim == 4 ? h.shape[3] : 1;
	if (h.shape[0] == 0 || h.shape[1] == 0 || h.shape[2] == 0 || C == 0 || h.shape[1] > 65536 ||
	    h.shape[2] > 65536 || C > 4096 || h.shape[0] > SIZE_MAX / 2) {
		snprintf(err, errn, "%s: images of shape %s: no images, or a side above 65536 or more than 4096 channels (give N, H, W, C >= 1)",
			 path, sh);
		fclose(f);
		return -1;
	}
	if (mn_dataset_alloc(d, (size_t)h.shape[0], (int)h.shape[1], (int)h.shape[2], (int)C, floats, err, errn)) {
		fclose(f);
		return -1;
	}
	size_t hw = (size_t)d->height * (size_t)d->width, c = (size_t)d->channels;
	size_t row = hw * c * (floats ? 4 : 1);
	unsigned char *buf = malloc(row);
	if (!buf) {
		snprintf(err, errn, "%s: out of memory reading an image", path);
		goto fail;
	}
	for (size_t i = 0; i < d->count; i++) {
		if (fread(buf, 1, row, f) != row) {
			snprintf(err, errn, "%s: read error at image %zu: %s", path, i,
				 ferror(f) ? strerror(errno) : "unexpected end of file");
			free(buf);
			goto fail;
		}
		for (size_t p = 0; p < hw; p++)
			for (size_t k = 0; k < c; k++) {
				size_t dst = (i * c + k) * hw + p;
				if (!floats) {
					d->pixels[dst] = buf[p * c + k];
					continue;
				}
				float v;
				memcpy(&v, buf + (p * c + k) * 4, 4);
				if (!isfinite(v)) {
					snprintf(err, errn, "%s: image %zu holds a NaN or infinite value (clean the data first)",
						 path, i);
					free(buf);
					goto fail;
				}
				d->values[dst] = v;
			}
	}
	free(buf);
	fclose(f);
	d->files = 1;
	return 0;
fail:
	fclose(f);
	mn_dataset_free(d);
	return -1;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int join(char *out, size_t n, const char *dir, const char *name)
{
	size_t len = strlen(dir);
	int k = snprintf(out, n, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", name);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int mn_npy_dir_has_set(const char *dir)
{
	char p[4096];
	struct stat st;
	return join(p, sizeof p, dir, "images.npy") == 0 && stat(p, &st) == 0;
}

int mn_npy_load_set(struct mn_dataset *d, const char *path, char *err, size_t errn)
{
	char images[4096], labels[4096];
	memset(d, 0, sizeof *d);
	if (is_dir(path)) {
		if (join(images, sizeof images, path, "images.npy") || join(labels, sizeof labels, path, "labels.npy")) {
			snprintf(err, errn, "%.200s...: path too long (give a shorter path)", path);
			return -1;
		}
	} else {
		size_t n = strlen(path);
		if (n < 4 || n + 8 > sizeof labels) {
			snprintf(err, errn, "%.200s: path too long (give a shorter path)", path);
			return -1;
		}
		snprintf(images, sizeof images, "%s", path);
		snprintf(labels, sizeof labels, "%.*s_labels.npy", (int)(n - 4), path);
	}
	/* A mistyped path is named as such, not as a set without labels. */
	struct stat st;
	if (stat(images, &st) != 0) {
		cannot_open(images, err, errn);
		return -1;
	}
	if (stat(labels, &st) != 0) {
		snprintf(err, errn, "%s: no labels for %s (save the labels as %s: one integer class per image)",
			 labels, images, labels);
		return -1;
	}
	if (read_images(d, images, err, errn))
		return -1;
	if (read_labels(d, labels, err, errn) || mn_dataset_set_stats(d, NULL, NULL, err, errn)) {
		mn_dataset_free(d);
		return -1;
	}
	d->files = 2;
	snprintf(d->format, sizeof d->format, "npy");
	return 0;
}
