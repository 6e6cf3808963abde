/* The protocol codec shared by the firmware and the host: CRC-32, COBS,
 * frames, the stream receiver, message payloads and the deterministic
 * pseudo-random data both sides generate.  No allocation, no hidden
 * state: everything lives in the structs the caller passes. */
#include "protocol.h"

#include <string.h>

/* ---- CRC-32 ---------------------------------------------------------- */

/* Bitwise (no table): small in flash, and speed does not matter here
 * because CRCs are never inside a timed region. */
uint32_t mnp_crc32(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* ---- COBS ------------------------------------------------------------ */

size_t mnp_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
	size_t code_pos = 0, out = 1;
	uint8_t code = 1;

	if (cap < 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (src[i] != 0) {
			if (out >= cap)
				return 0;
			dst[out++] = src[i];
			code++;
		}
		/* A zero ends the block; so does a full block of 254 data
		 * bytes (code 0xFF carries no implicit zero). */
		if (src[i] == 0 || code == 0xFF) {
			dst[code_pos] = code;
			code_pos = out++;
			code = 1;
			if (code_pos >= cap)
				return 0;
		}
	}
	dst[code_pos] = code;
	return out;
}

int mnp_cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
		    size_t *out_n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		uint8_t code = src[i++];
		if (code == 0)
			return -1; /* a delimiter cannot be inside a block */
		for (uint8_t k = 1; k < code; k++) {
			if (i >= n || src[i] == 0 || o >= cap)
				return -1; /* truncated block or overflow */
			dst[o++] = src[i++];
		}
		/* Every block but a full one or the last ends in a zero. */
		if (code != 0xFF && i < n) {
			if (o >= cap)
				return -1;
			dst[o++] = 0;
		}
	}
	*out_n = o;
	return 0;
}

/* ---- Little-endian fields -------------------------------------------- */

void mnp_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void mnp_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void mnp_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t mnp_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t mnp_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

uint64_t mnp_get_u64(const uint8_t *p)
{
	return (uint64_t)mnp_get_u32(p) | ((uint64_t)mnp_get_u32(p + 4) << 32);
}

/* ---- Frames ---------------------------------------------------------- */

int mnp_frame_build(uint8_t version, uint8_t cmd, uint16_t seq,
		    const uint8_t *payload, uint16_t len, uint8_t *out,
		    size_t cap, size_t *out_n)
{
	uint8_t raw[MNP_MAX_RAW];
	size_t n = MNP_HDR_LEN + len, enc;

	if (len > MNP_MAX_PAYLOAD)
		return -1;
	raw[0] = MNP_MAGIC0;
	raw[1] = MNP_MAGIC1;
	raw[2] = version;
	raw[3] = cmd;
	mnp_put_u16(raw + 4, seq);
	mnp_put_u16(raw + 6, len);
	if (len)
		memcpy(raw + MNP_HDR_LEN, payload, len);
	mnp_put_u32(raw + n, mnp_crc32(0, raw, n));
	n += MNP_CRC_LEN;
	if (cap < 1)
		return -1;
	enc = mnp_cobs_encode(raw, n, out, cap - 1);
	if (enc == 0)
		return -1;
	out[enc] = 0x00;
	*out_n = enc + 1;
	return 0;
}

int mnp_frame_parse(const uint8_t *raw, size_t n, struct mnp_frame *f)
{
	uint32_t want;

	memset(f, 0, sizeof *f);
	if (n < MNP_HDR_LEN + MNP_CRC_LEN || raw[0] != MNP_MAGIC0 ||
	    raw[1] != MNP_MAGIC1)
		return MNP_ERR_BAD_FRAME;
	f->version = raw[2];
	f->cmd = raw[3];
	f->seq = mnp_get_u16(raw + 4);
	f->len = mnp_get_u16(raw + 6);
	/* The CRC covers everything but its own 4 bytes; it is checked
	 * before the length field so that corruption reads as BAD_CRC. */
	want = mnp_get_u32(raw + n - MNP_CRC_LEN);
	if (mnp_crc32(0, raw, n - MNP_CRC_LEN) != want)
		return MNP_ERR_BAD_CRC;
	if ((size_t)f->len + MNP_HDR_LEN + MNP_CRC_LEN != n ||
	    f->len > MNP_MAX_PAYLOAD)
		return MNP_ERR_BAD_LENGTH;
	f->payload = raw + MNP_HDR_LEN;
	return MNP_OK;
}

void mnp_rx_init(struct mnp_rx *rx)
{
	rx->n = 0;
	rx->overflow = 0;
}

