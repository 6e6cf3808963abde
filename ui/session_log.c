/* The session log: one timestamped line per event (search started,
 * cancelled, weights and limits changed, rounds decided, picks, board jobs,
 * validations, saves), kept in memory for `w` and, with --log FILE, also
 * appended to that file as it happens so a crash loses nothing. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"

/* Past this many lines the oldest half is dropped (a session left running
 * for days must not grow without bound); the live file keeps everything. */
#define TUI_LOG_MAX 20000

int tui_log_open(struct tui_log *l, const char *live_path, struct mn_error *e)
{
	memset(l, 0, sizeof *l);
	if (live_path) {
		l->live = fopen(live_path, "a");
		if (!l->live)
			return mn_error_set(e, "cannot open the log %s: %s (choose another --log path)",
					    live_path, strerror(errno));
	}
	return 0;
}

void tui_log_event(struct tui_log *l, const char *fmt, ...)
{
	char stamp[32], text[600], *line;
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	int len;

	if (localtime_r(&now, &tm) == NULL || strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof stamp, "%lld", (long long)now);
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	len = snprintf(NULL, 0, "%s  %s", stamp, text);
	if (len < 0)
		return;
	if (l->live && !l->live_failed) {
		/* Flushed per line: the file is the record if the session dies. */
		if (fprintf(l->live, "%s  %s\n", stamp, text) < 0 || fflush(l->live) != 0)
			l->live_failed = 1;
	}
	if (l->n == TUI_LOG_MAX) {
		size_t drop = TUI_LOG_MAX / 2;
		for (size_t i = 0; i < drop; i++)
			free(l->lines[i]);
		memmove(l->lines, l->lines + drop, (l->n - drop) * sizeof *l->lines);
		l->n -= drop;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **p = realloc(l->lines, cap * sizeof *p);
		if (!p)
			return; /* the event is lost from memory; the live file has it */
		l->lines = p;
		l->cap = cap;
	}
	line = malloc((size_t)len + 1);
	if (!line)
		return;
	snprintf(line, (size_t)len + 1, "%s  %s", stamp, text);
	l->lines[l->n++] = line;
}

int tui_log_write(const struct tui_log *l, FILE *f)
{
	for (size_t i = 0; i < l->n; i++)
		if (fprintf(f, "%s\n", l->lines[i]) < 0)
			return -1;
	return 0;
}

void tui_log_close(struct tui_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	if (l->live)
		(void)fclose(l->live); /* every line was flushed already */
	memset(l, 0, sizeof *l);
}
