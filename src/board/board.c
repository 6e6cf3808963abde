/* The protocol client (see board.h for the behaviour). */
#include "board/board.h"
#include "util/error.h"
#include "util/clock.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "space/arch.h"

/* Sequence numbers a request may have been sent under: one per attempt. */
#define MAX_ATTEMPTS 16
/* Longest wait between two looks at the cancel callback. */
#define POLL_SLICE_MS 100

struct mn_board {
	struct mn_transport *t;
	struct mn_board_opts o;
	struct mn_board_info info;
	struct mnp_rx rx;
	uint8_t raw[MNP_MAX_ENCODED];   /* one decoded frame */
	uint8_t in[512];                /* bytes read, not yet pushed */
	size_t in_pos, in_len;
	uint16_t next_seq;
	uint8_t reply[MNP_MAX_PAYLOAD]; /* payload of the last accepted reply */
	uint16_t reply_len;
	unsigned peer_version;          /* version of a foreign-version frame */
	struct mnp_error last_error;
	struct mn_board_stats st;
};

/* What one wait for a reply ended with (besides MN_BOARD_E* codes). */
enum { W_REPLY = 1, W_ERROR, W_RESEND, W_TIMEOUT, W_VERSION };

void mn_board_opts_default(struct mn_board_opts *o)
{
	const char *env = getenv("MN_BOARD_TIMEOUT_SCALE");
	memset(o, 0, sizeof *o);
	o->connect_timeout_ms = 10000;
	o->hello_interval_ms = 500;
	o->retries = 2;
	o->min_timeout_ms = 3000;
	o->rate_per_s = 2e7;
	o->timeout_scale = 1.0;
	if (env && *env) {
		char *end;
		double v = strtod(env, &end);
		/* A bad value is ignored rather than fatal: it only widens or
		 * narrows timeouts, and the default is safe. */
		if (end != env && !*end && isfinite(v) && v > 0 && v <= 1000)
			o->timeout_scale = v;
	}
}

const char *mn_board_cmd_name(unsigned cmd)
{
	switch (cmd & 0x7Fu) {
	case MNP_CMD_HELLO: return "HELLO";
	case MNP_CMD_PROFILE_OP: return "PROFILE_OP";
	case MNP_CMD_RUN_ARCH: return "RUN_ARCH";
	case MNP_CMD_KERNEL_CHECK: return "KERNEL_CHECK";
	case MNP_CMD_MODEL_INFO: return "MODEL_INFO";
	case MNP_CMD_INPUT_CHUNK: return "INPUT_CHUNK";
	case MNP_CMD_RUN_MODEL: return "RUN_MODEL";
	}
	return cmd == MNP_CMD_ERROR ? "ERROR" : "an unknown command";
}

const char *mn_board_op_name(unsigned op)
{
	switch (op) {
	case MNP_OP_SKIP: return "skip_connect";
	case MNP_OP_CONV1X1: return "nor_conv_1x1";
	case MNP_OP_CONV3X3: return "nor_conv_3x3";
	case MNP_OP_AVGPOOL3X3: return "avg_pool_3x3";
	case MNP_OP_ADD: return "add";
	case MNP_OP_STEM: return "stem";
	case MNP_OP_REDUCTION: return "reduction";
	case MNP_OP_HEAD: return "head";
	}
	return "unknown op";
}

const char *mn_board_error_name(unsigned code)
{
	switch (code) {
	case MNP_ERR_BAD_FRAME: return "BAD_FRAME";
	case MNP_ERR_BAD_CRC: return "BAD_CRC";
	case MNP_ERR_BAD_LENGTH: return "BAD_LENGTH";
	case MNP_ERR_UNKNOWN_CMD: return "UNKNOWN_CMD";
	case MNP_ERR_UNSUPPORTED: return "UNSUPPORTED";
	case MNP_ERR_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
	case MNP_ERR_VERSION: return "VERSION";
	case MNP_ERR_OVERSIZED: return "OVERSIZED";
	case MNP_ERR_BAD_REQUEST: return "BAD_REQUEST";
	case MNP_ERR_INTERNAL: return "INTERNAL";
	case MNP_ERR_NO_MODEL: return "NO_MODEL";
	case MNP_ERR_MODEL_MISMATCH: return "MODEL_MISMATCH";
	}
	return "UNKNOWN";
}

