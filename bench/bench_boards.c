/* make bench: the two targets side by side.  Loads the NUCLEO-F746ZG
 * (Cortex-M7) and NUCLEO-F446RE (Cortex-M4F) presets and shows
 *   1. their latency tables, op by op (both a-priori cycle models, not
 *      measurements) and the M4/M7 ratio;
 *   2. under the same limits, how much of the NAS-Bench-201 space each
 *      board admits, and reference archs' estimated latency on each;
 *   3. the search's pick on each board under the same limits and seed
 *      (TE-NAS proxies + the latency rank, w_latency 1), with the proxy
 *      data of ../shared when present, else the synthetic batch;
 *   4. the emulated M4 (QEMU mps2-an386 with the qemu-mps2-an386 image):
 *      profiled into a table, then whole networks validated against it
 *      (target: every |error| under 2%).
 *
 *   bench_boards [--max-latency-ms 400] [--max-sram-kb 100] [--max-flash-kb 0]
 *                [--seed 0] [--batch 32] [--repeat 3] [--threads 0]
 *                [--archs 20] [--skip-search 0] [--skip-emulator 0] */
#include <math.h>

#include "bench_common.h"
#include "board/board.h"
#include "board/emulator.h"
#include "board/profile.h"
#include "board/validate.h"
#include "config/preset.h"
#include "config/preset_find.h"
#include "search/session.h"
#include "space/cost.h"
#include "space/latency_table.h"
#include "space/memory.h"
#include "util/rng.h"

#define N_BOARDS 2
static const char *const preset_names[N_BOARDS] = {"nucleo-f746zg", "nucleo-f446re"};

#define A_TENAS "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#define A_MICRONAS "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
#define A_CONV3 "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#define A_SKIP "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"

struct board {
	struct mn_preset p;
	struct mn_latency_table t;
	struct mn_net_shape shape;
};

static int fits(const struct board *b, const struct mn_arch *a, const struct mn_constraints *l,
		double *lat_ms)
{
	struct mn_memory m;
	mn_memory_arch(a, &b->shape, (uint64_t)(b->p.runtime_flash_kb * 1024.0 + 0.5), &m);
	*lat_ms = mn_latency_arch_us(&b->t, a) / 1000.0;
	return (l->max_latency_ms <= 0 || *lat_ms <= l->max_latency_ms) &&
	       (l->max_sram_kb <= 0 || m.sram_bytes / 1024.0 <= l->max_sram_kb) &&
	       (l->max_flash_kb <= 0 || m.flash_bytes / 1024.0 <= l->max_flash_kb);
}

