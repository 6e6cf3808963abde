/* AZ-NAS's expressivity and progressivity (Lee & Ham, "AZ-NAS: Assembling
 * Zero-Cost Proxies for Network Architecture Search", CVPR 2024, arXiv
 * 2403.19232, Sec. 3: the expressivity and progressivity proxies s_E, s_P;
 * the authors' code, cvlab-yonsei/AZ-NAS,
 * NB201/ZeroShotProxy/compute_az_nas_score.py and custom/tss_model.py, read
 * for which features: the stem's output (conv + BN, before any ReLU) and
 * the output of every cell and reduction block, in order).
 *
 * A block output [b][c][h][w] is read as b*h*w samples of a c-dimensional
 * feature; with Sigma its c x c covariance (mean removed, divided by
 * b*h*w) and lambda_k its eigenvalues, p_k = lambda_k / sum lambda,
 *
 *   s_l = - sum_k p_k log(p_k + 1e-8)          (entropy of the PCA spectrum)
 *   expressivity  = sum over features l of s_l
 *   progressivity = min over l >= 1 of (s_l - s_{l-1})
 *
 * (the 1e-8 is the authors' guard against log 0; eigenvalues below zero
 * from rounding count as zero: the covariance is built and solved in
 * double, where the authors' float32 eigvalsh can return small negative
 * values). */
#ifndef MN_AZ_EXPRESSIVITY_H
#define MN_AZ_EXPRESSIVITY_H

/* s_l of one block output; NaN on a bad argument, out of memory or a
 * feature with no variance (every eigenvalue 0). */
double mn_az_feature_entropy(const float *feat, int b, int c, int h, int w);

/* expressivity and progressivity of n >= 2 entropies s[0..n-1], in block
 * order; both -INFINITY if any s is NaN (the authors' code maps a NaN
 * score to -inf: an arch whose features vanish ranks last). */
void mn_az_expressivity(const double *s, int n, double *expressivity, double *progressivity);

#endif
