/* make bench: how well the profiled latency table predicts whole-network
 * latency on the emulated board.  Profiles the emulated NUCLEO network
 * (C=16, N=5, 32x32, 10 classes; median of 5 runs per op), then validates
 * 50 archs drawn uniformly (seed 2024) from the whole NAS-Bench-201 space,
 * `none` edges included (searches do return archs with none edges, e.g.
 * MicroNAS's pick), and reports the mean and max absolute % error of the
 * estimate against the measurement (target: mean <= 2%), and how many
 * measured peak SRAM figures equal the memory model's.
 *
 * Usage: bench_validate [ARCHS [SEED]]  (defaults 50 and 2024). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board/board.h"
#include "board/emulator.h"
#include "board/profile.h"
#include "util/rng.h"
#include "bench_common.h"
#include "board/validate.h"

int main(int argc, char **argv)
{
	const char *usage = "usage: bench_validate [ARCHS [SEED]]  (defaults 50 and 2024)";
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("%s\n", usage);
		return 0;
	}
	char *end = NULL;
	long n_arg = argc > 1 ? strtol(argv[1], &end, 10) : 50;
	if (argc > 3 || (argc > 1 && (end == argv[1] || *end))) {
		fprintf(stderr, "bench_validate: bad arguments (%s)\n", usage);
		return 2;
	}
	uint64_t seed = 2024;
	if (argc > 2) {
		seed = strtoull(argv[2], &end, 10);
		if (end == argv[2] || *end || argv[2][0] == '-') {
			fprintf(stderr, "bench_validate: SEED needs a whole number 0 or more, got '%s'\n", argv[2]);
			return 2;
		}
	}
	int n_archs = n_arg >= 1 && n_arg <= 15625 ? (int)n_arg : 0;
	char tmp[64] = "/tmp/mn-bench-validate-XXXXXX", table[128], err[1024];
	struct mn_emulator *e;
	struct mn_board *b;
	struct mn_profile_opts po;
	struct mn_profile_result pres;
	struct mn_latency_table t;
	struct mn_rng rng;
	double t0, t_profile, t_validate, sum = 0, sum2 = 0, worst = 0, bias = 0;
	int brc, sram_equal = 0, done = 0;
	char worst_arch[MN_ARCH_STRLEN] = "";

	if (n_archs < 1 || n_archs > 15625) {
		fprintf(stderr, "bench_validate: ARCHS must be 1..15625, got '%s'\n", argv[1]);
		return 2;
	}
	if (!mkdtemp(tmp)) {
		perror("bench_validate: mkdtemp");
		return 1;
	}
	snprintf(table, sizeof table, "%s/qemu-latency.ini", tmp);
	if (mn_emulator_start(&e, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "bench_validate: %s\n", err);
		rmdir(tmp);
		return 1;
	}
	if (mn_board_connect(&b, mn_emulator_port(e), NULL, err, sizeof err) != MN_BOARD_OK) {
		fprintf(stderr, "bench_validate: %s\n", err);
		mn_emulator_stop(e);
		rmdir(tmp);
		return 1;
	}
	printf("emulated board %s (firmware %s), nproc %ld; timing instruction-based\n",
	       mn_board_info(b)->board, mn_board_info(b)->fw_version, sysconf(_SC_NPROCESSORS_ONLN));

	mn_profile_opts_default(&po);
	po.output = table;
	t0 = mn_now_s();
	if (mn_profile_run(b, &po, &t, &pres, &brc, err, sizeof err) != 0) {
		fprintf(stderr, "bench_validate: profile: %s\n", err);
		goto out;
	}
	t_profile = mn_now_s() - t0;
	printf("profile C=%d N=%d R=%d K=%d, %d measurements, median of %d: %.2f s; overhead %.3f us "
	       "(calibration residuals %.3f %.3f %.3f us)\n",
	       po.shape.channels, po.shape.cells, po.shape.height, po.shape.classes,
	       pres.total, po.repeats, t_profile, t.overhead_us, pres.calib_residual_us[0],
	       pres.calib_residual_us[1], pres.calib_residual_us[2]);

	mn_rng_seed(&rng, seed);
	t0 = mn_now_s();
	for (int i = 0; i < n_archs; i++) {
		struct mn_arch a;
		struct mn_validation v;
		mn_arch_from_index((int)mn_rng_below(&rng, MN_ARCH_COUNT), &a);
		if (mn_validate_arch(b, &a, &po.shape, &t, (uint32_t)(1000 + i), &v, &brc, err,
				     sizeof err) != 0) {
			fprintf(stderr, "bench_validate: %s\n", err);
			goto out;
		}
		double ae = fabs(v.error_pct);
		sum += ae;
		sum2 += v.error_pct * v.error_pct;
		bias += v.error_pct;
		if (ae > worst) {
			worst = ae;
			snprintf(worst_arch, sizeof worst_arch, "%s", v.arch);
		}
		sram_equal += v.measured_sram_bytes == v.estimated_sram_bytes;
		if (v.measured_sram_bytes != v.estimated_sram_bytes)
			printf("SRAM MISMATCH %s: measured %llu, model %llu\n", v.arch,
			       (unsigned long long)v.measured_sram_bytes,
			       (unsigned long long)v.estimated_sram_bytes);
		done++;
	}
	t_validate = mn_now_s() - t0;
	printf("validate %d archs (uniform over all 15625, seed %llu): %.2f s (%.3f s per arch)\n",
	       done, (unsigned long long)seed, t_validate, t_validate / done);
	printf("latency estimate vs measurement: mean |error| %.3f%%, max |error| %.3f%%, "
	       "RMS %.3f%%, mean signed %+.3f%%\n",
	       sum / done, worst, sqrt(sum2 / done), bias / done);
	printf("worst arch: %s\n", worst_arch);
	printf("peak SRAM: measured == model for %d of %d archs\n", sram_equal, done);
	printf("target mean |error| <= 2%%: %s\n", sum / done <= 2.0 ? "met" : "NOT met");
out:
	mn_board_close(b);
	mn_emulator_stop(e);
	unlink(table);
	{
		char partial[200];
		snprintf(partial, sizeof partial, "%s.partial", table);
		unlink(partial);
	}
	rmdir(tmp);
	return done == n_archs ? 0 : 1;
}