/* ---- Work and timeouts ------------------------------------------------ */

double mn_board_profile_work(const struct mnp_profile_req *rq)
{
	double c = rq->channels, hw = (double)rq->h * rq->w, q = hw / 4.0, per;
	switch (rq->op) {
	case MNP_OP_CONV1X1: per = c * c * hw; break;
	case MNP_OP_CONV3X3: per = 9.0 * c * c * hw; break;
	case MNP_OP_AVGPOOL3X3: per = 9.0 * c * hw; break;
	case MNP_OP_ADD: per = c * hw; break;
	case MNP_OP_STEM: per = 27.0 * c * hw; break;
	case MNP_OP_REDUCTION:
		per = 9.0 * c * 2 * c * q + 9.0 * 4 * c * c * q + 2.0 * c * c * q + 8.0 * c * q;
		break;
	case MNP_OP_HEAD: per = 2.0 * c * hw + c * rq->classes; break;
	default: per = 1000.0; break; /* no-op call, unknown ops */
	}
	/* the warm-up run, the timed runs, filling the inputs */
	return per * (1.0 + rq->repeats) + 4.0 * c * hw + 1000.0;
}

double mn_board_run_work(const struct mnp_run_req *rq)
{
	/* The short form is R x R x 3; the long one names W and Cin. */
	int lw = rq->width != 0 || rq->input_channels != 0;
	int w = lw ? rq->width : rq->resolution, ic = lw ? rq->input_channels : 3;
	struct mn_net_shape s = {rq->channels, rq->cells, rq->resolution, rq->classes, ic, w};
	struct mn_arch a;
	struct mn_cost c;
	double act;
	for (int e = 0; e < MN_EDGES; e++)
		a.op[e] = rq->ops[e] < MN_OP_COUNT ? rq->ops[e] : MN_OP_NONE;
	mn_cost_arch(&a, &s, &c);
	/* Element-wise work (pools, additions, copies): at most a few dozen
	 * operations per activation element of each cell. */
	act = 40.0 * (double)rq->channels * rq->resolution * w * (rq->cells + 2.0);
	return 2.0 * ((double)c.flops + act) + 1000.0; /* warm-up + measured run */
}

int mn_board_timeout_ms(const struct mn_board_opts *o, double work)
{
	double ms = (o->min_timeout_ms + 1000.0 * work / o->rate_per_s) * o->timeout_scale;
	if (!(ms < (double)(INT_MAX / 2)))
		ms = INT_MAX / 2;
	return ms < 1 ? 1 : (int)ms;
}

/* ---- Frames ----------------------------------------------------------- */

static uint16_t take_seq(struct mn_board *b)
{
	uint16_t s = b->next_seq++;
	if (b->next_seq == MNP_SEQ_UNSOLICITED)
		b->next_seq = 0;
	return s;
}

static int send_frame(struct mn_board *b, uint8_t cmd, uint16_t seq, const uint8_t *payload,
		      uint16_t len, char *err, size_t errn)
{
	uint8_t buf[1 + MNP_MAX_ENCODED + 1];
	size_t n;
	int r;

	/* A leading 0x00 ends whatever partial frame the firmware's receiver
	 * holds (noise, a frame cut short); the codec ignores empty frames. */
	buf[0] = 0x00;
	if (mnp_frame_build(MNP_VERSION, cmd, seq, payload, len, buf + 1, sizeof buf - 1, &n) != 0) {
		snprintf(err, errn, "%s: cannot build a %s frame of %u bytes (a micronas bug)",
			 b->t->name, mn_board_cmd_name(cmd), len);
		return MN_BOARD_EPROTO;
	}
	r = mn_transport_write(b->t, buf, n + 1, 2000, err, errn);
	if (r != 0) {
		struct mn_error why;
		snprintf(why.msg, sizeof why.msg, "%s", err);
		snprintf(err, errn, "%s: cannot send %s (%s): check the cable or restart the "
			 "emulator, then run again", b->t->name, mn_board_cmd_name(cmd), why.msg);
	}
	if (r == MN_IO_GONE)
		return MN_BOARD_EGONE;
	if (r != 0)
		return MN_BOARD_EIO;
	return MN_BOARD_OK;
}

