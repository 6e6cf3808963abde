/* NumPy .npy arrays as input data: a small reader of the documented NPY
 * format (numpy.lib.format): the magic "\x93NUMPY", a version byte pair
 * (1.0, 2.0 or 3.0), the header length (2 bytes little-endian for version
 * 1, 4 for versions 2 and 3), then a Python dict literal with exactly the
 * keys 'descr', 'fortran_order' and 'shape', padded with spaces and ending
 * in '\n'; the raw array follows.
 *
 * Supported: C order only; images of dtype uint8 ('|u1') or little-endian
 * float32 ('<f4') with shape (N, H, W) (one channel) or (N, H, W, C);
 * labels of any little-endian integer dtype (u1, i1, <u2, <i2, <u4, <i4,
 * <u8, <i8) with shape (N,) or (N, 1), values 0..K-1 (K classes = the largest
 * label + 1).  Anything else is refused with one line.
 *
 * Naming: X.npy takes its labels from X_labels.npy beside it; a directory
 * holding images.npy takes them from labels.npy there. */
#ifndef MN_NPY_H
#define MN_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

#define MN_NPY_MAX_DIMS 8
/* A header longer than this is refused (NumPy's own readers stop at
 * 10000 bytes unless told otherwise). */
#define MN_NPY_MAX_HEADER 65536

struct mn_npy_header {
	int major, minor;          /* format version */
	char kind;                 /* 'u' unsigned, 'i' signed, 'f' float, 'b' bool, ... */
	int item_size;             /* bytes per element */
	char byte_order;           /* '<' little, '>' big, '|' not applicable, '=' native */
	int fortran_order;
	int ndim;
	uint64_t shape[MN_NPY_MAX_DIMS];
	size_t data_offset;        /* where the array starts in the file */
};

/* Bytes of buf (the file's start) needed to hold the whole header: 0 when
 * fewer than the fixed prefix are there or the magic is wrong (the parser
 * then says why). */
size_t mn_npy_header_size(const unsigned char *buf, size_t n);

/* Parses the header at the start of buf (n bytes, which may include the
 * data after it).  Returns 0, or -1 with err holding the problem (no file
 * name: the caller adds it).  Never reads outside buf. */
int mn_npy_parse_header(const unsigned char *buf, size_t n, struct mn_npy_header *h,
			char *err, size_t errn);

/* Elements of the array (the product of the shape; 1 for shape ()), or
 * UINT64_MAX when the product overflows. */
uint64_t mn_npy_elements(const struct mn_npy_header *h);

/* 1 when dir holds images.npy. */
int mn_npy_dir_has_set(const char *dir);

/* Reads an image set as described above (path: X.npy or a directory). */
int mn_npy_load_set(struct mn_dataset *d, const char *path, char *err, size_t errn);

/* Writes d as a set this reader (and numpy.load) reads back: images
 * (N, H, W, C) of uint8 (d's bytes) or little-endian float32 (its floats,
 * as stored: not normalised), labels (N,) of little-endian int64.  Each
 * file is replaced atomically (util/atomic_file.h).  0, or -1 with one line
 * in err naming the file. */
int mn_npy_write_set(const struct mn_dataset *d, const char *images, const char *labels,
		     char *err, size_t errn);

#endif
