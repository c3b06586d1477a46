/* microbit firmware entry: the shared device loop. The core talks to the hardware only
 * through hal.h (hal.c here) and to the model only through model.h. */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

int main(void) { return tinyflow_device_run(tinyflow_hal_boot_count()); }
