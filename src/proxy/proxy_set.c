#include "proxy/proxy_set.h"

#include <stdio.h>

static const struct mn_proxy_info INFO[MN_PROXY_COUNT] = {
	[MN_PROXY_NTK_COND] = {"ntk_cond", "NTK cond", 0, 1},
	[MN_PROXY_LINEAR_REGIONS] = {"linear_regions", "lin. regions", 1, 1},
};

const struct mn_proxy_info *mn_proxy_info(enum mn_proxy_id id)
{
	return (unsigned)id < MN_PROXY_COUNT ? &INFO[id] : NULL;
}

int mn_proxy_score_arch(struct mn_tenas *t, uint64_t seed, const struct mn_arch *a,
			struct mn_proxy_values *out, char *err, size_t errn)
{
	return mn_tenas_score_arch(t, seed, a, &out->v[MN_PROXY_NTK_COND],
				   &out->v[MN_PROXY_LINEAR_REGIONS], err, errn);
}
