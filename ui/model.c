/* The model side of the event loop: reads the engine's and the board job's
 * snapshots, turns their changes into events for the session log and the
 * message line, and keeps the plot's history of candidates and picks. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "space/memory.h"
#include "util/proportion.h"

void tui_message(struct tui_app *a, int error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof a->message, fmt, ap);
	va_end(ap);
	a->message_error = error;
}

void tui_clear_history(struct tui_app *a)
{
	a->n_points = a->next_point = 0;
	a->n_picks = 0;
	a->current_pick = -1;
	a->have_done = 0;
	a->last_decided = 0;
	a->view_round = -1;
	a->scroll = 0;
}

const struct mn_round *tui_shown_round(const struct tui_app *a, int *index)
{
	const struct mn_engine_snapshot *s = &a->snap;
	int r;
	if (s->n_rounds <= 0) {
		/* A re-run has just cleared its rounds: show the last finished run
		 * rather than an empty table. */
		if (!a->have_done || a->done_snap.n_rounds <= 0)
			return NULL;
		s = &a->done_snap;
	}
	r = a->view_round >= 0 && a->view_round < s->n_rounds ? a->view_round : s->n_rounds - 1;
	if (index)
		*index = r;
	return &s->rounds[r];
}

/* Mean accuracy over every arch whose op on each edge is one of the mask's
 * (none counts when the mask allows it). */
double tui_oracle_mean(const struct tui_app *a, const uint8_t mask[MN_EDGES])
{
	struct mn_mask_iter it;
	struct mn_arch arch;
	double sum = 0;
	long count = 0;
	if (!a->have_oracle)
		return NAN;
	for (mn_mask_iter_init(&it, mask); mn_mask_iter_next(&it, &arch);) {
		const struct mn_oracle_entry *en = mn_oracle_get(&a->oracle, &arch);
		if (en) {
			sum += en->acc;
			count++;
		}
	}
	return count ? sum / count : NAN;
}

/* TE-NAS's rank sum turned into "how good the net is after the removal",
 * 1 for the best of its round and 0 for the worst. */
static double proxy_of(const struct mn_round *r, const struct mn_candidate *c)
{
	int max_n = 1, max_l = 1;
	for (int i = 0; i < r->n; i++) {
		if (!r->cand[i].evaluated)
			continue;
		if (r->cand[i].rank_ntk > max_n)
			max_n = r->cand[i].rank_ntk;
		if (r->cand[i].rank_lr > max_l)
			max_l = r->cand[i].rank_lr;
	}
	if (max_n + max_l <= 2)
		return 1;
	return 1.0 - (double)(c->rank_ntk + c->rank_lr - 2) / (max_n + max_l - 2);
}

static void upsert_point(struct tui_app *a, const struct mn_round *r, const struct mn_candidate *c)
{
	struct tui_point *p = NULL;
	for (int i = 0; i < a->n_points; i++) {
		struct tui_point *q = &a->points[i];
		if (q->edge == c->edge && q->op == c->op && !memcmp(q->super, r->super, MN_EDGES)) {
			p = q;
			break;
		}
	}
	if (!p) {
		/* A ring: the oldest points make room once it is full. */
		p = &a->points[a->next_point];
		a->next_point = (a->next_point + 1) % TUI_MAX_POINTS;
		if (a->n_points < TUI_MAX_POINTS)
			a->n_points++;
		memcpy(p->super, r->super, MN_EDGES);
		p->edge = (signed char)c->edge;
		p->op = (signed char)c->op;
		uint8_t after[MN_EDGES];
		memcpy(after, r->super, MN_EDGES);
		after[c->edge] &= (uint8_t)~(1u << c->op);
		p->oracle_mean = tui_oracle_mean(a, after);
	}
	p->latency_ms = c->latency_ms;
	p->proxy = proxy_of(r, c);
}

static void update_points(struct tui_app *a)
{
	for (int r = 0; r < a->snap.n_rounds; r++) {
		const struct mn_round *rd = &a->snap.rounds[r];
		for (int i = 0; i < rd->n; i++)
			if (rd->cand[i].evaluated)
				upsert_point(a, rd, &rd->cand[i]);
	}
}

