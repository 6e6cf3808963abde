#include "proxy/az_memo.h"

#include <pthread.h>
#include <stdlib.h>

#include "space/arch.h"

struct entry {
	int have;
	uint64_t seed;
	double v[3];
};

struct mn_az_memo {
	pthread_mutex_t lock;
	struct entry e[MN_ARCH_COUNT];
};

struct mn_az_memo *mn_az_memo_new(void)
{
	struct mn_az_memo *m = calloc(1, sizeof *m);
	if (m && pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void mn_az_memo_free(struct mn_az_memo *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int mn_az_memo_get(struct mn_az_memo *m, uint64_t seed, int cls, double v[3])
{
	if (!m || cls < 0 || cls >= MN_ARCH_COUNT)
		return 0;
	pthread_mutex_lock(&m->lock);
	const struct entry *e = &m->e[cls];
	int hit = e->have && e->seed == seed;
	if (hit)
		for (int k = 0; k < 3; k++)
			v[k] = e->v[k];
	pthread_mutex_unlock(&m->lock);
	return hit;
}

void mn_az_memo_put(struct mn_az_memo *m, uint64_t seed, int cls, const double v[3])
{
	if (!m || cls < 0 || cls >= MN_ARCH_COUNT)
		return;
	pthread_mutex_lock(&m->lock);
	struct entry *e = &m->e[cls];
	if (!e->have || e->seed != seed) {
		e->have = 1;
		e->seed = seed;
		for (int k = 0; k < 3; k++)
			e->v[k] = v[k];
	}
	pthread_mutex_unlock(&m->lock);
}
