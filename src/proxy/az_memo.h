/* AZ-NAS's three measured proxies (expressivity, progressivity,
 * trainability) of each function class of the space (space/arch_class.h),
 * kept for the evaluators of one run: the atlas's worker threads, or
 * score's, measure a class once and every later arch of it takes the
 * values (proxy_set.h, mn_proxy_score_arch_shared).  Entries are keyed by
 * the seed as well; the evaluators sharing a memo must have the same
 * settings and data (the run's).  Thread-safe. */
#ifndef MN_AZ_MEMO_H
#define MN_AZ_MEMO_H

#include <stdint.h>

struct mn_az_memo;

/* NULL when out of memory. */
struct mn_az_memo *mn_az_memo_new(void);
void mn_az_memo_free(struct mn_az_memo *m);
/* 1 with v[3] when the class (a representative's arch index) was put with
 * this seed, else 0. */
int mn_az_memo_get(struct mn_az_memo *m, uint64_t seed, int cls, double v[3]);
/* Keeps v[3] for the class and seed (a later put of the same key keeps the
 * first, as every evaluator computes the same values; one of another seed
 * replaces it). */
void mn_az_memo_put(struct mn_az_memo *m, uint64_t seed, int cls, const double v[3]);

#endif
