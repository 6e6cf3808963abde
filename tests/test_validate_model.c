/* validate --weights's protocol side against a fake model board: a thread
 * at the other end of a socketpair that answers MODEL_INFO, INPUT_CHUNK and
 * RUN_MODEL with the host's own int8 reference (fw-profiler/qnet.c), or
 * misbehaves on purpose: no model, another model, a malformed RUN_MODEL
 * reply, one logit off.  Also the new messages' codec round trips. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "board/board.h"
#include "export/calibrate.h"
#include "export/fnet.h"
#include "export/validate_model.h"
#include "protocol.h"
#include "rand_weights.h"
#include "tap.h"
#include "util/rng.h"
#include "data/dataset_source.h"

#define ARCH "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|"

enum fault { F_NONE, F_NO_MODEL, F_OTHER_MODEL, F_MALFORMED, F_OFF_BY_ONE };

struct peer {
	int fd;
	enum fault fault;
	const char *board; /* what HELLO names */
	const struct mn_qmodel *q;
	int8_t img[3 * 32 * 32];
	int runs;
};

static void put(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void frame(int fd, uint8_t cmd, uint16_t seq, const uint8_t *p, size_t len)
{
	uint8_t buf[MNP_MAX_ENCODED + 1];
	size_t n;
	if (mnp_frame_build(MNP_VERSION, cmd, seq, p, (uint16_t)len, buf, sizeof buf, &n) == 0)
		put(fd, buf, n);
}

static void error(int fd, const struct mnp_frame *f, uint16_t code, uint32_t d, uint32_t d2)
{
	struct mnp_error e = {code, f->cmd, d, d2};
	uint8_t p[MNP_ERROR_LEN];
	frame(fd, MNP_CMD_ERROR, f->seq, p, mnp_enc_error(&e, p));
}

static void reply(struct peer *pr, const struct mnp_frame *f)
{
	uint8_t p[MNP_MAX_PAYLOAD];
	size_t len = 0;
	const struct mnq_net *net = &pr->q->net;
	if (f->cmd == MNP_CMD_HELLO) {
		struct mnp_hello_reply h;
		memset(&h, 0, sizeof h);
		h.proto_version = MNP_VERSION;
		h.timing_kind = MNP_TIMING_CYCLES;
		h.flags = MNP_FLAG_MODEL;
		snprintf(h.board, sizeof h.board, "%s", pr->board);
		h.count_hz = 1000000;
		h.max_payload = MNP_MAX_PAYLOAD;
		len = mnp_enc_hello_reply(&h, p);
	} else if (pr->fault == F_NO_MODEL) {
		error(pr->fd, f, MNP_ERR_NO_MODEL, f->cmd, 0);
		return;
	} else if (f->cmd == MNP_CMD_MODEL_INFO) {
		struct mnp_model_info m;
		memset(&m, 0, sizeof m);
		m.fingerprint = mnq_fingerprint(net, &m.model_bytes) ^ (pr->fault == F_OTHER_MODEL);
		m.channels = net->channels, m.cells = net->cells;
		m.resolution = net->height, m.width = net->width, m.classes = net->classes;
		len = mnp_enc_model_info(&m, p);
	} else if (f->cmd == MNP_CMD_INPUT_CHUNK) {
		uint32_t off = mnp_get_u32(f->payload), n = f->len - 4u;
		if (off + n > sizeof pr->img) {
			error(pr->fd, f, MNP_ERR_BAD_REQUEST, off + n, sizeof pr->img);
			return;
		}
		memcpy(pr->img + off, f->payload + 4, n);
		struct mnp_chunk_reply r = {off, n};
		len = mnp_enc_chunk_reply(&r, p);
	} else if (f->cmd == MNP_CMD_RUN_MODEL) {
		struct mnp_run_model_reply r;
		int32_t lg[10];
		uint8_t arena[64 * 1024];
		memset(&r, 0, sizeof r);
		if (mnq_run(net, pr->img, lg, arena, sizeof arena) != 0)
			return;
		pr->runs++;
		if (pr->fault == F_OFF_BY_ONE && pr->runs == 2)
			lg[3]++;
		uint32_t crc = 0;
		for (int k = 0; k < net->classes; k++) {
			uint8_t le[4];
			mnp_put_u32(le, (uint32_t)lg[k]);
			crc = mnp_crc32(crc, le, 4);
			r.logits[k] = lg[k];
			if (lg[k] > lg[r.argmax])
				r.argmax = (uint16_t)k;
		}
		r.cycles = 5000 + (uint64_t)pr->runs;
		r.logits_crc = crc;
		r.classes = net->classes;
		r.n_logits = net->classes;
		r.peak_bytes = pr->q->arena_bytes;
		len = mnp_enc_run_model_reply(&r, p);
		if (pr->fault == F_MALFORMED)
			len -= 4; /* one logit short of what n_logits says */
	} else {
		error(pr->fd, f, MNP_ERR_UNKNOWN_CMD, f->cmd, 0);
		return;
	}
	frame(pr->fd, f->cmd | MNP_CMD_REPLY, f->seq, p, len);
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
			if (mnp_rx_push(&rx, buf[i], raw, sizeof raw, &rn) == MNP_RX_FRAME &&
			    mnp_frame_parse(raw, rn, &f) == MNP_OK)
				reply(pr, &f);
		}
	}
	close(pr->fd);
	return NULL;
}

