#include "space/latency_model.h"
#include "space/cost.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The Cortex-M7 of the STM32F746 is a 6-stage, in-order, dual-issue core:
 * a load can issue with an ALU or multiply instruction in the same cycle,
 * and SMLAD (two 16x16 multiply-accumulates) completes one per cycle.  The
 * int8 kernels modelled are CMSIS-NN's (arm_convolve_s8 with its s8->s16
 * im2col and arm_nn_mat_mult_kernel_s8_s16, arm_convolve_1x1_s8_fast,
 * arm_avgpool_s8, arm_elementwise_add_s8, arm_fully_connected_s8), run with
 * weights in flash behind the ART accelerator / caches and activations in
 * SRAM, both caches on.  Cache misses and flash wait states are not
 * modelled: the estimate is optimistic for layers whose weights do not fit
 * the 4 KB D-cache. */
const struct mn_cycle_model mn_cycle_model_cortex_m7 = {
	.name = "Cortex-M7 int8 (CMSIS-NN style kernels)",
	/* The 3x3 inner loop computes 2 output channels x 2 output pixels over
	 * 4 inputs = 16 MACs with 2 weight loads, 4 SXTB16 to widen weights,
	 * 4 loads of 16-bit im2col data and 8 SMLAD: 18 instructions, about
	 * 12 cycles when the 6 loads pair with ALU work: 0.75 cycles/MAC. */
	.conv3x3_per_mac = 0.75,
	/* The 1x1 kernel runs the same SMLAD matrix multiply straight on the
	 * int8 input (no im2col), widening inputs in the loop instead of in
	 * advance; the extra SXTB16 cost about what the im2col loads save. */
	.conv1x1_per_mac = 0.75,
	/* im2col widens each of the k*k*Cin patch bytes of every output pixel
	 * to 16 bits: one word load gives 4 bytes, 2 SXTB16 + 2 SADD16 (input
	 * offset) + 2 stores, plus row and padding bookkeeping: ~1 cycle/byte. */
	.im2col_per_byte = 1.0,
	/* Per output value: bias add, SMULL by the per-channel multiplier,
	 * rounding add and shift, output offset, two clamps, byte store: ~8
	 * instructions, ~6 cycles with pairing. */
	.requant_per_output = 6.0,
	/* NB201's ReLU comes before each conv and its input is shared with
	 * other edges, so it is a pass of its own into a new buffer: per word
	 * of 4 bytes a load, USUB8 + SEL against the zero point and a store,
	 * ~2 cycles: 0.5 cycles/element. */
	.relu_per_element = 0.5,
	/* Pooling reads each window byte with a sign-extending load and adds it
	 * into a 32-bit sum (address arithmetic pairs with the add): ~1.5. */
	.pool_per_tap = 1.5,
	/* Dividing the sum by the number of valid taps (SDIV, 2-12 cycles),
	 * rounding, clamping and storing: ~10 cycles per pooled value. */
	.pool_per_output = 10.0,
	/* Element-wise addition of two int8 tensors of different scales:
	 * both inputs are offset, shifted and rescaled (2 requantisations),
	 * summed and rescaled to the output (a third): ~3 x 4 cycles plus two
	 * loads, a store and the loop: ~16 cycles/element. */
	.add_per_element = 16.0,
	/* The head's BN cannot fold into a conv (it follows an addition), so it
	 * runs as a per-channel rescale of int8 values with the ReLU folded
	 * into the clamp: one requantisation per element, ~6 cycles. */
	.bn_per_element = 6.0,
	/* Global average pooling: a load and an add per element. */
	.gap_per_element = 1.0,
	/* A fully connected layer reuses no input across outputs, so the
	 * weight and input loads are not amortised as in a conv: ~1 cycle per
	 * MAC even with SMLAD. */
	.fc_per_mac = 1.0,
	/* Per kernel call: an interpreter's dispatch, reading the op's
	 * parameters and quantisation data, setting up buffers; ~1000 cycles
	 * (about 5 us at 216 MHz) in TensorFlow Lite Micro-like runtimes. */
	.per_layer = 1000.0,
	/* Per inference: invoking the runtime, copying the 3 x 32 x 32 int8
	 * input into the arena and reading the outputs: ~20000 cycles. */
	.per_inference = 20000.0,
};

