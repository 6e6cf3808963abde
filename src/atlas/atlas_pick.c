#include "atlas/atlas_pick.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/estimate.h"
#include "space/memory.h"
#include "util/rankstat.h"

void mn_atlas_free(struct mn_atlas *a)
{
	free(a->path);
	free(a->arch);
	free(a->v);
	free(a->est);
	free(a->flops_m);
	free(a->params_m);
	free(a->latency_ms);
	free(a->sram_kb);
	free(a->flash_kb);
	free(a->lr_flops);
	free(a->lr_latency);
	memset(a, 0, sizeof *a);
}

int mn_atlas_from_rows(struct mn_atlas *a, const struct mn_atlas_rows *rows, char *err, size_t errn)
{
	memset(a, 0, sizeof *a);
	if (rows->n <= 0)
		return 1;
	size_t n = (size_t)rows->n;
	a->n = rows->n;
	a->arch = malloc(n * sizeof *a->arch);
	a->v = malloc(n * sizeof *a->v);
	a->est = malloc(n * sizeof *a->est);
	if (!a->arch || !a->v || !a->est) {
		mn_atlas_free(a);
		snprintf(err, errn, "out of memory");
		return -1;
	}
	memcpy(a->arch, rows->arch, n * sizeof *a->arch);
	memcpy(a->v, rows->v, n * sizeof *a->v);
	if (mn_estimate(a->v, n, a->est)) {
		mn_atlas_free(a);
		snprintf(err, errn, "out of memory");
		return -1;
	}
	return 0;
}

int mn_atlas_load(struct mn_atlas *a, const char *path, const struct mn_atlas_settings *expect,
		  char *err, size_t errn)
{
	struct mn_atlas_rows rows;
	long end;
	memset(a, 0, sizeof *a);
	int st = mn_atlas_read(path, expect, &rows, &end, err, errn);
	if (st != 0)
		return st;
	st = mn_atlas_from_rows(a, &rows, err, errn);
	mn_atlas_rows_free(&rows);
	if (st == 0) {
		a->settings = *expect;
		if (!(a->path = strdup(path))) {
			mn_atlas_free(a);
			snprintf(err, errn, "out of memory");
			return -1;
		}
	}
	return st;
}

/* log(rank / n) of a cost: the cheapest gets rank n (0), ties their mean. */
static int log_ranks(const double *cost, int n, double *out)
{
	if (n <= 0)
		return 0;
	double *neg = calloc((size_t)n, sizeof *neg);
	if (!neg)
		return -1;
	for (int i = 0; i < n; i++)
		neg[i] = -cost[i];
	int rc = mn_rank_average(neg, (size_t)n, out);
	for (int i = 0; rc == 0 && i < n; i++)
		out[i] = log(out[i] / n);
	free(neg);
	return rc;
}

int mn_atlas_set_costs(struct mn_atlas *a, const struct mn_atlas_costs *c)
{
	size_t n = (size_t)a->n;
	double **arrays[] = {&a->flops_m, &a->params_m, &a->latency_ms, &a->sram_kb, &a->flash_kb,
			     &a->lr_flops, &a->lr_latency};
	for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
		if (!*arrays[k] && !(*arrays[k] = malloc((n ? n : 1) * sizeof(double))))
			return -1;
	for (int i = 0; i < a->n; i++) {
		struct mn_arch arch;
		struct mn_cost cost;
		struct mn_memory m;
		unsigned char mask[MN_EDGES];
		mn_arch_from_index(a->arch[i], &arch);
		mn_cost_arch(&arch, &c->shape, &cost);
		mn_memory_arch(&arch, &c->shape, c->runtime_flash_bytes, &m);
		for (int e = 0; e < MN_EDGES; e++)
			mask[e] = (unsigned char)(1u << arch.op[e]);
		a->flops_m[i] = cost.flops / 1e6;
		a->params_m[i] = cost.params / 1e6;
		/* As the pruning search costs an arch (session.c). */
		a->latency_ms[i] = c->table ? mn_latency_mixed_us(c->table, mask) / 1000.0 : 0.0;
		a->sram_kb[i] = m.sram_bytes / 1024.0;
		a->flash_kb[i] = m.flash_bytes / 1024.0;
	}
	if (log_ranks(a->flops_m, a->n, a->lr_flops) || log_ranks(a->latency_ms, a->n, a->lr_latency))
		return -1;
	return 0;
}

double mn_atlas_objective(const struct mn_atlas *a, int i, double w_flops, double w_latency)
{
	return a->est[i] + w_flops * a->lr_flops[i] + w_latency * a->lr_latency[i];
}

static int fits(const struct mn_atlas *a, int i, const struct mn_constraints *l)
{
	return (l->max_latency_ms <= 0 || a->latency_ms[i] <= l->max_latency_ms) &&
	       (l->max_sram_kb <= 0 || a->sram_kb[i] <= l->max_sram_kb) &&
	       (l->max_flash_kb <= 0 || a->flash_kb[i] <= l->max_flash_kb);
}

int mn_atlas_pick(const struct mn_atlas *a, double w_flops, double w_latency,
		  const struct mn_constraints *limits)
{
	int best = -1;
	double best_obj = 0;
	for (int i = 0; i < a->n; i++) {
		if (!fits(a, i, limits))
			continue;
		double o = mn_atlas_objective(a, i, w_flops, w_latency);
		if (best < 0 || o > best_obj || (o == best_obj && a->arch[i] < a->arch[best])) {
			best = i;
			best_obj = o;
		}
	}
	return best;
}

struct pareto_key {
	double cost, est;
	int arch, row;
};

static int by_cost_then_est(const void *pa, const void *pb)
{
	const struct pareto_key *x = pa, *y = pb;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	if (x->est != y->est)
		return x->est > y->est ? -1 : 1;
	return (x->arch > y->arch) - (x->arch < y->arch);
}

int mn_atlas_pareto(const struct mn_atlas *a, enum mn_atlas_axis axis, int *rows)
{
	const double *cost = axis == MN_ATLAS_BY_FLOPS ? a->flops_m : a->latency_ms;
	struct pareto_key *k = malloc((a->n ? (size_t)a->n : 1) * sizeof *k);
	if (!k)
		return -1;
	for (int i = 0; i < a->n; i++)
		k[i] = (struct pareto_key){cost[i], a->est[i], a->arch[i], i};
	qsort(k, (size_t)a->n, sizeof *k, by_cost_then_est);
	/* By increasing cost, a row is on the front when it beats the best
	 * estimate of every cheaper-or-equal row. */
	int m = 0;
	for (int i = 0; i < a->n; i++)
		if (m == 0 || k[i].est > a->est[rows[m - 1]])
			rows[m++] = k[i].row;
	free(k);
	return m;
}
