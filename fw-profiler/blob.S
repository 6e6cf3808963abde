/* The flash weight blob: generated at build time by gen_blob (weights.bin,
 * biases.bin in the build directory, found through -Wa,-I).  Read-only
 * data in flash, read by the kernels like a deployed model's weights. */
	.section .rodata.mnfw_blob, "a", %progbits
	.balign 4
	.global mnfw_weights
	.type mnfw_weights, %object
mnfw_weights:
	.incbin "weights.bin"
	.size mnfw_weights, . - mnfw_weights

	.balign 4
	.global mnfw_biases
	.type mnfw_biases, %object
mnfw_biases:
	.incbin "biases.bin"
	.size mnfw_biases, . - mnfw_biases
