/* The micronas board protocol: ONE header shared by the firmware
 * (fw-profiler/) and the host.  Every byte of it is documented in
 * fw-profiler/PROTOCOL.md; this header and that file must agree.
 *
 * Frame on the wire:  COBS( header | payload | crc32 ) 0x00
 *   header  = magic 'M' 'N', version u8, command u8, seq u16, length u16
 *   payload = `length` bytes, little-endian fixed-width fields
 *   crc32   = IEEE CRC-32 (reflected, zlib's crc32) of header+payload, LE
 *
 * The codec (proto_codec.c) is plain C11 with no allocation and no state
 * outside the structs passed in, so the firmware and the host compile the
 * same source. */
#ifndef MN_FW_PROTOCOL_H
#define MN_FW_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* ---- Versions and framing ------------------------------------------- */

/* The protocol version the host speaks.  A firmware built with
 * PROTOCOL_VERSION_OVERRIDE=N speaks N instead (fault injection). */
#define MNP_VERSION 1u

#define MNP_MAGIC0 0x4Du /* 'M' */
#define MNP_MAGIC1 0x4Eu /* 'N' */
#define MNP_HDR_LEN 8u
#define MNP_CRC_LEN 4u
#define MNP_MAX_PAYLOAD 256u
/* Largest decoded frame (header + payload + crc). */
#define MNP_MAX_RAW (MNP_HDR_LEN + MNP_MAX_PAYLOAD + MNP_CRC_LEN)
/* Largest COBS encoding of a decoded frame: one code byte per 254 data
 * bytes plus one, without the 0x00 delimiter. */
#define MNP_MAX_ENCODED (MNP_MAX_RAW + MNP_MAX_RAW / 254u + 1u)
/* Sequence number the firmware uses for errors about frames whose own
 * sequence number is unknown (undecodable or oversized).  Hosts never
 * send it. */
#define MNP_SEQ_UNSOLICITED 0xFFFFu

/* ---- Commands ------------------------------------------------------- */

#define MNP_CMD_HELLO 0x01u        /* -> HELLO|REPLY: board info */
#define MNP_CMD_PROFILE_OP 0x02u   /* -> PROFILE_OP|REPLY: min/median */
#define MNP_CMD_RUN_ARCH 0x03u     /* -> RUN_ARCH|REPLY: whole network */
#define MNP_CMD_KERNEL_CHECK 0x04u /* -> KERNEL_CHECK|REPLY: output CRC */
/* The deployed model (an image `micronas deploy` built with model.c):
 * which model the firmware carries, the input image in chunks, one run. */
#define MNP_CMD_MODEL_INFO 0x05u   /* -> MODEL_INFO|REPLY: fingerprint, shape */
#define MNP_CMD_INPUT_CHUNK 0x06u  /* -> INPUT_CHUNK|REPLY: bytes stored */
#define MNP_CMD_RUN_MODEL 0x07u    /* -> RUN_MODEL|REPLY: logits, timing */
#define MNP_CMD_REPLY 0x80u        /* set in every reply's command */
#define MNP_CMD_ERROR 0xFFu        /* error reply, payload mnp_error */

/* ---- Error codes (mnp_error.code) ------------------------------------ */

#define MNP_OK 0
#define MNP_ERR_BAD_FRAME 1     /* COBS invalid, < 12 bytes, bad magic */
#define MNP_ERR_BAD_CRC 2       /* CRC-32 mismatch */
#define MNP_ERR_BAD_LENGTH 3    /* length field or payload size wrong */
#define MNP_ERR_UNKNOWN_CMD 4   /* command not known */
#define MNP_ERR_UNSUPPORTED 5   /* op kind / shape / limits not supported */
#define MNP_ERR_OUT_OF_MEMORY 6 /* detail = bytes needed, detail2 = arena */
#define MNP_ERR_VERSION 7       /* detail = version received */
#define MNP_ERR_OVERSIZED 8     /* frame longer than MNP_MAX_ENCODED */
#define MNP_ERR_BAD_REQUEST 9   /* fields inconsistent (e.g. edge order) */
#define MNP_ERR_INTERNAL 10     /* firmware invariant broken (a bug) */
#define MNP_ERR_NO_MODEL 11     /* the image carries no deployed model */
#define MNP_ERR_MODEL_MISMATCH 12 /* detail = fingerprint carried, detail2 = asked */

/* ---- Op kinds (PROFILE_OP, KERNEL_CHECK); 1..4 equal the NB201 op
 * indices (none=0, skip_connect=1, nor_conv_1x1=2, nor_conv_3x3=3,
 * avg_pool_3x3=4). ----------------------------------------------------- */

