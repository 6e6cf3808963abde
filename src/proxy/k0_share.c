#include "proxy/k0_share.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/pool.h"

enum { SLOT_NONE, SLOT_BUSY, SLOT_HAVE };

struct mn_k0_share {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int repeats;
	int keyed; /* seed and super hold a key */
	uint64_t seed;
	uint8_t super[MN_EDGES];
	int *state;   /* [repeats] SLOT_* */
	double *value;
};

struct mn_k0_share *mn_k0_share_new(int repeats)
{
	if (repeats < 1)
		return NULL;
	struct mn_k0_share *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->repeats = repeats;
	s->state = calloc((size_t)repeats, sizeof *s->state);
	s->value = calloc((size_t)repeats, sizeof *s->value);
	if (!s->state || !s->value || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s->state);
		free(s->value);
		free(s);
		return NULL;
	}
	if (pthread_cond_init(&s->changed, NULL) != 0) {
		pthread_mutex_destroy(&s->lock);
		free(s->state);
		free(s->value);
		free(s);
		return NULL;
	}
	return s;
}

void mn_k0_share_free(struct mn_k0_share *s)
{
	if (!s)
		return;
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s->state);
	free(s->value);
	free(s);
}

static int same_key(const struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES])
{
	return s->keyed && s->seed == seed && memcmp(s->super, super, MN_EDGES) == 0;
}

enum mn_k0_status mn_k0_get(struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES],
			    int r, int wait, const atomic_int *cancel, double *value)
{
	enum mn_k0_status st;
	if (r < 0 || r >= s->repeats)
		return MN_K0_CLAIMED; /* nothing to share: the caller computes it */
	pthread_mutex_lock(&s->lock);
	if (!same_key(s, seed, super)) {
		/* a new round: a claim of the old one still in flight puts into
		 * nothing (mn_k0_put checks the key) */
		s->keyed = 1;
		s->seed = seed;
		memcpy(s->super, super, MN_EDGES);
		for (int i = 0; i < s->repeats; i++)
			s->state[i] = SLOT_NONE;
		pthread_cond_broadcast(&s->changed);
	}
	for (;;) {
		if (!same_key(s, seed, super)) {
			/* the board moved to another round while we waited: this
			 * value is ours to compute */
			st = MN_K0_CLAIMED;
			break;
		}
		if (s->state[r] == SLOT_HAVE) {
			*value = s->value[r];
			st = MN_K0_HAVE;
			break;
		}
		if (s->state[r] == SLOT_NONE) {
			s->state[r] = SLOT_BUSY;
			st = MN_K0_CLAIMED;
			break;
		}
		if (!wait) {
			st = MN_K0_BUSY;
			break;
		}
		if (cancel && atomic_load(cancel)) {
			st = MN_K0_CANCELLED;
			break;
		}
		/* the cancel flag is not signalled: poll it every 20 ms */
		mn_cond_wait_ns(&s->changed, &s->lock, 20 * 1000 * 1000);
	}
	pthread_mutex_unlock(&s->lock);
	return st;
}

static void settle(struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES], int r,
		   int state, double value)
{
	if (r < 0 || r >= s->repeats)
		return;
	pthread_mutex_lock(&s->lock);
	if (same_key(s, seed, super) && s->state[r] == SLOT_BUSY) {
		s->state[r] = state;
		s->value[r] = value;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
}

void mn_k0_put(struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES], int r,
	       double value)
{
	settle(s, seed, super, r, SLOT_HAVE, value);
}

void mn_k0_release(struct mn_k0_share *s, uint64_t seed, const uint8_t super[MN_EDGES], int r)
{
	settle(s, seed, super, r, SLOT_NONE, 0);
}
