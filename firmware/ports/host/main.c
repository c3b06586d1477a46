/* Host port entry: `tinyflow-host [--boot N] [--sensor PATH [--sensor-pace realtime|fast]]`.
 * Speaks the protocol on stdin/stdout until the host closes the link. The boot counter comes
 * from the launcher, which adds 1 per restart; --sensor plays a file as the sensor (played.c). */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

void tinyflow_host_sensor_args(int argc, char **argv);

int main(int argc, char **argv) {
  tinyflow_host_sensor_args(argc, argv);
  return tinyflow_device_main(argc, argv, tinyflow_hal_boot_count());
}
