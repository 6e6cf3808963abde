/* The second target's latency table and preset: the Cortex-M4 cycle model
 * (NUCLEO-F446RE at 180 MHz), the shipped presets/nucleo-f446re-latency.ini
 * (must equal the model's output), and presets/nucleo-f446re.ini (its
 * board, table and emulated counterpart).
 *
 * With --regenerate FILE it writes the model's NUCLEO-F446RE table to FILE
 * instead of testing (how presets/nucleo-f446re-latency.ini is made). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/preset.h"
#include "space/arch.h"
#include "space/latency_model.h"
#include "space/latency_table.h"
#include "tap.h"

#define A_TENAS "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#define A_MICRONAS "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"

static int same_table(const struct mn_latency_table *a, const struct mn_latency_table *b)
{
	if (strcmp(a->board, b->board) || strcmp(a->source, b->source) || a->clock_mhz != b->clock_mhz ||
	    a->channels != b->channels || a->cells != b->cells || a->height != b->height || a->width != b->width ||
	    a->classes != b->classes || a->stem_us != b->stem_us || a->head_us != b->head_us ||
	    a->overhead_us != b->overhead_us || a->reduction_us[0] != b->reduction_us[0] ||
	    a->reduction_us[1] != b->reduction_us[1])
		return 0;
	for (int s = 0; s < MN_STAGES; s++) {
		if (a->add_us[s] != b->add_us[s])
			return 0;
		for (int o = 0; o < MN_OP_COUNT; o++)
			if (a->op_us[s][o] != b->op_us[s][o])
				return 0;
	}
	return 1;
}

static const char *top(void)
{
	const char *t = getenv("MN_TOP_SRCDIR");
	return t && *t ? t : ".";
}

static void test_model(void)
{
	struct mn_latency_table m4, m7, u;
	struct mn_arch a, b;
	char path[1024], err[512];
	int rc = mn_latency_model_nucleo_f446re(16, 5, 32, 32, 10, &m4);
	tap_ok(rc == 0 && m4.clock_mhz == 180 && !strcmp(m4.board, "NUCLEO-F446RE") &&
		       strstr(m4.source, "Cortex-M4") && strstr(m4.source, "NOT measured"),
	       "model table for the NUCLEO-F446RE at 180 MHz, labelled as not measured");
	/* Stage-0 conv3x3 (16 ch, 32x32): 2359296 MACs x 1.7 + 147456 im2col
	 * bytes x 2.25 + 16384 outputs x 9 + 16384 ReLU x 1.5 + 2 calls x
	 * 1300 = 4517211.2 cycles at 180 MHz. */
	tap_ok(m4.op_us[0][MN_OP_CONV3] == round(4517211.2 / 180 * 1000) / 1000,
	       "stage-0 conv3x3 = 4517211 cycles / 180 MHz = %.3f us", m4.op_us[0][MN_OP_CONV3]);
	rc = mn_latency_model_nucleo(16, 5, 32, 32, 10, &m7);
	int slower = rc == 0;
	for (int s = 0; s < MN_STAGES; s++)
		for (int o = MN_OP_CONV1; o < MN_OP_COUNT; o++)
			slower &= m4.op_us[s][o] > m7.op_us[s][o] * (216.0 / 180.0);
	tap_ok(slower, "every op costs more cycles on the single-issue M4 than on the M7 (stage-0 "
	       "conv3x3 %.0f vs %.0f us)", m4.op_us[0][MN_OP_CONV3], m7.op_us[0][MN_OP_CONV3]);
	struct mn_parse_error pe;
	if (mn_arch_parse(A_TENAS, &a, &pe) != 0 || mn_arch_parse(A_MICRONAS, &b, &pe) != 0) {
		tap_ok(0, "parsing the reference archs: %s", pe.msg);
		return;
	}
	double r4 = mn_latency_arch_us(&m4, &a) / mn_latency_arch_us(&m7, &a);
	tap_diag("TE-NAS pick: %.1f ms on the M4, %.1f ms on the M7 (%.2fx); MicroNAS pick %.1f / %.1f ms",
		 mn_latency_arch_us(&m4, &a) / 1000, mn_latency_arch_us(&m7, &a) / 1000, r4,
		 mn_latency_arch_us(&m4, &b) / 1000, mn_latency_arch_us(&m7, &b) / 1000);
	tap_ok(r4 > 1.5 && r4 < 4, "a conv-heavy arch is 1.5-4x slower on the M4 (%.2fx)", r4);

	snprintf(path, sizeof path, "%s/presets/nucleo-f446re-latency.ini", top());
	rc = mn_latency_table_read(&u, path, err, sizeof err);
	tap_ok(rc == 0, "reads the shipped presets/nucleo-f446re-latency.ini (%s)", rc ? err : "ok");
	tap_ok(rc == 0 && same_table(&m4, &u),
	       "the shipped table equals the M4 cycle model's (regenerate: tests/test_latency_m4 --regenerate FILE)");
}

