/* The deployed model's commands; see model_cmd.h.
 *
 * Device state (static by design, firmware only): the fingerprint, worked
 * out once from the arrays in flash. */
#include "model_cmd.h"

#include <string.h>

#ifdef MNFW_MODEL
#include "model.h"
#include "qnet.h"

static uint32_t fp_crc, fp_bytes;
static int fp_done;

int mnfw_has_model(void) { return 1; }

static uint32_t input_bytes(void)
{
	return (uint32_t)MN_MODEL_INPUT_CHANNELS * MN_MODEL_HEIGHT * MN_MODEL_WIDTH;
}

/* The input image lives at the arena's end, 4-byte aligned; the model
 * runs in what is before it. */
static uint32_t input_at(uint32_t arena_len)
{
	return (arena_len - input_bytes()) & ~3u;
}

static void fingerprint(void)
{
	if (!fp_done) {
		fp_crc = mnq_fingerprint(&mn_model, &fp_bytes);
		fp_done = 1;
	}
}

static void fail(struct mnfw_answer *a, int code, uint32_t d, uint32_t d2)
{
	a->code = code;
	a->detail = d;
	a->detail2 = d2;
}

static void info(struct mnfw_answer *a)
{
	struct mnp_model_info m;
	memset(&m, 0, sizeof m);
	fingerprint();
	m.fingerprint = fp_crc;
	m.model_bytes = fp_bytes;
	m.input_channels = (uint8_t)mn_model.stem->cin;
	m.channels = mn_model.channels;
	m.cells = mn_model.cells;
	m.resolution = mn_model.height;
	m.width = mn_model.width;
	m.classes = mn_model.classes;
	memcpy(m.ops, mn_model.ops, 6);
	m.arena_bytes = mnq_arena_bytes(&mn_model);
	m.input_bytes = input_bytes();
	m.max_chunk = MNP_MAX_CHUNK;
	a->len = mnp_enc_model_info(&m, a->payload);
}

static void chunk(const struct mnp_frame *f, uint8_t *arena, uint32_t arena_len,
		  struct mnfw_answer *a)
{
	if (f->len <= MNP_CHUNK_HDR_LEN || f->len > MNP_CHUNK_HDR_LEN + MNP_MAX_CHUNK) {
		fail(a, MNP_ERR_BAD_LENGTH, MNP_CHUNK_HDR_LEN + MNP_MAX_CHUNK, f->len);
		return;
	}
	uint32_t off = mnp_get_u32(f->payload), n = f->len - MNP_CHUNK_HDR_LEN;
	if (input_bytes() > arena_len) {
		fail(a, MNP_ERR_OUT_OF_MEMORY, input_bytes(), arena_len);
		return;
	}
	if (off > input_bytes() || n > input_bytes() - off) {
		fail(a, MNP_ERR_BAD_REQUEST, off + n, input_bytes());
		return;
	}
	memcpy(arena + input_at(arena_len) + off, f->payload + MNP_CHUNK_HDR_LEN, n);
	struct mnp_chunk_reply r = {off, n};
	a->len = mnp_enc_chunk_reply(&r, a->payload);
}

static void run(const struct mnp_frame *f, uint8_t *arena, uint32_t arena_len,
		uint64_t (*now)(void), struct mnfw_answer *a)
{
	struct mnp_run_model_req q;
	static struct mnp_run_model_reply r; /* 256 bytes: off the small stack */
	int32_t logits[MN_MODEL_CLASSES];
	if (mnp_dec_run_model_req(f->payload, f->len, &q) != 0) {
		fail(a, MNP_ERR_BAD_LENGTH, MNP_RUN_MODEL_REQ_LEN, f->len);
		return;
	}
	fingerprint();
	if (q.fingerprint != fp_crc) {
		fail(a, MNP_ERR_MODEL_MISMATCH, fp_crc, q.fingerprint);
		return;
	}
	if (input_bytes() > arena_len) {
		fail(a, MNP_ERR_OUT_OF_MEMORY, input_bytes(), arena_len);
		return;
	}
	uint32_t at = input_at(arena_len);
	const int8_t *img = (const int8_t *)(arena + at);
	uint32_t crc = mnp_crc32(0, img, input_bytes());
	if (crc != q.input_crc) {
		/* A chunk lost or never sent: the host uploads again. */
		fail(a, MNP_ERR_BAD_REQUEST, crc, q.input_crc);
		return;
	}
	uint64_t t0 = now();
	int rc = mnq_run(&mn_model, img, logits, arena, at);
	uint64_t t1 = now();
	if (rc != 0) {
		fail(a, MNP_ERR_OUT_OF_MEMORY, mnq_arena_bytes(&mn_model) + input_bytes(), arena_len);
		return;
	}
	memset(&r, 0, sizeof r);
	r.cycles = t1 - t0;
	r.classes = MN_MODEL_CLASSES;
	r.peak_bytes = mnq_arena_bytes(&mn_model);
	uint32_t lc = 0;
	for (int k = 0; k < MN_MODEL_CLASSES; k++) {
		uint8_t b[4];
		mnp_put_u32(b, (uint32_t)logits[k]);
		lc = mnp_crc32(lc, b, 4);
		if (logits[k] > logits[r.argmax])
			r.argmax = (uint16_t)k;
		if (k < (int)MNP_MAX_REPLY_LOGITS)
			r.logits[k] = logits[k];
	}
	r.logits_crc = lc;
	r.n_logits = MN_MODEL_CLASSES < MNP_MAX_REPLY_LOGITS ? MN_MODEL_CLASSES
							    : MNP_MAX_REPLY_LOGITS;
	a->len = mnp_enc_run_model_reply(&r, a->payload);
}

void mnfw_model_cmd(const struct mnp_frame *f, uint8_t *arena, uint32_t arena_len,
		    uint64_t (*now)(void), struct mnfw_answer *a)
{
	a->code = MNP_OK;
	a->len = 0;
	switch (f->cmd) {
	case MNP_CMD_MODEL_INFO:
		info(a);
		break;
	case MNP_CMD_INPUT_CHUNK:
		chunk(f, arena, arena_len, a);
		break;
	default:
		run(f, arena, arena_len, now, a);
		break;
	}
}

#else /* the profiler image: no model */

int mnfw_has_model(void) { return 0; }

void mnfw_model_cmd(const struct mnp_frame *f, uint8_t *arena, uint32_t arena_len,
		    uint64_t (*now)(void), struct mnfw_answer *a)
{
	(void)arena, (void)arena_len, (void)now;
	a->code = MNP_ERR_NO_MODEL;
	a->detail = f->cmd;
	a->detail2 = 0;
	a->len = 0;
}

#endif