static void print_tables(const struct board *bd)
{
	static const char *const ops[] = {"nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};
	static const int op_id[] = {MN_OP_CONV1, MN_OP_CONV3, MN_OP_POOL3};
	const struct mn_latency_table *a = &bd[0].t, *b = &bd[1].t;
	printf("\n1. latency tables (us; both a-priori cycle models, NOT measured)\n");
	printf("   %-22s %12s %12s %7s\n", "part", a->board, b->board, "M4/M7");
	for (int s = 0; s < MN_STAGES; s++) {
		for (int o = 0; o < 3; o++) {
			char name[40];
			snprintf(name, sizeof name, "stage%d %s", s, ops[o]);
			printf("   %-22s %12.1f %12.1f %7.2f\n", name, a->op_us[s][op_id[o]],
			       b->op_us[s][op_id[o]], b->op_us[s][op_id[o]] / a->op_us[s][op_id[o]]);
		}
		char name[40];
		snprintf(name, sizeof name, "stage%d add", s);
		printf("   %-22s %12.1f %12.1f %7.2f\n", name, a->add_us[s], b->add_us[s],
		       b->add_us[s] / a->add_us[s]);
	}
	printf("   %-22s %12.1f %12.1f %7.2f\n", "stem", a->stem_us, b->stem_us, b->stem_us / a->stem_us);
	printf("   %-22s %12.1f %12.1f %7.2f\n", "reduction1", a->reduction_us[0], b->reduction_us[0],
	       b->reduction_us[0] / a->reduction_us[0]);
	printf("   %-22s %12.1f %12.1f %7.2f\n", "reduction2", a->reduction_us[1], b->reduction_us[1],
	       b->reduction_us[1] / a->reduction_us[1]);
	printf("   %-22s %12.1f %12.1f %7.2f\n", "head", a->head_us, b->head_us, b->head_us / a->head_us);
	printf("   (clock %.0f vs %.0f MHz: a stage-0 conv3x3 takes %.2fx the M7's cycles on the M4)\n",
	       a->clock_mhz, b->clock_mhz,
	       b->op_us[0][MN_OP_CONV3] * b->clock_mhz / (a->op_us[0][MN_OP_CONV3] * a->clock_mhz));
}

static void print_space(const struct board *bd, const struct mn_constraints *l)
{
	static const char *const refs[][2] = {
		{"TE-NAS pick", A_TENAS}, {"MicroNAS pick", A_MICRONAS},
		{"all nor_conv_3x3", A_CONV3}, {"all skip_connect", A_SKIP},
	};
	int feasible[N_BOARDS] = {0}, both = 0, only_m7 = 0;
	printf("\n2. the space under the same limits (max_latency_ms %g, max_sram_kb %g, "
	       "max_flash_kb %g; 0 = none)\n", l->max_latency_ms, l->max_sram_kb, l->max_flash_kb);
	for (int i = 0; i < MN_ARCH_COUNT; i++) {
		struct mn_arch a;
		int ok[N_BOARDS];
		double ms;
		mn_arch_from_index(i, &a);
		for (int k = 0; k < N_BOARDS; k++)
			feasible[k] += ok[k] = fits(&bd[k], &a, l, &ms);
		both += ok[0] && ok[1];
		only_m7 += ok[0] && !ok[1];
	}
	for (int k = 0; k < N_BOARDS; k++)
		printf("   %-14s admits %5d of %d archs\n", bd[k].t.board, feasible[k], MN_ARCH_COUNT);
	printf("   both admit %d; %d fit the %s only\n", both, only_m7, bd[0].t.board);
	printf("   %-18s %10s %10s\n", "estimated ms", bd[0].t.board, bd[1].t.board);
	for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++) {
		struct mn_arch a;
		struct mn_parse_error pe;
		if (mn_arch_parse(refs[r][1], &a, &pe) != 0)
			continue;
		printf("   %-18s %10.1f %10.1f\n", refs[r][0], mn_latency_arch_us(&bd[0].t, &a) / 1000.0,
		       mn_latency_arch_us(&bd[1].t, &a) / 1000.0);
	}
}

/* One search per board: the same seed, data, weights and limits; only the
 * preset (latency table, runtime flash) differs. */
static int run_searches(const struct board *bd, const struct mn_constraints *l, int argc,
			char **argv, struct mn_arch picks[N_BOARDS])
{
	char buf[4096], err[512];
	const char *bin = bench_shared("data/cifar10/data_batch_subset.bin", buf, sizeof buf);
	int threads = atoi(bench_arg(argc, argv, "--threads", "0"));
	printf("\n3. the picks (TE-NAS proxies + latency rank, w_latency 1, seed %s, batch %s, "
	       "repeat %s, %s)\n", bench_arg(argc, argv, "--seed", "0"),
	       bench_arg(argc, argv, "--batch", "32"), bench_arg(argc, argv, "--repeat", "3"),
	       bin ? "CIFAR-10 subset of ../shared" : "synthetic batch: ../shared absent");
	for (int k = 0; k < N_BOARDS; k++) {
		static struct mn_session s;
		struct mn_engine_snapshot snap;
		struct mn_preset p = bd[k].p;
		char a[MN_ARCH_STRLEN];
		p.seed = strtoull(bench_arg(argc, argv, "--seed", "0"), NULL, 10);
		p.batch = atoi(bench_arg(argc, argv, "--batch", "32"));
		p.repeat = atoi(bench_arg(argc, argv, "--repeat", "3"));
		p.w_flops = 0;
		p.w_latency = 1;
		p.max_latency_ms = l->max_latency_ms;
		p.max_sram_kb = l->max_sram_kb;
		p.max_flash_kb = l->max_flash_kb;
		if (mn_session_init(&s, &p, bin, threads, err, sizeof err) != 0) {
			fprintf(stderr, "bench_boards: %s: %s\n", bd[k].t.board, err);
			return -1;
		}
		mn_engine_start(s.engine);
		mn_engine_wait(s.engine);
		mn_engine_snapshot(s.engine, &snap);
		mn_session_free(&s);
		if (snap.state != MN_ENGINE_DONE || !snap.has_result) {
			fprintf(stderr, "bench_boards: %s: search failed: %s\n", bd[k].t.board, snap.error);
			return -1;
		}
		picks[k] = snap.result;
		mn_arch_format(&snap.result, a, sizeof a);
		printf("   %-14s %s\n", bd[k].t.board, a);
		printf("   %-14s %.1f s; %.2f MFLOPs, est. %.1f ms on %s / %.1f ms on %s, SRAM %.1f KB, "
		       "flash %.1f KB\n", "", snap.search_seconds, snap.result_flops_m,
		       mn_latency_arch_us(&bd[0].t, &snap.result) / 1000.0, bd[0].t.board,
		       mn_latency_arch_us(&bd[1].t, &snap.result) / 1000.0, bd[1].t.board,
		       snap.result_sram_kb, snap.result_flash_kb);
		fflush(stdout);
	}
	printf("   the picks %s\n", memcmp(&picks[0], &picks[1], sizeof picks[0]) ? "differ" : "are the same");
	return 0;
}