#define MNP_OP_SKIP 1u       /* no-op call: measures call overhead */
#define MNP_OP_CONV1X1 2u    /* ReLU-conv1x1 C->C + folded-BN bias */
#define MNP_OP_CONV3X3 3u    /* ReLU-conv3x3 C->C, stride 1, pad 1 */
#define MNP_OP_AVGPOOL3X3 4u /* avg pool 3x3 s1 p1, padding excluded */
#define MNP_OP_ADD 5u        /* a += b with rescaling (node addition) */
#define MNP_OP_STEM 6u       /* conv3x3 3->C + bias on the int8 image */
#define MNP_OP_REDUCTION 7u  /* ResNet block C -> 2C, H/2 x W/2 */
#define MNP_OP_HEAD 8u       /* BN+ReLU, global pool, linear -> int32 */
#define MNP_OP_COUNT 9u

/* NB201 op indices in RUN_ARCH.ops[] */
#define MNP_NB_NONE 0u
#define MNP_NB_SKIP 1u
#define MNP_NB_CONV1X1 2u
#define MNP_NB_CONV3X3 3u
#define MNP_NB_AVGPOOL 4u

/* Timing kinds (mnp_hello_reply.timing_kind) */
#define MNP_TIMING_CYCLES 0u       /* core clock cycles (DWT->CYCCNT) */
#define MNP_TIMING_INSTRUCTIONS 1u /* instruction-based (QEMU -icount) */

/* mnp_hello_reply.flags */
#define MNP_FLAG_DSP 0x01u         /* kernels use the DSP/SIMD path */
#define MNP_FLAG_CLOCK_FALLBACK 0x02u /* HSE/PLL failed: running on HSI */
#define MNP_FLAG_MODEL 0x04u       /* carries a deployed model (MODEL_INFO) */

/* ---- Shared model constants: the flash weight blob -------------------- */

/* The firmware keeps a pseudo-random int8 table of this many bytes in
 * flash, followed by MNP_BIAS_COUNT int32 biases (little-endian); every
 * layer takes its weights and biases as slices of them.  The host builds
 * the same blob with mnp_blob_fill(). */
#define MNP_WEIGHTS_BYTES 458752u /* 448 KiB */
#define MNP_BIAS_COUNT 1024u
#define MNP_BLOB_BYTES (MNP_WEIGHTS_BYTES + 4u * MNP_BIAS_COUNT)

/* ---- Limits the firmware accepts -------------------------------------- */

#define MNP_MAX_CHANNELS 256u /* any tensor's channel count */
#define MNP_MAX_HW 256u       /* H and W */
#define MNP_MAX_CLASSES MNP_BIAS_COUNT
#define MNP_MAX_REPEATS 255u
#define MNP_MAX_CELLS 32u     /* N per stage */

/* ---- Messages (decoded forms) ---------------------------------------- */

/* HELLO request: empty payload.  HELLO reply (68 bytes): */
struct mnp_hello_reply {
	uint16_t proto_version;
	uint8_t timing_kind;   /* MNP_TIMING_* */
	uint8_t flags;         /* MNP_FLAG_* */
	char board[16];        /* NUL-padded, e.g. "nucleo-f746zg" */
	char fw_version[16];   /* NUL-padded */
	uint32_t core_hz;      /* core clock */
	uint32_t count_hz;     /* timing units per second */
	uint32_t sram_bytes;   /* total on-chip SRAM of the board */
	uint32_t flash_bytes;  /* total flash (code memory) */
	uint32_t arena_bytes;  /* activation arena size */
	uint32_t weights_bytes;/* MNP_WEIGHTS_BYTES as built in */
	uint32_t resolution;   /* timing units per timer tick */
	uint32_t max_payload;  /* MNP_MAX_PAYLOAD */
};
#define MNP_HELLO_REPLY_LEN 68u

/* PROFILE_OP request (16 bytes) */
struct mnp_profile_req {
	uint8_t op;        /* MNP_OP_* */
	uint16_t channels; /* input channels (stem: output channels) */
	uint16_t h, w;
	uint16_t repeats;  /* 1..MNP_MAX_REPEATS timed runs after a warm-up */
	uint16_t classes;  /* head only; else 0 */
	uint32_t seed;
	/* Byte 1 (reserved, 0, before): the stem's input channels, 1..255;
	 * 0 means 3 (RGB).  Any other op must leave it 0. */
	uint8_t in_channels;
};
#define MNP_PROFILE_REQ_LEN 16u

