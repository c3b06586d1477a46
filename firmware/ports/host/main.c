/* Host port entry: `tinyflow-host [--boot N]`. Speaks the protocol on stdin/stdout until the
 * host closes the link. The boot counter comes from the launcher, which adds 1 per restart. */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

int main(int argc, char **argv) { return tinyflow_device_main(argc, argv, tinyflow_hal_boot_count()); }
