/* The NB201 executor shared by the firmware and the host: an activation
 * arena allocator that measures peak live bytes, the synthetic quantised
 * model (weights and biases are slices of the flash blob), the whole
 * network (stem, cells, reduction blocks, head) and the single-op runner
 * behind PROFILE_OP and KERNEL_CHECK.  The buffer rules are the ones in
 * PROTOCOL.md ("Memory rules"); the host's memory model predicts them.
 *
 * The host compiles this file natively (plain kernels) to get the
 * reference results the firmware must reproduce bit for bit. */
#ifndef MN_FW_EXEC_H
#define MN_FW_EXEC_H

#include <stdint.h>

#include "protocol.h"

struct mnx_ctx {
	const int8_t *weights;   /* MNP_WEIGHTS_BYTES int8 */
	uint32_t weights_len;
	const int32_t *biases;   /* MNP_BIAS_COUNT int32 */
	uint32_t biases_len;
	uint8_t *arena;          /* activation arena */
	uint32_t arena_len;
	int8_t *scratch;         /* conv patch buffer, outside the arena */
	uint32_t scratch_len;
	uint64_t (*now)(void);   /* timing source, or NULL */
};

/* Scratch the kernels need at most (conv 3x3 patch at MNP_MAX_CHANNELS). */
#define MNX_SCRATCH_BYTES (9u * MNP_MAX_CHANNELS)

struct mnx_run_result {
	uint32_t peak;        /* high-water mark of live activation bytes */
	uint32_t logits_crc;
	uint32_t compactions;
	uint64_t cycles;      /* stem input ready -> logits written */
	uint64_t sec_cycles[MNP_SECTIONS];
	uint32_t sec_peak[MNP_SECTIONS];
	uint32_t detail, detail2; /* error details, see PROTOCOL.md */
};

/* mode: plan only (validate, count bytes; touches no arena memory), or
 * plan then execute. */
#define MNX_PLAN 0
#define MNX_EXEC 1

/* Run (or plan) the NB201 network of rq.  Returns MNP_OK or an MNP_ERR_*
 * code (UNSUPPORTED, BAD_REQUEST, OUT_OF_MEMORY with detail = peak bytes
 * needed and detail2 = arena bytes).  The input is what RUN_ARCH carries:
 * rq->resolution square and RGB in the short form (width and
 * input_channels 0), resolution x width x input_channels in the long. */
int mnx_run_arch(const struct mnx_ctx *ctx, const struct mnp_run_req *rq,
		 int mode, struct mnx_run_result *res);

/* The input image of a network: any height and width in 4..MNP_MAX_HW
 * (each reduction halves a side to ceil(n/2), the host's mn_half_side)
 * and 1..MNP_MAX_CHANNELS channels (the stem's input). */
struct mnx_input {
	uint16_t h, w, channels;
};
/* mnx_run_arch at that input (rq->resolution, width and input_channels
 * are ignored). */
int mnx_run_net(const struct mnx_ctx *ctx, const struct mnp_run_req *rq,
		const struct mnx_input *in, int mode, struct mnx_run_result *res);

struct mnx_op_result {
	uint32_t arena_bytes; /* peak live bytes of the op's buffers */
	uint32_t out_crc;     /* CRC-32 of the output after the last run */
	uint32_t out_bytes;
	uint32_t detail, detail2;
};

/* Prepare the inputs of one op (from rq->seed), run it `runs` times (>= 1)
 * and CRC its output.  samples[i] receives run i's duration when both
 * samples and ctx->now are given. */
int mnx_op_run(const struct mnx_ctx *ctx, const struct mnp_kcheck_req *rq,
	       uint32_t runs, uint64_t *samples, struct mnx_op_result *res);

#endif
