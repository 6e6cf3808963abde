/* C sources of a quantized model (micronas deploy): model.h declares the
 * entry point, model.c holds the weights as const arrays (flash), the
 * network description and a static activation arena.  They build with
 * the firmware's kernels (model.h says which).  check.bin holds a few quantized images and the host's
 * int8 logits for them, the reference the board must reproduce. */
#ifndef MN_DEPLOY_C_H
#define MN_DEPLOY_C_H

#include <stddef.h>

#include "export/quantize.h"

/* The longest output directory deploy takes (bytes): every file it writes
 * there, DIR/ and a name of at most MN_DEPLOY_PATH_BYTES - MN_DEPLOY_DIR_MAX
 * - 2 bytes, fits a path buffer of MN_DEPLOY_PATH_BYTES. */
#define MN_DEPLOY_DIR_MAX 4000
#define MN_DEPLOY_PATH_BYTES 4200

/* Writes DIR/model.h and DIR/model.c (atomically each).  input_table
 * [channels][256] (mn_qmodel_input_table; NULL when the data were not
 * 8-bit) adds mn_model_input_from_pixels, raw HWC bytes to the model's
 * input.  0, or -1 with one line in err (also for a DIR longer than
 * MN_DEPLOY_DIR_MAX). */
int mn_deploy_write_c(const struct mn_qmodel *q, const char *arch_str, const int8_t *input_table,
		      const char *dir, char *err, size_t errn);
/* The flash bytes of model.c's input table for that many input channels
 * (256 a channel, and the slack every int8 array of model.c carries). */
size_t mn_deploy_input_table_bytes(int channels);

/* DIR/check.bin: "MNQC", u32 count, u32 image bytes, u32 classes, then per
 * image its int8 bytes and its int32 logits (little-endian). */
int mn_deploy_write_check(const char *dir, const int8_t *imgs, const int32_t *logits, int count,
			  int image_bytes, int classes, char *err, size_t errn);

#endif
