/* Board layer for QEMU's mps2-an500 machine (Cortex-M7, ARM AN500 FPGA
 * image) and mps2-an386 (Cortex-M4, AN386), run as
 *   qemu-system-arm -M mps2-an500 -nographic -monitor none \
 *       -icount shift=0 -kernel fw.elf -serial ...
 * (or -M mps2-an386).  Both machines have the same memory map, UART and
 * timers (QEMU's hw/arm/mps2.c); the build names the image with
 * MNFW_BOARD_NAME (qemu-mps2-an500 unless told).
 * Host link: CMSDK APB UART0 at 0x40004000 (polled; QEMU stops reading the
 * host side while the 1-byte RX buffer is full, so nothing is lost).
 * Timing: CMSDK APB TIMER0 at 0x40000000, a 32-bit down-counter at the
 * 25 MHz SYSCLK.  QEMU models no cycle timing; with -icount shift=0
 * virtual time advances 1 ns per instruction, so one timer tick is 40
 * instructions and the figures are INSTRUCTION-BASED (reported as
 * MNP_TIMING_INSTRUCTIONS, 1e9 units per virtual second, resolution 40).
 * DWT->CYCCNT reads 0 under QEMU and is not used.
 *
 * Device state (static by design): the board info. */
#include "board.h"
#include "cmsdk.h"
#include "protocol.h"

#ifndef MNFW_BOARD_NAME
#define MNFW_BOARD_NAME "qemu-mps2-an500"
#endif
#define BAUD 115200u
#define NS_PER_TICK (1000000000u / MPS2_SYSCLK_HZ) /* 40 */

static const struct board_info info = {
	.name = MNFW_BOARD_NAME,
	.core_hz = MPS2_SYSCLK_HZ,
	.count_hz = 1000000000u, /* instructions per virtual second */
	.sram_bytes = 4u * 1024u * 1024u,  /* SSRAM2/3 at 0x20000000 */
	.flash_bytes = 4u * 1024u * 1024u, /* SSRAM1 at 0x0 (code) */
	.resolution = NS_PER_TICK,
	.timing_kind = MNP_TIMING_INSTRUCTIONS,
	.flags = 0,
};

void board_init(void)
{
	UART_BAUDDIV(CMSDK_UART0_BASE) = MPS2_SYSCLK_HZ / BAUD;
	UART_CTRL(CMSDK_UART0_BASE) = UART_CTRL_TXEN | UART_CTRL_RXEN;
	/* Free-running: RELOAD (which also loads VALUE) at the maximum, so
	 * the counter wraps every 2^32 ticks. */
	TIMER_CTRL(CMSDK_TIMER0_BASE) = 0;
	TIMER_RELOAD(CMSDK_TIMER0_BASE) = 0xFFFFFFFFu;
	TIMER_CTRL(CMSDK_TIMER0_BASE) = TIMER_CTRL_EN;
	timebase_init();
	cm_irq_enable();
}

const struct board_info *board_get_info(void)
{
	return &info;
}

void board_putc(uint8_t c)
{
	while (UART_STATE(CMSDK_UART0_BASE) & UART_STATE_TXFULL)
		;
	UART_DATA(CMSDK_UART0_BASE) = c;
}

uint8_t board_getc(void)
{
	while (!(UART_STATE(CMSDK_UART0_BASE) & UART_STATE_RXFULL))
		;
	return (uint8_t)UART_DATA(CMSDK_UART0_BASE);
}

uint32_t board_counter32(void)
{
	return 0xFFFFFFFFu - TIMER_VALUE(CMSDK_TIMER0_BASE);
}
