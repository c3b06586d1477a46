/* mps2_an386 firmware entry: the portable protocol core polled in a loop. The core talks to
 * the hardware only through hal.h (hal.c here) and to the model only through model.h. */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

#include "mps2.h"

int main(void) {
  if (tinyflow_hal_init() != 0) {
    return 2;
  }
  tinyflow_device_set_boot_count(tinyflow_mps2_boot_count);
  /* A model that fails to initialise is reported to the host (HELLO status, NOT_READY), so
   * keep serving the link whatever init returns. */
  (void)tinyflow_device_init();
  for (;;) {
    (void)tinyflow_device_poll();
    tinyflow_mps2_wait_for_input();
  }
}
