/* The proxies one arch is scored with, as one table: every command that
 * scores archs (score, atlas) and every file that stores scores (the atlas
 * CSV) goes through this list, so a new proxy is one new row here and one
 * computation in proxy_set.c.
 *
 * A proxy value is a plain double measured on one arch; "higher is better"
 * says which way it points (the NTK condition number points down).  The
 * accuracy estimate (estimate.h) aggregates the proxies flagged
 * in_estimate by their ranks in a population. */
#ifndef MN_PROXY_SET_H
#define MN_PROXY_SET_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/tenas.h"
#include "space/arch.h"

enum mn_proxy_id {
	MN_PROXY_NTK_COND = 0,    /* TE-NAS: NTK condition number (lower is better) */
	MN_PROXY_LINEAR_REGIONS,  /* TE-NAS: linear regions of the thin network */
	MN_PROXY_COUNT
};

struct mn_proxy_info {
	const char *column;    /* CSV column and JSON key, e.g. "ntk_cond" */
	const char *label;     /* short label for tables and the TUI */
	int higher_is_better;  /* 1: larger values predict higher accuracy */
	int in_estimate;       /* 1: part of the default accuracy estimate */
};

/* The table, indexed by enum mn_proxy_id. */
const struct mn_proxy_info *mn_proxy_info(enum mn_proxy_id id);

struct mn_proxy_values {
	double v[MN_PROXY_COUNT]; /* indexed by enum mn_proxy_id */
};

/* Scores one arch with every proxy, averaged over the evaluator's repeats,
 * from the same seed streams as mn_tenas_score_arch.  0, or -1 with err. */
int mn_proxy_score_arch(struct mn_tenas *t, uint64_t seed, const struct mn_arch *a,
			struct mn_proxy_values *out, char *err, size_t errn);

#endif
