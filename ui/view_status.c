/* The status lines: preset, data source, board, limits, weights and the
 * latency table in use. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

/* Writes "label value" at *x, then a separator; returns 0 once the line is
 * full. */
static int field(const struct tui_app *a, int y, int *x, int end, const char *label,
		 enum tui_style vst, const char *value)
{
	if (*x >= end)
		return 0;
	if (label && *label) {
		*x += tui_put(a, y, *x, end - *x, TS_TITLE, label);
		*x += tui_put(a, y, *x, end - *x, TS_NORMAL, " ");
	}
	*x += tui_put(a, y, *x, end - *x, vst, value);
	*x += tui_put(a, y, *x, end - *x, TS_DIM, tui_glyph(a, " \xe2\x94\x82 ", " | "));
	return *x < end;
}

static void limit_text(const struct tui_app *a, char *buf, size_t n)
{
	char l[32], s[32], f[32];
	const char *le = tui_glyph(a, "\xe2\x89\xa4", "<=");
	const struct mn_constraints *c = &a->limits;
	if (c->max_latency_ms > 0)
		snprintf(l, sizeof l, "lat%s%g ms", le, c->max_latency_ms);
	else
		snprintf(l, sizeof l, "lat any");
	if (c->max_sram_kb > 0)
		snprintf(s, sizeof s, "SRAM%s%g KB", le, c->max_sram_kb);
	else
		snprintf(s, sizeof s, "SRAM any");
	if (c->max_flash_kb > 0)
		snprintf(f, sizeof f, "flash%s%g KB", le, c->max_flash_kb);
	else
		snprintf(f, sizeof f, "flash any");
	snprintf(buf, n, "%s, %s, %s", l, s, f);
}

static void board_text(const struct tui_app *a, char *buf, size_t n, enum tui_style *st, int wide)
{
	const struct mn_board_job_snapshot *b = &a->bsnap;
	*st = TS_NORMAL;
	if (b->state == MN_BOARD_JOB_RUNNING && b->kind == MN_BOARD_JOB_EMULATE && !b->board_known) {
		snprintf(buf, n, "starting QEMU...");
		*st = TS_DIM;
	} else if (b->emulator_exited && b->state != MN_BOARD_JOB_RUNNING) {
		snprintf(buf, n, "QEMU %s (b starts it again)", b->emulator_exit);
		*st = TS_ERROR;
	} else if (b->board_known) {
		snprintf(buf, n, "%s%s fw %s%s%.200s", b->emulated ? "emulated " : "", b->board,
			 b->fw_version, wide ? " on " : "", wide ? b->port : "");
		*st = TS_OK;
	} else if (b->port[0]) {
		snprintf(buf, n, "%.200s (%s)", b->port,
			 b->state == MN_BOARD_JOB_RUNNING ? "connecting" : "no answer");
		*st = b->state == MN_BOARD_JOB_RUNNING ? TS_DIM : TS_ERROR;
	} else {
		snprintf(buf, n, "none (b picks one)");
		*st = TS_DIM;
	}
}

/* The atlas: how many archs it holds and whether it grows. */
static void atlas_text(const struct tui_app *a, char *buf, size_t n, enum tui_style *st)
{
	const struct tui_atlas *t = &a->atlas;
	int rows = t->state == TUI_ATLAS_LOADED ? t->atlas.n : 0;
	if (a->extend_running && a->extend_in_file > rows)
		rows = a->extend_in_file;
	*st = TS_NORMAL;
	if (t->state == TUI_ATLAS_ERROR) {
		snprintf(buf, n, "not used (see the log)");
		*st = TS_ERROR;
	} else if (a->extend_running || a->extend_active) {
		snprintf(buf, n, "%d/%d, extending %.1f/s (e pauses)", rows, MN_ARCH_COUNT, a->extend_rate);
		*st = TS_LATEST;
	} else if (a->extend_waiting) {
		snprintf(buf, n, "%d/%d, waits for the search", rows, MN_ARCH_COUNT);
		*st = TS_DIM;
	} else if (rows >= MN_ARCH_COUNT) {
		snprintf(buf, n, "complete");
	} else if (rows > 0) {
		snprintf(buf, n, "%d/%d%s", rows, MN_ARCH_COUNT, a->extend_paused ? " (e extends it)" : "");
	} else {
		snprintf(buf, n, "none%s", a->extend_paused ? " (e builds it)" : "");
		*st = TS_DIM;
	}
}

void view_status_draw(const struct tui_app *a, struct tui_rect r)
{
	char buf[MN_PRESET_PATH + 64];
	enum tui_style st;
	int wide = r.w >= 120;
	int end = r.x + r.w, x = r.x, y = r.y;
	if (r.h < 1)
		return;

	/* Line 1: what is searched. */
	field(a, y, &x, end, "", TS_TITLE, "micronas");
	field(a, y, &x, end, "preset", TS_NORMAL, a->preset_label);
	field(a, y, &x, end, "data", a->cfg->data_path ? TS_NORMAL : TS_DIM, a->data_label);
	if (a->have_oracle)
		field(a, y, &x, end, "oracle", TS_NORMAL, "NB201");
	atlas_text(a, buf, sizeof buf, &st);
	field(a, y, &x, end, "atlas", st, buf);
	if (r.h < 2)
		return;

	/* Line 2: where it runs and what estimates the latency. */
	x = r.x;
	y++;
	board_text(a, buf, sizeof buf, &st, wide);
	field(a, y, &x, end, "board", st, buf);
	if (a->have_session) {
		/* The file's name: a deep path would push the rest off the line
		 * (the full path is in the message when the table is loaded). */
		const char *origin = a->session->table_origin, *slash = strrchr(origin, '/');
		field(a, y, &x, end, "table", TS_DIM, slash ? slash + 1 : origin);
	}
	if (a->model.loaded) {
		/* The file's name, as the table's: the log has the path. */
		const char *slash = strrchr(a->model.path, '/');
		char v[TUI_FIELD_LEN + 16];
		snprintf(v, sizeof v, "%s%s", slash ? slash + 1 : a->model.path,
			 a->model.has_model ? " (+int8)" : "");
		field(a, y, &x, end, "model", TS_OK, v);
	}
	if (r.h < 3)
		return;

	/* Line 3: the knobs. */
	x = r.x;
	y++;
	limit_text(a, buf, sizeof buf);
	field(a, y, &x, end, "limits", TS_NORMAL, buf);
	snprintf(buf, sizeof buf, "flops %g, latency %g", a->w_flops, a->w_latency);
	field(a, y, &x, end, "weights", TS_NORMAL, buf);
	if (r.h < 4)
		return;
	/* Line 4 (tall terminals): the search settings. */
	x = r.x;
	y++;
	if (a->have_session) {
		const struct mn_preset *p = &a->session->preset;
		snprintf(buf, sizeof buf, "C=%d N=%d %dx%d, batch %d, repeat %d, seed %llu, %s init, %s "
			 "NTK gradient", p->channels, p->cells, p->height, p->width, p->batch,
			 p->repeat, (unsigned long long)p->seed, mn_init_mode_name(p->init),
			 mn_grad_mode_name(p->ntk_grad));
		field(a, y, &x, end, "search", TS_DIM, buf);
	}
}
