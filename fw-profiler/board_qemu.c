/* Board layer for QEMU's mps2-an500 machine (Cortex-M7, ARM AN500 FPGA
 * image) and mps2-an386 (Cortex-M4, AN386), run as
 *   qemu-system-arm -M mps2-an500 -nographic -monitor none \
 *       -icount shift=0 -kernel fw.elf -serial ...
 * (or -M mps2-an386).  Both machines have the same memory map, UART and
 * timers (QEMU's hw/arm/mps2.c); the build names the image with
 * MNFW_BOARD_NAME (qemu-mps2-an500 unless told).
 * Host link: CMSDK APB UART0 at 0x40004000 (polled; QEMU stops reading the
 * host side while the 1-byte RX buffer is full, so nothing is lost).  While
 * no byte comes the core sleeps (WFI, woken by UART0's RX interrupt): a
 * polling loop kept one host core busy for as long as the emulated board
 * was up, waiting or not.
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
	cm_nvic_enable(CMSDK_UART0_RX_IRQN);
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

/* UART0's RX interrupt only wakes the core from board_getc's WFI: it
 * turns itself off; the byte stays in the UART for board_getc. */
void UART0RX_IRQHandler(void);
void UART0RX_IRQHandler(void)
{
	UART_CTRL(CMSDK_UART0_BASE) &= ~UART_CTRL_RXINTEN;
	UART_INTCLEAR(CMSDK_UART0_BASE) = UART_INT_RX;
}

/* Polls first (a frame's bytes follow each other closely, and a sleep and
 * wake per byte would slow transfers), then sleeps until the next byte. */
#define GETC_SPINS 20000u

uint8_t board_getc(void)
{
	for (uint32_t i = 0; !(UART_STATE(CMSDK_UART0_BASE) & UART_STATE_RXFULL); i++) {
		if (i < GETC_SPINS)
			continue;
		/* Masked, so a byte landing between the check and the WFI
		 * still wakes it (QEMU's UART raises RX only for a byte that
		 * arrives while RXINTEN is set); the handler runs after. */
		uint32_t p = cm_irq_save();
		UART_CTRL(CMSDK_UART0_BASE) |= UART_CTRL_RXINTEN;
		if (!(UART_STATE(CMSDK_UART0_BASE) & UART_STATE_RXFULL))
			cm_wfi();
		cm_irq_restore(p);
	}
	return (uint8_t)UART_DATA(CMSDK_UART0_BASE);
}

uint32_t board_counter32(void)
{
	return 0xFFFFFFFFu - TIMER_VALUE(CMSDK_TIMER0_BASE);
}
