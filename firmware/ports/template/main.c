/* Copy-me port entry: the shared device loop (firmware/src/run.c). Run your vendor's clock and
 * pin set-up before it if the start-up code does not; the UART itself belongs in
 * tinyflow_hal_init() (define it in hal.c). Boards never return from tinyflow_device_run(). */
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

int main(void) { return tinyflow_device_run(tinyflow_hal_boot_count()); }
