/* The BN-folded float network (eval mode), the reference the int8 model is
 * calibrated and compared against.  One image at a time, CHW float, convs
 * as im2col + SGEMM (OpenBLAS).
 *
 * Slots: the activation tensors the int8 model gives a scale each, so a
 * forward can record their largest magnitude (calibration):
 *   MN_SLOT_INPUT, MN_SLOT_STEM,
 *   mn_slot_edge(s, cell, e): the output of a conv edge (cell = global
 *     index stage * N + n, 0..3N-1),
 *   mn_slot_node(s, cell, i): node i = 1..3 of a cell (3 = its output),
 *   mn_slot_red(s, r, part): reduction r = 0, 1; part 0 conv_a, 1 conv_b,
 *     2 shortcut, 3 the sum,
 *   mn_slot_head(s): after the folded final BN and ReLU,
 *   mn_slot_pooled(s): the global average pool's output,
 *   mn_slot_logits(s). */
#ifndef MN_FNET_H
#define MN_FNET_H

#include "export/weights_check.h"

enum { MN_SLOT_INPUT = 0, MN_SLOT_STEM = 1 };
int mn_slot_edge(const struct mn_net_shape *s, int cell, int e);
int mn_slot_node(const struct mn_net_shape *s, int cell, int node);
int mn_slot_red(const struct mn_net_shape *s, int r, int part);
int mn_slot_head(const struct mn_net_shape *s);
int mn_slot_logits(const struct mn_net_shape *s);
int mn_slot_pooled(const struct mn_net_shape *s);
int mn_slot_count(const struct mn_net_shape *s);

/* Convs, numbered as the int8 model stores them (quantize.c): the stem 0,
 * conv edge e of cell i (global index) 1 + 6i + e, reduction r's conv_a,
 * conv_b and shortcut 1 + 18N + 3r + 0, 1, 2.  mn_fnet_conv is NULL for
 * an index whose edge is not a conv. */
int mn_fconv_count(const struct mn_net_shape *s);
const struct mn_fconv *mn_fnet_conv(const struct mn_fnet *net, int index);

/* The histograms calibration takes of each slot (mn_fnet_obs.hist):
 * MN_HIST_BINS bins of |value| over [0, hist_max[slot]]. */
enum { MN_HIST_BINS = 2048 };

/* What a forward records and alters, each NULL when not wanted:
 *   amax: [slots], raised to the largest |value| seen in each slot;
 *   fq: [slots], the slot rounded as the int8 model stores it,
 *     saturate(round(v / fq[slot]), -fq_max - 1, fq_max) * fq[slot], where
 *     fq[slot] > 0 (diagnosis; the pool and the logits are never
 *     rounded: the int8 model keeps them in int32); fq_max 0 means 127;
 *   hist, hist_max: [slots][MN_HIST_BINS] counts of |value| (values above
 *     hist_max[slot] in the last bin);
 *   patch_sum: [convs] (mn_fconv_count), each NULL or [cin * k * k]: adds
 *     the mean over the output pixels of each input patch element (the
 *     conv's im2col rows, in its weight order, after its input ReLU, the
 *     zero padding included), so patch_sum / images is E[x] of the bias
 *     correction (quantize.h);
 *   patch_cov: [convs], each NULL or [cin k k][cin k k]: adds the mean
 *     over the output pixels of the patch's outer product, x x^T (the
 *     weight rounding's second-order statistics, quantize.h);
 *   pooled_sum: [4C], adds the pooled features. */
struct mn_fnet_obs {
	float *amax;
	const float *fq;
	int fq_max;
	double *hist;
	const float *hist_max;
	double **patch_sum;
	float **patch_cov;
	double *pooled_sum;
};

/* logits[classes] of one image x [C][H][W] (normalised; the shape's input).  amax (NULL or
 * [mn_slot_count]) is raised to the largest |value| seen in each slot.
 * 0, or -1 when out of memory. */
int mn_fnet_forward(const struct mn_fnet *net, const float *x, float *logits, float *amax);

/* mn_fnet_forward with the records and alterations of obs (NULL: none). */
int mn_fnet_run(const struct mn_fnet *net, const float *x, float *logits,
		const struct mn_fnet_obs *obs);

/* Diagnosis (bench/bench_quant): mn_fnet_forward with the tensors of the
 * slots where fq[slot] > 0 rounded as the int8 model stores them,
 * saturate(round(v / fq[slot]), -fq_max - 1, fq_max) * fq[slot] (fq_max
 * 127; 32767 asks what 16-bit activations would give); fq NULL or 0
 * elsewhere leaves them float.  The pool and the logits are never
 * rounded (the int8 model keeps them in int32). */
int mn_fnet_forward_fq(const struct mn_fnet *net, const float *x, float *logits, float *amax,
		       const float *fq, int fq_max);

#endif
