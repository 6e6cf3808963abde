/* Each online core's speed on a memory-bound loop, for the benchmarks'
 * header lines.  Why: on a shared VM one core can be a fifth or more
 * slower than the other on such code for a while, their FMA peaks alike
 * (measured on this project's 2-core AMD Zen 5 VM one half hour: 200-210
 * against 255 GB/s streaming in L1, the exact NTK 146 against 108 ms; half
 * an hour later 260 and 252 GB/s, 102 and 98 ms), so a figure is read with
 * the cores' speeds at the time it was taken.  Pins the calling thread to
 * each core in turn (~40 ms each) and restores its affinity. */
#ifndef MN_BENCH_CORE_SPEED_H
#define MN_BENCH_CORE_SPEED_H

#include <stddef.h>

/* "CPU NAME (family F, model M); per-core streaming (...): cpu0 X GB/s
 * cpu1 Y GB/s" into out; 0, or -1 (out says it was not measured). */
int bench_core_speeds(char *out, size_t n);

#endif
