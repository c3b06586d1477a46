/* Copy-me port: copy this folder to firmware/ports/<board>/ and replace each TODO. It compiles
 * and links as is (tests/firmware/test_port_template.py builds it with the core and the fake
 * model), so a new port starts from a build that works and fills in one function at a time.
 *
 * The contract is firmware/include/tinyflow/hal.h. Only the three functions below are
 * required; tinyflow_hal_init, tinyflow_hal_ticks_per_second (default 1000000),
 * tinyflow_hal_ticks64 (default: tinyflow_hal_ticks extended in software),
 * tinyflow_hal_stack_high_water (default 0), tinyflow_hal_boot_count (default 0) and
 * tinyflow_hal_idle (default: return at once) have weak defaults in firmware/src/hal_defaults.c.
 * To override one, define it in this file (next to tinyflow_hal_read): a file in a static
 * library is linked only when it supplies a symbol that is still missing. */
#include "tinyflow/hal.h"

/* TODO: replace with your tick source; see tinyflow_hal_ticks(). */
static uint32_t s_fake_ticks;

/* TODO: return the bytes that have already arrived on the link, at most `cap`, without waiting:
 * copy them from the UART data register while its "receive full" flag is set, or from the ring
 * buffer your UART/USB receive interrupt fills. Return how many were copied (0 when none), or
 * -1 when the link is gone for good (only a host process whose stdin closed does that; on a
 * board, return 0). If the UART FIFO is small, fill a ring in the receive interrupt and set
 * TINYFLOW_RX_QUEUE_BYTES to its size: the host keeps that many bytes in flight. */
int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  (void)buf;
  (void)cap;
  return 0; /* TODO: nothing is ever received until this is written */
}

/* TODO: send `len` bytes and return `len` (or -1 on a hardware error). It may wait for room in
 * the UART/USB FIFO, with a bounded number of spins, but never for the host: on USB CDC with no
 * host attached, drop the bytes and return `len`. */
int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  (void)buf;
  return (int)len; /* TODO: the bytes are discarded until this is written */
}

/* TODO: return a free-running 32-bit counter that wraps (a 1 MHz timer, micros(), or the cycle
 * counter DWT->CYCCNT). If it does not count microseconds, also define
 * tinyflow_hal_ticks_per_second() here returning its rate. Latencies are differences of two
 * readings, so the counter must not stop or reset while the device runs. */
uint32_t tinyflow_hal_ticks(void) {
  return ++s_fake_ticks; /* TODO: counts calls, not time */
}

/* Optional: tinyflow_hal_ticks64(), the same ticks in 64 bits (MLPerf Tiny timestamps). The
 * default extends tinyflow_hal_ticks() in software and is exact while something reads it at
 * least once per wrap of your counter (the EEMBC core does after every inference; read it in
 * tinyflow_hal_idle() too if the device may sleep longer than a wrap). If you have a 64-bit
 * source (a chained timer, an RTOS tick count), return it from a tinyflow_hal_ticks64() here. */
