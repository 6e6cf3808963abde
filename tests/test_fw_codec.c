/* Board protocol codec (fw-profiler/proto_codec.c): CRC-32, COBS, frames,
 * every message's encoding, the stream receiver's rejection of garbage,
 * truncated, oversized and bad-CRC frames, and the shared PRNG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "tap.h"

/* ---- CRC-32 ---- */

static void test_crc(void)
{
	const char *s = "123456789";
	uint32_t whole = mnp_crc32(0, s, 9);
	tap_ok(whole == 0xCBF43926u, "CRC-32 check value of \"123456789\" is 0xCBF43926 (got 0x%08X)",
	       (unsigned)whole);
	tap_ok(mnp_crc32(mnp_crc32(0, s, 4), s + 4, 5) == whole,
	       "CRC-32 continues across split buffers like zlib's crc32");
	tap_ok(mnp_crc32(0, s, 0) == 0, "CRC-32 of nothing is 0");
	tap_ok(mnp_crc32(0, "a", 1) == 0xE8B7BE43u, "CRC-32 of \"a\" is 0xE8B7BE43");
}

/* ---- COBS ---- */

static int cobs_round_trip(const uint8_t *src, size_t n)
{
	uint8_t enc[2048], dec[2048];
	size_t m, k;
	m = mnp_cobs_encode(src, n, enc, sizeof enc);
	if (m == 0 || m > n + n / 254 + 1 || memchr(enc, 0, m))
		return 0;
	if (mnp_cobs_decode(enc, m, dec, sizeof dec, &k) != 0 || k != n)
		return 0;
	return n == 0 || memcmp(src, dec, n) == 0;
}

static void test_cobs(void)
{
	uint8_t buf[1200] = {0};
	uint8_t enc[16], dec[16];
	size_t n;
	int ok = 1;
	static const size_t runs[] = {0, 1, 253, 254, 255, 256, 507, 508, 509, 1000};

	tap_ok(cobs_round_trip(buf, 0), "COBS round trip: empty input");
	buf[0] = 0;
	tap_ok(cobs_round_trip(buf, 1), "COBS round trip: a single zero");
	memset(buf, 0, 300);
	tap_ok(cobs_round_trip(buf, 300), "COBS round trip: 300 zeros");
	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		memset(buf, 0x5A, runs[r]);
		ok &= cobs_round_trip(buf, runs[r]);
		buf[runs[r]] = 0; /* the same run followed by a zero */
		ok &= cobs_round_trip(buf, runs[r] + 1);
	}
	tap_ok(ok, "COBS round trip: non-zero runs of 0..1000 bytes around the 254-byte block limit");

	/* 2000 random buffers with varied zero density */
	{
		struct mnp_prng r;
		mnp_prng_seed(&r, 42);
		ok = 1;
		for (int t = 0; t < 2000 && ok; t++) {
			size_t len = mnp_prng_next(&r) % 700;
			uint32_t dens = mnp_prng_next(&r) % 5;
			for (size_t i = 0; i < len; i++) {
				uint32_t v = mnp_prng_next(&r);
				buf[i] = (dens && v % (dens * 40) == 0) ? 0 : (uint8_t)(v >> 8 | 1);
				if (dens == 4 && (v & 1))
					buf[i] = 0;
			}
			ok = cobs_round_trip(buf, len);
		}
		tap_ok(ok, "COBS round trip: 2000 random buffers");
	}

	/* known encodings */
	{
		const uint8_t in[] = {0x11, 0x22, 0x00, 0x33};
		const uint8_t want[] = {0x03, 0x11, 0x22, 0x02, 0x33};
		n = mnp_cobs_encode(in, 4, enc, sizeof enc);
		tap_ok(n == 5 && memcmp(enc, want, 5) == 0, "COBS encodes 11 22 00 33 as 03 11 22 02 33");
	}
	tap_ok(mnp_cobs_encode((const uint8_t *)"\x01\x02\x03", 3, enc, 3) == 0,
	       "COBS encode reports a too-small output buffer");
	{
		const uint8_t trunc[] = {0x05, 0x11, 0x22};
		const uint8_t inner0[] = {0x03, 0x11, 0x00, 0x22};
		const uint8_t codezero[] = {0x02, 0x11, 0x00};
		tap_ok(mnp_cobs_decode(trunc, 3, dec, sizeof dec, &n) != 0,
		       "COBS decode rejects a block shorter than its code");
		tap_ok(mnp_cobs_decode(inner0, 4, dec, sizeof dec, &n) != 0,
		       "COBS decode rejects a zero inside a block");
		tap_ok(mnp_cobs_decode(codezero, 3, dec, sizeof dec, &n) != 0,
		       "COBS decode rejects a zero code byte");
		tap_ok(mnp_cobs_decode(inner0, 2, dec, 1, &n) != 0,
		       "COBS decode rejects output larger than the buffer");
	}
}

