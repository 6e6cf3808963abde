/* The host side against the real firmware on the emulated board (QEMU
 * mps2-an500 over a pseudo-terminal or a unix socket): handshake, single
 * ops, a kernel check against the native executor, profiling a network
 * into a latency table, validating archs (measured peak SRAM must equal
 * the memory model's estimate), and faults: garbage on the line, QEMU
 * killed in the middle of a request, a firmware speaking another protocol
 * version (built here with PROTOCOL_VERSION_OVERRIDE).
 *
 * Nothing is skipped: a missing qemu-system-arm or cross compiler fails the
 * test and names the Debian package. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "board/board.h"
#include "board/emulator.h"
#include "exec.h"
#include "space/latency_table.h"
#include "space/memory.h"
#include "board/profile.h"
#include "protocol.h"
#include "qemu_prereq.h"
#include "tap.h"
#include "board/validate.h"
#include "util/clock.h"

static struct mn_board_opts quick_opts(void)
{
	struct mn_board_opts o;
	mn_board_opts_default(&o);
	return o;
}

static void test_handshake_and_ops(struct mn_board *b)
{
	const struct mn_board_info *in = mn_board_info(b);
	struct mnp_profile_reply r1, r3, rp, ra, rs;
	struct mnp_profile_req q1 = {MNP_OP_CONV1X1, 8, 16, 16, 3, 0, 5, 0};
	struct mnp_profile_req q3 = {MNP_OP_CONV3X3, 8, 16, 16, 3, 0, 5, 0};
	struct mnp_profile_req qp = {MNP_OP_AVGPOOL3X3, 8, 16, 16, 3, 0, 5, 0};
	struct mnp_profile_req qa = {MNP_OP_ADD, 8, 16, 16, 3, 0, 5, 0};
	struct mnp_profile_req qs = {MNP_OP_SKIP, 8, 16, 16, 3, 0, 5, 0};
	char err[1024];

	tap_ok(!strcmp(in->board, "qemu-mps2-an500"), "HELLO: board %s", in->board);
	tap_ok(in->hello.proto_version == MNP_VERSION, "HELLO: protocol %u",
	       in->hello.proto_version);
	tap_ok(mn_board_is_emulated(b) && in->hello.count_hz == 1000000000u,
	       "HELLO: instruction-based timing, 1e9 units/s");
	tap_ok(mn_board_profile_op(b, &q1, &r1, err, sizeof err) == MN_BOARD_OK, "PROFILE_OP conv1x1");
	tap_ok(mn_board_profile_op(b, &q3, &r3, err, sizeof err) == MN_BOARD_OK, "PROFILE_OP conv3x3");
	tap_ok(mn_board_profile_op(b, &qp, &rp, err, sizeof err) == MN_BOARD_OK, "PROFILE_OP pool");
	tap_ok(mn_board_profile_op(b, &qa, &ra, err, sizeof err) == MN_BOARD_OK, "PROFILE_OP add");
	tap_ok(mn_board_profile_op(b, &qs, &rs, err, sizeof err) == MN_BOARD_OK, "PROFILE_OP skip");
	tap_ok(r1.min <= r1.median && r1.median <= r1.max && r1.median > 0, "min <= median <= max");
	tap_ok(r3.median > 2 * r1.median, "conv3x3 (%llu) costs far more than conv1x1 (%llu)",
	       (unsigned long long)r3.median, (unsigned long long)r1.median);
	tap_ok(rs.median < ra.median && ra.median < rp.median,
	       "skip (%llu) < add (%llu) < pool (%llu)", (unsigned long long)rs.median,
	       (unsigned long long)ra.median, (unsigned long long)rp.median);
	tap_ok(r3.arena_bytes == 2u * 8 * 16 * 16, "conv's buffers: input + output = %u bytes",
	       r3.arena_bytes);

	/* The same op through KERNEL_CHECK, and natively on the host. */
	{
		struct mnp_kcheck_req kq = {MNP_OP_CONV3X3, 8, 16, 16, 0, 5, 0};
		struct mnp_kcheck_reply kr;
		uint8_t *blob = malloc(MNP_BLOB_BYTES);
		int32_t *bias = malloc(4 * MNP_BIAS_COUNT);
		uint8_t *arena = malloc(245760);
		int8_t *scratch = malloc(MNX_SCRATCH_BYTES);
		struct mnx_op_result res;
		int rc = -1;
		if (blob && bias && arena && scratch) {
			mnp_blob_fill(blob);
			for (uint32_t i = 0; i < MNP_BIAS_COUNT; i++)
				bias[i] = mnp_bias_at(i);
			struct mnx_ctx ctx = {(const int8_t *)blob, MNP_WEIGHTS_BYTES, bias,
					      MNP_BIAS_COUNT, arena, 245760, scratch,
					      MNX_SCRATCH_BYTES, NULL};
			rc = mnx_op_run(&ctx, &kq, 1, NULL, &res);
		}
		tap_ok(mn_board_kernel_check(b, &kq, &kr, err, sizeof err) == MN_BOARD_OK,
		       "KERNEL_CHECK conv3x3");
		tap_ok(rc == MNP_OK && kr.crc == res.out_crc && kr.out_bytes == res.out_bytes,
		       "the board's output CRC %08x equals the native executor's %08x", kr.crc,
		       res.out_crc);
		tap_ok(kr.crc == r3.out_crc, "and PROFILE_OP's (same seed, same input)");
		free(blob);
		free(bias);
		free(arena);
		free(scratch);
	}
}

