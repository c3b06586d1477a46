/* tinyflow firmware entry for $board_id ($runtime runtime): the portable protocol core polled
 * forever. The core reaches the hardware only through hal.h (the env's port library) and the
 * model only through model.h (the runtime library). */
#include "tinyflow_port.h"       /* the port library this env builds (platformio.ini lib_ignore picks it) */
#include "tinyflow_model_impl.h" /* the runtime library: $runtime */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

static int tinyflow_status = -1;

static int tinyflow_start(void) {
  if (tinyflow_hal_init() != 0) {
    return -1;
  }
  tinyflow_device_set_boot_count(tinyflow_port_boot_count());
  /* A failed model init is reported to the host in HELLO's status; keep polling. */
  (void)tinyflow_device_init();
  return 0;
}

#if defined(ARDUINO)
void setup() { tinyflow_status = tinyflow_start(); }

void loop() {
  if (tinyflow_status == 0) {
    (void)tinyflow_device_poll();
  }
}
#else
/* PlatformIO's `native` env: the host port speaks the protocol on stdin/stdout, like sim://host. */
int main(void) {
  tinyflow_status = tinyflow_start();
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
