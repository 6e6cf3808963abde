/* The int8 model as a safetensors file; see qmodel_file.h. */
#include "export/qmodel_file.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/safetensors.h"

#define FORMAT "micronas-int8-model-1"

/* The model's arrays are the mn_qmodel's own storage (quantize.c hands
 * them out writable and keeps const pointers in the mnq_net); loading
 * rewrites their values in place. */
static void *writable(const void *p) { return (void *)(uintptr_t)p; }

static int head_width(const struct mn_qmodel *q) { return 4 * q->net.channels; }

/* What a loaded array's values must satisfy for qnet (quantize.h's bounds). */
enum bound { B_ANY, B_SHIFT, B_BIAS, B_ADDS, B_HEAD };

/* One array of the model: its name, dtype, size, place and bound. */
struct slot {
	char name[40];
	const char *dtype;
	uint64_t numel;
	const void *data;
	int rows; /* shape [rows, numel / rows] */
	enum bound bound;
};

/* Every array of q in file order; returns the count (slots may be NULL to
 * count). */
static int slots_of(const struct mn_qmodel *q, struct slot *sl)
{
	int n = 0;
#define PUT(NAME_FMT, IDX, DT, NUMEL, DATA, ROWS, BOUND)                                           \
	do {                                                                                       \
		if (sl) {                                                                          \
			snprintf(sl[n].name, sizeof sl[n].name, NAME_FMT, IDX);                    \
			sl[n].dtype = DT, sl[n].numel = (NUMEL), sl[n].data = (DATA);              \
			sl[n].rows = (ROWS), sl[n].bound = (BOUND);                                \
		}                                                                                  \
		n++;                                                                               \
	} while (0)
	int nadd = mn_qmodel_add_count(q->net.cells);
	for (int i = 0; i < mn_qmodel_conv_count(q->net.cells); i++) {
		const struct mnq_conv *c = &q->convs[i];
		if (!c->w)
			continue;
		uint64_t K = (uint64_t)c->k * c->k * c->cin;
		PUT("conv.%d.w", i, "I8", c->cout * K, c->w, c->cout, B_ANY);
		if (c->b)
			PUT("conv.%d.b", i, "I32", c->cout, c->b, 1, B_BIAS);
		PUT("conv.%d.mult", i, "I32", c->cout, c->mult, 1, B_ANY);
		PUT("conv.%d.shift", i, "I8", c->cout, c->shift, 1, B_SHIFT);
	}
	PUT("adds%s", "", "I32", 2 * (uint64_t)nadd, q->adds, nadd, B_ADDS);
	PUT("head%s", "", "I32", 2 * (uint64_t)head_width(q), q->head, 2, B_HEAD);
	PUT("fc.w%s", "", "I8", (uint64_t)q->net.classes * head_width(q), q->fc_w, q->net.classes,
	    B_ANY);
	PUT("fc.b%s", "", "I32", q->net.classes, q->fc_b, 1, B_ANY);
#undef PUT
	return n;
}

struct meta_text {
	char arch[MN_ARCH_STRLEN], dims[6][16], in[32], logit[32], fp[16];
};

/* The metadata that names the network and its scales: m[0..NMETA-1]; the
 * fingerprint (save's alone) is written after them. */
enum { NMETA = 10 };

static void meta_of(const struct mn_qmodel *q, const struct mn_arch *a, struct meta_text *t,
		    struct mn_st_meta *m)
{
	static const char *const keys[6] = {"channels", "cells",          "height",
					    "width",    "input_channels", "classes"};
	const unsigned v[6] = {q->net.channels, q->net.cells, q->net.height,
			       q->net.width,    q->net.stem ? q->net.stem->cin : 0, q->net.classes};
	mn_arch_format(a, t->arch, sizeof t->arch);
	snprintf(t->in, sizeof t->in, "%.9g", (double)q->in_scale);
	snprintf(t->logit, sizeof t->logit, "%.9g", (double)q->logit_scale);
	m[0] = (struct mn_st_meta){"format", FORMAT};
	m[1] = (struct mn_st_meta){"arch", t->arch};
	for (int i = 0; i < 6; i++) {
		snprintf(t->dims[i], sizeof t->dims[i], "%u", v[i]);
		m[2 + i] = (struct mn_st_meta){(char *)keys[i], t->dims[i]};
	}
	m[8] = (struct mn_st_meta){"in_scale", t->in};
	m[9] = (struct mn_st_meta){"logit_scale", t->logit};
}

