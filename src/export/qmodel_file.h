/* The int8 model as a file: `micronas deploy` writes DIR/model.int8.safetensors
 * beside model.c, and `micronas validate --weights W --model FILE` takes the
 * int8 values from it instead of its own quantization.
 *
 * Why: quantization is exact on one computer (the same weights, data and
 * calibration count give the same model, calibrate.h) but not across
 * computers.  The calibration's float sums round as the BLAS kernel of the
 * CPU sums them, and GPTQ's sequential rounding turns last-bit differences
 * into other int8 weights (measured: deploy under OpenBLAS's Haswell,
 * Sandybridge and Nehalem kernels wrote three different model.c files).  A
 * board flashed from one computer is then refused by validate on another.
 * With the file, validate runs on the host the very numbers the board
 * carries.
 *
 * Format: safetensors (safetensors.h).  Per conv i of mn_qmodel.convs (the
 * stem 0, conv edge e of cell c at 1 + 6c + e, the reduction convs after;
 * absent where an edge is not a conv): conv.i.w I8 [cout, k*k*cin] (qnet's
 * OHWI order), conv.i.b I32 [cout] (where the conv has a bias), conv.i.mult
 * I32 [cout], conv.i.shift I8 [cout]; adds I32 [3N*6 + 2, 2] (the cell
 * adds, then the reductions'; Q15 factors); head I32 [2, 4C] (Q14 scale,
 * then shift); fc.w I8 [classes, 4C]; fc.b I32 [classes].  Metadata:
 * format "micronas-int8-model-1", arch, channels, cells, height, width,
 * input_channels, classes, in_scale and logit_scale ("%.9g", exact for a
 * float), fingerprint ("%08x", mnq_fingerprint). */
#ifndef MN_QMODEL_FILE_H
#define MN_QMODEL_FILE_H

#include <stddef.h>

#include "export/quantize.h"
#include "space/arch.h"

/* Writes q (of arch a) to path (atomically).  0, or -1 with one line in err. */
int mn_qmodel_save(const struct mn_qmodel *q, const struct mn_arch *a, const char *path, char *err,
		   size_t errn);

/* Replaces q's int8 values (weights, biases, multipliers, shifts, add
 * factors, head, classifier, input and logit scales) with path's.  q must
 * be a model of the same arch and shape (mn_quantize's layout gives the
 * sizes; the file gives only values).  Everything is checked before
 * anything is copied: every tensor present with its dtype and size, the
 * arch and shape in the metadata, shifts in -30..31, add factors in
 * 1..32767 and conv biases within MN_QBIAS_MAX where qnet needs them (the
 * last found by fuzzing: a bias near 2^31 overflowed qnet's int32 sum),
 * the head within mn_quantize's bounds, the
 * scales finite and positive, and the fingerprint of the result equal to
 * the one the file records (a damaged file).  0, or -1 with one line in
 * err naming the file, the first problem and the fix; after a fingerprint
 * mismatch q holds the file's values (free it). */
int mn_qmodel_load(struct mn_qmodel *q, const struct mn_arch *a, const char *path, char *err,
		   size_t errn);
/* Reads path (the whole file, as mn_qmodel_load does) and says from its
 * metadata whether it is an int8 model file and for which arch, without
 * checking its arrays (the TUI checks a file when it is given, before v
 * needs it; v's load checks the rest).  0 with *a set, or -1 with one
 * line in err naming the file and the fix. */
int mn_qmodel_probe(const char *path, struct mn_arch *a, char *err, size_t errn);

/* mn_qmodel_load from a parsed file (path names it in messages). */
struct mn_safetensors;
int mn_qmodel_load_parsed(struct mn_qmodel *q, const struct mn_arch *a,
			  const struct mn_safetensors *st, const char *path, char *err, size_t errn);

#endif
