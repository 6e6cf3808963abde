/* Pruning progress (round, candidate, bar, elapsed, ETA), the pick, the
 * board's job or last validation, and the supernet's remaining ops. */
#include "config.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

static void fmt_secs(char *buf, size_t n, double s)
{
	if (!(s >= 0))
		snprintf(buf, n, "?");
	else if (s < 60)
		snprintf(buf, n, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

void view_progress_draw(const struct tui_app *a, struct tui_rect r)
{
	const struct mn_engine_snapshot *s = &a->snap;
	char el[32], eta[32], head[160], tail[160];
	int x = r.x, end = r.x + r.w;
	enum tui_style st = TS_NORMAL;
	double frac = 0;
	if (r.h < 1)
		return;
	x += tui_put(a, r.y, x, end - x, TS_TITLE, "Search ");
	if (a->rebuild) {
		tui_put(a, r.y, x, end - x, TS_DIM, "setting up again...");
		return;
	}
	if (!a->have_session) {
		tui_put(a, r.y, x, end - x, TS_ERROR, "not set up (P picks a preset)");
		return;
	}
	fmt_secs(el, sizeof el, s->elapsed_s);
	fmt_secs(eta, sizeof eta, s->eta_s);
	tail[0] = '\0';
	switch (s->state) {
	case MN_ENGINE_IDLE:
		tui_put(a, r.y, x, end - x, TS_DIM, "idle: s starts it");
		return;
	case MN_ENGINE_RUNNING:
		/* The bar is the whole search's work (values known of those
		 * the current plan needs): it never goes back on a weight or
		 * limit change. */
		snprintf(head, sizeof head, "RUNNING round %d/3 cand %d/%d ", s->round + 1, s->done,
			 s->total);
		snprintf(tail, sizeof tail, " %d/%d %s ETA %s", s->work_done, s->work_total, el, eta);
		frac = s->work_total > 0 ? (double)s->work_done / s->work_total : 0;
		st = TS_LATEST;
		break;
	case MN_ENGINE_DONE:
		snprintf(head, sizeof head, "DONE round %d/3 cand %d/%d ", s->n_rounds, s->total,
			 s->total);
		fmt_secs(el, sizeof el, s->search_seconds);
		/* the look-ahead (engine.h): why the CPU is still busy */
		if (s->lookahead)
			snprintf(tail, sizeof tail, " done in %s, %d evaluations, measuring ahead %d/%d",
				 el, s->evaluations, s->lookahead_done, s->lookahead_total);
		else
			snprintf(tail, sizeof tail, " done in %s, %d evaluations", el, s->evaluations);
		frac = 1;
		st = TS_OK;
		break;
	case MN_ENGINE_CANCELLED:
		snprintf(head, sizeof head, "STOPPED round %d/3 cand %d/%d ", s->round + 1, s->done,
			 s->total);
		snprintf(tail, sizeof tail, " %s (s resumes)", el);
		frac = s->work_total > 0 ? (double)s->work_done / s->work_total : 0;
		st = TS_ERROR;
		break;
	case MN_ENGINE_FAILED:
		x += tui_put(a, r.y, x, end - x, TS_ERROR, "FAILED: ");
		tui_put(a, r.y, x, end - x, TS_ERROR, s->error);
		return;
	}
	x += tui_put(a, r.y, x, end - x, st, head);
	/* The bar takes what the text leaves, within reason. */
	int bw = end - x - (int)strlen(tail);
	if (bw > 40)
		bw = 40;
	if (bw >= 5) {
		tui_bar(a, r.y, x, bw, frac);
		x += bw;
	}
	tui_put(a, r.y, x, end - x, TS_NORMAL, tail);
}

void view_pick_draw(const struct tui_app *a, struct tui_rect r)
{
	char arch[MN_ARCH_STRLEN], buf[400];
	int x = r.x, end = r.x + r.w;
	if (r.h < 1)
		return;
	/* While the search runs: the arch it heads to, marked provisional;
	 * the final pick replaces it when the run ends. */
	if (a->snap.state == MN_ENGINE_RUNNING && a->snap.has_provisional) {
		struct mn_arch pa = a->snap.provisional;
		x += tui_put(a, r.y, x, end - x, TS_TITLE, "Pick   ");
		if (r.w >= 170)
			mn_arch_format(&pa, arch, sizeof arch);
		else
			tui_arch_compact(&pa, arch, sizeof arch);
		x += tui_put(a, r.y, x, end - x, TS_LATEST, arch);
		x += tui_put(a, r.y, x, end - x, TS_DIM, "  provisional");
		if (a->have_oracle) {
			const struct mn_oracle_entry *o = mn_oracle_get(&a->oracle, &pa);
			if (o) {
				snprintf(buf, sizeof buf, "  acc %.2f%%", o->acc);
				x += tui_put(a, r.y, x, end - x, TS_DIM, buf);
			}
		}
		tui_put(a, r.y, x, end - x, TS_DIM, " (the search heads there; the final pick replaces it)");
		return;
	}
	if (a->current_pick < 0 || !a->have_done) {
		x += tui_put(a, r.y, x, end - x, TS_TITLE, "Pick   ");
		tui_put(a, r.y, x, end - x, TS_DIM, "none yet");
		return;
	}
	const struct tui_pick *p = &a->picks[a->current_pick];
	int stale = a->snap.state == MN_ENGINE_RUNNING;
	x += tui_put(a, r.y, x, end - x, TS_TITLE, stale ? "Pick*  " : "Pick   ");
	if (r.w >= 170)
		mn_arch_format(&p->arch, arch, sizeof arch);
	else
		tui_arch_compact(&p->arch, arch, sizeof arch);
	x += tui_put(a, r.y, x, end - x, TS_CURRENT, arch);
	if (isfinite(p->oracle)) {
		snprintf(buf, sizeof buf, "  acc %.2f%%", p->oracle);
		x += tui_put(a, r.y, x, end - x, TS_OK, buf);
	}
	snprintf(buf, sizeof buf, "  %.1f ms  %.1f MFLOPs", p->latency_ms, p->flops_m);
	x += tui_put(a, r.y, x, end - x, TS_NORMAL, buf);
	const struct mn_preset *bp = a->have_session ? &a->session->preset : NULL;
	x += tui_put_memory(a, r.y, x, end - x, "SRAM", 1, p->sram_kb, bp ? bp->sram_kb : 0, 1);
	x += tui_put_memory(a, r.y, x, end - x, "flash", 0, p->flash_kb, bp ? bp->flash_kb : 0, 1);
	if (stale)
		tui_put(a, r.y, x, end - x, TS_DIM, "  (previous run)");
}

static void validation_line(const struct tui_app *a, int y, int x, int end)
{
	const struct mn_validation *v = &a->bsnap.validation;
	char buf[300];
	int same = v->measured_sram_bytes == v->estimated_sram_bytes;
	x += tui_put(a, y, x, end - x, TS_TITLE, "Valid  ");
	char pct[32];
	snprintf(buf, sizeof buf, "measured %.1f ms, est %.1f ms, err %s%%", v->measured_us / 1000,
		 v->estimated_us / 1000, tui_signed(pct, sizeof pct, v->error_pct, 1));
	x += tui_put(a, y, x, end - x, TS_NORMAL, buf);
	/* Measured / estimated peak SRAM: the model must match exactly. */
	snprintf(buf, sizeof buf, "  SRAM %.1f/%.1f KB %s", v->measured_sram_bytes / 1024.0,
		 v->estimated_sram_bytes / 1024.0, same ? tui_glyph(a, "\xe2\x9c\x93", "ok") : "DIFFERS");
	x += tui_put(a, y, x, end - x, same ? TS_OK : TS_ERROR, buf);
	if (v->emulated)
		x += tui_put(a, y, x, end - x, TS_DIM, "  (QEMU: instruction counts)");
	/* A validation of an earlier pick says so. */
	if (a->current_pick >= 0) {
		char cur[MN_ARCH_STRLEN];
		mn_arch_format(&a->picks[a->current_pick].arch, cur, sizeof cur);
		if (strcmp(cur, v->arch) != 0)
			tui_put(a, y, x, end - x, TS_DIM, "  (an earlier pick)");
	}
}

/* The deployed model's last run (weights loaded with m). */
static void model_line(const struct tui_app *a, int y, int x, int end)
{
	const struct mn_board_model_result *m = &a->bsnap.model;
	char buf[300], pct[32];
	int same = m->peak_bytes == m->estimated_sram_bytes, exact = m->exact == m->images;
	double err = m->measured_us > 0 ? (m->estimated_us - m->measured_us) / m->measured_us * 100 : 0;
	x += tui_put(a, y, x, end - x, TS_TITLE, "Model  ");
	snprintf(buf, sizeof buf, "%.1f ms, est %.1f ms, err %s%%", m->measured_us / 1000,
		 m->estimated_us / 1000, tui_signed(pct, sizeof pct, err, 1));
	x += tui_put(a, y, x, end - x, TS_NORMAL, buf);
	snprintf(buf, sizeof buf, "  SRAM %.1f/%.1f KB", m->peak_bytes / 1024.0,
		 m->estimated_sram_bytes / 1024.0);
	x += tui_put(a, y, x, end - x, same ? TS_OK : TS_ERROR, buf);
	snprintf(buf, sizeof buf, "  int8 exact %d/%d", m->exact, m->images);
	x += tui_put(a, y, x, end - x, exact ? TS_OK : TS_ERROR, buf);
	snprintf(buf, sizeof buf, "  top-1=float %d/%d", m->agree_float, m->images);
	x += tui_put(a, y, x, end - x, TS_NORMAL, buf);
	if (m->labelled) {
		snprintf(buf, sizeof buf, "  acc int8 %.1f%% float %.1f%%",
			 100.0 * m->correct_int8 / m->labelled, 100.0 * m->correct_float / m->labelled);
		x += tui_put(a, y, x, end - x, TS_NORMAL, buf);
	}
	if (m->emulated)
		tui_put(a, y, x, end - x, TS_DIM, "  (QEMU)");
}

static void job_line(const struct tui_app *a, int y, int x, int end)
{
	const struct mn_board_job_snapshot *b = &a->bsnap;
	char buf[300], el[32];
	x += tui_put(a, y, x, end - x, TS_TITLE, "Board  ");
	if (b->state == MN_BOARD_JOB_RUNNING) {
		snprintf(buf, sizeof buf, "%s %d/%d ", mn_board_job_kind_name(b->kind), b->done, b->total);
		x += tui_put(a, y, x, end - x, TS_LATEST, buf);
		if (b->total > 0 && end - x > 30) {
			tui_bar(a, y, x, 20, (double)b->done / b->total);
			x += 20;
		}
		fmt_secs(el, sizeof el, b->elapsed_s);
		snprintf(buf, sizeof buf, " %s %s (x cancels)", el, b->message);
		tui_put(a, y, x, end - x, TS_NORMAL, buf);
	} else if (b->state == MN_BOARD_JOB_FAILED) {
		snprintf(buf, sizeof buf, "%s failed: ", mn_board_job_kind_name(b->kind));
		x += tui_put(a, y, x, end - x, TS_ERROR, buf);
		tui_put(a, y, x, end - x, TS_ERROR, b->error);
	} else if (b->state == MN_BOARD_JOB_DONE && b->kind == MN_BOARD_JOB_PROFILE) {
		tui_put(a, y, x, end - x, TS_OK, b->message);
	} else if (b->emulator_exited) {
		tui_put(a, y, x, end - x, TS_ERROR, "the emulated board is gone: b starts it again");
	} else if (!b->port[0]) {
		tui_put(a, y, x, end - x, TS_DIM, "b picks a serial port or the emulated board");
	} else {
		tui_put(a, y, x, end - x, TS_DIM, a->model.loaded ? "v runs the deployed model on the board"
						      : "p profiles the board, v validates the pick on it");
	}
}

void view_board_draw(const struct tui_app *a, struct tui_rect r)
{
	int end = r.x + r.w;
	if (r.h < 1)
		return;
	if (r.h >= 2) {
		job_line(a, r.y, r.x, end);
		/* The deployed model's result while weights are loaded, else
		 * the latency check's. */
		if (a->bsnap.has_model && (a->model.loaded || !a->bsnap.has_validation))
			model_line(a, r.y + 1, r.x, end);
		else if (a->bsnap.has_validation)
			validation_line(a, r.y + 1, r.x, end);
		return;
	}
	/* One line: the running job first, else the last result. */
	int failed = a->bsnap.state == MN_BOARD_JOB_FAILED;
	if (a->bsnap.state != MN_BOARD_JOB_RUNNING && a->bsnap.has_model && a->model.loaded &&
	    !(failed && a->bsnap.kind == MN_BOARD_JOB_MODEL))
		model_line(a, r.y, r.x, end);
	else if (a->bsnap.state != MN_BOARD_JOB_RUNNING && a->bsnap.has_validation &&
	    !(failed && a->bsnap.kind == MN_BOARD_JOB_VALIDATE))
		validation_line(a, r.y, r.x, end);
	else
		job_line(a, r.y, r.x, end);
}

/* The op marked for pruning on edge e: from the candidates, since a round
 * still being evaluated carries only provisional per-candidate marks. */
static int prune_of(const struct mn_round *rd, int e)
{
	for (int i = 0; i < rd->n; i++)
		if (rd->cand[i].edge == e && rd->cand[i].pruned)
			return rd->cand[i].op;
	return -1;
}

void view_supernet_draw(const struct tui_app *a, struct tui_rect r)
{
	int ri = 0;
	const struct mn_round *rd = tui_shown_round(a, &ri);
	const char *removed = tui_glyph(a, "\xc2\xb7\xc2\xb7", "..");
	int end = r.x + r.w;
	if (r.h < 1 || r.w < 8)
		return;
	tui_putf(a, r.y, r.x, r.w, TS_TITLE, "Ops left%s", rd ? "" : " (none yet)");
	if (rd)
		tui_putf(a, r.y, r.x + 8, r.w - 8, TS_DIM, " round %d", ri + 1);
	for (int e = 0; e < MN_EDGES && 1 + e < r.h; e++) {
		int y = r.y + 1 + e, x = r.x;
		x += tui_put(a, y, x, end - x, TS_DIM, mn_edge_name(e));
		for (int op = MN_OP_SKIP; op < MN_OP_COUNT; op++) {
			uint8_t super = rd ? rd->super[e] : (uint8_t)MN_OPS_SEARCHED;
			int active = (super >> op) & 1;
			int prune = rd && prune_of(rd, e) == op;
			x += tui_put(a, y, x, end - x, TS_NORMAL, " ");
			if (prune)
				x += tui_put(a, y, x, end - x, TS_PRUNE, tui_op_tiny(op));
			else if (active)
				x += tui_put(a, y, x, end - x, TS_NORMAL, tui_op_tiny(op));
			else
				x += tui_put(a, y, x, end - x, TS_DIM, removed);
		}
	}
}
