/* Type-generic compilation of the numeric core.  A source that wants the
 * double-precision build defines MN_REAL_DOUBLE before including this; the
 * default is float.  Every generic function is named through MN_R(), which
 * leaves float names alone and appends _d for double:
 *   MN_R(mn_relu_forward) -> mn_relu_forward (float) / mn_relu_forward_d.
 * Include this header at most once per translation unit. */
#ifndef MN_NN_REAL_H
#define MN_NN_REAL_H

#include <cblas.h>

#ifdef MN_REAL_DOUBLE
#define REAL double
#define MN_R(name) name##_d
#define MN_GEMM cblas_dgemm
#define MN_SQRT sqrt
#define MN_REAL_IS_FLOAT 0
#else
#define REAL float
#define MN_R(name) name
#define MN_GEMM cblas_sgemm
#define MN_SQRT sqrtf
#define MN_REAL_IS_FLOAT 1
#endif

#endif
