/* safetensors, the weight format of the PyTorch / Hugging Face ecosystem:
 * an 8-byte little-endian header length N, N bytes of JSON
 *   {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 *    ..., "__metadata__": {"key": "value", ...}}
 * then the raw little-endian data (offsets relative to its first byte).
 *
 * The header is parsed with cJSON (no hand-written JSON).  The reader
 * checks everything a hostile file could get wrong (sizes, offsets that
 * leave the file, overlap or holes, shapes whose element count disagrees
 * with the byte range, duplicate names) and reports the first problem in
 * one line.  The library never prints. */
#ifndef MN_SAFETENSORS_H
#define MN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define MN_ST_MAX_DIMS 8
/* The reference implementation's limit on the header. */
#define MN_ST_MAX_HEADER (100u * 1024u * 1024u)

struct mn_st_tensor {
	char *name;
	char dtype[8];           /* "F32", "F16", "I8", ... */
	int elem_bytes;
	int ndim;
	int64_t shape[MN_ST_MAX_DIMS];
	uint64_t numel;
	const unsigned char *data; /* into the file image: numel * elem_bytes bytes */
};

struct mn_st_meta {
	char *key, *value;
};

struct mn_safetensors {
	unsigned char *buf; /* the whole file */
	size_t len;
	size_t n;           /* tensors, in the order of their data */
	struct mn_st_tensor *t;
	size_t nmeta;
	struct mn_st_meta *meta;
};

/* Parses a file image (copied; buf may be freed after).  label names the
 * source in messages.  0, or -1 with one line in err and st empty. */
int mn_st_parse(struct mn_safetensors *st, const unsigned char *buf, size_t len,
		const char *label, char *err, size_t errn);
/* Reads and parses a file. */
int mn_st_read(struct mn_safetensors *st, const char *path, char *err, size_t errn);
void mn_st_free(struct mn_safetensors *st);

/* The tensor of that name, or NULL. */
const struct mn_st_tensor *mn_st_find(const struct mn_safetensors *st, const char *name);
/* A metadata value, or NULL. */
const char *mn_st_meta_get(const struct mn_safetensors *st, const char *key);
/* Copies an F32 tensor's values into out[numel] (host order). */
void mn_st_copy_f32(const struct mn_st_tensor *t, float *out);

/* s made safe for a one-line message: at most n-1 bytes, control and
 * non-ASCII bytes shown as '?', "..." when cut.  Returns buf. */
const char *mn_st_printable(const char *s, char *buf, size_t n);

/* Copies an I32 tensor's values into out[numel] (host order). */
void mn_st_copy_i32(const struct mn_st_tensor *t, int32_t *out);

/* Writing: F32, I32 or I8 tensors (host order in memory) with their
 * shapes, and optional metadata pairs.  The header is padded with spaces
 * so the data starts 8-byte aligned, as the reference writer does.
 * Written to PATH.tmp, then renamed. */
struct mn_st_out {
	const char *name;
	int ndim;
	int64_t shape[MN_ST_MAX_DIMS];
	const void *data;
	const char *dtype; /* "F32" (or NULL), "I32" or "I8" */
};
int mn_st_write(const char *path, const struct mn_st_out *t, size_t n,
		const struct mn_st_meta *meta, size_t nmeta, char *err, size_t errn);

#endif
