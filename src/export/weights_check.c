/* Tensor names and shapes of the folded network, and binding; see
 * weights_check.h. */
#include "export/weights_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct mn_wspec *out, int cap, int *n, const char *name, int ndim, int64_t d0,
		int64_t d1, int64_t d2, int64_t d3)
{
	if (*n < cap) {
		struct mn_wspec *w = &out[*n];
		snprintf(w->name, sizeof w->name, "%s", name);
		w->ndim = ndim;
		w->shape[0] = d0, w->shape[1] = d1, w->shape[2] = d2, w->shape[3] = d3;
	}
	(*n)++;
}

static void put_conv(struct mn_wspec *out, int cap, int *n, const char *prefix, int cout, int cin,
		     int k, int bias)
{
	char nm[48];
	snprintf(nm, sizeof nm, "%s.weight", prefix);
	put(out, cap, n, nm, 4, cout, cin, k, k);
	if (bias) {
		snprintf(nm, sizeof nm, "%s.bias", prefix);
		put(out, cap, n, nm, 1, cout, 0, 0, 0);
	}
}

int mn_weights_spec(const struct mn_arch *a, const struct mn_net_shape *s, struct mn_wspec *out,
		    int cap)
{
	int n = 0, block = 0;
	char pre[40];
	put_conv(out, cap, &n, "stem", s->channels, mn_shape_input_channels(s), 3, 1);
	for (int st = 0; st < 3; st++) {
		int c = mn_stage_channels(s, st);
		if (st > 0) {
			int ci = c / 2;
			snprintf(pre, sizeof pre, "cells.%d.conv_a", block);
			put_conv(out, cap, &n, pre, c, ci, 3, 1);
			snprintf(pre, sizeof pre, "cells.%d.conv_b", block);
			put_conv(out, cap, &n, pre, c, c, 3, 1);
			snprintf(pre, sizeof pre, "cells.%d.shortcut", block);
			put_conv(out, cap, &n, pre, c, ci, 1, 0);
			block++;
		}
		for (int i = 0; i < s->cells; i++, block++)
			for (int e = 0; e < MN_EDGES; e++)
				if (a->op[e] == MN_OP_CONV1 || a->op[e] == MN_OP_CONV3) {
					snprintf(pre, sizeof pre, "cells.%d.edge%d", block, e);
					put_conv(out, cap, &n, pre, c, c,
						 a->op[e] == MN_OP_CONV3 ? 3 : 1, 1);
				}
	}
	put(out, cap, &n, "lastact.weight", 1, 4 * s->channels, 0, 0, 0);
	put(out, cap, &n, "lastact.bias", 1, 4 * s->channels, 0, 0, 0);
	put(out, cap, &n, "classifier.weight", 2, s->classes, 4 * s->channels, 0, 0);
	put(out, cap, &n, "classifier.bias", 1, s->classes, 0, 0, 0);
	return n;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < ndim && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

void mn_fnet_free(struct mn_fnet *net)
{
	free(net->store);
	free(net->edge);
	memset(net, 0, sizeof *net);
}

/* Appends " FLAG VALUE" to buf; nothing when the file does not say. */
static void hint_flag(char *buf, size_t n, const char *flag, const char *value)
{
	char v[24];
	size_t k = strlen(buf);
	if (value && k < n)
		snprintf(buf + k, n - k, " %s %s", flag, mn_st_printable(value, v, sizeof v));
}

/* The stem's input channels (its weight's second dimension), for a file
 * written before model.py recorded them; -1 when there is no such stem. */
static long stem_input_channels(const struct mn_safetensors *st)
{
	const struct mn_st_tensor *stem = mn_st_find(st, "stem.weight");
	return stem && stem->ndim == 4 ? (long)stem->shape[1] : -1;
}

/* The input channels the file was made for: model.py's metadata, else the
 * stem's; NULL when neither says. */
static const char *file_input_channels(const struct mn_safetensors *st, char *buf, size_t n)
{
	const char *ic = mn_st_meta_get(st, "input_channels");
	long stem = stem_input_channels(st);
	if (ic)
		return ic;
	if (stem < 0)
		return NULL;
	snprintf(buf, n, "%ld", stem);
	return buf;
}

/* A metadata value as a whole number of at most 100000, else -1. */
static int meta_int(const struct mn_safetensors *st, const char *key)
{
	const char *v = mn_st_meta_get(st, key);
	char *end;
	if (!v || !*v)
		return -1;
	long n = strtol(v, &end, 10);
	return *end || n < 0 || n > 100000 ? -1 : (int)n;
}

int mn_weights_file_shape(const struct mn_safetensors *st, struct mn_net_shape *s)
{
	const char *res = mn_st_meta_get(st, "resolution");
	memset(s, 0, sizeof *s);
	s->channels = meta_int(st, "channels");
	s->cells = meta_int(st, "cells");
	s->classes = meta_int(st, "classes");
	s->input_channels = meta_int(st, "input_channels");
	if (s->input_channels < 0)
		s->input_channels = (int)stem_input_channels(st);
	if (!res || mn_sides_parse(res, &s->height, &s->width) != 0)
		return -1;
	return s->channels > 0 && s->cells > 0 && s->classes > 0 && s->input_channels > 0 ? 0 : -1;
}

/* The file's own description, for hints: the arch and network model.py
 * exported it for, written as the flags that select that network, since
 * those flags are the fix (a 49x10x1 file given without --resolution and
 * --input-channels meets the preset's 32x32x3 stem). */
static void file_hint(const struct mn_safetensors *st, const struct mn_arch *a, char *buf,
		      size_t n)
{
	static const char *const keys[][2] = {
		{"channels", "--channels"}, {"cells", "--cells"}, {"resolution", "--resolution"},
		{NULL, "--input-channels"}, {"classes", "--classes"},
	};
	const char *arch = mn_st_meta_get(st, "arch");
	char a1[MN_ARCH_STRLEN], flags[200] = "", icb[24];
	struct mn_arch fa;
	struct mn_parse_error pe;
	buf[0] = 0;
	if (!arch)
		return;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		hint_flag(flags, sizeof flags, keys[i][1],
			  keys[i][0] ? mn_st_meta_get(st, keys[i][0])
				     : file_input_channels(st, icb, sizeof icb));
	int same_arch = mn_arch_parse(arch, &fa, &pe) == 0 && !memcmp(fa.op, a->op, sizeof fa.op);
	mn_st_printable(arch, a1, sizeof a1);
	if (*flags)
		snprintf(buf, n, " (the file was exported for %s with%s: give %s)", a1, flags,
			 same_arch ? "those flags" : "that arch and those flags");
	else
		snprintf(buf, n, " (the file was exported for %s)", a1);
}

/* Index of the first NaN or infinite value, or -1: a diverged training saves
 * such weights, and quantizing them gives a model of garbage scales. */
static long first_nonfinite(const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return (long)i;
	return -1;
}

int mn_fnet_bind(struct mn_fnet *net, const struct mn_safetensors *st, const struct mn_arch *a,
		 const struct mn_net_shape *s, char *err, size_t errn)
{
	char hint[480], want[80], got[80];
	int n = mn_weights_spec(a, s, NULL, 0);
	struct mn_wspec *spec = calloc((size_t)n, sizeof *spec);
	const struct mn_st_tensor **found = calloc((size_t)n, sizeof *found);
	size_t total = 0;
	int rc = -1;

	memset(net, 0, sizeof *net);
	file_hint(st, a, hint, sizeof hint);
	if (!spec || !found) {
		snprintf(err, errn, "out of memory");
		goto out;
	}
	mn_weights_spec(a, s, spec, n);
	for (int i = 0; i < n; i++) {
		const struct mn_st_tensor *t = mn_st_find(st, spec[i].name);
		int same = t && t->ndim == spec[i].ndim;
		for (int d = 0; same && d < spec[i].ndim; d++)
			same = t->shape[d] == spec[i].shape[d];
		shape_str(want, sizeof want, spec[i].ndim, spec[i].shape);
		if (!t) {
			snprintf(err, errn, "tensor '%s' %s is missing: the weights do not match this arch%s",
				 spec[i].name, want, hint);
			goto out;
		}
		if (!same) {
			shape_str(got, sizeof got, t->ndim, t->shape);
			snprintf(err, errn, "tensor '%s' has shape %s, this arch needs %s%s", spec[i].name,
				 got, want, hint);
			goto out;
		}
		if (strcmp(t->dtype, "F32")) {
			snprintf(err, errn, "tensor '%s' is %s; micronas reads F32 (save with .float())",
				 spec[i].name, t->dtype);
			goto out;
		}
		found[i] = t;
		total += t->numel;
	}
	for (size_t j = 0; j < st->n; j++) {
		int known = 0;
		for (int i = 0; i < n && !known; i++)
			known = !strcmp(st->t[j].name, spec[i].name);
		if (!known) {
			char nb[84];
			snprintf(err, errn,
				 "tensor '%s' is not part of this arch's network: the weights do not match this arch%s",
				 mn_st_printable(st->t[j].name, nb, sizeof nb), hint);
			goto out;
		}
	}
	net->store = malloc(total * sizeof(float));
	net->edge = calloc((size_t)(3 * s->cells * MN_EDGES), sizeof *net->edge);
	if (!net->store || !net->edge) {
		snprintf(err, errn, "out of memory for %zu weights", total);
		goto out;
	}
	net->arch = *a;
	net->shape = *s;
	/* Walk the spec in its order, handing out the copied tensors. */
	{
		float *p = net->store;
		const float *v[n];
		for (int i = 0; i < n; i++) {
			mn_st_copy_f32(found[i], p);
			long bad = first_nonfinite(p, found[i]->numel);
			if (bad >= 0) {
				snprintf(err, errn,
					 "tensor '%s' holds %s at element %ld: the training diverged; train again (a lower --lr) and save the weights again",
					 spec[i].name, isnan(p[bad]) ? "NaN" : "an infinite value", bad);
				goto out;
			}
			v[i] = p;
			p += found[i]->numel;
		}
		int i = 0, C = s->channels;
		net->stem = (struct mn_fconv){v[0], v[1], mn_shape_input_channels(s), C, 3, 1, 0};
		i = 2;
		for (int stg = 0; stg < 3; stg++) {
			int c = mn_stage_channels(s, stg);
			if (stg > 0) {
				int r = stg - 1, ci = c / 2;
				net->red_a[r] = (struct mn_fconv){v[i], v[i + 1], ci, c, 3, 2, 1};
				net->red_b[r] = (struct mn_fconv){v[i + 2], v[i + 3], c, c, 3, 1, 1};
				net->red_sc[r] = (struct mn_fconv){v[i + 4], NULL, ci, c, 1, 1, 0};
				i += 5;
			}
			for (int cell = 0; cell < s->cells; cell++)
				for (int e = 0; e < MN_EDGES; e++)
					if (a->op[e] == MN_OP_CONV1 || a->op[e] == MN_OP_CONV3) {
						int k = a->op[e] == MN_OP_CONV3 ? 3 : 1;
						net->edge[(stg * s->cells + cell) * MN_EDGES + e] =
						    (struct mn_fconv){v[i], v[i + 1], c, c, k, 1, 1};
						i += 2;
					}
		}
		net->head_scale = v[i];
		net->head_shift = v[i + 1];
		net->fc_w = v[i + 2];
		net->fc_b = v[i + 3];
	}
	rc = 0;
out:
	free(spec);
	free(found);
	if (rc)
		mn_fnet_free(net);
	return rc;
}
