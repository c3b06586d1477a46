/* mps2_an386 implementation of hal.h: CMSDK UART0 (polled; QEMU puts it on a TCP socket),
 * CMSDK Timer0 as the free-running 32-bit tick counter (64-bit: extended in software, with
 * Timer1 waking an idle core), and the painted-stack high-water mark.
 *
 * Why Timer0 and not SysTick: SysTick is 24-bit and needs a wrap interrupt whose position
 * relative to an inference varies with when the request arrived, which would make
 * instruction counts differ from run to run. Timer0 counts 32 bits with no interrupt. */
#include "tinyflow/clock.h"
#include "tinyflow/hal.h"

#include "mps2.h"

/* Timer0 wraps every 2^32 / 25 MHz = 172 s of emulated time; one wrap seen per reading keeps the
 * 64-bit count exact. The core reads it after every inference, and tinyflow_hal_idle() arms
 * Timer1 to wake up at least every 86 s while the core sleeps. */
#define IDLE_WAKE_TICKS 0x7FFFFFFFu
static tinyflow_clock_t s_clock;

uint32_t tinyflow_mps2_stack_high_water(void);

/* The rate the host divides ticks by. sim_qemu.py sets it so that device microseconds are the
 * estimated time on the chosen board (see docs/qemu.md); by default, Timer0's real 25 MHz. */
#ifndef TINYFLOW_MPS2_TICKS_PER_SECOND
#define TINYFLOW_MPS2_TICKS_PER_SECOND TINYFLOW_MPS2_PCLK_HZ
#endif

int tinyflow_hal_init(void) {
  TINYFLOW_MPS2_UART_BAUDDIV = 16u; /* the smallest divider the CMSDK UART accepts */
  TINYFLOW_MPS2_UART_CTRL = 0x3u | 0x8u; /* TX and RX enabled; RX interrupt (wakes WFI) */
  /* A read of DATA makes QEMU poll the socket again; without it the first byte from the host
   * waits for QEMU's next idle wake-up (about a second). */
  (void)TINYFLOW_MPS2_UART_DATA;
  TINYFLOW_MPS2_UART_INTCLEAR = 0x2u;
  TINYFLOW_MPS2_NVIC_ENABLE(TINYFLOW_MPS2_UART_RX_IRQ);
  TINYFLOW_MPS2_TIMER_CTRL = 0u;
  TINYFLOW_MPS2_TIMER_RELOAD = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_VALUE = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_CTRL = 0x1u; /* enable, PCLK, no interrupt */
  TINYFLOW_MPS2_TIMER1_CTRL = 0u;
  TINYFLOW_MPS2_NVIC_ENABLE(TINYFLOW_MPS2_TIMER1_IRQ);
  return 0;
}

void tinyflow_mps2_timer1_irq(void) {
  /* Only there to end WFI; hal_idle reads the clock once awake. */
  TINYFLOW_MPS2_TIMER1_INTCLEAR = 0x1u;
}

void tinyflow_mps2_uart_rx_irq(void) {
  /* Only there to wake the core from WFI: the data stays in the UART for hal_read. */
  TINYFLOW_MPS2_UART_INTCLEAR = 0x2u;
}

void tinyflow_mps2_wait_for_input(void) {
  /* With interrupts masked, a byte that lands between the check and WFI still leaves its
   * interrupt pending, and a pending interrupt ends WFI: no lost wake-up. */
  __asm__ volatile("cpsid i" ::: "memory");
  if (!(TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL)) {
    __asm__ volatile("dsb\n\twfi" ::: "memory");
  }
  __asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  size_t n = 0;
  /* The CMSDK UART holds one byte; QEMU refills it as soon as it is read, so drain up to cap. */
  while (n < cap && (TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL)) {
    buf[n++] = (uint8_t)TINYFLOW_MPS2_UART_DATA;
  }
  return (int)n;
}

int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    /* Bounded wait: QEMU empties the holding register at once; give up rather than hang. */
    uint32_t spins = 1000000u;
    while ((TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_TX_FULL) && spins) {
      --spins;
    }
    if (!spins) {
      return (int)i;
    }
    TINYFLOW_MPS2_UART_DATA = buf[i];
  }
  return (int)len;
}

uint32_t tinyflow_hal_ticks(void) {
  return 0xFFFFFFFFu - TINYFLOW_MPS2_TIMER_VALUE;
}

uint64_t tinyflow_hal_ticks64(void) { return tinyflow_clock_extend(&s_clock, tinyflow_hal_ticks()); }

uint32_t tinyflow_hal_ticks_per_second(void) {
  return (uint32_t)TINYFLOW_MPS2_TICKS_PER_SECOND;
}

uint32_t tinyflow_hal_stack_high_water(void) {
  return tinyflow_mps2_stack_high_water();
}

/* Written by the launcher (tinyflow/targets/sim_qemu.py) into no-init RAM before each boot. */
uint32_t tinyflow_hal_boot_count(void) { return tinyflow_mps2_boot_count; }

void tinyflow_hal_idle(void) {
  (void)tinyflow_hal_ticks64();
  /* Timer1 interrupts only while asleep, so no interrupt lands inside an inference and
   * instruction counts stay deterministic. */
  TINYFLOW_MPS2_TIMER1_RELOAD = IDLE_WAKE_TICKS;
  TINYFLOW_MPS2_TIMER1_VALUE = IDLE_WAKE_TICKS;
  TINYFLOW_MPS2_TIMER1_CTRL = 0x9u; /* enable, interrupt */
  tinyflow_mps2_wait_for_input();
  TINYFLOW_MPS2_TIMER1_CTRL = 0u;
  TINYFLOW_MPS2_TIMER1_INTCLEAR = 0x1u;
  (void)tinyflow_hal_ticks64();
}