/* ---- Frames ---- */

static int build(uint8_t ver, uint8_t cmd, uint16_t seq, const uint8_t *p,
		 uint16_t len, uint8_t *wire, size_t *n)
{
	return mnp_frame_build(ver, cmd, seq, p, len, wire, MNP_MAX_ENCODED + 1, n);
}

/* Decode a wire frame (without its final 0x00) and parse it. */
static int unwire(const uint8_t *wire, size_t n, uint8_t *raw, struct mnp_frame *f)
{
	size_t k;
	if (n < 1 || wire[n - 1] != 0 || mnp_cobs_decode(wire, n - 1, raw, MNP_MAX_ENCODED, &k))
		return -1;
	return mnp_frame_parse(raw, k, f);
}

static void test_frames(void)
{
	uint8_t wire[MNP_MAX_ENCODED + 1], raw[MNP_MAX_ENCODED], pl[MNP_MAX_PAYLOAD];
	struct mnp_frame f;
	size_t n;

	for (size_t i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)(i * 7); /* includes zeros */
	tap_ok(build(MNP_VERSION, MNP_CMD_RUN_ARCH, 0x1234, pl, 24, wire, &n) == 0 &&
		   unwire(wire, n, raw, &f) == MNP_OK && f.version == MNP_VERSION &&
		   f.cmd == MNP_CMD_RUN_ARCH && f.seq == 0x1234 && f.len == 24 &&
		   memcmp(f.payload, pl, 24) == 0,
	       "frame round trip: header fields and payload survive");
	tap_ok(memchr(wire, 0, n - 1) == NULL && wire[n - 1] == 0,
	       "a wire frame has exactly one 0x00, the final delimiter");
	tap_ok(build(MNP_VERSION, MNP_CMD_HELLO, 1, NULL, 0, wire, &n) == 0 &&
		   unwire(wire, n, raw, &f) == MNP_OK && f.len == 0,
	       "frame round trip: empty payload");
	tap_ok(build(MNP_VERSION, MNP_CMD_HELLO, 1, pl, MNP_MAX_PAYLOAD, wire, &n) == 0 &&
		   unwire(wire, n, raw, &f) == MNP_OK && f.len == MNP_MAX_PAYLOAD,
	       "frame round trip: the largest payload (%u bytes)", MNP_MAX_PAYLOAD);
	tap_ok(mnp_frame_build(MNP_VERSION, 1, 1, pl, MNP_MAX_PAYLOAD + 1, wire, sizeof wire, &n) != 0,
	       "frame build refuses a payload over the limit");

	/* raw frame byte layout */
	{
		size_t k = 0;
		int built = build(7, 0x02, 0xBEEF, pl, 3, wire, &n) == 0 &&
			    mnp_cobs_decode(wire, n - 1, raw, sizeof raw, &k) == 0;
		tap_ok(built && k == 15 && raw[0] == 'M' && raw[1] == 'N' && raw[2] == 7 && raw[3] == 2 &&
			   raw[4] == 0xEF && raw[5] == 0xBE && raw[6] == 3 && raw[7] == 0 &&
			   mnp_get_u32(raw + 11) == mnp_crc32(0, raw, 11),
		       "frame layout: 'M' 'N' version cmd seq(LE) len(LE) payload crc32(LE)");
		/* corruptions */
		raw[9] ^= 0x40;
		tap_ok(mnp_frame_parse(raw, k, &f) == MNP_ERR_BAD_CRC && f.seq == 0xBEEF,
		       "a flipped payload bit is BAD_CRC and the header's seq is still reported");
		raw[9] ^= 0x40;
		raw[0] = 'X';
		tap_ok(mnp_frame_parse(raw, k, &f) == MNP_ERR_BAD_FRAME, "bad magic is BAD_FRAME");
		raw[0] = 'M';
		tap_ok(mnp_frame_parse(raw, 11, &f) == MNP_ERR_BAD_FRAME,
		       "a frame shorter than header + CRC is BAD_FRAME");
		/* length field disagreeing with the size, CRC recomputed */
		raw[6] = 4;
		mnp_put_u32(raw + 11, mnp_crc32(0, raw, 11));
		tap_ok(mnp_frame_parse(raw, k, &f) == MNP_ERR_BAD_LENGTH,
		       "a length field that disagrees with the frame size is BAD_LENGTH");
		/* truncated: last byte lost, CRC no longer matches */
		raw[6] = 3;
		mnp_put_u32(raw + 11, mnp_crc32(0, raw, 11));
		tap_ok(mnp_frame_parse(raw, k - 1, &f) == MNP_ERR_BAD_CRC,
		       "a truncated frame fails its CRC");
	}
}

