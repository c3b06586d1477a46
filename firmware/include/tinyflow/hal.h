/* tinyflow board contract: the whole of what a port supplies to the portable core.
 * One folder per port under firmware/ports/ implements these functions; nothing else in the
 * core touches hardware. Start a new port from firmware/ports/template/.
 *
 * Required: tinyflow_hal_read, tinyflow_hal_write, tinyflow_hal_ticks.
 * Optional: the rest have weak defaults in firmware/src/hal_defaults.c (noted below); define
 * one to override it, in the same file as tinyflow_hal_read (see hal_defaults.c for why). */
#ifndef TINYFLOW_HAL_H
#define TINYFLOW_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bring up the serial link and the tick timer. Returns 0 on success, negative on failure.
 * Default: nothing to do, returns 0. */
int tinyflow_hal_init(void);

/* Read up to `cap` bytes that have already arrived; never blocks. Returns the count read
 * (0 when nothing is pending) or a negative value when the link is gone. Required. */
int tinyflow_hal_read(uint8_t *buf, size_t cap);

/* Write `len` bytes (may wait for the UART/USB FIFO, never for the host). Returns the count
 * written or a negative value on error. Required. */
int tinyflow_hal_write(const uint8_t *buf, size_t len);

/* A free-running 32-bit tick counter (wraps) and its rate. Latencies are differences.
 * tinyflow_hal_ticks is required; the rate defaults to 1000000 (ticks are microseconds). */
uint32_t tinyflow_hal_ticks(void);
uint32_t tinyflow_hal_ticks_per_second(void);

/* The same ticks counted in 64 bits, so absolute timestamps do not wrap (the MLPerf Tiny
 * runner's m-lap-us; a 32-bit count at 72 MHz wraps every minute). Default: the 32-bit ticks
 * extended in software (tinyflow/clock.h), exact while it is read at least once per wrap
 * period of tinyflow_hal_ticks(): the EEMBC core reads it after every inference. A port with a
 * wider source (clock_gettime, a chained timer) returns that instead. */
uint64_t tinyflow_hal_ticks64(void);

/* Deepest stack use seen so far in bytes (painted stack), or 0 when the port cannot tell.
 * Default: 0. */
uint32_t tinyflow_hal_stack_high_water(void);

/* The boot counter reported in HELLO/BOOT/INFER: +1 per boot (a word in no-init RAM, or what
 * the launcher passes), so the host can tell the device reset. Default: 0 (not counted; the
 * host still sees the BOOT frame). */
uint32_t tinyflow_hal_boot_count(void);

/* Called by tinyflow_device_step() when a poll found no input: sleep until the next byte may
 * have arrived (WFI until the UART interrupt, poll() on a file descriptor), or return at once.
 * Must return within a bounded time. Default: returns at once. */
void tinyflow_hal_idle(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_HAL_H */
