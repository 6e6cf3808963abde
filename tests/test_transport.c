/* The transport: socketpair and pseudo-terminal descriptors, the choice of
 * backend by port name (libserialport refuses ptys; termios takes over),
 * raw 8-bit transparency, timeouts, a peer that goes away, unix sockets,
 * and the one-line errors. */
/* openpty() and symlink() live outside strict POSIX. */
#define _DEFAULT_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "board/transport.h"
#include "util/clock.h"

/* Reads exactly n bytes from a transport within timeout_ms in total. */
static int read_all(struct mn_transport *t, unsigned char *buf, size_t n, int timeout_ms)
{
	char err[256];
	size_t got = 0;
	long long end = mn_now_ms() + timeout_ms;
	while (got < n && mn_now_ms() < end) {
		ssize_t r = mn_transport_read(t, buf + got, n - got, 100, err, sizeof err);
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return got == n ? 0 : -1;
}

static int read_fd_all(int fd, unsigned char *buf, size_t n, int timeout_ms)
{
	size_t got = 0;
	long long end = mn_now_ms() + timeout_ms;
	while (got < n && mn_now_ms() < end) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0)
			return -1;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
		else {
			struct timespec ts = {0, 5000000};
			nanosleep(&ts, NULL);
		}
	}
	return got == n ? 0 : -1;
}

static void test_socketpair(void)
{
	int sv[2];
	struct mn_transport *t;
	unsigned char out[256], in[256];
	char err[512];
	long long t0;
	ssize_t r;

	for (int i = 0; i < 256; i++)
		out[i] = (unsigned char)i;
	if (!tap_ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair"))
		return;
	tap_ok(mn_transport_from_fd(&t, sv[0], "pair", err, sizeof err) == 0, "from_fd");
	tap_ok(mn_transport_write(t, out, sizeof out, 1000, err, sizeof err) == 0,
	       "write all 256 byte values");
	tap_ok(read_fd_all(sv[1], in, sizeof in, 2000) == 0 && !memcmp(in, out, sizeof in),
	       "the peer receives them unchanged");
	tap_ok(write(sv[1], out, sizeof out) == (ssize_t)sizeof out, "peer writes 256 bytes");
	tap_ok(read_all(t, in, sizeof in, 2000) == 0 && !memcmp(in, out, sizeof in),
	       "read gets them unchanged");
	t0 = mn_now_ms();
	r = mn_transport_read(t, in, sizeof in, 150, err, sizeof err);
	tap_ok(r == MN_IO_TIMEOUT, "nothing to read: timeout (got %zd)", r);
	tap_ok(mn_now_ms() - t0 >= 140 && mn_now_ms() - t0 < 1500, "after about 150 ms (%lld ms)",
	       mn_now_ms() - t0);
	r = mn_transport_read(t, in, sizeof in, 0, err, sizeof err);
	tap_ok(r == MN_IO_TIMEOUT, "timeout 0 does not wait");
	close(sv[1]);
	t0 = mn_now_ms();
	r = mn_transport_read(t, in, sizeof in, 5000, err, sizeof err);
	tap_ok(r == MN_IO_GONE, "peer closed: read says gone (got %zd)", r);
	tap_ok(mn_now_ms() - t0 < 1000, "at once, not after the 5 s timeout (%lld ms)", mn_now_ms() - t0);
	tap_ok(strstr(err, "went away") != NULL, "error says the board went away: %s", err);
	/* SIGPIPE would kill this test here if the transport wrote with
	 * write() on a socket. */
	tap_ok(mn_transport_write(t, out, 10, 1000, err, sizeof err) == MN_IO_GONE,
	       "write to a closed peer: gone, no SIGPIPE");
	mn_transport_close(t);
}

static void test_pty(void)
{
	int master, slave;
	char name[256], link[300], dir[64] = "/tmp/mn-test-transport-XXXXXX";
	struct mn_transport *t = NULL;
	struct sp_port *sp = NULL;
	unsigned char out[256], in[256];
	char err[512];
	enum sp_return spr;
	long long t0;
	ssize_t r;

	for (int i = 0; i < 256; i++)
		out[i] = (unsigned char)(255 - i);
	if (!tap_ok(openpty(&master, &slave, name, NULL, NULL) == 0, "openpty"))
		return;
	close(slave);
	tap_diag("pty %s", name);
	/* The reason the termios backend exists (reference.md section 5). */
	spr = sp_get_port_by_name(name, &sp);
	tap_diag("sp_get_port_by_name(%s) = %d", name, (int)spr);
	if (spr == SP_OK)
		sp_free_port(sp);
	tap_ok(spr == SP_ERR_ARG || spr == SP_OK, "libserialport refuses (SP_ERR_ARG) or takes it");

	r = mn_transport_open(&t, name, err, sizeof err);
	if (!tap_ok(r == 0, "open %s%s%s", name, r ? ": " : "", r ? err : "")) {
		close(master);
		return;
	}
	tap_ok(t->kind == (spr == SP_ERR_ARG ? MN_TRANSPORT_TTY : MN_TRANSPORT_SERIAL),
	       "backend: %s", t->kind == MN_TRANSPORT_TTY ? "termios (fallback)" : "libserialport");
	tap_ok(mn_transport_write(t, out, sizeof out, 1000, err, sizeof err) == 0,
	       "write 256 byte values to the pty");
	tap_ok(read_fd_all(master, in, sizeof in, 2000) == 0 && !memcmp(in, out, sizeof in),
	       "raw: every byte arrives unchanged (no CR/LF mapping, no XON/XOFF)");
	tap_ok(write(master, out, sizeof out) == (ssize_t)sizeof out, "the other side writes");
	tap_ok(read_all(t, in, sizeof in, 2000) == 0 && !memcmp(in, out, sizeof in),
	       "raw: read gets every byte unchanged (0x00, 0x03, 0x11, 0x13, 0x7f)");
	t0 = mn_now_ms();
	r = mn_transport_read(t, in, sizeof in, 100, err, sizeof err);
	tap_ok(r == MN_IO_TIMEOUT && mn_now_ms() - t0 >= 90, "pty timeout");
	close(master);
	t0 = mn_now_ms();
	r = mn_transport_read(t, in, sizeof in, 5000, err, sizeof err);
	tap_ok(r == MN_IO_GONE, "other side closed (QEMU killed): gone (got %zd: %s)", r, err);
	tap_ok(mn_now_ms() - t0 < 1000, "at once (%lld ms)", mn_now_ms() - t0);
	mn_transport_close(t);

	/* Through a symlink with a tty-like name. */
	if (!tap_ok(openpty(&master, &slave, name, NULL, NULL) == 0, "second openpty"))
		return;
	close(slave);
	if (mkdtemp(dir)) {
		snprintf(link, sizeof link, "%s/ttyUSB7", dir);
		tap_ok(symlink(name, link) == 0, "symlink %s -> %s", link, name);
		t = NULL;
		r = mn_transport_open(&t, link, err, sizeof err);
		tap_ok(r == 0, "open through the symlink%s%s", r ? ": " : "", r ? err : "");
		if (t) {
			tap_ok(mn_transport_write(t, "x", 1, 1000, err, sizeof err) == 0 &&
				       read_fd_all(master, in, 1, 2000) == 0 && in[0] == 'x',
			       "bytes pass through the symlinked pty");
			mn_transport_close(t);
		}
		unlink(link);
		rmdir(dir);
	}
	close(master);
}

static void test_unix(void)
{
	char dir[64] = "/tmp/mn-test-transport-XXXXXX", path[128], port[160], err[512];
	struct sockaddr_un sa;
	struct mn_transport *t = NULL;
	unsigned char in[4];
	int s, c;

	if (!tap_ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	snprintf(path, sizeof path, "%s/board.sock", dir);
	snprintf(port, sizeof port, "unix:%s", path);
	tap_ok(mn_transport_open(&t, port, err, sizeof err) != 0, "no socket yet: open fails");
	tap_ok(strstr(err, "no such socket") && strstr(err, "micronas emulate"),
	       "error names the fix: %s", err);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1); /* short: under /tmp */
	tap_ok(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s, 1) == 0,
	       "listening at %s", path);
	tap_ok(mn_transport_open(&t, port, err, sizeof err) == 0, "open %s", port);
	c = accept(s, NULL, NULL);
	tap_ok(c >= 0, "accepted");
	if (t && c >= 0) {
		tap_ok(t->kind == MN_TRANSPORT_UNIX, "unix backend");
		tap_ok(mn_transport_write(t, "\x00\x01\x02", 3, 1000, err, sizeof err) == 0 &&
			       read_fd_all(c, in, 3, 2000) == 0 && in[0] == 0 && in[2] == 2,
		       "bytes reach the server");
		tap_ok(write(c, "ok", 2) == 2 && read_all(t, in, 2, 2000) == 0 && in[0] == 'o',
		       "bytes come back");
		close(c);
		tap_ok(mn_transport_read(t, in, 1, 3000, err, sizeof err) == MN_IO_GONE,
		       "server closed: gone");
	}
	mn_transport_close(t);
	close(s);
	unlink(path);
	tap_ok(mn_transport_open(&t, port, err, sizeof err) != 0 && strstr(err, "no such socket"),
	       "after the server went: a clear error");
	rmdir(dir);
}

