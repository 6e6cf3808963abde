/* The part of the board layer the two NUCLEO boards share: the STM32F4
 * and STM32F7 lay out RCC's HSE, PLL and bus clocks, the GPIO alternate
 * functions and the USART's set-up registers alike, and both boards keep
 * the same RX ring and board_init order.
 *
 * Included once, by board_nucleo.c and board_nucleo_f446.c, after the
 * device header (the registers), after the board's own HSE_HZ, HSI_HZ,
 * BAUD, PLL_M/N/P/Q and SYSCLK_HZ, and after its `info`.  The board file
 * then gives what differs: clock_init (voltage scaling and over-drive
 * registers, flash wait states and caches), caches_init, the cycle
 * counter, uart_init (which USART, which pins), the USART interrupt
 * handler (the F7's ISR/ICR against the F4's SR/DR) and board_putc.
 * Firmware only.  Device state (static by design): the RX ring. */
#ifndef MN_FW_BOARD_STM32_H
#define MN_FW_BOARD_STM32_H

#define SPIN_LIMIT 2000000u /* polls before a ready flag counts as failed */

#define RX_RING 512u /* power of two */
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;

static int clock_init(void);
static void caches_init(void);
static void cycle_counter_init(void);
static void uart_init(uint32_t pclk1);

static int wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
	for (uint32_t i = 0; i < SPIN_LIMIT; i++)
		if ((*reg & mask) == want)
			return 0;
	return -1;
}

/* HSE in bypass mode, then the main PLL from it at PLL_M/N/P/Q; 0 once
 * the PLL is locked.  The caller has set the voltage scale (VOS can change
 * only while the PLL is off). */
static int hse_pll_on(void)
{
	/* HSEBYP may be written only while HSE is off (it is at reset). */
	RCC_CR &= ~RCC_CR_HSEON;
	if (wait_bits(&RCC_CR, RCC_CR_HSERDY, 0))
		return -1;
	RCC_CR |= RCC_CR_HSEBYP;
	RCC_CR |= RCC_CR_HSEON;
	if (wait_bits(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY))
		return -1;

	/* PLL is off at reset; reserved bits (and the F4's PLLR) keep their
	 * values. */
	RCC_PLLCFGR = (RCC_PLLCFGR & ~RCC_PLLCFGR_MASK) |
		      (PLL_M << RCC_PLLCFGR_PLLM_SHIFT) |
		      (PLL_N << RCC_PLLCFGR_PLLN_SHIFT) |
		      ((PLL_P / 2u - 1u) << RCC_PLLCFGR_PLLP_SHIFT) |
		      RCC_PLLCFGR_PLLSRC_HSE | (PLL_Q << RCC_PLLCFGR_PLLQ_SHIFT);
	RCC_CR |= RCC_CR_PLLON;
	return wait_bits(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY);
}

/* Bus prescalers first (AHB /1, APB1 /4, APB2 /2: within both chips'
 * limits at their SYSCLK), then SYSCLK switched to the PLL; 0 once it
 * runs from it.  The caller has set the flash wait states. */
static int sysclk_to_pll(void)
{
	RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_HPRE_MASK | RCC_CFGR_PPRE1_MASK |
				 RCC_CFGR_PPRE2_MASK)) |
		   RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
	RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
	return wait_bits(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL);
}

/* Pins tx_pin (even) and tx_pin + 1 of the GPIO port at base: alternate
 * function (MODER 10) AF7, push-pull, fast, pull-up on RX so that a
 * disconnected line idles high.  afr: the port's AFRL or AFRH, whichever
 * holds the pair. */
static void uart_pins_af7(uint32_t base, uint32_t tx_pin, volatile uint32_t *afr)
{
	uint32_t m2 = tx_pin * 2u, a4 = (tx_pin % 8u) * 4u;
	GPIO_MODER(base) = (GPIO_MODER(base) & ~(0xFu << m2)) | (0xAu << m2);
	GPIO_OTYPER(base) &= ~(3u << tx_pin);
	GPIO_OSPEEDR(base) = (GPIO_OSPEEDR(base) & ~(0xFu << m2)) | (0xAu << m2);
	GPIO_PUPDR(base) = (GPIO_PUPDR(base) & ~(0xFu << m2)) | (0x1u << (m2 + 2u));
	*afr = (*afr & ~(0xFFu << a4)) | (0x77u << a4);
}

/* The USART at base, on, at BAUD 8N1 (16x oversampling: BRR = f_ck /
 * baud, rounded), receiving by interrupt; cr3: the board's CR3. */
static void usart_start(uint32_t base, uint32_t pclk1, uint32_t cr3)
{
	USART_CR1(base) = 0;
	USART_BRR(base) = (pclk1 + BAUD / 2u) / BAUD;
	USART_CR2(base) = 0; /* 1 stop bit */
	USART_CR3(base) = cr3;
	USART_CR1(base) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
}

/* From the USART interrupt: b into the ring.  A full ring drops the byte;
 * the frame then fails its CRC and the host retries. */
static void rx_push(uint8_t b)
{
	uint32_t next = (rx_head + 1u) & (RX_RING - 1u);
	if (next != rx_tail) {
		rx_ring[rx_head] = b;
		rx_head = next;
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
	uart_init(pclk1);
	timebase_init();
	cm_irq_enable();
}

const struct board_info *board_get_info(void)
{
	return &info;
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

#endif
