/* OpenBLAS's thread count: the one process-wide setting of the engine.
 *
 * Networks run their parallel loops on pools of their own
 * (mn_net_set_threads) and call BLAS from inside them; an OpenBLAS that
 * also ran threads would oversubscribe the cores (and its idle threads spin
 * between calls).  So entry points (cli/main.c, the TUI, tests, benches)
 * call mn_blas_set_threads(1) once at start; nothing in src/ changes it. */
#ifndef MN_NN_BLAS_H
#define MN_NN_BLAS_H

/* Sets OpenBLAS's thread count (n < 1: all cores).  Process-wide: call it
 * from an entry point, before any network runs, never from library code. */
void mn_blas_set_threads(int n);
/* OpenBLAS's current thread count. */
int mn_blas_get_threads(void);
/* The kernel set OpenBLAS chose for this CPU at load time ("Haswell",
 * "SkylakeX", ...; OPENBLAS_CORETYPE overrides it), for benchmarks to
 * report beside their figures: an OpenBLAS older than the CPU may pick
 * kernels narrower than the CPU's vectors (Debian 12's 0.3.21 takes
 * Haswell's AVX2 kernels on AMD family 26 although it has AVX-512). */
const char *mn_blas_core(void);

#endif
