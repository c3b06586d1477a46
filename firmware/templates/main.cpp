/* tinyflow firmware entry for $board_id ($runtime runtime): the portable protocol core polled
 * forever. The core reaches the hardware only through hal.h (the env's port library) and the
 * model only through model.h (the runtime library). */
#include "tinyflow_port.h"       /* the port library this env builds (platformio.ini lib_ignore picks it) */
#include "tinyflow_model_impl.h" /* the runtime library: $runtime */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

static int tinyflow_status = -1;

static int tinyflow_start(uint32_t boot_count) {
  if (tinyflow_hal_init() != 0) {
    return -1;
  }
  tinyflow_device_set_boot_count(boot_count);
  /* A failed model init is reported to the host in HELLO's status; keep polling. */
  (void)tinyflow_device_init();
  return 0;
}

#if !defined(TINYFLOW_NATIVE) /* a board env: the Arduino core calls setup() and loop() */
void setup() { tinyflow_status = tinyflow_start(tinyflow_port_boot_count()); }

void loop() {
  if (tinyflow_status == 0) {
    (void)tinyflow_device_poll();
  }
}
#else
#include <stdlib.h>
#include <string.h>

/* PlatformIO's `native` env: the host port speaks the protocol on stdin/stdout, like sim://host,
 * whose launcher passes `--boot N` (N + 1 at every restart). */
int main(int argc, char **argv) {
  uint32_t boot_count = tinyflow_port_boot_count();
  for (int i = 1; i + 1 < argc; ++i) {
    if (strcmp(argv[i], "--boot") == 0) {
      boot_count = (uint32_t)strtoul(argv[i + 1], NULL, 10);
    }
  }
  tinyflow_status = tinyflow_start(boot_count);
  if (tinyflow_status != 0) {
    return 2;
  }
  for (;;) {
    int n = tinyflow_device_poll();
    if (n < 0) {
      return 0; /* the host closed the link */
    }
    if (n == 0) {
      tinyflow_port_idle();
    }
  }
}
#endif
