/* libFuzzer target for the host side of the serial protocol: a byte
 * stream from the board goes through the stream receiver (COBS, resync on
 * 0x00), each frame through the frame check (CRC, lengths), and each
 * payload through every reply decoder and the request decoders the
 * firmware shares (RUN_ARCH's two lengths).  Nothing may read out of bounds; an
 * accepted frame's payload lies inside the decoded buffer, and a frame
 * rebuilt from it decodes back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_all(const struct mnp_frame *f)
{
	struct mnp_hello_reply h;
	struct mnp_profile_reply p;
	struct mnp_run_reply r;
	struct mnp_kcheck_reply k;
	struct mnp_error e;
	struct mnp_run_req q;
	struct mnp_profile_req pq;
	uint8_t back[MNP_RUN_REQ_LONG_LEN];
	(void)mnp_dec_profile_req(f->payload, f->len, &pq);
	/* An accepted RUN_ARCH request re-encodes to the same bytes: a long
	 * form that decodes names its input, so it stays long. */
	if (mnp_dec_run_req(f->payload, f->len, &q) == 0 &&
	    (mnp_enc_run_req(&q, back) != f->len || memcmp(back, f->payload, f->len) != 0))
		abort();
	(void)mnp_dec_hello_reply(f->payload, f->len, &h);
	(void)mnp_dec_profile_reply(f->payload, f->len, &p);
	(void)mnp_dec_run_reply(f->payload, f->len, &r);
	(void)mnp_dec_kcheck_reply(f->payload, f->len, &k);
	(void)mnp_dec_error(f->payload, f->len, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t raw[MNP_MAX_ENCODED], wire[MNP_MAX_ENCODED + 2], raw2[MNP_MAX_ENCODED];
	struct mnp_rx rx;
	mnp_rx_init(&rx);
	for (size_t i = 0; i < size; i++) {
		size_t n = 0;
		int rc = mnp_rx_push(&rx, data[i], raw, sizeof raw, &n);
		if (rc != MNP_RX_FRAME)
			continue;
		if (n > sizeof raw)
			abort();
		struct mnp_frame f;
		if (mnp_frame_parse(raw, n, &f) != MNP_OK)
			continue;
		if (f.payload < raw || f.payload + f.len > raw + n)
			abort();
		decode_all(&f);
		/* Round trip: the accepted frame rebuilt must decode to itself. */
		size_t wn = 0, n2 = 0;
		if (mnp_frame_build(f.version, f.cmd, f.seq, f.payload, f.len, wire, sizeof wire,
				    &wn) != 0 || wn < 1 || wire[wn - 1] != 0)
			abort();
		if (mnp_cobs_decode(wire, wn - 1, raw2, sizeof raw2, &n2) != 0 || n2 != n ||
		    memcmp(raw, raw2, n) != 0)
			abort();
	}
	return 0;
}
