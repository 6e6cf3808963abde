/* model.h / model.c / check.bin; see deploy_c.h. */
#include "export/deploy_c.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void arr_i8(FILE *f, const char *name, const int8_t *v, size_t n)
{
	/* zero slack after the values: the DSP kernels read whole words */
	fprintf(f, "static const int8_t %s[%zu] = {", name, n + MNK_WEIGHT_SLACK);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%d,", i % 24 ? "" : "\n\t", v[i]);
	fprintf(f, "\n};\n");
}

size_t mn_deploy_input_table_bytes(int channels)
{
	return (size_t)channels * 256 + MNK_WEIGHT_SLACK;
}

static void arr_i32(FILE *f, const char *name, const int32_t *v, size_t n)
{
	fprintf(f, "static const int32_t %s[%zu] = {", name, n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%ld,", i % 8 ? "" : "\n\t", (long)v[i]);
	fprintf(f, "\n};\n");
}

static void conv_arrays(FILE *f, const struct mnq_conv *c, int id)
{
	char nm[32];
	if (!c->w)
		return;
	snprintf(nm, sizeof nm, "w%d", id);
	arr_i8(f, nm, c->w, (size_t)c->cout * c->k * c->k * c->cin);
	if (c->b) {
		snprintf(nm, sizeof nm, "b%d", id);
		arr_i32(f, nm, c->b, c->cout);
	}
	snprintf(nm, sizeof nm, "m%d", id);
	arr_i32(f, nm, c->mult, c->cout);
	snprintf(nm, sizeof nm, "s%d", id);
	arr_i8(f, nm, c->shift, c->cout);
}

static void conv_init(FILE *f, const struct mnq_conv *c, int id)
{
	if (!c->w) {
		fprintf(f, "\t{0},\n");
		return;
	}
	if (c->b)
		fprintf(f, "\t{w%d, b%d, m%d, s%d, %d, %d, %d, %d, %d},\n", id, id, id, id, c->cin,
			c->cout, c->k, c->stride, c->relu_in);
	else
		fprintf(f, "\t{w%d, 0, m%d, s%d, %d, %d, %d, %d, %d},\n", id, id, id, c->cin, c->cout,
			c->k, c->stride, c->relu_in);
}

static FILE *open_tmp(const char *dir, const char *name, char *path, char *tmp, size_t n, char *err,
		      size_t errn)
{
	/* A cut path would name another file: refuse it. */
	if (strlen(dir) > MN_DEPLOY_DIR_MAX || (size_t)snprintf(path, n, "%s/%s", dir, name) >= n ||
	    (size_t)snprintf(tmp, n, "%s/%s.tmp", dir, name) >= n) {
		snprintf(err, errn, "the output directory's path is longer than %d bytes (give a "
			 "shorter -o DIR)", MN_DEPLOY_DIR_MAX);
		return NULL;
	}
	FILE *f = fopen(tmp, "wb");
	if (!f)
		snprintf(err, errn, "cannot write %s: %s", tmp, strerror(errno));
	return f;
}

static int close_tmp(FILE *f, const char *path, const char *tmp, char *err, size_t errn)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		snprintf(err, errn, "writing %s failed: %s", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

int mn_deploy_write_c(const struct mn_qmodel *q, const char *arch_str, const int8_t *input_table,
		      const char *dir, char *err, size_t errn)
{
	const struct mnq_net *n = &q->net;
	int ncell = 3 * n->cells, cf = 4 * n->channels;
	char path[MN_DEPLOY_PATH_BYTES], tmp[MN_DEPLOY_PATH_BYTES];
	FILE *f = open_tmp(dir, "model.h", path, tmp, sizeof path, err, errn);
	if (!f)
		return -1;
	fprintf(f,
		"/* Written by `micronas deploy`: the int8 model of\n"
		" *   %s\n"
		" * (C=%d, N=%d, %dx%dx%d input, %d classes).  Build with the firmware's kernels\n"
		" * (fw-profiler/ of the source tree; installed: share/micronas/firmware/src):\n"
		" *   cc -I fw-profiler model.c fw-profiler/qnet.c fw-profiler/kernels.c\n"
		" * and, on a Cortex-M with the DSP extension (M4, M7), fw-profiler/kernels_m7.S.\n"
		" * Flash: %llu bytes of int8 weights, %llu of int32 biases, %llu of\n"
		" * requantization parameters; SRAM: MN_MODEL_ARENA_BYTES of activations. */\n"
		"#ifndef MN_MODEL_H\n#define MN_MODEL_H\n\n#include <stdint.h>\n\n#include \"qnet.h\"\n\n"
		"#define MN_MODEL_CHANNELS %d\n#define MN_MODEL_CELLS %d\n#define MN_MODEL_HEIGHT %d\n"
		"#define MN_MODEL_WIDTH %d\n#define MN_MODEL_INPUT_CHANNELS %d\n"
		"#define MN_MODEL_CLASSES %d\n#define MN_MODEL_ARENA_BYTES %luu\n"
		"/* Input: HEIGHT x WIDTH x INPUT_CHANNELS int8, HWC, q = round(x / MN_MODEL_INPUT_SCALE)\n"
		" * where x is the pixel normalised per channel as micronas reads the data: CIFAR\n"
		" * files ((pixel / 255) - mean) / std with CIFAR-10's mean (125.3, 123.0, 113.9) / 255\n"
		" * and std (63.0, 62.1, 66.7) / 255, other data (pixel - mean) / std with its own\n"
		" * per-channel mean and standard deviation (see the man page, DATA). */\n"
		"#define MN_MODEL_INPUT_SCALE %.9gf\n"
		"/* Output: int32 logits, float logit = q * MN_MODEL_LOGIT_SCALE. */\n"
		"#define MN_MODEL_LOGIT_SCALE %.9gf\n\n"
		"extern const struct mnq_net mn_model;\n\n"
		"/* Runs the model on one image: 0, or -1 if the arena is too small. */\n"
		"int mn_model_run(const int8_t *image, int32_t *logits);\n",
		arch_str, n->channels, n->cells, n->height, n->width, n->stem->cin, n->classes,
		(unsigned long long)q->weight_bytes, (unsigned long long)q->bias_bytes,
		(unsigned long long)q->requant_bytes, n->channels, n->cells, n->height, n->width,
		n->stem->cin, n->classes, (unsigned long)q->arena_bytes, q->in_scale, q->logit_scale);
	if (input_table)
		fprintf(f, "\n/* Raw pixels to the input above: pixels is HEIGHT x WIDTH x INPUT_CHANNELS\n"
			   " * bytes in HWC order, the 0-255 values deploy's --data held; each byte goes\n"
			   " * through a table of that normalisation and rounding (256 bytes a channel),\n"
			   " * so image is exactly what deploy and validate fed the model. */\n"
			   "#define MN_MODEL_PIXEL_INPUT 1\n"
			   "void mn_model_input_from_pixels(const uint8_t *pixels, int8_t *image);\n");
	fprintf(f, "\n#endif\n");
	if (close_tmp(f, path, tmp, err, errn))
		return -1;

	f = open_tmp(dir, "model.c", path, tmp, sizeof path, err, errn);
	if (!f)
		return -1;
	fprintf(f, "/* Written by `micronas deploy`; see model.h. */\n#include \"model.h\"\n\n");
	/* conv ids: 0 stem, 1 + cell*6 + e edges, 1 + ncell*6 + r*3 + part */
	int nconv = 1 + ncell * 6 + 6;
	for (int i = 0; i < nconv; i++)
		conv_arrays(f, &n->stem[i], i);
	fprintf(f, "\nstatic const struct mnq_conv stem = {w0, b0, m0, s0, %d, %d, %d, %d, %d};\n",
		n->stem->cin, n->stem->cout, n->stem->k, n->stem->stride, n->stem->relu_in);
	fprintf(f, "static const struct mnq_conv edge[%d] = {\n", ncell * 6);
	for (int i = 0; i < ncell * 6; i++)
		conv_init(f, &n->edge[i], 1 + i);
	fprintf(f, "};\nstatic const struct mnq_conv red[6] = {\n");
	for (int i = 0; i < 6; i++)
		conv_init(f, &n->red[i], 1 + ncell * 6 + i);
	fprintf(f, "};\nstatic const struct mnq_add cell_add[%d] = {\n", ncell * 6);
	for (int i = 0; i < ncell * 6; i++)
		fprintf(f, "\t{%ld, %ld},\n", (long)n->cell_add[i].ma, (long)n->cell_add[i].mb);
	fprintf(f, "};\nstatic const struct mnq_add red_add[2] = {{%ld, %ld}, {%ld, %ld}};\n",
		(long)n->red_add[0].ma, (long)n->red_add[0].mb, (long)n->red_add[1].ma,
		(long)n->red_add[1].mb);
	arr_i32(f, "head_g", n->head_g, (size_t)cf);
	arr_i32(f, "head_b", n->head_b, (size_t)cf);
	arr_i8(f, "fc_w", n->fc_w, (size_t)n->classes * cf);
	arr_i32(f, "fc_b", n->fc_b, n->classes);
	fprintf(f, "\nconst struct mnq_net mn_model = {\n\t%d, %d, %d, %d, %d,\n\t{", n->channels,
		n->cells, n->height, n->width, n->classes);
	for (int e = 0; e < 6; e++)
		fprintf(f, "%s%d", e ? ", " : "", n->ops[e]);
	fprintf(f, "},\n\t%d, {", n->n_order);
	for (int e = 0; e < 6; e++)
		fprintf(f, "%s%d", e ? ", " : "", e < n->n_order ? n->order[e] : 0);
	fprintf(f, "},\n\t&stem, edge, cell_add, red, red_add, head_g, head_b, fc_w, fc_b,\n};\n\n"
		   "/* Activations: 4-byte aligned, the executor's buffer rules. */\n"
		   "static uint32_t arena[(MN_MODEL_ARENA_BYTES + 3) / 4];\n\n"
		   "int mn_model_run(const int8_t *image, int32_t *logits)\n{\n"
		   "\treturn mnq_run(&mn_model, image, logits, (uint8_t *)arena, sizeof arena);\n}\n");
	if (input_table) {
		fprintf(f, "\n");
		arr_i8(f, "input_table", input_table, (size_t)n->stem->cin * 256);
		fprintf(f, "\nvoid mn_model_input_from_pixels(const uint8_t *pixels, int8_t *image)\n{\n"
			   "\tfor (uint32_t i = 0; i < (uint32_t)MN_MODEL_HEIGHT * MN_MODEL_WIDTH; i++)\n"
			   "\t\tfor (uint32_t c = 0; c < MN_MODEL_INPUT_CHANNELS; c++, pixels++, image++)\n"
			   "\t\t\t*image = input_table[c * 256u + *pixels];\n}\n");
	}
	return close_tmp(f, path, tmp, err, errn);
}

int mn_deploy_write_check(const char *dir, const int8_t *imgs, const int32_t *logits, int count,
			  int image_bytes, int classes, char *err, size_t errn)
{
	char path[MN_DEPLOY_PATH_BYTES], tmp[MN_DEPLOY_PATH_BYTES];
	FILE *f = open_tmp(dir, "check.bin", path, tmp, sizeof path, err, errn);
	if (!f)
		return -1;
	uint32_t hdr[3] = {(uint32_t)count, (uint32_t)image_bytes, (uint32_t)classes};
	fwrite("MNQC", 1, 4, f);
	for (int i = 0; i < 3; i++)
		for (int b = 0; b < 4; b++)
			fputc((int)(hdr[i] >> (8 * b)) & 0xff, f);
	for (int i = 0; i < count; i++) {
		fwrite(imgs + (size_t)i * image_bytes, 1, (size_t)image_bytes, f);
		for (int k = 0; k < classes; k++)
			for (int b = 0; b < 4; b++)
				fputc((int)((uint32_t)logits[(size_t)i * classes + k] >> (8 * b)) & 0xff,
				      f);
	}
	return close_tmp(f, path, tmp, err, errn);
}
