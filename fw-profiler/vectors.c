/* The vector table (placed first in flash by the linker script) and the
 * default handlers.  MNFW_NUM_IRQ (external interrupt lines) comes from
 * the Makefile per target; the NUCLEO-F746ZG uses USART3's line (39), the
 * NUCLEO-F446RE USART2's (38), the MPS2 machines in QEMU UART0 RX's (0).
 * These lines are weak aliases of Default_Handler unless the board layer
 * defines the handler. */
#include <stdint.h>

#include "board.h"

#ifndef MNFW_NUM_IRQ
#error "MNFW_NUM_IRQ must be defined by the build"
#endif

typedef void (*handler_t)(void);

struct vector_table {
	uint32_t *initial_sp;
	handler_t reset;
	handler_t exceptions[14]; /* NMI .. SysTick */
	handler_t irq[MNFW_NUM_IRQ];
};

extern uint32_t _estack; /* linker script: top of the stack */
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);
void USART2_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void USART3_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void UART0RX_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));

/* Any unexpected exception parks the core: a debugger sees where (the
 * host sees a timeout, never a wrong answer). */
void Default_Handler(void)
{
	for (;;)
		;
}

void HardFault_Handler(void)
{
	for (;;)
		;
}

__attribute__((section(".isr_vector"), used)) const struct vector_table mnfw_vectors = {
	.initial_sp = &_estack,
	.reset = Reset_Handler,
	.exceptions = {
		Default_Handler,   /* NMI */
		HardFault_Handler, /* HardFault */
		Default_Handler,   /* MemManage */
		Default_Handler,   /* BusFault */
		Default_Handler,   /* UsageFault */
		0, 0, 0, 0,        /* reserved */
		Default_Handler,   /* SVCall */
		Default_Handler,   /* DebugMonitor */
		0,                 /* reserved */
		Default_Handler,   /* PendSV */
		SysTick_Handler,   /* SysTick (timebase.c) */
	},
	.irq = {
#if MNFW_NUM_IRQ > 39
		[0 ... 37] = Default_Handler,
		[38] = USART2_IRQHandler,
		[39] = USART3_IRQHandler,
		[40 ... MNFW_NUM_IRQ - 1] = Default_Handler,
#else
		[0] = UART0RX_IRQHandler,
		[1 ... MNFW_NUM_IRQ - 1] = Default_Handler,
#endif
	},
};
