/* The protocol client against a fake board: a thread at the other end of a
 * socketpair that speaks the protocol through proto_codec.c and misbehaves
 * on purpose: garbage on the line, stale and unsolicited frames, a dropped
 * request, a corrupted reply, a request that "arrived damaged", silence,
 * hanging up mid-request, another protocol version, an error reply. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "board/board.h"
#include "board/profile.h"
#include "protocol.h"
#include "util/clock.h"
#include "tap.h"

enum fault {
	F_NONE,
	F_GARBAGE,       /* noise, zeros and a cut-off frame before every reply */
	F_STALE,         /* a reply under an old seq and an unsolicited error first */
	F_DROP_FIRST,    /* the first request after HELLO gets no answer */
	F_CORRUPT_FIRST, /* the first reply after HELLO has a damaged byte */
	F_DAMAGED_FIRST, /* the first request after HELLO "arrived" with a bad CRC */
	F_SILENT,        /* HELLO only, then nothing */
	F_HANGUP,        /* HELLO, then hangs up on the next request */
	F_VERSION,       /* speaks protocol version 2 */
	F_OOM,           /* RUN_ARCH -> ERROR OUT_OF_MEMORY */
	F_OLD_FW,        /* a firmware from before RUN_ARCH's 28-byte form */
	F_MUTE           /* answers nothing at all */
};

struct peer {
	int fd;
	enum fault fault;
	int requests;   /* frames handled, HELLO included */
	int after_hello;/* requests other than HELLO */
};