static int seq_in(uint16_t seq, const uint16_t *seqs, int n)
{
	for (int i = 0; i < n; i++)
		if (seqs[i] == seq)
			return 1;
	return 0;
}

/* Waits until deadline for the reply to cmd under one of seqs. */
static int wait_reply(struct mn_board *b, uint8_t cmd, const uint16_t *seqs, int nseq,
		      long long deadline, char *err, size_t errn)
{
	for (;;) {
		while (b->in_pos < b->in_len) {
			struct mnp_frame f;
			struct mnp_error e;
			size_t n = 0;
			int r = mnp_rx_push(&b->rx, b->in[b->in_pos++], b->raw, sizeof b->raw, &n);
			if (r < 0) {
				b->st.garbage++;
				continue;
			}
			if (r != MNP_RX_FRAME)
				continue;
			r = mnp_frame_parse(b->raw, n, &f);
			if (r == MNP_ERR_BAD_CRC) {
				b->st.crc_errors++;
				/* Probably our reply, damaged: ask again now
				 * rather than waiting out the timeout. */
				if (seq_in(f.seq, seqs, nseq))
					return W_RESEND;
				continue;
			}
			if (r != MNP_OK) {
				b->st.garbage++;
				continue;
			}
			if (f.version != MNP_VERSION) {
				b->peer_version = f.version;
				return W_VERSION;
			}
			if (f.cmd == MNP_CMD_ERROR) {
				if (mnp_dec_error(f.payload, f.len, &e) != 0) {
					b->st.garbage++;
					continue;
				}
				if (f.seq == MNP_SEQ_UNSOLICITED) {
					/* About bytes the board could not read:
					 * noise, or our request; the timeout
					 * decides which. */
					b->st.unsolicited++;
					continue;
				}
				if (!seq_in(f.seq, seqs, nseq)) {
					b->st.stale++;
					continue;
				}
				b->last_error = e;
				if (e.code == MNP_ERR_VERSION) {
					b->peer_version = e.detail2;
					return W_VERSION;
				}
				if (e.code == MNP_ERR_BAD_CRC || e.code == MNP_ERR_BAD_FRAME ||
				    e.code == MNP_ERR_OVERSIZED)
					return W_RESEND; /* our request arrived damaged */
				return W_ERROR;
			}
			if (f.cmd == (cmd | MNP_CMD_REPLY) && seq_in(f.seq, seqs, nseq)) {
				memcpy(b->reply, f.payload, f.len);
				b->reply_len = f.len;
				return W_REPLY;
			}
			b->st.stale++;
		}
		if (b->o.cancel && b->o.cancel(b->o.cancel_arg)) {
			snprintf(err, errn, "%s: interrupted while waiting for the %s reply", b->t->name,
				 mn_board_cmd_name(cmd));
			return MN_BOARD_ECANCEL;
		}
		long long left = deadline - mn_now_ms();
		if (left <= 0)
			return W_TIMEOUT;
		ssize_t got = mn_transport_read(b->t, b->in, sizeof b->in,
						(int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS),
						err, errn);
		if (got > 0) {
			b->in_pos = 0;
			b->in_len = (size_t)got;
		} else if (got == MN_IO_GONE) {
			struct mn_error why;
			snprintf(why.msg, sizeof why.msg, "%s", err);
			snprintf(err, errn,
				 "%s: the board went away while waiting for the %s reply (%s): "
				 "check the cable or restart the emulator, then run again",
				 b->t->name, mn_board_cmd_name(cmd), why.msg);
			return MN_BOARD_EGONE;
		} else if (got != MN_IO_TIMEOUT) {
			return MN_BOARD_EIO;
		}
	}
}

