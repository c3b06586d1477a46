/* libFuzzer harness: arbitrary bytes into the device core (COBS framing, CRC, dispatcher,
 * chunked staging, reply encoder), linked with the fake model and a HAL that discards output.
 * Built twice by tests/test_fuzz.py: binary protocol and -DTINYFLOW_PROTOCOL_EEMBC=1.
 * The core's state persists across inputs, as on a device that never reboots. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tinyflow/device.h"
#include "tinyflow/hal.h"
#include "tinyflow/protocol.h"

static uint32_t s_ticks;
static size_t s_written;

int tinyflow_hal_init(void) { return 0; }
int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  (void)buf;
  (void)cap;
  return 0;
}
int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  size_t i;
  /* Touch every byte so ASan checks the reply buffers the core hands out. */
  for (i = 0; i < len; ++i) {
    s_written += buf[i];
  }
  return (int)len;
}
uint32_t tinyflow_hal_ticks(void) { return s_ticks += 7; }
uint32_t tinyflow_hal_ticks_per_second(void) { return 1000000u; }
uint32_t tinyflow_hal_stack_high_water(void) { return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  static uint8_t scratch[64];
  tinyflow_cobs_decoder_t d;
  size_t i;
  if (!ready) {
    (void)tinyflow_device_init();
    ready = 1;
  }
  tinyflow_device_feed(data, size);
  /* The standalone decoder on a tiny buffer: overflow and malformed paths. */
  tinyflow_cobs_decoder_init(&d, scratch, sizeof scratch);
  for (i = 0; i < size; ++i) {
    (void)tinyflow_cobs_decoder_push(&d, data[i]);
  }
  return 0;
}