static const char *const archs[] = {
	"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
	"|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
	"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
	"|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
	"|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
	"|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|",
	"|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|none~2|",
	"|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
};
#define N_ARCHS (int)(sizeof archs / sizeof archs[0])

static void test_profile_and_validate(struct mn_board *b, const char *tmp)
{
	struct mn_profile_opts po;
	struct mn_profile_result res;
	struct mn_latency_table t, back;
	char out[512], err[1024];
	int brc, rc;
	long long t0 = mn_now_ms();

	mn_profile_opts_default(&po);
	po.shape.channels = 8;
	po.shape.cells = 1;
	po.shape.height = 16;
	po.shape.classes = 10;
	po.repeats = 3;
	snprintf(out, sizeof out, "%s/small.ini", tmp);
	po.output = out;
	rc = mn_profile_run(b, &po, &t, &res, &brc, err, sizeof err);
	tap_ok(rc == 0, "profile C=8 N=1 R=16 in %lld ms%s%s", mn_now_ms() - t0, rc ? ": " : "",
	       rc ? err : "");
	if (rc)
		return;
	tap_ok(res.measured == MN_PROFILE_ITEMS && res.resumed == 0, "%d measurements",
	       res.measured);
	rc = mn_latency_table_read(&back, out, err, sizeof err);
	tap_ok(rc == 0, "the table reads back%s%s", rc ? ": " : "", rc ? err : "");
	if (rc)
		return;
	tap_ok(mn_latency_table_check_network(&back, out, 8, 1, 16, 16, 10, err, sizeof err) == 0,
	       "made for C=8 N=1 R=16 K=10");
	tap_ok(strstr(back.source, "INSTRUCTION-BASED") != NULL, "source says instruction-based: %s",
	       back.source);
	{
		int ok = 1;
		for (int s = 0; s < MN_STAGES; s++)
			ok &= back.op_us[s][MN_OP_CONV3] > back.op_us[s][MN_OP_CONV1] &&
			      back.op_us[s][MN_OP_CONV1] > 0 && back.add_us[s] > 0 &&
			      back.op_us[s][MN_OP_NONE] == 0;
		tap_ok(ok, "every stage: conv3x3 > conv1x1 > 0, add > 0, none = 0");
	}
	tap_ok(back.overhead_us >= 0 && back.stem_us > 0 && back.head_us > 0 &&
		       back.reduction_us[0] > 0 && back.reduction_us[1] > 0,
	       "fixed parts measured, overhead %.3f us (residuals %.3f %.3f %.3f)",
	       back.overhead_us, res.calib_residual_us[0], res.calib_residual_us[1],
	       res.calib_residual_us[2]);
	{
		char *partial = mn_profile_partial_path(&po);
		tap_ok(partial && access(partial, F_OK) != 0,
		       "the partial file %s is gone once the table is written", partial ? partial : "?");
		free(partial);
	}

	/* Validation on the same network with the table just measured. */
	{
		struct mn_net_shape s = po.shape;
		int sram_ok = 0, lat_ok = 0;
		double worst = 0;
		for (int i = 0; i < N_ARCHS; i++) {
			struct mn_arch a;
			struct mn_parse_error pe;
			struct mn_validation v;
			if (mn_arch_parse(archs[i], &a, &pe) != 0 ||
			    mn_validate_arch(b, &a, &s, &back, 7, &v, &brc, err, sizeof err) != 0) {
				tap_diag("validate %s: %s", archs[i], err);
				continue;
			}
			tap_diag("%s: %.1f us measured, %.1f estimated (%+.3f%%), SRAM %llu / %llu",
				 archs[i], v.measured_us, v.estimated_us, v.error_pct,
				 (unsigned long long)v.measured_sram_bytes,
				 (unsigned long long)v.estimated_sram_bytes);
			if (v.measured_sram_bytes == v.estimated_sram_bytes)
				sram_ok++;
			else
				tap_diag("SRAM MISMATCH for %s: board %llu, model %llu", archs[i],
					 (unsigned long long)v.measured_sram_bytes,
					 (unsigned long long)v.estimated_sram_bytes);
			if (fabs(v.error_pct) < 3.0)
				lat_ok++;
			if (fabs(v.error_pct) > worst)
				worst = fabs(v.error_pct);
		}
		tap_ok(sram_ok == N_ARCHS, "measured peak SRAM == the memory model's, %d/%d archs",
		       sram_ok, N_ARCHS);
		tap_ok(lat_ok == N_ARCHS, "latency estimate within 3%%, %d/%d archs (worst %.3f%%)",
		       lat_ok, N_ARCHS, worst);
	}
	/* The deployable network itself (C=16, N=5, 32x32): SRAM only. */
	{
		struct mn_net_shape s = MN_SHAPE_DEFAULT;
		int sram_ok = 0;
		for (int i = 1; i < 5; i++) {
			struct mn_arch a;
			struct mn_parse_error pe;
			struct mn_validation v;
			if (mn_arch_parse(archs[i], &a, &pe) == 0 &&
			    mn_validate_arch(b, &a, &s, NULL, 11, &v, &brc, err, sizeof err) == 0) {
				tap_diag("C16 N5 R32 %s: SRAM %llu / %llu", archs[i],
					 (unsigned long long)v.measured_sram_bytes,
					 (unsigned long long)v.estimated_sram_bytes);
				sram_ok += v.measured_sram_bytes == v.estimated_sram_bytes &&
					   isnan(v.estimated_us);
			} else {
				tap_diag("validate %s: %s", archs[i], err);
			}
		}
		tap_ok(sram_ok == 4, "C=16 N=5 R=32: measured peak SRAM == model, %d/4 archs", sram_ok);
	}
}

