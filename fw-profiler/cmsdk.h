/* CMSDK APB UART and timer as QEMU's mps2-an500 machine models them
 * (hw/char/cmsdk-apb-uart.c, hw/timer/cmsdk-apb-timer.c, hw/arm/mps2.c:
 * UART0 at 0x40004000, TIMER0 at 0x40000000, both clocked by the 25 MHz
 * SYSCLK).  Firmware only. */
#ifndef MN_FW_CMSDK_H
#define MN_FW_CMSDK_H

#include "cortex_m7.h"

#define MPS2_SYSCLK_HZ 25000000u

#define CMSDK_UART0_BASE 0x40004000u
#define UART_DATA(b) MMIO32((b) + 0x00u)
#define UART_STATE(b) MMIO32((b) + 0x04u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_STATE_OVERRUNS (3u << 2) /* TX, RX overrun; write 1 to clear */
#define UART_CTRL(b) MMIO32((b) + 0x08u)
#define UART_CTRL_TXEN (1u << 0)
#define UART_CTRL_RXEN (1u << 1)
#define UART_CTRL_RXINTEN (1u << 3)
#define UART_INTCLEAR(b) MMIO32((b) + 0x0Cu) /* write 1 to clear */
#define UART_INT_RX (1u << 1)
#define UART_BAUDDIV(b) MMIO32((b) + 0x10u) /* >= 16 or QEMU ignores it */

#define CMSDK_TIMER0_BASE 0x40000000u
#define TIMER_CTRL(b) MMIO32((b) + 0x00u)
#define TIMER_CTRL_EN (1u << 0)
#define TIMER_VALUE(b) MMIO32((b) + 0x04u)  /* counts down */
#define TIMER_RELOAD(b) MMIO32((b) + 0x08u) /* writing also sets VALUE */

#define MPS2_AN500_NUM_IRQ 32u
#define CMSDK_UART0_RX_IRQN 0u /* hw/arm/mps2.c: UART0 RX 0, TX 1 */

#endif
