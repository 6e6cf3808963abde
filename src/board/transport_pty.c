/* The descriptor-based side of the transport: terminals opened with
 * termios (QEMU's -serial pty), unix sockets (QEMU's -serial unix:) and
 * descriptors handed in, plus the poll()-based read and write every kind
 * uses, including libserialport's ports through their handle. */
/* CRTSCTS (clearing hardware flow control) is a BSD/Linux extension. */
#define _DEFAULT_SOURCE 1

#include "board/transport.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

static int new_transport(struct mn_transport **t, enum mn_transport_kind kind, int fd,
			 const char *name, char *err, size_t errn)
{
	struct mn_transport *p = calloc(1, sizeof *p);
	if (!p || !(p->name = strdup(name))) {
		free(p);
		snprintf(err, errn, "%s: out of memory opening the port (free some memory)", name);
		return -1;
	}
	p->kind = kind;
	p->fd = fd;
	p->sp = NULL;
	*t = p;
	return 0;
}

/* Raw 8N1 at the protocol's baud, no flow control, no character
 * processing of any kind (0x00 and 0x11/0x13 are ordinary frame bytes),
 * written out with POSIX flags rather than cfmakeraw() so every bit that
 * matters is visible here. */
static int tty_raw(int fd)
{
	struct termios tio;
	if (tcgetattr(fd, &tio) != 0)
		return -1;
	tio.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL |
				   IXON | IXOFF | IXANY | INPCK);
	tio.c_oflag &= ~(tcflag_t)OPOST;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
#ifdef CRTSCTS
	tio.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
	tio.c_cflag |= CS8 | CREAD | CLOCAL;
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, B115200) != 0 || cfsetospeed(&tio, B115200) != 0)
		return -1;
	return tcsetattr(fd, TCSANOW, &tio);
}

int mn_transport_open_tty(struct mn_transport **t, const char *path, char *err, size_t errn)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errn,
				 "%s: no such port (list ports with 'micronas ports'; for QEMU pass "
				 "the name 'micronas emulate' printed)", path);
		else if (e == EACCES)
			snprintf(err, errn,
				 "%s: permission denied (add yourself to the group owning it, "
				 "e.g. dialout, and log in again)", path);
		else
			snprintf(err, errn, "%s: cannot open: %s (check the port name)", path,
				 strerror(e));
		return -1;
	}
	if (!isatty(fd)) {
		close(fd);
		snprintf(err, errn,
			 "%s: not a serial port or terminal (pass a serial device, a /dev/pts/N "
			 "pseudo-terminal or unix:PATH)", path);
		return -1;
	}
	if (tty_raw(fd) != 0) {
		int e = errno;
		close(fd);
		snprintf(err, errn, "%s: cannot set raw 8N1 at %d baud: %s (is it a serial port?)",
			 path, MN_TRANSPORT_BAUD, strerror(e));
		return -1;
	}
	if (new_transport(t, MN_TRANSPORT_TTY, fd, path, err, errn) != 0) {
		close(fd);
		return -1;
	}
	return 0;
}

int mn_transport_open_unix(struct mn_transport **t, const char *path, char *err, size_t errn)
{
	struct sockaddr_un sa;
	char name[4160];
	int fd;

	snprintf(name, sizeof name, "unix:%s", path);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path || !*path) {
		snprintf(err, errn, "%s: socket path empty or longer than %zu bytes (use a shorter "
			 "path, e.g. under /tmp)", name, sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(err, errn, "%s: cannot create a socket: %s (system limits?)", name,
			 strerror(errno));
		return -1;
	}
	/* Connect while still blocking: a unix connect completes or fails at
	 * once. */
	if (connect(fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT)
			snprintf(err, errn, "%s: no such socket (start 'micronas emulate --socket %s' "
				 "first)", name, path);
		else if (e == ECONNREFUSED)
			snprintf(err, errn, "%s: nothing listens there (QEMU has exited or another "
				 "client holds it; restart 'micronas emulate --socket %s')", name, path);
		else
			snprintf(err, errn, "%s: cannot connect: %s (check the path)", name,
				 strerror(e));
		return -1;
	}
	if (set_nonblock_cloexec(fd) != 0) {
		int e = errno;
		close(fd);
		snprintf(err, errn, "%s: fcntl failed: %s", name, strerror(e));
		return -1;
	}
	if (new_transport(t, MN_TRANSPORT_UNIX, fd, name, err, errn) != 0) {
		close(fd);
		return -1;
	}
	return 0;
}

