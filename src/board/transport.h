/* The byte stream to a board: open by a --port string, write all, read
 * with a timeout, close.  Three kinds of port, chosen by the name:
 *
 *   unix:PATH        a unix stream socket (QEMU -serial unix:PATH,server=on)
 *   a serial device  opened with libserialport (USB virtual COM port of the
 *                    NUCLEO's ST-LINK: /dev/ttyACM0, COM3, ...)
 *   a pseudo-terminal opened with termios (QEMU -serial pty: /dev/pts/N)
 *
 * libserialport 0.1.1 (Debian 12) cannot open pseudo-terminals (see
 * transport_serial.c), so a name it refuses with SP_ERR_ARG is opened
 * directly and used when it is a terminal.  Every port runs raw 8N1 at
 * MN_TRANSPORT_BAUD with no flow control (fw-profiler/board_*.c).
 *
 * Reading and writing go through the port's file descriptor with poll(), the
 * same code for every kind, so that a port that goes away (USB unplugged,
 * QEMU killed: POLLHUP, EOF or EIO) is reported as MN_IO_GONE at once
 * instead of looking like a silent line until a timeout. */
#ifndef MN_TRANSPORT_H
#define MN_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

/* fw-profiler/board_nucleo.c and board_qemu.c: USART3 / UART0 at 115200. */
#define MN_TRANSPORT_BAUD 115200

enum mn_transport_kind {
	MN_TRANSPORT_SERIAL, /* libserialport */
	MN_TRANSPORT_TTY,    /* termios (pseudo-terminal) */
	MN_TRANSPORT_UNIX,   /* unix stream socket */
	MN_TRANSPORT_FD      /* a descriptor handed in (tests: socketpair) */
};

/* Results of read and write besides a byte count. */
#define MN_IO_TIMEOUT 0 /* read: nothing arrived within the timeout */
#define MN_IO_GONE (-1) /* the peer went away (EOF, hangup, EIO) */
#define MN_IO_ERROR (-2) /* any other failure; err says which */

struct mn_transport {
	enum mn_transport_kind kind;
	int fd;            /* the descriptor all I/O goes through */
	void *sp;          /* struct sp_port * when kind is SERIAL */
	char *name;        /* the port as given, for messages (heap, owned) */
};

/* Opens a port by name (see above).  Returns 0, or -1 with err holding one
 * line naming the port, the problem and the fix. */
int mn_transport_open(struct mn_transport **t, const char *port, char *err, size_t errn);

/* The backends, also usable directly. */
int mn_transport_open_serial(struct mn_transport **t, const char *port, char *err,
			     size_t errn);
int mn_transport_open_tty(struct mn_transport **t, const char *path, char *err, size_t errn);
int mn_transport_open_unix(struct mn_transport **t, const char *path, char *err, size_t errn);
/* Wraps a connected descriptor (socketpair, pipe pair is not enough: it
 * must be one bidirectional fd); the transport owns it from now on. */
int mn_transport_from_fd(struct mn_transport **t, int fd, const char *name, char *err,
			 size_t errn);

/* Writes all n bytes within timeout_ms.  Returns 0, MN_IO_GONE, or
 * MN_IO_ERROR (a timeout is an error: a port that does not drain is
 * stuck); err is filled on failure. */
int mn_transport_write(struct mn_transport *t, const void *buf, size_t n, int timeout_ms,
		       char *err, size_t errn);

/* Reads what is there, up to n bytes, waiting at most timeout_ms (0: do not
 * wait) for the first one.  Returns the count (> 0), MN_IO_TIMEOUT,
 * MN_IO_GONE or MN_IO_ERROR (err filled on the last two). */
ssize_t mn_transport_read(struct mn_transport *t, void *buf, size_t n, int timeout_ms,
			  char *err, size_t errn);

/* Discards bytes already received and not read (a fresh start). */
void mn_transport_discard_input(struct mn_transport *t);

/* Closes and frees; t may be NULL. */
void mn_transport_close(struct mn_transport *t);

/* The serial ports the system knows, from sp_list_ports(). */
struct mn_serial_port_info {
	char name[256];
	char description[256];
	char transport[8]; /* "usb", "bt", "native" */
	int usb_vid, usb_pid; /* -1 when unknown */
	char manufacturer[128], product[128], serial[128]; /* "" when unknown */
};
/* Fills a malloc'ed array (*out, *count); 0, or -1 with err. */
int mn_serial_list(struct mn_serial_port_info **out, size_t *count, char *err, size_t errn);

#endif
