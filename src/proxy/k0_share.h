/* K(supernet) shared by the evaluators of one search.
 *
 * Every candidate of a pruning round needs the supernet's NTK condition
 * number for each repeat, and those values depend only on (seed, supernet
 * state, repeat).  Each evaluator used to compute them for itself, so with
 * W workers a round computed them W times.  This board holds them once per
 * round: the first evaluator to need a repeat's value claims and computes
 * it, the others take it, or wait for it when it is in flight.  The values
 * are the ones an evaluator would compute on its own (same weights, batch
 * and thread count), so sharing changes no result.
 *
 * Thread-safe; one board per search (a session's workers share it). */
#ifndef MN_K0_SHARE_H
#define MN_K0_SHARE_H

#include <stdatomic.h>
#include <stdint.h>

#include "space/arch.h"

enum mn_k0_status {
	MN_K0_HAVE,      /* *value filled */
	MN_K0_CLAIMED,   /* the caller computes it, then mn_k0_put or mn_k0_release */
	MN_K0_BUSY,      /* another evaluator is computing it (non-blocking call only) */
	MN_K0_CANCELLED  /* the cancel flag was set while waiting */
};

struct mn_k0_share;

/* NULL when out of memory or repeats < 1. */
struct mn_k0_share *mn_k0_share_new(int repeats);
void mn_k0_share_free(struct mn_k0_share *s);

/* The value of repeat r for (seed, super): HAVE, CLAIMED (no one has it and
 * no one computes it: the caller now does), or with wait 0 BUSY; with wait
 * set, blocks while it is in flight (polling cancel, which may be NULL) and
 * never returns BUSY.  A new (seed, super) forgets the previous one's
 * values. */
enum mn_k0_status mn_k0_get(struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES],
			    int r, int wait, const atomic_int *cancel, double *value);
/* The claimed value, computed; ignored if the board has moved on. */
void mn_k0_put(struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES], int r,
	       double value);
/* Gives a claim back (cancelled or failed): a waiting evaluator claims it. */
void mn_k0_release(struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES], int r);

#endif
