/* MicroNAS's latency look-up table: the latency of each op of the
 * NAS-Bench-201 cell at each stage's shape, of the network's fixed parts and
 * of a constant overhead, in microseconds on one board; and the latency of
 * an arch estimated from it.
 *
 * Stage s (0, 1, 2) runs at C * 2^s channels on H x W halved s times by
 * mn_half_side (space/cost.h).
 *
 * File format (INI, read with inih; every error names FILE:LINE):
 *   [meta]    board, source (free text: where the numbers come from),
 *             clock_mhz, channels, cells, resolution (R for a square input,
 *             HxW otherwise, e.g. 49x10), classes; optional
 *             input_channels (of the image the stem reads, 1..255; absent
 *             means 3, RGB, and a table is written without it when 3)
 *   [stage0] [stage1] [stage2]
 *             skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3: one
 *             instance of the op at that stage's shape;
 *             add: one element-wise addition of two tensors of that shape
 *   [fixed]   stem, reduction1 (stage 0 -> 1), reduction2 (stage 1 -> 2),
 *             head (BN + ReLU + global average pool + linear), overhead
 *             (per inference: invoke, input, output)
 * All latencies in microseconds, >= 0.  Every entry is required. */
#ifndef MN_LATENCY_TABLE_H
#define MN_LATENCY_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "space/arch.h"

#define MN_STAGES 3
#define MN_LAT_TEXT 160 /* board and source strings, NUL included */

struct mn_latency_table {
	char board[MN_LAT_TEXT];
	char source[MN_LAT_TEXT];
	double clock_mhz;
	int channels, cells, height, width, classes; /* width = height when square */
	int input_channels; /* the stem's input; 0 (absent) = 3 */
	double op_us[MN_STAGES][MN_OP_COUNT]; /* [stage][op]; op_us[s][MN_OP_NONE] is 0 */
	double add_us[MN_STAGES];
	double stem_us, reduction_us[2], head_us, overhead_us;
};

/* Reads a table.  Returns 0, or -1 with err holding one "FILE:LINE: problem
 * (fix)" line (a missing entry is reported at its section's header line,
 * or at the end of the file when the section is missing). */
int mn_latency_table_read(struct mn_latency_table *t, const char *path, char *err, size_t errn);
/* 1 when name is a section of a latency table ("meta", "stage0", ...). */
int mn_latency_table_section(const char *name);

/* Writes the table in the format above; comment (may be NULL) is written
 * first, each of its lines prefixed with "; ".  Numbers are written in their
 * shortest exact form, so reading the file back gives the same table bit
 * for bit.  Returns 0 or -1 (errno set). */
int mn_latency_table_print(const struct mn_latency_table *t, const char *comment, FILE *f);

/* Writes path atomically (temporary file in the same directory, fsync,
 * rename): a reader never sees a partial table.  Refuses (-1 with err) a
 * table that could not be read back as written: negative or non-finite
 * numbers, text with ';', control characters or surrounding blanks. */
int mn_latency_table_write(const struct mn_latency_table *t, const char *path,
			   const char *comment, char *err, size_t errn);

/* Checks that the table was made for this network (channels, cells,
 * height, width, classes); -1 with err naming both when not. */
int mn_latency_table_check_network(const struct mn_latency_table *t, const char *path,
				   int channels, int cells, int height, int width, int classes,
				   char *err, size_t errn);

/* Checks that the table's stem was measured on input_channels channels
 * (an absent field means 3); -1 with err naming both when not. */
int mn_latency_table_check_input(const struct mn_latency_table *t, const char *path,
				 int input_channels, char *err, size_t errn);

/* Additions a cell needs: a node with k > 1 non-none inputs sums them with
 * k - 1 two-input additions. */
int mn_latency_cell_adds(const struct mn_arch *a);

/* Estimated latency of one arch, in microseconds:
 *   overhead + stem + reduction1 + reduction2 + head
 *   + sum over stages s of cells x (sum of op_us[s][op] over the six edges
 *                                   + adds(arch) x add_us[s]).
 * Ops on a path that does not reach the output are still counted, as
 * NAS-Bench-201's FLOPs count them. */
double mn_latency_arch_us(const struct mn_latency_table *t, const struct mn_arch *a);

/* A mixed supernet: mask[e] has bit (1 << op) set for every op still active
 * on edge e.  Its estimate runs every active non-none op: sum of all of
 * them, plus the additions that sum them (a node whose edges carry k
 * active non-none ops in total needs k - 1 additions; the mean's 1/k scale
 * is folded into the following op and costs nothing).  This is the cost of
 * executing the supernet as such, an upper bound for any arch inside it. */
double mn_latency_mixed_us(const struct mn_latency_table *t, const unsigned char mask[MN_EDGES]);

/* The fastest single arch inside the mask (one active op per edge; an edge
 * with no active op counts as none), by enumeration (at most 5^6 archs).
 * Returns its latency; best (may be NULL) receives the arch, the first in
 * mn_arch_to_index() order among equals. */
double mn_latency_min_us(const struct mn_latency_table *t, const unsigned char mask[MN_EDGES],
			 struct mn_arch *best);

#endif
