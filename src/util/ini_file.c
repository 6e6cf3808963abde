#include "util/ini_file.h"

#include <errno.h>
#include <float.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* State shared by our line reader and the inih handler during one parse. */
struct ini_ctx {
	const char *path;
	FILE *f;
	char *buf;        /* getline's buffer */
	size_t cap;
	int line;         /* number of the line last handed to inih */
	int stopped;      /* an error was recorded: hand inih no more lines */
	mn_ini_entry_fn entry_fn;
	mn_ini_section_fn section_fn;
	void *user;
	char *err;
	size_t errn;
};

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* Checks one raw line the way inih will read it, so that syntax problems
 * get a precise message (inih itself only reports "error on line N"), and
 * reports section headers, which inih does not pass to the handler. */
static int check_line(struct ini_ctx *c, char *s, size_t len, int max_line)
{
	if (strlen(s) != len) {
		snprintf(c->err, c->errn, "%s:%d: the line holds a NUL byte (this is not a text INI file; give the right file)",
			 c->path, c->line);
		return -1;
	}
	/* inih reads at most max_line - 1 bytes per line, newline included,
	 * and would split a longer line into pieces. */
	if (len > (size_t)max_line - 1 || (len == (size_t)max_line - 1 && s[len - 1] != '\n')) {
		snprintf(c->err, c->errn, "%s:%d: the line is longer than %d characters (shorten it)",
			 c->path, c->line, max_line - 2);
		return -1;
	}
	if (c->line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
	    (unsigned char)s[2] == 0xBF)
		s += 3; /* a UTF-8 byte order mark, which inih skips too */
	const char *p = s;
	while (*p && is_blank(*p))
		p++;
	if (*p == '\0' || *p == ';' || *p == '#')
		return 0; /* blank or comment */
	if (p != s) {
		/* inih reads an indented line as the continuation of the
		 * previous value; nobody means that in a preset. */
		snprintf(c->err, c->errn, "%s:%d: the line is indented (remove the leading spaces: an indented line would continue the previous value)",
			 c->path, c->line);
		return -1;
	}
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (!end) {
			snprintf(c->err, c->errn, "%s:%d: section header without ']' (write it as [name])",
				 c->path, c->line);
			return -1;
		}
		const char *q = end + 1;
		while (*q && is_blank(*q))
			q++;
		if (*q && *q != ';' && *q != '#') {
			snprintf(c->err, c->errn, "%s:%d: text after the section header (put only [name] on the line)",
				 c->path, c->line);
			return -1;
		}
		char name[64];
		size_t n = (size_t)(end - p - 1);
		if (n == 0 || n >= sizeof name) {
			snprintf(c->err, c->errn, "%s:%d: section name %s (write it as [name])", c->path,
				 c->line, n == 0 ? "is empty" : "is too long");
			return -1;
		}
		memcpy(name, p + 1, n);
		name[n] = '\0';
		if (c->section_fn && c->section_fn(c->user, name, c->line, c->err, c->errn) != 0)
			return -1;
		return 0;
	}
	if (!strpbrk(p, "=:")) {
		snprintf(c->err, c->errn, "%s:%d: expected 'key = value' or '[section]' (fix the line or comment it out with ';')",
			 c->path, c->line);
		return -1;
	}
	return 0;
}

static char *reader(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;
	if (c->stopped)
		return NULL;
	errno = 0;
	ssize_t len = getline(&c->buf, &c->cap, c->f);
	if (len < 0) {
		if (ferror(c->f)) {
			snprintf(c->err, c->errn, "%s:%d: read error: %s (check the file and the disk)",
				 c->path, c->line + 1, strerror(errno ? errno : EIO));
			c->stopped = 1;
		}
		return NULL;
	}
	c->line++;
	if (check_line(c, c->buf, (size_t)len, num) != 0) {
		c->stopped = 1;
		return NULL;
	}
	memcpy(str, c->buf, (size_t)len + 1);
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *c = user;
	if (c->stopped)
		return 0;
	if (c->entry_fn(c->user, section, name, value, c->line, c->err, c->errn) != 0) {
		c->stopped = 1;
		return 0;
	}
	return 1;
}

int mn_ini_parse(const char *path, mn_ini_entry_fn entry_fn, mn_ini_section_fn section_fn,
		 void *user, int *last_line, char *err, size_t errn)
{
	struct ini_ctx c = {0};
	struct stat st;

	c.path = path;
	c.entry_fn = entry_fn;
	c.section_fn = section_fn;
	c.user = user;
	c.err = err;
	c.errn = errn;
	if (errn)
		err[0] = '\0';
	c.f = fopen(path, "r");
	if (!c.f) {
		snprintf(err, errn, "%s: cannot open: %s (check the path%s)", path, strerror(errno),
			 errno == EACCES ? " and the file's permissions" : "");
		return -1;
	}
	if (fstat(fileno(c.f), &st) != 0 || S_ISDIR(st.st_mode)) {
		snprintf(err, errn, "%s: is a directory, not an INI file (give the path of the .ini file)", path);
		fclose(c.f);
		return -1;
	}
	int rc = ini_parse_stream(reader, &c, handler, &c);
	free(c.buf);
	if (fclose(c.f) != 0 && !c.stopped) {
		snprintf(err, errn, "%s: read error: %s (check the file and the disk)", path, strerror(errno));
		return -1;
	}
	if (last_line)
		*last_line = c.line;
	if (c.stopped)
		return -1;
	if (rc != 0) {
		/* Our line checks mirror inih's, so this is only a fallback. */
		if (rc > 0)
			snprintf(err, errn, "%s:%d: inih could not parse the line (write '[section]' or 'key = value')",
				 path, rc);
		else
			snprintf(err, errn, "%s: inih failed (%s) (check the file)", path,
				 rc == -2 ? "out of memory" : "cannot read");
		return -1;
	}
	return 0;
}

