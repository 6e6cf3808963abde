/* End-to-end: boot the qemu-mps2-an500 firmware in QEMU (UART0 on a unix
 * socket; built again as test_fw_qemu_m4 with the qemu-mps2-an386 image
 * on -M mps2-an386, see FW_TARGET below), do the handshake, profile ops, check every kernel and two
 * whole networks bit for bit against the host reference (the same kernel
 * and executor sources compiled natively), and check that garbage, bad
 * CRCs, oversized and truncated frames, unknown commands, wrong versions
 * and bad lengths are answered with errors without hanging the firmware.
 *
 * Nothing is skipped: a missing cross compiler or QEMU fails with the
 * Debian package to install.  QEMU dies with this process
 * (PR_SET_PDEATHSIG) and is killed and reaped on every exit path; an
 * alarm bounds the whole test. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "exec.h"
#include "protocol.h"
#include "util/clock.h"
#include "tap.h"

/* The image and machine under test: the Cortex-M7 pair unless the build
 * says otherwise (fw-profiler/local.am builds test_fw_qemu_m4 with
 * -DFW_TARGET='"qemu-mps2-an386"' -DFW_MACHINE='"mps2-an386"'). */
#ifndef FW_TARGET
#define FW_TARGET "qemu-mps2-an500"
#define FW_MACHINE "mps2-an500"
#define FW_TEST_NAME "test_fw_qemu"
#endif

#define TEST_DEADLINE_S 100 /* alarm: the whole test */
#define REPLY_TIMEOUT_MS 30000

struct link {
	int fd;
	pid_t pid;
	uint16_t seq;
	struct mnp_rx rx;
	uint8_t pend[4096];
	size_t pend_n, pend_off;
	uint8_t raw[MNP_MAX_ENCODED];
	struct mnp_frame f; /* last frame read; payload points into raw */
	int unsolicited;     /* error frames with seq 0xFFFF seen */
	char dir[32], sock[64]; /* short: sun_path holds 108 bytes */
};

struct host {
	uint8_t *blob;
	int32_t *bias;
	uint8_t *arena;
	int8_t scratch[MNX_SCRATCH_BYTES];
	struct mnx_ctx ctx;
};

/* ---- process and socket ---- */

static int find_in_path(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	if (strchr(name, '/')) {
		snprintf(out, n, "%s", name);
		return access(out, X_OK) == 0 ? 0 : -1;
	}
	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		if (len > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)len, path, name) < n &&
		    access(out, X_OK) == 0)
			return 0;
		path = colon ? colon + 1 : NULL;
	}
	return -1;
}

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static void stop_qemu(struct link *l)
{
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	if (l->pid > 0) {
		int st;
		kill(l->pid, SIGTERM);
		for (int i = 0; i < 50; i++) {
			if (waitpid(l->pid, &st, WNOHANG) == l->pid) {
				l->pid = -1;
				break;
			}
			sleep_ms(20);
		}
		if (l->pid > 0) {
			kill(l->pid, SIGKILL);
			waitpid(l->pid, &st, 0);
			l->pid = -1;
		}
	}
	if (l->sock[0])
		unlink(l->sock);
	if (l->dir[0])
		rmdir(l->dir);
}

