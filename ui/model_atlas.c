/* The atlas side of the TUI's model: the atlas file of the session's
 * settings (src/atlas/), its costs on the session's board, the scatter's
 * y values and Pareto front, and the atlas pick at the current weights and
 * limits.  A pick is one pass over the rows (milliseconds for the whole
 * space), so every weight or limit key re-picks before the next frame.
 * The ranking by the objective also goes to the engine, whose provisional
 * pick is then the best atlas arch still reachable (engine.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "util/clock.h"

void tui_atlas_command(const struct tui_app *a, char *buf, size_t n)
{
	mn_atlas_command(&a->session->preset, a->cfg->preset_name, a->cfg->data_path, NULL, buf, n);
}

/* Frees the loaded atlas and what was computed from it (the path and
 * settings stay). */
static void drop_loaded(struct tui_atlas *t)
{
	if (t->state == TUI_ATLAS_LOADED)
		mn_atlas_free(&t->atlas);
	free(t->y);
	free(t->front);
	free(t->row_of);
	free(t->keys);
	t->y = NULL;
	t->front = NULL;
	t->row_of = NULL;
	t->keys = NULL;
	t->n_front = 0;
	t->pick = -1;
	memset(&t->atlas, 0, sizeof t->atlas);
}

void tui_atlas_close(struct tui_app *a)
{
	struct tui_atlas *t = &a->atlas;
	drop_loaded(t);
	memset(t, 0, sizeof *t);
	t->pick = -1;
}

int tui_atlas_row(const struct tui_app *a, const struct mn_arch *arch)
{
	const struct tui_atlas *t = &a->atlas;
	if (t->state != TUI_ATLAS_LOADED)
		return -1;
	int i = mn_arch_to_index(arch);
	return i >= 0 && i < MN_ARCH_COUNT ? t->row_of[i] : -1;
}

/* A row with its sort keys: qsort has no context pointer, and no global
 * may hold one. */
struct row_key {
	double k1, k2;
	int tie, row;
};

/* k1 ascending, then k2 descending, then tie ascending. */
static int by_keys(const void *pa, const void *pb)
{
	const struct row_key *x = pa, *y = pb;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2)
		return x->k2 > y->k2 ? -1 : 1;
	return (x->tie > y->tie) - (x->tie < y->tie);
}

/* The front of y (higher better) against latency (lower better).  The
 * estimate's is the library's (mn_atlas_pareto); the oracle's the same
 * sweep over the rows the oracle knows. */
static int front_of(struct tui_app *a)
{
	struct tui_atlas *t = &a->atlas;
	const struct mn_atlas *at = &t->atlas;
	if (!a->have_oracle) {
		t->n_front = mn_atlas_pareto(at, MN_ATLAS_BY_LATENCY, t->front);
		return t->n_front < 0 ? -1 : 0;
	}
	int m = 0;
	for (int i = 0; i < at->n; i++)
		if (isfinite(t->y[i]))
			t->keys[m++] = (struct row_key){at->latency_ms[i], t->y[i], at->arch[i], i};
	qsort(t->keys, (size_t)m, sizeof *t->keys, by_keys);
	t->n_front = 0;
	for (int k = 0; k < m; k++) {
		int i = t->keys[k].row;
		if (t->n_front == 0 || t->y[i] > t->y[t->front[t->n_front - 1]])
			t->front[t->n_front++] = i;
	}
	return 0;
}

void tui_atlas_adopt(struct tui_app *a, struct mn_atlas *fresh)
{
	struct tui_atlas *t = &a->atlas;
	drop_loaded(t);
	t->atlas = *fresh;
	memset(fresh, 0, sizeof *fresh);
	t->state = TUI_ATLAS_LOADED;
	size_t n = (size_t)t->atlas.n;
	t->y = malloc(n * sizeof *t->y);
	t->front = malloc(n * sizeof *t->front);
	t->keys = malloc(n * sizeof *t->keys);
	t->row_of = malloc(MN_ARCH_COUNT * sizeof *t->row_of);
	if (!t->y || !t->front || !t->keys || !t->row_of) {
		drop_loaded(t);
		t->state = TUI_ATLAS_ERROR;
		snprintf(t->status, sizeof t->status, "atlas not used: out of memory");
		return;
	}
	for (int i = 0; i < MN_ARCH_COUNT; i++)
		t->row_of[i] = -1;
	for (int i = 0; i < t->atlas.n; i++) {
		t->row_of[t->atlas.arch[i]] = i;
		t->y[i] = t->atlas.est[i];
		if (a->have_oracle) {
			struct mn_arch arch;
			mn_arch_from_index(t->atlas.arch[i], &arch);
			const struct mn_oracle_entry *o = mn_oracle_get(&a->oracle, &arch);
			t->y[i] = o ? o->acc : NAN;
		}
	}
	if (front_of(a) != 0) {
		drop_loaded(t);
		t->state = TUI_ATLAS_ERROR;
		snprintf(t->status, sizeof t->status, "atlas not used: out of memory");
		return;
	}
	const char *slash = strrchr(t->path, '/');
	snprintf(t->status, sizeof t->status, "atlas: %d of %d archs (%.200s)", t->atlas.n, MN_ARCH_COUNT,
		 slash ? slash + 1 : t->path);
	tui_atlas_repick(a);
}