/* The Cortex-M4 of the STM32F446 (NUCLEO-F446RE, 180 MHz) runs the same
 * ARMv7E-M instructions (SMLAD, SXTB16 and SMULL are single-cycle) on a
 * 3-stage, single-issue pipeline: nothing pairs, a load takes 2 cycles
 * (1 more when it follows another load: N adjacent loads take N + 1), a
 * taken branch 2-4.  There are no caches: weights stream from flash with
 * 5 wait states through the ART accelerator, whose prefetch and 1 KB
 * instruction cache hide the code fetches and whose 8-line (128-bit) data
 * cache turns each 16 bytes of a sequential weight stream into one miss of
 * ~6 cycles; that cost is folded into the per-MAC figures below.  Kernels
 * and instruction counts are those of the Cortex-M7 model above. */
const struct mn_cycle_model mn_cycle_model_cortex_m4 = {
	.name = "Cortex-M4 int8 (CMSIS-NN style kernels)",
	/* The same 18-instruction 16-MAC loop: 6 loads in two runs (2 + 1,
	 * 4 + 1 cycles), 4 SXTB16, 8 SMLAD, SUBS + a taken branch (~4): ~24
	 * cycles, 1.5 cycles/MAC; plus the two weight rows' flash misses, one
	 * per 16 bytes of each, 0.5 per loop x ~6 cycles = 3 cycles: 1.7. */
	.conv3x3_per_mac = 1.7,
	/* As on the M7: widening in the loop costs what the im2col loads
	 * save; the same weight stream from flash. */
	.conv1x1_per_mac = 1.7,
	/* Per 4 patch bytes: a load (2), 2 SXTB16 + 2 SADD16 (4), 2 stores
	 * (~2) and row/padding bookkeeping (~1): ~9 cycles, 2.25 per byte. */
	.im2col_per_byte = 2.25,
	/* The M7's ~8 instructions with a 2-cycle bias load and no pairing. */
	.requant_per_output = 9.0,
	/* Per word: load (2), USUB8, SEL, store, loop share: ~6 cycles per 4
	 * elements. */
	.relu_per_element = 1.5,
	/* A sign-extending byte load (2, 1 when loads run back to back), the
	 * add and the address step: ~3. */
	.pool_per_tap = 3.0,
	/* SDIV (2-12 cycles), rounding, SSAT, store: ~12. */
	.pool_per_output = 12.0,
	/* Three requantisations of ~5 single-issue cycles, two byte loads, a
	 * store and the loop: ~22 cycles/element. */
	.add_per_element = 22.0,
	/* One requantisation per element, as the M4's requant_per_output. */
	.bn_per_element = 9.0,
	/* A byte load and an add, loads back to back. */
	.gap_per_element = 2.0,
	/* Two output rows per pass: per 8 MACs 3 loads (~4), 6 SXTB16, 4
	 * SMLAD, the loop (~3): ~17 cycles, plus one flash miss per 16 weight
	 * bytes: ~2.4 cycles/MAC. */
	.fc_per_mac = 2.4,
	/* The interpreter's dispatch is branches and loads, which the M4 runs
	 * ~1.3x slower per instruction than the dual-issue M7. */
	.per_layer = 1300.0,
	.per_inference = 26000.0,
};

const char mn_latency_model_comment_m4[] =
	"micronas latency table: microseconds per inference part (see src/space/latency_table.h).\n"
	"\n"
	"THESE ARE NOT MEASUREMENTS.  This is an a-priori cycle model of int8 CMSIS-NN-style\n"
	"kernels on a Cortex-M4 (src/space/latency_model.c documents every constant): 1.7\n"
	"cycles per MAC for 1x1 and 3x3 convs (single-issue SMLAD loop plus the weight stream's\n"
	"flash misses behind the ART accelerator), 2.25 per im2col byte, 9 per requantised\n"
	"output, 1.5 per ReLU element, 3 per pooling tap + 12 per pooled value, 22 per\n"
	"element-wise addition, 1300 per kernel call and 26000 per inference.  skip_connect is\n"
	"0: an identity aliases its input; its cost is the node addition that consumes it.\n"
	"Replace this file with measurements: micronas profile writes the same format.\n"
	"Regenerate the model's numbers with: tests/test_latency_m4 --regenerate FILE\n";