static void test_garbage(struct mn_board *b, const char *port)
{
	static const uint8_t noise[] = {0x00, 0x4D, 0x4E, 0x01, 0x02, 0x07, 0x00, 0xFF, 0x13,
					0x11, 0x00, 0x00, 0x9A, 0x05, 0x05, 0x05, 0x00};
	struct mnp_profile_req q = {MNP_OP_CONV1X1, 8, 8, 8, 1, 0, 3, 0};
	struct mnp_profile_reply r;
	struct mn_board_stats st;
	struct mn_board_opts o = quick_opts();
	char err[1024];
	uint8_t frame[MNP_MAX_ENCODED + 1], big[700];
	size_t n;
	int ok = 1;

	/* Noise, a frame cut in half, an oversized run of bytes: each time the
	 * next request must still be answered. */
	memset(big, 0x22, sizeof big);
	mnp_frame_build(MNP_VERSION, MNP_CMD_PROFILE_OP, 77, (const uint8_t *)"0123456789abcdef", 16,
			frame, sizeof frame, &n);
	for (int i = 0; i < 3; i++) {
		struct mn_transport *t = mn_board_transport(b);
		if (i == 0)
			ok &= mn_transport_write(t, noise, sizeof noise, 1000, err, sizeof err) == 0;
		else if (i == 1)
			ok &= mn_transport_write(t, frame, n / 2, 1000, err, sizeof err) == 0;
		else
			ok &= mn_transport_write(t, big, sizeof big, 1000, err, sizeof err) == 0;
		ok &= mn_board_profile_op(b, &q, &r, err, sizeof err) == MN_BOARD_OK;
		mn_board_get_stats(b, &st);
		tap_diag("after garbage %d: %u resends, %u timeouts, %u unsolicited, %u stale", i,
			 st.resends, st.timeouts, st.unsolicited, st.stale);
	}
	tap_ok(ok, "garbage, a cut frame, 700 bytes without delimiter: requests still answered%s%s",
	       ok ? "" : ": ", ok ? "" : err);
	mn_board_get_stats(b, &st);
	tap_diag("stats: %u requests, %u resends, %u timeouts, %u crc, %u garbage, %u stale, %u "
		 "unsolicited", st.requests, st.resends, st.timeouts, st.crc_errors, st.garbage,
		 st.stale, st.unsolicited);
	tap_ok(st.unsolicited + st.stale > 0, "the firmware's complaints about the garbage were "
	       "recognised as not ours");

	/* Garbage before the handshake of a second connection. */
	{
		struct mn_transport *t;
		struct mn_board *b2;
		int rc = -1;
		if (mn_transport_open(&t, port, err, sizeof err) == 0) {
			mn_transport_write(t, noise, sizeof noise, 1000, err, sizeof err);
			mn_transport_write(t, frame, n / 3, 1000, err, sizeof err);
			rc = mn_board_attach(&b2, t, &o, err, sizeof err);
			if (rc == MN_BOARD_OK)
				mn_board_close(b2);
		}
		tap_ok(rc == MN_BOARD_OK, "handshake through garbage on a fresh connection%s%s",
		       rc ? ": " : "", rc ? err : "");
	}
}