/* ---- Messages ---- */

/* Structs have padding, so round trips compare the re-encoded bytes. */
#define SAME_BYTES(enc, b, len) (enc(&(b), q) == (len) && memcmp(p, q, (len)) == 0)

static void test_messages(void)
{
	uint8_t p[MNP_MAX_PAYLOAD], q[MNP_MAX_PAYLOAD];
	int ok;

	{
		struct mnp_hello_reply a = {0}, b;
		a.proto_version = 0x0102;
		a.timing_kind = MNP_TIMING_INSTRUCTIONS;
		a.flags = MNP_FLAG_DSP;
		strcpy(a.board, "qemu-mps2-an500");
		strcpy(a.fw_version, "0.1.0");
		a.core_hz = 25000000;
		a.count_hz = 1000000000;
		a.sram_bytes = 1;
		a.flash_bytes = 2;
		a.arena_bytes = 245760;
		a.weights_bytes = MNP_WEIGHTS_BYTES;
		a.resolution = 40;
		a.max_payload = MNP_MAX_PAYLOAD;
		ok = mnp_enc_hello_reply(&a, p) == MNP_HELLO_REPLY_LEN &&
		     mnp_dec_hello_reply(p, MNP_HELLO_REPLY_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_hello_reply, b, MNP_HELLO_REPLY_LEN) && !strcmp(b.board, "qemu-mps2-an500") && p[0] == 0x02 && p[1] == 0x01 &&
		     mnp_get_u32(p + 52) == 245760;
		tap_ok(ok, "HELLO reply round trip (68 bytes, arena at offset 52)");
		tap_ok(mnp_dec_hello_reply(p, MNP_HELLO_REPLY_LEN - 1, &b) != 0,
		       "HELLO reply of the wrong length is rejected");
		memset(p + 4, 'x', 16);
		mnp_dec_hello_reply(p, MNP_HELLO_REPLY_LEN, &b);
		tap_ok(b.board[15] == 0, "a board name without NUL is still decoded as a C string");
	}
	{
		struct mnp_profile_req a = {MNP_OP_CONV3X3, 16, 32, 31, 10, 0, 0xDEADBEEF, 0}, b;
		ok = mnp_enc_profile_req(&a, p) == MNP_PROFILE_REQ_LEN &&
		     mnp_dec_profile_req(p, MNP_PROFILE_REQ_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_profile_req, b, MNP_PROFILE_REQ_LEN) && b.h == 32 && b.seed == 0xDEADBEEF && mnp_get_u32(p + 12) == 0xDEADBEEF;
		tap_ok(ok, "PROFILE_OP request round trip (16 bytes, seed at offset 12)");
		tap_ok(mnp_dec_profile_req(p, 17, &b) != 0, "PROFILE_OP request of the wrong length is rejected");
		a.op = MNP_OP_STEM;
		a.in_channels = 1;
		ok = mnp_enc_profile_req(&a, p) == MNP_PROFILE_REQ_LEN && p[1] == 1 &&
		     mnp_dec_profile_req(p, MNP_PROFILE_REQ_LEN, &b) == 0 && b.in_channels == 1 &&
		     b.op == MNP_OP_STEM;
		tap_ok(ok, "PROFILE_OP stem input channels travel in byte 1 (the old reserved byte)");
	}
	{
		struct mnp_profile_reply a = {MNP_OP_ADD, 7, 1234, 1, 2, 3, 0x55AA55AA, 0}, b;
		a.min = 0x1122334455667788ull;
		ok = mnp_enc_profile_reply(&a, p) == MNP_PROFILE_REPLY_LEN &&
		     mnp_dec_profile_reply(p, MNP_PROFILE_REPLY_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_profile_reply, b, MNP_PROFILE_REPLY_LEN) && b.min == a.min && b.out_crc == a.out_crc && p[8] == 0x88 && p[15] == 0x11;
		tap_ok(ok, "PROFILE_OP reply round trip (36 bytes, u64 little-endian)");
		a.in_channels = 1;
		ok = mnp_enc_profile_reply(&a, p) == MNP_PROFILE_REPLY_LEN && p[1] == 1 &&
		     mnp_dec_profile_reply(p, MNP_PROFILE_REPLY_LEN, &b) == 0 && b.in_channels == 1;
		tap_ok(ok, "PROFILE_OP reply names the stem's input channels in byte 1");
	}
	{
		struct mnp_run_req a = {16, 5, 6, 32, 10, {3, 3, 3, 3, 3, 3}, {0, 1, 2, 3, 4, 5}, 9, 0, 0}, b;
		ok = mnp_enc_run_req(&a, p) == MNP_RUN_REQ_LEN &&
		     mnp_dec_run_req(p, MNP_RUN_REQ_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_run_req, b, MNP_RUN_REQ_LEN) && b.order[5] == 5 && b.seed == 9 && p[8] == 3 && p[19] == 5;
		tap_ok(ok, "RUN_ARCH request round trip (24 bytes, ops at 8, order at 14)");
		tap_ok(mnp_dec_run_req(p, 23, &b) != 0, "RUN_ARCH request of the wrong length is rejected");
		tap_ok(b.width == 0 && b.input_channels == 0, "a 24-byte RUN_ARCH decodes as the short form (width and input channels 0)");
		/* The long form: 49 x 10 x 1. */
		a.resolution = 49;
		a.width = 10;
		a.input_channels = 1;
		ok = mnp_enc_run_req(&a, p) == MNP_RUN_REQ_LONG_LEN &&
		     mnp_dec_run_req(p, MNP_RUN_REQ_LONG_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_run_req, b, MNP_RUN_REQ_LONG_LEN) && b.resolution == 49 &&
		     b.width == 10 && b.input_channels == 1 && mnp_get_u16(p + 24) == 10 && p[26] == 1 &&
		     p[27] == 0 && b.seed == 9;
		tap_ok(ok, "RUN_ARCH long form round trip (28 bytes, W at 24, input channels at 26)");
		for (size_t n = 25; n <= 29; n++)
			if (n != MNP_RUN_REQ_LONG_LEN)
				tap_ok(mnp_dec_run_req(p, n, &b) == -1, "a RUN_ARCH request of %zu bytes is rejected (length)", n);
		p[27] = 1;
		tap_ok(mnp_dec_run_req(p, MNP_RUN_REQ_LONG_LEN, &b) == -2, "a long RUN_ARCH with its reserved byte set is rejected");
		p[27] = 0;
		p[26] = 0;
		tap_ok(mnp_dec_run_req(p, MNP_RUN_REQ_LONG_LEN, &b) == -2, "a long RUN_ARCH with 0 input channels is rejected");
		p[26] = 1;
		mnp_put_u16(p + 24, 0);
		tap_ok(mnp_dec_run_req(p, MNP_RUN_REQ_LONG_LEN, &b) == -2, "a long RUN_ARCH with width 0 is rejected");
		a.width = 0;
		a.input_channels = 3;
		tap_ok(mnp_enc_run_req(&a, p) == MNP_RUN_REQ_LONG_LEN,
		       "the encoder writes the long form whenever width or input channels is set");
	}
	{
		struct mnp_run_reply a, b;
		memset(&a, 0, sizeof a);
		a.cycles = 123456789012ull;
		a.warmup_cycles = 5;
		a.peak_bytes = 65536;
		a.logits_crc = 0xABCDEF01u;
		a.compactions = 2;
		for (int i = 0; i < MNP_SECTIONS; i++) {
			a.sec_cycles[i] = 1000u * (unsigned)i + 1u;
			a.sec_peak[i] = 77u * (unsigned)i;
		}
		ok = mnp_enc_run_reply(&a, p) == MNP_RUN_REPLY_LEN &&
		     mnp_dec_run_reply(p, MNP_RUN_REPLY_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_run_reply, b, MNP_RUN_REPLY_LEN) && b.cycles == a.cycles && b.sec_peak[6] == 462 && mnp_get_u64(p + 28 + 12 * 6) == 6001 &&
		     mnp_get_u32(p + 36 + 12 * 6) == 462;
		tap_ok(ok, "RUN_ARCH reply round trip (112 bytes, 7 sections of 12 from offset 28)");
	}
	{
		struct mnp_kcheck_req a = {MNP_OP_HEAD, 64, 8, 8, 10, 77, 0}, b;
		ok = mnp_enc_kcheck_req(&a, p) == MNP_KCHECK_REQ_LEN &&
		     mnp_dec_kcheck_req(p, MNP_KCHECK_REQ_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_kcheck_req, b, MNP_KCHECK_REQ_LEN) && b.classes == 10 && b.seed == 77;
		tap_ok(ok, "KERNEL_CHECK request round trip (16 bytes)");
	}
	{
		struct mnp_kcheck_reply a = {MNP_OP_STEM, MNP_FLAG_DSP, 0x12345678, 4096, 999}, b;
		ok = mnp_enc_kcheck_reply(&a, p) == MNP_KCHECK_REPLY_LEN &&
		     mnp_dec_kcheck_reply(p, MNP_KCHECK_REPLY_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_kcheck_reply, b, MNP_KCHECK_REPLY_LEN) && b.crc == 0x12345678 && b.cycles == 999;
		tap_ok(ok, "KERNEL_CHECK reply round trip (20 bytes)");
	}
	{
		struct mnp_error a = {MNP_ERR_OUT_OF_MEMORY, MNP_CMD_RUN_ARCH, 262144, 245760}, b;
		ok = mnp_enc_error(&a, p) == MNP_ERROR_LEN && mnp_dec_error(p, MNP_ERROR_LEN, &b) == 0 &&
		     SAME_BYTES(mnp_enc_error, b, MNP_ERROR_LEN) && b.detail == 262144 && p[0] == MNP_ERR_OUT_OF_MEMORY && p[2] == MNP_CMD_RUN_ARCH;
		tap_ok(ok, "ERROR round trip (12 bytes: code, request command, two details)");
		tap_ok(mnp_dec_error(p, 0, &b) != 0, "ERROR of the wrong length is rejected");
	}
}

