/* STM32F446 peripheral registers used by the NUCLEO-F446RE board layer.
 * Own definitions; addresses and bit positions from RM0390 (STM32F446xx
 * reference manual).  The core registers (SCB, DWT, SysTick, NVIC) are
 * the ARMv7-M ones of cortex_m7.h, which the Cortex-M4 shares; the M4 has
 * no L1 caches, so the cache registers there are not used.
 * Firmware only. */
#ifndef MN_FW_STM32F446_H
#define MN_FW_STM32F446_H

#include "cortex_m7.h"

/* ---- RCC (0x40023800): same layout as the F7's for what is used ---- */
#define RCC_BASE 0x40023800u
#define RCC_CR MMIO32(RCC_BASE + 0x00u)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR MMIO32(RCC_BASE + 0x04u)
#define RCC_PLLCFGR_PLLM_SHIFT 0  /* 6 bits, 2..63 */
#define RCC_PLLCFGR_PLLN_SHIFT 6  /* 9 bits, 50..432 */
#define RCC_PLLCFGR_PLLP_SHIFT 16 /* 2 bits: 00=/2 01=/4 10=/6 11=/8 */
#define RCC_PLLCFGR_PLLSRC_HSE (1u << 22)
#define RCC_PLLCFGR_PLLQ_SHIFT 24 /* 4 bits, 2..15 */
#define RCC_PLLCFGR_MASK 0x0F437FFFu /* M, N, P, SRC, Q; PLLR (28..30) kept */
#define RCC_CFGR MMIO32(RCC_BASE + 0x08u)
#define RCC_CFGR_SW_MASK (3u << 0)
#define RCC_CFGR_SW_PLL (2u << 0) /* 10 = PLL_P */
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_HPRE_MASK (0xFu << 4)  /* 0xxx = SYSCLK/1 */
#define RCC_CFGR_PPRE1_MASK (7u << 10)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10) /* 101 */
#define RCC_CFGR_PPRE2_MASK (7u << 13)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13) /* 100 */
#define RCC_AHB1ENR MMIO32(RCC_BASE + 0x30u)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR MMIO32(RCC_BASE + 0x40u)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB1ENR_PWREN (1u << 28)

/* ---- PWR (0x40007000): CR and CSR (the F7 calls them CR1, CSR1) ---- */
#define PWR_BASE 0x40007000u
#define PWR_CR MMIO32(PWR_BASE + 0x00u)
#define PWR_CR_VOS_MASK (3u << 14)
#define PWR_CR_VOS_SCALE1 (3u << 14)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR MMIO32(PWR_BASE + 0x04u)
#define PWR_CSR_VOSRDY (1u << 14)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)

/* ---- Flash interface (0x40023C00): the ART accelerator's caches ---- */
#define FLASH_BASE_REG 0x40023C00u
#define FLASH_ACR MMIO32(FLASH_BASE_REG + 0x00u)
#define FLASH_ACR_LATENCY_MASK (0xFu << 0)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)
#define FLASH_ACR_ICRST (1u << 11) /* write only while ICEN = 0 */
#define FLASH_ACR_DCRST (1u << 12) /* write only while DCEN = 0 */

/* ---- GPIOA (0x40020000) ---- */
#define GPIOA_BASE 0x40020000u
#define GPIO_MODER(b) MMIO32((b) + 0x00u)   /* 2 bits/pin: 10 = AF */
#define GPIO_OTYPER(b) MMIO32((b) + 0x04u)
#define GPIO_OSPEEDR(b) MMIO32((b) + 0x08u) /* 2 bits/pin */
#define GPIO_PUPDR(b) MMIO32((b) + 0x0Cu)   /* 2 bits/pin: 01 = pull-up */
#define GPIO_AFRL(b) MMIO32((b) + 0x20u)    /* pins 0..7, 4 bits each */

/* ---- USART2 (0x40004400), the F4's "old" USART register map ---- */
#define USART2_BASE 0x40004400u
#define USART_SR(b) MMIO32((b) + 0x00u)
#define USART_SR_PE (1u << 0)
#define USART_SR_FE (1u << 1)
#define USART_SR_NF (1u << 2)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_DR(b) MMIO32((b) + 0x04u)
#define USART_BRR(b) MMIO32((b) + 0x08u)
#define USART_CR1(b) MMIO32((b) + 0x0Cu)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE (1u << 13)
#define USART_CR2(b) MMIO32((b) + 0x10u)
#define USART_CR3(b) MMIO32((b) + 0x14u)

#define USART2_IRQN 38u /* position in the vector table after the 16 system exceptions */
#define STM32F446_NUM_IRQ 97u

#endif