/* Profiles the emulated M4 at the preset's network and validates random
 * archs (uniform over the space, none edges included) plus the picks. */
static int run_emulator(const struct board *m4, const struct mn_arch *picks, int n_picks,
			int n_archs)
{
	struct mn_emulator_opts eo = {.boot_timeout_ms = 20000};
	struct mn_emulator *e;
	struct mn_board *b;
	struct mn_profile_opts po;
	struct mn_profile_result pres;
	struct mn_latency_table t;
	struct mn_rng rng;
	char tmp[64] = "/tmp/mn-bench-boards-XXXXXX", table[128], partial[160], err[1024];
	double sum = 0, worst = 0, t0;
	int brc, done = 0, sram_equal = 0, rc = -1;

	printf("\n4. the emulated %s: QEMU -M %s with the %s image\n", m4->t.board, m4->p.emulator,
	       m4->p.firmware);
	if (!mkdtemp(tmp)) {
		perror("bench_boards: mkdtemp");
		return -1;
	}
	snprintf(table, sizeof table, "%s/m4-latency.ini", tmp);
	snprintf(partial, sizeof partial, "%s.partial", table);
	eo.machine = m4->p.emulator;
	eo.firmware_build = m4->p.firmware;
	if (mn_emulator_start(&e, &eo, err, sizeof err) != 0) {
		fprintf(stderr, "bench_boards: %s\n", err);
		rmdir(tmp);
		return -1;
	}
	if (mn_board_connect(&b, mn_emulator_port(e), NULL, err, sizeof err) != MN_BOARD_OK) {
		fprintf(stderr, "bench_boards: %s\n", err);
		mn_emulator_stop(e);
		rmdir(tmp);
		return -1;
	}
	printf("   board %s, firmware %s, arena %u bytes; timing instruction-based\n",
	       mn_board_info(b)->board, mn_board_info(b)->fw_version,
	       (unsigned)mn_board_info(b)->hello.arena_bytes);
	mn_profile_opts_default(&po);
	po.shape = m4->shape;
	po.output = table;
	t0 = mn_now_s();
	if (mn_profile_run(b, &po, &t, &pres, &brc, err, sizeof err) != 0) {
		fprintf(stderr, "bench_boards: profile: %s\n", err);
		goto out;
	}
	printf("   profile C=%d N=%d R=%d: %d measurements, median of %d, %.1f s\n",
	       po.shape.channels, po.shape.cells, po.shape.height, pres.total, po.repeats,
	       mn_now_s() - t0);
	mn_rng_seed(&rng, 2024);
	t0 = mn_now_s();
	for (int i = 0; i < n_picks + n_archs; i++) {
		struct mn_arch a;
		struct mn_validation v;
		if (i < n_picks)
			a = picks[i];
		else
			mn_arch_from_index((int)mn_rng_below(&rng, MN_ARCH_COUNT), &a);
		if (mn_validate_arch(b, &a, &po.shape, &t, (uint32_t)(1000 + i), &v, &brc, err,
				     sizeof err) != 0) {
			fprintf(stderr, "bench_boards: %s\n", err);
			goto out;
		}
		if (i < n_picks)
			printf("   pick for %s: measured %.3f ms, estimated %.3f ms, error %+.3f%%\n",
			       i == 0 ? "the M7" : "the M4", v.measured_us / 1000, v.estimated_us / 1000,
			       v.error_pct);
		sum += fabs(v.error_pct);
		if (fabs(v.error_pct) > worst)
			worst = fabs(v.error_pct);
		sram_equal += v.measured_sram_bytes == v.estimated_sram_bytes;
		done++;
	}
	printf("   validated %d archs (%d picks + %d uniform, seed 2024) in %.1f s: mean |error| "
	       "%.3f%%, max %.3f%%; peak SRAM measured == model for %d of %d\n",
	       done, n_picks, n_archs, mn_now_s() - t0, sum / done, worst, sram_equal, done);
	printf("   target every |error| < 2%%: %s\n", worst < 2.0 ? "met" : "NOT met");
	rc = worst < 2.0 ? 0 : -1;
out:
	mn_board_close(b);
	mn_emulator_stop(e);
	unlink(table);
	unlink(partial);
	rmdir(tmp);
	return rc;
}

