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
#define SPIN_LIMIT 2000000u /* polls before a ready flag counts as failed */

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

/* Returns 0 when SYSCLK runs from the PLL at 216 MHz. */
static int clock_init(void)
{
	RCC_APB1ENR |= RCC_APB1ENR_PWREN;
	(void)RCC_APB1ENR; /* read back: the enable takes effect first */
	/* VOS can change only while the PLL is off; it applies once on. */
	PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_SCALE1;

	/* HSEBYP may be written only while HSE is off (it is at reset). */
	RCC_CR &= ~RCC_CR_HSEON;
	if (wait_bits(&RCC_CR, RCC_CR_HSERDY, 0))
		return -1;
	RCC_CR |= RCC_CR_HSEBYP;
	RCC_CR |= RCC_CR_HSEON;
	if (wait_bits(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY))
		return -1;

	/* PLL is off at reset; reserved PLLCFGR bits keep their values. */
	RCC_PLLCFGR = (RCC_PLLCFGR & ~RCC_PLLCFGR_MASK) |
		      (PLL_M << RCC_PLLCFGR_PLLM_SHIFT) |
		      (PLL_N << RCC_PLLCFGR_PLLN_SHIFT) |
		      ((PLL_P / 2u - 1u) << RCC_PLLCFGR_PLLP_SHIFT) |
		      RCC_PLLCFGR_PLLSRC_HSE | (PLL_Q << RCC_PLLCFGR_PLLQ_SHIFT);
	RCC_CR |= RCC_CR_PLLON;
	if (wait_bits(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY))
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

	/* Bus prescalers first (APB1 <= 54 MHz, APB2 <= 108 MHz), then
	 * switch SYSCLK to the PLL. */
	RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_HPRE_MASK | RCC_CFGR_PPRE1_MASK |
				 RCC_CFGR_PPRE2_MASK)) |
		   RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
	RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
	if (wait_bits(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL))
		return -1;
	return 0;
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

static void usart3_init(uint32_t pclk1)
{
	RCC_AHB1ENR |= RCC_AHB1ENR_GPIODEN;
	RCC_APB1ENR |= RCC_APB1ENR_USART3EN;
	(void)RCC_APB1ENR;
	RCC_DCKCFGR2 &= ~RCC_DCKCFGR2_USART3SEL_MASK; /* kernel clock = PCLK1 */

	/* PD8, PD9: alternate function (MODER 10), AF7, high speed, pull-up
	 * on RX so a disconnected line idles high. */
	GPIO_MODER(GPIOD_BASE) = (GPIO_MODER(GPIOD_BASE) & ~(0xFu << 16)) | (0xAu << 16);
	GPIO_OTYPER(GPIOD_BASE) &= ~(3u << 8);
	GPIO_OSPEEDR(GPIOD_BASE) = (GPIO_OSPEEDR(GPIOD_BASE) & ~(0xFu << 16)) | (0xAu << 16);
	GPIO_PUPDR(GPIOD_BASE) = (GPIO_PUPDR(GPIOD_BASE) & ~(0xFu << 16)) | (0x1u << 18);
	GPIO_AFRH(GPIOD_BASE) = (GPIO_AFRH(GPIOD_BASE) & ~0xFFu) | 0x77u;

	USART_CR1(USART3_BASE) = 0;
	/* 16x oversampling: BRR = USARTDIV = f_ck / baud (54e6 / 115200 =
	 * 468.75 -> 469, 0.05 % fast). */
	USART_BRR(USART3_BASE) = (pclk1 + BAUD / 2u) / BAUD;
	USART_CR2(USART3_BASE) = 0; /* 1 stop bit */
	USART_CR3(USART3_BASE) = USART_CR3_OVRDIS;
	USART_CR1(USART3_BASE) =
	    USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
	cm_nvic_enable(USART3_IRQN);
}

void USART3_IRQHandler(void);
void USART3_IRQHandler(void)
{
	uint32_t isr = USART_ISR(USART3_BASE);
	if (isr & (USART_ISR_PE | USART_ISR_FE | USART_ISR_NF | USART_ISR_ORE))
		USART_ICR(USART3_BASE) = USART_ICR_ERRORS;
	if (isr & USART_ISR_RXNE) {
		uint8_t b = (uint8_t)USART_RDR(USART3_BASE);
		uint32_t next = (rx_head + 1u) & (RX_RING - 1u);
		/* A full ring drops the byte; the frame then fails its CRC
		 * and the host retries. */
		if (next != rx_tail) {
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
	caches_init();
	cycle_counter_init();
	usart3_init(pclk1);
	timebase_init();
	cm_irq_enable();
}

const struct board_info *board_get_info(void)
{
	return &info;
}

void board_putc(uint8_t c)
{
	while (!(USART_ISR(USART3_BASE) & USART_ISR_TXE))
		;
	USART_TDR(USART3_BASE) = c;
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
