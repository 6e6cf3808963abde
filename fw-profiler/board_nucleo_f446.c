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
#define SPIN_LIMIT 2000000u /* polls before a ready flag counts as failed */

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

#define RX_RING 512u /* power of two */
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;

static int wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
	for (uint32_t i = 0; i < SPIN_LIMIT; i++)
		if ((*reg & mask) == want)
			return 0;
	return -1;
}

/* Returns 0 when SYSCLK runs from the PLL at 180 MHz. */
static int clock_init(void)
{
	RCC_APB1ENR |= RCC_APB1ENR_PWREN;
	(void)RCC_APB1ENR; /* read back: the enable takes effect first */
	/* VOS can change only while the PLL is off; it applies once on. */
	PWR_CR = (PWR_CR & ~PWR_CR_VOS_MASK) | PWR_CR_VOS_SCALE1;

	/* HSEBYP may be written only while HSE is off (it is at reset). */
	RCC_CR &= ~RCC_CR_HSEON;
	if (wait_bits(&RCC_CR, RCC_CR_HSERDY, 0))
		return -1;
	RCC_CR |= RCC_CR_HSEBYP;
	RCC_CR |= RCC_CR_HSEON;
	if (wait_bits(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY))
		return -1;

	/* PLL is off at reset; reserved and PLLR bits keep their values. */
	RCC_PLLCFGR = (RCC_PLLCFGR & ~RCC_PLLCFGR_MASK) |
		      (PLL_M << RCC_PLLCFGR_PLLM_SHIFT) |
		      (PLL_N << RCC_PLLCFGR_PLLN_SHIFT) |
		      ((PLL_P / 2u - 1u) << RCC_PLLCFGR_PLLP_SHIFT) |
		      RCC_PLLCFGR_PLLSRC_HSE | (PLL_Q << RCC_PLLCFGR_PLLQ_SHIFT);
	RCC_CR |= RCC_CR_PLLON;
	if (wait_bits(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY))
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

	/* Bus prescalers first (APB1 <= 45 MHz, APB2 <= 90 MHz), then
	 * switch SYSCLK to the PLL. */
	RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_HPRE_MASK | RCC_CFGR_PPRE1_MASK |
				 RCC_CFGR_PPRE2_MASK)) |
		   RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
	RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
	if (wait_bits(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL))
		return -1;
	return 0;
}

static void cycle_counter_init(void)
{
	/* The M4's DWT has no software lock (the M7's DWT_LAR). */
	DEMCR |= DEMCR_TRCENA;
	DWT_CYCCNT = 0;
	DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

static void usart2_init(uint32_t pclk1)
{
	RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
	RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
	(void)RCC_APB1ENR;

	/* PA2, PA3: alternate function (MODER 10), AF7, fast, pull-up on RX
	 * so a disconnected line idles high. */
	GPIO_MODER(GPIOA_BASE) = (GPIO_MODER(GPIOA_BASE) & ~(0xFu << 4)) | (0xAu << 4);
	GPIO_OTYPER(GPIOA_BASE) &= ~(3u << 2);
	GPIO_OSPEEDR(GPIOA_BASE) = (GPIO_OSPEEDR(GPIOA_BASE) & ~(0xFu << 4)) | (0xAu << 4);
	GPIO_PUPDR(GPIOA_BASE) = (GPIO_PUPDR(GPIOA_BASE) & ~(0xFu << 4)) | (0x1u << 6);
	GPIO_AFRL(GPIOA_BASE) = (GPIO_AFRL(GPIOA_BASE) & ~(0xFFu << 8)) | (0x77u << 8);

	USART_CR1(USART2_BASE) = 0;
	/* 16x oversampling: BRR = 16 * USARTDIV = f_ck / baud (45e6 / 115200
	 * = 390.6 -> 391, 0.1 % slow). */
	USART_BRR(USART2_BASE) = (pclk1 + BAUD / 2u) / BAUD;
	USART_CR2(USART2_BASE) = 0; /* 1 stop bit */
	USART_CR3(USART2_BASE) = 0;
	USART_CR1(USART2_BASE) =
	    USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
	cm_nvic_enable(USART2_IRQN);
}

void USART2_IRQHandler(void);
void USART2_IRQHandler(void)
{
	uint32_t sr = USART_SR(USART2_BASE);
	/* Reading SR then DR clears RXNE and the error flags (PE, FE, NF,
	 * ORE); an overrun (no OVRDIS on this USART) also keeps the byte
	 * that was in DR. */
	if (sr & (USART_SR_RXNE | USART_SR_ORE | USART_SR_FE | USART_SR_NF | USART_SR_PE)) {
		uint8_t b = (uint8_t)USART_DR(USART2_BASE);
		uint32_t next = (rx_head + 1u) & (RX_RING - 1u);
		if (!(sr & (USART_SR_FE | USART_SR_PE)) && next != rx_tail) {
			/* A full ring or a framing error drops the byte; the
			 * frame then fails its CRC and the host retries. */
			rx_ring[rx_head] = b;
			rx_head = next;
		}
	}
}

extern const uint32_t mnfw_vectors_start[]; /* linker script: start of .isr_vector */

void board_init(void)
{
	uint32_t pclk1 = HSI_HZ;

	SCB_VTOR = (uint32_t)(uintptr_t)mnfw_vectors_start;
	if (clock_init() == 0) {
		info.core_hz = SYSCLK_HZ;
		pclk1 = SYSCLK_HZ / 4u;
	} else {
		info.flags |= MNP_FLAG_CLOCK_FALLBACK;
	}
	info.count_hz = info.core_hz;
	cycle_counter_init();
	usart2_init(pclk1);
	timebase_init();
	cm_irq_enable();
}

const struct board_info *board_get_info(void)
{
	return &info;
}

void board_putc(uint8_t c)
{
	while (!(USART_SR(USART2_BASE) & USART_SR_TXE))
		;
	USART_DR(USART2_BASE) = c;
}

uint8_t board_getc(void)
{
	uint8_t b;
	while (rx_head == rx_tail)
		;
	b = rx_ring[rx_tail];
	rx_tail = (rx_tail + 1u) & (RX_RING - 1u);
	return b;
}

uint32_t board_counter32(void)
{
	return DWT_CYCCNT;
}
