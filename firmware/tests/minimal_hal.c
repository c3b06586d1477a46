/* A port that supplies only the three required HAL functions (read, write, ticks) over
 * stdin/stdout, plus a hosted main(): tests/firmware/test_port_template.py links it with the core
 * to check that the weak defaults of firmware/src/hal_defaults.c fill in the rest. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "tinyflow/device.h"
#include "tinyflow/hal.h"

int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  /* Blocking stdin: one byte at a time keeps the read bounded and never returns 0 while the
   * host is there (the default idle is a no-op, so a 0 would spin). */
  ssize_t n = read(STDIN_FILENO, buf, cap > 0 ? 1 : 0);
  if (n > 0) {
    return (int)n;
  }
  return n < 0 && errno == EINTR ? 0 : -1;
}

int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  size_t done = 0;
  int spins;
  for (spins = 0; done < len && spins < 100000; ++spins) {
    ssize_t n = write(STDOUT_FILENO, buf + done, len - done);
    if (n > 0) {
      done += (size_t)n;
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return -1;
    }
  }
  return (int)done;
}

uint32_t tinyflow_hal_ticks(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

int main(int argc, char **argv) { return tinyflow_device_main(argc, argv, tinyflow_hal_boot_count()); }