int mn_transport_from_fd(struct mn_transport **t, int fd, const char *name, char *err,
			 size_t errn)
{
	if (set_nonblock_cloexec(fd) != 0) {
		snprintf(err, errn, "%s: fcntl failed: %s", name, strerror(errno));
		return -1;
	}
	return new_transport(t, MN_TRANSPORT_FD, fd, name, err, errn);
}

/* Errors of read/write that mean the other end is gone. */
static int is_gone(int e)
{
	return e == EIO || e == EPIPE || e == ECONNRESET || e == ENXIO || e == ENODEV ||
	       e == ENOTCONN;
}

/* poll() on the port until the deadline (a past deadline polls once),
 * retrying after signals: > 0 ready, 0 timed out, MN_IO_ERROR with err. */
static int poll_until(const struct mn_transport *t, struct pollfd *pfd, long long deadline,
		      char *err, size_t errn)
{
	for (;;) {
		long long left = deadline - mn_now_ms();
		int r = poll(pfd, 1, (int)(left < 0 ? 0 : left));
		if (r >= 0)
			return r;
		if (errno != EINTR) {
			snprintf(err, errn, "%s: poll failed: %s", t->name, strerror(errno));
			return MN_IO_ERROR;
		}
	}
}

int mn_transport_write(struct mn_transport *t, const void *buf, size_t n, int timeout_ms,
		       char *err, size_t errn)
{
	const unsigned char *p = buf;
	long long deadline = mn_now_ms() + timeout_ms;

	while (n > 0) {
		struct pollfd pfd = {t->fd, POLLOUT, 0};
		ssize_t w;
		int r = poll_until(t, &pfd, deadline, err, errn);

		if (r < 0)
			return r;
		if (r == 0) {
			snprintf(err, errn,
				 "%s: the port does not take data (%zu bytes stuck for %d ms; is the "
				 "board connected and running?)", t->name, n, timeout_ms);
			return MN_IO_ERROR;
		}
		if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd.revents & POLLOUT)) {
			snprintf(err, errn, "%s: the board went away (port hung up)", t->name);
			return MN_IO_GONE;
		}
		/* send() with MSG_NOSIGNAL: a closed socket peer must be an
		 * error here, not a SIGPIPE that kills the program. */
		if (t->kind == MN_TRANSPORT_UNIX || t->kind == MN_TRANSPORT_FD) {
			w = send(t->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK)
				w = write(t->fd, p, n);
		} else {
			w = write(t->fd, p, n);
		}
		if (w < 0) {
			int e = errno;
			if (e == EINTR || e == EAGAIN || e == EWOULDBLOCK)
				continue;
			snprintf(err, errn, "%s: %s: %s", t->name,
				 is_gone(e) ? "the board went away" : "write failed", strerror(e));
			return is_gone(e) ? MN_IO_GONE : MN_IO_ERROR;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t mn_transport_read(struct mn_transport *t, void *buf, size_t n, int timeout_ms,
			  char *err, size_t errn)
{
	long long deadline = mn_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		struct pollfd pfd = {t->fd, POLLIN, 0};
		ssize_t got;
		int r = poll_until(t, &pfd, deadline, err, errn);

		if (r < 0)
			return r;
		if (r == 0)
			return MN_IO_TIMEOUT;
		/* POLLHUP may come with data still buffered: read that first;
		 * read() then reports EOF or EIO. */
		got = read(t->fd, buf, n);
		if (got > 0)
			return got;
		if (got == 0) {
			snprintf(err, errn, "%s: the board went away (end of file on the port)",
				 t->name);
			return MN_IO_GONE;
		}
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
			if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd.revents & POLLIN)) {
				snprintf(err, errn, "%s: the board went away (port hung up)", t->name);
				return MN_IO_GONE;
			}
			if (mn_now_ms() >= deadline)
				return MN_IO_TIMEOUT;
			continue;
		}
		{
			int e = errno;
			snprintf(err, errn, "%s: %s: %s", t->name,
				 is_gone(e) ? "the board went away" : "read failed", strerror(e));
			return is_gone(e) ? MN_IO_GONE : MN_IO_ERROR;
		}
	}
}

void mn_transport_discard_input(struct mn_transport *t)
{
	unsigned char junk[256];
	char err[8];
	/* Read without waiting until nothing is left (tcflush() would not
	 * cover sockets, and reading works for every kind).  Bounded, so a
	 * board that streams without pause cannot keep us here. */
	for (int i = 0; i < 4096; i++)
		if (mn_transport_read(t, junk, sizeof junk, 0, err, sizeof err) <= 0)
			break;
}
