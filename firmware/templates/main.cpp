/* tinyflow firmware entry for $board_id ($runtime runtime): the shared device loop of the
 * portable core (tinyflow/device.h). The core reaches the hardware only through hal.h (the env's
 * port library) and the model only through model.h (the runtime library).
 * A project generated with --mode app (TINYFLOW_APP_AUTOSTART) runs the same loop: each step also
 * reads the sensor and classifies its windows (tinyflow/app.h), calling tinyflow_on_prediction()
 * in src/on_prediction.c, the application's own file.
 * Both branches call tinyflow_hal_boot_count(), which each port library defines in its hal
 * file: that reference makes the linker take the port's HAL from its library archive whatever
 * order PlatformIO links the libraries in. */
#include "tinyflow_port_impl.h"  /* the port library this env builds (platformio.ini lib_ignore picks it) */
#include "tinyflow_model_impl.h" /* the runtime library: $runtime */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

#if !defined(TINYFLOW_NATIVE) /* a board env: the Arduino core calls setup() and loop() */
static int tinyflow_started = 0;

void setup() { tinyflow_started = tinyflow_device_start(tinyflow_hal_boot_count()) == 0; }

void loop() {
  if (tinyflow_started) {
    (void)tinyflow_device_step();
  }
}
#else
/* PlatformIO's `native` env: the host port speaks the protocol on stdin/stdout, like sim://host,
 * whose launcher passes `--boot N` (N + 1 at every restart). */
int main(int argc, char **argv) { return tinyflow_device_main(argc, argv, tinyflow_hal_boot_count()); }
#endif
