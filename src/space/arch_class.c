#include "space/arch_class.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A node's value as a sum of terms, each "x" (the cell's input) or an op
 * letter with the sum it is applied to in parentheses ("3(x+1(x))").  A
 * node has at most 4 terms (skips of skips: x, x, x+x) and its text fits
 * well within TEXT (node 3 of the longest arch takes about 60 bytes). */
#define TERMS 8
#define TEXT 512

struct sum {
	int n;
	char term[TERMS][TEXT];
};

static int cmp_text(const void *a, const void *b) { return strcmp(a, b); }

/* The sum's text: its terms sorted and joined by '+' ("" for zero), into
 * out[n] (cut short if it did not fit, which the bound above rules out). */
static void sum_text(struct sum *s, char *out, size_t n)
{
	qsort(s->term, (size_t)s->n, TEXT, cmp_text);
	size_t o = 0;
	out[0] = '\0';
	for (int k = 0; k < s->n && o < n; k++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", k ? "+" : "", s->term[k]);
}

/* Node 3's text for arch a (the class's key). */
static void cell_text(const struct mn_arch *a, struct sum node[MN_NODES], char *out)
{
	static const char letter[MN_OP_COUNT] = {[MN_OP_CONV1] = '1', [MN_OP_CONV3] = '3',
						 [MN_OP_POOL3] = 'p'};
	char in[TEXT / 2];
	node[0].n = 1;
	snprintf(node[0].term[0], TEXT, "x");
	for (int i = 1; i < MN_NODES; i++) {
		node[i].n = 0;
		for (int j = 0; j < i; j++) {
			int op = a->op[mn_edge_index(i, j)];
			if (op == MN_OP_NONE || node[j].n == 0) /* nothing, or an op of zero */
				continue;
			if (op == MN_OP_SKIP) { /* node j's terms, unchanged */
				for (int k = 0; k < node[j].n && node[i].n < TERMS; k++)
					memcpy(node[i].term[node[i].n++], node[j].term[k], TEXT);
				continue;
			}
			sum_text(&node[j], in, sizeof in);
			if (node[i].n < TERMS)
				snprintf(node[i].term[node[i].n++], TEXT, "%c(%s)", letter[op], in);
		}
	}
	sum_text(&node[MN_NODES - 1], out, TEXT);
}

struct keyed {
	char *text;
	int index;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->text, y->text);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

int mn_arch_classes(uint16_t rep[MN_ARCH_COUNT])
{
	struct keyed *k = calloc(MN_ARCH_COUNT, sizeof *k);
	struct sum *node = malloc(MN_NODES * sizeof *node);
	char *text = malloc(TEXT);
	int rc = -1;
	if (!k || !node || !text)
		goto out;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		struct mn_arch a;
		mn_arch_from_index(i, &a);
		cell_text(&a, node, text);
		k[i].index = i;
		if (!(k[i].text = strdup(text)))
			goto out;
	}
	qsort(k, MN_ARCH_COUNT, sizeof *k, cmp_keyed);
	for (int i = 0, first = 0; i < MN_ARCH_COUNT; i++) {
		if (i == 0 || strcmp(k[i].text, k[i - 1].text) != 0)
			first = k[i].index; /* the smallest index of its text */
		rep[k[i].index] = (uint16_t)first;
	}
	rc = 0;
out:
	if (k)
		for (int i = 0; i < MN_ARCH_COUNT; i++)
			free(k[i].text);
	free(k);
	free(node);
	free(text);
	return rc;
}
