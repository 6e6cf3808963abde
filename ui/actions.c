/* What the keys do.  Every action returns at once: the engine and the
 * board job run in their own threads and are only told what to do; the
 * results come back through their snapshots (ui/model.c). */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "keys.h"
#include "layout.h"
#include "board/profile.h"
#include "config/preset_find.h"
#include "board/transport.h"
#include "board/validate.h"


/* ---- the search ------------------------------------------------------- */

static int need_session(struct tui_app *a)
{
	if (a->have_session)
		return 1;
	tui_message(a, 1, "no search set up (pick a preset with P)");
	return 0;
}

static void start_stop(struct tui_app *a)
{
	if (!need_session(a))
		return;
	if (a->snap.state == MN_ENGINE_RUNNING) {
		mn_engine_cancel(a->session->engine);
		tui_log_event(&a->log, "search stop asked by the user");
		tui_message(a, 0, "stopping the search...");
		return;
	}
	if (a->rebuild) {
		tui_message(a, 1, "the search is being set up again; try in a moment");
		return;
	}
	struct mn_space_limits sl;
	mn_engine_space_limits(a->session->engine, &sl);
	if (sl.feasible_count == 0) {
		tui_message(a, 1,
			    "no arch fits the limits (smallest: %.2f ms, SRAM %.1f KB, flash %.1f KB); "
			    "edit them with c",
			    sl.min_latency_ms, sl.min_sram_kb, sl.min_flash_kb);
		return;
	}
	if (mn_engine_start(a->session->engine) != 0) {
		mn_engine_snapshot(a->session->engine, &a->snap);
		tui_message(a, 1, "cannot start the search: %s", a->snap.error);
		return;
	}
	a->view_round = -1;
	tui_log_event(&a->log,
		      "search started: preset %s, data %s, weights flops %g latency %g, limits "
		      "latency %g ms SRAM %g KB flash %g KB (0 = none), %d feasible archs",
		      a->preset_label, a->data_label, a->w_flops, a->w_latency,
		      a->limits.max_latency_ms, a->limits.max_sram_kb, a->limits.max_flash_kb,
		      sl.feasible_count);
	tui_message(a, 0, "search started (s stops it)");
}

/* Records a live edit as a flag, so that a preset picked later keeps it. */
static void remember(struct tui_app *a, enum mn_preset_field f, double v)
{
	char text[64];
	struct mn_error e;
	snprintf(text, sizeof text, "%.17g", v);
	if (mn_preset_set(&a->flags, f, text, "the TUI", NULL, &e) != 0)
		tui_log_event(&a->log, "could not keep %s for later presets: %s",
			      mn_preset_field_key(f), e.msg);
}

/* The TUI's engine measures the searches of every weight within
 * MN_LOOKAHEAD_RINGS key presses after each pick (engine.h), so that
 * f/F/l/L answer from the cache. */
void tui_session_ready(struct tui_app *a)
{
	a->have_session = 1;
	mn_engine_set_lookahead(a->session->engine, TUI_WEIGHT_STEP, MN_LOOKAHEAD_RINGS);
}

/* A corrupt or foreign cache file is replaced and a cache directory that
 * cannot be made means nothing is kept: the search still runs, so only a
 * warning tells the user (as micronas search's does) why values measured
 * earlier are measured again, or will not be kept. */
int tui_cache_notice(struct tui_app *a)
{
	const char *n = a->session->cache_notice;
	if (!n[0])
		return 0;
	tui_log_event(&a->log, "warning: %s", n);
	tui_message(a, 1, "warning: %s", n);
	return 1;
}