static void version_message(const struct mn_board *b, char *err, size_t errn)
{
	snprintf(err, errn,
		 "%s: the board's firmware speaks protocol version %u, this micronas speaks "
		 "version %u: reflash it with 'make -C fw-profiler flash' (for QEMU rebuild it "
		 "with 'make -C fw-profiler')",
		 b->t->name, b->peer_version, (unsigned)MNP_VERSION);
}

/* 1 when the board runs an image micronas deploy built (its firmware name
 * ends in "-model", fw-profiler/Makefile): it leaves out the synthetic
 * weights, so it answers the profiler's commands UNSUPPORTED whatever the
 * network, and "use a smaller network" would be the wrong fix. */
static int model_image_refuses(const struct mn_board *b, uint8_t cmd)
{
	const char *v = b->info.fw_version, *sfx = "-model";
	size_t n = strlen(v), k = strlen(sfx);
	if (cmd != MNP_CMD_PROFILE_OP && cmd != MNP_CMD_RUN_ARCH && cmd != MNP_CMD_KERNEL_CHECK)
		return 0;
	return b->last_error.detail == 0 && b->last_error.detail2 == 0 && n >= k &&
	       !strcmp(v + n - k, sfx);
}

static void remote_message(const struct mn_board *b, uint8_t cmd, char *err, size_t errn)
{
	const struct mnp_error *e = &b->last_error;
	const char *port = b->t->name, *what = mn_board_cmd_name(cmd);

	switch (e->code) {
	case MNP_ERR_OUT_OF_MEMORY:
		snprintf(err, errn,
			 "%s: %s needs %u bytes of activation memory, the board's arena has %u "
			 "(use a smaller network: fewer channels or a lower resolution)",
			 port, what, (unsigned)e->detail, (unsigned)e->detail2);
		break;
	case MNP_ERR_UNSUPPORTED:
		if (model_image_refuses(b, cmd)) {
			snprintf(err, errn,
				 "%s: the board runs a deployed model's image (firmware %s), which "
				 "answers only validate --weights, not %s: for profile and validate "
				 "without --weights start 'micronas emulate' without --firmware, or "
				 "flash the profiler firmware with 'make -C fw-profiler flash'",
				 port, b->info.fw_version, what);
			break;
		}
		snprintf(err, errn,
			 "%s: the firmware does not support this %s (shape or limits out of its "
			 "range, details %u/%u; use a smaller network)",
			 port, what, (unsigned)e->detail, (unsigned)e->detail2);
		break;
	case MNP_ERR_UNKNOWN_CMD:
		snprintf(err, errn,
			 "%s: the firmware does not know %s (reflash it with 'make -C fw-profiler "
			 "flash')", port, what);
		break;
	case MNP_ERR_BAD_REQUEST:
		snprintf(err, errn,
			 "%s: the firmware rejected the %s as inconsistent (a micronas bug: please "
			 "report it)", port, what);
		break;
	case MNP_ERR_BAD_LENGTH:
		/* A firmware older than RUN_ARCH's long form takes 24 bytes only. */
		if (cmd == MNP_CMD_RUN_ARCH && e->detail == MNP_RUN_REQ_LEN &&
		    e->detail2 == MNP_RUN_REQ_LONG_LEN) {
			snprintf(err, errn,
				 "%s: the firmware predates RUN_ARCH's %u-byte form (non-square or "
				 "non-RGB input): rebuild and reflash it with 'make -C fw-profiler "
				 "flash' (for QEMU rebuild it with 'make -C fw-profiler')",
				 port, MNP_RUN_REQ_LONG_LEN);
			break;
		}
		snprintf(err, errn,
			 "%s: the board kept receiving the %s damaged (%s; check the cable and that "
			 "nothing else uses the port)", port, what, mn_board_error_name(e->code));
		break;
	case MNP_ERR_BAD_CRC:
	case MNP_ERR_BAD_FRAME:
	case MNP_ERR_OVERSIZED:
		snprintf(err, errn,
			 "%s: the board kept receiving the %s damaged (%s; check the cable and that "
			 "nothing else uses the port)", port, what, mn_board_error_name(e->code));
		break;
	default:
		snprintf(err, errn,
			 "%s: the firmware answered the %s with error %s (%u, details %u/%u; reset "
			 "the board and retry, report it if it persists)",
			 port, what, mn_board_error_name(e->code), (unsigned)e->code,
			 (unsigned)e->detail, (unsigned)e->detail2);
	}
}

