/* safetensors reader and writer; see safetensors.h. */
#include "export/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int bytes;
} dtypes[] = {
	{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
	{"I8", 1},  {"U64", 8}, {"U32", 4}, {"U16", 2},  {"U8", 1},   {"BOOL", 1},
	{"F8_E4M3", 1}, {"F8_E5M2", 1},
};

static int fail(char *err, size_t n, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, const char *label, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(err, n, "%s: not a valid safetensors file: ", label);
	if (k >= 0 && (size_t)k < n) {
		va_start(ap, fmt);
		int d = vsnprintf(err + k, n - (size_t)k, fmt, ap);
		va_end(ap);
		/* the fix: the file is damaged or another kind */
		if (d >= 0 && (size_t)k + (size_t)d < n)
			snprintf(err + k + d, n - (size_t)k - (size_t)d,
				 " (write it again: model.py's save_weights, or micronas deploy for "
				 "model.int8.safetensors)");
	}
	return -1;
}

const char *mn_st_printable(const char *s, char *buf, size_t n)
{
	size_t i = 0;
	if (!n)
		return buf;
	for (; s[i] && i + 1 < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = 0;
	if (s[i] && n > 4)
		memcpy(buf + n - 4, "...", 4);
	return buf;
}

void mn_st_free(struct mn_safetensors *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->t[i].name);
	for (size_t i = 0; i < st->nmeta; i++) {
		free(st->meta[i].key);
		free(st->meta[i].value);
	}
	free(st->t);
	free(st->meta);
	free(st->buf);
	memset(st, 0, sizeof *st);
}

/* A JSON number that is a whole number in [0, 2^53]. */
static int json_u53(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v))
		return -1;
	double d = v->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static int cmp_begin(const void *a, const void *b)
{
	const struct mn_st_tensor *x = a, *y = b;
	return x->data < y->data ? -1 : x->data > y->data;
}

/* One tensor entry of the header. */
static int parse_entry(struct mn_st_tensor *t, const cJSON *e, const unsigned char *data,
		       uint64_t dlen, const char *label, char *err, size_t errn)
{
	uint64_t begin, end;
	char nmbuf[84];
	const char *nm = mn_st_printable(e->string, nmbuf, sizeof nmbuf);
	if (!cJSON_IsObject(e))
		return fail(err, errn, label, "tensor '%s' is not a JSON object", nm);
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
	if (!cJSON_IsString(dt))
		return fail(err, errn, label, "tensor '%s' has no \"dtype\" string", nm);
	t->elem_bytes = 0;
	for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (!strcmp(dt->valuestring, dtypes[i].name)) {
			t->elem_bytes = dtypes[i].bytes;
			snprintf(t->dtype, sizeof t->dtype, "%s", dtypes[i].name);
		}
	if (!t->elem_bytes)
		return fail(err, errn, label, "tensor '%s' has unknown dtype '%s'", nm,
			    mn_st_printable(dt->valuestring, nmbuf + 60, 24));
	if (!cJSON_IsArray(sh))
		return fail(err, errn, label, "tensor '%s' has no \"shape\" array", nm);
	int nd = cJSON_GetArraySize(sh);
	if (nd > MN_ST_MAX_DIMS)
		return fail(err, errn, label, "tensor '%s' has %d dimensions (at most %d)", nm, nd,
			    MN_ST_MAX_DIMS);
	t->ndim = nd;
	t->numel = 1;
	int overflow = 0;
	for (int i = 0; i < nd; i++) {
		uint64_t d;
		if (json_u53(cJSON_GetArrayItem(sh, i), &d))
			return fail(err, errn, label,
				    "tensor '%s': shape entry %d is not a whole number >= 0", nm, i);
		t->shape[i] = (int64_t)d;
		if (d && t->numel > UINT64_MAX / d)
			overflow = 1;
		else
			t->numel *= d;
	}
	if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
	    json_u53(cJSON_GetArrayItem(off, 0), &begin) ||
	    json_u53(cJSON_GetArrayItem(off, 1), &end))
		return fail(err, errn, label,
			    "tensor '%s' needs \"data_offsets\": [begin, end] (whole numbers)", nm);
	if (begin > end || end > dlen)
		return fail(err, errn, label,
			    "tensor '%s': data_offsets [%llu, %llu] leave the %llu data bytes", nm,
			    (unsigned long long)begin, (unsigned long long)end,
			    (unsigned long long)dlen);
	if (overflow || t->numel > UINT64_MAX / (uint64_t)t->elem_bytes ||
	    t->numel * (uint64_t)t->elem_bytes != end - begin)
		return fail(err, errn, label,
			    "tensor '%s': shape needs %s bytes but data_offsets give %llu", nm,
			    overflow ? "too many" : "a different number of",
			    (unsigned long long)(end - begin));
	t->data = data + begin;
	return 0;
}