static void add_pick(struct tui_app *a, const struct mn_engine_snapshot *s)
{
	struct tui_pick p;
	memset(&p, 0, sizeof p);
	p.arch = s->result;
	p.latency_ms = s->result_latency_ms;
	p.flops_m = s->result_flops_m;
	p.sram_kb = s->result_sram_kb;
	p.flash_kb = s->result_flash_kb;
	p.w_flops = s->w_flops;
	p.w_latency = s->w_latency;
	p.oracle = NAN;
	if (a->have_oracle) {
		const struct mn_oracle_entry *e = mn_oracle_get(&a->oracle, &s->result);
		if (e)
			p.oracle = e->acc;
	}
	/* Without an oracle the pick sits at the proxy of the removals that
	 * produced it (the last round's pruned candidates). */
	p.proxy = NAN;
	if (s->n_rounds > 0) {
		const struct mn_round *r = &s->rounds[s->n_rounds - 1];
		double sum = 0;
		int k = 0;
		for (int i = 0; i < r->n; i++)
			if (r->cand[i].pruned && r->cand[i].evaluated) {
				sum += proxy_of(r, &r->cand[i]);
				k++;
			}
		if (k)
			p.proxy = sum / k;
	}
	for (int i = 0; i < a->n_picks; i++)
		if (!memcmp(a->picks[i].arch.op, p.arch.op, MN_EDGES)) {
			a->picks[i] = p;
			a->current_pick = i;
			return;
		}
	if (a->n_picks == TUI_MAX_PICKS) {
		memmove(a->picks, a->picks + 1, (TUI_MAX_PICKS - 1) * sizeof *a->picks);
		a->n_picks--;
	}
	a->picks[a->n_picks] = p;
	a->current_pick = a->n_picks++;
}

static void engine_events(struct tui_app *a)
{
	const struct mn_engine_snapshot *s = &a->snap;
	if (s->decided > a->last_decided) {
		for (int r = a->last_decided; r < s->decided && r < s->n_rounds; r++) {
			char text[300];
			size_t o = 0;
			const struct mn_round *rd = &s->rounds[r];
			text[0] = '\0';
			for (int e = 0; e < MN_EDGES && o < sizeof text; e++)
				if (rd->pruned_op[e] >= 0)
					o += (size_t)snprintf(text + o, sizeof text - o, " %s:%s", mn_edge_name(e),
							      mn_op_name(rd->pruned_op[e]));
			tui_log_event(&a->log, "round %d decided, pruned%s", r + 1, text);
		}
	}
	a->last_decided = s->decided;
	if (s->runs_ended == a->seen_runs_ended)
		return;
	a->seen_runs_ended = s->runs_ended;
	if (s->state == MN_ENGINE_DONE && s->has_result) {
		char arch[MN_ARCH_STRLEN];
		a->done_snap = *s;
		a->have_done = 1;
		add_pick(a, s);
		mn_arch_format(&s->result, arch, sizeof arch);
		const struct tui_pick *p = &a->picks[a->current_pick];
		char acc[64] = "";
		if (isfinite(p->oracle))
			snprintf(acc, sizeof acc, ", NAS-Bench-201 accuracy %.2f %%", p->oracle);
		tui_log_event(&a->log,
			      "pick %s: %.2f MFLOPs, %.3f M params, %.2f ms, SRAM %.1f KB, flash %.1f KB%s "
			      "(weights flops %g latency %g, %.1f s, %d evaluations)",
			      arch, s->result_flops_m, s->result_params_m, s->result_latency_ms,
			      s->result_sram_kb, s->result_flash_kb, acc, s->w_flops, s->w_latency,
			      s->search_seconds, s->evaluations);
		tui_message(a, 0, "search done in %.1f s: pick %s", s->search_seconds, arch);
	} else if (s->state == MN_ENGINE_FAILED) {
		tui_log_event(&a->log, "search failed: %s", s->error);
		tui_message(a, 1, "search failed: %s", s->error);
	} else if (s->state == MN_ENGINE_CANCELLED) {
		tui_log_event(&a->log, "search stopped after %d evaluations (s resumes from the cache)",
			      s->evaluations);
		tui_message(a, 0, "search stopped (s resumes; values measured so far are kept)");
	}
	/* A cache that could not be written (a full disk) is said once, after
	 * the run's own message, so it is the one left on screen. */
	char cache_err[700];
	if (a->have_session && !a->cache_error_said &&
	    mn_session_cache_write_error(a->session, cache_err, sizeof cache_err)) {
		a->cache_error_said = 1;
		tui_log_event(&a->log, "warning: %s", cache_err);
		tui_message(a, 1, "%s", cache_err);
	}
	/* A run that ended and a new one already running: the new one's end
	 * is reported in its turn.  Starts are logged by the action that made
	 * them (with the settings). */
}