static void set_weights(struct tui_app *a, double wf, double wl)
{
	if (!need_session(a))
		return;
	if (wf < 0)
		wf = 0;
	if (wl < 0)
		wl = 0;
	if (wf > TUI_WEIGHT_MAX)
		wf = TUI_WEIGHT_MAX;
	if (wl > TUI_WEIGHT_MAX)
		wl = TUI_WEIGHT_MAX;
	a->w_flops = wf;
	a->w_latency = wl;
	remember(a, MN_PF_W_FLOPS, wf);
	remember(a, MN_PF_W_LATENCY, wl);
	/* A running search re-ranks at once by itself; a finished one is
	 * re-run (from the cache where it can).  One the user stopped stays
	 * stopped until s. */
	int rerun = a->snap.state == MN_ENGINE_DONE && !a->rebuild;
	mn_engine_set_weights(a->session->engine, wf, wl, rerun);
	tui_atlas_repick(a); /* within this frame: a pass over the atlas */
	/* The progress line says what the engine does; the message only
	 * what was asked (no state of its own that could go stale). */
	int live = rerun || a->snap.state == MN_ENGINE_RUNNING;
	tui_log_event(&a->log, "weights changed: flops %g latency %g%s", wf, wl,
		      live ? " (re-ranking)" : "");
	tui_message(a, 0, "weights: flops %g, latency %g", wf, wl);
}

static int apply_limits(struct tui_app *a, const struct mn_constraints *c, struct mn_error *e)
{
	struct mn_space_limits sl;
	mn_engine_space_limits_for(a->session->engine, c, &sl);
	/* Limits that each can be met may still exclude every arch together. */
	if (sl.feasible_count == 0)
		return mn_error_set(e, "no arch meets these limits together (the smallest alone: %.2f ms, "
				    "%.1f KB SRAM, %.1f KB flash)", sl.min_latency_ms, sl.min_sram_kb,
				    sl.min_flash_kb);
	a->limits = *c;
	remember(a, MN_PF_MAX_LATENCY_MS, c->max_latency_ms);
	remember(a, MN_PF_MAX_SRAM_KB, c->max_sram_kb);
	remember(a, MN_PF_MAX_FLASH_KB, c->max_flash_kb);
	int rerun = a->snap.state == MN_ENGINE_DONE && !a->rebuild;
	mn_engine_set_limits(a->session->engine, c, rerun);
	tui_atlas_repick(a);
	tui_log_event(&a->log, "limits changed: latency %g ms, SRAM %g KB, flash %g KB (0 = none)%s",
		      c->max_latency_ms, c->max_sram_kb, c->max_flash_kb,
		      rerun || a->snap.state == MN_ENGINE_RUNNING ? " (re-running)" : "");
	tui_message(a, 0, "limits: latency %g ms, SRAM %g KB, flash %g KB (0 = none)",
		    c->max_latency_ms, c->max_sram_kb, c->max_flash_kb);
	return 0;
}

/* ---- session rebuilds (preset or latency table changes) ----------------- */

/* Takes over *p (the caller no longer frees it). */
static void request_rebuild(struct tui_app *a, struct mn_preset *p, const char *label)
{
	if (a->rebuild)
		mn_preset_free(&a->rebuild_preset); /* the newer request wins */
	a->rebuild_preset = *p;
	mn_preset_defaults(p);
	snprintf(a->rebuild_label, sizeof a->rebuild_label, "%s", label);
	a->rebuild = 1;
	if (a->have_session && a->snap.state == MN_ENGINE_RUNNING) {
		mn_engine_cancel(a->session->engine);
		tui_message(a, 0, "stopping the search to switch to %s...", label);
	} else if (a->have_session && a->snap.lookahead) {
		mn_engine_cancel(a->session->engine); /* nothing to say: it was hidden */
	}
	tui_apply_rebuild(a);
}