const char mn_latency_model_comment[] =
	"micronas latency table: microseconds per inference part (see src/space/latency_table.h).\n"
	"\n"
	"THESE ARE NOT MEASUREMENTS.  This is an a-priori cycle model of int8 CMSIS-NN-style\n"
	"kernels on a Cortex-M7 (src/space/latency_model.c documents every constant): 0.75 cycles per\n"
	"MAC for 1x1 and 3x3 convs (SMLAD, two 16-bit MACs per cycle, with loads and widening),\n"
	"1 cycle per im2col byte, 6 per requantised output, 0.5 per ReLU element, 1.5 per pooling\n"
	"tap + 10 per pooled value, 16 per element-wise addition, 1000 per kernel call and 20000\n"
	"per inference.  skip_connect is 0: an identity aliases its input; its cost is the\n"
	"node addition that consumes it.  Cache misses and flash wait states are not modelled.\n"
	"Replace this file with measurements: micronas profile writes the same format.\n"
	"Regenerate the model's numbers with: tests/test_latency_table --regenerate FILE\n";

/* Stage s's shape: channels double, each side halves by mn_half_side. */
static int stage_channels(int c, int s) { return c << s; }

/* A convolution with square kernel k, Cin -> Cout, producing an oh x ow
 * output; rh x rw > 0 adds the separate ReLU pass over a Cin x rh x rw
 * input. */
static double conv_cycles(const struct mn_cycle_model *m, int k, int cin, int cout, int oh, int ow,
			  int rh, int rw)
{
	double pixels = (double)oh * ow;
	double macs = pixels * cout * cin * k * k;
	double cyc = m->per_layer + m->requant_per_output * pixels * cout;
	if (k == 1) {
		cyc += m->conv1x1_per_mac * macs;
	} else {
		cyc += m->conv3x3_per_mac * macs;
		cyc += m->im2col_per_byte * pixels * cin * k * k;
	}
	if (rh > 0)
		cyc += m->per_layer + m->relu_per_element * (double)cin * rh * rw;
	return cyc;
}

/* 3x3 average pooling, stride 1, padding 1 not counted: along one axis the
 * windows of a side-n row hold 3n - 2 valid taps in total. */
static double pool3_cycles(const struct mn_cycle_model *m, int c, int h, int w)
{
	double taps = (double)c * (3.0 * h - 2) * (3.0 * w - 2);
	return m->per_layer + m->pool_per_tap * taps + m->pool_per_output * (double)c * h * w;
}

static double add_cycles(const struct mn_cycle_model *m, int c, int h, int w)
{
	return m->per_layer + m->add_per_element * (double)c * h * w;
}

/* Reduction block from stage s-1 to s (a ResNet basic block):
 * ReLU-conv3x3/2-BN, ReLU-conv3x3-BN, shortcut avg-pool 2x2/2 + conv1x1,
 * summed.  BN folds into the convs.  The pool's windows tile the input
 * (the last one clipped on an odd side), so its taps are the input's
 * pixels. */
static double reduction_cycles(const struct mn_cycle_model *m, int c, int h, int w, int s)
{
	int cin = stage_channels(c, s - 1), cout = stage_channels(c, s);
	int ih = mn_side_after(h, s - 1), iw = mn_side_after(w, s - 1);
	int oh = mn_side_after(h, s), ow = mn_side_after(w, s);
	double cyc = conv_cycles(m, 3, cin, cout, oh, ow, ih, iw);
	cyc += conv_cycles(m, 3, cout, cout, oh, ow, oh, ow);
	cyc += m->per_layer + m->pool_per_tap * (double)cin * ih * iw +
	       m->pool_per_output * (double)cin * oh * ow;
	cyc += conv_cycles(m, 1, cin, cout, oh, ow, 0, 0);
	cyc += add_cycles(m, cout, oh, ow);
	return cyc;
}

