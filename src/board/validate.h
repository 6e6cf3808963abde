/* Validating the estimates against the board: one arch run whole with
 * RUN_ARCH, its measured latency and peak SRAM next to the latency table's
 * estimate (mn_latency_arch_us) and the memory model's (mn_memory_arch).
 *
 * The request carries the memory planner's edge order (mn_memory.order), so
 * the firmware executes the cells exactly as the model assumes and its
 * measured high-water mark of live activation bytes must equal the model's
 * peak SRAM. */
#ifndef MN_VALIDATE_H
#define MN_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "space/arch.h"
#include "board/board.h"
#include "space/cost.h"
#include "space/latency_table.h"
#include "protocol.h"

/* The seed of the input data and synthetic weights a validation runs with
 * unless told otherwise (micronas validate --seed, and the TUI's v). */
#define MN_VALIDATE_SEED 7

struct mn_validation {
	char arch[MN_ARCH_STRLEN];
	char board[17];
	int emulated;                  /* instruction-based timing (QEMU) */
	double measured_us, estimated_us;
	double error_pct;              /* (estimated - measured) / measured * 100 */
	uint64_t measured_sram_bytes;  /* the firmware's high-water mark */
	uint64_t estimated_sram_bytes; /* the memory model's peak */
	struct mnp_run_reply reply;    /* everything the board said */
};

/* The channel counts every firmware image takes, the profiler's executor
 * and a deployed model's qnet alike: 4C <= MNP_MAX_CHANNELS (the head's
 * sums) and 1..255 input channels (one byte in RUN_ARCH and MODEL_INFO).
 * 0, or -1 with one line in err naming the limit. */
int mn_board_channels_check(const struct mn_net_shape *s, char *err, size_t errn);

/* The RUN_ARCH request for arch a on network s (ops, planner order, seed)
 * and the model's peak SRAM; -1 with err when the network is outside what
 * the protocol can carry.  A square RGB input with R a multiple of 4 gets
 * the short (24-byte) form every firmware takes; any other input the long
 * (28-byte) form with its width and input channels. */
int mn_validate_request(const struct mn_arch *a, const struct mn_net_shape *s, uint32_t seed,
			struct mnp_run_req *rq, uint64_t *est_sram_bytes, char *err, size_t errn);

/* Runs a on the board and fills v.  t may be NULL (no latency estimate:
 * estimated_us and error_pct are NaN).  Returns 0, or -1 with err, and
 * *board_rc the MN_BOARD_* code when the board failed (0 otherwise). */
int mn_validate_arch(struct mn_board *b, const struct mn_arch *a, const struct mn_net_shape *s,
		     const struct mn_latency_table *t, uint32_t seed, struct mn_validation *v,
		     int *board_rc, char *err, size_t errn);

#endif
