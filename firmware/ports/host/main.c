/* Host port entry: `tinyflow-host [--boot N]`. Speaks the protocol on stdin/stdout until the
 * host closes the link. The boot counter comes from the launcher, which adds 1 per restart. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tinyflow/device.h"
#include "tinyflow/hal.h"

int main(int argc, char **argv) {
  int i;
  for (i = 1; i + 1 < argc; ++i) {
    if (strcmp(argv[i], "--boot") == 0) {
      tinyflow_device_set_boot_count((uint32_t)strtoul(argv[i + 1], NULL, 10));
    }
  }
  if (tinyflow_hal_init() != 0) {
    return 2;
  }
  (void)tinyflow_device_init(); /* a failed model init is reported over the link (NOT_READY) */
  for (;;) {
    int n = tinyflow_device_poll();
    if (n < 0) {
      return 0;
    }
    if (n == 0) {
      /* Idle: sleep in poll() instead of spinning (the machine is shared). */
      struct pollfd p;
      p.fd = STDIN_FILENO;
      p.events = POLLIN;
      p.revents = 0;
      (void)poll(&p, 1, 100);
    }
  }
}
