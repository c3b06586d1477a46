/* mps2_an386 firmware entry: the portable protocol core polled in a loop. The core talks to
 * the hardware only through hal.h (hal.c here) and to the model only through model.h. */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

int main(void) {
  if (tinyflow_hal_init() != 0) {
    return 2;
  }
  if (tinyflow_device_init() != 0) {
    return 3;
  }
  for (;;) {
    (void)tinyflow_device_poll();
  }
}
