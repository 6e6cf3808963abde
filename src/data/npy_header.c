/* The NPY header parser (npy.h): kept apart from the reader so the fuzz
 * target links it alone.  It never reads outside the buffer it is given. */
#include "data/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6

size_t mn_npy_header_size(const unsigned char *buf, size_t n)
{
	if (n < 10 || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
		return 0;
	if (buf[6] == 1)
		return 10 + (size_t)(buf[8] | buf[9] << 8);
	if ((buf[6] == 2 || buf[6] == 3) && n >= 12)
		return 12 + (size_t)((uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 |
				     (uint32_t)buf[11] << 24);
	return 0;
}

/* A cursor over the dict text [p, end). */
struct cur {
	const char *p, *end;
};

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int eat(struct cur *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* A quoted string ('...' or "...", no escapes: NumPy writes none) into out. */
static int read_str(struct cur *c, char *out, size_t n)
{
	skip_ws(c);
	if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
		return -1;
	char q = *c->p++;
	size_t k = 0;
	while (c->p < c->end && *c->p != q) {
		/* Printable ASCII only: the text may end up in a one-line
		 * message. */
		if (k + 1 >= n || *c->p == '\\' || (unsigned char)*c->p < 0x20 || (unsigned char)*c->p > 0x7e)
			return -1;
		out[k++] = *c->p++;
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	out[k] = 0;
	return 0;
}

static int read_word(struct cur *c, const char *w)
{
	size_t n = strlen(w);
	skip_ws(c);
	if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
		c->p += n;
		return 1;
	}
	return 0;
}

/* (d0, d1, ...) with an optional trailing comma; () is a scalar. */
static int read_shape(struct cur *c, struct mn_npy_header *h, char *err, size_t errn)
{
	h->ndim = 0;
	if (!eat(c, '(')) {
		snprintf(err, errn, "'shape' is not a tuple");
		return -1;
	}
	for (;;) {
		if (eat(c, ')'))
			return 0;
		skip_ws(c);
		if (c->p >= c->end || *c->p < '0' || *c->p > '9') {
			snprintf(err, errn, "'shape' holds something other than non-negative integers");
			return -1;
		}
		uint64_t v = 0;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
			unsigned dgt = (unsigned)(*c->p++ - '0');
			if (v > (UINT64_MAX - dgt) / 10) {
				snprintf(err, errn, "a dimension of 'shape' is too large");
				return -1;
			}
			v = v * 10 + dgt;
		}
		if (c->p < c->end && *c->p == 'L') /* Python 2's long suffix */
			c->p++;
		if (h->ndim == MN_NPY_MAX_DIMS) {
			snprintf(err, errn, "'shape' has more than %d dimensions", MN_NPY_MAX_DIMS);
			return -1;
		}
		h->shape[h->ndim++] = v;
		if (eat(c, ')'))
			return 0;
		if (!eat(c, ',')) {
			snprintf(err, errn, "'shape' is not a well-formed tuple");
			return -1;
		}
	}
}

static int parse_descr(const char *s, struct mn_npy_header *h, char *err, size_t errn)
{
	/* A simple type string: byte order, kind letter, item size. */
	if (strlen(s) < 3 || strchr("<>|=", s[0]) == NULL || strchr("biufc", s[1]) == NULL) {
		snprintf(err, errn, "dtype '%.40s' is not a plain numeric type", s);
		return -1;
	}
	char *end;
	errno = 0;
	long size = strtol(s + 2, &end, 10);
	if (*end || errno || size < 1 || size > 16) {
		snprintf(err, errn, "dtype '%.40s' is not a plain numeric type", s);
		return -1;
	}
	h->byte_order = s[0];
	h->kind = s[1];
	h->item_size = (int)size;
	return 0;
}

int mn_npy_parse_header(const unsigned char *buf, size_t n, struct mn_npy_header *h,
			char *err, size_t errn)
{
	memset(h, 0, sizeof *h);
	if (n < MAGIC_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0) {
		snprintf(err, errn, "not an .npy file (no \\x93NUMPY magic at the start)");
		return -1;
	}
	if (n < 8) {
		snprintf(err, errn, "truncated .npy header");
		return -1;
	}
	h->major = buf[6];
	h->minor = buf[7];
	if (h->major < 1 || h->major > 3 || h->minor != 0) {
		snprintf(err, errn, "NPY format version %d.%d is not supported (1.0, 2.0 and 3.0 are)",
			 h->major, h->minor);
		return -1;
	}
	size_t prefix = h->major == 1 ? 10 : 12;
	size_t total = mn_npy_header_size(buf, n);
	if (n < prefix || total == 0 || total > n) {
		snprintf(err, errn, "truncated .npy header (the file ends inside it)");
		return -1;
	}
	if (total - prefix > MN_NPY_MAX_HEADER) {
		snprintf(err, errn, "the .npy header is %zu bytes, more than the %d accepted",
			 total - prefix, MN_NPY_MAX_HEADER);
		return -1;
	}
	h->data_offset = total;
	struct cur c = {(const char *)buf + prefix, (const char *)buf + total};
	if (total == prefix || c.end[-1] != '\n') {
		snprintf(err, errn, "the .npy header does not end in a newline (the file is corrupt)");
		return -1;
	}
	int have_descr = 0, have_fortran = 0, have_shape = 0;
	if (!eat(&c, '{')) {
		snprintf(err, errn, "the .npy header is not a dict");
		return -1;
	}
	while (!eat(&c, '}')) {
		char key[32], val[64];
		if (read_str(&c, key, sizeof key) || !eat(&c, ':')) {
			snprintf(err, errn, "the .npy header is not a well-formed dict");
			return -1;
		}
		if (strcmp(key, "descr") == 0 && !have_descr) {
			if (read_str(&c, val, sizeof val)) {
				snprintf(err, errn, "'descr' is not a simple dtype string (structured arrays are not supported)");
				return -1;
			}
			if (parse_descr(val, h, err, errn))
				return -1;
			have_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0 && !have_fortran) {
			if (read_word(&c, "True"))
				h->fortran_order = 1;
			else if (read_word(&c, "False"))
				h->fortran_order = 0;
			else {
				snprintf(err, errn, "'fortran_order' is neither True nor False");
				return -1;
			}
			have_fortran = 1;
		} else if (strcmp(key, "shape") == 0 && !have_shape) {
			if (read_shape(&c, h, err, errn))
				return -1;
			have_shape = 1;
		} else {
			snprintf(err, errn, "the .npy header has an unknown or repeated key '%s'", key);
			return -1;
		}
		if (!eat(&c, ',')) {
			if (!eat(&c, '}')) {
				snprintf(err, errn, "the .npy header is not a well-formed dict");
				return -1;
			}
			break;
		}
	}
	skip_ws(&c);
	if (c.p != c.end) {
		snprintf(err, errn, "the .npy header has text after its dict");
		return -1;
	}
	if (!have_descr || !have_fortran || !have_shape) {
		snprintf(err, errn, "the .npy header lacks '%s'",
			 !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
		return -1;
	}
	return 0;
}

uint64_t mn_npy_elements(const struct mn_npy_header *h)
{
	uint64_t n = 1;
	for (int i = 0; i < h->ndim; i++) {
		if (h->shape[i] != 0 && n > UINT64_MAX / h->shape[i])
			return UINT64_MAX;
		n *= h->shape[i];
	}
	return n;
}

