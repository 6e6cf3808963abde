/* The cost model against reference.md's check values (a fixture of our
 * own) and, when ../shared is present, against every row of the
 * NAS-Bench-201 table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "space/cost.h"
#include "tap.h"

static const struct {
	const char *arch;
	double flops_m, params_m;
} fixture[] = {
	{"|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 188.66241, 1.316506},
	{"|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|", 51.03681, 0.372346},
	{"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 7.78305, 0.073306},
	{"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 220.11969, 1.531546},
};

static void check_csv(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int rows = 0, bad = 0, seen[MN_ARCH_COUNT] = {0};
	struct mn_net_shape s = MN_SHAPE_DEFAULT;
	double worst = 0;

	if (!tap_ok(f != NULL, "open %s", path))
		return;
	if (!fgets(line, sizeof line, f) || strncmp(line, "index,arch,flops_m,params_m", 27) != 0)
		tap_ok(0, "CSV header is index,arch,flops_m,params_m,...");
	while (fgets(line, sizeof line, f)) {
		char *idx = strtok(line, ","), *arch = strtok(NULL, ","), *fl = strtok(NULL, ","),
		     *pa = strtok(NULL, ",");
		struct mn_arch a;
		struct mn_cost c;
		if (!idx || !arch || !pa || mn_arch_parse(arch, &a, NULL) != 0) {
			bad++;
			continue;
		}
		rows++;
		seen[mn_arch_to_index(&a)]++;
		mn_cost_arch(&a, &s, &c);
		double df = fabs(c.flops / 1e6 - atof(fl)), dp = fabs(c.params / 1e6 - atof(pa));
		if (df > worst) worst = df;
		if (dp > worst) worst = dp;
		if (df > 1e-6 || dp > 1e-6) {
			if (bad < 5)
				tap_diag("mismatch %s: %.6f vs %s, %.6f vs %s", arch, c.flops / 1e6, fl, c.params / 1e6, pa);
			bad++;
		}
	}
	fclose(f);
	int distinct = 0;
	for (int i = 0; i < MN_ARCH_COUNT; i++)
		distinct += seen[i] == 1;
	tap_ok(rows == MN_ARCH_COUNT && distinct == MN_ARCH_COUNT,
	       "CSV has every one of the 15625 archs once (%d rows, %d distinct)", rows, distinct);
	tap_ok(bad == 0, "FLOPs and params equal the CSV within 1e-6 for every row (%d bad, worst %.2g)",
	       bad, worst);
}

/* Non-square and odd sides, counted by hand from the layer list with the
 * ceil(n / 2) rule: 49x10 -> 25x5 -> 13x3. */
static void check_nonsquare(void)
{
	struct mn_net_shape s = {4, 1, 49, 12, 1, 10};
	int h, w;
	tap_ok(mn_stage_height(&s, 1) == 25 && mn_stage_width(&s, 1) == 5 &&
		       mn_stage_height(&s, 2) == 13 && mn_stage_width(&s, 2) == 3,
	       "49x10 halves to 25x5 and 13x3");
	tap_ok(mn_half_side(7) == 4 && mn_half_side(8) == 4 && mn_half_side(1) == 1,
	       "mn_half_side is ceil(n/2)");
	/* One conv3x3 on every edge, C=4 N=1, 1 input channel, 12 classes. */
	struct mn_arch a;
	for (int e = 0; e < MN_EDGES; e++)
		a.op[e] = MN_OP_CONV3;
	struct mn_cost c;
	mn_cost_arch(&a, &s, &c);
	uint64_t p0 = 49 * 10, p1 = 25 * 5, p2 = 13 * 3, f = 0;
	f += 4 * p0 * 1 * 9;                        /* stem */
	f += 6 * 9 * 4 * 4 * p0;                    /* stage 0 cell */
	f += 8 * p1 * 4 * 9 + 8 * p1 * 8 * 9 + 8 * p1 * 4; /* reduction 1 */
	f += 6 * 9 * 8 * 8 * p1;                    /* stage 1 cell */
	f += 16 * p2 * 8 * 9 + 16 * p2 * 16 * 9 + 16 * p2 * 8; /* reduction 2 */
	f += 6 * 9 * 16 * 16 * p2;                  /* stage 2 cell */
	f += 16 * 12 + 12;                          /* linear */
	tap_ok(c.flops == f, "49x10x1 flops %llu, by hand %llu", (unsigned long long)c.flops,
	       (unsigned long long)f);
	/* The transpose costs the same (every count is a product of H and W
	 * halved separately). */
	struct mn_net_shape t = {4, 1, 10, 12, 1, 49};
	struct mn_cost ct;
	mn_cost_arch(&a, &t, &ct);
	tap_ok(ct.flops == c.flops && ct.params == c.params, "10x49 costs what 49x10 does");
	/* Square shapes written with width 0 or width = height agree. */
	struct mn_net_shape q0 = {16, 5, 32, 10, 3, 0}, q1 = {16, 5, 32, 10, 3, 32};
	struct mn_cost c0, c1;
	mn_cost_arch(&a, &q0, &c0);
	mn_cost_arch(&a, &q1, &c1);
	tap_ok(c0.flops == c1.flops && c0.params == c1.params, "width 0 reads as the height");
	tap_ok(mn_sides_parse("49x10", &h, &w) == 0 && h == 49 && w == 10, "\"49x10\" parses");
	tap_ok(mn_sides_parse("32", &h, &w) == 0 && h == 32 && w == 32, "\"32\" parses as 32x32");
	tap_ok(mn_sides_parse("49x", &h, &w) == -1 && mn_sides_parse("x10", &h, &w) == -1 &&
		       mn_sides_parse("3x10", &h, &w) == -1 && mn_sides_parse("49x10x1", &h, &w) == -1 &&
		       mn_sides_parse("", &h, &w) == -1 && mn_sides_parse("-49x10", &h, &w) == -1,
	       "malformed sizes refused");
}

