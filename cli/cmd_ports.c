/* micronas ports: the serial ports libserialport knows, with their USB
 * identity, to find the board's --port. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/error.h"
#include "board/transport.h"

static void ports_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas ports [--json]\n"
		"Lists the serial ports (libserialport), with USB VID:PID, manufacturer, product\n"
		"and serial number where known. A NUCLEO's ST-LINK is USB 0483:374b (V2-1).\n"
		"--json prints one object per line with keys name, transport, description,\n"
		"usb_vid, usb_pid (\"0483\"), manufacturer, product, serial; null where unknown.\n"
		"QEMU's pseudo-terminals are not listed: 'micronas emulate' prints its port.\n");
}

/* ST-Microelectronics' ST-LINK virtual COM ports (V2-1, V3 variants). */
static int is_stlink(const struct mn_serial_port_info *p)
{
	static const int pids[] = {0x374b, 0x3752, 0x374e, 0x374f, 0x3753, 0x3754};
	if (p->usb_vid != 0x0483)
		return 0;
	for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++)
		if (p->usb_pid == pids[i])
			return 1;
	return 0;
}

static void json_hex_or_null(int v)
{
	if (v < 0)
		printf("null");
	else
		printf("\"%04x\"", v);
}

/* libserialport gives "" for what it does not know (any non-USB port's
 * manufacturer, product and serial): null, as for an unknown VID or PID,
 * so a reader tells "unknown" from a value by one test. */
static void json_string_or_null(const char *s)
{
	if (*s)
		mn_json_string(stdout, s);
	else
		printf("null");
}

int mn_cmd_ports(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct mn_serial_port_info *v;
	size_t n;
	int json = 0, ch;
	struct mn_error e;

	optind = 1;
	while ((ch = mn_cli_getopt("ports", argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'h': ports_usage(stdout); return MN_EXIT_OK;
		default:
			/* mn_cli_getopt said why. */
			return MN_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		mn_cli_error("ports", "unexpected argument '%s' (see 'micronas ports --help')",
			     argv[optind]);
		return MN_EXIT_USAGE;
	}
	if (mn_serial_list(&v, &n, e.msg, sizeof e.msg) != 0) {
		mn_cli_error("ports", "%s", e.msg);
		return MN_EXIT_ERROR;
	}
	if (!json && n == 0)
		fprintf(stderr, "micronas ports: no serial ports found (is the board plugged in? "
			"for QEMU use the port 'micronas emulate' prints)\n");
	if (!json && n > 0)
		printf("%-20s %-9s %-9s %-24s %-28s %s\n", "port", "transport", "VID:PID",
		       "manufacturer", "product", "description");
	for (size_t i = 0; i < n; i++) {
		const struct mn_serial_port_info *p = &v[i];
		if (json) {
			printf("{\"name\":");
			mn_json_string(stdout, p->name);
			printf(",\"transport\":");
			mn_json_string(stdout, p->transport);
			printf(",\"description\":");
			json_string_or_null(p->description);
			printf(",\"usb_vid\":");
			json_hex_or_null(p->usb_vid);
			printf(",\"usb_pid\":");
			json_hex_or_null(p->usb_pid);
			printf(",\"manufacturer\":");
			json_string_or_null(p->manufacturer);
			printf(",\"product\":");
			json_string_or_null(p->product);
			printf(",\"serial\":");
			json_string_or_null(p->serial);
			printf("}\n");
		} else {
			char id[16] = "-";
			if (p->usb_vid >= 0)
				snprintf(id, sizeof id, "%04x:%04x", p->usb_vid, p->usb_pid & 0xffff);
			printf("%-20s %-9s %-9s %-24s %-28s %s%s\n", p->name, p->transport, id,
			       *p->manufacturer ? p->manufacturer : "-", *p->product ? p->product : "-",
			       p->description, is_stlink(p) ? " (ST-LINK: a NUCLEO board?)" : "");
		}
	}
	free(v);
	return mn_cli_flush("ports", NULL);
}
