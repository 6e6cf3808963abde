/* The AVX-512 kernels against the AVX2 paths they stand in for, on the
 * pruning search's shapes (supernet C=3, N=1 at 32x32 inputs, batch 32,
 * a query chunk of 8: 256 images a call; stages of 3, 6 and 12 channels at
 * 32x32, 16x16 and 8x8), one thread.  The two paths run alternately in one
 * process, so a machine that drifts in speed slows both alike; each figure
 * is the median of the timed calls.  Both give the same bits (test_simd).
 *
 * Usage: bench_kernels [--calls N]
 * Prints nothing but a note on a CPU without AVX-512. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/simd.h"
#include "util/rng.h"
#include "bench_common.h"

#define WARMUP 5
#define MAX_CALLS 1000

static float *randv(size_t n, struct mn_rng *rng)
{
	float *v = malloc(sizeof(float) * n);
	if (!v) {
		fprintf(stderr, "bench_kernels: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (float)mn_rng_normal(rng);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static void report(const char *what, double *t16, double *t8, int n)
{
	double a = median(t16, n), b = median(t8, n);
	printf("%-44s 16 lanes %7.3f ms, 8 lanes %7.3f ms: %.2fx\n", what, a * 1e3, b * 1e3, b / a);
}

/* The 3x3 pool over C x 256 planes of h x h, forward and the backward of
 * three sources (a node read by three pool edges). */
static void bench_pool(int C, int h, int calls, struct mn_rng *rng, struct mn_simd_scratch *scr)
{
	size_t np = (size_t)C * 256, n = np * h * h;
	float *x[3] = {randv(n, rng), randv(n, rng), randv(n, rng)}, *y = randv(n, rng);
	const float *src[3] = {x[0], x[1], x[2]};
	const float s[3] = {0.5f, 0.3f, 0.2f};
	static double t16[MAX_CALLS], t8[MAX_CALLS], u16[MAX_CALLS], u8[MAX_CALLS];
	for (int i = 0; i < WARMUP + calls; i++) {
		double t0 = mn_now_s();
		mn_simd_pool3_fw(y, x[0], np, h, h, 0.5f, scr);
		double t1 = mn_now_s();
		mn_simd_pool3_fw_avx2(y, x[0], np, h, h, 0.5f, scr);
		double t2 = mn_now_s();
		mn_simd_pool3_bw(y, src, s, 3, np, h, h, scr);
		double t3 = mn_now_s();
		mn_simd_pool3_bw_avx2(y, src, s, 3, np, h, h, scr);
		double t4 = mn_now_s();
		if (i >= WARMUP) {
			t16[i - WARMUP] = t1 - t0, t8[i - WARMUP] = t2 - t1;
			u16[i - WARMUP] = t3 - t2, u8[i - WARMUP] = t4 - t3;
		}
	}
	char what[64];
	snprintf(what, sizeof what, "3x3 pool forward, %dx%d x %zu planes", h, h, np);
	report(what, t16, t8, calls);
	snprintf(what, sizeof what, "3x3 pool backward of 3, %dx%d x %zu planes", h, h, np);
	report(what, u16, u8, calls);
	if (h % 16)
		printf("  (width %d: no 16-lane pool, both calls run 8 lanes; the ratio shows the noise)\n", h);
	for (int i = 0; i < 3; i++)
		free(x[i]);
	free(y);
}

/* The fused conv^T of one node read by three 3x3 and three 1x1 convs, with
 * the BN backward in front of each and the node's ReLU mask. */
static void bench_convT(int C, int h, int calls, struct mn_rng *rng)
{
	const int nq = 8, nb = 32, nimg = nq * nb, hw = h * h, nin = 6;
	struct mn_convT_in in[6];
	float *keep[24];
	int nk = 0;
	memset(in, 0, sizeof in);
	for (int i = 0; i < nin; i++) {
		in[i].k = i < 3 ? 3 : 1;
		in[i].src = keep[nk++] = randv((size_t)nimg * hw, rng);
		in[i].w = keep[nk++] = randv((size_t)C * in[i].k * in[i].k, rng);
		in[i].xhat = keep[nk++] = randv((size_t)nb * hw, rng);
		in[i].coef = keep[nk++] = randv((size_t)nq * 3, rng);
	}
	float *relu = randv((size_t)C * nb * hw, rng), *dn = randv((size_t)C * nimg * hw, rng);
	struct mn_convT_job j = {.C = C, .h = h, .w = h, .nb = nb, .nimg = nimg, .nin = nin,
				 .in = in, .relu = relu, .dn = dn, .overwrite = 1};
	struct mn_simd_scratch scr = {0};
	static double t16[MAX_CALLS], t8[MAX_CALLS];
	if (!mn_simd_convT512_fits(&j) ||
	    mn_simd_scratch_reserve(&scr, mn_simd_convT_scratch(&j)) != 0) {
		printf("conv^T C=%d %dx%d: no AVX-512 kernel for it\n", C, h, h);
	} else {
		int rc = 0;
		for (int i = 0; i < WARMUP + calls; i++) {
			double t0 = mn_now_s();
			rc |= mn_simd_convT512(&j, 0, nimg, &scr);
			double t1 = mn_now_s();
			rc |= mn_simd_convT_avx2(&j, 0, nimg, &scr);
			double t2 = mn_now_s();
			if (i >= WARMUP)
				t16[i - WARMUP] = t1 - t0, t8[i - WARMUP] = t2 - t1;
		}
		char what[64];
		snprintf(what, sizeof what, "conv^T C=%d %dx%d, 3+3 inputs, %d images", C, h, h, nimg);
		if (rc)
			printf("%s: a kernel refused the job\n", what);
		else
			report(what, t16, t8, calls);
	}
	mn_simd_scratch_free(&scr);
	for (int i = 0; i < nk; i++)
		free(keep[i]);
	free(relu);
	free(dn);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"--calls", NULL};
	bench_check_args(argc, argv, "bench_kernels", "bench_kernels [--calls 30]", names);
	int calls = (int)bench_int(argc, argv, "bench_kernels", "--calls", 30, 1, MAX_CALLS);
	if (!mn_simd_avx512() || !mn_simd_avx2()) {
		printf("bench_kernels: this CPU has no AVX-512 (or no AVX2): nothing to compare\n");
		return 0;
	}
	printf("bench_kernels: one thread, median of %d alternated calls each, %d cores (shared "
	       "with other work unless the machine was idle)\n", calls, bench_cores());
	struct mn_rng rng;
	mn_rng_seed(&rng, 1);
	struct mn_simd_scratch scr = {0};
	if (mn_simd_scratch_reserve(&scr, mn_simd_pool3_scratch(32, 32)) != 0) {
		fprintf(stderr, "bench_kernels: out of memory\n");
		return 1;
	}
	const int stage[3][2] = {{3, 32}, {6, 16}, {12, 8}};
	for (int s = 0; s < 3; s++)
		bench_pool(stage[s][0], stage[s][1], calls, &rng, &scr);
	for (int s = 0; s < 3; s++)
		bench_convT(stage[s][0], stage[s][1], calls, &rng);
	mn_simd_scratch_free(&scr);
	return 0;
}
