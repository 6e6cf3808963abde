/* The int8 memory model on cases computed by hand (see the comments). */
#include <string.h>

#include "space/memory.h"
#include "tap.h"

static struct mn_arch arch_of(const char *s)
{
	struct mn_arch a;
	memset(&a, 0, sizeof a);
	mn_arch_parse(s, &a, NULL);
	return a;
}

int main(void)
{
	struct mn_net_shape s = MN_SHAPE_DEFAULT;
	struct mn_memory m;
	int order[MN_EDGES], len;

	/* Chain 1<-0, 2<-1, 3<-2 of convs: input + one output at a time = 2. */
	struct mn_arch chain = arch_of("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|");
	int ord_chain[] = {0, 2, 5};
	tap_ok(mn_cell_peak_units(&chain, ord_chain, 3) == 2, "chain of convs peaks at 2 tensors");
	tap_ok(mn_cell_plan(&chain, order, &len) == 2 && len == 3, "planner finds 2 for the chain");
	int ord_bad[] = {2, 0, 5};
	tap_ok(mn_cell_peak_units(&chain, ord_bad, 3) == -1, "reading node 1 before it is complete is refused");
	int ord_short[] = {0, 2};
	tap_ok(mn_cell_peak_units(&chain, ord_short, 2) == -1, "an order missing an edge is refused");

	/* All conv3x3, order 1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2 (edges 0,1,3,2,4,5):
	 * n0 | +o1=n1 (2) | +o2=n2 (3) | +o3 (4), n0 freed, o3=n3 (3) |
	 * +o (4), add into n2 (3) | +o (4), n1 freed (3), add (2) | +o (3) ... peak 4. */
	struct mn_arch conv = arch_of("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
	int ord_conv[] = {0, 1, 3, 2, 4, 5};
	tap_ok(mn_cell_peak_units(&conv, ord_conv, 6) == 4, "all-conv cell, hand order: 4 tensors");
	tap_ok(mn_cell_plan(&conv, order, &len) == 4, "planner: 4 tensors for the all-conv cell");

	/* All skip: the first read of node 0 cannot be its last (3 readers), so
	 * it copies (2 live); the second edge again reads a node with readers
	 * left into an empty node, so a second copy: 3 is the minimum.  The
	 * order 0,2,1,3,4,5 reaches it (edge 3 takes over node 0's buffer). */
	struct mn_arch skip = arch_of("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|");
	int ord_skip[] = {0, 2, 1, 3, 4, 5};
	tap_ok(mn_cell_peak_units(&skip, ord_skip, 6) == 3, "all-skip cell, hand order: 3 tensors");
	tap_ok(mn_cell_plan(&skip, order, &len) == 3, "planner: 3 tensors for all-skip");

	/* A single skip 3<-0: node 3 takes node 0's buffer: 1 tensor. */
	struct mn_arch one = arch_of("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
	tap_ok(mn_cell_plan(&one, order, &len) == 1 && len == 1, "lone skip aliases: 1 tensor");

	/* Dead node: 1<-0 conv but nothing reads node 1; 3<-0 conv.  Order
	 * 0,3: n0 +o (2) -> n1, n1 dead (1) -> +o (2), n0 freed -> 1: peak 2. */
	struct mn_arch dead = arch_of("|nor_conv_1x1~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|");
	int ord_dead[] = {0, 3};
	tap_ok(mn_cell_peak_units(&dead, ord_dead, 2) == 2, "an unread node is freed when complete");

	/* All none, default shape.  Cell: the input dies, the output is zeros:
	 * 1 tensor.  SRAM peak is reduction 1: x 16*32*32 + a 32*16*16 +
	 * p 16*16*16 = 16384 + 8192 + 4096 = 28672 bytes.  Flash: weights
	 * stem 432 + red1 56*16^2 = 14336 + red2 56*32^2 = 57344 + BN scale 64 +
	 * linear 640 = 72816; biases 16 + 64 + 128 + 64 + 10 = 282 -> 1128 B. */
	struct mn_arch none = arch_of("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
	mn_memory_arch(&none, &s, 0, &m);
	tap_ok(m.cell_units == 1, "all-none cell holds 1 tensor");
	tap_ok(m.sram_bytes == 28672 && m.peak_phase == MN_PHASE_REDUCTION && m.peak_stage == 0,
	       "all-none SRAM peak 28672 B at reduction 1 (got %llu at %s %d)",
	       (unsigned long long)m.sram_bytes, mn_mem_phase_name(m.peak_phase), m.peak_stage);
	tap_ok(m.weight_bytes == 72816 && m.bias_bytes == 1128 && m.flash_bytes == 73944,
	       "all-none flash 72816 + 1128 B (got %llu + %llu)", (unsigned long long)m.weight_bytes,
	       (unsigned long long)m.bias_bytes);
	mn_memory_arch(&none, &s, 100 * 1024, &m);
	tap_ok(m.flash_bytes == 73944 + 102400, "runtime flash is added");

	/* All conv3x3: 4 tensors of 16*32*32 = 65536 B in stage 1, above the
	 * reduction's 28672; weights add 6 * 5 * 9 * (16^2 + 32^2 + 64^2) =
	 * 1451520 and biases 4 * 6 * 5 * (16 + 32 + 64) = 13440 B. */
	mn_memory_arch(&conv, &s, 0, &m);
	tap_ok(m.sram_bytes == 65536 && m.peak_phase == MN_PHASE_CELL && m.peak_stage == 0,
	       "all-conv SRAM peak 65536 B in stage 1 (got %llu)", (unsigned long long)m.sram_bytes);
	tap_ok(m.flash_bytes == 73944 + 1451520 + 13440, "all-conv flash (got %llu)",
	       (unsigned long long)m.flash_bytes);
	tap_ok(m.order_len == 6 && mn_cell_peak_units(&conv, m.order, m.order_len) == 4,
	       "the reported order achieves the reported peak");

	/* At C=1 the stem (image 3R^2 + output R^2) is the peak. */
	struct mn_net_shape tiny = {1, 1, 32, 10, 3, 0};
	mn_memory_arch(&none, &tiny, 0, &m);
	tap_ok(m.sram_bytes == 4 * 1024 && m.peak_phase == MN_PHASE_STEM,
	       "C=1: the stem's 3*32*32 + 32*32 = 4096 B is the peak (got %llu at %s)",
	       (unsigned long long)m.sram_bytes, mn_mem_phase_name(m.peak_phase));

	/* Every arch has a valid plan no worse than 5 tensors. */
	int worst = 0, invalid = 0;
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		struct mn_arch a;
		mn_arch_from_index(i, &a);
		int p = mn_cell_plan(&a, order, &len);
		if (p < 1 || mn_cell_peak_units(&a, order, len) != p)
			invalid++;
		if (p > worst)
			worst = p;
	}
	tap_ok(invalid == 0 && worst <= 5, "every arch has a consistent plan (worst %d tensors)", worst);
	return tap_done();
}
