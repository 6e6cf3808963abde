/* Board layer for the NUCLEO-F446RE (STM32F446RE, Cortex-M4F).
 *
 * Clock: HSE in bypass mode (8 MHz from the ST-LINK's MCO, the default
 * on MB1136 rev C and later) -> main PLL M=4 (2 MHz VCO input), N=180
 * (360 MHz VCO), P=2 -> SYSCLK 180 MHz, Q=8 (45 MHz, unused: no USB);
 * AHB /1, APB1 /4 = 45 MHz, APB2 /2 = 90 MHz.  180 MHz needs voltage
 * scale 1 and over-drive (RM0390 5.1.4) and 5 flash wait states (RM0390
 * 3.4.1, 2.7-3.6 V).  If HSE or the PLL or over-drive does not come up
 * the board stays on the 16 MHz HSI and says so in HELLO
 * (MNP_FLAG_CLOCK_FALLBACK).
 * ART accelerator: prefetch, instruction and data caches on (the M4
 * itself has no caches).  FPU: enabled in startup.S before any C code.
 * Host link: USART2 on PA2 (TX) / PA3 (RX), AF7, wired to the ST-LINK
 * virtual COM port; 115200 8N1; RX by interrupt into a ring buffer so no
 * byte is lost while a kernel runs.
 * Timing: DWT->CYCCNT (TRCENA set in DEMCR), core cycles.
 *
 * Device state (static by design): the board info and the RX ring. */
#include "board.h"
#include "protocol.h"
#include "stm32f446.h"

#define HSE_HZ 8000000u
#define HSI_HZ 16000000u
#define BAUD 115200u
#define PLL_M 4u
#define PLL_N 180u
#define PLL_P 2u
#define PLL_Q 8u
#define SYSCLK_HZ (HSE_HZ / PLL_M * PLL_N / PLL_P) /* 180 MHz */
#define FLASH_WS 5u

static struct board_info info = {
	.name = "nucleo-f446re",
	.core_hz = HSI_HZ,
	.count_hz = HSI_HZ,
	.sram_bytes = 128u * 1024u, /* SRAM1 112 + SRAM2 16 KiB */
	.flash_bytes = 512u * 1024u,
	.resolution = 1,
	.timing_kind = MNP_TIMING_CYCLES,
	.flags = 0,
};

/* The shared STM32 part (after the registers, the clocks and info). */
#include "board_stm32.h"

/* Returns 0 when SYSCLK runs from the PLL at 180 MHz. */
static int clock_init(void)
{
	RCC_APB1ENR |= RCC_APB1ENR_PWREN;
	(void)RCC_APB1ENR; /* read back: the enable takes effect first */
	/* VOS can change only while the PLL is off; it applies once on. */
	PWR_CR = (PWR_CR & ~PWR_CR_VOS_MASK) | PWR_CR_VOS_SCALE1;

	if (hse_pll_on())
		return -1;
	if (wait_bits(&PWR_CSR, PWR_CSR_VOSRDY, PWR_CSR_VOSRDY))
		return -1;

	/* Over-drive: enable, then switch the regulator to it. */
	PWR_CR |= PWR_CR_ODEN;
	if (wait_bits(&PWR_CSR, PWR_CSR_ODRDY, PWR_CSR_ODRDY))
		return -1;
	PWR_CR |= PWR_CR_ODSWEN;
	if (wait_bits(&PWR_CSR, PWR_CSR_ODSWRDY, PWR_CSR_ODSWRDY))
		return -1;

	/* ART caches: reset while disabled (their contents are undefined),
	 * then wait states, prefetch and both caches; read back to be sure. */
	FLASH_ACR &= ~(FLASH_ACR_ICEN | FLASH_ACR_DCEN);
	FLASH_ACR |= FLASH_ACR_ICRST | FLASH_ACR_DCRST;
	FLASH_ACR &= ~(FLASH_ACR_ICRST | FLASH_ACR_DCRST);
	FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | FLASH_WS |
		    FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
	if ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != FLASH_WS)
		return -1;

	/* APB1 /4 = 45 MHz, APB2 /2 = 90 MHz: within the F4's limits. */
	return sysclk_to_pll();
}

/* The M4 has no caches: the ART accelerator's are set up with the flash
 * wait states in clock_init. */
static void caches_init(void)
{
}

static void cycle_counter_init(void)
{
	/* The M4's DWT has no software lock (the M7's DWT_LAR). */
	DEMCR |= DEMCR_TRCENA;
	DWT_CYCCNT = 0;
	DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

/* USART2 on PA2 (TX) / PA3 (RX). */
static void uart_init(uint32_t pclk1)
{
	RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
	RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
	(void)RCC_APB1ENR;
	uart_pins_af7(GPIOA_BASE, 2u, &GPIO_AFRL(GPIOA_BASE));
	/* BRR = 16 * USARTDIV = 45e6 / 115200 = 390.6 -> 391, 0.1 % slow. */
	usart_start(USART2_BASE, pclk1, 0);
	cm_nvic_enable(USART2_IRQN);
}

void USART2_IRQHandler(void);
void USART2_IRQHandler(void)
{
	uint32_t sr = USART_SR(USART2_BASE);
	/* Reading SR then DR clears RXNE and the error flags (PE, FE, NF,
	 * ORE); an overrun (no OVRDIS on this USART) also keeps the byte
	 * that was in DR.  A framing or parity error drops the byte. */
	if (sr & (USART_SR_RXNE | USART_SR_ORE | USART_SR_FE | USART_SR_NF | USART_SR_PE)) {
		uint8_t b = (uint8_t)USART_DR(USART2_BASE);
		if (!(sr & (USART_SR_FE | USART_SR_PE)))
			rx_push(b);
	}
}

void board_putc(uint8_t c)
{
	while (!(USART_SR(USART2_BASE) & USART_SR_TXE))
		;
	USART_DR(USART2_BASE) = c;
}
