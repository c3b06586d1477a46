/* The one main loop every port shares (both protocols): start, then poll and idle, bounded per
 * step by one HAL read. Ports call tinyflow_device_run() from main(), or tinyflow_device_start()
 * once and tinyflow_device_step() repeatedly where the framework owns the loop (Arduino). */
#include <stdlib.h>
#include <string.h>

#include "tinyflow/core.h"
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

/* Bytes taken from the HAL per poll: bounds the stack and the time one step can take. */
#define POLL_CHUNK_BYTES 64

int tinyflow_device_poll(void) {
  uint8_t chunk[POLL_CHUNK_BYTES];
  int n = tinyflow_hal_read(chunk, sizeof chunk);
  if (n > (int)sizeof chunk) {
    n = (int)sizeof chunk; /* a HAL that over-reports must not make the core read past chunk */
  }
  if (n > 0) {
    tinyflow_device_feed(chunk, (size_t)n);
  }
  return n;
}

int tinyflow_device_start(uint32_t boot_count) {
  if (tinyflow_hal_init() != 0) {
    return -1;
  }
  tinyflow_device_set_boot_count(boot_count);
  /* A model that fails to initialise is reported over the link (HELLO status, NOT_READY), so
   * the device keeps serving whatever init returns. */
  (void)tinyflow_device_init();
  return 0;
}

int tinyflow_device_step(void) {
  int n = tinyflow_device_poll();
  int busy;
  tinyflow_capture_pump(); /* sensor frames into the capture ring between requests (capture.c) */
  busy = tinyflow_app_step(); /* application mode: sensor windows between polls (app.c) */
  if (n == 0 && !busy) {
    tinyflow_hal_idle();
  }
  return n;
}

int tinyflow_device_run(uint32_t boot_count) {
  if (tinyflow_device_start(boot_count) != 0) {
    return 2;
  }
  /* Ends only when the HAL reports the link gone (a host port whose launcher closed stdin);
   * a board's HAL never does, so on a board this is the firmware's lifetime. */
  while (tinyflow_device_step() >= 0) {
  }
  return 0;
}

int tinyflow_device_main(int argc, char **argv, uint32_t boot_count) {
  int i;
  for (i = 1; argv != NULL && i + 1 < argc; ++i) {
    if (strcmp(argv[i], "--boot") == 0) {
      boot_count = (uint32_t)strtoul(argv[i + 1], NULL, 10);
    }
  }
  return tinyflow_device_run(boot_count);
}
