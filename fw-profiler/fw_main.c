/* The profiler application, identical on every board: receive frames on
 * the host link, answer HELLO, PROFILE_OP, RUN_ARCH and KERNEL_CHECK, the
 * deployed model's MODEL_INFO, INPUT_CHUNK and RUN_MODEL (model_cmd.c),
 * and answer anything else with an ERROR frame.  It never blocks on a bad
 * frame: the receiver is bounded and resynchronises on every 0x00.
 *
 * Device state (static by design, firmware only): the receiver, the frame
 * buffers, the timing samples, the conv scratch and the activation arena
 * (its own linker section, SRAM1 on the NUCLEO). */
#include <string.h>

#include "board.h"
#include "exec.h"
#include "kernels.h"
#include "model_cmd.h"
#include "protocol.h"

#ifdef MNFW_PROTOCOL_VERSION_OVERRIDE
#define FW_PROTOCOL_VERSION MNFW_PROTOCOL_VERSION_OVERRIDE
#else
#define FW_PROTOCOL_VERSION MNP_VERSION
#endif
#ifndef MNFW_VERSION
#define MNFW_VERSION "0.1.0"
#endif
#ifndef MNFW_ARENA_BYTES
#define MNFW_ARENA_BYTES (240u * 1024u)
#endif

/* The flash blob (blob.S): int8 weights, then int32 biases.  An image
 * carrying a deployed model (MNFW_NO_BLOB) leaves it out: the 462 KB of
 * synthetic weights would not leave room for the model's own on a
 * 512 KB-flash board.  The synthetic-weight commands then answer
 * UNSUPPORTED. */
#ifdef MNFW_NO_BLOB
#define BLOB_WEIGHTS NULL
#define BLOB_BIASES NULL
#define BLOB_WEIGHTS_LEN 0u
#define BLOB_BIASES_LEN 0u
#else
extern const int8_t mnfw_weights[MNP_WEIGHTS_BYTES];
extern const int32_t mnfw_biases[MNP_BIAS_COUNT];
#define BLOB_WEIGHTS mnfw_weights
#define BLOB_BIASES mnfw_biases
#define BLOB_WEIGHTS_LEN MNP_WEIGHTS_BYTES
#define BLOB_BIASES_LEN MNP_BIAS_COUNT
#endif

static uint8_t arena[MNFW_ARENA_BYTES] __attribute__((section(".arena"), aligned(8)));
static int8_t scratch[MNX_SCRATCH_BYTES] __attribute__((aligned(4)));
static uint64_t samples[MNP_MAX_REPEATS + 1u];
static struct mnp_rx rx;
static uint8_t raw[MNP_MAX_ENCODED];
static uint8_t tx[MNP_MAX_ENCODED + 1u];

static const struct mnx_ctx ctx = {
	.weights = BLOB_WEIGHTS,
	.weights_len = BLOB_WEIGHTS_LEN,
	.biases = BLOB_BIASES,
	.biases_len = BLOB_BIASES_LEN,
	.arena = arena,
	.arena_len = MNFW_ARENA_BYTES,
	.scratch = scratch,
	.scratch_len = MNX_SCRATCH_BYTES,
	.now = timebase_now,
};