struct killer {
	pid_t pid;
	int delay_ms;
};

static void *kill_later(void *arg)
{
	const struct killer *k = arg;
	struct timespec ts = {k->delay_ms / 1000, (long)(k->delay_ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	kill(k->pid, SIGKILL);
	return NULL;
}

static void test_killed(const char *fw)
{
	struct mn_emulator_opts eo = {.firmware = fw, .boot_timeout_ms = 20000};
	struct mn_emulator *e;
	struct mn_board *b;
	struct mn_board_opts o = quick_opts();
	struct mn_arch a;
	struct mn_parse_error pe;
	struct mnp_run_req rq;
	struct mnp_run_reply rp;
	struct mn_net_shape s = MN_SHAPE_DEFAULT;
	struct killer k;
	pthread_t th;
	char err[1024];
	long long t0, dt;
	pid_t pid;
	int r;

	r = mn_emulator_start(&e, &eo, err, sizeof err);
	if (!tap_ok(r == 0, "second emulator%s%s", r ? ": " : "", r ? err : ""))
		return;
	if (!tap_ok(mn_board_connect(&b, mn_emulator_port(e), &o, err, sizeof err) == MN_BOARD_OK,
		    "connected")) {
		mn_emulator_stop(e);
		return;
	}
	pid = mn_emulator_pid(e);
	/* The heaviest arch at the full network: two inferences of ~0.4 G
	 * instructions, so QEMU dies in the middle of the request. */
	mn_arch_parse(archs[2], &a, &pe);
	mn_validate_request(&a, &s, 1, &rq, NULL, err, sizeof err);
	k.pid = pid;
	k.delay_ms = 200;
	pthread_create(&th, NULL, kill_later, &k);
	t0 = mn_now_ms();
	r = mn_board_run_arch(b, &rq, &rp, err, sizeof err);
	dt = mn_now_ms() - t0;
	pthread_join(th, NULL);
	tap_ok(r == MN_BOARD_EGONE, "QEMU killed mid RUN_ARCH: EGONE (%d: %s)", r, err);
	/* A hang would wait out the request's timeout (25 s for this arch,
	 * mn_board_timeout_ms); the bound leaves a loaded machine room. */
	tap_ok(dt < 200 + 15000, "the client errors out within %lld ms, no hang", dt);
	tap_ok(strstr(err, "went away") && !strchr(err, '\n'), "one clear line: %s", err);
	mn_board_close(b);
	/* The pty reports EOF as QEMU's descriptors close, a moment before
	 * the process can be reaped. */
	t0 = mn_now_ms();
	while (mn_emulator_running(e) && mn_now_ms() - t0 < 20000)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	tap_ok(mn_emulator_running(e) == 0, "the emulator knows QEMU is gone");
	mn_emulator_stop(e);
	tap_ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "QEMU reaped: no zombie");
}

static void test_socket_and_stop(const char *fw, const char *tmp)
{
	struct mn_emulator_opts eo = {.firmware = fw, .boot_timeout_ms = 20000};
	struct mn_emulator *e;
	struct mn_board *b;
	struct mn_board_opts o = quick_opts();
	char sock[512], err[1024];
	pid_t pid;
	int r;

	snprintf(sock, sizeof sock, "%s/board.sock", tmp);
	eo.socket_path = sock;
	r = mn_emulator_start(&e, &eo, err, sizeof err);
	if (!tap_ok(r == 0, "emulator on a unix socket%s%s", r ? ": " : "", r ? err : ""))
		return;
	tap_ok(!strncmp(mn_emulator_port(e), "unix:", 5), "port %s", mn_emulator_port(e));
	r = mn_board_connect(&b, mn_emulator_port(e), &o, err, sizeof err);
	tap_ok(r == MN_BOARD_OK, "HELLO over the socket%s%s", r ? ": " : "", r ? err : "");
	if (r == MN_BOARD_OK)
		mn_board_close(b);
	/* A second client after the first left (QEMU listens again). */
	r = mn_board_connect(&b, mn_emulator_port(e), &o, err, sizeof err);
	tap_ok(r == MN_BOARD_OK, "and again after reconnecting%s%s", r ? ": " : "", r ? err : "");
	if (r == MN_BOARD_OK)
		mn_board_close(b);
	pid = mn_emulator_pid(e);
	tap_ok(mn_emulator_stop(e) == 0, "stopped cleanly");
	tap_ok(kill(pid, 0) != 0 && errno == ESRCH, "QEMU process gone");
	tap_ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "and reaped");
	tap_ok(access(sock, F_OK) != 0, "the socket file is removed");
}