void tui_apply_rebuild(struct tui_app *a)
{
	struct mn_error e;
	struct mn_preset old;
	if (!a->rebuild)
		return;
	if (a->have_session) {
		/* Only once the engine thread has stopped: freeing it joins the
		 * thread, which must not wait for evaluations. */
		mn_engine_snapshot(a->session->engine, &a->snap);
		if (a->snap.state == MN_ENGINE_RUNNING || a->snap.lookahead)
			return;
	}
	/* Nor while the atlas build reads the session's data (it is asked to
	 * stop; the loop tries again on its next tick). */
	if (tui_extend_busy(a->extend))
		return;
	int had = a->have_session;
	/* The old preset outlives its session, to fall back to. */
	if (had && mn_preset_copy(&old, &a->session->preset, &e) != 0) {
		tui_message(a, 1, "cannot switch to %s: %s", a->rebuild_label, e.msg);
		mn_preset_free(&a->rebuild_preset);
		a->rebuild = 0;
		return;
	}
	a->rebuild = 0;
	if (had)
		mn_session_free(a->session);
	a->have_session = 0;
	a->cache_error_said = 0;
	if (mn_session_init(a->session, &a->rebuild_preset, a->cfg->data_path, a->cfg->threads, e.msg,
			    sizeof e.msg) != 0) {
		tui_log_event(&a->log, "cannot switch to %s: %s", a->rebuild_label, e.msg);
		tui_message(a, 1, "cannot switch to %s: %s", a->rebuild_label, e.msg);
		if (had && mn_session_init(a->session, &old, a->cfg->data_path, a->cfg->threads, e.msg,
					   sizeof e.msg) == 0)
			tui_session_ready(a);
	} else {
		tui_session_ready(a);
		snprintf(a->preset_label, sizeof a->preset_label, "%s", a->rebuild_label);
		tui_log_event(&a->log, "set up %s: latency table %s", a->rebuild_label,
			      a->session->table_origin);
		tui_message(a, 0, "now %s (latency table: %s); s starts the search", a->rebuild_label,
			    a->session->table_origin);
		tui_cache_notice(a);
	}
	if (had)
		mn_preset_free(&old);
	mn_preset_free(&a->rebuild_preset);
	memset(&a->snap, 0, sizeof a->snap);
	a->snap_version = 0;
	a->seen_runs_ended = 0; /* a new engine counts from 0 */
	tui_clear_history(a);
	if (a->have_session) {
		const struct mn_preset *p = &a->session->preset;
		a->w_flops = p->w_flops;
		a->w_latency = p->w_latency;
		a->limits.max_latency_ms = p->max_latency_ms;
		a->limits.max_sram_kb = p->max_sram_kb;
		a->limits.max_flash_kb = p->max_flash_kb;
	}
	/* Other settings, another atlas (or none). */
	tui_atlas_open(a);
	if (a->atlas.state != TUI_ATLAS_LOADED || !a->have_session)
		tui_log_event(&a->log, "%s", a->atlas.status);
}

static void preset_chosen(struct tui_app *a, int i)
{
	struct mn_preset p;
	struct mn_error e;
	int builtin = a->list.kind_of[i] == ITEM_BUILTIN;
	const char *label = builtin ? "default (embedded)" : a->list.value[i];
	if (mn_preset_open_or_default(&p, builtin ? NULL : a->list.value[i], &e) != 0 ||
	    mn_preset_override(&p, &a->flags, &e) != 0) {
		mn_preset_free(&p);
		tui_message(a, 1, "%s", e.msg);
		return;
	}
	tui_log_event(&a->log, "preset %s chosen", label);
	request_rebuild(a, &p, builtin ? label : a->list.label[i]);
}

void tui_list_reset(struct tui_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->value[i]);
	memset(l, 0, sizeof *l);
}

/* An empty list box of this kind, shown from now on. */
static void list_begin(struct tui_app *a, enum tui_list_kind kind, const char *title)
{
	tui_list_reset(&a->list);
	a->list.kind = kind;
	snprintf(a->list.title, sizeof a->list.title, "%s", title);
}

/* Adds an entry without a value (the caller sets value[] for ITEM_VALUE). */
static int list_add(struct tui_app *a, enum tui_item kind, const char *label)
{
	int k = a->list.n++;
	a->list.kind_of[k] = kind;
	snprintf(a->list.label[k], sizeof a->list.label[k], "%s", label);
	return k;
}