/* PROFILE_OP reply (36 bytes) */
struct mnp_profile_reply {
	uint8_t op;
	uint16_t repeats;
	uint32_t arena_bytes; /* peak activation bytes the op used */
	uint64_t min, median, max; /* timing units; median = lower median */
	uint32_t out_crc;     /* CRC-32 of the output after all runs */
	/* Byte 1: for the stem, the input channels it ran with (3 for a
	 * request's 0); 0 otherwise, and 0 from firmware older than the
	 * field, which ran every stem on 3 channels. */
	uint8_t in_channels;
};
#define MNP_PROFILE_REPLY_LEN 36u

/* RUN_ARCH request: 24 bytes (R x R x 3), or 28 bytes adding the
 * input's width and channels (any H x W x Cin). */
struct mnp_run_req {
	uint16_t channels;  /* C */
	uint8_t cells;      /* N */
	uint8_t n_order;    /* number of non-none edges = entries of order[] */
	uint16_t resolution;/* short form: R (H = W = R), a multiple of 4;
			       long form: H, 4..MNP_MAX_HW */
	uint16_t classes;
	uint8_t ops[6];     /* NB201 op index per edge, edge order
	                       1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2 */
	uint8_t order[6];   /* execution order of the non-none edges */
	uint32_t seed;
	/* The long form (bytes 24..27): both 0 = the short form.  Otherwise
	 * W 4..MNP_MAX_HW and input channels 1..255; byte 27 reserved, 0. */
	uint16_t width;
	uint8_t input_channels;
};
#define MNP_RUN_REQ_LEN 24u      /* short form: R x R x 3 */
#define MNP_RUN_REQ_LONG_LEN 28u /* long form: H x W x Cin */

/* Sections of a network run, in order. */
#define MNP_SEC_STEM 0
#define MNP_SEC_STAGE1 1
#define MNP_SEC_RED1 2
#define MNP_SEC_STAGE2 3
#define MNP_SEC_RED2 4
#define MNP_SEC_STAGE3 5
#define MNP_SEC_HEAD 6
#define MNP_SECTIONS 7

/* RUN_ARCH reply (112 bytes) */
struct mnp_run_reply {
	uint64_t cycles;         /* measured run (after one warm-up) */
	uint64_t warmup_cycles;
	uint32_t peak_bytes;     /* high-water mark of live activation bytes */
	uint32_t logits_crc;     /* CRC-32 of the int32 logits (LE bytes) */
	uint32_t compactions;    /* arena compactions in the measured run */
	uint64_t sec_cycles[MNP_SECTIONS];
	uint32_t sec_peak[MNP_SECTIONS];
};
#define MNP_RUN_REPLY_LEN 112u

/* KERNEL_CHECK request (16 bytes) */
struct mnp_kcheck_req {
	uint8_t op;        /* MNP_OP_* */
	uint16_t channels, h, w;
	uint16_t classes;  /* head only */
	uint32_t seed;
	uint8_t in_channels; /* byte 1: as mnp_profile_req.in_channels */
};
#define MNP_KCHECK_REQ_LEN 16u

/* KERNEL_CHECK reply (20 bytes) */
struct mnp_kcheck_reply {
	uint8_t op;
	uint8_t flags;     /* MNP_FLAG_DSP when the DSP path computed it */
	uint32_t crc;      /* CRC-32 of the output bytes */
	uint32_t out_bytes;
	uint64_t cycles;   /* one run, timing units */
};
#define MNP_KCHECK_REPLY_LEN 20u

/* MODEL_INFO request: empty payload.  Reply: 36 bytes for a square input,
 * 40 (the width appended) for another; decoding a 36-byte reply sets
 * width = resolution. */
struct mnp_model_info {
	uint32_t fingerprint;  /* CRC-32 of the quantized model (mnq_fingerprint) */
	uint32_t model_bytes;  /* bytes the fingerprint covers */
	uint8_t input_channels;/* the stem's: 3 RGB, 1 grayscale, ... */
	uint16_t channels, cells, resolution, classes; /* resolution: the input's height */
	uint8_t ops[6];        /* NB201 op index per edge */
	uint32_t arena_bytes;  /* peak activation bytes of one run */
	uint32_t input_bytes;  /* height * width * input_channels */
	uint32_t max_chunk;    /* MNP_MAX_CHUNK */
	uint16_t width;        /* the input's width */
};
#define MNP_MODEL_INFO_LEN 36u
#define MNP_MODEL_INFO_LONG_LEN 40u

