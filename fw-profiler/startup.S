/* Reset entry for both targets.  The core loads SP from the vector table;
 * this code enables the FPU, copies .data from flash, zeroes .bss and
 * calls main().  Kept in assembly so that no compiler-generated code
 * (which may use FP registers under -mfloat-abi=hard) runs before the
 * FPU is on. */
	.syntax unified
	.cpu cortex-m7
	.thumb

	.section .text.Reset_Handler, "ax", %progbits
	.global Reset_Handler
	.type Reset_Handler, %function
	.thumb_func
Reset_Handler:
	/* CPACR (0xE000ED88): CP10 and CP11 full access (bits 20..23). */
	ldr	r0, =0xE000ED88
	ldr	r1, [r0]
	orr	r1, r1, #(0xF << 20)
	str	r1, [r0]
	dsb
	isb

	/* .data: word copy from its load address (sections are 4-aligned). */
	ldr	r0, =_sdata
	ldr	r1, =_edata
	ldr	r2, =_sidata
1:	cmp	r0, r1
	bhs	2f
	ldr	r3, [r2], #4
	str	r3, [r0], #4
	b	1b

	/* .bss: zero. */
2:	ldr	r0, =_sbss
	ldr	r1, =_ebss
	movs	r3, #0
3:	cmp	r0, r1
	bhs	4f
	str	r3, [r0], #4
	b	3b

4:	bl	main
5:	b	5b
	.size Reset_Handler, . - Reset_Handler
	.ltorg