/* What mn_emulator_start refuses before QEMU runs, with one line and the
 * fix, and what it leaves behind: nothing of its own, and the user's files
 * as they were. */
static void test_start_refusals(const char *fw, const char *tmp)
{
	struct mn_emulator_opts eo = {.firmware = fw, .boot_timeout_ms = 20000};
	struct mn_emulator *e = NULL;
	char path[512], err[1024];
	int r;

	eo.qemu = "no-such-qemu-system-arm";
	r = mn_emulator_start(&e, &eo, err, sizeof err);
	tap_ok(r == -1 && !e && strstr(err, "no-such-qemu-system-arm not found") &&
		       strstr(err, "apt-get install qemu-system-arm") && !strchr(err, '\n'),
	       "no QEMU program: one line with the package (%s)", err);
	eo.qemu = NULL;
	snprintf(path, sizeof path, "%s/no-such-fw.elf", tmp);
	eo.firmware = path;
	r = mn_emulator_start(&e, &eo, err, sizeof err);
	tap_ok(r == -1 && !e && strstr(err, "no-such-fw.elf not found") &&
		       strstr(err, "make -C fw-profiler"),
	       "no firmware image: named, with the build command (%s)", err);
	eo.firmware = fw;
	/* A --socket path that holds the user's file is not taken. */
	snprintf(path, sizeof path, "%s/not-a-socket", tmp);
	FILE *f = fopen(path, "w");
	int wrote = f && fputs("keep me\n", f) >= 0;
	if (f && fclose(f) != 0)
		wrote = 0;
	eo.socket_path = path;
	r = mn_emulator_start(&e, &eo, err, sizeof err);
	struct stat sb;
	tap_ok(wrote && r == -1 && !e && strstr(err, "is not a socket") &&
		       strstr(err, "another --socket path") && stat(path, &sb) == 0 &&
		       S_ISREG(sb.st_mode) && sb.st_size == 8,
	       "a --socket path that is a file: refused, the file kept (%s)", err);
	unlink(path);
}

