/* Weak defaults for the optional half of hal.h, so a new port implements only read, write and
 * ticks. A port overrides any of them by defining the function (a strong symbol wins at link
 * time with gcc, clang and arm-none-eabi-gcc). Keep overrides in the same file as the port's
 * tinyflow_hal_read: a file in a static library is linked only when it resolves a symbol that
 * is still missing, and these defaults would leave nothing missing. */
#include "tinyflow/clock.h"
#include "tinyflow/hal.h"

#define TINYFLOW_WEAK __attribute__((weak))

TINYFLOW_WEAK int tinyflow_hal_init(void) { return 0; }

/* Microseconds: what most ports' tick source (micros(), a 1 MHz timer) counts. */
TINYFLOW_WEAK uint32_t tinyflow_hal_ticks_per_second(void) { return 1000000u; }

TINYFLOW_WEAK uint64_t tinyflow_hal_ticks64(void) {
  static tinyflow_clock_t clock;
  return tinyflow_clock_extend(&clock, tinyflow_hal_ticks());
}

TINYFLOW_WEAK uint32_t tinyflow_hal_stack_high_water(void) { return 0u; }

TINYFLOW_WEAK uint32_t tinyflow_hal_boot_count(void) { return 0u; }

TINYFLOW_WEAK void tinyflow_hal_idle(void) {}

TINYFLOW_WEAK int tinyflow_hal_sensor_open(uint32_t rate_hz, uint8_t channels, tinyflow_sensor_info_t *info) {
  (void)rate_hz;
  (void)channels;
  (void)info;
  return TINYFLOW_SENSOR_ENONE;
}

TINYFLOW_WEAK int tinyflow_hal_sensor_read(int16_t *buf, uint32_t max_frames, uint64_t *ticks64) {
  (void)buf;
  (void)max_frames;
  (void)ticks64;
  return TINYFLOW_SENSOR_ENOTOPEN;
}

TINYFLOW_WEAK uint32_t tinyflow_hal_sensor_dropped(void) { return 0u; }

TINYFLOW_WEAK void tinyflow_hal_sensor_close(void) {}
