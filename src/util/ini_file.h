/* Reading INI files through inih with the line number of every entry, and
 * strict parsing of their values.
 *
 * inih's handler is not told the line it is called for (INI_HANDLER_LINENO
 * is a compile-time option of the library, off in Debian's build), yet every
 * error about a preset or a latency table must name FILE:LINE.  So the file
 * is fed to ini_parse_stream() through our own line reader, which counts the
 * lines it hands out: inih calls the handler for a line before it asks for
 * the next one, so the reader's count is the handler's line. */
#ifndef MN_INI_FILE_H
#define MN_INI_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Called once per "key = value" line.  Returns 0 to go on, -1 after
 * filling err (a full "FILE:LINE: problem (fix)" line) to stop. */
typedef int (*mn_ini_entry_fn)(void *user, const char *section, const char *key,
			       const char *value, int line, char *err, size_t errn);
/* Called once per "[section]" header line (inih itself does not report
 * sections that hold no keys, so the reader spots the headers). */
typedef int (*mn_ini_section_fn)(void *user, const char *section, int line,
				 char *err, size_t errn);

/* Parses path; section_fn may be NULL.  On error returns -1 with err holding
 * one line naming the file (and line where there is one), the problem and
 * the fix.  *last_line (may be NULL) receives the number of lines read, so
 * "missing entry" errors can point at the end of the file. */
int mn_ini_parse(const char *path, mn_ini_entry_fn entry_fn, mn_ini_section_fn section_fn,
		 void *user, int *last_line, char *err, size_t errn);

/* How an error quotes a value: "WHAT = 'VALUE'" for a file's key (what is
 * "FILE:LINE: [section] key"), "WHAT 'VALUE'" for a command-line flag (what
 * starts with "--": a flag is not written "key = value"). */
void mn_ini_subject(char *buf, size_t n, const char *what, const char *value);
/* Whether what names a command-line flag (starts with "--") rather than a
 * file's key: the rule mn_ini_subject quotes by. */
int mn_ini_names_flag(const char *what);

/* Strict value parsers: the whole value must be the number (no trailing
 * text), finite, and within [min, max].  On failure they return -1 and write
 * "FILE:LINE: [section] key = 'value' <problem> (<fix>)" into err, where
 * what = "FILE:LINE: [section] key" is built by the caller (a flag's:
 * "--flag 'value' <problem> (<fix>)", see mn_ini_subject). */
int mn_ini_double(const char *what, const char *value, double min, double max,
		  double *out, char *err, size_t errn);
int mn_ini_int(const char *what, const char *value, long min, long max, long *out,
	       char *err, size_t errn);
int mn_ini_u64(const char *what, const char *value, uint64_t *out, char *err, size_t errn);
/* For readers that fill a struct from a table of keys and offsets: the
 * value checked as mn_ini_int (whole) or mn_ini_double, stored in the int
 * or the double at dst. */
int mn_ini_number_at(const char *what, const char *value, int whole, double min, double max,
		     void *dst, char *err, size_t errn);

/* Writes the shortest decimal form of x that reads back as exactly x, so a
 * written file round-trips bit for bit and stays readable. */
void mn_ini_format_double(double x, char *buf, size_t n);

#endif
