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


/* ---- Sensors (optional; docs/protocol.md "Capture", docs/data.md). Defaults: no sensor. ----
 * A sensor delivers frames: one int16 per channel, interleaved (audio: 1 channel; IMU: ax, ay,
 * az[, gx, gy, gz]; ADC: one per input). Hosted and emulated ports play a file instead
 * (a "played sensor", see tinyflow/targets/played.py for the file format). */
enum {
  TINYFLOW_SENSOR_NONE = 0,
  TINYFLOW_SENSOR_AUDIO = 1,
  TINYFLOW_SENSOR_IMU = 2,
  TINYFLOW_SENSOR_ADC = 3
};

enum {
  TINYFLOW_SENSOR_ENONE = -1,        /* the port has no sensor (or none was given to play) */
  TINYFLOW_SENSOR_EUNSUPPORTED = -2, /* that rate / channel count is not available */
  TINYFLOW_SENSOR_EIO = -3,          /* the hardware (or the played file) failed */
  TINYFLOW_SENSOR_ENDED = -4,        /* a played stream has no more frames */
  TINYFLOW_SENSOR_ENOTOPEN = -5
};

typedef struct {
  uint8_t kind;      /* TINYFLOW_SENSOR_* */
  uint8_t channels;  /* int16 values per frame */
  uint32_t rate_hz;  /* frames per second */
} tinyflow_sensor_info_t;

/* Open (or reopen: the stream restarts) the sensor at `rate_hz` with `channels` channels; 0 for
 * either means the sensor's own. Fills *info with what was opened. Returns 0 or a negative
 * TINYFLOW_SENSOR_E*. Default: TINYFLOW_SENSOR_ENONE. */
int tinyflow_hal_sensor_open(uint32_t rate_hz, uint8_t channels, tinyflow_sensor_info_t *info);

/* Copy up to `max_frames` frames that have already been sampled into buf (max_frames x
 * channels int16); never blocks. *ticks64 receives the tinyflow_hal_ticks64() time at which
 * the first returned frame was sampled. Returns the frames copied (0 when none is ready) or a
 * negative TINYFLOW_SENSOR_E* (ENDED when a played stream is exhausted). Default: ENOTOPEN. */
int tinyflow_hal_sensor_read(int16_t *buf, uint32_t max_frames, uint64_t *ticks64);

/* Frames the port had to drop since open because nobody read them in time (0 when it cannot
 * drop: a played file waits for its reader). Default: 0. */
uint32_t tinyflow_hal_sensor_dropped(void);

/* Stop sampling. Default: nothing. */
void tinyflow_hal_sensor_close(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_HAL_H */
