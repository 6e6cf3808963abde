#include "space/arch.h"

#include <stdio.h>
#include <string.h>

static const char *const op_names[MN_OP_COUNT] = {
	"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3",
};

static const int edge_to[MN_EDGES] = {1, 2, 2, 3, 3, 3};
static const int edge_from[MN_EDGES] = {0, 0, 1, 0, 1, 2};

int mn_edge_to(int edge) { return edge_to[edge]; }
int mn_edge_from(int edge) { return edge_from[edge]; }

int mn_edge_index(int to, int from)
{
	for (int e = 0; e < MN_EDGES; e++)
		if (edge_to[e] == to && edge_from[e] == from)
			return e;
	return -1;
}

const char *mn_op_name(int op)
{
	return op >= 0 && op < MN_OP_COUNT ? op_names[op] : "?";
}

int mn_op_from_name(const char *name, size_t len)
{
	for (int i = 0; i < MN_OP_COUNT; i++)
		if (strlen(op_names[i]) == len && memcmp(op_names[i], name, len) == 0)
			return i;
	return -1;
}

static int fail(struct mn_parse_error *err, size_t pos, const char *msg)
{
	if (err) {
		err->pos = pos;
		snprintf(err->msg, sizeof err->msg, "%s", msg);
	}
	return -1;
}

/* The grammar is fixed: node k (1..3) lists its k inputs in source order,
 * "|op~j|" for j = 0..k-1, and nodes are joined by '+'.  Being strict keeps
 * one string per arch, so strings can be compared and used as keys. */
int mn_arch_parse(const char *s, struct mn_arch *out, struct mn_parse_error *err)
{
	size_t p = 0;
	int e = 0;
	char msg[160];

	if (!s || !*s)
		return fail(err, 0, "empty arch string, expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'");
	for (int node = 1; node < MN_NODES; node++) {
		if (node > 1) {
			if (s[p] != '+')
				return fail(err, p, s[p] ? "expected '+' before the next node's inputs"
							 : "string ends early, expected '+' and the next node's inputs");
			p++;
		}
		if (s[p] != '|')
			return fail(err, p, s[p] ? "expected '|' opening the node's inputs"
						 : "string ends early, expected '|'");
		p++;
		for (int src = 0; src < node; src++) {
			size_t start = p;
			while (s[p] && s[p] != '~' && s[p] != '|' && s[p] != '+')
				p++;
			int op = mn_op_from_name(s + start, p - start);
			if (p == start) {
				snprintf(msg, sizeof msg,
					 "%s, expected input %d of node %d ('op~%d|')",
					 s[p] ? "missing op name" : "string ends early", src + 1, node, src);
				return fail(err, p, msg);
			}
			if (op < 0) {
				snprintf(msg, sizeof msg,
					 "unknown op '%.*s', expected none, skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3",
					 (int)(p - start > 40 ? 40 : p - start), s + start);
				return fail(err, start, msg);
			}
			if (s[p] != '~')
				return fail(err, p, "expected '~' and a source node after the op name");
			p++;
			if (s[p] < '0' || s[p] > '9') {
				snprintf(msg, sizeof msg, "expected source node %d after '~'", src);
				return fail(err, p, msg);
			}
			if (s[p] - '0' != src || (s[p + 1] >= '0' && s[p + 1] <= '9')) {
				snprintf(msg, sizeof msg,
					 "bad source node, expected %d (input %d of node %d)", src, src + 1, node);
				return fail(err, p, msg);
			}
			p++;
			if (s[p] != '|') {
				snprintf(msg, sizeof msg, "expected '|' after input %d of node %d", src + 1, node);
				return fail(err, p, msg);
			}
			p++;
			out->op[e++] = (unsigned char)op;
		}
		if (s[p] && s[p] != '+' && node < MN_NODES - 1) {
			snprintf(msg, sizeof msg, "node %d has more than %d input%s, expected '+' or the end",
				 node, node, node > 1 ? "s" : "");
			return fail(err, p, msg);
		}
	}
	if (s[p])
		return fail(err, p, "unexpected characters after the third node, expected the end of the string");
	return 0;
}

int mn_arch_format(const struct mn_arch *a, char *buf, size_t n)
{
	char tmp[MN_ARCH_STRLEN];
	size_t len = 0;
	int e = 0;
	for (int node = 1; node < MN_NODES; node++) {
		len += (size_t)snprintf(tmp + len, sizeof tmp - len, "%s|", node > 1 ? "+" : "");
		for (int src = 0; src < node; src++, e++)
			len += (size_t)snprintf(tmp + len, sizeof tmp - len, "%s~%d|",
						mn_op_name(a->op[e]), src);
	}
	return snprintf(buf, n, "%s", tmp);
}

int mn_arch_to_index(const struct mn_arch *a)
{
	int idx = 0;
	for (int e = 0; e < MN_EDGES; e++)
		idx = idx * MN_OP_COUNT + a->op[e];
	return idx;
}

void mn_arch_from_index(int index, struct mn_arch *out)
{
	for (int e = MN_EDGES - 1; e >= 0; e--) {
		out->op[e] = (unsigned char)(index % MN_OP_COUNT);
		index /= MN_OP_COUNT;
	}
}

void mn_mask_iter_init(struct mn_mask_iter *it, const unsigned char mask[MN_EDGES])
{
	it->done = 0;
	for (int e = 0; e < MN_EDGES; e++) {
		it->n[e] = 0;
		it->pos[e] = 0;
		for (int o = 0; o < MN_OP_COUNT; o++)
			if (mask[e] & (1u << o))
				it->ops[e][it->n[e]++] = (unsigned char)o;
		if (it->n[e] == 0)
			it->done = 1;
	}
}

int mn_mask_iter_next(struct mn_mask_iter *it, struct mn_arch *a)
{
	if (it->done)
		return 0;
	for (int e = 0; e < MN_EDGES; e++)
		a->op[e] = it->ops[e][it->pos[e]];
	/* Odometer, edge 5 fastest: index order. */
	int e = MN_EDGES - 1;
	while (e >= 0 && ++it->pos[e] == it->n[e])
		it->pos[e--] = 0;
	if (e < 0)
		it->done = 1;
	return 1;
}
