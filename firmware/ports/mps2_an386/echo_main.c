/* Port self-test firmware (no protocol core, no model): echoes UART bytes back, and answers
 * a few one-byte commands so tests can check ticks, faults and exit codes on QEMU.
 *   't' -> 4 bytes: ticks spent in a fixed 10,000-iteration loop (little-endian)
 *   'a' / 'b' -> 4 bytes: ticks spent in a 2-instruction assembly loop run 1,000 / 5,000 times
 *                (the difference is exactly 8,000 instructions: checks tick -> instruction)
 *   's' -> 4 bytes: stack high-water mark in bytes
 *   'n' -> 4 bytes: the boot count the host launcher wrote
 *   'f' -> HardFault (undefined instruction)
 *   'x' -> semihosting exit with code 3
 *   anything else is echoed. */
#include <stdint.h>

#include "mps2.h"
#include "tinyflow/hal.h"

static void put_u32(uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  (void)tinyflow_hal_write(b, 4);
}

static uint32_t timed_loop(void) {
  volatile uint32_t acc = 0;
  uint32_t t0 = tinyflow_hal_ticks();
  for (uint32_t i = 0; i < 10000u; ++i) {
    acc += i;
  }
  return tinyflow_hal_ticks() - t0;
}

__attribute__((noinline)) static uint32_t asm_loop(uint32_t n) {
  uint32_t t0 = tinyflow_hal_ticks();
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
  return tinyflow_hal_ticks() - t0;
}

int main(void) {
  if (tinyflow_hal_init() != 0) {
    return 1;
  }
  (void)tinyflow_hal_write((const uint8_t *)"ready\n", 6);
  for (;;) {
    uint8_t c;
    if (tinyflow_hal_read(&c, 1) != 1) {
      tinyflow_mps2_wait_for_input();
      continue;
    }
    if (c == 't') {
      put_u32(timed_loop());
    } else if (c == 'a') {
      put_u32(asm_loop(1000u));
    } else if (c == 'b') {
      put_u32(asm_loop(5000u));
    } else if (c == 'n') {
      put_u32(tinyflow_mps2_boot_count);
    } else if (c == 's') {
      put_u32(tinyflow_hal_stack_high_water());
    } else if (c == 'f') {
      __asm__ volatile("udf #0");
    } else if (c == 'x') {
      return 3;
    } else {
      (void)tinyflow_hal_write(&c, 1);
    }
  }
}