int mn_qmodel_save(const struct mn_qmodel *q, const struct mn_arch *a, const char *path, char *err,
		   size_t errn)
{
	int n = slots_of(q, NULL);
	struct slot *sl = calloc((size_t)n, sizeof *sl);
	struct mn_st_out *out = calloc((size_t)n, sizeof *out);
	struct meta_text t;
	struct mn_st_meta m[NMETA + 1];
	int rc = -1;
	if (!sl || !out) {
		snprintf(err, errn, "%s: out of memory", path);
		goto done;
	}
	slots_of(q, sl);
	for (int i = 0; i < n; i++)
		out[i] = (struct mn_st_out){sl[i].name, 2, {sl[i].rows, (int64_t)(sl[i].numel / sl[i].rows)},
					    sl[i].data, sl[i].dtype};
	meta_of(q, a, &t, m);
	snprintf(t.fp, sizeof t.fp, "%08x", (unsigned)mnq_fingerprint(&q->net, NULL));
	m[NMETA] = (struct mn_st_meta){"fingerprint", t.fp};
	rc = mn_st_write(path, out, (size_t)n, m, NMETA + 1, err, errn);
done:
	free(sl);
	free(out);
	return rc;
}

static int out_of_bounds(enum bound b, int32_t v, int32_t now, uint64_t i, uint64_t numel)
{
	switch (b) {
	case B_SHIFT:
		return v < -30 || v > 31; /* mnq_requant's range (qnet.h) */
	case B_BIAS:
		return fabs((double)v) > MN_QBIAS_MAX;
	case B_ADDS: /* an add slot the model never uses is 0 in both */
		return now == 0 ? v != 0 : v < MN_QADD_MIN || v > MN_QADD_MAX;
	case B_HEAD: /* the scales, then the shifts */
		return fabs((double)v) > (i < numel / 2 ? MN_QHEAD_SCALE_MAX : MN_QHEAD_SHIFT_MAX);
	default:
		return 0;
	}
}

/* The bound in words, for the refusal. */
static const char *bound_text(enum bound b)
{
	switch (b) {
	case B_SHIFT:
		return "qnet's -30..31";
	case B_BIAS:
		return "the +-2^30 a conv's int32 sum leaves";
	case B_ADDS:
		return "the Q15 factors 1..32767";
	default:
		return "the head's Q14 range";
	}
}

/* Checks a tensor's values against its slot's bound: 0, or -1 with err. */
static int values_ok(const struct slot *s, const struct mn_st_tensor *t, const char *path, char *err,
		     size_t errn)
{
	if (s->bound == B_ANY)
		return 0;
	int32_t *v = malloc(sizeof(int32_t) * t->numel);
	if (!v) {
		snprintf(err, errn, "%s: out of memory", path);
		return -1;
	}
	if (t->elem_bytes == 1)
		for (uint64_t i = 0; i < t->numel; i++)
			v[i] = (int8_t)t->data[i];
	else
		mn_st_copy_i32(t, v);
	const int32_t *now = s->bound == B_ADDS ? s->data : NULL;
	int rc = 0;
	for (uint64_t i = 0; rc == 0 && i < t->numel; i++)
		if (out_of_bounds(s->bound, v[i], now ? now[i] : 0, i, t->numel)) {
			snprintf(err, errn,
				 "%s: %s[%llu] is %ld, outside %s: the file is damaged (run micronas "
				 "deploy again)",
				 path, s->name, (unsigned long long)i, (long)v[i], bound_text(s->bound));
			rc = -1;
		}
	free(v);
	return rc;
}

static int scale_of(const struct mn_safetensors *st, const char *key, float *out)
{
	const char *s = mn_st_meta_get(st, key);
	char *end;
	if (!s)
		return -1;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || !(v > 0) || v > 3.4e38)
		return -1;
	*out = (float)v;
	return 0;
}

int mn_qmodel_load(struct mn_qmodel *q, const struct mn_arch *a, const char *path, char *err,
		   size_t errn)
{
	struct mn_safetensors st;
	/* the reader's lines name their own fix */
	if (mn_st_read(&st, path, err, errn) != 0)
		return -1;
	int rc = mn_qmodel_load_parsed(q, a, &st, path, err, errn);
	mn_st_free(&st);
	return rc;
}

/* One line naming a file that is not an int8 model (fmt: its format, or
 * NULL) and the fix. */
static void not_a_model(const char *path, const char *fmt, char *err, size_t errn)
{
	snprintf(err, errn,
		 "%s: not a micronas int8 model file (format %s, want %s): give the "
		 "model.int8.safetensors micronas deploy wrote",
		 path, fmt ? "other" : "missing", FORMAT);
}