/* The presets mn_preset_find() would find, in its order. */
static void open_presets(struct tui_app *a)
{
	struct mn_preset_entry *v;
	struct mn_error e;
	size_t n;
	list_begin(a, LIST_PRESETS, "Preset (the search restarts from scratch)");
	list_add(a, ITEM_BUILTIN, "default (embedded NUCLEO-F746ZG)");
	if (mn_preset_list(NULL, TUI_LIST_MAX - 1, &v, &n, &e) != 0) {
		snprintf(a->list.note, sizeof a->list.note, "%.190s", e.msg);
	} else {
		for (size_t i = 0; i < n; i++) {
			/* A preset that does not load is offered too, saying
			 * so: choosing it shows the whole error and its fix. */
			char label[160];
			snprintf(label, sizeof label, "%s%s%.120s", v[i].name,
				 v[i].error ? "  (does not load: " : "", v[i].error ? v[i].error : "");
			if (v[i].error && strlen(label) < sizeof label - 1)
				strcat(label, ")");
			int k = list_add(a, ITEM_VALUE, label);
			a->list.value[k] = v[i].path; /* the list takes it over */
			v[i].path = NULL;
		}
		mn_preset_list_free(v, n);
	}
	a->mode = MODE_LIST;
}

static void open_ports(struct tui_app *a)
{
	struct mn_serial_port_info *v = NULL;
	size_t n = 0;
	struct mn_error e;
	list_begin(a, LIST_PORTS, "Board");
	list_add(a, ITEM_BUILTIN, "emulated board (QEMU)");
	list_add(a, ITEM_TYPED, "other port... (type its name)");
	if (mn_serial_list(&v, &n, e.msg, sizeof e.msg) != 0) {
		snprintf(a->list.note, sizeof a->list.note, "listing serial ports failed: %.150s", e.msg);
	} else {
		if (n == 0)
			snprintf(a->list.note, sizeof a->list.note, "no serial ports found (is the board "
				 "plugged in?)");
		for (size_t i = 0; i < n && a->list.n < TUI_LIST_MAX; i++) {
			char *name = strdup(v[i].name), id[16] = "", label[160];
			if (!name)
				break; /* out of memory: the ports so far are offered */
			if (v[i].usb_vid >= 0)
				snprintf(id, sizeof id, " %04x:%04x", v[i].usb_vid, v[i].usb_pid & 0xffff);
			snprintf(label, sizeof label, "%.60s  %.60s%s", v[i].name, v[i].description, id);
			a->list.value[list_add(a, ITEM_VALUE, label)] = name;
		}
		free(v);
	}
	a->mode = MODE_LIST;
}

static void connect_port(struct tui_app *a, const char *port)
{
	struct mn_error e;
	if (mn_board_job_connect(a->board, port, e.msg, sizeof e.msg) != 0) {
		tui_message(a, 1, "%s", e.msg);
		return;
	}
	tui_log_event(&a->log, "board: connecting to %s", port);
	tui_message(a, 0, "connecting to %s...", port);
}

static void emulate(struct tui_app *a)
{
	struct mn_error e;
	if (tui_board_emulate(a, &e) != 0) {
		tui_message(a, 1, "%s", e.msg);
		return;
	}
	tui_message(a, 0, "starting the emulated board (QEMU)...");
}

static void port_chosen(struct tui_app *a, int i)
{
	if (a->list.kind_of[i] == ITEM_BUILTIN) {
		emulate(a);
	} else if (a->list.kind_of[i] == ITEM_TYPED) {
		memset(&a->form, 0, sizeof a->form);
		a->form.kind = FORM_PORT;
		snprintf(a->form.title, sizeof a->form.title, "Serial port");
		a->form.n = 1;
		snprintf(a->form.label[0], sizeof a->form.label[0], "port (/dev/..., unix:PATH)");
		a->mode = MODE_FORM;
		return;
	} else {
		connect_port(a, a->list.value[i]);
	}
}

/* ---- the board -------------------------------------------------------- */

static void profile(struct tui_app *a)
{
	struct mn_profile_opts po;
	struct mn_error e;
	if (tui_board_busy(a, MN_BOARD_JOB_PROFILE) || !need_session(a))
		return;
	if (!a->bsnap.port[0]) {
		tui_message(a, 1, "no board: pick a port or the emulated board with b");
		return;
	}
	/* In the working directory, named as micronas profile names it. */
	char *out = mn_profile_table_name(a->bsnap.board_known ? a->bsnap.board : NULL);
	if (!out) {
		tui_message(a, 1, "out of memory");
		return;
	}
	mn_profile_opts_default(&po);
	po.shape = a->session->search.shape;
	po.repeats = a->cfg->profile_repeats;
	po.output = out; /* the job keeps a copy */
	if (mn_board_job_profile(a->board, &po, e.msg, sizeof e.msg) != 0) {
		tui_message(a, 1, "%s", e.msg);
		free(out);
		return;
	}
	tui_log_event(&a->log, "profiling the board on %s into %s (%d repeats)", a->bsnap.port, out,
		      po.repeats);
	tui_message(a, 0, "profiling into %s (p again or x cancels)", out);
	free(out);
}