static void test_errors(void)
{
	struct mn_transport *t = NULL;
	char err[512], path[64] = "/tmp/mn-test-plainXXXXXX";
	int fd;

	tap_ok(mn_transport_open(&t, "/dev/ttyNOSUCHPORT9", err, sizeof err) != 0 && !t,
	       "missing port refused");
	tap_ok(strstr(err, "no such port") && strstr(err, "micronas ports") &&
		       !strchr(err, '\n'),
	       "one line naming the problem and the fix: %s", err);
	tap_ok(mn_transport_open(&t, "", err, sizeof err) != 0, "empty name refused: %s", err);
	fd = mkstemp(path);
	if (fd >= 0) {
		close(fd);
		tap_ok(mn_transport_open(&t, path, err, sizeof err) != 0 &&
			       strstr(err, "not a serial port"),
		       "a plain file is refused: %s", err);
		unlink(path);
	}
	{
		struct mn_serial_port_info *v = NULL;
		size_t n = 0;
		tap_ok(mn_serial_list(&v, &n, err, sizeof err) == 0, "sp_list_ports works (%zu ports)",
		       n);
		for (size_t i = 0; i < n; i++)
			tap_diag("port %s (%s) %s", v[i].name, v[i].transport, v[i].description);
		free(v);
	}
}

int main(void)
{
	test_socketpair();
	test_pty();
	test_unix();
	test_errors();
	return tap_done();
}
