/* Arch strings: parse/format round trip over the whole space, index
 * conversion, and positioned errors for malformed input. */
#include <string.h>

#include "space/arch.h"
#include "tap.h"

static void expect_error(const char *s, size_t pos, const char *needle)
{
	struct mn_arch a;
	struct mn_parse_error err = {0, ""};
	int rc = mn_arch_parse(s, &a, &err);
	tap_ok(rc == -1 && err.pos == pos && strstr(err.msg, needle) != NULL,
	       "'%s' fails at offset %zu with '%s' (got rc %d, offset %zu, '%s')", s, pos, needle, rc,
	       err.pos, err.msg);
}

int main(void)
{
	const char *ex = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
	struct mn_arch a;
	char buf[MN_ARCH_STRLEN];
	int bad = 0;

	tap_ok(mn_arch_parse(ex, &a, NULL) == 0, "reference example parses");
	tap_ok(a.op[0] == MN_OP_CONV3 && a.op[3] == MN_OP_SKIP && a.op[5] == MN_OP_CONV3,
	       "ops land on the right edges");
	mn_arch_format(&a, buf, sizeof buf);
	tap_ok(strcmp(buf, ex) == 0, "format gives back the same string");

	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		struct mn_arch x, y;
		mn_arch_from_index(i, &x);
		mn_arch_format(&x, buf, sizeof buf);
		if (mn_arch_parse(buf, &y, NULL) != 0 || mn_arch_to_index(&y) != i ||
		    memcmp(x.op, y.op, sizeof x.op) != 0)
			bad++;
	}
	tap_ok(bad == 0, "all 15625 archs round-trip index -> string -> index (%d bad)", bad);
	tap_ok(mn_edge_index(3, 1) == 4 && mn_edge_to(2) == 2 && mn_edge_from(2) == 1,
	       "edge numbering follows string order");
	tap_ok(mn_arch_format(&a, buf, 10) > 10 && strlen(buf) == 9, "format truncates safely");

	/* The archs inside a mixed mask, in index order. */
	unsigned char all[MN_EDGES], searched[MN_EDGES], empty[MN_EDGES];
	memset(all, 0x1f, sizeof all);
	memset(searched, 0x1e, sizeof searched);
	memset(empty, 0x1e, sizeof empty);
	empty[4] = 0;
	struct mn_mask_iter it;
	struct mn_arch x;
	int count = 0, in_order = 1, last = -1, has_none = 0;
	for (mn_mask_iter_init(&it, all); mn_mask_iter_next(&it, &x); count++) {
		in_order &= mn_arch_to_index(&x) == last + 1;
		last = mn_arch_to_index(&x);
	}
	tap_ok(count == MN_ARCH_COUNT && in_order, "the full mask holds all 15625 archs in index order");
	count = 0;
	for (mn_mask_iter_init(&it, searched); mn_mask_iter_next(&it, &x); count++)
		for (int e = 0; e < MN_EDGES; e++)
			has_none |= x.op[e] == MN_OP_NONE;
	tap_ok(count == 4096 && !has_none, "the mask without none holds 4^6 = 4096 archs, none with none");
	mn_mask_iter_init(&it, empty);
	tap_ok(mn_mask_iter_next(&it, &x) == 0, "a mask with an empty edge holds no arch");

	expect_error("", 0, "empty");
	expect_error("|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", 1, "unknown op 'nor_conv_5x5'");
	expect_error("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", 22, "expected 1");
	expect_error("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", 6, "expected 0");
	expect_error("|none~0|+|none~0|none~1|+|none~0|none~1|", 40, "ends early, expected input 3 of node 3");
	expect_error("|none~0|+|none~0|none~1|", 24, "ends early");
	expect_error("|none~0|+|none~0|+|none~0|none~1|none~2|", 17, "missing op name, expected input 2 of node 2");
	expect_error("|none~0|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", 8, "more than 1 input");
	expect_error("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x", 47, "after the third node");
	expect_error("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", 47, "after the third node");
	expect_error("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 0, "expected '|'");
	expect_error("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", 1, "unknown op 'none0'");
	expect_error("|none~|+|none~0|none~1|+|none~0|none~1|none~2|", 6, "expected source node 0");
	expect_error("|none~00|+|none~0|none~1|+|none~0|none~1|none~2|", 6, "bad source node");
	expect_error("|none~0||none~0|none~1|+|none~0|none~1|none~2|", 8, "expected '+'");
	expect_error("|none~0 |+|none~0|none~1|+|none~0|none~1|none~2|", 7, "expected '|' after input 1");
	expect_error("|NONE~0|+|none~0|none~1|+|none~0|none~1|none~2|", 1, "unknown op");
	return tap_done();
}