static void validate(struct tui_app *a)
{
	char arch[MN_ARCH_STRLEN];
	struct mn_error e;
	if (tui_board_busy(a, MN_BOARD_JOB_VALIDATE) || !need_session(a))
		return;
	if (!a->have_done) {
		tui_message(a, 1, "no pick to validate yet: run the search (s) first");
		return;
	}
	if (!a->bsnap.port[0]) {
		tui_message(a, 1, "no board: pick a port or the emulated board with b");
		return;
	}
	if (mn_board_job_validate(a->board, &a->done_snap.result, &a->session->search.shape,
				  &a->session->table, MN_VALIDATE_SEED, e.msg, sizeof e.msg) != 0) {
		tui_message(a, 1, "%s", e.msg);
		return;
	}
	mn_arch_format(&a->done_snap.result, arch, sizeof arch);
	tui_log_event(&a->log, "validating %s on %s", arch, a->bsnap.port);
	if (tui_note_stale_table(a))
		return;
	tui_message(a, 0, "validating the pick on the board (v again or x cancels)...");
}

static void use_table(struct tui_app *a)
{
	struct mn_preset p;
	struct mn_error e;
	char label[MN_PRESET_PATH + 32];
	if (!a->bsnap.has_profile) {
		tui_message(a, 1, "no profiled table yet: p profiles the board");
		return;
	}
	if (!need_session(a))
		return;
	if (mn_preset_set(&a->flags, MN_PF_LATENCY_TABLE, a->bsnap.table_path, "the TUI", NULL, &e) != 0 ||
	    mn_preset_copy(&p, &a->session->preset, &e) != 0) {
		tui_message(a, 1, "%s", e.msg);
		return;
	}
	if (mn_preset_override(&p, &a->flags, &e) != 0) {
		mn_preset_free(&p);
		tui_message(a, 1, "%s", e.msg);
		return;
	}
	snprintf(label, sizeof label, "%s", a->preset_label);
	tui_log_event(&a->log, "searching with the profiled table %s", a->bsnap.table_path);
	request_rebuild(a, &p, label);
}

/* ---- forms ------------------------------------------------------------- */

static void open_form(struct tui_app *a, enum tui_form_kind kind)
{
	memset(&a->form, 0, sizeof a->form);
	a->form.kind = kind;
	switch (kind) {
	case FORM_WEIGHTS:
		snprintf(a->form.title, sizeof a->form.title, "Weights of the hardware ranks");
		a->form.n = 2;
		snprintf(a->form.label[0], sizeof a->form.label[0], "FLOPs weight");
		snprintf(a->form.label[1], sizeof a->form.label[1], "latency weight");
		snprintf(a->form.value[0], TUI_FIELD_LEN, "%g", a->w_flops);
		snprintf(a->form.value[1], TUI_FIELD_LEN, "%g", a->w_latency);
		break;
	case FORM_LIMITS:
		snprintf(a->form.title, sizeof a->form.title, "Hard limits (0 = none)");
		a->form.n = 3;
		snprintf(a->form.label[0], sizeof a->form.label[0], "max latency ms");
		snprintf(a->form.label[1], sizeof a->form.label[1], "max SRAM KB");
		snprintf(a->form.label[2], sizeof a->form.label[2], "max flash KB");
		snprintf(a->form.value[0], TUI_FIELD_LEN, "%g", a->limits.max_latency_ms);
		snprintf(a->form.value[1], TUI_FIELD_LEN, "%g", a->limits.max_sram_kb);
		snprintf(a->form.value[2], TUI_FIELD_LEN, "%g", a->limits.max_flash_kb);
		break;
	case FORM_SAVE:
		snprintf(a->form.title, sizeof a->form.title, "Save BASE.json, BASE.arch, BASE.log");
		a->form.n = 1;
		snprintf(a->form.label[0], sizeof a->form.label[0], "base name");
		snprintf(a->form.value[0], TUI_FIELD_LEN, "%s",
			 a->cfg->save_base ? a->cfg->save_base : "micronas-result");
		break;
	case FORM_PORT:
		break;
	case FORM_MODEL:
		tui_model_form(a);
		break;
	}
	a->mode = MODE_FORM;
}

