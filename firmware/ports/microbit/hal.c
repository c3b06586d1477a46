/* microbit (nRF51822, Cortex-M0) implementation of hal.h: UART0 polled (QEMU puts it on a TCP
 * socket), TIMER0 as the free-running 32-bit tick counter at 16 MHz, and the painted-stack
 * high-water mark. TIMER0 counts with no interrupt, so no interrupt lands inside an inference
 * and instruction counts stay deterministic under -icount (see mps2_an386/hal.c). */
#include "tinyflow/clock.h"
#include "tinyflow/hal.h"

#include "microbit.h"

/* TIMER0 wraps every 2^32 / 16 MHz = 268 s of emulated time; the core reads it after every
 * inference, so the 64-bit count is exact unless the board idles a whole wrap with no request. */
static tinyflow_clock_t s_clock;

/* The rate the host divides ticks by (targets/machines/qemu_m0.py; see docs/qemu.md). */
#ifndef TINYFLOW_MPS2_TICKS_PER_SECOND
#define TINYFLOW_MPS2_TICKS_PER_SECOND TINYFLOW_NRF_TIMER_HZ
#endif

int tinyflow_hal_init(void) {
  TINYFLOW_NRF_UART_ENABLE = 4u;
  TINYFLOW_NRF_UART_RXDRDY = 0u;
  TINYFLOW_NRF_UART_TXDRDY = 0u;
  TINYFLOW_NRF_UART_STARTRX = 1u;
  TINYFLOW_NRF_UART_STARTTX = 1u;
  TINYFLOW_NRF_NVIC_ISER = 1u << TINYFLOW_NRF_UART_IRQ;
  TINYFLOW_NRF_TIMER_MODE = 0u;     /* timer, not counter */
  TINYFLOW_NRF_TIMER_BITMODE = 3u;  /* 32 bit */
  TINYFLOW_NRF_TIMER_PRESCALER = 0u; /* 16 MHz */
  TINYFLOW_NRF_TIMER_CLEAR = 1u;
  TINYFLOW_NRF_TIMER_START = 1u;
  return 0;
}

void tinyflow_microbit_uart_irq(void) {
  /* Only there to end WFI: the event stays set for hal_read, so the interrupt is disabled
   * here (a level interrupt would fire again at once) and re-armed before the next WFI. */
  TINYFLOW_NRF_UART_INTENCLR = TINYFLOW_NRF_UART_INT_RXDRDY;
}

void tinyflow_microbit_wait_for_input(void) {
  /* Masked: a byte landing between the check and WFI leaves the interrupt pending, which
   * ends WFI: no lost wake-up. */
  __asm__ volatile("cpsid i" ::: "memory");
  if (!TINYFLOW_NRF_UART_RXDRDY) {
    TINYFLOW_NRF_UART_INTENSET = TINYFLOW_NRF_UART_INT_RXDRDY;
    __asm__ volatile("dsb\n\twfi" ::: "memory");
  }
  __asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  size_t n = 0;
  /* Clear the event before reading RXD: QEMU sets it again while its FIFO holds more. */
  while (n < cap && TINYFLOW_NRF_UART_RXDRDY) {
    TINYFLOW_NRF_UART_RXDRDY = 0u;
    buf[n++] = (uint8_t)TINYFLOW_NRF_UART_RXD;
  }
  return (int)n;
}

int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    TINYFLOW_NRF_UART_TXDRDY = 0u;
    TINYFLOW_NRF_UART_TXD = buf[i];
    uint32_t spins = 1000000u; /* bounded: give up rather than hang */
    while (!TINYFLOW_NRF_UART_TXDRDY && spins) {
      --spins;
    }
    if (!spins) {
      return (int)i;
    }
  }
  return (int)len;
}

uint32_t tinyflow_hal_ticks(void) {
  TINYFLOW_NRF_TIMER_CAPTURE0 = 1u;
  return TINYFLOW_NRF_TIMER_CC0;
}

uint64_t tinyflow_hal_ticks64(void) { return tinyflow_clock_extend(&s_clock, tinyflow_hal_ticks()); }

uint32_t tinyflow_hal_ticks_per_second(void) { return (uint32_t)TINYFLOW_MPS2_TICKS_PER_SECOND; }

uint32_t tinyflow_hal_stack_high_water(void) { return tinyflow_microbit_stack_high_water(); }

/* Written by the launcher (targets/machines/qemu.py: -device loader) before each boot. */
uint32_t tinyflow_hal_boot_count(void) { return tinyflow_microbit_boot_count; }

void tinyflow_hal_idle(void) {
  (void)tinyflow_hal_ticks64();
  tinyflow_microbit_wait_for_input();
  (void)tinyflow_hal_ticks64();
}