static int put(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(int fd, uint8_t version, uint8_t cmd, uint16_t seq, const uint8_t *p,
		      size_t len, int corrupt)
{
	uint8_t buf[MNP_MAX_ENCODED + 1], raw[MNP_MAX_RAW];
	size_t n, rn;
	if (mnp_frame_build(version, cmd, seq, p, (uint16_t)len, buf, sizeof buf, &n) != 0)
		return -1;
	if (corrupt) {
		/* Flip a payload bit under the COBS layer: the frame still
		 * decodes and its header (seq) reads, only the CRC fails. */
		if (mnp_cobs_decode(buf, n - 1, raw, sizeof raw, &rn) != 0 || rn <= MNP_HDR_LEN + 2)
			return -1;
		raw[MNP_HDR_LEN + 2] ^= 0x01;
		n = mnp_cobs_encode(raw, rn, buf, sizeof buf - 1);
		if (n == 0)
			return -1;
		buf[n++] = 0x00;
	}
	return put(fd, buf, n);
}

static int send_error(int fd, uint8_t version, uint16_t seq, uint8_t cmd, uint16_t code,
		      uint32_t d1, uint32_t d2)
{
	struct mnp_error e = {code, cmd, d1, d2};
	uint8_t p[MNP_ERROR_LEN];
	mnp_enc_error(&e, p);
	return send_frame(fd, version, MNP_CMD_ERROR, seq, p, sizeof p, 0);
}

static void send_garbage(int fd)
{
	static const uint8_t noise[] = {0x13, 0x37, 0x00, 0xFF, 0xFE, 0x00, 0x00, 0x4D, 0x4E,
					0x01, 0x82, 0x05, 0x00, 0x00, 0x42, 0x00, 0x07, 0x08};
	uint8_t cut[MNP_MAX_ENCODED + 1];
	size_t n;
	uint8_t pl[4] = {1, 2, 3, 4};
	put(fd, noise, sizeof noise);
	/* A frame cut off halfway, then the next real frame follows; the
	 * receiver must drop the piece at the next 0x00. */
	if (mnp_frame_build(MNP_VERSION, MNP_CMD_PROFILE_OP | MNP_CMD_REPLY, 3, pl, 4, cut, sizeof cut,
			    &n) == 0)
		put(fd, cut, n / 2);
	/* A frame much longer than the maximum: no 0x00 for 600 bytes. */
	{
		uint8_t big[600];
		memset(big, 0x11, sizeof big);
		put(fd, big, sizeof big);
		put(fd, "\0", 1);
	}
}

static void reply(struct peer *pr, const struct mnp_frame *f)
{
	uint8_t ver = pr->fault == F_VERSION ? 2 : MNP_VERSION;
	uint8_t p[MNP_MAX_PAYLOAD];
	size_t len = 0;
	int first = pr->after_hello == 1 && f->cmd != MNP_CMD_HELLO;

	if (pr->fault == F_MUTE)
		return;
	if (f->cmd != MNP_CMD_HELLO) {
		if (pr->fault == F_SILENT)
			return;
		if (pr->fault == F_HANGUP) {
			shutdown(pr->fd, SHUT_RDWR);
			return;
		}
		if (pr->fault == F_DROP_FIRST && first)
			return;
		if (pr->fault == F_DAMAGED_FIRST && first) {
			send_error(pr->fd, ver, f->seq, f->cmd, MNP_ERR_BAD_CRC, 30, 16);
			return;
		}
	}
	if (pr->fault == F_GARBAGE)
		send_garbage(pr->fd);
	if (pr->fault == F_STALE) {
		struct mnp_profile_reply old = {MNP_OP_CONV3X3, 1, 1, 9, 9, 9, 9, 0};
		uint8_t q[MNP_PROFILE_REPLY_LEN];
		mnp_enc_profile_reply(&old, q);
		send_frame(pr->fd, ver, f->cmd | MNP_CMD_REPLY, (uint16_t)(f->seq - 1), q, sizeof q, 0);
		send_error(pr->fd, ver, MNP_SEQ_UNSOLICITED, 0, MNP_ERR_BAD_FRAME, 0, 0);
	}
	switch (f->cmd) {
	case MNP_CMD_HELLO: {
		struct mnp_hello_reply h;
		memset(&h, 0, sizeof h);
		h.proto_version = ver;
		h.timing_kind = MNP_TIMING_CYCLES;
		snprintf(h.board, sizeof h.board, "fake-board");
		snprintf(h.fw_version, sizeof h.fw_version, "9.9.9");
		h.core_hz = 216000000;
		h.count_hz = 2000000; /* 2 units per microsecond */
		h.arena_bytes = 245760;
		h.max_payload = MNP_MAX_PAYLOAD;
		len = mnp_enc_hello_reply(&h, p);
		break;
	}
	case MNP_CMD_PROFILE_OP: {
		struct mnp_profile_req q;
		struct mnp_profile_reply r;
		if (mnp_dec_profile_req(f->payload, f->len, &q) != 0) {
			send_error(pr->fd, ver, f->seq, f->cmd, MNP_ERR_BAD_LENGTH, 16, f->len);
			return;
		}
		memset(&r, 0, sizeof r);
		r.op = q.op;
		r.repeats = q.repeats;
		r.arena_bytes = 2u * q.channels * q.h * q.w;
		r.min = 1000u + q.channels;
		r.median = 2000u + q.channels;
		r.max = 3000u + q.channels;
		r.out_crc = 0xC0FFEEu;
		len = mnp_enc_profile_reply(&r, p);
		break;
	}
	case MNP_CMD_RUN_ARCH: {
		struct mnp_run_req q;
		struct mnp_run_reply r;
		if (pr->fault == F_OLD_FW && f->len != MNP_RUN_REQ_LEN) {
			send_error(pr->fd, ver, f->seq, f->cmd, MNP_ERR_BAD_LENGTH, MNP_RUN_REQ_LEN, f->len);
			return;
		}
		if (mnp_dec_run_req(f->payload, f->len, &q) != 0)
			return;
		if (pr->fault == F_OOM) {
			send_error(pr->fd, ver, f->seq, f->cmd, MNP_ERR_OUT_OF_MEMORY, 300000, 245760);
			return;
		}
		memset(&r, 0, sizeof r);
		r.cycles = 123456;
		r.warmup_cycles = 123999;
		r.peak_bytes = 4242;
		r.logits_crc = q.seed;
		len = mnp_enc_run_reply(&r, p);
		break;
	}
	case MNP_CMD_KERNEL_CHECK: {
		struct mnp_kcheck_req q;
		struct mnp_kcheck_reply r;
		if (mnp_dec_kcheck_req(f->payload, f->len, &q) != 0)
			return;
		memset(&r, 0, sizeof r);
		r.op = q.op;
		r.crc = 0xABCD0000u | q.channels;
		r.out_bytes = 77;
		r.cycles = 5;
		len = mnp_enc_kcheck_reply(&r, p);
		break;
	}
	default:
		send_error(pr->fd, ver, f->seq, f->cmd, MNP_ERR_UNKNOWN_CMD, f->cmd, 0);
		return;
	}
	send_frame(pr->fd, ver, f->cmd | MNP_CMD_REPLY, f->seq, p, len,
		   pr->fault == F_CORRUPT_FIRST && first);
}

static void *peer_main(void *arg)
{
	struct peer *pr = arg;
	struct mnp_rx rx;
	uint8_t raw[MNP_MAX_ENCODED], buf[256];

	mnp_rx_init(&rx);
	for (;;) {
		ssize_t n = recv(pr->fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			size_t rn = 0;
			struct mnp_frame f;
			if (mnp_rx_push(&rx, buf[i], raw, sizeof raw, &rn) != MNP_RX_FRAME)
				continue;
			if (mnp_frame_parse(raw, rn, &f) != MNP_OK)
				continue;
			pr->requests++;
			if (f.cmd != MNP_CMD_HELLO)
				pr->after_hello++;
			reply(pr, &f);
		}
	}
	close(pr->fd);
	return NULL;
}

struct rig {
	struct peer peer;
	pthread_t th;
	struct mn_board *b;
	int rc;
	char err[1024];
};

static void test_opts(struct mn_board_opts *o)
{
	mn_board_opts_default(o);
	o->connect_timeout_ms = 800;
	o->hello_interval_ms = 100;
	o->min_timeout_ms = 250;
	o->rate_per_s = 1e12;
	o->retries = 2;
	o->timeout_scale = 1.0;
}

static int rig_start(struct rig *g, enum fault fault, const struct mn_board_opts *o)
{
	int sv[2];
	struct mn_transport *t;
	memset(g, 0, sizeof *g);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	g->peer.fd = sv[1];
	g->peer.fault = fault;
	if (pthread_create(&g->th, NULL, peer_main, &g->peer) != 0)
		return -1;
	if (mn_transport_from_fd(&t, sv[0], "fake", g->err, sizeof g->err) != 0)
		return -1;
	g->rc = mn_board_attach(&g->b, t, o, g->err, sizeof g->err);
	return 0;
}

static void rig_stop(struct rig *g)
{
	mn_board_close(g->b); /* closes our end: the peer sees EOF */
	pthread_join(g->th, NULL);
}

static int profile(struct rig *g, uint16_t channels, struct mnp_profile_reply *rp)
{
	struct mnp_profile_req rq = {MNP_OP_CONV3X3, channels, 8, 8, 3, 0, 1, 0};
	return mn_board_profile_op(g->b, &rq, rp, g->err, sizeof g->err);
}

static void test_normal(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_profile_reply rp;
	struct mnp_run_req rr = {8, 1, 1, 16, 10, {3, 0, 0, 0, 0, 0}, {0}, 99, 0, 0};
	struct mnp_run_reply rrp;
	struct mnp_kcheck_req kq = {MNP_OP_ADD, 12, 4, 4, 0, 5, 0};
	struct mnp_kcheck_reply kr;
	struct mn_board_stats st;

	test_opts(&o);
	/* No timeout belongs in this test: a long one, so that the fake
	 * board's thread left unscheduled for a while (a loaded machine)
	 * cannot add one. */
	o.min_timeout_ms = 5000;
	rig_start(&g, F_NONE, &o);
	tap_ok(g.rc == MN_BOARD_OK, "handshake with a well-behaved board%s%s", g.rc ? ": " : "",
	       g.rc ? g.err : "");
	if (g.rc) {
		pthread_join(g.th, NULL);
		return;
	}
	tap_ok(!strcmp(mn_board_info(g.b)->board, "fake-board") &&
		       !strcmp(mn_board_info(g.b)->fw_version, "9.9.9"),
	       "board and firmware names");
	tap_ok(mn_board_units_to_us(g.b, 2000) == 1000.0, "units -> us with count_hz");
	tap_ok(!mn_board_is_emulated(g.b), "cycle timing is not emulated");
	tap_ok(profile(&g, 16, &rp) == MN_BOARD_OK && rp.median == 2016 && rp.min == 1016 &&
		       rp.max == 3016,
	       "PROFILE_OP reply decoded");
	tap_ok(mn_board_run_arch(g.b, &rr, &rrp, g.err, sizeof g.err) == MN_BOARD_OK &&
		       rrp.cycles == 123456 && rrp.peak_bytes == 4242 && rrp.logits_crc == 99,
	       "RUN_ARCH reply decoded");
	tap_ok(mn_board_kernel_check(g.b, &kq, &kr, g.err, sizeof g.err) == MN_BOARD_OK &&
		       kr.crc == 0xABCD000Cu && kr.out_bytes == 77,
	       "KERNEL_CHECK reply decoded");
	tap_ok(mn_board_hello(g.b, g.err, sizeof g.err) == MN_BOARD_OK, "HELLO again");
	mn_board_get_stats(g.b, &st);
	tap_ok(st.resends == 0 && st.timeouts == 0 && st.crc_errors == 0 && st.garbage == 0,
	       "a clean line: no resends, timeouts, CRC errors or garbage");
	rig_stop(&g);
}

static void test_garbage(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_profile_reply rp;
	struct mn_board_stats st;
	int ok = 1;

	test_opts(&o);
	/* No timeout belongs in this test: a long one, so that the fake
	 * board's thread left unscheduled for a while (a loaded machine)
	 * cannot add one. */
	o.min_timeout_ms = 5000;
	rig_start(&g, F_GARBAGE, &o);
	tap_ok(g.rc == MN_BOARD_OK, "handshake through garbage%s%s", g.rc ? ": " : "",
	       g.rc ? g.err : "");
	if (g.rc) {
		pthread_join(g.th, NULL);
		return;
	}
	for (int i = 0; i < 5; i++)
		ok &= profile(&g, (uint16_t)(4 + i), &rp) == MN_BOARD_OK && rp.median == 2004u + i;
	tap_ok(ok, "5 requests answered correctly through garbage");
	mn_board_get_stats(g.b, &st);
	tap_ok(st.garbage > 0 && st.resends == 0,
	       "garbage skipped (%u frames) without resending", st.garbage);
	rig_stop(&g);
}

static void test_stale(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_profile_reply rp;
	struct mn_board_stats st;

	test_opts(&o);
	/* No timeout belongs in this test: a long one, so that the fake
	 * board's thread left unscheduled for a while (a loaded machine)
	 * cannot add one. */
	o.min_timeout_ms = 5000;
	rig_start(&g, F_STALE, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake with stale frames around")) {
		pthread_join(g.th, NULL);
		return;
	}
	tap_ok(profile(&g, 8, &rp) == MN_BOARD_OK && rp.median == 2008,
	       "the reply under an old sequence number is ignored, the right one taken");
	mn_board_get_stats(g.b, &st);
	tap_ok(st.stale >= 1 && st.unsolicited >= 1, "counted %u stale, %u unsolicited", st.stale,
	       st.unsolicited);
	rig_stop(&g);
}

static void test_drop(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_profile_reply rp;
	struct mn_board_stats st;
	long long t0;

	test_opts(&o);
	/* One timeout belongs here, and only one: long enough that the fake
	 * board's thread left unscheduled for a while cannot add a second. */
	o.min_timeout_ms = 1000;
	rig_start(&g, F_DROP_FIRST, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake (drop)")) {
		pthread_join(g.th, NULL);
		return;
	}
	t0 = mn_now_ms();
	tap_ok(profile(&g, 8, &rp) == MN_BOARD_OK && rp.median == 2008,
	       "a request lost once is sent again and answered");
	mn_board_get_stats(g.b, &st);
	tap_ok(st.timeouts == 1 && st.resends == 1, "one timeout, one resend");
	tap_ok(mn_now_ms() - t0 >= 990 && mn_now_ms() - t0 < 1000 + 5000, "after one timeout (%lld ms)",
	       mn_now_ms() - t0);
	rig_stop(&g);
}

static void test_corrupt(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_profile_reply rp;
	struct mn_board_stats st;
	long long t0;

	test_opts(&o);
	o.min_timeout_ms = 5000; /* a CRC error must not wait for the timeout */
	rig_start(&g, F_CORRUPT_FIRST, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake (corrupt)")) {
		pthread_join(g.th, NULL);
		return;
	}
	t0 = mn_now_ms();
	tap_ok(profile(&g, 8, &rp) == MN_BOARD_OK && rp.median == 2008,
	       "a reply with a bad CRC is asked for again");
	mn_board_get_stats(g.b, &st);
	tap_ok(st.crc_errors == 1 && st.resends == 1, "one CRC error, one resend");
	tap_ok(mn_now_ms() - t0 < 2000, "at once, not after the 5 s timeout (%lld ms)", mn_now_ms() - t0);
	rig_stop(&g);

	rig_start(&g, F_DAMAGED_FIRST, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake (damaged request)")) {
		pthread_join(g.th, NULL);
		return;
	}
	t0 = mn_now_ms();
	tap_ok(profile(&g, 8, &rp) == MN_BOARD_OK && rp.median == 2008,
	       "ERROR BAD_CRC for our request: sent again and answered");
	mn_board_get_stats(g.b, &st);
	tap_ok(st.resends == 1 && mn_now_ms() - t0 < 2000, "one resend, at once");
	rig_stop(&g);
}

static void test_silent(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_profile_reply rp;
	struct mn_board_stats st;
	long long t0, dt;
	int r;

	test_opts(&o);
	rig_start(&g, F_SILENT, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake (silent)")) {
		pthread_join(g.th, NULL);
		return;
	}
	t0 = mn_now_ms();
	r = profile(&g, 8, &rp);
	dt = mn_now_ms() - t0;
	tap_ok(r == MN_BOARD_ETIMEOUT, "a board that stops answering: timeout (%d)", r);
	tap_ok(dt >= 3 * 240 && dt < 3 * 250 + 1500, "after 3 attempts of 250 ms (%lld ms)", dt);
	tap_ok(strstr(g.err, "no reply to PROFILE_OP after 3 attempts") != NULL &&
		       !strchr(g.err, '\n'),
	       "one line naming the problem and the fix: %s", g.err);
	mn_board_get_stats(g.b, &st);
	tap_ok(st.resends == 2 && st.timeouts == 3, "limited retries: 2 resends, 3 timeouts");
	rig_stop(&g);
}

static void test_hangup(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_run_req rr = {8, 1, 1, 16, 10, {3, 0, 0, 0, 0, 0}, {0}, 99, 0, 0};
	struct mnp_run_reply rrp;
	long long t0;
	int r;

	test_opts(&o);
	o.min_timeout_ms = 10000;
	rig_start(&g, F_HANGUP, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake (hangup)")) {
		pthread_join(g.th, NULL);
		return;
	}
	t0 = mn_now_ms();
	r = mn_board_run_arch(g.b, &rr, &rrp, g.err, sizeof g.err);
	tap_ok(r == MN_BOARD_EGONE, "board gone mid-request: EGONE (%d)", r);
	tap_ok(mn_now_ms() - t0 < 1500, "at once, not after the 10 s timeout (%lld ms)", mn_now_ms() - t0);
	tap_ok(strstr(g.err, "went away") && strstr(g.err, "RUN_ARCH"), "message: %s", g.err);
	rig_stop(&g);
}

static void test_version(void)
{
	struct mn_board_opts o;
	struct rig g;

	test_opts(&o);
	rig_start(&g, F_VERSION, &o);
	tap_ok(g.rc == MN_BOARD_EVERSION, "firmware of protocol 2: EVERSION (%d)", g.rc);
	tap_ok(strstr(g.err, "version 2") && strstr(g.err, "version 1") &&
		       strstr(g.err, "make -C fw-profiler flash") && !strchr(g.err, '\n'),
	       "one line naming both versions and the fix: %s", g.err);
	tap_ok(g.b == NULL, "no board handle on failure");
	pthread_join(g.th, NULL); /* attach closed the transport */
}

static void test_remote_error(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_run_req rr = {8, 1, 1, 16, 10, {3, 0, 0, 0, 0, 0}, {0}, 99, 0, 0};
	struct mnp_run_reply rrp;
	int r;

	test_opts(&o);
	rig_start(&g, F_OOM, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake (oom)")) {
		pthread_join(g.th, NULL);
		return;
	}
	r = mn_board_run_arch(g.b, &rr, &rrp, g.err, sizeof g.err);
	tap_ok(r == MN_BOARD_EREMOTE && mn_board_last_error(g.b)->code == MNP_ERR_OUT_OF_MEMORY,
	       "ERROR reply: EREMOTE with the board's code");
	tap_ok(strstr(g.err, "300000") && strstr(g.err, "245760") && strstr(g.err, "smaller"),
	       "message names sizes and the fix: %s", g.err);
	rig_stop(&g);
}

/* A host that needs the new fields, against a firmware without them: one
 * message saying to rebuild, never a silent RGB or square measurement.
 * The fake's PROFILE_OP reply leaves byte 1 at 0, as older firmware does. */
static void test_old_firmware(void)
{
	struct mn_board_opts o;
	struct rig g;
	struct mnp_run_req lf = {4, 1, 1, 49, 12, {3, 0, 0, 0, 0, 0}, {0}, 5, 10, 1};
	struct mnp_run_req sf = {4, 1, 1, 16, 12, {3, 0, 0, 0, 0, 0}, {0}, 5, 0, 0};
	struct mnp_profile_req st = {MNP_OP_STEM, 4, 49, 10, 3, 0, 1, 1};
	struct mnp_run_reply rrp;
	struct mnp_profile_reply prp;
	int r;

	test_opts(&o);
	rig_start(&g, F_OLD_FW, &o);
	if (!tap_ok(g.rc == MN_BOARD_OK, "handshake (old firmware)")) {
		pthread_join(g.th, NULL);
		return;
	}
	r = mn_board_run_arch(g.b, &lf, &rrp, g.err, sizeof g.err);
	tap_ok(r == MN_BOARD_EREMOTE && strstr(g.err, "predates RUN_ARCH's 28-byte form") &&
		       strstr(g.err, "make -C fw-profiler"),
	       "a 28-byte RUN_ARCH to an older firmware: it says to rebuild it: %s", g.err);
	r = mn_board_run_arch(g.b, &sf, &rrp, g.err, sizeof g.err);
	tap_ok(r == MN_BOARD_OK && rrp.logits_crc == 5,
	       "the 24-byte form still works with it (square RGB)");
	r = mn_board_profile_op(g.b, &st, &prp, g.err, sizeof g.err);
	tap_ok(r == MN_BOARD_EPROTO && strstr(g.err, "predates PROFILE_OP's stem input channels"),
	       "a grayscale stem to a firmware that ignores byte 1 is refused: %s", g.err);
	st.in_channels = 0;
	r = mn_board_profile_op(g.b, &st, &prp, g.err, sizeof g.err);
	tap_ok(r == MN_BOARD_OK, "an RGB stem (byte 1 = 0) is accepted from it");
	rig_stop(&g);
}

static int cancel_now(void *arg)
{
	(void)arg;
	return 1;
}

static void test_mute_and_cancel(void)
{
	struct mn_board_opts o;
	struct rig g;
	long long t0;

	test_opts(&o);
	t0 = mn_now_ms();
	rig_start(&g, F_MUTE, &o);
	tap_ok(g.rc == MN_BOARD_ETIMEOUT, "no answer to HELLO: ETIMEOUT (%d)", g.rc);
	tap_ok(mn_now_ms() - t0 < 800 + 1500, "within the connect timeout (%lld ms)", mn_now_ms() - t0);
	tap_ok(strstr(g.err, "no answer to HELLO") && strstr(g.err, "make -C fw-profiler flash"),
	       "message: %s", g.err);
	pthread_join(g.th, NULL);

	test_opts(&o);
	o.cancel = cancel_now;
	o.connect_timeout_ms = 60000;
	t0 = mn_now_ms();
	rig_start(&g, F_MUTE, &o);
	tap_ok(g.rc == MN_BOARD_ECANCEL && mn_now_ms() - t0 < 1000,
	       "the cancel callback stops a wait at once (%d, %lld ms)", g.rc, mn_now_ms() - t0);
	pthread_join(g.th, NULL);
}

static void test_timeouts(void)
{
	struct mn_board_opts o;
	struct mnp_profile_req small = {MNP_OP_CONV1X1, 4, 4, 4, 1, 0, 0, 0};
	struct mnp_profile_req big = {MNP_OP_CONV3X3, 64, 64, 64, 255, 0, 0, 0};
	struct mnp_run_req heavy = {64, 5, 6, 32, 10, {3, 3, 3, 3, 3, 3}, {0, 1, 2, 3, 4, 5}, 0, 0, 0};
	mn_board_opts_default(&o);
	tap_ok(mn_board_timeout_ms(&o, mn_board_profile_work(&small)) < 4000,
	       "a tiny op gets about the minimum timeout (%d ms)",
	       mn_board_timeout_ms(&o, mn_board_profile_work(&small)));
	tap_ok(mn_board_timeout_ms(&o, mn_board_profile_work(&big)) >
		       mn_board_timeout_ms(&o, mn_board_profile_work(&small)) + 10000,
	       "a big op with 255 repeats gets much longer (%d ms)",
	       mn_board_timeout_ms(&o, mn_board_profile_work(&big)));
	tap_ok(mn_board_run_work(&heavy) > 2.0 * 1e9, "a whole network's work counts both runs");
	o.timeout_scale = 3;
	tap_ok(mn_board_timeout_ms(&o, 0) == 9000, "timeout_scale multiplies");
}

/* The file names a profile writes, shared by micronas profile and the TUI. */
static void test_profile_names(void)
{
	struct mn_profile_opts o;
	char *s;
	s = mn_profile_table_name("qemu-mps2-an500");
	tap_ok(s && strcmp(s, "qemu-mps2-an500-latency.ini") == 0, "table name from the board's name (%s)", s);
	free(s);
	s = mn_profile_table_name("NUCLEO F7/x");
	tap_ok(s && strcmp(s, "NUCLEO_F7_x-latency.ini") == 0, "characters a file name should not hold become '_' (%s)",
	       s);
	free(s);
	s = mn_profile_table_name("");
	tap_ok(s && strcmp(s, "board-latency.ini") == 0, "a board without a name: board-latency.ini");
	free(s);
	mn_profile_opts_default(&o);
	o.output = "t.ini";
	s = mn_profile_partial_path(&o);
	tap_ok(s && strcmp(s, "t.ini.partial") == 0, "the partial file beside the table (%s)", s);
	free(s);
	o.partial = "/tmp/p";
	s = mn_profile_partial_path(&o);
	tap_ok(s && strcmp(s, "/tmp/p") == 0, "or where asked");
	free(s);
}

int main(void)
{
	test_profile_names();
	test_timeouts();
	test_normal();
	test_garbage();
	test_stale();
	test_drop();
	test_corrupt();
	test_silent();
	test_hangup();
	test_version();
	test_remote_error();
	test_old_firmware();
	test_mute_and_cancel();
	return tap_done();
}