/* The header's "__metadata__" object e: string values only, once. */
static int parse_metadata(struct mn_safetensors *st, const cJSON *e, const char *label, char *err,
			  size_t errn)
{
	if (st->meta || !cJSON_IsObject(e))
		return fail(err, errn, label, "\"__metadata__\" must be one object of strings");
	int nm = cJSON_GetArraySize(e);
	st->meta = calloc((size_t)nm + 1, sizeof *st->meta);
	if (!st->meta)
		return fail(err, errn, label, "out of memory");
	const cJSON *m;
	cJSON_ArrayForEach(m, e)
	{
		if (!cJSON_IsString(m) || !m->string) {
			char kb[64];
			return fail(err, errn, label, "metadata '%s' is not a string",
				    mn_st_printable(m->string ? m->string : "", kb, sizeof kb));
		}
		struct mn_st_meta *mm = &st->meta[st->nmeta++];
		mm->key = strdup(m->string);
		mm->value = strdup(m->valuestring);
		if (!mm->key || !mm->value)
			return fail(err, errn, label, "out of memory");
	}
	return 0;
}

/* Header entry e, a tensor not named before, appended to st->t (which has
 * room for every entry). */
static int parse_tensor(struct mn_safetensors *st, const cJSON *e, const unsigned char *data,
			uint64_t dlen, const char *label, char *err, size_t errn)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->t[i].name, e->string)) {
			char kb[84];
			return fail(err, errn, label, "tensor '%s' appears twice",
				    mn_st_printable(e->string, kb, sizeof kb));
		}
	struct mn_st_tensor *t = &st->t[st->n];
	t->name = strdup(e->string);
	if (!t->name)
		return fail(err, errn, label, "out of memory");
	st->n++;
	return parse_entry(t, e, data, dlen, label, err, errn) ? -1 : 0;
}

/* The data must be covered exactly: no overlap, no hole (the format's
 * rule, which also rules out hidden payloads).  Sorts st->t by offset. */
static int check_coverage(struct mn_safetensors *st, const unsigned char *data, uint64_t dlen,
			  const char *label, char *err, size_t errn)
{
	qsort(st->t, st->n, sizeof *st->t, cmp_begin);
	uint64_t pos = 0;
	for (size_t i = 0; i < st->n; i++) {
		uint64_t b = (uint64_t)(st->t[i].data - data);
		uint64_t sz = st->t[i].numel * (uint64_t)st->t[i].elem_bytes;
		if (b != pos) {
			char kb[84];
			return fail(err, errn, label,
				    "tensor '%s' starts at data byte %llu, expected %llu "
				    "(overlap or hole)",
				    mn_st_printable(st->t[i].name, kb, sizeof kb),
				    (unsigned long long)b, (unsigned long long)pos);
		}
		pos = b + sz;
	}
	if (pos != dlen)
		return fail(err, errn, label, "%llu data bytes after the last tensor (expected none)",
			    (unsigned long long)(dlen - pos));
	return 0;
}

int mn_st_parse(struct mn_safetensors *st, const unsigned char *buf, size_t len,
		const char *label, char *err, size_t errn)
{
	memset(st, 0, sizeof *st);
	if (len < 8)
		return fail(err, errn, label, "%zu bytes, shorter than the 8-byte header length", len);
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | buf[i];
	if (hlen > MN_ST_MAX_HEADER)
		return fail(err, errn, label, "header length %llu is over the 100 MB limit",
			    (unsigned long long)hlen);
	if (hlen > len - 8)
		return fail(err, errn, label, "header length %llu runs past the end (%zu bytes)",
			    (unsigned long long)hlen, len);
	if (hlen < 2 || buf[8] != '{')
		return fail(err, errn, label, "the header does not start with '{'");

	st->buf = malloc(len ? len : 1);
	if (!st->buf)
		return fail(err, errn, label, "out of memory for %zu bytes", len);
	memcpy(st->buf, buf, len);
	st->len = len;
	const unsigned char *data = st->buf + 8 + hlen;
	uint64_t dlen = len - 8 - hlen;

	cJSON *root = cJSON_ParseWithLength((const char *)st->buf + 8, (size_t)hlen);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		mn_st_free(st);
		return fail(err, errn, label, "the header is not a JSON object");
	}
	int count = cJSON_GetArraySize(root), rc = 0;
	st->t = calloc((size_t)count + 1, sizeof *st->t);
	if (!st->t)
		rc = fail(err, errn, label, "out of memory for %d header entries", count);
	const cJSON *e;
	cJSON_ArrayForEach(e, root)
	{
		if (rc)
			break;
		if (!e->string)
			rc = fail(err, errn, label, "a header entry has no name");
		else if (!strcmp(e->string, "__metadata__"))
			rc = parse_metadata(st, e, label, err, errn);
		else
			rc = parse_tensor(st, e, data, dlen, label, err, errn);
	}
	if (!rc)
		rc = check_coverage(st, data, dlen, label, err, errn);
	cJSON_Delete(root);
	if (rc)
		mn_st_free(st);
	return rc;
}