/* ---- Stream receiver ---- */

struct rx_out {
	int frames, errors, last_err;
	struct mnp_frame f;
	int parse_rc;
	uint8_t raw[MNP_MAX_ENCODED];
};

static void feed(struct mnp_rx *rx, const uint8_t *b, size_t n, struct rx_out *o)
{
	for (size_t i = 0; i < n; i++) {
		size_t k;
		int rc = mnp_rx_push(rx, b[i], o->raw, sizeof o->raw, &k);
		if (rc == MNP_RX_FRAME) {
			o->parse_rc = mnp_frame_parse(o->raw, k, &o->f);
			if (o->parse_rc == MNP_OK)
				o->frames++;
			else {
				o->errors++;
				o->last_err = o->parse_rc;
			}
		} else if (rc < 0) {
			o->errors++;
			o->last_err = -rc;
		}
	}
}

static void test_rx(void)
{
	struct mnp_rx rx;
	struct rx_out o;
	uint8_t wire[MNP_MAX_ENCODED + 1], big[600];
	size_t n;
	const uint8_t pl[4] = {1, 0, 2, 0};

	if (build(MNP_VERSION, MNP_CMD_HELLO, 9, pl, 4, wire, &n) != 0) {
		tap_ok(0, "building the receiver test frame");
		return;
	}

	mnp_rx_init(&rx);
	memset(&o, 0, sizeof o);
	feed(&rx, (const uint8_t *)"\0\0\0", 3, &o);
	feed(&rx, wire, n, &o);
	tap_ok(o.frames == 1 && o.errors == 0 && o.f.seq == 9,
	       "receiver: leading 0x00 padding is ignored and the frame decodes");

	mnp_rx_init(&rx);
	memset(&o, 0, sizeof o);
	{
		const uint8_t garbage[] = {0x13, 0x37, 0xFF, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
					   0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x00, 0x42};
		feed(&rx, garbage, sizeof garbage, &o);
		feed(&rx, (const uint8_t *)"", 1, &o); /* ends the trailing 0x42 */
		feed(&rx, wire, n, &o);
		tap_ok(o.frames == 1 && o.errors == 3 && o.f.seq == 9,
		       "receiver: three garbage chunks give three errors, then the next frame decodes");
	}

	mnp_rx_init(&rx);
	memset(&o, 0, sizeof o);
	memset(big, 0x77, sizeof big);
	feed(&rx, big, sizeof big, &o);
	tap_ok(o.errors == 0, "receiver: an overlong run is held without error until its delimiter");
	feed(&rx, (const uint8_t *)"", 1, &o);
	tap_ok(o.errors == 1 && o.last_err == MNP_ERR_OVERSIZED, "receiver: an oversized frame is dropped as OVERSIZED");
	feed(&rx, wire, n, &o);
	tap_ok(o.frames == 1, "receiver: the frame after an oversized one decodes");

	mnp_rx_init(&rx);
	memset(&o, 0, sizeof o);
	feed(&rx, wire, n / 2, &o);
	feed(&rx, (const uint8_t *)"", 1, &o);
	feed(&rx, wire, n, &o);
	tap_ok(o.errors == 1 && o.frames == 1, "receiver: a truncated frame is one error, the next frame decodes");

	/* a bad-CRC frame on the wire */
	{
		uint8_t raw[64], w2[80];
		size_t k = 0, m = 0;
		if (mnp_cobs_decode(wire, n - 1, raw, sizeof raw, &k) == 0) {
			raw[MNP_HDR_LEN] ^= 1;
			m = mnp_cobs_encode(raw, k, w2, sizeof w2 - 1);
		}
		w2[m++] = 0; /* m == 1 (an empty frame) if anything failed */
		mnp_rx_init(&rx);
		memset(&o, 0, sizeof o);
		feed(&rx, w2, m, &o);
		feed(&rx, wire, n, &o);
		tap_ok(o.errors == 1 && o.last_err == MNP_ERR_BAD_CRC && o.frames == 1,
		       "receiver: a bad-CRC frame is rejected as BAD_CRC, the next one decodes");
	}
}