static void board_events(struct tui_app *a)
{
	const struct mn_board_job_snapshot *b = &a->bsnap;
	const char *kind = mn_board_job_kind_name(b->kind);
	if (b->emulator_exited != a->last_emulator_exited) {
		a->last_emulator_exited = b->emulator_exited;
		if (b->emulator_exited) {
			tui_log_event(&a->log, "board: the emulated board (QEMU) %s", b->emulator_exit);
			tui_message(a, 1, "the emulated board (QEMU) %s: b starts it again", b->emulator_exit);
		}
	}
	if (b->state == a->last_bstate || b->state == MN_BOARD_JOB_RUNNING) {
		a->last_bstate = b->state;
		return;
	}
	a->last_bstate = b->state;
	if (b->state == MN_BOARD_JOB_FAILED) {
		tui_log_event(&a->log, "board %s failed: %s", kind, b->error);
		tui_message(a, 1, "board %s failed: %s", kind, b->error);
		return;
	}
	if (b->state == MN_BOARD_JOB_CANCELLED) {
		tui_log_event(&a->log, "board %s cancelled", kind);
		tui_message(a, 0, "board %s cancelled", kind);
		return;
	}
	if (b->state != MN_BOARD_JOB_DONE)
		return;
	switch (b->kind) {
	case MN_BOARD_JOB_EMULATE:
	case MN_BOARD_JOB_CONNECT:
		tui_log_event(&a->log, "board %s on %s, firmware %s%s", b->board, b->port, b->fw_version,
			      b->emulated ? " (emulated: instruction-based timing)" : "");
		/* A poll that sees the board come up and QEMU end (a loaded
		 * machine polls late) keeps the message of the end, said above. */
		if (!b->emulator_exited)
			tui_message(a, 0, "board %s ready on %s (firmware %s)", b->board, b->port,
				    b->fw_version);
		break;
	case MN_BOARD_JOB_PROFILE:
		tui_log_event(&a->log, "profiled %s into %s (%d measurements, %d resumed)", b->board,
			      b->table_path, b->profile.total, b->profile.resumed);
		tui_message(a, 0, "profile written to %s; t searches with it", b->table_path);
		break;
	case MN_BOARD_JOB_VALIDATE: {
		const struct mn_validation *v = &b->validation;
		char pct[32];
		tui_log_event(&a->log,
			      "validated %s on %s%s: latency measured %.3f ms, estimated %.3f ms, "
			      "error %s %%; peak SRAM measured %.2f KB, estimated %.2f KB",
			      v->arch, v->board, v->emulated ? " (emulated)" : "", v->measured_us / 1000,
			      v->estimated_us / 1000, tui_signed(pct, sizeof pct, v->error_pct, 2),
			      v->measured_sram_bytes / 1024.0, v->estimated_sram_bytes / 1024.0);
		tui_message(a, 0, "validated on %s: latency error %s %%, SRAM %s", v->board,
			    tui_signed(pct, sizeof pct, v->error_pct, 1),
			    v->measured_sram_bytes == v->estimated_sram_bytes ? "as estimated"
									      : "DIFFERS from the estimate");
		break;
	}
	case MN_BOARD_JOB_MODEL: {
		const struct mn_board_model_result *m = &b->model;
		char pct[32], acc[64] = "";
		double err = m->measured_us > 0 ? (m->estimated_us - m->measured_us) / m->measured_us * 100
						: 0;
		if (m->labelled)
			snprintf(acc, sizeof acc, "; accuracy int8 %.2f%%, float %.2f%%",
				 100.0 * m->correct_int8 / m->labelled, 100.0 * m->correct_float / m->labelled);
		char band[32], ci[48] = "";
		if (mn_wilson95_text(m->agree_float, m->images, band, sizeof band) == 0)
			snprintf(ci, sizeof ci, " (%s at 95%%)", band);
		tui_log_event(&a->log,
			      "validated the deployed model %s (%s, model %08x) on %s%s: latency measured "
			      "%.3f ms (median of %d images), estimated %.3f ms, error %s %%; peak SRAM "
			      "measured %.2f KB, estimated %.2f KB; int8 %d/%d bit-exact with the host, "
			      "top-1 agrees with float on %d/%d%s%s",
			      m->weights, m->arch, (unsigned)m->fingerprint, m->board,
			      m->emulated ? " (emulated)" : "", m->measured_us / 1000, m->images,
			      m->estimated_us / 1000, tui_signed(pct, sizeof pct, err, 2),
			      m->peak_bytes / 1024.0, m->estimated_sram_bytes / 1024.0, m->exact, m->images,
			      m->agree_float, m->images, ci, acc);
		tui_message(a, m->exact != m->images, "deployed model on %s: %d/%d bit-exact, top-1 as "
			    "float %d/%d, latency error %s %%", m->board, m->exact, m->images,
			    m->agree_float, m->images, tui_signed(pct, sizeof pct, err, 1));
		break;
	}
	case MN_BOARD_JOB_NONE:
		break;
	}
}

int tui_poll(struct tui_app *a)
{
	int changed = 0;
	if (a->have_session) {
		mn_engine_snapshot(a->session->engine, &a->snap);
		if (a->snap.version != a->snap_version) {
			a->snap_version = a->snap.version;
			update_points(a);
			engine_events(a);
			changed = 1;
		}
	}
	if (a->board) {
		mn_board_job_snapshot(a->board, &a->bsnap);
		if (a->bsnap.version != a->bsnap_version) {
			a->bsnap_version = a->bsnap.version;
			board_events(a);
			changed = 1;
		}
	}
	return changed;
}
