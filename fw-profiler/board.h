/* The board layer: everything the application needs from the hardware.
 * One implementation per target (board_nucleo.c, board_qemu.c).
 * Firmware only. */
#ifndef MN_FW_BOARD_H
#define MN_FW_BOARD_H

#include <stdint.h>

struct board_info {
	const char *name;
	uint32_t core_hz;     /* core clock actually running */
	uint32_t count_hz;    /* timing units per second */
	uint32_t sram_bytes;
	uint32_t flash_bytes;
	uint32_t resolution;  /* timing units per raw counter tick */
	uint8_t timing_kind;  /* MNP_TIMING_* */
	uint8_t flags;        /* MNP_FLAG_CLOCK_FALLBACK etc. */
};

/* Clocks, caches, serial port, timer; called once from reset. */
void board_init(void);
const struct board_info *board_get_info(void);
/* Blocking byte output / input on the host link. */
void board_putc(uint8_t c);
uint8_t board_getc(void);
/* Free-running 32-bit up-counter (raw ticks), read by timebase.c. */
uint32_t board_counter32(void);

/* timebase.c: 64-bit time in timing units, extended from the 32-bit
 * counter by a SysTick interrupt that must run at least once per counter
 * wrap (SysTick reload 2^24 core clocks, counter wrap >= 2^32 ticks). */
void timebase_init(void);
uint64_t timebase_now(void);

#endif
