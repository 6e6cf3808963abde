#include "cli.h"
#include "config/preset.h"
#include "search/result_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mn_cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "micronas%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A separate argument that getopt would hand over as a value although the
 * user most likely meant it as the next option. */
static int looks_like_option(const char *v)
{
	if (v[0] != '-' || v[1] == '\0')
		return 0;
	char *end;
	errno = 0;
	(void)strtod(v, &end);
	return end == v || *end != '\0';
}

int mn_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		  const struct option *longopts)
{
	opterr = 0;
	int ch = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (ch == '?') {
		const char *bad = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "?";
		mn_cli_error(cmd, "unknown or incomplete option '%s' (see 'micronas %s --help')", bad, cmd);
		return '?';
	}
	/* optarg is the whole next argv element exactly when the value was
	 * given separately ("--data X", "-o X"), not attached ("--data=X"). */
	if (ch != -1 && optarg && optind >= 3 && optarg == argv[optind - 1] &&
	    looks_like_option(optarg)) {
		const char *opt = argv[optind - 2];
		int is_long = opt[0] == '-' && opt[1] == '-';
		mn_cli_error(cmd, "%s needs a value but is followed by the option '%s' (give %s its value; "
			     "a value that starts with '-' is written %s%sVALUE)",
			     opt, optarg, opt, opt, is_long ? "=" : "");
		return '?';
	}
	return ch;
}

int mn_cli_batch_fits(const char *cmd, int batch, size_t count)
{
	if ((size_t)batch <= count)
		return 0;
	if (count >= 2)
		mn_cli_error(cmd, "--batch %d is larger than the %zu images given (give more images, or --batch %zu or less)",
			     batch, count, count);
	else
		mn_cli_error(cmd, "--batch %d is larger than the %zu images given (give at least 2 images)",
			     batch, count);
	return -1;
}

int mn_cli_int(const char *cmd, const char *opt, const char *text, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi) {
		mn_cli_error(cmd, "%s needs a whole number in %ld..%ld, got '%s'", opt, lo, hi, text);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int mn_cli_double(const char *cmd, const char *opt, const char *text, double lo, double hi,
		  double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < lo || v > hi) {
		mn_cli_error(cmd, "%s needs a number in %g..%g, got '%s'", opt, lo, hi, text);
		return -1;
	}
	*out = v;
	return 0;
}

int mn_cli_arch(const char *cmd, const char *text, struct mn_arch *out)
{
	struct mn_parse_error err;
	if (mn_arch_parse(text, out, &err) == 0)
		return 0;
	mn_cli_error(cmd, "bad arch string '%s' at column %zu: %s", text, err.pos + 1, err.msg);
	return -1;
}

int mn_cli_flush(const char *cmd, const char *what)
{
	if (fflush(stdout) == 0)
		return MN_EXIT_OK;
	mn_cli_error(cmd, "cannot write %s%sto standard output: %s (check the disk space or the pipe)",
		     what ? what : "", what ? " " : "", strerror(errno));
	return MN_EXIT_ERROR;
}

void mn_json_string(FILE *f, const char *s)
{
	/* A failed write shows in the caller's final fflush(stdout). */
	(void)mn_json_write_string(f, s);
}

int mn_cli_shape_option(const char *cmd, int ch, const char *text, struct mn_net_shape *shape)
{
	int *dst;
	const char *opt;
	long lo = 1, hi;
	switch (ch) {
	case 'c': dst = &shape->channels, opt = "--channels", hi = 1024; break;
	case 'n': dst = &shape->cells, opt = "--cells", hi = 64; break;
	case 'r':
		/* R for R x R, or HxW (e.g. 49x10 MFCC frames): one syntax with
		 * the presets' and latency tables' resolution. */
		if (mn_sides_parse(text, &shape->height, &shape->width) != 0) {
			mn_cli_error(cmd, "--resolution needs R or HxW, each side 4..1024 (e.g. 32 or 49x10), got '%s'",
				     text);
			return -1;
		}
		return 1;
	case 'k': dst = &shape->classes, opt = "--classes", hi = 100000; break;
	case 'i': dst = &shape->input_channels, opt = "--input-channels", hi = 4096; break;
	default: return 0;
	}
	return mn_cli_int(cmd, opt, text, lo, hi, dst) ? -1 : 1;
}

void mn_cli_shape_from(const struct mn_net_shape *flags, const struct mn_preset *p,
		       struct mn_net_shape *out)
{
	out->channels = flags->channels ? flags->channels : p->channels;
	out->cells = flags->cells ? flags->cells : p->cells;
	out->height = flags->height ? flags->height : p->height;
	out->width = flags->height ? mn_shape_width(flags) : p->width;
	out->classes = flags->classes ? flags->classes : p->classes;
	out->input_channels = flags->input_channels ? flags->input_channels : p->input_channels;
}

const char *mn_cli_limit_text(double limit_kb, char *buf, size_t n)
{
	if (limit_kb > 0)
		snprintf(buf, n, "; limit %g KB", limit_kb);
	else
		snprintf(buf, n, "; no limit");
	return buf;
}

void mn_cli_note_board_fit(const struct mn_preset *p, double sram_kb, double flash_kb)
{
	if (p->flash_kb > 0 && p->max_flash_kb <= 0 && flash_kb > p->flash_kb)
		fprintf(stderr,
			"micronas search: note: the pick needs %.1f KB of flash (the runtime's %.0f KB "
			"included), more than the %s's %.0f KB; --max-flash-kb %.0f searches only archs "
			"that fit\n",
			flash_kb, p->runtime_flash_kb, p->board_name, p->flash_kb, p->flash_kb);
	if (p->sram_kb > 0 && p->max_sram_kb <= 0 && sram_kb > p->sram_kb)
		fprintf(stderr,
			"micronas search: note: the pick needs %.1f KB of SRAM at its peak, more than the "
			"%s's %.0f KB; --max-sram-kb %.0f searches only archs that fit\n",
			sram_kb, p->board_name, p->sram_kb, p->sram_kb);
}
