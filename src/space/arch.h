/* The NAS-Bench-201 search space: five ops on the six edges of a 4-node cell.
 * An arch is six op indices in string order: edges 1<-0, 2<-0, 2<-1, 3<-0,
 * 3<-1, 3<-2. */
#ifndef MN_ARCH_H
#define MN_ARCH_H

#include <stddef.h>

enum mn_op {
	MN_OP_NONE = 0,
	MN_OP_SKIP = 1,
	MN_OP_CONV1 = 2,
	MN_OP_CONV3 = 3,
	MN_OP_POOL3 = 4,
	MN_OP_COUNT = 5
};

#define MN_EDGES 6
#define MN_NODES 4
#define MN_ARCH_COUNT 15625 /* 5^6 */
#define MN_ARCH_STRLEN 160  /* enough for the longest arch string + NUL */

struct mn_arch {
	unsigned char op[MN_EDGES];
};

/* Edge e connects node mn_edge_from(e) to node mn_edge_to(e). */
int mn_edge_to(int edge);
int mn_edge_from(int edge);
/* The edge index of (to <- from), or -1. */
int mn_edge_index(int to, int from);

const char *mn_op_name(int op);
/* The op index of a name, or -1. */
int mn_op_from_name(const char *name, size_t len);

/* A parse failure: byte offset (0-based) into the input, and what was
 * expected there. */
struct mn_parse_error {
	size_t pos;
	char msg[160];
};

/* Parses a NAS-Bench-201 arch string; 0 on success, -1 with err filled. */
int mn_arch_parse(const char *s, struct mn_arch *out, struct mn_parse_error *err);
/* Writes the canonical string; returns its length (snprintf semantics). */
int mn_arch_format(const struct mn_arch *a, char *buf, size_t n);

/* Enumeration order: base-5 digits, edge 0 most significant. */
int mn_arch_to_index(const struct mn_arch *a);
void mn_arch_from_index(int index, struct mn_arch *out);

/* The single archs inside a mixed mask (mask[e] has bit op set for every
 * op allowed on edge e), in mn_arch_to_index() order:
 *     struct mn_mask_iter it;
 *     for (mn_mask_iter_init(&it, mask); mn_mask_iter_next(&it, &a);) ...
 * A mask with an empty edge holds no arch. */
struct mn_mask_iter {
	unsigned char ops[MN_EDGES][MN_OP_COUNT];
	int n[MN_EDGES], pos[MN_EDGES];
	int done;
};

void mn_mask_iter_init(struct mn_mask_iter *it, const unsigned char mask[MN_EDGES]);
/* 1 with the next arch in *a, 0 when there are no more. */
int mn_mask_iter_next(struct mn_mask_iter *it, struct mn_arch *a);

#endif