int mnp_rx_push(struct mnp_rx *rx, uint8_t byte, uint8_t *raw, size_t cap,
		size_t *raw_n)
{
	if (byte != 0x00) {
		if (rx->n < sizeof rx->buf)
			rx->buf[rx->n++] = byte;
		else
			rx->overflow = 1; /* keep dropping until 0x00 */
		return MNP_RX_NONE;
	}
	/* A delimiter: whatever was collected is one frame. */
	size_t n = rx->n;
	int over = rx->overflow;
	mnp_rx_init(rx);
	if (over)
		return -MNP_ERR_OVERSIZED;
	if (n == 0)
		return MNP_RX_NONE;
	if (mnp_cobs_decode(rx->buf, n, raw, cap, raw_n) != 0)
		return -MNP_ERR_BAD_FRAME;
	return MNP_RX_FRAME;
}

/* ---- Message payloads ------------------------------------------------ */

static void put_str(uint8_t *p, const char *s, size_t n)
{
	size_t i = 0;
	for (; i < n && s[i]; i++)
		p[i] = (uint8_t)s[i];
	for (; i < n; i++)
		p[i] = 0;
}

/* Copy a NUL-padded field; the last byte is forced to NUL so the result
 * is always a C string (fields carry at most n - 1 characters). */
static void get_str(char *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (char)p[i];
	s[n - 1] = 0;
}

size_t mnp_enc_hello_reply(const struct mnp_hello_reply *m, uint8_t *p)
{
	mnp_put_u16(p, m->proto_version);
	p[2] = m->timing_kind;
	p[3] = m->flags;
	put_str(p + 4, m->board, 16);
	put_str(p + 20, m->fw_version, 16);
	mnp_put_u32(p + 36, m->core_hz);
	mnp_put_u32(p + 40, m->count_hz);
	mnp_put_u32(p + 44, m->sram_bytes);
	mnp_put_u32(p + 48, m->flash_bytes);
	mnp_put_u32(p + 52, m->arena_bytes);
	mnp_put_u32(p + 56, m->weights_bytes);
	mnp_put_u32(p + 60, m->resolution);
	mnp_put_u32(p + 64, m->max_payload);
	return MNP_HELLO_REPLY_LEN;
}

int mnp_dec_hello_reply(const uint8_t *p, size_t n, struct mnp_hello_reply *m)
{
	if (n != MNP_HELLO_REPLY_LEN)
		return -1;
	m->proto_version = mnp_get_u16(p);
	m->timing_kind = p[2];
	m->flags = p[3];
	get_str(m->board, p + 4, 16);
	get_str(m->fw_version, p + 20, 16);
	m->core_hz = mnp_get_u32(p + 36);
	m->count_hz = mnp_get_u32(p + 40);
	m->sram_bytes = mnp_get_u32(p + 44);
	m->flash_bytes = mnp_get_u32(p + 48);
	m->arena_bytes = mnp_get_u32(p + 52);
	m->weights_bytes = mnp_get_u32(p + 56);
	m->resolution = mnp_get_u32(p + 60);
	m->max_payload = mnp_get_u32(p + 64);
	return 0;
}

size_t mnp_enc_profile_req(const struct mnp_profile_req *m, uint8_t *p)
{
	p[0] = m->op;
	p[1] = m->in_channels;
	mnp_put_u16(p + 2, m->channels);
	mnp_put_u16(p + 4, m->h);
	mnp_put_u16(p + 6, m->w);
	mnp_put_u16(p + 8, m->repeats);
	mnp_put_u16(p + 10, m->classes);
	mnp_put_u32(p + 12, m->seed);
	return MNP_PROFILE_REQ_LEN;
}

int mnp_dec_profile_req(const uint8_t *p, size_t n, struct mnp_profile_req *m)
{
	if (n != MNP_PROFILE_REQ_LEN)
		return -1;
	m->op = p[0];
	m->in_channels = p[1];
	m->channels = mnp_get_u16(p + 2);
	m->h = mnp_get_u16(p + 4);
	m->w = mnp_get_u16(p + 6);
	m->repeats = mnp_get_u16(p + 8);
	m->classes = mnp_get_u16(p + 10);
	m->seed = mnp_get_u32(p + 12);
	return 0;
}

size_t mnp_enc_profile_reply(const struct mnp_profile_reply *m, uint8_t *p)
{
	p[0] = m->op;
	p[1] = m->in_channels;
	mnp_put_u16(p + 2, m->repeats);
	mnp_put_u32(p + 4, m->arena_bytes);
	mnp_put_u64(p + 8, m->min);
	mnp_put_u64(p + 16, m->median);
	mnp_put_u64(p + 24, m->max);
	mnp_put_u32(p + 32, m->out_crc);
	return MNP_PROFILE_REPLY_LEN;
}

