/* The protocol client: talks to the micronas firmware (fw-profiler/, the
 * protocol in fw-profiler/PROTOCOL.md and protocol.h) over a transport.
 *
 * connect = open the port + HELLO handshake with a version check.  Every
 * request carries a fresh sequence number; a reply is taken only when its
 * sequence number is one this request sent (so replies that arrive late to
 * an earlier request, or to another program's, are ignored).  Each request
 * has a timeout scaled with its work (QEMU is much slower than the board);
 * on a timeout, a CRC error in the reply, or an ERROR frame saying the
 * request arrived corrupted, it is sent again, at most opts.retries times.
 * Every frame sent starts with 0x00 so the firmware's receiver drops any
 * partial frame before it; received garbage is skipped up to the next
 * 0x00.  A port that goes away (EOF, EIO, hangup: board unplugged, QEMU
 * killed) ends the request at once with MN_BOARD_EGONE.
 *
 * Errors: every function returning an MN_BOARD_E* code fills err with one
 * line naming the port, the problem and the fix. */
#ifndef MN_BOARD_H
#define MN_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "space/cost.h"
#include "protocol.h"
#include "board/transport.h"

enum mn_board_status {
	MN_BOARD_OK = 0,
	MN_BOARD_EGONE = -1,    /* the port closed or hung up */
	MN_BOARD_ETIMEOUT = -2, /* no valid reply after every retry */
	MN_BOARD_EVERSION = -3, /* the firmware speaks another protocol version */
	MN_BOARD_EREMOTE = -4,  /* the board answered with an ERROR frame */
	MN_BOARD_EPROTO = -5,   /* a reply that breaks the protocol */
	MN_BOARD_ECANCEL = -6,  /* opts.cancel asked to stop */
	MN_BOARD_EIO = -7       /* opening or writing the port failed */
};

struct mn_board_opts {
	int connect_timeout_ms;  /* HELLO handshake, all attempts (default 10000) */
	int hello_interval_ms;   /* HELLO resent this often until answered (500) */
	int retries;             /* extra attempts per request (2) */
	int min_timeout_ms;      /* floor of every request's timeout (3000) */
	/* Work rate assumed for timeouts, in multiply-accumulates (or element
	 * operations) per second of the slowest target, QEMU: a request's
	 * timeout is min_timeout_ms + work / rate. */
	double rate_per_s;       /* (2e7: QEMU here does ~4e8, the board ~2e8) */
	double timeout_scale;    /* multiplies every timeout; from the environment
				    variable MN_BOARD_TIMEOUT_SCALE when set (1) */
	/* Polled at least every 100 ms while waiting; nonzero stops the
	 * request with MN_BOARD_ECANCEL (e.g. a pending SIGINT). */
	int (*cancel)(void *arg);
	void *cancel_arg;
};

/* Counters of what the line did, for diagnostics and tests. */
struct mn_board_stats {
	unsigned requests;    /* requests answered */
	unsigned resends;     /* requests sent again */
	unsigned timeouts;    /* waits that timed out */
	unsigned crc_errors;  /* received frames with a bad CRC */
	unsigned garbage;     /* undecodable or oversized frames skipped */
	unsigned stale;       /* valid frames with a sequence number not ours */
	unsigned unsolicited; /* ERROR frames about frames the board could not read */
};

struct mn_board;

void mn_board_opts_default(struct mn_board_opts *o);

/* Opens port (see transport.h) and does the handshake.  o may be NULL
 * (defaults).  Returns MN_BOARD_OK with *b set, or an error code. */
int mn_board_connect(struct mn_board **b, const char *port, const struct mn_board_opts *o,
		     char *err, size_t errn);
/* The same over a transport already open; the board owns t from then on,
 * also on failure. */
int mn_board_attach(struct mn_board **b, struct mn_transport *t, const struct mn_board_opts *o,
		    char *err, size_t errn);
void mn_board_close(struct mn_board *b);

/* The firmware's HELLO reply (board and firmware names NUL-terminated). */
struct mn_board_info {
	struct mnp_hello_reply hello;
	char board[17];
	char fw_version[17];
};
const struct mn_board_info *mn_board_info(const struct mn_board *b);
const char *mn_board_port(const struct mn_board *b);
/* The transport underneath (tests inject bytes through it). */
struct mn_transport *mn_board_transport(struct mn_board *b);

/* Timing units (as in replies) to microseconds, using HELLO's count_hz. */
double mn_board_units_to_us(const struct mn_board *b, uint64_t units);
/* 1 when the timing is instruction-based (QEMU), 0 for clock cycles. */
int mn_board_is_emulated(const struct mn_board *b);

/* The requests.  On MN_BOARD_EREMOTE, mn_board_last_error() has the
 * board's ERROR payload. */
int mn_board_hello(struct mn_board *b, char *err, size_t errn);
int mn_board_profile_op(struct mn_board *b, const struct mnp_profile_req *rq,
			struct mnp_profile_reply *rp, char *err, size_t errn);
int mn_board_run_arch(struct mn_board *b, const struct mnp_run_req *rq,
		      struct mnp_run_reply *rp, char *err, size_t errn);
int mn_board_kernel_check(struct mn_board *b, const struct mnp_kcheck_req *rq,
			  struct mnp_kcheck_reply *rp, char *err, size_t errn);

/* The deployed model (an image micronas deploy built): which one the board
 * carries; the input image sent in MNP_MAX_CHUNK chunks; one run (work:
 * its multiply-accumulates, for the timeout).  A board without a model
 * answers NO_MODEL (MN_BOARD_EREMOTE). */
int mn_board_model_info(struct mn_board *b, struct mnp_model_info *m, char *err, size_t errn);
int mn_board_upload_input(struct mn_board *b, const uint8_t *img, uint32_t n, char *err,
			  size_t errn);
int mn_board_run_model(struct mn_board *b, const struct mnp_run_model_req *rq, double work,
		       struct mnp_run_model_reply *rp, char *err, size_t errn);

const struct mnp_error *mn_board_last_error(const struct mn_board *b);
void mn_board_get_stats(const struct mn_board *b, struct mn_board_stats *s);

/* The work (multiply-accumulates or element operations) of one run of a
 * request, used for its timeout; exposed for tests. */
double mn_board_profile_work(const struct mnp_profile_req *rq);
double mn_board_run_work(const struct mnp_run_req *rq);
/* The timeout a request with this much work gets, in milliseconds. */
int mn_board_timeout_ms(const struct mn_board_opts *o, double work);

/* Names for messages. */
const char *mn_board_cmd_name(unsigned cmd);
const char *mn_board_op_name(unsigned op);
const char *mn_board_error_name(unsigned code);

#endif
