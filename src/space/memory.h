/* The deployable model's memory (reference.md section 6, documented in
 * micronas(1), MEMORY MODEL): int8 weights and activations, BN folded into
 * int32 conv biases.  Peak SRAM is the largest total size of live activation
 * tensors over an execution order; within a cell the edge order is free and
 * chosen to minimise the peak.  The firmware's executor follows the same
 * buffer rules, so `micronas validate` can compare measured and estimated. */
#ifndef MN_MEMORY_H
#define MN_MEMORY_H

#include <stdint.h>

#include "space/arch.h"
#include "space/cost.h"

/* Where the network peak occurs. */
enum mn_mem_phase { MN_PHASE_STEM, MN_PHASE_CELL, MN_PHASE_REDUCTION, MN_PHASE_HEAD };

struct mn_memory {
	uint64_t weight_bytes;  /* int8 conv/linear weights + final BN scales */
	uint64_t bias_bytes;    /* 4 bytes per int32 bias */
	uint64_t flash_bytes;   /* weights + biases + runtime flash */
	uint64_t sram_bytes;    /* peak live activation bytes */
	enum mn_mem_phase peak_phase;
	int peak_stage;         /* stage of the peak cell or reduction */
	int cell_units;         /* peak live tensors inside a cell, in units of C*H*W */
	int order_len;          /* number of non-none edges */
	int order[MN_EDGES];    /* edge execution order achieving cell_units */
};

/* Peak live tensors of one cell (in units of the cell's tensor size) for
 * the given order of its non-none edges; -1 if the order is not a valid
 * topological order of exactly the arch's non-none edges. */
int mn_cell_peak_units(const struct mn_arch *a, const int *order, int len);

/* The minimum over all valid orders; writes the best order (len = number of
 * non-none edges). */
int mn_cell_plan(const struct mn_arch *a, int order[MN_EDGES], int *len);

void mn_memory_arch(const struct mn_arch *a, const struct mn_net_shape *s,
		    uint64_t runtime_flash_bytes, struct mn_memory *out);

const char *mn_mem_phase_name(enum mn_mem_phase p);

#endif