/* ---- PRNG and blob ---- */

static void test_prng(void)
{
	struct mnp_prng a, b;
	int8_t x[7];
	uint8_t *blob = malloc(MNP_BLOB_BYTES);
	uint32_t v;
	int ok = 1;

	mnp_prng_seed(&a, 5);
	mnp_prng_seed(&b, 5);
	for (int i = 0; i < 100; i++)
		ok &= mnp_prng_next(&a) == mnp_prng_next(&b);
	tap_ok(ok, "PRNG: the same seed gives the same stream");
	mnp_prng_seed(&a, 5);
	mnp_prng_seed(&b, 5);
	mnp_prng_fill_i8(&a, x, 7);
	v = mnp_prng_next(&b);
	tap_ok(x[0] == (int8_t)(uint8_t)v && x[3] == (int8_t)(uint8_t)(v >> 24) &&
		   x[4] == (int8_t)(uint8_t)mnp_prng_next(&b),
	       "PRNG: int8 fill takes four bytes per draw, low byte first");
	tap_ok(mnp_mix32(0) == 0 && mnp_mix32(1) == 0x514E28B7u,
	       "mix32 is the MurmurHash3 finalizer (fmix32(1) = 0x514E28B7)");
	if (!blob) {
		tap_ok(0, "blob: out of memory");
		return;
	}
	mnp_blob_fill(blob);
	ok = 1;
	for (uint32_t i = 0; i < MNP_WEIGHTS_BYTES; i += 4099)
		ok &= (int8_t)blob[i] == mnp_weight_at(i);
	for (uint32_t i = 0; i < MNP_BIAS_COUNT; i++)
		ok &= (int32_t)mnp_get_u32(blob + MNP_WEIGHTS_BYTES + 4 * i) == mnp_bias_at(i) &&
		      mnp_bias_at(i) >= -16384 && mnp_bias_at(i) < 16384;
	tap_ok(ok, "blob: weights then little-endian biases in [-2^14, 2^14)");
	free(blob);
}

int main(void)
{
	test_crc();
	test_cobs();
	test_frames();
	test_messages();
	test_rx();
	test_prng();
	return tap_done();
}