static int parse_number(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void form_apply(struct tui_app *a)
{
	struct tui_form *f = &a->form;
	struct mn_error e;
	double v[TUI_FORM_FIELDS];
	f->error[0] = '\0';
	switch (f->kind) {
	case FORM_WEIGHTS:
	case FORM_LIMITS: {
		double max = f->kind == FORM_WEIGHTS ? TUI_WEIGHT_MAX : TUI_LIMIT_MAX;
		if (!need_session(a)) {
			a->mode = MODE_NORMAL;
			return;
		}
		for (int i = 0; i < f->n; i++)
			if (parse_number(f->value[i], 0, max, &v[i]) != 0) {
				snprintf(f->error, sizeof f->error, "%s: not a number in 0..%g", f->label[i], max);
				f->focus = i;
				return;
			}
		if (f->kind == FORM_WEIGHTS) {
			set_weights(a, v[0], v[1]);
		} else {
			struct mn_constraints c = {v[0], v[1], v[2]};
			if (apply_limits(a, &c, &e) != 0) {
				snprintf(f->error, sizeof f->error, "%.390s", e.msg);
				return;
			}
		}
		break;
	}
	case FORM_SAVE: {
		char base[TUI_FIELD_LEN];
		snprintf(base, sizeof base, "%s", f->value[0]);
		size_t len = strlen(base);
		if (len > 5 && !strcmp(base + len - 5, ".json"))
			base[len - 5] = '\0';
		if (!base[0]) {
			snprintf(f->error, sizeof f->error, "give a base name");
			return;
		}
		if (tui_save(a, base, &e) != 0) {
			snprintf(f->error, sizeof f->error, "%.390s", e.msg);
			return;
		}
		break;
	}
	case FORM_PORT:
		if (!f->value[0][0]) {
			snprintf(f->error, sizeof f->error, "give a port name");
			return;
		}
		connect_port(a, f->value[0]);
		break;
	case FORM_MODEL:
		if (tui_model_form_apply(a) != 0)
			return;
		break;
	}
	a->mode = MODE_NORMAL;
}

static void form_key(struct tui_app *a, int ch)
{
	struct tui_form *f = &a->form;
	char *v = f->value[f->focus];
	size_t len = strlen(v);
	switch (ch) {
	case 27: /* Esc */
		a->mode = MODE_NORMAL;
		tui_message(a, 0, "cancelled");
		return;
	case '\n':
	case '\r':
	case KEY_ENTER:
		form_apply(a);
		return;
	case '\t':
	case KEY_DOWN:
		f->focus = (f->focus + 1) % f->n;
		return;
	case KEY_BTAB:
	case KEY_UP:
		f->focus = (f->focus + f->n - 1) % f->n;
		return;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (len)
			v[len - 1] = '\0';
		return;
	case 21: /* Ctrl-U: clear the field */
		v[0] = '\0';
		return;
	default:
		if (ch >= 32 && ch < 127 && len + 1 < TUI_FIELD_LEN) {
			v[len] = (char)ch;
			v[len + 1] = '\0';
		}
	}
}

static void list_key(struct tui_app *a, int ch)
{
	struct tui_list *l = &a->list;
	switch (ch) {
	case 27:
	case 'q':
		a->mode = MODE_NORMAL;
		return;
	case KEY_UP:
	case 'k':
		if (l->sel > 0)
			l->sel--;
		return;
	case KEY_DOWN:
	case 'j':
		if (l->sel + 1 < l->n)
			l->sel++;
		return;
	case KEY_HOME:
		l->sel = 0;
		return;
	case KEY_END:
		l->sel = l->n - 1;
		return;
	case '\n':
	case '\r':
	case KEY_ENTER:
		a->mode = MODE_NORMAL;
		if (l->kind == LIST_PRESETS)
			preset_chosen(a, l->sel);
		else
			port_chosen(a, l->sel);
		return;
	default:
		return;
	}
}

/* ---- the rankings' navigation ------------------------------------------ */

enum scroll_step {
	SCROLL_LINE_UP, SCROLL_LINE_DOWN, SCROLL_PAGE_UP, SCROLL_PAGE_DOWN, SCROLL_TOP, SCROLL_END
};

static void scroll_by(struct tui_app *a, enum scroll_step step)
{
	struct tui_layout lay;
	const struct mn_round *r = tui_shown_round(a, NULL);
	tui_layout(LINES, COLS, tui_message_lines(a, COLS), &lay);
	int rows = view_rankings_rows(lay.rankings.h);
	int page = rows > 1 ? rows - 1 : 1;
	int n = r ? r->n : 0;
	int max = n > rows ? n - rows : 0;
	switch (step) {
	case SCROLL_LINE_UP: a->scroll -= 1; break;
	case SCROLL_LINE_DOWN: a->scroll += 1; break;
	case SCROLL_PAGE_UP: a->scroll -= page; break;
	case SCROLL_PAGE_DOWN: a->scroll += page; break;
	case SCROLL_TOP: a->scroll = 0; break;
	case SCROLL_END: a->scroll = max; break;
	}
	if (a->scroll > max)
		a->scroll = max;
	if (a->scroll < 0)
		a->scroll = 0;
}

static void view_round_step(struct tui_app *a, int d)
{
	int n = a->snap.n_rounds > 0 ? a->snap.n_rounds : (a->have_done ? a->done_snap.n_rounds : 0);
	int cur = a->view_round >= 0 ? a->view_round : n - 1;
	if (n <= 0)
		return;
	cur += d;
	if (cur < 0)
		cur = 0;
	/* Past the last round: follow the search again. */
	a->view_round = cur >= n - 1 ? -1 : cur;
	a->scroll = 0;
}

/* ---- the key dispatcher -------------------------------------------------- */

void tui_key(struct tui_app *a, int ch)
{
	char colname[64];
	if (a->mode == MODE_HELP) {
		/* A short terminal shows the keys in pages: Down and Up turn
		 * them, any other key closes the help. */
		size_t n;
		(void)tui_key_rows(&n);
		int fit = view_help_fit(a->help_top, LINES, COLS);
		if ((ch == KEY_DOWN || ch == KEY_NPAGE) && a->help_top + fit < (int)n) {
			a->help_top += fit;
			return;
		}
		if ((ch == KEY_UP || ch == KEY_PPAGE) && a->help_top > 0) {
			a->help_top = view_help_back(a->help_top, LINES, COLS);
			return;
		}
		a->mode = MODE_NORMAL;
		return;
	}
	if (a->mode == MODE_FORM) {
		form_key(a, ch);
		return;
	}
	if (a->mode == MODE_LIST) {
		list_key(a, ch);
		return;
	}
	switch (tui_key_action(ch)) {
	case ACT_NONE: break;
	case ACT_QUIT: a->quit = 1; break;
	case ACT_HELP: a->mode = MODE_HELP, a->help_top = 0; break;
	case ACT_SEARCH: start_stop(a); break;
	case ACT_FLOPS_DOWN: set_weights(a, a->w_flops - TUI_WEIGHT_STEP, a->w_latency); break;
	case ACT_FLOPS_UP: set_weights(a, a->w_flops + TUI_WEIGHT_STEP, a->w_latency); break;
	case ACT_LATENCY_DOWN: set_weights(a, a->w_flops, a->w_latency - TUI_WEIGHT_STEP); break;
	case ACT_LATENCY_UP: set_weights(a, a->w_flops, a->w_latency + TUI_WEIGHT_STEP); break;
	case ACT_WEIGHTS_FORM: if (need_session(a)) open_form(a, FORM_WEIGHTS); break;
	case ACT_LIMITS_FORM: if (need_session(a)) open_form(a, FORM_LIMITS); break;
	case ACT_SAVE:
		if (!a->have_done)
			tui_message(a, 1, "nothing to save yet: run the search (s) first");
		else
			open_form(a, FORM_SAVE);
		break;
	case ACT_SORT_NEXT:
		a->sort_col = (a->sort_col + 1) % COL_COUNT;
		tui_message(a, 0, "sorted by %s", tui_col_name(a->sort_col, colname, sizeof colname));
		break;
	case ACT_SORT_PREV:
		a->sort_col = (a->sort_col + COL_COUNT - 1) % COL_COUNT;
		tui_message(a, 0, "sorted by %s", tui_col_name(a->sort_col, colname, sizeof colname));
		break;
	case ACT_SORT_REVERSE:
		a->sort_desc = !a->sort_desc;
		tui_message(a, 0, "sorted by %s, %s", tui_col_name(a->sort_col, colname, sizeof colname),
			    a->sort_desc ? "descending" : "ascending");
		break;
	case ACT_ROUND_PREV: view_round_step(a, -1); break;
	case ACT_ROUND_NEXT: view_round_step(a, 1); break;
	case ACT_SCROLL_UP: scroll_by(a, SCROLL_LINE_UP); break;
	case ACT_SCROLL_DOWN: scroll_by(a, SCROLL_LINE_DOWN); break;
	case ACT_PAGE_UP: scroll_by(a, SCROLL_PAGE_UP); break;
	case ACT_PAGE_DOWN: scroll_by(a, SCROLL_PAGE_DOWN); break;
	case ACT_SCROLL_TOP: scroll_by(a, SCROLL_TOP); break;
	case ACT_SCROLL_END: scroll_by(a, SCROLL_END); break;
	case ACT_PRESETS: open_presets(a); break;
	case ACT_BOARD: open_ports(a); break;
	case ACT_PROFILE: profile(a); break;
	case ACT_VALIDATE:
		if (a->model.loaded)
			tui_model_validate(a);
		else
			validate(a);
		break;
	case ACT_MODEL_FORM: open_form(a, FORM_MODEL); break;
	case ACT_USE_TABLE: use_table(a); break;
	case ACT_CANCEL_BOARD:
		if (a->bsnap.state == MN_BOARD_JOB_RUNNING) {
			mn_board_job_cancel(a->board);
			tui_message(a, 0, "cancelling the board's %s...", mn_board_job_kind_name(a->bsnap.kind));
		} else {
			tui_message(a, 0, "no board job running");
		}
		break;
	case ACT_ATLAS_RELOAD:
		if (need_session(a)) {
			tui_atlas_open(a);
			tui_log_event(&a->log, "%s", a->atlas.status);
			tui_message(a, a->atlas.state == TUI_ATLAS_ERROR, "%s", a->atlas.status);
		}
		break;
	case ACT_ATLAS_EXTEND:
		a->extend_paused = !a->extend_paused;
		if (!a->extend)
			tui_message(a, 1, "the atlas cannot be extended in the background (see the log)");
		else if (a->extend_paused)
			tui_message(a, 0, "atlas extension paused (e resumes)");
		else
			tui_message(a, 0, "extending the atlas while the search is idle (e pauses)");
		tui_log_event(&a->log, "atlas extension %s", a->extend_paused ? "paused" : "resumed");
		break;
	case ACT_PLOT_TOGGLE:
		a->plot_candidates = !a->plot_candidates;
		if (a->atlas.state != TUI_ATLAS_LOADED)
			tui_message(a, 0, "no atlas loaded: the pane shows the search's candidates (a loads it)");
		else
			tui_message(a, 0, "trade-off pane: %s", a->plot_candidates ? "the search's candidates"
										   : "the atlas");
		break;
	case ACT_REDRAW: /* Ctrl-L: the next refresh repaints everything */
		if (clearok(curscr, TRUE) == ERR)
			tui_message(a, 1, "cannot redraw the screen");
		break;
	}
}
