/* 64-bit time from the board's 32-bit counter.  A SysTick interrupt every
 * 2^24 core clocks samples the counter and counts its wraps; a reader
 * combines the wrap count with a fresh counter value (one extra wrap when
 * the counter is below the last sample, since the interrupt runs far more
 * often than the counter wraps).
 * State: the words below, written only by the SysTick handler and
 * read with interrupts masked (firmware device state, static by design). */
#include "board.h"
#include "cortex_m7.h"

static volatile uint32_t tb_wraps;
static volatile uint32_t tb_last;
static uint32_t tb_resolution; /* timing units per counter tick */

void SysTick_Handler(void);
void SysTick_Handler(void)
{
	uint32_t now = board_counter32();
	if (now < tb_last)
		tb_wraps++;
	tb_last = now;
}

void timebase_init(void)
{
	tb_resolution = board_get_info()->resolution;
	tb_wraps = 0;
	tb_last = board_counter32();
	SYST_RVR = 0x00FFFFFFu; /* 2^24 - 1: the largest reload */
	SYST_CVR = 0;
	SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint64_t timebase_now(void)
{
	uint32_t p = cm_irq_save();
	uint32_t wraps = tb_wraps, last = tb_last, now = board_counter32();
	cm_irq_restore(p);
	if (now < last)
		wraps++;
	return (((uint64_t)wraps << 32) | now) * tb_resolution;
}