/* Sends a request and waits for its reply, with up to `attempts` sends of
 * timeout_ms each.  On MN_BOARD_OK the payload is in b->reply. */
static int request(struct mn_board *b, uint8_t cmd, const uint8_t *payload, uint16_t len,
		   int timeout_ms, int attempts, char *err, size_t errn)
{
	uint16_t seqs[MAX_ATTEMPTS];
	int nseq = 0, last = W_TIMEOUT;

	if (attempts > MAX_ATTEMPTS)
		attempts = MAX_ATTEMPTS;
	memset(&b->last_error, 0, sizeof b->last_error);
	for (int k = 0; k < attempts; k++) {
		uint16_t seq = take_seq(b);
		int r;
		if (k > 0)
			b->st.resends++;
		seqs[nseq++] = seq;
		r = send_frame(b, cmd, seq, payload, len, err, errn);
		if (r != MN_BOARD_OK)
			return r;
		r = wait_reply(b, cmd, seqs, nseq, mn_now_ms() + timeout_ms, err, errn);
		switch (r) {
		case W_REPLY:
			b->st.requests++;
			return MN_BOARD_OK;
		case W_ERROR:
			remote_message(b, cmd, err, errn);
			return MN_BOARD_EREMOTE;
		case W_VERSION:
			version_message(b, err, errn);
			return MN_BOARD_EVERSION;
		case W_RESEND:
			last = W_RESEND;
			break;
		case W_TIMEOUT:
			b->st.timeouts++;
			last = W_TIMEOUT;
			break;
		default:
			return r;
		}
	}
	if (last == W_RESEND && b->last_error.code) {
		remote_message(b, cmd, err, errn);
		return MN_BOARD_EREMOTE;
	}
	if (last == W_RESEND)
		snprintf(err, errn,
			 "%s: every %s reply arrived damaged (%u CRC errors; check the cable, the "
			 "baud rate and that nothing else uses the port)",
			 b->t->name, mn_board_cmd_name(cmd), b->st.crc_errors);
	else
		snprintf(err, errn,
			 "%s: no reply to %s after %d attempt%s of %.1f s (is the micronas firmware "
			 "running? reset the board or restart the emulator; a slow host may need "
			 "MN_BOARD_TIMEOUT_SCALE=4)",
			 b->t->name, mn_board_cmd_name(cmd), attempts, attempts == 1 ? "" : "s",
			 timeout_ms / 1000.0);
	return MN_BOARD_ETIMEOUT;
}

/* ---- Connection ------------------------------------------------------- */

static int do_hello(struct mn_board *b, int interval_ms, int attempts, char *err, size_t errn)
{
	struct mnp_hello_reply h;
	int r = request(b, MNP_CMD_HELLO, NULL, 0, interval_ms, attempts, err, errn);

	/* A timeout is reported by the caller, which knows the whole budget. */
	if (r != MN_BOARD_OK)
		return r;
	if (mnp_dec_hello_reply(b->reply, b->reply_len, &h) != 0) {
		snprintf(err, errn, "%s: HELLO reply of %u bytes, expected %u (reflash the firmware "
			 "with 'make -C fw-profiler flash')", b->t->name, b->reply_len,
			 MNP_HELLO_REPLY_LEN);
		return MN_BOARD_EPROTO;
	}
	if (h.proto_version != MNP_VERSION) {
		b->peer_version = h.proto_version;
		version_message(b, err, errn);
		return MN_BOARD_EVERSION;
	}
	if (h.count_hz == 0) {
		snprintf(err, errn, "%s: the board reports a timer of 0 Hz (a firmware bug: "
			 "reflash it with 'make -C fw-profiler flash')", b->t->name);
		return MN_BOARD_EPROTO;
	}
	b->info.hello = h;
	memcpy(b->info.board, h.board, 16);
	b->info.board[16] = 0;
	memcpy(b->info.fw_version, h.fw_version, 16);
	b->info.fw_version[16] = 0;
	return MN_BOARD_OK;
}