static void test_preset(void)
{
	struct mn_preset p, d;
	char path[1024];
	struct mn_error e;
	snprintf(path, sizeof path, "%s/presets/nucleo-f446re.ini", top());
	mn_preset_defaults(&p);
	mn_preset_defaults(&d);
	int rc = mn_preset_load(&p, path, &e);
	tap_ok(rc == 0, "loads presets/nucleo-f446re.ini (%s)", rc ? e.msg : "ok");
	tap_ok(p.set == (((1u << MN_PF_COUNT) - 1) &
			 ~((1u << MN_PF_MAX_SRAM_KB) | (1u << MN_PF_MAX_FLASH_KB))) &&
		       p.max_sram_kb == 128 && p.max_flash_kb == 512,
	       "it sets every field but the SRAM and flash limits, which are the board's 128 and 512 KB");
	tap_ok(!strcmp(p.board_name, "NUCLEO-F446RE") && p.clock_mhz == 180 && p.sram_kb == 128 &&
		       p.flash_kb == 512,
	       "board NUCLEO-F446RE: 180 MHz, 128 KB SRAM, 512 KB flash");
	tap_ok(!strcmp(p.emulator, "mps2-an386") && !strcmp(p.firmware, "qemu-mps2-an386"),
	       "its emulated counterpart: -M %s running the %s build", p.emulator, p.firmware);
	const char *slash = strrchr(p.latency_table, '/');
	tap_ok(slash && !strcmp(slash + 1, "nucleo-f446re-latency.ini"),
	       "its latency table is the shipped M4 model (%s)", p.latency_table);
	tap_ok(p.channels == d.channels && p.cells == d.cells && p.height == d.height && p.width == d.width &&
		       p.classes == d.classes,
	       "the same network as the NUCLEO-F746ZG preset, so the two boards compare directly");
	tap_ok(p.batch == d.batch && p.batch == 32 && p.repeat == d.repeat && p.w_latency == d.w_latency &&
		       p.ntk_grad == d.ntk_grad && p.init == d.init,
	       "the same search as the embedded default: MicroNAS's batch 32, 3 repeats, latency weighted");
	/* A name that would escape the firmware directory is refused. */
	rc = mn_preset_set(&p, MN_PF_FIRMWARE, "../x", "--firmware-build", NULL, &e);
	tap_ok(rc != 0 && strstr(e.msg, "not a name"), "firmware = ../x is refused: %s", e.msg);
	rc = mn_preset_set(&p, MN_PF_EMULATOR, "", "emulator", NULL, &e);
	tap_ok(rc != 0, "an empty emulator is refused: %s", e.msg);
	mn_preset_free(&p);
	mn_preset_free(&d);
}

static int regenerate(const char *path)
{
	struct mn_latency_table t;
	char err[512];
	if (mn_latency_model_nucleo_f446re(16, 5, 32, 32, 10, &t) != 0 ||
	    mn_latency_table_write(&t, path, mn_latency_model_comment_m4, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("wrote %s\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--regenerate") == 0)
		return regenerate(argv[2]);
	test_model();
	test_preset();
	return tap_done();
}