/* INPUT_CHUNK request: u32 offset, then 1..MNP_MAX_CHUNK image bytes. */
#define MNP_CHUNK_HDR_LEN 4u
#define MNP_MAX_CHUNK (MNP_MAX_PAYLOAD - MNP_CHUNK_HDR_LEN - 4u) /* 248 */
/* INPUT_CHUNK reply (8 bytes): */
struct mnp_chunk_reply {
	uint32_t offset, length; /* what was stored */
};
#define MNP_CHUNK_REPLY_LEN 8u

/* RUN_MODEL request (8 bytes) */
struct mnp_run_model_req {
	uint32_t fingerprint; /* the model the host means; another gives MODEL_MISMATCH */
	uint32_t input_crc;   /* CRC-32 of the whole input image as uploaded */
};
#define MNP_RUN_MODEL_REQ_LEN 8u

/* RUN_MODEL reply: 24 bytes, then n_logits int32 logits. */
#define MNP_RUN_MODEL_HDR_LEN 24u
#define MNP_MAX_REPLY_LOGITS ((MNP_MAX_PAYLOAD - MNP_RUN_MODEL_HDR_LEN) / 4u) /* 58 */
struct mnp_run_model_reply {
	uint64_t cycles;       /* timing units of the inference */
	uint32_t logits_crc;   /* CRC-32 of all classes x int32 logits (LE) */
	uint32_t peak_bytes;   /* the arena's high-water mark */
	uint16_t classes;
	uint16_t argmax;       /* first index of the largest logit */
	uint16_t n_logits;     /* min(classes, MNP_MAX_REPLY_LOGITS) */
	int32_t logits[MNP_MAX_REPLY_LOGITS];
};

/* ERROR reply (12 bytes) */
struct mnp_error {
	uint16_t code;     /* MNP_ERR_* */
	uint8_t req_cmd;   /* command of the offending frame, 0 if unknown */
	uint32_t detail;   /* code-specific, see PROTOCOL.md */
	uint32_t detail2;
};
#define MNP_ERROR_LEN 12u

/* A decoded, checked frame; payload points into the caller's buffer. */
struct mnp_frame {
	uint8_t version;
	uint8_t cmd;
	uint16_t seq;
	uint16_t len;
	const uint8_t *payload;
};

/* Stream receiver: feed bytes one at a time; bounded, resynchronises on
 * every 0x00. */
struct mnp_rx {
	uint8_t buf[MNP_MAX_ENCODED];
	uint16_t n;
	uint8_t overflow;
};
#define MNP_RX_NONE 0      /* no complete frame yet */
#define MNP_RX_FRAME 1     /* a decoded frame is in the output buffer */

/* ---- Codec functions (proto_codec.c) -------------------------------- */

/* CRC-32 (IEEE 802.3, reflected, init/xorout 0xFFFFFFFF) continued from
 * `crc` (0 to start), exactly like zlib's crc32(). */
uint32_t mnp_crc32(uint32_t crc, const void *data, size_t n);

/* COBS: encode n bytes into dst (no delimiter); returns the encoded
 * length, or 0 when cap is too small. */
size_t mnp_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);
/* Decode one COBS block (without delimiter); 0 on success, -1 if the
 * input is not valid COBS or does not fit. */
int mnp_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
		    size_t *out_n);

/* Build a complete wire frame: COBS-encoded, 0x00-terminated.  Returns 0,
 * or -1 when len > MNP_MAX_PAYLOAD or cap is too small. */
int mnp_frame_build(uint8_t version, uint8_t cmd, uint16_t seq,
		    const uint8_t *payload, uint16_t len, uint8_t *out,
		    size_t cap, size_t *out_n);
/* Check a decoded frame (header+payload+crc, COBS already undone).
 * Returns MNP_OK, MNP_ERR_BAD_FRAME, MNP_ERR_BAD_CRC or
 * MNP_ERR_BAD_LENGTH; f is filled as far as the header could be read. */
int mnp_frame_parse(const uint8_t *raw, size_t n, struct mnp_frame *f);

void mnp_rx_init(struct mnp_rx *rx);
/* Push one received byte.  Returns MNP_RX_NONE, MNP_RX_FRAME (the
 * COBS-decoded frame is in raw[0..*raw_n)), or -MNP_ERR_OVERSIZED /
 * -MNP_ERR_BAD_FRAME for a dropped frame.  Empty frames (0x00 0x00) are
 * ignored, so a sender may prefix every frame with 0x00 to resync. */
int mnp_rx_push(struct mnp_rx *rx, uint8_t byte, uint8_t *raw, size_t cap,
		size_t *raw_n);

