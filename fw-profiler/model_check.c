/* A firmware image that proves a deployed model on the board without the
 * serial protocol: it runs mn_model_run (the model.c `micronas deploy`
 * wrote) on the images of the linked-in check.bin, compares the int32
 * logits byte for byte with the host's int8 reference stored beside them,
 * and prints one line over the board's UART:
 *   exact N/M units U per-image T
 * (T: timing units of the board layer per image, the last image's).
 * Under QEMU it then exits through semihosting (run with
 * -semihosting-config enable=on,target=native); on a board it halts.
 * Built by tests/test_deploy.sh with the cross compiler; the check data
 * is linked as the symbols mn_check_bin .. mn_check_bin_end. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "model.h"

extern const unsigned char mn_check_bin[], mn_check_bin_end[];

static void puts_(const char *s)
{
	while (*s)
		board_putc((uint8_t)*s++);
}

static void putu(uint64_t v)
{
	char b[24];
	int i = 0;
	do
		b[i++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (i)
		board_putc((uint8_t)b[--i]);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void semihost_exit(void)
{
#if defined(MC_SEMIHOSTING)
	/* SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit. */
	register uint32_t r0 __asm__("r0") = 0x18;
	register uint32_t r1 __asm__("r1") = 0x20026;
	__asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
#endif
}

static int8_t image[MN_MODEL_INPUT_CHANNELS * MN_MODEL_HEIGHT * MN_MODEL_WIDTH];

int main(void)
{
	int32_t logits[MN_MODEL_CLASSES];
	uint32_t exact = 0, n = 0;
	uint64_t dt = 0;
	board_init();
	const unsigned char *p = mn_check_bin;
	/* The two symbols are the linker's, not one C object: their distance
	 * is taken as addresses. */
	uintptr_t size = (uintptr_t)mn_check_bin_end - (uintptr_t)mn_check_bin;
	const uintptr_t record = sizeof image + 4 * MN_MODEL_CLASSES;
	if (size >= 16 && !memcmp(p, "MNQC", 4) && le32(p + 8) == sizeof image &&
	    le32(p + 12) == MN_MODEL_CLASSES && le32(p + 4) <= (size - 16) / record) {
		n = le32(p + 4);
		p += 16;
		for (uint32_t i = 0; i < n; i++) {
			memcpy(image, p, sizeof image);
			p += sizeof image;
			uint64_t t0 = timebase_now();
			int ok = mn_model_run(image, logits) == 0;
			dt = timebase_now() - t0;
			for (int c = 0; c < MN_MODEL_CLASSES && ok; c++)
				ok = (uint32_t)logits[c] == le32(p + 4 * c);
			p += 4 * MN_MODEL_CLASSES;
			exact += (uint32_t)ok;
		}
	}
	puts_("exact ");
	putu(exact);
	puts_("/");
	putu(n);
	puts_(" units ");
	puts_(board_get_info()->name);
	puts_(" per-image ");
	putu(dt);
	puts_("\r\n");
	semihost_exit();
	for (;;)
		;
}