int mn_st_read(struct mn_safetensors *st, const char *path, char *err, size_t errn)
{
	memset(st, 0, sizeof *st);
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errn, "%s: cannot open: %s (check the path)", path, strerror(errno));
		return -1;
	}
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			size_t nc = cap ? 2 * cap : 1 << 16;
			unsigned char *nb = realloc(buf, nc);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errn, "%s: out of memory reading it", path);
				return -1;
			}
			buf = nb;
			cap = nc;
		}
		size_t k = fread(buf + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		snprintf(err, errn, "%s: read error: %s (give a readable .safetensors file)", path,
			 strerror(errno));
		return -1;
	}
	int rc = mn_st_parse(st, buf, len, path, err, errn);
	free(buf);
	return rc;
}

const struct mn_st_tensor *mn_st_find(const struct mn_safetensors *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->t[i].name, name))
			return &st->t[i];
	return NULL;
}

const char *mn_st_meta_get(const struct mn_safetensors *st, const char *key)
{
	for (size_t i = 0; i < st->nmeta; i++)
		if (!strcmp(st->meta[i].key, key))
			return st->meta[i].value;
	return NULL;
}

/* A 4-byte tensor's little-endian values into out (host order). */
static void copy_le32(const struct mn_st_tensor *t, unsigned char *out)
{
	for (uint64_t i = 0; i < t->numel; i++) {
		const unsigned char *p = t->data + 4 * i;
		uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			     (uint32_t)p[3] << 24;
		memcpy(out + 4 * i, &u, 4);
	}
}

void mn_st_copy_f32(const struct mn_st_tensor *t, float *out) { copy_le32(t, (unsigned char *)out); }

void mn_st_copy_i32(const struct mn_st_tensor *t, int32_t *out) { copy_le32(t, (unsigned char *)out); }

/* Bytes an element of a dtype the writer takes, 0 for another. */
static int out_bytes(const char *dtype)
{
	if (!dtype || !strcmp(dtype, "F32") || !strcmp(dtype, "I32"))
		return 4;
	return !strcmp(dtype, "I8") ? 1 : 0;
}

int mn_st_write(const char *path, const struct mn_st_out *t, size_t n,
		const struct mn_st_meta *meta, size_t nmeta, char *err, size_t errn)
{
	for (size_t i = 0; i < n; i++)
		if (!out_bytes(t[i].dtype)) {
			snprintf(err, errn, "%s: tensor '%s': cannot write dtype %s", path, t[i].name,
				 t[i].dtype);
			return -1;
		}
	cJSON *root = cJSON_CreateObject();
	uint64_t off = 0;
	int ok = root != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		uint64_t numel = 1, eb = (uint64_t)out_bytes(t[i].dtype);
		cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
		cJSON *sh = e ? cJSON_AddArrayToObject(e, "shape") : NULL;
		cJSON *of = e ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
		ok = e && sh && of && cJSON_AddStringToObject(e, "dtype", t[i].dtype ? t[i].dtype : "F32");
		for (int d = 0; ok && d < t[i].ndim; d++) {
			numel *= (uint64_t)t[i].shape[d];
			ok = cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t[i].shape[d]));
		}
		ok = ok && cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off)) &&
		     cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + eb * numel)));
		off += eb * numel;
	}
	if (ok && nmeta) {
		cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
		ok = m != NULL;
		for (size_t i = 0; ok && i < nmeta; i++)
			ok = cJSON_AddStringToObject(m, meta[i].key, meta[i].value) != NULL;
	}
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!text) {
		snprintf(err, errn, "%s: out of memory building the header", path);
		return -1;
	}
	size_t tl = strlen(text), padded = (tl + 7) & ~(size_t)7;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		free(text);
		snprintf(err, errn, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	unsigned char hl[8];
	for (int i = 0; i < 8; i++)
		hl[i] = (unsigned char)((uint64_t)padded >> (8 * i));
	ok = fwrite(hl, 1, 8, f) == 8 && fwrite(text, 1, tl, f) == tl;
	for (size_t i = tl; ok && i < padded; i++)
		ok = fputc(' ', f) != EOF;
	free(text);
	for (size_t i = 0; ok && i < n; i++) {
		uint64_t numel = 1;
		for (int d = 0; d < t[i].ndim; d++)
			numel *= (uint64_t)t[i].shape[d];
		if (out_bytes(t[i].dtype) == 1) {
			ok = numel == 0 || fwrite(t[i].data, 1, numel, f) == numel;
			continue;
		}
		const unsigned char *src = t[i].data;
		for (uint64_t k = 0; ok && k < numel; k++) {
			uint32_t u;
			unsigned char b[4];
			memcpy(&u, src + 4 * k, 4);
			for (int j = 0; j < 4; j++)
				b[j] = (unsigned char)(u >> (8 * j));
			ok = fwrite(b, 1, 4, f) == 4;
		}
	}
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		remove(tmp);
		snprintf(err, errn, "%s: write failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
