/* STM32F746 peripheral registers used by the NUCLEO-F746ZG board layer.
 * Own definitions; addresses and bit positions from RM0385 (STM32F75xxx
 * and STM32F74xxx reference manual), cross-checked against public
 * register headers.  Firmware only. */
#ifndef MN_FW_STM32F746_H
#define MN_FW_STM32F746_H

#include "cortex_m7.h"

/* ---- RCC (0x40023800) ---- */
#define RCC_BASE 0x40023800u
#define RCC_CR MMIO32(RCC_BASE + 0x00u)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
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
#define RCC_PLLCFGR_MASK 0x0F437FFFu /* M, N, P, SRC, Q fields */
#define RCC_CFGR MMIO32(RCC_BASE + 0x08u)
#define RCC_CFGR_SW_MASK (3u << 0)
#define RCC_CFGR_SW_PLL (2u << 0)
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_HPRE_MASK (0xFu << 4)  /* 0xxx = SYSCLK/1 */
#define RCC_CFGR_PPRE1_MASK (7u << 10)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10) /* 101 */
#define RCC_CFGR_PPRE2_MASK (7u << 13)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13) /* 100 */
#define RCC_AHB1ENR MMIO32(RCC_BASE + 0x30u)
#define RCC_AHB1ENR_GPIODEN (1u << 3)
#define RCC_APB1ENR MMIO32(RCC_BASE + 0x40u)
#define RCC_APB1ENR_USART3EN (1u << 18)
#define RCC_APB1ENR_PWREN (1u << 28)
#define RCC_DCKCFGR2 MMIO32(RCC_BASE + 0x90u)
#define RCC_DCKCFGR2_USART3SEL_MASK (3u << 4) /* 00 = APB1 clock (PCLK1) */

/* ---- PWR (0x40007000) ---- */
#define PWR_BASE 0x40007000u
#define PWR_CR1 MMIO32(PWR_BASE + 0x00u)
#define PWR_CR1_VOS_MASK (3u << 14)
#define PWR_CR1_VOS_SCALE1 (3u << 14)
#define PWR_CR1_ODEN (1u << 16)
#define PWR_CR1_ODSWEN (1u << 17)
#define PWR_CSR1 MMIO32(PWR_BASE + 0x04u)
#define PWR_CSR1_VOSRDY (1u << 14)
#define PWR_CSR1_ODRDY (1u << 16)
#define PWR_CSR1_ODSWRDY (1u << 17)

/* ---- Flash interface (0x40023C00) ---- */
#define FLASH_BASE_REG 0x40023C00u
#define FLASH_ACR MMIO32(FLASH_BASE_REG + 0x00u)
#define FLASH_ACR_LATENCY_MASK (0xFu << 0)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ARTEN (1u << 9)

/* ---- GPIOD (0x40020C00) ---- */
#define GPIOD_BASE 0x40020C00u
#define GPIO_MODER(b) MMIO32((b) + 0x00u)   /* 2 bits/pin: 10 = AF */
#define GPIO_OTYPER(b) MMIO32((b) + 0x04u)
#define GPIO_OSPEEDR(b) MMIO32((b) + 0x08u) /* 2 bits/pin */
#define GPIO_PUPDR(b) MMIO32((b) + 0x0Cu)   /* 2 bits/pin: 01 = pull-up */
#define GPIO_AFRL(b) MMIO32((b) + 0x20u)    /* pins 0..7, 4 bits each */
#define GPIO_AFRH(b) MMIO32((b) + 0x24u)    /* pins 8..15, 4 bits each */

/* ---- USART3 (0x40004800), "new" USART register map ---- */
#define USART3_BASE 0x40004800u
#define USART_CR1(b) MMIO32((b) + 0x00u)
#define USART_CR1_UE (1u << 0)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR2(b) MMIO32((b) + 0x04u)
#define USART_CR3(b) MMIO32((b) + 0x08u)
#define USART_CR3_OVRDIS (1u << 12)
#define USART_BRR(b) MMIO32((b) + 0x0Cu)
#define USART_ISR(b) MMIO32((b) + 0x1Cu)
#define USART_ISR_PE (1u << 0)
#define USART_ISR_FE (1u << 1)
#define USART_ISR_NF (1u << 2)
#define USART_ISR_ORE (1u << 3)
#define USART_ISR_RXNE (1u << 5)
#define USART_ISR_TXE (1u << 7)
#define USART_ICR(b) MMIO32((b) + 0x20u)
#define USART_ICR_ERRORS 0x0Fu /* PECF | FECF | NCF | ORECF */
#define USART_RDR(b) MMIO32((b) + 0x24u)
#define USART_TDR(b) MMIO32((b) + 0x28u)

#define USART3_IRQN 39u /* position in the vector table after the 16 system exceptions */
#define STM32F746_NUM_IRQ 98u

#endif