int mn_board_attach(struct mn_board **bp, struct mn_transport *t, const struct mn_board_opts *o,
		    char *err, size_t errn)
{
	struct mn_board *b;
	int interval, attempts, r;

	*bp = NULL;
	b = calloc(1, sizeof *b);
	if (!b) {
		snprintf(err, errn, "%s: out of memory", t->name);
		mn_transport_close(t);
		return MN_BOARD_EIO;
	}
	b->t = t;
	if (o)
		b->o = *o;
	else
		mn_board_opts_default(&b->o);
	if (b->o.retries < 0)
		b->o.retries = 0;
	if (b->o.retries > MAX_ATTEMPTS - 1)
		b->o.retries = MAX_ATTEMPTS - 1;
	mnp_rx_init(&b->rx);
	/* Start where another run (or a stale reply still on the line) is
	 * unlikely to be: replies to it are then recognised as not ours. */
	b->next_seq = (uint16_t)(((unsigned)getpid() * 2654435761u ^ (unsigned)mn_now_ms()) & 0x7FFFu);
	mn_transport_discard_input(t);

	interval = (int)(b->o.hello_interval_ms * b->o.timeout_scale);
	if (interval < 50)
		interval = 50;
	attempts = (int)(b->o.connect_timeout_ms * b->o.timeout_scale) / interval;
	if (attempts < 1)
		attempts = 1;
	/* The handshake has its own attempt budget (the board may still be
	 * booting); later requests use opts.retries. */
	{
		int done = 0;
		r = MN_BOARD_ETIMEOUT;
		while (done < attempts) {
			int chunk = attempts - done < MAX_ATTEMPTS ? attempts - done : MAX_ATTEMPTS;
			r = do_hello(b, interval, chunk, err, errn);
			done += chunk;
			if (r != MN_BOARD_ETIMEOUT)
				break;
		}
		if (r == MN_BOARD_ETIMEOUT) {
			char extra[96] = "";
			if (b->st.garbage + b->st.crc_errors > 0)
				snprintf(extra, sizeof extra, "; %u garbled frames came back: wrong baud "
					 "rate or not the micronas firmware",
					 b->st.garbage + b->st.crc_errors);
			snprintf(err, errn,
				 "%s: no answer to HELLO within %.1f s%s (flash the firmware with 'make "
				 "-C fw-profiler flash' and reset the board, or check the port name)",
				 t->name, (double)interval * attempts / 1000.0, extra);
		}
	}
	if (r != MN_BOARD_OK) {
		mn_board_close(b);
		return r;
	}
	*bp = b;
	return MN_BOARD_OK;
}

int mn_board_connect(struct mn_board **bp, const char *port, const struct mn_board_opts *o,
		     char *err, size_t errn)
{
	struct mn_transport *t;
	*bp = NULL;
	if (mn_transport_open(&t, port, err, errn) != 0)
		return MN_BOARD_EIO;
	return mn_board_attach(bp, t, o, err, errn);
}

void mn_board_close(struct mn_board *b)
{
	if (!b)
		return;
	mn_transport_close(b->t);
	free(b);
}

const struct mn_board_info *mn_board_info(const struct mn_board *b)
{
	return &b->info;
}

const char *mn_board_port(const struct mn_board *b)
{
	return b->t->name;
}

struct mn_transport *mn_board_transport(struct mn_board *b)
{
	return b->t;
}

double mn_board_units_to_us(const struct mn_board *b, uint64_t units)
{
	return (double)units * 1e6 / (double)b->info.hello.count_hz;
}

int mn_board_is_emulated(const struct mn_board *b)
{
	return b->info.hello.timing_kind == MNP_TIMING_INSTRUCTIONS;
}

const struct mnp_error *mn_board_last_error(const struct mn_board *b)
{
	return &b->last_error;
}

void mn_board_get_stats(const struct mn_board *b, struct mn_board_stats *s)
{
	*s = b->st;
}

/* ---- Requests ----------------------------------------------------------- */

