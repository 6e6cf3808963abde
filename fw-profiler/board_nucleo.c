/* Board layer for the NUCLEO-F746ZG (STM32F746ZG, Cortex-M7).
 *
 * Clock: HSE in bypass mode (8 MHz from the ST-LINK's MCO) -> main PLL
 * M=4 (2 MHz VCO input), N=216 (432 MHz VCO), P=2 -> SYSCLK 216 MHz,
 * Q=9 -> 48 MHz; AHB /1, APB1 /4 = 54 MHz, APB2 /2 = 108 MHz.  216 MHz
 * needs voltage scale 1 and over-drive (RM0385 5.1.4) and 7 flash wait
 * states (RM0385 3.3.2, 2.7-3.6 V).  If HSE or the PLL or over-drive does
 * not come up the board stays on the 16 MHz HSI and says so in HELLO
 * (MNP_FLAG_CLOCK_FALLBACK).
 * Caches: I-cache and D-cache on (invalidated first).  FPU: enabled in
 * startup.S before any C code.
 * Host link: USART3 on PD8 (TX) / PD9 (RX), AF7, wired to the ST-LINK
 * virtual COM port; 115200 8N1; RX by interrupt into a ring buffer so no
 * byte is lost while a kernel runs.
 * Timing: DWT->CYCCNT (TRCENA set in DEMCR), core cycles.
 *
 * Device state (static by design): the board info and the RX ring. */
#include "board.h"
#include "protocol.h"
#include "stm32f746.h"

#define HSE_HZ 8000000u
#define HSI_HZ 16000000u
#define BAUD 115200u
#define PLL_M 4u
#define PLL_N 216u
#define PLL_P 2u
#define PLL_Q 9u
#define SYSCLK_HZ (HSE_HZ / PLL_M * PLL_N / PLL_P) /* 216 MHz */
#define FLASH_WS 7u

static struct board_info info = {
	.name = "nucleo-f746zg",
	.core_hz = HSI_HZ,
	.count_hz = HSI_HZ,
	.sram_bytes = 320u * 1024u, /* DTCM 64 + SRAM1 240 + SRAM2 16 KiB */
	.flash_bytes = 1024u * 1024u,
	.resolution = 1,
	.timing_kind = MNP_TIMING_CYCLES,
	.flags = 0,
};

/* The shared STM32 part (after the registers, the clocks and info). */
#include "board_stm32.h"

/* Returns 0 when SYSCLK runs from the PLL at 216 MHz. */
static int clock_init(void)
{
	RCC_APB1ENR |= RCC_APB1ENR_PWREN;
	(void)RCC_APB1ENR; /* read back: the enable takes effect first */
	/* VOS can change only while the PLL is off; it applies once on. */
	PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_SCALE1;

	if (hse_pll_on())
		return -1;
	if (wait_bits(&PWR_CSR1, PWR_CSR1_VOSRDY, PWR_CSR1_VOSRDY))
		return -1;

	/* Over-drive: enable, then switch the regulator to it. */
	PWR_CR1 |= PWR_CR1_ODEN;
	if (wait_bits(&PWR_CSR1, PWR_CSR1_ODRDY, PWR_CSR1_ODRDY))
		return -1;
	PWR_CR1 |= PWR_CR1_ODSWEN;
	if (wait_bits(&PWR_CSR1, PWR_CSR1_ODSWRDY, PWR_CSR1_ODSWRDY))
		return -1;

	/* Wait states before the clock goes up; read back to be sure. */
	FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | FLASH_WS |
		    FLASH_ACR_PRFTEN | FLASH_ACR_ARTEN;
	if ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != FLASH_WS)
		return -1;

	/* APB1 /4 = 54 MHz, APB2 /2 = 108 MHz: within the F7's limits. */
	return sysclk_to_pll();
}

static void caches_init(void)
{
	uint32_t ccsidr, sets, ways, line_shift, way_shift;

	/* I-cache: invalidate, then enable. */
	cm_dsb();
	cm_isb();
	SCB_ICIALLU = 0;
	cm_dsb();
	cm_isb();
	SCB_CCR |= SCB_CCR_IC;
	cm_dsb();
	cm_isb();

	/* D-cache: its contents are undefined after reset, so invalidate
	 * every line by set/way (CCSIDR of the L1 data cache gives the
	 * geometry: 4 KiB, 4 ways, 32-byte lines on the STM32F746), then
	 * enable. */
	SCB_CSSELR = 0;
	cm_dsb();
	ccsidr = SCB_CCSIDR;
	sets = CCSIDR_NUMSETS(ccsidr) + 1u;
	ways = CCSIDR_ASSOC(ccsidr) + 1u;
	line_shift = CCSIDR_LINESIZE(ccsidr) + 4u; /* log2(line bytes) */
	way_shift = ways > 1u ? (uint32_t)__builtin_clz(ways - 1u) : 0u;
	for (uint32_t s = 0; s < sets; s++)
		for (uint32_t w = 0; w < ways; w++)
			SCB_DCISW = (ways > 1u ? (w << way_shift) : 0u) |
				    (s << line_shift);
	cm_dsb();
	SCB_CCR |= SCB_CCR_DC;
	cm_dsb();
	cm_isb();
}

static void cycle_counter_init(void)
{
	DEMCR |= DEMCR_TRCENA;
	DWT_LAR = DWT_LAR_KEY; /* the M7's DWT may be software-locked */
	DWT_CYCCNT = 0;
	DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

/* USART3 on PD8 (TX) / PD9 (RX). */
static void uart_init(uint32_t pclk1)
{
	RCC_AHB1ENR |= RCC_AHB1ENR_GPIODEN;
	RCC_APB1ENR |= RCC_APB1ENR_USART3EN;
	(void)RCC_APB1ENR;
	RCC_DCKCFGR2 &= ~RCC_DCKCFGR2_USART3SEL_MASK; /* kernel clock = PCLK1 */
	uart_pins_af7(GPIOD_BASE, 8u, &GPIO_AFRH(GPIOD_BASE));
	/* BRR = USARTDIV = 54e6 / 115200 = 468.75 -> 469, 0.05 % fast.
	 * OVRDIS: a byte arriving before the last was read replaces it and
	 * raises no overrun error (the CRC then catches the loss). */
	usart_start(USART3_BASE, pclk1, USART_CR3_OVRDIS);
	cm_nvic_enable(USART3_IRQN);
}

void USART3_IRQHandler(void);
void USART3_IRQHandler(void)
{
	uint32_t isr = USART_ISR(USART3_BASE);
	if (isr & (USART_ISR_PE | USART_ISR_FE | USART_ISR_NF | USART_ISR_ORE))
		USART_ICR(USART3_BASE) = USART_ICR_ERRORS;
	if (isr & USART_ISR_RXNE)
		rx_push((uint8_t)USART_RDR(USART3_BASE));
}

void board_putc(uint8_t c)
{
	while (!(USART_ISR(USART3_BASE) & USART_ISR_TXE))
		;
	USART_TDR(USART3_BASE) = c;
}
