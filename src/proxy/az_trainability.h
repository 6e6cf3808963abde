/* AZ-NAS's trainability (Lee & Ham, CVPR 2024, arXiv 2403.19232, Sec. 3: the
 * trainability proxy s_T): for each block l with input f_{l-1} and output
 * f_l, the Jacobian J_l = df_l/df_{l-1} should keep gradients at their
 * scale; with sigma_l the spectral norm of (an estimate of) J_l,
 *
 *   s_T = mean over blocks of ( -sigma_l - 1/sigma_l + 2 )   (<= 0, 0 at 1)
 *
 * The authors' code estimates J_l from one vector-Jacobian product: a random
 * +-1 gradient g_out at f_l, g_in = J_l^T g_out at f_{l-1} (pixel-unshuffled
 * to f_l's resolution when the block halves it), and the c_in x c_out
 * matrix M = g_in^T g_out / (b h w) over the b*h*w pixels; sigma_l is M's
 * largest singular value (1e-6 guards 1/sigma).  A block whose g_in equals
 * its g_out (an identity cell) scores -infinity.
 *
 * Here g_out and g_in are the gradients one ordinary backward leaves at the
 * block outputs (net.h, mn_net_block_output_grad): NAS-Bench-201's blocks
 * form a chain, so g_{l-1} = J_l^T g_l holds exactly; g_l is then the
 * gradient arriving from above rather than fresh +-1 noise, so M is divided
 * by the mean of g_out^2 (which is 1 for +-1 noise) to keep sigma_l a
 * property of J_l and not of the gradient's scale.  This is the one place
 * this implementation departs from the authors' procedure: it saves one
 * backward per block. */
#ifndef MN_AZ_TRAINABILITY_H
#define MN_AZ_TRAINABILITY_H

/* One block's term -sigma - 1/sigma + 2 from g_out [b][co][ho][wo] and
 * g_in [b][ci][hi][wi] (hi = s*ho, wi = s*wo for an integer s >= 1);
 * -INFINITY for an identity block, NaN on a bad argument, out of memory or
 * a zero gradient. */
double mn_az_trainability_block(const float *g_in, int ci, int hi, int wi, const float *g_out,
				int co, int ho, int wo, int b);

/* s_T: the mean of n block terms (-INFINITY if any is). */
double mn_az_trainability(const double *terms, int n);

#endif