int mnp_dec_profile_reply(const uint8_t *p, size_t n,
			  struct mnp_profile_reply *m)
{
	if (n != MNP_PROFILE_REPLY_LEN)
		return -1;
	m->op = p[0];
	m->in_channels = p[1];
	m->repeats = mnp_get_u16(p + 2);
	m->arena_bytes = mnp_get_u32(p + 4);
	m->min = mnp_get_u64(p + 8);
	m->median = mnp_get_u64(p + 16);
	m->max = mnp_get_u64(p + 24);
	m->out_crc = mnp_get_u32(p + 32);
	return 0;
}

size_t mnp_enc_run_req(const struct mnp_run_req *m, uint8_t *p)
{
	mnp_put_u16(p, m->channels);
	p[2] = m->cells;
	p[3] = m->n_order;
	mnp_put_u16(p + 4, m->resolution);
	mnp_put_u16(p + 6, m->classes);
	memcpy(p + 8, m->ops, 6);
	memcpy(p + 14, m->order, 6);
	mnp_put_u32(p + 20, m->seed);
	if (m->width == 0 && m->input_channels == 0)
		return MNP_RUN_REQ_LEN;
	mnp_put_u16(p + 24, m->width);
	p[26] = m->input_channels;
	p[27] = 0;
	return MNP_RUN_REQ_LONG_LEN;
}

int mnp_dec_run_req(const uint8_t *p, size_t n, struct mnp_run_req *m)
{
	if (n != MNP_RUN_REQ_LEN && n != MNP_RUN_REQ_LONG_LEN)
		return -1;
	m->channels = mnp_get_u16(p);
	m->cells = p[2];
	m->n_order = p[3];
	m->resolution = mnp_get_u16(p + 4);
	m->classes = mnp_get_u16(p + 6);
	memcpy(m->ops, p + 8, 6);
	memcpy(m->order, p + 14, 6);
	m->seed = mnp_get_u32(p + 20);
	m->width = 0;
	m->input_channels = 0;
	if (n == MNP_RUN_REQ_LEN)
		return 0;
	m->width = mnp_get_u16(p + 24);
	m->input_channels = p[26];
	/* A long form naming no input would silently run the short one. */
	return m->width == 0 || m->input_channels == 0 || p[27] != 0 ? -2 : 0;
}

size_t mnp_enc_run_reply(const struct mnp_run_reply *m, uint8_t *p)
{
	mnp_put_u64(p, m->cycles);
	mnp_put_u64(p + 8, m->warmup_cycles);
	mnp_put_u32(p + 16, m->peak_bytes);
	mnp_put_u32(p + 20, m->logits_crc);
	mnp_put_u32(p + 24, m->compactions);
	for (int i = 0; i < MNP_SECTIONS; i++) {
		mnp_put_u64(p + 28 + 12 * i, m->sec_cycles[i]);
		mnp_put_u32(p + 36 + 12 * i, m->sec_peak[i]);
	}
	return MNP_RUN_REPLY_LEN;
}

int mnp_dec_run_reply(const uint8_t *p, size_t n, struct mnp_run_reply *m)
{
	if (n != MNP_RUN_REPLY_LEN)
		return -1;
	m->cycles = mnp_get_u64(p);
	m->warmup_cycles = mnp_get_u64(p + 8);
	m->peak_bytes = mnp_get_u32(p + 16);
	m->logits_crc = mnp_get_u32(p + 20);
	m->compactions = mnp_get_u32(p + 24);
	for (int i = 0; i < MNP_SECTIONS; i++) {
		m->sec_cycles[i] = mnp_get_u64(p + 28 + 12 * i);
		m->sec_peak[i] = mnp_get_u32(p + 36 + 12 * i);
	}
	return 0;
}

size_t mnp_enc_kcheck_req(const struct mnp_kcheck_req *m, uint8_t *p)
{
	p[0] = m->op;
	p[1] = m->in_channels;
	mnp_put_u16(p + 2, m->channels);
	mnp_put_u16(p + 4, m->h);
	mnp_put_u16(p + 6, m->w);
	mnp_put_u16(p + 8, m->classes);
	mnp_put_u16(p + 10, 0);
	mnp_put_u32(p + 12, m->seed);
	return MNP_KCHECK_REQ_LEN;
}

