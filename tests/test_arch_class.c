/* Function classes of the space (arch_class.h): pairs worked out by hand
 * from the cell's algebra (a branch that reaches no output, ops on a zero
 * node, a skip, nodes 1 and 2 swapped, a zero output) fall in one class;
 * pairs that differ in an op, in the order of two ops or in a term do not;
 * and the table is consistent over the whole space. */
#include <stdlib.h>

#include "space/arch_class.h"
#include "tap.h"

#define C1 "nor_conv_1x1"
#define C3 "nor_conv_3x3"
#define P "avg_pool_3x3"
#define S "skip_connect"
#define N "none"
/* |e10~0|+|e20~0|e21~1|+|e30~0|e31~1|e32~2| */
#define ARCH(a, b, c, d, e, f) "|" a "~0|+|" b "~0|" c "~1|+|" d "~0|" e "~1|" f "~2|"

static int index_of(const char *s)
{
	struct mn_arch a;
	return mn_arch_parse(s, &a, NULL) == 0 ? mn_arch_to_index(&a) : -1;
}

static void same(const uint16_t *rep, const char *x, const char *y, const char *why, int want)
{
	int i = index_of(x), j = index_of(y);
	int got = i >= 0 && j >= 0 && rep[i] == rep[j];
	tap_ok(got == want, "%s: %s and %s %s", why, x, y, want ? "share a class" : "do not");
}

int main(void)
{
	uint16_t *rep = malloc(MN_ARCH_COUNT * sizeof *rep);
	tap_ok(rep && mn_arch_classes(rep) == 0, "classes of the space computed");
	if (!rep)
		return tap_done();
	int classes = 0, bad = 0;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		classes += rep[i] == i;
		bad += rep[i] > i || rep[rep[i]] != rep[i];
	}
	/* 4930 also by an independent enumeration (a Python script over the
	 * 15625 strings, with the rules of arch_class.h). */
	tap_ok(classes == 4930, "4930 classes of 15625 archs (got %d)", classes);
	tap_ok(bad == 0, "each arch's representative is the smallest index of its class (%d not)", bad);

	same(rep, ARCH(C3, C3, C1, C1, C3, N), ARCH(C3, N, N, C1, C3, N),
	     "node 2 reaches no output: its two convs change nothing", 1);
	same(rep, ARCH(N, C3, C3, C1, C1, C3), ARCH(N, C3, P, C1, S, C3),
	     "node 1 is zero: any op from it is zero", 1);
	same(rep, ARCH(S, N, N, N, C3, N), ARCH(N, N, N, C3, N, N),
	     "a conv of a skip of x is a conv of x", 1);
	same(rep, ARCH(C3, C1, N, N, C3, C1), ARCH(C1, C3, N, N, C1, C3),
	     "nodes 1 and 2 swap roles", 1);
	same(rep, ARCH(N, N, N, N, N, N), ARCH(C3, C3, C3, N, N, N), "both cells output zero", 1);
	same(rep, ARCH(S, S, S, S, S, S), ARCH(S, S, S, S, S, S), "an arch and itself", 1);
	same(rep, ARCH(C3, C3, C3, C3, C3, C3), ARCH(C3, C3, C3, C3, C3, C1), "a 3x3 conv against a 1x1", 0);
	same(rep, ARCH(P, N, C3, N, N, S), ARCH(C3, N, P, N, N, S),
	     "a conv of a pool against a pool of a conv", 0);
	same(rep, ARCH(C3, N, N, C3, S, N), ARCH(C3, N, N, N, S, N),
	     "two convs of x (two sets of weights) against one", 0);
	same(rep, ARCH(S, N, N, S, S, N), ARCH(S, N, N, S, N, N), "x + x against x", 0);
	free(rep);
	return tap_done();
}