/* Runs validation against a peer naming itself board, with that fault;
 * returns its code. */
static int run_board(const char *board, const struct mn_qmodel *q, const struct mn_fnet *f,
		     const struct mn_dataset *d, enum fault fault, struct mn_model_validation *v,
		     char *err, size_t errn)
{
	int sv[2], rc;
	pthread_t th;
	struct peer pr;
	struct mn_transport *t;
	struct mn_board *b;
	struct mn_board_opts o;
	memset(&pr, 0, sizeof pr);
	mn_board_opts_default(&o);
	o.connect_timeout_ms = 2000;
	o.min_timeout_ms = 2000;
	o.retries = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -999;
	pr.fd = sv[1], pr.fault = fault, pr.q = q, pr.board = board;
	if (pthread_create(&th, NULL, peer_main, &pr) != 0)
		return -999;
	if (mn_transport_from_fd(&t, sv[0], "fake", err, errn) != 0 ||
	    mn_board_attach(&b, t, &o, err, errn) != MN_BOARD_OK) {
		pthread_join(th, NULL);
		return -998;
	}
	rc = mn_model_validate(b, q, f, d, 4, 6, v, err, errn);
	mn_board_close(b);
	pthread_join(th, NULL);
	return rc;
}

static int run(const struct mn_qmodel *q, const struct mn_fnet *f, const struct mn_dataset *d,
	       enum fault fault, struct mn_model_validation *v, char *err, size_t errn)
{
	return run_board("nucleo-f746zg", q, f, d, fault, v, err, errn);
}

static void codec(void)
{
	struct mnp_model_info m = {0xDEADBEEF, 1234, 3, 8, 1, 32, 10, {3, 1, 2, 4, 1, 3}, 32768, 3072, MNP_MAX_CHUNK, 32}, m2;
	uint8_t p[MNP_MAX_PAYLOAD];
	tap_ok(mnp_enc_model_info(&m, p) == MNP_MODEL_INFO_LEN &&
		       mnp_dec_model_info(p, MNP_MODEL_INFO_LEN, &m2) == 0 &&
		       m2.fingerprint == m.fingerprint && m2.classes == 10 && m2.ops[5] == 3 &&
		       m2.input_bytes == 3072 && m2.max_chunk == MNP_MAX_CHUNK && m2.width == 32,
	       "MODEL_INFO reply round trip (square: the 36-byte form, width = R)");
	/* 49x10 grayscale (keyword spotting): the 40-byte form carries the width */
	m.input_channels = 1, m.resolution = 49, m.width = 10, m.input_bytes = 490;
	size_t ln = mnp_enc_model_info(&m, p);
	tap_ok(ln == MNP_MODEL_INFO_LONG_LEN && mnp_dec_model_info(p, ln, &m2) == 0 &&
		       m2.resolution == 49 && m2.width == 10 && m2.input_channels == 1 &&
		       m2.input_bytes == 490 && m2.max_chunk == MNP_MAX_CHUNK,
	       "MODEL_INFO reply round trip (49x10x1: the 40-byte form)");
	tap_ok(mnp_dec_model_info(p, 37, &m2) != 0 && mnp_dec_model_info(p, 35, &m2) != 0,
	       "MODEL_INFO replies of other lengths are refused");
	struct mnp_run_model_reply r, r2;
	memset(&r, 0, sizeof r);
	r.cycles = 1ull << 40, r.logits_crc = 7, r.classes = 100, r.argmax = 99;
	r.n_logits = MNP_MAX_REPLY_LOGITS;
	for (int k = 0; k < (int)MNP_MAX_REPLY_LOGITS; k++)
		r.logits[k] = -k * 1000;
	size_t n = mnp_enc_run_model_reply(&r, p);
	tap_ok(n == MNP_MAX_PAYLOAD && mnp_dec_run_model_reply(p, n, &r2) == 0 &&
		       r2.cycles == r.cycles && r2.argmax == 99 && r2.logits[57] == -57000,
	       "RUN_MODEL reply of 100 classes carries the first %u logits in one frame (%zu bytes)",
	       MNP_MAX_REPLY_LOGITS, n);
	tap_ok(mnp_dec_run_model_reply(p, n - 4, &r2) != 0, "a RUN_MODEL reply one logit short is refused");
	r.argmax = 100;
	n = mnp_enc_run_model_reply(&r, p);
	tap_ok(mnp_dec_run_model_reply(p, n, &r2) != 0, "a RUN_MODEL reply whose argmax is not a class is refused");
}