static double head_cycles(const struct mn_cycle_model *m, int c, int h, int w, int classes)
{
	int ch = stage_channels(c, 2);
	double elems = (double)ch * mn_side_after(h, 2) * mn_side_after(w, 2);
	double cyc = m->per_layer + m->bn_per_element * elems;                       /* BN + ReLU */
	cyc += m->per_layer + m->gap_per_element * elems + m->requant_per_output * ch; /* pool */
	cyc += m->per_layer + m->fc_per_mac * (double)ch * classes +
	       m->requant_per_output * classes;                                        /* linear */
	return cyc;
}

/* Rounded to 0.001 us (a nanosecond): finer digits would only be noise, and
 * the shipped file stays readable. */
static double to_us(double cycles, double mhz)
{
	return round(cycles / mhz * 1000.0) / 1000.0;
}

int mn_latency_model_table(const struct mn_cycle_model *m, const char *board, const char *source,
			   double clock_mhz, int channels, int cells, int height, int width,
			   int classes, struct mn_latency_table *t)
{
	if (!(clock_mhz > 0) || channels < 1 || channels > 4096 || cells < 1 || height < 4 ||
	    height > 1024 || width < 4 || width > 1024 || classes < 1)
		return -1;
	memset(t, 0, sizeof *t);
	snprintf(t->board, sizeof t->board, "%s", board);
	snprintf(t->source, sizeof t->source, "%s", source);
	t->clock_mhz = clock_mhz;
	t->channels = channels;
	t->cells = cells;
	t->height = height;
	t->width = width;
	t->classes = classes;
	for (int s = 0; s < MN_STAGES; s++) {
		int c = stage_channels(channels, s);
		int h = mn_side_after(height, s), w = mn_side_after(width, s);
		t->op_us[s][MN_OP_NONE] = 0;
		t->op_us[s][MN_OP_SKIP] = 0; /* identity: no kernel runs */
		t->op_us[s][MN_OP_CONV1] = to_us(conv_cycles(m, 1, c, c, h, w, h, w), clock_mhz);
		t->op_us[s][MN_OP_CONV3] = to_us(conv_cycles(m, 3, c, c, h, w, h, w), clock_mhz);
		t->op_us[s][MN_OP_POOL3] = to_us(pool3_cycles(m, c, h, w), clock_mhz);
		t->add_us[s] = to_us(add_cycles(m, c, h, w), clock_mhz);
	}
	t->stem_us = to_us(conv_cycles(m, 3, 3, channels, height, width, 0, 0), clock_mhz);
	t->reduction_us[0] = to_us(reduction_cycles(m, channels, height, width, 1), clock_mhz);
	t->reduction_us[1] = to_us(reduction_cycles(m, channels, height, width, 2), clock_mhz);
	t->head_us = to_us(head_cycles(m, channels, height, width, classes), clock_mhz);
	t->overhead_us = to_us(m->per_inference, clock_mhz);
	return 0;
}

double mn_latency_model_stem_us(const struct mn_cycle_model *m, double clock_mhz, int in_channels,
				int channels, int height, int width)
{
	return to_us(conv_cycles(m, 3, in_channels, channels, height, width, 0, 0), clock_mhz);
}

int mn_latency_model_nucleo(int channels, int cells, int height, int width, int classes,
			    struct mn_latency_table *t)
{
	return mn_latency_model_table(&mn_cycle_model_cortex_m7, "NUCLEO-F746ZG",
				      "a-priori cycle model of int8 CMSIS-NN-style kernels on a Cortex-M7 at 216 MHz, NOT measured (replace with micronas profile)",
				      216.0, channels, cells, height, width, classes, t);
}

int mn_latency_model_nucleo_f446re(int channels, int cells, int height, int width, int classes,
				   struct mn_latency_table *t)
{
	return mn_latency_model_table(&mn_cycle_model_cortex_m4, "NUCLEO-F446RE",
				      "a-priori cycle model of int8 CMSIS-NN-style kernels on a Cortex-M4 at 180 MHz, NOT measured (replace with micronas profile)",
				      180.0, channels, cells, height, width, classes, t);
}