int mn_board_hello(struct mn_board *b, char *err, size_t errn)
{
	int t = mn_board_timeout_ms(&b->o, 0);
	int r = request(b, MNP_CMD_HELLO, NULL, 0, t, 1 + b->o.retries, err, errn);
	struct mnp_hello_reply h;
	if (r != MN_BOARD_OK)
		return r;
	if (mnp_dec_hello_reply(b->reply, b->reply_len, &h) != 0) {
		snprintf(err, errn, "%s: HELLO reply of %u bytes, expected %u", b->t->name,
			 b->reply_len, MNP_HELLO_REPLY_LEN);
		return MN_BOARD_EPROTO;
	}
	return MN_BOARD_OK;
}

static int bad_reply(struct mn_board *b, uint8_t cmd, unsigned want, char *err, size_t errn)
{
	snprintf(err, errn,
		 "%s: %s reply of %u bytes, expected %u (firmware and micronas disagree: reflash "
		 "it with 'make -C fw-profiler flash')",
		 b->t->name, mn_board_cmd_name(cmd), b->reply_len, want);
	return MN_BOARD_EPROTO;
}

int mn_board_profile_op(struct mn_board *b, const struct mnp_profile_req *rq,
			struct mnp_profile_reply *rp, char *err, size_t errn)
{
	uint8_t p[MNP_PROFILE_REQ_LEN];
	int r, t = mn_board_timeout_ms(&b->o, mn_board_profile_work(rq));
	mnp_enc_profile_req(rq, p);
	r = request(b, MNP_CMD_PROFILE_OP, p, sizeof p, t, 1 + b->o.retries, err, errn);
	if (r != MN_BOARD_OK)
		return r;
	if (mnp_dec_profile_reply(b->reply, b->reply_len, rp) != 0)
		return bad_reply(b, MNP_CMD_PROFILE_OP, MNP_PROFILE_REPLY_LEN, err, errn);
	if (rp->op != rq->op) {
		snprintf(err, errn, "%s: PROFILE_OP reply is for op %u, asked for %u (reflash the "
			 "firmware with 'make -C fw-profiler flash')", b->t->name, rp->op, rq->op);
		return MN_BOARD_EPROTO;
	}
	/* A stem names the input channels it ran with; a firmware older than
	 * the field answers 0 there and ran 3 (RGB) whatever was asked. */
	if (rq->op == MNP_OP_STEM && rq->in_channels != 0 &&
	    rp->in_channels != rq->in_channels) {
		if (rp->in_channels == 0)
			snprintf(err, errn, "%s: the firmware predates PROFILE_OP's stem input "
				 "channels (it runs an RGB stem only): rebuild and reflash it with "
				 "'make -C fw-profiler flash'", b->t->name);
		else
			snprintf(err, errn, "%s: PROFILE_OP reply's stem ran %u input channels, asked "
				 "for %u (reflash the firmware with 'make -C fw-profiler flash')",
				 b->t->name, rp->in_channels, rq->in_channels);
		return MN_BOARD_EPROTO;
	}
	return MN_BOARD_OK;
}

int mn_board_run_arch(struct mn_board *b, const struct mnp_run_req *rq,
		      struct mnp_run_reply *rp, char *err, size_t errn)
{
	uint8_t p[MNP_RUN_REQ_LONG_LEN];
	int r, t = mn_board_timeout_ms(&b->o, mn_board_run_work(rq));
	uint16_t n = (uint16_t)mnp_enc_run_req(rq, p); /* 24 or 28 bytes */
	r = request(b, MNP_CMD_RUN_ARCH, p, n, t, 1 + b->o.retries, err, errn);
	if (r != MN_BOARD_OK)
		return r;
	if (mnp_dec_run_reply(b->reply, b->reply_len, rp) != 0)
		return bad_reply(b, MNP_CMD_RUN_ARCH, MNP_RUN_REPLY_LEN, err, errn);
	return MN_BOARD_OK;
}

