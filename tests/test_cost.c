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
	struct mn_net_shape s2 = {8, 1, 16, 100, 3};
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

	struct mn_net_shape bad1 = {16, 5, 30, 10, 3}, bad2 = {0, 5, 32, 10, 3};
	tap_ok(mn_shape_check(&bad1, msg, sizeof msg) == -1 && strstr(msg, "multiple of 4"),
	       "resolution 30 refused: %s", msg);
	tap_ok(mn_shape_check(&bad2, msg, sizeof msg) == -1, "0 channels refused");
	tap_ok(mn_shape_check(&s, msg, sizeof msg) == 0, "default shape accepted");

	const char *csv = tap_shared_path("data/nb201/nb201_cifar10.csv", buf, sizeof buf);
	if (csv)
		check_csv(csv);
	return tap_done();
}
