/* Cortex-M7 inner loop of the int8 convolution (DSP path of kernels.c).
 *
 * void mnk_dot4(const int8_t *patch, int K4, const int8_t *w, int K,
 *               int32_t acc[4]);
 *
 * acc[j] += sum_{i < K4} patch[i] * w[j*K + i], j = 0..3, with K4 > 0 a
 * multiple of 4.  Each patch word is split by SXTB16 into the int16 pairs
 * (b0,b2) and (b1,b3) (rotate by 8); each weight word the same way; SMLAD
 * multiplies both pairs and accumulates.  Sums are exact (no saturation),
 * so the result equals the plain C reference.
 * The four weight rows are addressed as [patch pointer + offset], so one
 * post-increment advances all five streams: per 16 MACs 5 loads, 10
 * SXTB16, 8 SMLAD, compare, branch.  All 14 general registers are used;
 * in C, GCC 12 spills this loop. */
	.syntax unified
	.cpu cortex-m7
	.thumb

	.section .text.mnk_dot4, "ax", %progbits
	.global mnk_dot4
	.type mnk_dot4, %function
	.thumb_func
mnk_dot4:
	push	{r4-r11, lr}
	ldr	r12, [sp, #36]		@ acc (5th argument, above the 9 saved)
	ldm	r12, {r4-r7}		@ acc[0..3]
	subs	r2, r2, r0
	subs	r2, r2, #4		@ d0 = w - patch - 4 (post-increment)
	add	r8, r2, r3		@ d1 = d0 + K
	add	r9, r8, r3		@ d2
	add	r3, r9, r3		@ d3
	add	r1, r0, r1		@ end = patch + K4
1:
	ldr	r10, [r0], #4		@ 4 patch bytes
	ldr	r11, [r0, r2]		@ row 0
	sxtb16	r12, r10		@ p02
	sxtb16	r10, r10, ror #8	@ p13
	sxtb16	lr, r11
	sxtb16	r11, r11, ror #8
	smlad	r4, lr, r12, r4
	smlad	r4, r11, r10, r4
	ldr	r11, [r0, r8]		@ row 1
	sxtb16	lr, r11
	sxtb16	r11, r11, ror #8
	smlad	r5, lr, r12, r5
	smlad	r5, r11, r10, r5
	ldr	r11, [r0, r9]		@ row 2
	sxtb16	lr, r11
	sxtb16	r11, r11, ror #8
	smlad	r6, lr, r12, r6
	smlad	r6, r11, r10, r6
	ldr	r11, [r0, r3]		@ row 3
	sxtb16	lr, r11
	sxtb16	r11, r11, ror #8
	smlad	r7, lr, r12, r7
	smlad	r7, r11, r10, r7
	cmp	r0, r1
	bne	1b
	ldr	r12, [sp, #36]
	stm	r12, {r4-r7}
	pop	{r4-r11, pc}
	.size mnk_dot4, . - mnk_dot4