int mnp_dec_kcheck_req(const uint8_t *p, size_t n, struct mnp_kcheck_req *m)
{
	if (n != MNP_KCHECK_REQ_LEN)
		return -1;
	m->op = p[0];
	m->in_channels = p[1];
	m->channels = mnp_get_u16(p + 2);
	m->h = mnp_get_u16(p + 4);
	m->w = mnp_get_u16(p + 6);
	m->classes = mnp_get_u16(p + 8);
	m->seed = mnp_get_u32(p + 12);
	return 0;
}

size_t mnp_enc_kcheck_reply(const struct mnp_kcheck_reply *m, uint8_t *p)
{
	p[0] = m->op;
	p[1] = m->flags;
	mnp_put_u16(p + 2, 0);
	mnp_put_u32(p + 4, m->crc);
	mnp_put_u32(p + 8, m->out_bytes);
	mnp_put_u64(p + 12, m->cycles);
	return MNP_KCHECK_REPLY_LEN;
}

int mnp_dec_kcheck_reply(const uint8_t *p, size_t n,
			 struct mnp_kcheck_reply *m)
{
	if (n != MNP_KCHECK_REPLY_LEN)
		return -1;
	m->op = p[0];
	m->flags = p[1];
	m->crc = mnp_get_u32(p + 4);
	m->out_bytes = mnp_get_u32(p + 8);
	m->cycles = mnp_get_u64(p + 12);
	return 0;
}

size_t mnp_enc_error(const struct mnp_error *m, uint8_t *p)
{
	mnp_put_u16(p, m->code);
	p[2] = m->req_cmd;
	p[3] = 0;
	mnp_put_u32(p + 4, m->detail);
	mnp_put_u32(p + 8, m->detail2);
	return MNP_ERROR_LEN;
}

int mnp_dec_error(const uint8_t *p, size_t n, struct mnp_error *m)
{
	if (n != MNP_ERROR_LEN)
		return -1;
	m->code = mnp_get_u16(p);
	m->req_cmd = p[2];
	m->detail = mnp_get_u32(p + 4);
	m->detail2 = mnp_get_u32(p + 8);
	return 0;
}

/* ---- Deterministic data ---------------------------------------------- */

uint32_t mnp_mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85EBCA6Bu;
	x ^= x >> 13;
	x *= 0xC2B2AE35u;
	x ^= x >> 16;
	return x;
}

void mnp_prng_seed(struct mnp_prng *r, uint32_t seed)
{
	r->s = mnp_mix32(seed ^ 0x5EED5EEDu);
}

uint32_t mnp_prng_next(struct mnp_prng *r)
{
	r->s += 0x9E3779B9u;
	return mnp_mix32(r->s);
}

void mnp_prng_fill_i8(struct mnp_prng *r, int8_t *dst, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t v = mnp_prng_next(r);
		for (int b = 0; b < 4 && i < n; b++, i++)
			dst[i] = (int8_t)(uint8_t)(v >> (8 * b));
	}
}

int8_t mnp_weight_at(uint32_t i)
{
	uint32_t v = mnp_mix32((i >> 2) ^ 0x57454947u); /* "WEIG" */
	return (int8_t)(uint8_t)(v >> (8 * (i & 3u)));
}

int32_t mnp_bias_at(uint32_t i)
{
	/* Uniform in [-2^14, 2^14): about one int8 step of a typical
	 * accumulator scale, like a folded BN shift. */
	uint32_t v = mnp_mix32(i ^ 0x42494153u); /* "BIAS" */
	return (int32_t)(v & 0x7FFFu) - 0x4000;
}

void mnp_blob_fill(uint8_t *dst)
{
	for (uint32_t i = 0; i < MNP_WEIGHTS_BYTES; i++)
		dst[i] = (uint8_t)mnp_weight_at(i);
	for (uint32_t i = 0; i < MNP_BIAS_COUNT; i++)
		mnp_put_u32(dst + MNP_WEIGHTS_BYTES + 4 * i,
			    (uint32_t)mnp_bias_at(i));
}

/* ---- The deployed model's messages ------------------------------------ */

size_t mnp_enc_model_info(const struct mnp_model_info *m, uint8_t *p)
{
	mnp_put_u32(p, m->fingerprint);
	mnp_put_u32(p + 4, m->model_bytes);
	p[8] = m->input_channels;
	p[9] = 0;
	mnp_put_u16(p + 10, m->channels);
	mnp_put_u16(p + 12, m->cells);
	mnp_put_u16(p + 14, m->resolution);
	mnp_put_u16(p + 16, m->classes);
	for (int i = 0; i < 6; i++)
		p[18 + i] = m->ops[i];
	mnp_put_u32(p + 24, m->arena_bytes);
	mnp_put_u32(p + 28, m->input_bytes);
	mnp_put_u32(p + 32, m->max_chunk);
	if (m->width == m->resolution)
		return MNP_MODEL_INFO_LEN;
	mnp_put_u16(p + 36, m->width);
	mnp_put_u16(p + 38, 0);
	return MNP_MODEL_INFO_LONG_LEN;
}

