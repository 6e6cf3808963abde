/* Picks from an atlas: the archs it holds with their accuracy estimate
 * (estimate.h, relative to the atlas's rows) and their costs on one board,
 * the best arch for given weights and limits, and the Pareto fronts.
 *
 * The hybrid objective is the pruning search's, on whole archs instead of
 * pruning candidates: the search adds w_flops x (FLOPs rank) and
 * w_latency x (latency rank) to the proxies' ranks; here the proxies' part
 * is the estimate, a sum of log(rank / m) over the proxies (AZ-NAS), and
 * the hardware terms are in the same units: w x log(rank / m), rank m for
 * the cheapest arch of the atlas.  So weights 0 pick the best estimate, and
 * a weight of 1 counts FLOPs (or latency) as much as one proxy.
 *
 * Everything that does not depend on the weights and limits is computed
 * when the atlas is loaded or its costs are set, so a pick is one pass over
 * the rows (milliseconds for the whole space): the TUI can re-pick on every
 * key. */
#ifndef MN_ATLAS_PICK_H
#define MN_ATLAS_PICK_H

#include <stddef.h>
#include <stdint.h>

#include "atlas/atlas_file.h"
#include "search/search.h"
#include "space/cost.h"
#include "space/latency_table.h"

struct mn_atlas {
	char *path;                  /* the file read (owned), NULL if from rows */
	struct mn_atlas_settings settings;
	int n;                       /* rows (archs) */
	int *arch;                   /* n: mn_arch_to_index() */
	struct mn_proxy_values *v;   /* n */
	double *est;                 /* n: the accuracy estimate over the rows */
	/* Costs on the board (mn_atlas_set_costs); NULL before. */
	double *flops_m, *params_m, *latency_ms, *sram_kb, *flash_kb;
	double *lr_flops, *lr_latency; /* log(rank / n), cheapest = 0 */
};

/* The board the costs are for. */
struct mn_atlas_costs {
	struct mn_net_shape shape;
	uint64_t runtime_flash_bytes;
	const struct mn_latency_table *table;
};

/* Reads the atlas file at path (refused when its settings differ from
 * expect) and computes the estimate.  0; 1 when the file does not exist or
 * holds no row; -1 with err.  a is empty unless 0 is returned. */
int mn_atlas_load(struct mn_atlas *a, const char *path, const struct mn_atlas_settings *expect,
		  char *err, size_t errn);
/* The same from rows already in memory (the rows are copied). */
int mn_atlas_from_rows(struct mn_atlas *a, const struct mn_atlas_rows *rows, char *err, size_t errn);
void mn_atlas_free(struct mn_atlas *a);

/* (Re)computes the costs and hardware ranks for a board.  0 or -1 (memory). */
int mn_atlas_set_costs(struct mn_atlas *a, const struct mn_atlas_costs *c);

/* The objective of row i (costs set). */
double mn_atlas_objective(const struct mn_atlas *a, int i, double w_flops, double w_latency);

/* The row with the best objective among those within the limits (0 = no
 * limit), ties to the smaller arch index; -1 when none fits. */
int mn_atlas_pick(const struct mn_atlas *a, double w_flops, double w_latency,
		  const struct mn_constraints *limits);

enum mn_atlas_axis { MN_ATLAS_BY_LATENCY, MN_ATLAS_BY_FLOPS };

/* The rows on the Pareto front of estimate (higher better) against the
 * cost (lower better): no other row is as cheap and as good with one of the
 * two strictly better.  rows[] receives them by increasing cost (room for
 * a->n); returns their number, or -1 (memory). */
int mn_atlas_pareto(const struct mn_atlas *a, enum mn_atlas_axis axis, int *rows);

#endif