/* Only plain decimal notation: strtod's "inf", "nan" and hex forms are
 * rejected so that a typo cannot turn into a surprising number. */
static int plain_number(const char *s)
{
	if (!*s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return 0;
	return 1;
}

int mn_ini_names_flag(const char *what) { return strncmp(what, "--", 2) == 0; }

void mn_ini_subject(char *buf, size_t n, const char *what, const char *value)
{
	snprintf(buf, n, mn_ini_names_flag(what) ? "%s '%.40s'" : "%s = '%.40s'", what, value);
}

static void range_fix(char *buf, size_t n, double min, double max, int whole)
{
	char a[40], b[40];
	mn_ini_format_double(min, a, sizeof a);
	mn_ini_format_double(max, b, sizeof b);
	if (max >= DBL_MAX)
		snprintf(buf, n, "give a %s >= %s", whole ? "whole number" : "number", a);
	else
		snprintf(buf, n, "give a %s from %s to %s", whole ? "whole number" : "number", a, b);
}

int mn_ini_double(const char *what, const char *value, double min, double max,
		  double *out, char *err, size_t errn)
{
	char fix[120], subj[4200];
	range_fix(fix, sizeof fix, min, max, 0);
	mn_ini_subject(subj, sizeof subj, what, value);
	if (!*value) {
		snprintf(err, errn, "%s is empty (%s)", what, fix);
		return -1;
	}
	char *end;
	errno = 0;
	double v = plain_number(value) ? strtod(value, &end) : 0.0;
	if (!plain_number(value) || *end || errno == ERANGE || !isfinite(v)) {
		snprintf(err, errn, "%s is not a number (%s)", subj, fix);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errn, "%s is %s (%s)", subj,
			 v < 0 && min >= 0 ? "negative" : "out of range", fix);
		return -1;
	}
	*out = v;
	return 0;
}

int mn_ini_int(const char *what, const char *value, long min, long max, long *out,
	       char *err, size_t errn)
{
	char fix[120], subj[4200];
	snprintf(fix, sizeof fix, "give a whole number from %ld to %ld", min, max);
	mn_ini_subject(subj, sizeof subj, what, value);
	if (!*value) {
		snprintf(err, errn, "%s is empty (%s)", what, fix);
		return -1;
	}
	char *end;
	errno = 0;
	long v = plain_number(value) ? strtol(value, &end, 10) : 0;
	if (!plain_number(value) || *end || errno == ERANGE) {
		double d;
		char *dend;
		/* "72.5" or "1e3" is a number, just not a whole one. */
		int is_num = plain_number(value) && (d = strtod(value, &dend), !*dend) && isfinite(d);
		snprintf(err, errn, "%s is %s (%s)", subj,
			 !is_num ? "not a number" : errno == ERANGE ? "out of range" : "not a whole number", fix);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errn, "%s is %s (%s)", subj,
			 v < 0 && min >= 0 ? "negative" : "out of range", fix);
		return -1;
	}
	*out = v;
	return 0;
}

int mn_ini_number_at(const char *what, const char *value, int whole, double min, double max,
		     void *dst, char *err, size_t errn)
{
	if (whole) {
		long v;
		if (mn_ini_int(what, value, (long)min, (long)max, &v, err, errn) != 0)
			return -1;
		int iv = (int)v;
		memcpy(dst, &iv, sizeof iv);
	} else {
		double v;
		if (mn_ini_double(what, value, min, max, &v, err, errn) != 0)
			return -1;
		memcpy(dst, &v, sizeof v);
	}
	return 0;
}

int mn_ini_u64(const char *what, const char *value, uint64_t *out, char *err, size_t errn)
{
	const char *fix = "give a whole number from 0 to 18446744073709551615";
	char subj[4200];
	mn_ini_subject(subj, sizeof subj, what, value);
	if (!*value) {
		snprintf(err, errn, "%s is empty (%s)", what, fix);
		return -1;
	}
	if (value[0] == '-') {
		snprintf(err, errn, "%s is negative (%s)", subj, fix);
		return -1;
	}
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(err, errn, "%s is not a whole number (%s)", subj, fix);
			return -1;
		}
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(value, &end, 10);
	if (*end || errno == ERANGE || v > UINT64_MAX) {
		snprintf(err, errn, "%s is out of range (%s)", subj, fix);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

void mn_ini_format_double(double x, char *buf, size_t n)
{
	if (isinf(x) || isnan(x)) {
		snprintf(buf, n, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
		return;
	}
	/* Fixed notation reads best for the magnitudes in presets and latency
	 * tables ("9784.124", not "9.784124e+03"); the exponent form is only
	 * for the rest. */
	if (x == 0 || (fabs(x) >= 1e-6 && fabs(x) < 1e15)) {
		for (int d = 0; d <= 24; d++) {
			snprintf(buf, n, "%.*f", d, x);
			if (strtod(buf, NULL) == x)
				return;
		}
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			return;
	}
}
