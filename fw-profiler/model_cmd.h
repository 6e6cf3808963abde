/* The deployed model's commands (MODEL_INFO, INPUT_CHUNK, RUN_MODEL; see
 * PROTOCOL.md).  Firmware only.  Built with -DMNFW_MODEL and the
 * model.c `micronas deploy` wrote, the image carries that model; without
 * it every one of these commands is answered NO_MODEL. */
#ifndef MN_FW_MODEL_CMD_H
#define MN_FW_MODEL_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

/* 1 when the image carries a model. */
int mnfw_has_model(void);

/* What to send back: a reply payload (code 0) or an error. */
struct mnfw_answer {
	int code;                 /* MNP_OK or MNP_ERR_* */
	uint32_t detail, detail2; /* for errors */
	uint8_t payload[MNP_MAX_PAYLOAD];
	size_t len;
};

/* Handles one checked frame of those three commands.  The model runs in
 * arena (the profiler's activation arena); the input image is kept at its
 * end between INPUT_CHUNK and RUN_MODEL. */
void mnfw_model_cmd(const struct mnp_frame *f, uint8_t *arena, uint32_t arena_len,
		    uint64_t (*now)(void), struct mnfw_answer *a);

#endif
