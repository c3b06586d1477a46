/* mps3_an547 (Cortex-M55, SSE-300) implementation of hal.h. The UART is the mps2 family's
 * CMSDK UART0 (mps2.h, its address set by tinyflow/build/arm_targets.py), and start-up and semihosting
 * are the mps2_an386 port's files, and so is the memory link for input (ring.h: a ring in the
 * 2 GiB DDR the host shares with QEMU); only the tick source differs: the SSE-300 has no CMSDK
 * timers, so ticks come from the FPGA I/O block's free-running COUNTER (20 MHz under QEMU 7.2, as
 * tests/targets/test_qemu_cores.py measures).
 * It needs no interrupt, so no interrupt lands inside an inference and instruction counts stay
 * deterministic under -icount. */
#include "tinyflow/clock.h"
#include "tinyflow/hal.h"

#include "mps2.h"
#include "ring.h"

/* FPGA I/O block (secure alias): COUNTER increments every PRESCALE + 1 APB clocks. */
#define FPGAIO 0x59302000u
#define FPGAIO_COUNTER TINYFLOW_MPS2_REG(FPGAIO + 0x18u)
#define FPGAIO_PRESCALE TINYFLOW_MPS2_REG(FPGAIO + 0x1Cu)

/* COUNTER wraps every 2^32 / 20 MHz = 215 s of emulated time; the core reads it after every
 * inference, so the 64-bit count is exact unless the board idles a whole wrap with no request
 * (no timer is left to wake it, unlike mps2_an386's Timer1). */
static tinyflow_clock_t s_clock;

uint32_t tinyflow_mps2_stack_high_water(void);

#ifndef TINYFLOW_MPS2_TICKS_PER_SECOND
#define TINYFLOW_MPS2_TICKS_PER_SECOND TINYFLOW_MPS2_PCLK_HZ
#endif

/* `--link-ring ADDR` on the semihosting command line: take input from guest memory. */
static void attach_link(void) {
  char cmdline[128];
  if (tinyflow_mps2_semihost_cmdline(cmdline, sizeof cmdline) == 0) {
    cmdline[sizeof cmdline - 1] = '\0';
    (void)tinyflow_mps2_ring_attach_cmdline(cmdline);
  }
}

int tinyflow_hal_init(void) {
  TINYFLOW_MPS2_UART_BAUDDIV = 16u; /* the smallest divider the CMSDK UART accepts */
  TINYFLOW_MPS2_UART_CTRL = 0x3u | 0x8u; /* TX and RX enabled; RX interrupt (wakes WFI) */
  /* A read of DATA makes QEMU poll the socket again (see mps2_an386/hal.c). */
  (void)TINYFLOW_MPS2_UART_DATA;
  TINYFLOW_MPS2_UART_INTCLEAR = 0x2u;
  /* The RX interrupt is enabled only while waiting (see mps2_an386/hal.c). */
  FPGAIO_PRESCALE = 0u;
  attach_link();
  return 0;
}

void tinyflow_mps2_uart_rx_irq(void) {
  /* Only there to wake the core from WFI: the data stays in the UART for hal_read. */
  TINYFLOW_MPS2_UART_INTCLEAR = 0x2u;
}

void tinyflow_mps2_wait_for_input(void) {
  /* Masked: a byte landing between the check and WFI leaves its interrupt pending, which
   * ends WFI: no lost wake-up. */
  __asm__ volatile("cpsid i" ::: "memory");
  TINYFLOW_MPS2_NVIC_ENABLE(TINYFLOW_MPS2_UART_RX_IRQ);
  if (!(TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL) && tinyflow_mps2_ring_pending() == 0u) {
    __asm__ volatile("dsb\n\twfi" ::: "memory");
  }
  __asm__ volatile("cpsie i\n\tisb" ::: "memory");
  TINYFLOW_MPS2_NVIC_DISABLE(TINYFLOW_MPS2_UART_RX_IRQ);
}

int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  size_t n = 0;
  if (tinyflow_mps2_ring_attached()) {
    for (n = 0; n < cap && (TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL); ++n) {
      (void)TINYFLOW_MPS2_UART_DATA; /* doorbells (see mps2_an386/hal.c) */
    }
    return (int)tinyflow_mps2_ring_read(buf, cap);
  }
  while (n < cap && (TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL)) {
    buf[n++] = (uint8_t)TINYFLOW_MPS2_UART_DATA;
  }
  return (int)n;
}

int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    uint32_t spins = 1000000u; /* bounded: give up rather than hang */
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

uint32_t tinyflow_hal_ticks(void) { return FPGAIO_COUNTER; }

uint64_t tinyflow_hal_ticks64(void) { return tinyflow_clock_extend(&s_clock, tinyflow_hal_ticks()); }

uint32_t tinyflow_hal_ticks_per_second(void) { return (uint32_t)TINYFLOW_MPS2_TICKS_PER_SECOND; }

uint32_t tinyflow_hal_stack_high_water(void) { return tinyflow_mps2_stack_high_water(); }

uint32_t tinyflow_hal_boot_count(void) { return tinyflow_mps2_boot_count; }

void tinyflow_hal_idle(void) {
  (void)tinyflow_hal_ticks64();
  tinyflow_mps2_wait_for_input();
  (void)tinyflow_hal_ticks64();
}