int mnp_dec_model_info(const uint8_t *p, size_t n, struct mnp_model_info *m)
{
	if (n != MNP_MODEL_INFO_LEN && n != MNP_MODEL_INFO_LONG_LEN)
		return -1;
	m->fingerprint = mnp_get_u32(p);
	m->model_bytes = mnp_get_u32(p + 4);
	m->input_channels = p[8];
	m->channels = mnp_get_u16(p + 10);
	m->cells = mnp_get_u16(p + 12);
	m->resolution = mnp_get_u16(p + 14);
	m->classes = mnp_get_u16(p + 16);
	for (int i = 0; i < 6; i++)
		m->ops[i] = p[18 + i];
	m->arena_bytes = mnp_get_u32(p + 24);
	m->input_bytes = mnp_get_u32(p + 28);
	m->max_chunk = mnp_get_u32(p + 32);
	m->width = n == MNP_MODEL_INFO_LONG_LEN ? mnp_get_u16(p + 36) : m->resolution;
	return 0;
}

size_t mnp_enc_chunk_reply(const struct mnp_chunk_reply *m, uint8_t *p)
{
	mnp_put_u32(p, m->offset);
	mnp_put_u32(p + 4, m->length);
	return MNP_CHUNK_REPLY_LEN;
}

int mnp_dec_chunk_reply(const uint8_t *p, size_t n, struct mnp_chunk_reply *m)
{
	if (n != MNP_CHUNK_REPLY_LEN)
		return -1;
	m->offset = mnp_get_u32(p);
	m->length = mnp_get_u32(p + 4);
	return 0;
}

size_t mnp_enc_run_model_req(const struct mnp_run_model_req *m, uint8_t *p)
{
	mnp_put_u32(p, m->fingerprint);
	mnp_put_u32(p + 4, m->input_crc);
	return MNP_RUN_MODEL_REQ_LEN;
}

int mnp_dec_run_model_req(const uint8_t *p, size_t n, struct mnp_run_model_req *m)
{
	if (n != MNP_RUN_MODEL_REQ_LEN)
		return -1;
	m->fingerprint = mnp_get_u32(p);
	m->input_crc = mnp_get_u32(p + 4);
	return 0;
}

size_t mnp_enc_run_model_reply(const struct mnp_run_model_reply *m, uint8_t *p)
{
	uint16_t n = m->n_logits > MNP_MAX_REPLY_LOGITS ? (uint16_t)MNP_MAX_REPLY_LOGITS
							: m->n_logits;
	mnp_put_u64(p, m->cycles);
	mnp_put_u32(p + 8, m->logits_crc);
	mnp_put_u32(p + 12, m->peak_bytes);
	mnp_put_u16(p + 16, m->classes);
	mnp_put_u16(p + 18, m->argmax);
	mnp_put_u16(p + 20, n);
	mnp_put_u16(p + 22, 0);
	for (uint16_t i = 0; i < n; i++)
		mnp_put_u32(p + MNP_RUN_MODEL_HDR_LEN + 4u * i, (uint32_t)m->logits[i]);
	return MNP_RUN_MODEL_HDR_LEN + 4u * n;
}

int mnp_dec_run_model_reply(const uint8_t *p, size_t n, struct mnp_run_model_reply *m)
{
	if (n < MNP_RUN_MODEL_HDR_LEN)
		return -1;
	m->cycles = mnp_get_u64(p);
	m->logits_crc = mnp_get_u32(p + 8);
	m->peak_bytes = mnp_get_u32(p + 12);
	m->classes = mnp_get_u16(p + 16);
	m->argmax = mnp_get_u16(p + 18);
	m->n_logits = mnp_get_u16(p + 20);
	uint16_t want = m->classes < MNP_MAX_REPLY_LOGITS ? m->classes
							 : (uint16_t)MNP_MAX_REPLY_LOGITS;
	if (m->classes == 0 || m->n_logits != want || m->argmax >= m->classes ||
	    n != MNP_RUN_MODEL_HDR_LEN + 4u * m->n_logits)
		return -1;
	for (uint16_t i = 0; i < m->n_logits; i++)
		m->logits[i] = (int32_t)mnp_get_u32(p + MNP_RUN_MODEL_HDR_LEN + 4u * i);
	return 0;
}