int main(void)
{
	struct mn_net_shape s = MN_SHAPE_DEFAULT;
	char buf[512];
	char msg[200];

	for (size_t i = 0; i < sizeof fixture / sizeof fixture[0]; i++) {
		struct mn_arch a;
		struct mn_cost c;
		mn_arch_parse(fixture[i].arch, &a, NULL);
		mn_cost_arch(&a, &s, &c);
		tap_ok(fabs(c.flops / 1e6 - fixture[i].flops_m) < 1e-6 &&
		       fabs(c.params / 1e6 - fixture[i].params_m) < 1e-6,
		       "check value %zu: %.5f MFLOPs %.6f M params", i, c.flops / 1e6, c.params / 1e6);
	}
	/* Hand-computed at another shape: C=8, N=1, 16x16, 100 classes, all none:
	 * stem 8*256*27 = 55296; red1 16*64*8*9 + 16*64*16*9 + 16*64*8 = 229376;
	 * red2 32*16*16*9 + 32*16*32*9 + 32*16*16 = 229376; linear 32*100+100. */
	struct mn_net_shape s2 = {8, 1, 16, 100, 3, 0};
	struct mn_arch none;
	struct mn_cost c;
	memset(&none, 0, sizeof none);
	mn_cost_arch(&none, &s2, &c);
	tap_ok(c.flops == 55296 + 229376 + 229376 + 3300, "FLOPs at C=8 N=1 R=16 K=100 (%llu)",
	       (unsigned long long)c.flops);
	/* A conv1x1 on every edge adds 6 * N * (C^2 H^2) per stage = 6*(64*256) three times. */
	struct mn_arch c1;
	memset(&c1, MN_OP_CONV1, sizeof c1);
	struct mn_cost c2;
	mn_cost_arch(&c1, &s2, &c2);
	tap_ok(c2.flops - c.flops == 3 * 6 * 64 * 256, "each conv1x1 edge adds C^2 H^2 per stage");
	tap_ok(c2.params - c.params == 6 * ((64 + 16) + (256 + 32) + (1024 + 64)),
	       "each conv1x1 edge adds C^2 + 2C params per stage");
	uint8_t mask[MN_EDGES];
	memset(mask, (1 << MN_OP_CONV1) | (1 << MN_OP_CONV3) | (1 << MN_OP_SKIP), sizeof mask);
	struct mn_cost cm, c3;
	struct mn_arch a3;
	memset(&a3, MN_OP_CONV3, sizeof a3);
	mn_cost_mask(mask, &s2, &cm);
	mn_cost_arch(&a3, &s2, &c3);
	tap_ok(cm.flops == c2.flops + c3.flops - c.flops, "a mixed edge costs the sum of its ops");

	struct mn_net_shape bad1 = {16, 5, 3, 10, 3, 0}, bad2 = {0, 5, 32, 10, 3, 0};
	struct mn_net_shape bad3 = {16, 5, 49, 10, 3, 2000}, odd = {16, 5, 30, 10, 3, 0};
	tap_ok(mn_shape_check(&bad1, msg, sizeof msg) == -1 && strstr(msg, "height"),
	       "height 3 refused: %s", msg);
	tap_ok(mn_shape_check(&bad3, msg, sizeof msg) == -1 && strstr(msg, "width"),
	       "width 2000 refused: %s", msg);
	tap_ok(mn_shape_check(&odd, msg, sizeof msg) == 0, "30x30 accepted (ceil(n/2) rule)");
	check_nonsquare();
	tap_ok(mn_shape_check(&bad2, msg, sizeof msg) == -1, "0 channels refused");
	tap_ok(mn_shape_check(&s, msg, sizeof msg) == 0, "default shape accepted");

	const char *csv = tap_shared_path("data/nb201/nb201_cifar10.csv", buf, sizeof buf);
	if (csv)
		check_csv(csv);
	return tap_done();
}