int mn_qmodel_probe(const char *path, struct mn_arch *a, char *err, size_t errn)
{
	struct mn_safetensors st;
	struct mn_parse_error pe;
	if (mn_st_read(&st, path, err, errn) != 0)
		return -1;
	const char *fmt = mn_st_meta_get(&st, "format"), *arch = mn_st_meta_get(&st, "arch");
	int rc = -1;
	if (!fmt || strcmp(fmt, FORMAT))
		not_a_model(path, fmt, err, errn);
	else if (!arch || mn_arch_parse(arch, a, &pe) != 0)
		snprintf(err, errn,
			 "%s: the int8 model names no valid arch (%s): give the "
			 "model.int8.safetensors micronas deploy wrote",
			 path, arch ? pe.msg : "no arch in its metadata");
	else
		rc = 0;
	mn_st_free(&st);
	return rc;
}

int mn_qmodel_load_parsed(struct mn_qmodel *q, const struct mn_arch *a,
			  const struct mn_safetensors *st, const char *path, char *err, size_t errn)
{
	int n = slots_of(q, NULL), rc = -1;
	struct slot *sl = calloc((size_t)n, sizeof *sl);
	const struct mn_st_tensor **found = calloc((size_t)n, sizeof *found);
	struct meta_text t;
	struct mn_st_meta want[NMETA];
	float in_scale = 0, logit_scale = 0;
	if (!sl || !found) {
		snprintf(err, errn, "%s: out of memory", path);
		goto done;
	}
	slots_of(q, sl);
	meta_of(q, a, &t, want);
	const char *fmt = mn_st_meta_get(st, "format");
	if (!fmt || strcmp(fmt, FORMAT)) {
		not_a_model(path, fmt, err, errn);
		goto done;
	}
	/* the arch and shape first: a file for another network says so */
	for (int i = 1; i < 8; i++) {
		const char *v = mn_st_meta_get(st, want[i].key);
		if (!v || strcmp(v, want[i].value)) {
			char pv[MN_ARCH_STRLEN];
			snprintf(err, errn,
				 "%s: the model is for %s %s, this network has %s: give the file deployed "
				 "for this arch and preset",
				 path, want[i].key, v ? mn_st_printable(v, pv, sizeof pv) : "(none)",
				 want[i].value);
			goto done;
		}
	}
	if (scale_of(st, "in_scale", &in_scale) || scale_of(st, "logit_scale", &logit_scale)) {
		snprintf(err, errn,
			 "%s: in_scale or logit_scale is missing or not a positive number: the file is "
			 "damaged (run micronas deploy again)",
			 path);
		goto done;
	}
	for (int i = 0; i < n; i++) {
		const struct mn_st_tensor *x = mn_st_find(st, sl[i].name);
		if (!x || strcmp(x->dtype, sl[i].dtype) || x->numel != sl[i].numel) {
			snprintf(err, errn,
				 "%s: tensor '%s' %s, this network needs %s of %llu values: the file is "
				 "not this model's (run micronas deploy again)",
				 path, sl[i].name, !x ? "is missing" : "has another dtype or size",
				 sl[i].dtype, (unsigned long long)sl[i].numel);
			goto done;
		}
		if (values_ok(&sl[i], x, path, err, errn) != 0)
			goto done;
		found[i] = x;
	}
	if (st->n != (size_t)n) {
		snprintf(err, errn, "%s: %zu tensors, this network's model has %d: the file is not this "
			 "model's (run micronas deploy again)", path, st->n, n);
		goto done;
	}
	/* everything checked: copy */
	for (int i = 0; i < n; i++) {
		if (!strcmp(sl[i].dtype, "I8"))
			memcpy(writable(sl[i].data), found[i]->data, sl[i].numel);
		else
			mn_st_copy_i32(found[i], writable(sl[i].data));
	}
	q->in_scale = in_scale;
	q->logit_scale = logit_scale;
	char fp[16];
	snprintf(fp, sizeof fp, "%08x", (unsigned)mnq_fingerprint(&q->net, NULL));
	const char *rec = mn_st_meta_get(st, "fingerprint");
	if (!rec || strcmp(rec, fp)) {
		snprintf(err, errn,
			 "%s: its values give fingerprint %s, the file records %s: the file is damaged "
			 "(run micronas deploy again)",
			 path, fp, rec ? "another" : "none");
		goto done;
	}
	rc = 0;
done:
	free(sl);
	free(found);
	return rc;
}