int mn_board_kernel_check(struct mn_board *b, const struct mnp_kcheck_req *rq,
			  struct mnp_kcheck_reply *rp, char *err, size_t errn)
{
	uint8_t p[MNP_KCHECK_REQ_LEN];
	struct mnp_profile_req w = {rq->op, rq->channels, rq->h, rq->w, 0, rq->classes, rq->seed,
				    rq->in_channels};
	int r, t = mn_board_timeout_ms(&b->o, mn_board_profile_work(&w));
	mnp_enc_kcheck_req(rq, p);
	r = request(b, MNP_CMD_KERNEL_CHECK, p, sizeof p, t, 1 + b->o.retries, err, errn);
	if (r != MN_BOARD_OK)
		return r;
	if (mnp_dec_kcheck_reply(b->reply, b->reply_len, rp) != 0)
		return bad_reply(b, MNP_CMD_KERNEL_CHECK, MNP_KCHECK_REPLY_LEN, err, errn);
	return MN_BOARD_OK;
}

/* ---- The deployed model ------------------------------------------------- */

int mn_board_model_info(struct mn_board *b, struct mnp_model_info *m, char *err, size_t errn)
{
	int r = request(b, MNP_CMD_MODEL_INFO, NULL, 0, mn_board_timeout_ms(&b->o, 1e6),
			1 + b->o.retries, err, errn);
	if (r != MN_BOARD_OK)
		return r;
	if (mnp_dec_model_info(b->reply, b->reply_len, m) != 0)
		return bad_reply(b, MNP_CMD_MODEL_INFO, MNP_MODEL_INFO_LEN, err, errn);
	return MN_BOARD_OK;
}

int mn_board_upload_input(struct mn_board *b, const uint8_t *img, uint32_t n, char *err,
			  size_t errn)
{
	int t = mn_board_timeout_ms(&b->o, 0);
	for (uint32_t off = 0; off < n;) {
		uint8_t p[MNP_CHUNK_HDR_LEN + MNP_MAX_CHUNK];
		uint32_t len = n - off < MNP_MAX_CHUNK ? n - off : MNP_MAX_CHUNK;
		struct mnp_chunk_reply cr;
		mnp_put_u32(p, off);
		memcpy(p + MNP_CHUNK_HDR_LEN, img + off, len);
		/* A chunk names its offset, so sending it again is harmless. */
		int r = request(b, MNP_CMD_INPUT_CHUNK, p, (uint16_t)(MNP_CHUNK_HDR_LEN + len), t,
				1 + b->o.retries, err, errn);
		if (r != MN_BOARD_OK)
			return r;
		if (mnp_dec_chunk_reply(b->reply, b->reply_len, &cr) != 0)
			return bad_reply(b, MNP_CMD_INPUT_CHUNK, MNP_CHUNK_REPLY_LEN, err, errn);
		if (cr.offset != off || cr.length != len) {
			snprintf(err, errn, "%s: INPUT_CHUNK reply stored %u bytes at %u, sent %u at %u "
				 "(firmware and micronas disagree: flash the image micronas deploy wrote)",
				 b->t->name, (unsigned)cr.length, (unsigned)cr.offset, (unsigned)len,
				 (unsigned)off);
			return MN_BOARD_EPROTO;
		}
		off += len;
	}
	return MN_BOARD_OK;
}

int mn_board_run_model(struct mn_board *b, const struct mnp_run_model_req *rq, double work,
		       struct mnp_run_model_reply *rp, char *err, size_t errn)
{
	uint8_t p[MNP_RUN_MODEL_REQ_LEN];
	int r, t = mn_board_timeout_ms(&b->o, work);
	mnp_enc_run_model_req(rq, p);
	r = request(b, MNP_CMD_RUN_MODEL, p, sizeof p, t, 1 + b->o.retries, err, errn);
	if (r != MN_BOARD_OK)
		return r;
	if (mnp_dec_run_model_reply(b->reply, b->reply_len, rp) != 0) {
		snprintf(err, errn, "%s: malformed RUN_MODEL reply (%u bytes; its logit count, "
			 "classes or argmax disagree: flash the image micronas deploy wrote)",
			 b->t->name, b->reply_len);
		return MN_BOARD_EPROTO;
	}
	return MN_BOARD_OK;
}