int main(int argc, char **argv)
{
	struct board bd[N_BOARDS];
	struct mn_arch picks[N_BOARDS];
	static const char *const names[] = {"--max-latency-ms", "--max-sram-kb", "--max-flash-kb", "--seed",
					    "--batch", "--repeat", "--threads", "--archs", "--skip-search",
					    "--skip-emulator", NULL};
	const char *pg = "bench_boards";
	bench_check_args(argc, argv, pg,
			 "bench_boards [--max-latency-ms 400] [--max-sram-kb 100] [--max-flash-kb 0] [--seed 0] "
			 "[--batch 32] [--repeat 3] [--threads 0] [--archs 20] [--skip-search 0] [--skip-emulator 0]",
			 names);
	/* Checked here, before anything runs; run_searches reads them again. */
	bench_int(argc, argv, pg, "--seed", 0, 0, 2147483647);
	bench_int(argc, argv, pg, "--batch", 32, 1, 4096);
	bench_int(argc, argv, pg, "--repeat", 3, 1, 1000);
	bench_int(argc, argv, pg, "--threads", 0, 0, 1024);
	struct mn_constraints l = {
		bench_num(argc, argv, pg, "--max-latency-ms", 400, 0, 1e9),
		bench_num(argc, argv, pg, "--max-sram-kb", 100, 0, 1e9),
		bench_num(argc, argv, pg, "--max-flash-kb", 0, 0, 1e9),
	};
	int n_archs = (int)bench_int(argc, argv, pg, "--archs", 20, 0, 15625);
	int skip_search = (int)bench_int(argc, argv, pg, "--skip-search", 0, 0, 1);
	int skip_emulator = (int)bench_int(argc, argv, pg, "--skip-emulator", 0, 0, 1);
	int n_picks = 0;
	char err[1024];
	struct mn_error pe;

	/* The presets own memory (paths): freed on every way out, so that a
	 * sanitizer build's leak check passes.  Defaults hold nothing, so
	 * every one can be freed whether it was opened or not. */
	int rc = 1;
	for (int k = 0; k < N_BOARDS; k++)
		mn_preset_defaults(&bd[k].p);
	for (int k = 0; k < N_BOARDS; k++) {
		/* The source tree's presets, also when run directly (not by
		 * make bench, which sets MN_TOP_SRCDIR). */
		char path[4096];
		if (mn_preset_open(&bd[k].p, bench_preset(pg, preset_names[k], path, sizeof path), &pe) != 0) {
			fprintf(stderr, "bench_boards: %s\n", pe.msg);
			goto out;
		}
		if (mn_latency_table_read(&bd[k].t, bd[k].p.latency_table, err, sizeof err) != 0) {
			fprintf(stderr, "bench_boards: %s\n", err);
			goto out;
		}
		bd[k].shape = (struct mn_net_shape){bd[k].p.channels, bd[k].p.cells, bd[k].p.height,
						    bd[k].p.classes, bd[k].p.input_channels,
						    bd[k].p.width};
	}
	printf("bench_boards: %s (%s, %.0f MHz) against %s (%s, %.0f MHz); %d cores\n",
	       bd[0].p.board_name, bd[0].p.emulator, bd[0].p.clock_mhz, bd[1].p.board_name,
	       bd[1].p.emulator, bd[1].p.clock_mhz, bench_cores());
	print_tables(bd);
	print_space(bd, &l);
	if (!skip_search) {
		if (run_searches(bd, &l, argc, argv, picks) != 0)
			goto out;
		n_picks = N_BOARDS;
	}
	if (!skip_emulator && run_emulator(&bd[1], picks, n_picks, n_archs) != 0)
		goto out;
	rc = 0;
out:
	for (int k = 0; k < N_BOARDS; k++)
		mn_preset_free(&bd[k].p);
	return rc;
}
