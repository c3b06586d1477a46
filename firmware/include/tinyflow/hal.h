/* tinyflow board contract: the whole of what a port supplies to the portable core.
 * One folder per port under firmware/ports/ implements these functions; nothing else in the
 * core touches hardware. Copy firmware/ports/host/ to start a new port. */
#ifndef TINYFLOW_HAL_H
#define TINYFLOW_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bring up the serial link and the tick timer. Returns 0 on success, negative on failure. */
int tinyflow_hal_init(void);

/* Read up to `cap` bytes that have already arrived; never blocks. Returns the count read
 * (0 when nothing is pending) or a negative value when the link is gone. */
int tinyflow_hal_read(uint8_t *buf, size_t cap);

/* Write `len` bytes (may wait for the UART/USB FIFO, never for the host). Returns the count
 * written or a negative value on error. */
int tinyflow_hal_write(const uint8_t *buf, size_t len);

/* A free-running 32-bit tick counter (wraps) and its rate. Latencies are differences. */
uint32_t tinyflow_hal_ticks(void);
uint32_t tinyflow_hal_ticks_per_second(void);

/* Deepest stack use seen so far in bytes (painted stack), or 0 when the port cannot tell. */
uint32_t tinyflow_hal_stack_high_water(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_HAL_H */
