/* The precision-independent skeleton of a network: the canonical parameter
 * tensors, the stage shapes and what the current mask makes active.
 * Internal to the network (src/nn/net*.c). */
#ifndef MN_NET_PLAN_H
#define MN_NET_PLAN_H

#include <stddef.h>

#include "space/arch.h"
#include "nn/net.h"

enum mn_tensor_kind {
	MN_T_CONV,     /* conv kernel [cout][cin][k][k] */
	MN_T_BN_GAMMA, /* BN gamma [c]; its beta is the next tensor */
	MN_T_BN_BETA,
	MN_T_LIN_W, /* [out][in] */
	MN_T_LIN_B
};

struct mn_tensor {
	size_t off, size;
	int kind;
	int fan_in, fan_out;
	int live;     /* used under the current mask */
	long gcol;    /* first column in G, or -1 (not a weight, or not live) */
	size_t soff;  /* BN gamma: offset of its channels in the statistics store */
};

/* Conv tensors of one cell edge; a BN index names its gamma. */
struct mn_edge_params {
	int w1, bn1, w3, bn3;
};

struct mn_red_params {
	int wa, bna, wb, bnb, wsc;
};

struct mn_net_plan {
	struct mn_net_config cfg;
	int nstages;
	int sc[3], sh[3], sw[3]; /* channels and plane of each stage */
	int ncells;              /* nstages * N */
	struct mn_tensor *t;
	int nt;
	size_t nparams;
	size_t nstats; /* BN channels over the whole network */
	int stem_w, stem_bn;
	struct mn_edge_params (*cell)[MN_EDGES]; /* [ncells][6] */
	struct mn_red_params red[2];
	int head_bn, lin_w, lin_b;
	int cf; /* features into the classifier */

	unsigned char mask[MN_EDGES];
	int k[MN_EDGES]; /* active ops per edge */
	size_t gwidth;
};

/* 0, or -1 (bad config or out of memory). */
int mn_plan_init(struct mn_net_plan *p, const struct mn_net_config *cfg);
void mn_plan_free(struct mn_net_plan *p);
int mn_plan_set_mask(struct mn_net_plan *p, const unsigned char mask[MN_EDGES]);

/* Source node j's outgoing edges with op `op` active: fills edges[] (at most
 * 3), returns how many. */
int mn_plan_edges_from(const struct mn_net_plan *p, int j, int op, int *edges);
/* Does any active conv op read node j? */
int mn_plan_node_has_conv(const struct mn_net_plan *p, int j);

/* Init of one tensor's values through a callback-free interface: the i-th
 * value of tensor t for the given mode, drawn from rng (in canonical order:
 * the caller loops over tensors and elements). */
struct mn_rng;
double mn_plan_init_value(const struct mn_net_plan *p, const struct mn_tensor *t,
			  struct mn_rng *rng, enum mn_init_mode mode);

#endif