/* Little-endian field access. */
void mnp_put_u16(uint8_t *p, uint16_t v);
void mnp_put_u32(uint8_t *p, uint32_t v);
void mnp_put_u64(uint8_t *p, uint64_t v);
uint16_t mnp_get_u16(const uint8_t *p);
uint32_t mnp_get_u32(const uint8_t *p);
uint64_t mnp_get_u64(const uint8_t *p);

/* Message payload encoders write exactly MNP_*_LEN bytes and return that
 * length; decoders return 0, or -1 when n is not the exact length. */
size_t mnp_enc_hello_reply(const struct mnp_hello_reply *m, uint8_t *p);
int mnp_dec_hello_reply(const uint8_t *p, size_t n, struct mnp_hello_reply *m);
size_t mnp_enc_profile_req(const struct mnp_profile_req *m, uint8_t *p);
int mnp_dec_profile_req(const uint8_t *p, size_t n, struct mnp_profile_req *m);
size_t mnp_enc_profile_reply(const struct mnp_profile_reply *m, uint8_t *p);
int mnp_dec_profile_reply(const uint8_t *p, size_t n,
			  struct mnp_profile_reply *m);
/* RUN_ARCH's request has two lengths: the encoder writes the short form
 * (24 bytes) when width and input_channels are both 0, else the long one
 * (28), and returns the length written (p must hold 28).  The decoder
 * takes either: -1 for any other length, -2 for a long form whose width
 * or input channels is 0 or whose reserved byte is not 0 (BAD_REQUEST:
 * the long form must name its input). */
size_t mnp_enc_run_req(const struct mnp_run_req *m, uint8_t *p);
int mnp_dec_run_req(const uint8_t *p, size_t n, struct mnp_run_req *m);
size_t mnp_enc_run_reply(const struct mnp_run_reply *m, uint8_t *p);
int mnp_dec_run_reply(const uint8_t *p, size_t n, struct mnp_run_reply *m);
size_t mnp_enc_kcheck_req(const struct mnp_kcheck_req *m, uint8_t *p);
int mnp_dec_kcheck_req(const uint8_t *p, size_t n, struct mnp_kcheck_req *m);
size_t mnp_enc_kcheck_reply(const struct mnp_kcheck_reply *m, uint8_t *p);
int mnp_dec_kcheck_reply(const uint8_t *p, size_t n,
			 struct mnp_kcheck_reply *m);
size_t mnp_enc_model_info(const struct mnp_model_info *m, uint8_t *p);
int mnp_dec_model_info(const uint8_t *p, size_t n, struct mnp_model_info *m);
size_t mnp_enc_chunk_reply(const struct mnp_chunk_reply *m, uint8_t *p);
int mnp_dec_chunk_reply(const uint8_t *p, size_t n, struct mnp_chunk_reply *m);
size_t mnp_enc_run_model_req(const struct mnp_run_model_req *m, uint8_t *p);
int mnp_dec_run_model_req(const uint8_t *p, size_t n, struct mnp_run_model_req *m);
/* Variable length: MNP_RUN_MODEL_HDR_LEN + 4 * n_logits; the decoder also
 * refuses an n_logits that disagrees with the length or the classes. */
size_t mnp_enc_run_model_reply(const struct mnp_run_model_reply *m, uint8_t *p);
int mnp_dec_run_model_reply(const uint8_t *p, size_t n, struct mnp_run_model_reply *m);
size_t mnp_enc_error(const struct mnp_error *m, uint8_t *p);
int mnp_dec_error(const uint8_t *p, size_t n, struct mnp_error *m);

/* ---- Deterministic pseudo-random data, identical on both sides ------- */

/* The MurmurHash3 32-bit finalizer (a bijective mixer). */
uint32_t mnp_mix32(uint32_t x);
/* A counter-based stream: state += golden ratio, output mix32(state). */
struct mnp_prng {
	uint32_t s;
};
void mnp_prng_seed(struct mnp_prng *r, uint32_t seed);
uint32_t mnp_prng_next(struct mnp_prng *r);
/* n int8 values, four per draw, low byte first. */
void mnp_prng_fill_i8(struct mnp_prng *r, int8_t *dst, size_t n);
/* Byte i of the weight table, and bias i. */
int8_t mnp_weight_at(uint32_t i);
int32_t mnp_bias_at(uint32_t i);
/* The whole flash blob (MNP_BLOB_BYTES): weights then LE int32 biases. */
void mnp_blob_fill(uint8_t *dst);

#endif