static int start_qemu(struct link *l, const char *qemu, const char *elf, const char *log)
{
	char serial[400];
	struct sockaddr_un sa;

	snprintf(l->dir, sizeof l->dir, "/tmp/mn-fw-XXXXXX");
	if (!mkdtemp(l->dir)) {
		l->dir[0] = 0;
		tap_diag("mkdtemp: %s", strerror(errno));
		return -1;
	}
	snprintf(l->sock, sizeof l->sock, "%s/uart0", l->dir);
	snprintf(serial, sizeof serial, "unix:%s,server=on,wait=off", l->sock);
	l->pid = fork();
	if (l->pid < 0) {
		tap_diag("fork: %s", strerror(errno));
		return -1;
	}
	if (l->pid == 0) {
		/* In the child only async-signal-safe calls; a failure here
		 * shows up as QEMU's exit status or a connect timeout. */
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
#ifdef __linux__
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) /* QEMU never outlives the test */
			_exit(126);
#endif
		if (fd >= 0 && (dup2(fd, 1) < 0 || dup2(fd, 2) < 0))
			_exit(126);
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(126);
		execl(qemu, qemu, "-M", FW_MACHINE, "-nographic", "-monitor", "none",
		      "-icount", "shift=0", "-kernel", elf, "-serial", serial, (char *)NULL);
		_exit(127);
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", l->sock);
	for (int i = 0; i < 250; i++) { /* up to 10 s for QEMU to listen */
		int st;
		if (waitpid(l->pid, &st, WNOHANG) == l->pid) {
			tap_diag("QEMU exited early (status %d), see %s", st, log);
			l->pid = -1;
			return -1;
		}
		l->fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l->fd < 0)
			return -1;
		if (connect(l->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return 0;
		close(l->fd);
		l->fd = -1;
		sleep_ms(40);
	}
	tap_diag("could not connect to QEMU's UART socket %s", l->sock);
	return -1;
}

/* ---- frames ---- */

static int send_bytes(struct link *l, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(l->fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(struct link *l, uint8_t ver, uint8_t cmd, uint16_t seq,
		      const uint8_t *p, size_t len)
{
	uint8_t wire[MNP_MAX_ENCODED + 2];
	size_t n;
	wire[0] = 0x00; /* resync before every frame */
	if (mnp_frame_build(ver, cmd, seq, p, (uint16_t)len, wire + 1, sizeof wire - 1, &n) != 0)
		return -1;
	return send_bytes(l, wire, n + 1);
}

/* Next frame from the firmware: returns its parse code (MNP_OK ...), or
 * -1 on timeout or a closed link. */
static int read_frame(struct link *l, int timeout_ms)
{
	int64_t end = mn_now_ms() + timeout_ms;
	for (;;) {
		while (l->pend_off < l->pend_n) {
			size_t k;
			int rc = mnp_rx_push(&l->rx, l->pend[l->pend_off++], l->raw, sizeof l->raw, &k);
			if (rc == MNP_RX_FRAME)
				return mnp_frame_parse(l->raw, k, &l->f);
			if (rc < 0)
				return -rc;
		}
		int64_t left = end - mn_now_ms();
		struct pollfd pf = {l->fd, POLLIN, 0};
		ssize_t r;
		if (left <= 0)
			return -1;
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		r = read(l->fd, l->pend, sizeof l->pend);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		l->pend_n = (size_t)r;
		l->pend_off = 0;
	}
}

/* Read frames until the one answering `seq` (unsolicited errors are
 * counted and skipped).  Returns 0 with it in l->f, or -1. */
static int await(struct link *l, uint16_t seq, int timeout_ms)
{
	int64_t end = mn_now_ms() + timeout_ms;
	for (;;) {
		int left = (int)(end - mn_now_ms());
		int rc = read_frame(l, left > 0 ? left : 0);
		if (rc < 0)
			return -1;
		if (rc != MNP_OK)
			continue; /* a frame from the firmware that fails to parse */
		if (l->f.seq == seq && seq != MNP_SEQ_UNSOLICITED)
			return 0;
		if (l->f.cmd == MNP_CMD_ERROR && l->f.seq == MNP_SEQ_UNSOLICITED)
			l->unsolicited++;
	}
}

/* Send a request with the next sequence number and wait for its answer. */
static int transact(struct link *l, uint8_t ver, uint8_t cmd, const uint8_t *p, size_t len)
{
	uint16_t seq = l->seq++;
	if (l->seq == MNP_SEQ_UNSOLICITED)
		l->seq = 1;
	if (send_frame(l, ver, cmd, seq, p, len) != 0)
		return -1;
	return await(l, seq, REPLY_TIMEOUT_MS);
}

static int is_error(const struct link *l, int code, struct mnp_error *e)
{
	return l->f.cmd == MNP_CMD_ERROR && mnp_dec_error(l->f.payload, l->f.len, e) == 0 &&
	       e->code == code;
}

/* ---- host reference ---- */

static int host_init(struct host *h, uint32_t arena_len)
{
	h->blob = malloc(MNP_BLOB_BYTES);
	h->bias = malloc(4u * MNP_BIAS_COUNT);
	h->arena = malloc(arena_len);
	if (!h->blob || !h->bias || !h->arena)
		return -1;
	mnp_blob_fill(h->blob);
	for (uint32_t i = 0; i < MNP_BIAS_COUNT; i++)
		h->bias[i] = mnp_bias_at(i);
	memset(&h->ctx, 0, sizeof h->ctx);
	h->ctx.weights = (const int8_t *)h->blob;
	h->ctx.weights_len = MNP_WEIGHTS_BYTES;
	h->ctx.biases = h->bias;
	h->ctx.biases_len = MNP_BIAS_COUNT;
	h->ctx.arena = h->arena;
	h->ctx.arena_len = arena_len;
	h->ctx.scratch = h->scratch;
	h->ctx.scratch_len = MNX_SCRATCH_BYTES;
	return 0;
}

static void host_free(struct host *h)
{
	free(h->blob);
	free(h->bias);
	free(h->arena);
}

/* ---- the checks ---- */

static int hello(struct link *l, struct mnp_hello_reply *hr)
{
	if (transact(l, MNP_VERSION, MNP_CMD_HELLO, NULL, 0) != 0)
		return -1;
	if (l->f.cmd != (MNP_CMD_HELLO | MNP_CMD_REPLY) ||
	    mnp_dec_hello_reply(l->f.payload, l->f.len, hr) != 0)
		return -1;
	return 0;
}

static const char *op_name(int op)
{
	static const char *const n[] = {"?", "skip", "conv1x1", "conv3x3", "avgpool3x3",
					 "add", "stem", "reduction", "head"};
	return op >= 0 && op < (int)MNP_OP_COUNT ? n[op] : "?";
}

static void check_kernels(struct link *l, struct host *h)
{
	static const struct mnp_kcheck_req cases[] = {
	    {MNP_OP_SKIP, 5, 3, 7, 0, 101, 0},      {MNP_OP_CONV1X1, 16, 8, 8, 0, 102, 0},
	    {MNP_OP_CONV1X1, 6, 5, 7, 0, 103, 0},   {MNP_OP_CONV1X1, 3, 4, 4, 0, 104, 0},
	    {MNP_OP_CONV3X3, 16, 8, 8, 0, 105, 0},  {MNP_OP_CONV3X3, 5, 6, 9, 0, 106, 0},
	    {MNP_OP_CONV3X3, 7, 1, 1, 0, 107, 0},   {MNP_OP_CONV3X3, 33, 4, 3, 0, 108, 0},
	    {MNP_OP_AVGPOOL3X3, 16, 8, 8, 0, 109, 0}, {MNP_OP_AVGPOOL3X3, 6, 5, 3, 0, 110, 0},
	    {MNP_OP_AVGPOOL3X3, 1, 1, 1, 0, 111, 0}, {MNP_OP_ADD, 16, 8, 8, 0, 112, 0},
	    {MNP_OP_ADD, 3, 5, 5, 0, 113, 0},       {MNP_OP_STEM, 16, 16, 16, 0, 114, 0},
	    {MNP_OP_STEM, 5, 7, 9, 0, 115, 0},      {MNP_OP_REDUCTION, 8, 8, 8, 0, 116, 0},
	    {MNP_OP_REDUCTION, 5, 6, 10, 0, 117, 0}, {MNP_OP_HEAD, 64, 4, 4, 10, 118, 0},
	    {MNP_OP_HEAD, 7, 3, 5, 3, 119, 0},
	    /* A grayscale and a 2-channel stem, and reductions on odd sides
	     * (a 49x10 network's stages). */
	    {MNP_OP_STEM, 8, 49, 10, 0, 120, 1}, {MNP_OP_STEM, 5, 7, 9, 0, 121, 2},
	    {MNP_OP_REDUCTION, 4, 49, 10, 0, 122, 0}, {MNP_OP_REDUCTION, 8, 25, 5, 0, 123, 0},
	};
	int dsp = 1;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct mnp_kcheck_req *c = &cases[i];
		struct mnx_op_result ref;
		struct mnp_kcheck_reply r;
		uint8_t p[MNP_KCHECK_REQ_LEN];
		int hrc = mnx_op_run(&h->ctx, c, 1, NULL, &ref);
		int ok = hrc == MNP_OK &&
			 transact(l, MNP_VERSION, MNP_CMD_KERNEL_CHECK, p, mnp_enc_kcheck_req(c, p)) == 0 &&
			 l->f.cmd == (MNP_CMD_KERNEL_CHECK | MNP_CMD_REPLY) &&
			 mnp_dec_kcheck_reply(l->f.payload, l->f.len, &r) == 0 && r.op == c->op;
		tap_ok(ok && r.crc == ref.out_crc && r.out_bytes == ref.out_bytes,
		       "KERNEL_CHECK %s C=%u %ux%u%s: board CRC 0x%08X = host 0x%08X (%u bytes)",
		       op_name(c->op), c->channels, c->h, c->w, c->op == MNP_OP_HEAD ? " +classes" : "",
		       ok ? (unsigned)r.crc : 0u, (unsigned)ref.out_crc, (unsigned)ref.out_bytes);
		dsp &= ok && (r.flags & MNP_FLAG_DSP);
	}
	tap_ok(dsp, "the board computed every kernel check with the DSP/SIMD path");
}

static void check_profile(struct link *l, struct host *h)
{
	static const struct mnp_profile_req cases[] = {
	    {MNP_OP_CONV3X3, 16, 16, 16, 5, 0, 7, 0}, {MNP_OP_CONV1X1, 16, 16, 16, 3, 0, 8, 0},
	    {MNP_OP_AVGPOOL3X3, 16, 16, 16, 3, 0, 9, 0}, {MNP_OP_ADD, 16, 16, 16, 3, 0, 10, 0},
	    {MNP_OP_SKIP, 16, 16, 16, 3, 0, 11, 0},   {MNP_OP_REDUCTION, 16, 16, 16, 2, 0, 12, 0},
	    {MNP_OP_HEAD, 64, 8, 8, 2, 10, 13, 0},    {MNP_OP_STEM, 16, 32, 32, 2, 0, 14, 0},
	    {MNP_OP_STEM, 8, 49, 10, 2, 0, 15, 1},    {MNP_OP_REDUCTION, 8, 49, 10, 2, 0, 16, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct mnp_profile_req *c = &cases[i];
		struct mnp_kcheck_req k = {c->op, c->channels, c->h, c->w, c->classes, c->seed,
					   c->in_channels};
		unsigned want_ic = c->op != MNP_OP_STEM ? 0u : c->in_channels ? c->in_channels : 3u;
		struct mnx_op_result ref;
		struct mnp_profile_reply r;
		uint8_t p[MNP_PROFILE_REQ_LEN];
		/* the board ran warm-up + repeats; so does the reference */
		int hrc = mnx_op_run(&h->ctx, &k, c->repeats + 1u, NULL, &ref);
		int ok = hrc == MNP_OK &&
			 transact(l, MNP_VERSION, MNP_CMD_PROFILE_OP, p, mnp_enc_profile_req(c, p)) == 0 &&
			 l->f.cmd == (MNP_CMD_PROFILE_OP | MNP_CMD_REPLY) &&
			 mnp_dec_profile_reply(l->f.payload, l->f.len, &r) == 0;
		ok = ok && r.op == c->op && r.repeats == c->repeats && r.min <= r.median &&
		     r.median <= r.max && (c->op == MNP_OP_SKIP || r.min > 0) &&
		     r.out_crc == ref.out_crc && r.arena_bytes == ref.arena_bytes &&
		     r.in_channels == want_ic;
		tap_ok(ok, "PROFILE_OP %s Cin=%u C=%u %ux%u x%u: min %llu median %llu max %llu instructions, %u arena bytes",
		       op_name(c->op), want_ic, c->channels, c->h, c->w, c->repeats,
		       ok ? (unsigned long long)r.min : 0ull, ok ? (unsigned long long)r.median : 0ull,
		       ok ? (unsigned long long)r.max : 0ull, ok ? (unsigned)r.arena_bytes : 0u);
	}
}

static void check_run(struct link *l, struct host *h, const struct mnp_run_req *q, const char *what)
{
	struct mnx_run_result ref;
	struct mnp_run_reply r;
	uint8_t p[MNP_RUN_REQ_LONG_LEN];
	uint64_t sum = 0;
	int hrc = mnx_run_arch(&h->ctx, q, MNX_EXEC, &ref);
	int ok = hrc == MNP_OK && transact(l, MNP_VERSION, MNP_CMD_RUN_ARCH, p, mnp_enc_run_req(q, p)) == 0 &&
		 l->f.cmd == (MNP_CMD_RUN_ARCH | MNP_CMD_REPLY) &&
		 mnp_dec_run_reply(l->f.payload, l->f.len, &r) == 0;
	if (!ok) {
		tap_ok(0, "RUN_ARCH %s: a reply (host rc %d, board cmd 0x%02X)", what, hrc, l->f.cmd);
		return;
	}
	for (int i = 0; i < MNP_SECTIONS; i++)
		sum += r.sec_cycles[i];
	tap_ok(r.logits_crc == ref.logits_crc, "RUN_ARCH %s: logits bit-exact (CRC 0x%08X)", what,
	       (unsigned)r.logits_crc);
	tap_ok(r.peak_bytes > 0 && r.peak_bytes == ref.peak,
	       "RUN_ARCH %s: peak %u bytes, as the host executor measures", what, (unsigned)r.peak_bytes);
	tap_ok(r.cycles > 0 && r.warmup_cycles > 0 && sum <= r.cycles && sum * 10 >= r.cycles * 9,
	       "RUN_ARCH %s: %llu instructions (warm-up %llu), sections add up", what,
	       (unsigned long long)r.cycles, (unsigned long long)r.warmup_cycles);
}

static void check_errors(struct link *l, struct host *h, const struct mnp_hello_reply *hr)
{
	struct mnp_error e;
	struct mnp_hello_reply again;
	uint8_t p[64];
	const uint8_t c3[6] = {3, 3, 3, 3, 3, 3};

	/* out of memory: C=48 at 36x36, S = 62208, 4S > 245760 */
	{
		struct mnp_run_req q = {48, 1, 6, 36, 10, {3, 3, 3, 3, 3, 3}, {0, 1, 2, 3, 4, 5}, 1, 0, 0};
		struct mnx_run_result ref;
		int hrc = mnx_run_arch(&h->ctx, &q, MNX_PLAN, &ref);
		int ok = transact(l, MNP_VERSION, MNP_CMD_RUN_ARCH, p, mnp_enc_run_req(&q, p)) == 0 &&
			 is_error(l, MNP_ERR_OUT_OF_MEMORY, &e);
		tap_ok(ok && hrc == MNP_ERR_OUT_OF_MEMORY && e.detail == ref.detail &&
			   e.detail2 == hr->arena_bytes && e.req_cmd == MNP_CMD_RUN_ARCH,
		       "RUN_ARCH too big: OUT_OF_MEMORY, needs %u bytes of a %u-byte arena",
		       ok ? (unsigned)e.detail : 0u, (unsigned)hr->arena_bytes);
	}
	{
		struct mnp_run_req q = {4, 1, 6, 16, 10, {0}, {2, 0, 1, 3, 4, 5}, 1, 0, 0};
		memcpy(q.ops, c3, 6);
		tap_ok(transact(l, MNP_VERSION, MNP_CMD_RUN_ARCH, p, mnp_enc_run_req(&q, p)) == 0 &&
			   is_error(l, MNP_ERR_BAD_REQUEST, &e),
		       "RUN_ARCH with an edge before its source is complete: BAD_REQUEST");
	}
	{
		struct mnp_kcheck_req k = {MNP_OP_CONV3X3, 300, 4, 4, 0, 1, 0};
		tap_ok(transact(l, MNP_VERSION, MNP_CMD_KERNEL_CHECK, p, mnp_enc_kcheck_req(&k, p)) == 0 &&
			   is_error(l, MNP_ERR_UNSUPPORTED, &e),
		       "KERNEL_CHECK with 300 channels: UNSUPPORTED");
	}
	{
		struct mnp_run_req q = {4, 1, 6, 49, 12, {3, 2, 3, 1, 4, 3}, {0, 1, 2, 3, 4, 5}, 1, 10, 1};
		size_t n = mnp_enc_run_req(&q, p);
		p[27] = 7;
		tap_ok(n == MNP_RUN_REQ_LONG_LEN && transact(l, MNP_VERSION, MNP_CMD_RUN_ARCH, p, n) == 0 &&
			   is_error(l, MNP_ERR_BAD_REQUEST, &e),
		       "RUN_ARCH long form with its reserved byte set: BAD_REQUEST");
		p[27] = 0;
		tap_ok(transact(l, MNP_VERSION, MNP_CMD_RUN_ARCH, p, 27) == 0 &&
			   is_error(l, MNP_ERR_BAD_LENGTH, &e) && e.detail == MNP_RUN_REQ_LONG_LEN && e.detail2 == 27,
		       "RUN_ARCH with a 27-byte payload: BAD_LENGTH (expected 28, got 27)");
		mnp_put_u16(p + 24, 300);
		tap_ok(transact(l, MNP_VERSION, MNP_CMD_RUN_ARCH, p, n) == 0 &&
			   is_error(l, MNP_ERR_UNSUPPORTED, &e),
		       "RUN_ARCH long form 49x300: UNSUPPORTED");
	}
	{
		struct mnp_profile_req q = {MNP_OP_CONV3X3, 8, 8, 8, 1, 0, 1, 1};
		tap_ok(transact(l, MNP_VERSION, MNP_CMD_PROFILE_OP, p, mnp_enc_profile_req(&q, p)) == 0 &&
			   is_error(l, MNP_ERR_BAD_REQUEST, &e),
		       "PROFILE_OP conv3x3 with input channels set: BAD_REQUEST");
	}
	tap_ok(transact(l, MNP_VERSION, 0x42, NULL, 0) == 0 && is_error(l, MNP_ERR_UNKNOWN_CMD, &e) &&
		   e.detail == 0x42,
	       "unknown command 0x42: UNKNOWN_CMD");
	tap_ok(transact(l, MNP_VERSION, MNP_CMD_PROFILE_OP, p, 15) == 0 &&
		   is_error(l, MNP_ERR_BAD_LENGTH, &e) && e.detail == MNP_PROFILE_REQ_LEN && e.detail2 == 15,
	       "PROFILE_OP with a 15-byte payload: BAD_LENGTH (expected 16, got 15)");
	{
		struct mnp_kcheck_req k = {MNP_OP_SKIP, 4, 4, 4, 0, 1, 0};
		tap_ok(transact(l, 2, MNP_CMD_KERNEL_CHECK, p, mnp_enc_kcheck_req(&k, p)) == 0 &&
			   is_error(l, MNP_ERR_VERSION, &e) && e.detail == 2 && e.detail2 == MNP_VERSION,
		       "a request in protocol version 2: VERSION error naming both versions");
		tap_ok(transact(l, 2, MNP_CMD_HELLO, NULL, 0) == 0 &&
			   l->f.cmd == (MNP_CMD_HELLO | MNP_CMD_REPLY) && l->f.version == MNP_VERSION,
		       "HELLO in version 2 is still answered, in the firmware's version");
	}

	/* a bad CRC: flip one payload bit after the CRC was computed */
	{
		struct mnp_kcheck_req k = {MNP_OP_SKIP, 4, 4, 4, 0, 1, 0};
		uint8_t raw[64], wire[80];
		size_t n, m;
		uint16_t seq = 777;
		int ok = mnp_frame_build(MNP_VERSION, MNP_CMD_KERNEL_CHECK, seq, p,
					 (uint16_t)mnp_enc_kcheck_req(&k, p), wire, sizeof wire, &n) == 0 &&
			 mnp_cobs_decode(wire, n - 1, raw, sizeof raw, &m) == 0;
		if (ok) {
			raw[MNP_HDR_LEN + 2] ^= 0x10; /* after the CRC was computed */
			n = mnp_cobs_encode(raw, m, wire + 1, sizeof wire - 2);
			wire[0] = 0;
			wire[n + 1] = 0;
		}
		ok = ok && n > 0 && send_bytes(l, wire, n + 2) == 0 &&
		     await(l, seq, REPLY_TIMEOUT_MS) == 0 && is_error(l, MNP_ERR_BAD_CRC, &e);
		tap_ok(ok, "a frame with a flipped bit: BAD_CRC, with the frame's sequence number");
		tap_ok(hello(l, &again) == 0, "the firmware answers HELLO after the bad-CRC frame");
	}
	/* garbage, including 0x00 bytes */
	{
		uint8_t g[300];
		struct mnp_prng r;
		int before = l->unsolicited;
		mnp_prng_seed(&r, 99);
		for (size_t i = 0; i < sizeof g; i++) {
			uint32_t v = mnp_prng_next(&r);
			g[i] = (v % 23 == 0) ? 0 : (uint8_t)v;
		}
		int ok = send_bytes(l, g, sizeof g) == 0 && hello(l, &again) == 0;
		tap_ok(ok && l->unsolicited > before,
		       "after 300 garbage bytes the firmware reports errors and answers HELLO (%d error frames)",
		       l->unsolicited - before);
	}
	/* oversized: 600 non-zero bytes before a delimiter */
	{
		uint8_t big[601];
		int ok;
		memset(big, 0x55, 600);
		big[600] = 0;
		ok = send_bytes(l, big, sizeof big) == 0 && read_frame(l, REPLY_TIMEOUT_MS) == MNP_OK &&
		     l->f.seq == MNP_SEQ_UNSOLICITED && is_error(l, MNP_ERR_OVERSIZED, &e);
		tap_ok(ok, "an oversized frame: OVERSIZED (unsolicited, seq 0xFFFF)");
		tap_ok(hello(l, &again) == 0, "the firmware answers HELLO after the oversized frame");
	}
	/* truncated: half a frame, then the delimiter */
	{
		uint8_t wire[80];
		size_t n;
		struct mnp_kcheck_req k = {MNP_OP_SKIP, 4, 4, 4, 0, 1, 0};
		int ok = mnp_frame_build(MNP_VERSION, MNP_CMD_KERNEL_CHECK, 900, p,
					 (uint16_t)mnp_enc_kcheck_req(&k, p), wire, sizeof wire, &n) == 0;
		if (ok)
			wire[n / 2] = 0; /* cut the frame in half */
		ok = ok && send_bytes(l, wire, n / 2 + 1) == 0 && read_frame(l, REPLY_TIMEOUT_MS) >= 0 &&
		     l->f.cmd == MNP_CMD_ERROR;
		tap_ok(ok, "a truncated frame is answered with an error");
		tap_ok(hello(l, &again) == 0, "the firmware answers HELLO after the truncated frame");
	}
}

int main(void)
{
	const char *top = getenv("MN_TOP_BUILDDIR");
	const char *q = getenv("QEMU_SYSTEM_ARM");
	char elf[1024], log[1100], qemu[1024], cc[1024];
	struct link l;
	struct host h;
	struct mnp_hello_reply hr;
	int64_t t0 = mn_now_ms();

	alarm(TEST_DEADLINE_S); /* default action ends the test; QEMU follows */
	memset(&l, 0, sizeof l);
	l.fd = -1;
	l.pid = -1;
	l.seq = 1;
	mnp_rx_init(&l.rx);
	if (!top)
		top = ".";
	if (getenv("MN_FW_ELF"))
		snprintf(elf, sizeof elf, "%s", getenv("MN_FW_ELF"));
	else
		snprintf(elf, sizeof elf, "%s/fw-profiler/build/" FW_TARGET "/fw.elf", top);
	snprintf(log, sizeof log, "%s/tests/logs/" FW_TEST_NAME ".qemu.log", top);
	if (access(log, F_OK) != 0) {
		char d[1100];
		snprintf(d, sizeof d, "%s/tests/logs", top);
		mkdir(d, 0755); /* may exist; failure shows up when QEMU's log opens */
	}

	if (find_in_path(q && *q ? q : "qemu-system-arm", qemu, sizeof qemu) != 0) {
		tap_ok(0, "qemu-system-arm not found: install the Debian package qemu-system-arm and re-run configure");
		return tap_done();
	}
	if (access(elf, R_OK) != 0) {
		if (find_in_path("arm-none-eabi-gcc", cc, sizeof cc) != 0)
			tap_ok(0, "firmware not built: arm-none-eabi-gcc not found; install the Debian packages "
				  "gcc-arm-none-eabi and libnewlib-arm-none-eabi, re-run configure and make");
		else
			tap_ok(0, "firmware %s not built: run make (configure must find arm-none-eabi-gcc)", elf);
		return tap_done();
	}
	if (start_qemu(&l, qemu, elf, log) != 0) {
		tap_ok(0, "starting %s -M " FW_MACHINE " with %s", qemu, elf);
		stop_qemu(&l);
		return tap_done();
	}

	/* handshake: retried, the firmware may still be booting */
	{
		int ok = -1;
		for (int i = 0; i < 5 && ok != 0; i++)
			ok = hello(&l, &hr);
		tap_ok(ok == 0, "HELLO answered");
		if (ok != 0) {
			stop_qemu(&l);
			return tap_done();
		}
	}
	tap_ok(hr.proto_version == MNP_VERSION && !strcmp(hr.board, FW_TARGET) &&
		   hr.timing_kind == MNP_TIMING_INSTRUCTIONS && hr.resolution == 40 &&
		   hr.count_hz == 1000000000u && hr.weights_bytes == MNP_WEIGHTS_BYTES &&
		   hr.max_payload == MNP_MAX_PAYLOAD && hr.arena_bytes > 0,
	       "HELLO: protocol %u, board %s, fw %s, instruction-based timing (resolution %u), arena %u bytes",
	       hr.proto_version, hr.board, hr.fw_version, (unsigned)hr.resolution, (unsigned)hr.arena_bytes);

	if (host_init(&h, hr.arena_bytes) != 0) {
		tap_ok(0, "allocating the host reference (out of memory)");
		stop_qemu(&l);
		return tap_done();
	}
	check_kernels(&l, &h);
	check_profile(&l, &h);
	{
		struct mnp_run_req a = {4, 1, 6, 16, 10, {3, 2, 3, 1, 4, 3}, {0, 1, 2, 3, 4, 5}, 21, 0, 0};
		struct mnp_run_req b = {4, 1, 6, 16, 10, {3, 2, 3, 1, 4, 3}, {1, 0, 3, 2, 4, 5}, 21, 0, 0};
		struct mnp_run_req c = {8, 2, 4, 16, 10, {1, 0, 3, 2, 0, 4}, {0, 2, 3, 5, 0, 0}, 22, 0, 0};
		check_run(&l, &h, &a, "C=4 N=1 16x16 edge order");
		check_run(&l, &h, &b, "C=4 N=1 16x16 order 1,0,3,2,4,5");
		check_run(&l, &h, &c, "C=8 N=2 16x16 with none edges");
		/* The long form: keyword spotting's 49x10 MFCC image, and a
		 * 2-channel input whose sides are not multiples of 4. */
		struct mnp_run_req d = {4, 1, 6, 49, 12, {3, 2, 3, 1, 4, 3}, {0, 1, 2, 3, 4, 5}, 23, 10, 1};
		struct mnp_run_req e = {4, 1, 4, 18, 10, {1, 0, 3, 2, 0, 4}, {0, 2, 3, 5, 0, 0}, 24, 14, 2};
		check_run(&l, &h, &d, "long form C=4 N=1 49x10x1");
		check_run(&l, &h, &e, "long form C=4 N=1 18x14x2");
	}
	check_errors(&l, &h, &hr);
	tap_ok(hello(&l, &hr) == 0, "the firmware still answers at the end");
	tap_diag("elapsed %.1f s", (double)(mn_now_ms() - t0) / 1000.0);

	host_free(&h);
	stop_qemu(&l);
	return tap_done();
}