static void send(uint8_t cmd, uint16_t seq, const uint8_t *payload, size_t len)
{
	size_t n;
	/* Replies are built from fixed-size messages, so this cannot fail;
	 * if it ever did, sending nothing lets the host time out. */
	if (mnp_frame_build(FW_PROTOCOL_VERSION, cmd, seq, payload,
			    (uint16_t)len, tx, sizeof tx, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		board_putc(tx[i]);
}

static void send_error(uint16_t seq, uint8_t req_cmd, int code,
		       uint32_t detail, uint32_t detail2)
{
	struct mnp_error e = {(uint16_t)code, req_cmd, detail, detail2};
	uint8_t p[MNP_ERROR_LEN];
	send(MNP_CMD_ERROR, seq, p, mnp_enc_error(&e, p));
}

/* Copy a name into a NUL-padded field, keeping at least one NUL. */
static void copy_name(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; i + 1 < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = 0;
}

static void do_hello(const struct mnp_frame *f)
{
	const struct board_info *b = board_get_info();
	struct mnp_hello_reply r;
	uint8_t p[MNP_HELLO_REPLY_LEN];

	memset(&r, 0, sizeof r);
	r.proto_version = FW_PROTOCOL_VERSION;
	r.timing_kind = b->timing_kind;
	r.flags = (uint8_t)(b->flags | (MNK_USE_DSP ? MNP_FLAG_DSP : 0u) |
			    (mnfw_has_model() ? MNP_FLAG_MODEL : 0u));
	copy_name(r.board, sizeof r.board, b->name);
	copy_name(r.fw_version, sizeof r.fw_version, MNFW_VERSION);
	r.core_hz = b->core_hz;
	r.count_hz = b->count_hz;
	r.sram_bytes = b->sram_bytes;
	r.flash_bytes = b->flash_bytes;
	r.arena_bytes = MNFW_ARENA_BYTES;
	r.weights_bytes = BLOB_WEIGHTS_LEN;
	r.resolution = b->resolution;
	r.max_payload = MNP_MAX_PAYLOAD;
	send(MNP_CMD_HELLO | MNP_CMD_REPLY, f->seq, p, mnp_enc_hello_reply(&r, p));
}

static void sort_u64(uint64_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		uint32_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void do_profile(const struct mnp_frame *f)
{
	struct mnp_profile_req q;
	struct mnp_kcheck_req k;
	struct mnp_profile_reply r;
	struct mnx_op_result res;
	uint8_t p[MNP_PROFILE_REPLY_LEN];
	int rc;

	if (mnp_dec_profile_req(f->payload, f->len, &q) != 0) {
		send_error(f->seq, f->cmd, MNP_ERR_BAD_LENGTH, MNP_PROFILE_REQ_LEN, f->len);
		return;
	}
	if (q.repeats < 1 || q.repeats > MNP_MAX_REPEATS) {
		send_error(f->seq, f->cmd, MNP_ERR_UNSUPPORTED, q.repeats, MNP_MAX_REPEATS);
		return;
	}
	k.op = q.op;
	k.in_channels = q.in_channels;
	k.channels = q.channels;
	k.h = q.h;
	k.w = q.w;
	k.classes = q.classes;
	k.seed = q.seed;
	/* Run 0 is the warm-up (caches, branch predictor); runs 1.. count. */
	rc = mnx_op_run(&ctx, &k, q.repeats + 1u, samples, &res);
	if (rc != MNP_OK) {
		send_error(f->seq, f->cmd, rc, res.detail, res.detail2);
		return;
	}
	sort_u64(samples + 1, q.repeats);
	memset(&r, 0, sizeof r);
	r.op = q.op;
	/* Says which stem ran, so a host can tell this firmware from one
	 * that ignored the byte (and ran 3 channels). */
	r.in_channels = q.op == MNP_OP_STEM ? (q.in_channels ? q.in_channels : 3u) : 0u;
	r.repeats = q.repeats;
	r.arena_bytes = res.arena_bytes;
	r.min = samples[1];
	r.median = samples[1 + (q.repeats - 1u) / 2u];
	r.max = samples[q.repeats];
	r.out_crc = res.out_crc;
	send(MNP_CMD_PROFILE_OP | MNP_CMD_REPLY, f->seq, p, mnp_enc_profile_reply(&r, p));
}

static void do_run(const struct mnp_frame *f)
{
	struct mnp_run_req q;
	struct mnp_run_reply r;
	struct mnx_run_result warm, res;
	uint8_t p[MNP_RUN_REPLY_LEN];
	int rc;

	rc = mnp_dec_run_req(f->payload, f->len, &q);
	if (rc != 0) {
		/* -1: neither 24 nor 28 bytes; -2: a long form naming no input. */
		if (rc == -1)
			send_error(f->seq, f->cmd, MNP_ERR_BAD_LENGTH,
				   f->len > MNP_RUN_REQ_LEN ? MNP_RUN_REQ_LONG_LEN : MNP_RUN_REQ_LEN, f->len);
		else
			send_error(f->seq, f->cmd, MNP_ERR_BAD_REQUEST, 0, 0);
		return;
	}
	/* One warm-up inference, then the measured one; each plans first,
	 * so a network that does not fit fails before touching memory. */
	rc = mnx_run_arch(&ctx, &q, MNX_EXEC, &warm);
	if (rc == MNP_OK)
		rc = mnx_run_arch(&ctx, &q, MNX_EXEC, &res);
	else
		res = warm;
	if (rc != MNP_OK) {
		send_error(f->seq, f->cmd, rc, res.detail, res.detail2);
		return;
	}
	memset(&r, 0, sizeof r);
	r.cycles = res.cycles;
	r.warmup_cycles = warm.cycles;
	r.peak_bytes = res.peak;
	r.logits_crc = res.logits_crc;
	r.compactions = res.compactions;
	for (int i = 0; i < MNP_SECTIONS; i++) {
		r.sec_cycles[i] = res.sec_cycles[i];
		r.sec_peak[i] = res.sec_peak[i];
	}
	send(MNP_CMD_RUN_ARCH | MNP_CMD_REPLY, f->seq, p, mnp_enc_run_reply(&r, p));
}

static void do_kcheck(const struct mnp_frame *f)
{
	struct mnp_kcheck_req q;
	struct mnp_kcheck_reply r;
	struct mnx_op_result res;
	uint8_t p[MNP_KCHECK_REPLY_LEN];
	int rc;

	if (mnp_dec_kcheck_req(f->payload, f->len, &q) != 0) {
		send_error(f->seq, f->cmd, MNP_ERR_BAD_LENGTH, MNP_KCHECK_REQ_LEN, f->len);
		return;
	}
	rc = mnx_op_run(&ctx, &q, 1, samples, &res);
	if (rc != MNP_OK) {
		send_error(f->seq, f->cmd, rc, res.detail, res.detail2);
		return;
	}
	memset(&r, 0, sizeof r);
	r.op = q.op;
	r.flags = MNK_USE_DSP ? MNP_FLAG_DSP : 0u;
	r.crc = res.out_crc;
	r.out_bytes = res.out_bytes;
	r.cycles = samples[0];
	send(MNP_CMD_KERNEL_CHECK | MNP_CMD_REPLY, f->seq, p, mnp_enc_kcheck_reply(&r, p));
}

static void do_model(const struct mnp_frame *f)
{
	static struct mnfw_answer a; /* a frame's payload: off the stack */
	mnfw_model_cmd(f, arena, MNFW_ARENA_BYTES, timebase_now, &a);
	if (a.code != MNP_OK)
		send_error(f->seq, f->cmd, a.code, a.detail, a.detail2);
	else
		send((uint8_t)(f->cmd | MNP_CMD_REPLY), f->seq, a.payload, a.len);
}

static void handle(const uint8_t *buf, size_t n)
{
	struct mnp_frame f;
	int rc = mnp_frame_parse(buf, n, &f);

	if (rc == MNP_ERR_BAD_FRAME) {
		send_error(MNP_SEQ_UNSOLICITED, 0, rc, (uint32_t)n, 0);
		return;
	}
	if (rc != MNP_OK) {
		/* The header was readable: echo its sequence number (it may
		 * itself be corrupted when rc is BAD_CRC). */
		send_error(f.seq, f.cmd, rc, (uint32_t)n, f.len);
		return;
	}
	/* HELLO is answered whatever version the host speaks, so it can
	 * learn the firmware's; everything else must match. */
	if (f.cmd != MNP_CMD_HELLO && f.version != FW_PROTOCOL_VERSION) {
		send_error(f.seq, f.cmd, MNP_ERR_VERSION, f.version, FW_PROTOCOL_VERSION);
		return;
	}
	if (BLOB_WEIGHTS_LEN == 0 && (f.cmd == MNP_CMD_PROFILE_OP || f.cmd == MNP_CMD_RUN_ARCH ||
				      f.cmd == MNP_CMD_KERNEL_CHECK)) {
		send_error(f.seq, f.cmd, MNP_ERR_UNSUPPORTED, 0, 0);
		return;
	}
	switch (f.cmd) {
	case MNP_CMD_HELLO:
		do_hello(&f);
		break;
	case MNP_CMD_PROFILE_OP:
		do_profile(&f);
		break;
	case MNP_CMD_RUN_ARCH:
		do_run(&f);
		break;
	case MNP_CMD_KERNEL_CHECK:
		do_kcheck(&f);
		break;
	case MNP_CMD_MODEL_INFO:
	case MNP_CMD_INPUT_CHUNK:
	case MNP_CMD_RUN_MODEL:
		do_model(&f);
		break;
	default:
		send_error(f.seq, f.cmd, MNP_ERR_UNKNOWN_CMD, f.cmd, 0);
		break;
	}
}

int main(void)
{
	board_init();
	mnp_rx_init(&rx);
	for (;;) {
		size_t n = 0;
		int rc = mnp_rx_push(&rx, board_getc(), raw, sizeof raw, &n);
		if (rc == MNP_RX_FRAME)
			handle(raw, n);
		else if (rc < 0)
			send_error(MNP_SEQ_UNSOLICITED, 0, -rc, 0, 0);
	}
}