static void test_version(const char *tmp)
{
	const char *src = getenv("MN_TOP_SRCDIR");
	char cmd[2048], fw[1024], err[1024], log[600];
	struct mn_emulator_opts eo = {.boot_timeout_ms = 20000};
	struct mn_emulator *e;
	struct mn_board *b;
	struct mn_board_opts o = quick_opts();
	int r;

	if (!src)
		src = "..";
	snprintf(log, sizeof log, "%s/fw-proto2.log", tmp);
	/* The firmware's own Makefile builds the variant into the temp dir. */
	snprintf(cmd, sizeof cmd,
		 "make -s -C '%s/fw-profiler' BUILDDIR='%s/fw' TARGET=qemu-mps2-an500 "
		 "PROTOCOL_VERSION_OVERRIDE=2 >'%s' 2>&1", src, tmp, log);
	r = system(cmd);
	snprintf(fw, sizeof fw, "%s/fw/qemu-mps2-an500-proto2/fw.elf", tmp);
	if (!tap_ok(r == 0 && access(fw, R_OK) == 0, "built the protocol-2 firmware variant (see %s)",
		    log))
		return;
	eo.firmware = fw;
	r = mn_emulator_start(&e, &eo, err, sizeof err);
	if (!tap_ok(r == 0, "the variant boots (it answers HELLO)%s%s", r ? ": " : "", r ? err : ""))
		return;
	tap_ok(strstr(mn_emulator_warning(e), "version 2") != NULL, "start-up warning: %s",
	       mn_emulator_warning(e));
	r = mn_board_connect(&b, mn_emulator_port(e), &o, err, sizeof err);
	tap_ok(r == MN_BOARD_EVERSION, "connecting: EVERSION (%d)", r);
	tap_ok(strstr(err, "protocol version 2") && strstr(err, "version 1") &&
		       strstr(err, "make -C fw-profiler flash") && !strchr(err, '\n'),
	       "one line naming both versions and the fix: %s", err);
	if (r == MN_BOARD_OK)
		mn_board_close(b);
	mn_emulator_stop(e);
	snprintf(cmd, sizeof cmd, "rm -rf '%s/fw'", tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove %s/fw", tmp);
}

int main(void)
{
	char fw[4096], tmp[64] = "/tmp/mn-test-board-qemu-XXXXXX", err[1024];
	struct mn_emulator_opts eo = {.boot_timeout_ms = 20000};
	struct mn_emulator *e;
	struct mn_board *b;
	struct mn_board_opts o = quick_opts();
	long long t0;
	int r;

	if (!qemu_prerequisites(fw, sizeof fw) || !mkdtemp(tmp))
		return tap_done();
	eo.firmware = fw;
	t0 = mn_now_ms();
	r = mn_emulator_start(&e, &eo, err, sizeof err);
	if (!tap_ok(r == 0, "emulator started in %lld ms%s%s", mn_now_ms() - t0, r ? ": " : "",
		    r ? err : ""))
		return tap_done();
	tap_ok(!strncmp(mn_emulator_port(e), "/dev/pts/", 9), "pty %s", mn_emulator_port(e));
	r = mn_board_connect(&b, mn_emulator_port(e), &o, err, sizeof err);
	if (tap_ok(r == MN_BOARD_OK, "handshake over the pty%s%s", r ? ": " : "", r ? err : "")) {
		test_handshake_and_ops(b);
		test_profile_and_validate(b, tmp);
		test_garbage(b, mn_emulator_port(e));
		mn_board_close(b);
	}
	tap_ok(mn_emulator_stop(e) == 0, "emulator stopped");
	test_killed(fw);
	test_socket_and_stop(fw, tmp);
	test_start_refusals(fw, tmp);
	test_version(tmp);
	rmdir(tmp);
	return tap_done();
}