void tui_atlas_open(struct tui_app *a)
{
	struct tui_atlas *t = &a->atlas;
	struct mn_atlas fresh;
	char err[1024], cmd[1024];
	tui_atlas_close(a);
	if (!a->have_session)
		return;
	struct mn_session *ss = a->session;
	/* No atlas, no outside ranking: the engine's provisional pick goes by
	 * its own ranks until one is loaded (freeing never fails). */
	(void)mn_engine_set_ranked_archs(ss->engine, NULL, 0);
	mn_atlas_settings_make(&t->settings, &ss->data, ss->preset.seed, &ss->tenas, MN_ATLAS_ORDER_SEEDED);
	/* An atlas built with the other proxy set serves as well (atlas_file.h),
	 * and is the one extended then. */
	int other = 0;
	if (mn_atlas_pick_path(&t->settings, t->path, sizeof t->path, &other, err, sizeof err) != 0) {
		t->state = TUI_ATLAS_ERROR;
		snprintf(t->status, sizeof t->status, "no atlas: %.700s", err);
		return;
	}
	t->have_path = 1;
	double t0 = mn_now_s();
	int st = mn_atlas_load(&fresh, t->path, &t->settings, err, sizeof err);
	if (st == 1) {
		tui_atlas_command(a, cmd, sizeof cmd);
		t->state = TUI_ATLAS_NONE;
		snprintf(t->status, sizeof t->status, "no atlas for these settings; build it with: %.700s", cmd);
		return;
	}
	if (st < 0) {
		t->state = TUI_ATLAS_ERROR;
		snprintf(t->status, sizeof t->status, "atlas not used: %.700s", err);
		return;
	}
	struct mn_atlas_costs c = {ss->search.shape, ss->search.runtime_flash_bytes, &ss->table};
	if (mn_atlas_set_costs(&fresh, &c) != 0) {
		mn_atlas_free(&fresh);
		t->state = TUI_ATLAS_ERROR;
		snprintf(t->status, sizeof t->status, "atlas not used: out of memory");
		return;
	}
	tui_atlas_adopt(a, &fresh);
	if (t->state == TUI_ATLAS_LOADED) {
		size_t k = strlen(t->status);
		snprintf(t->status + k, sizeof t->status - k, ", loaded in %.0f ms%s", (mn_now_s() - t0) * 1e3,
			 !other ? "" : t->settings.cfg.all_proxies ? " (built with --proxies all)"
								  : " (built with --proxies estimate)");
	}
}

void tui_atlas_repick(struct tui_app *a)
{
	struct tui_atlas *t = &a->atlas;
	if (t->state != TUI_ATLAS_LOADED)
		return;
	double t0 = mn_now_s();
	t->pick = mn_atlas_pick(&t->atlas, a->w_flops, a->w_latency, &a->limits);
	t->pick_ms = (mn_now_s() - t0) * 1e3;
	if (!a->have_session)
		return;
	/* The engine's provisional pick: its best atlas arch still reachable
	 * (it applies the limits itself). */
	int n = t->atlas.n;
	struct mn_arch *ranked = malloc((size_t)n * sizeof *ranked);
	if (!ranked)
		return; /* the engine keeps the previous ranking: only the provisional pick lags */
	/* Best objective first, ties to the smaller arch index (as
	 * mn_atlas_pick breaks them). */
	for (int i = 0; i < n; i++)
		t->keys[i] = (struct row_key){-mn_atlas_objective(&t->atlas, i, a->w_flops, a->w_latency), 0,
					      t->atlas.arch[i], i};
	qsort(t->keys, (size_t)n, sizeof *t->keys, by_keys);
	for (int k = 0; k < n; k++)
		mn_arch_from_index(t->atlas.arch[t->keys[k].row], &ranked[k]);
	if (mn_engine_set_ranked_archs(a->session->engine, ranked, n) != 0)
		tui_message(a, 1, "out of memory: the provisional pick ignores the atlas");
	free(ranked);
}
