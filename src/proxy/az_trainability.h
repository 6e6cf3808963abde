/* AZ-NAS's trainability (Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies
 * for Network Architecture Search", CVPR 2024, arXiv 2403.19232, Sec. 3:
 * the trainability proxy s_T; the authors' code, cvlab-yonsei/AZ-NAS,
 * NB201/ZeroShotProxy/compute_az_nas_score.py, read for the details below).
 * For each block l with input f_{l-1} and output f_l, the Jacobian
 * J_l = df_l/df_{l-1} should keep gradients at their scale; with sigma_l
 * the spectral norm of (an estimate of) J_l,
 *
 *   s_T = mean over blocks of ( -sigma_l - 1/sigma_l + 2 )   (<= 0, 0 at 1)
 *
 * J_l is estimated from one vector-Jacobian product through block l alone:
 * a random cotangent g_out at f_l, every entry +1 or -1 with probability
 * 1/2 (the authors' code draws it so: zero mean, unit variance, so
 * E[g_out g_out^T] = I), and g_in = J_l^T g_out at f_{l-1} (nn/net_block.h,
 * mn_net_block_vjp), pixel-unshuffled to f_l's resolution when the block
 * halves it; M = g_in^T g_out / (b h w) over the b*h*w pixels of f_l, a
 * c_in' x c_out matrix, and sigma_l is M's largest singular value (1e-6
 * guards 1/sigma, as in their code).  A block whose g_in equals its g_out
 * value for value (an identity cell) scores -infinity, and a NaN term makes
 * s_T -infinity, as the authors' code maps them. */
#ifndef MN_AZ_TRAINABILITY_H
#define MN_AZ_TRAINABILITY_H

/* One block's term -sigma - 1/sigma + 2 from g_out [b][co][ho][wo] and
 * g_in [b][ci][hi][wi] (hi = s*ho, wi = s*wo for an integer s >= 1);
 * -INFINITY for an identity block, NaN on a bad argument or out of memory. */
double mn_az_trainability_block(const float *g_in, int ci, int hi, int wi, const float *g_out,
				int co, int ho, int wo, int b);

/* s_T: the mean of n block terms (-INFINITY if any is, or is NaN). */
double mn_az_trainability(const double *terms, int n);

#endif
