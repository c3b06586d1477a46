/* tinyflow 64-bit clock helpers: extend a wrapping 32-bit tick counter to 64 bits, and turn
 * 64-bit ticks into microseconds without overflow. Header-only (static inline) so a port's HAL
 * and the host unit test (firmware/tests/test_clock.c) use the same arithmetic. */
#ifndef TINYFLOW_CLOCK_H
#define TINYFLOW_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* State of one extended counter: the last 32-bit reading and the wraps seen (upper word). */
typedef struct {
  uint32_t last;
  uint64_t high;
} tinyflow_clock_t;

/* The 64-bit count for a new 32-bit reading `now`. Exact as long as it is called at least
 * once per wrap period of the 32-bit counter: a reading below the previous one is one wrap. */
static inline uint64_t tinyflow_clock_extend(tinyflow_clock_t *clock, uint32_t now) {
  if (now < clock->last) {
    clock->high += (uint64_t)1 << 32;
  }
  clock->last = now;
  return clock->high | (uint64_t)now;
}

/* Microseconds in `ticks` at `ticks_per_second` (0 when the rate is 0). Split in whole seconds
 * and a remainder so that ticks * 1000000 never overflows 64 bits. */
static inline uint64_t tinyflow_clock_micros(uint64_t ticks, uint32_t ticks_per_second) {
  if (ticks_per_second == 0u) {
    return 0u;
  }
  return (ticks / ticks_per_second) * 1000000u + ((ticks % ticks_per_second) * 1000000u) / ticks_per_second;
}

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_CLOCK_H */
