/* Cortex-M7 core registers used by the firmware (addresses from the ARMv7-M
 * Architecture Reference Manual and the Cortex-M7 TRM; own definitions, no
 * CMSIS).  Firmware only. */
#ifndef MN_FW_CORTEX_M7_H
#define MN_FW_CORTEX_M7_H

#include <stdint.h>

#define MMIO32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System control block */
#define SCB_ICSR MMIO32(0xE000ED04u)
#define SCB_VTOR MMIO32(0xE000ED08u)
#define SCB_CCR MMIO32(0xE000ED14u)
#define SCB_CCR_DC (1u << 16) /* data cache enable */
#define SCB_CCR_IC (1u << 17) /* instruction cache enable */
#define SCB_SHCSR MMIO32(0xE000ED24u)
#define SCB_CFSR MMIO32(0xE000ED28u)
#define SCB_CCSIDR MMIO32(0xE000ED80u) /* cache size id (selected by CSSELR) */
#define SCB_CSSELR MMIO32(0xE000ED84u) /* 0 = level 1 data cache */
#define SCB_CPACR MMIO32(0xE000ED88u)  /* CP10/CP11 = bits 20..23 */
#define SCB_ICIALLU MMIO32(0xE000EF50u) /* invalidate all I-cache */
#define SCB_DCISW MMIO32(0xE000EF60u)   /* invalidate D-cache by set/way */

/* CCSIDR fields */
#define CCSIDR_LINESIZE(x) ((x) & 7u)              /* log2(words/line) - 2 */
#define CCSIDR_ASSOC(x) (((x) >> 3) & 0x3FFu)      /* ways - 1 */
#define CCSIDR_NUMSETS(x) (((x) >> 13) & 0x7FFFu)  /* sets - 1 */

/* Debug: DEMCR.TRCENA enables the DWT */
#define DEMCR MMIO32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL MMIO32(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT MMIO32(0xE0001004u)
#define DWT_LAR MMIO32(0xE0001FB0u) /* software lock (Cortex-M7) */
#define DWT_LAR_KEY 0xC5ACCE55u

/* SysTick */
#define SYST_CSR MMIO32(0xE000E010u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1 = processor clock */
#define SYST_RVR MMIO32(0xE000E014u)
#define SYST_CVR MMIO32(0xE000E018u)

/* NVIC: interrupt set-enable registers, 32 lines each */
#define NVIC_ISER(n) MMIO32(0xE000E100u + 4u * (n))

static inline void cm_dsb(void)
{
	__asm__ volatile("dsb 0xF" ::: "memory");
}

static inline void cm_isb(void)
{
	__asm__ volatile("isb 0xF" ::: "memory");
}

static inline uint32_t cm_irq_save(void)
{
	uint32_t p;
	__asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(p)::"memory");
	return p;
}

static inline void cm_irq_restore(uint32_t p)
{
	__asm__ volatile("msr primask, %0" ::"r"(p) : "memory");
}

static inline void cm_irq_enable(void)
{
	__asm__ volatile("cpsie i" ::: "memory");
}

/* Sleeps until an interrupt is pending, even one PRIMASK masks (so the
 * check before it can be made atomic with cm_irq_save). */
static inline void cm_wfi(void)
{
	__asm__ volatile("dsb 0xF\n\twfi" ::: "memory");
}

static inline void cm_nvic_enable(unsigned irq)
{
	NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

#endif