int main(void)
{
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mn_net_shape s = {8, 1, 32, 10, 3, 0};
	char err[1024] = "";
	struct mn_rng rng;
	codec();
	mn_arch_parse(ARCH, &a, &pe);
	mn_rng_seed(&rng, 5);
	struct rand_weights w;
	struct mn_fnet f;
	struct mn_dataset d;
	struct mn_qmodel q;
	memset(&q, 0, sizeof q);
	int ok = rand_weights_make(&w, &a, &s, &rng) == 0 &&
		 rand_weights_bind(&w, NULL, &a, &s, &f, err, sizeof err) == 0;
	ok = ok && mn_dataset_synthetic(&d, 12, 3, err, sizeof err) == 0 &&
	     mn_calibrate(&q, &f, &d, 4, 1, err, sizeof err) == 0;
	tap_ok(ok, "random weights bound and calibrated (%s)", err);
	if (!ok)
		return tap_done();

	struct mn_model_validation v;
	int rc = run(&q, &f, &d, F_NONE, &v, err, sizeof err);
	tap_ok(rc == 0 && v.images == 6 && v.exact == 6 && v.agree_float >= 0 &&
		       v.peak_bytes == q.arena_bytes && v.measured_us > 0,
	       "a board carrying the model: 6/6 images exact, peak %u bytes, %.0f us (rc %d: %s)",
	       v.peak_bytes, v.measured_us, rc, rc ? err : "");
	rc = run(&q, &f, &d, F_OFF_BY_ONE, &v, err, sizeof err);
	tap_ok(rc == 0 && v.images == 6 && v.exact == 5,
	       "one logit off by one on one image: 5/6 exact (rc %d, exact %d)", rc, v.exact);
	rc = run(&q, &f, &d, F_NO_MODEL, &v, err, sizeof err);
	tap_ok(rc == MN_VALIDATE_NO_MODEL && strstr(err, "carries no deployed model") &&
		       strstr(err, "firmware/nucleo-f746zg/fw.bin") && !strchr(err, '\n'),
	       "the profiler firmware (NO_MODEL): refused in one line naming the image (%s)", err);
	/* A NUCLEO-F446RE's images are its own pair's, not the F746ZG's. */
	rc = run_board("nucleo-f446re", &q, &f, &d, F_NO_MODEL, &v, err, sizeof err);
	tap_ok(rc == MN_VALIDATE_NO_MODEL && strstr(err, "firmware/nucleo-f446re/fw.bin") &&
		       strstr(err, "firmware/qemu-mps2-an386/fw.elf") && !strstr(err, "f746zg") &&
		       !strstr(err, "an500"),
	       "the profiler firmware on a NUCLEO-F446RE names its images (%s)", err);
	rc = run(&q, &f, &d, F_OTHER_MODEL, &v, err, sizeof err);
	tap_ok(rc == MN_VALIDATE_OTHER_MODEL && strstr(err, "carries another model") &&
		       strstr(err, "fw.bin") && v.images == 0,
	       "another model's fingerprint: refused before any image (%s)", err);
	rc = run(&q, &f, &d, F_MALFORMED, &v, err, sizeof err);
	tap_ok(rc == MN_BOARD_EPROTO && strstr(err, "malformed RUN_MODEL reply"),
	       "a RUN_MODEL reply one logit short: a protocol error naming it (%s)", err);
	mn_qmodel_free(&q);
	mn_dataset_free(&d);
	mn_fnet_free(&f);
	rand_weights_free(&w);
	return tap_done();
}
