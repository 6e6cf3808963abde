/* Serial ports through libserialport: choosing the backend for a port
 * name, opening and configuring real serial ports, listing them, closing.
 *
 * Why a second backend exists at all: libserialport 0.1.1 (Debian 12)
 * looks every port up under /sys/class/tty in sp_get_port_by_name(), and a
 * pseudo-terminal (/dev/pts/N, also when reached through a symlink with a
 * tty-like name) has no entry there, so it refuses it with SP_ERR_ARG.
 * QEMU's -serial pty gives exactly such a port.  So: libserialport first;
 * on SP_ERR_ARG the name is opened directly and used through termios when
 * isatty() says it is a terminal (transport_pty.c). */
#include "board/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void sp_fail(char *err, size_t errn, const char *port, const char *what)
{
	char *msg = sp_last_error_message();
	snprintf(err, errn, "%s: %s failed: %s (check the port with 'micronas ports')", port, what,
		 msg ? msg : "unknown error");
	if (msg)
		sp_free_error_message(msg);
}

int mn_transport_open_serial(struct mn_transport **t, const char *port, char *err, size_t errn)
{
	struct sp_port *sp = NULL;
	struct mn_transport *p;
	enum sp_return r;
	int fd = -1, fl;

	r = sp_get_port_by_name(port, &sp);
	if (r != SP_OK) {
		if (r == SP_ERR_ARG)
			snprintf(err, errn, "%s: libserialport does not know this port "
				 "(list ports with 'micronas ports')", port);
		else
			sp_fail(err, errn, port, "looking the port up");
		return -1;
	}
	r = sp_open(sp, SP_MODE_READ_WRITE);
	if (r != SP_OK) {
		if (errno == EACCES)
			snprintf(err, errn, "%s: permission denied (add yourself to the group owning "
				 "it, e.g. dialout, and log in again)", port);
		else if (errno == EBUSY)
			snprintf(err, errn, "%s: busy (close the other program using the port)",
				 port);
		else
			sp_fail(err, errn, port, "opening");
		sp_free_port(sp);
		return -1;
	}
	/* 8N1 at the firmware's baud, no flow control: the ST-LINK virtual COM
	 * port wires only TX and RX. */
	if (sp_set_baudrate(sp, MN_TRANSPORT_BAUD) != SP_OK || sp_set_bits(sp, 8) != SP_OK ||
	    sp_set_parity(sp, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(sp, 1) != SP_OK ||
	    sp_set_flowcontrol(sp, SP_FLOWCONTROL_NONE) != SP_OK) {
		sp_fail(err, errn, port, "setting 115200 8N1 without flow control");
		sp_close(sp);
		sp_free_port(sp);
		return -1;
	}
	/* All I/O goes through the descriptor with poll() (transport_pty.c):
	 * sp_blocking_read_next() treats end-of-file (a USB port that vanished)
	 * as "no data yet" and would only time out. */
	if (sp_get_port_handle(sp, &fd) != SP_OK || fd < 0) {
		sp_fail(err, errn, port, "getting the port's descriptor");
		sp_close(sp);
		sp_free_port(sp);
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errn, "%s: fcntl failed: %s", port, strerror(errno));
		sp_close(sp);
		sp_free_port(sp);
		return -1;
	}
	p = calloc(1, sizeof *p);
	if (!p || !(p->name = strdup(port))) {
		free(p);
		snprintf(err, errn, "%s: out of memory", port);
		sp_close(sp);
		sp_free_port(sp);
		return -1;
	}
	p->kind = MN_TRANSPORT_SERIAL;
	p->fd = fd;
	p->sp = sp;
	*t = p;
	return 0;
}

int mn_transport_open(struct mn_transport **t, const char *port, char *err, size_t errn)
{
	struct sp_port *sp = NULL;
	enum sp_return r;

	*t = NULL;
	if (!port || !*port) {
		snprintf(err, errn, "empty port name (pass --port with a serial device, /dev/pts/N "
			 "or unix:PATH)");
		return -1;
	}
	if (!strncmp(port, "unix:", 5))
		return mn_transport_open_unix(t, port + 5, err, errn);
	/* Ask libserialport first; only its SP_ERR_ARG (not a port it knows,
	 * which includes every pseudo-terminal) sends us to termios. */
	r = sp_get_port_by_name(port, &sp);
	if (r == SP_OK) {
		sp_free_port(sp);
		return mn_transport_open_serial(t, port, err, errn);
	}
	if (r == SP_ERR_ARG)
		return mn_transport_open_tty(t, port, err, errn);
	if (access(port, F_OK) != 0)
		snprintf(err, errn, "%s: no such port (list ports with 'micronas ports')", port);
	else
		sp_fail(err, errn, port, "looking the port up");
	return -1;
}

void mn_transport_close(struct mn_transport *t)
{
	if (!t)
		return;
	if (t->kind == MN_TRANSPORT_SERIAL) {
		/* sp_close() closes the descriptor; the port's struct is ours. */
		sp_close(t->sp);
		sp_free_port(t->sp);
	} else if (t->fd >= 0) {
		close(t->fd);
	}
	free(t->name);
	free(t);
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

int mn_serial_list(struct mn_serial_port_info **out, size_t *count, char *err, size_t errn)
{
	struct sp_port **list = NULL;
	struct mn_serial_port_info *v;
	size_t n = 0;

	*out = NULL;
	*count = 0;
	if (sp_list_ports(&list) != SP_OK) {
		sp_fail(err, errn, "serial ports", "listing");
		return -1;
	}
	while (list[n])
		n++;
	v = calloc(n ? n : 1, sizeof *v);
	if (!v) {
		sp_free_port_list(list);
		snprintf(err, errn, "out of memory listing serial ports");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sp_port *p = list[i];
		enum sp_transport tr = sp_get_port_transport(p);
		copy_str(v[i].name, sizeof v[i].name, sp_get_port_name(p));
		copy_str(v[i].description, sizeof v[i].description, sp_get_port_description(p));
		copy_str(v[i].transport, sizeof v[i].transport,
			 tr == SP_TRANSPORT_USB ? "usb" : tr == SP_TRANSPORT_BLUETOOTH ? "bt" : "native");
		v[i].usb_vid = v[i].usb_pid = -1;
		if (tr == SP_TRANSPORT_USB) {
			int vid, pid;
			if (sp_get_port_usb_vid_pid(p, &vid, &pid) == SP_OK) {
				v[i].usb_vid = vid;
				v[i].usb_pid = pid;
			}
			copy_str(v[i].manufacturer, sizeof v[i].manufacturer,
				 sp_get_port_usb_manufacturer(p));
			copy_str(v[i].product, sizeof v[i].product, sp_get_port_usb_product(p));
			copy_str(v[i].serial, sizeof v[i].serial, sp_get_port_usb_serial(p));
		}
	}
	sp_free_port_list(list);
	*out = v;
	*count = n;
	return 0;
}
