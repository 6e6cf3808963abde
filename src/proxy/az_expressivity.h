/* AZ-NAS's expressivity and progressivity (Lee & Ham, "AZ-NAS: Assembling
 * Zero-Cost Proxies for Network Architecture Search", CVPR 2024, arXiv
 * 2403.19232, Sec. 3: the expressivity and progressivity proxies s_E, s_P;
 * equation numbers not checked against the camera-ready), from the output features of the network's blocks (the stem and
 * every cell and reduction block of NAS-Bench-201, as the authors' code
 * takes them).
 *
 * A block output [b][c][h][w] is read as b*h*w samples of a c-dimensional
 * feature; with Sigma its c x c covariance (mean removed, divided by
 * b*h*w) and lambda_k its eigenvalues, p_k = lambda_k / sum lambda,
 *
 *   s_l = - sum_k p_k log(p_k + 1e-8)                 (entropy of the PCA spectrum)
 *   expressivity  = sum over blocks l of s_l           
 *   progressivity = min over l >= 1 of (s_l - s_{l-1}) 
 *
 * (the 1e-8 is the authors' guard against log 0; eigenvalues below zero
 * from rounding count as zero). */
#ifndef MN_AZ_EXPRESSIVITY_H
#define MN_AZ_EXPRESSIVITY_H

/* s_l of one block output; NaN on a bad argument or out of memory, 0 for a
 * feature with no variance. */
double mn_az_feature_entropy(const float *feat, int b, int c, int h, int w);

/* expressivity and progressivity of n >= 2 entropies s[0..n-1], in block
 * order. */
void mn_az_expressivity(const double *s, int n, double *expressivity, double *progressivity);

#endif
