/* Writing a data set as a NumPy set (npy.h): what `micronas export --data`
 * gives model.py, so that it trains on the very pixels micronas decoded
 * (an image folder's PNGs and JPEGs included, which torch alone cannot
 * read). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "data/npy.h"
#include "util/atomic_file.h"

struct npy_out {
	const struct mn_dataset *d;
	int labels; /* 1: the labels array, 0: the images */
};

/* The version 1.0 header: magic, version, length, the dict padded with
 * spaces so the data starts at a multiple of 64, as numpy.save does. */
static int put_header(FILE *f, const char *dict)
{
	size_t n = strlen(dict), total = 10 + n + 1;
	size_t pad = (64 - total % 64) % 64, len = n + pad + 1;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len & 0xff),
				 (unsigned char)(len >> 8)};
	if (len > 65535 || fwrite(pre, 1, sizeof pre, f) != sizeof pre || fputs(dict, f) < 0)
		return -1;
	for (size_t i = 0; i < pad; i++)
		if (fputc(' ', f) == EOF)
			return -1;
	return fputc('\n', f) == EOF ? -1 : 0;
}

static int write_npy(FILE *f, void *user)
{
	const struct npy_out *o = user;
	const struct mn_dataset *d = o->d;
	char dict[200];
	if (o->labels) {
		snprintf(dict, sizeof dict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%zu,), }",
			 d->count);
		if (put_header(f, dict))
			return -1;
		for (size_t i = 0; i < d->count; i++) {
			int64_t v = d->labels[i];
			unsigned char b[8];
			for (int k = 0; k < 8; k++)
				b[k] = (unsigned char)((uint64_t)v >> (8 * k));
			if (fwrite(b, 1, 8, f) != 8)
				return -1;
		}
		return 0;
	}
	snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %d, %d, %d), }",
		 d->pixels ? "|u1" : "<f4", d->count, d->height, d->width, d->channels);
	if (put_header(f, dict))
		return -1;
	/* planes (N, C, H, W) in memory; rows of pixels (N, H, W, C) on disk */
	size_t hw = (size_t)d->height * (size_t)d->width, c = (size_t)d->channels;
	for (size_t i = 0; i < d->count; i++)
		for (size_t p = 0; p < hw; p++)
			for (size_t k = 0; k < c; k++) {
				size_t at = (i * c + k) * hw + p;
				if (d->pixels) {
					if (fputc(d->pixels[at], f) == EOF)
						return -1;
					continue;
				}
				uint32_t u;
				unsigned char b[4];
				memcpy(&u, &d->values[at], 4);
				for (int j = 0; j < 4; j++)
					b[j] = (unsigned char)(u >> (8 * j));
				if (fwrite(b, 1, 4, f) != 4)
					return -1;
			}
	return 0;
}

int mn_npy_write_set(const struct mn_dataset *d, const char *images, const char *labels,
		     char *err, size_t errn)
{
	struct npy_out im = {d, 0}, lb = {d, 1};
	if (mn_atomic_write(images, write_npy, &im, err, errn) != 0)
		return -1;
	return mn_atomic_write(labels, write_npy, &lb, err, errn);
}
