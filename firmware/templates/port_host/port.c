/* Host port extras for the PlatformIO `native` env: boot counter and idle wait. hal.c beside it
 * is the host port of firmware/ports/host (stdin/stdout, CLOCK_MONOTONIC). */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "tinyflow_port.h"

uint32_t tinyflow_port_boot_count(void) {
  const char *text = getenv("TINYFLOW_BOOT_COUNT");
  return text != NULL ? (uint32_t)strtoul(text, NULL, 10) : 1u;
}

void tinyflow_port_idle(void) {
  struct pollfd p;
  p.fd = STDIN_FILENO;
  p.events = POLLIN;
  p.revents = 0;
  (void)poll(&p, 1, 100);
}
