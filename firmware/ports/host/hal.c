/* Host (POSIX) port of hal.h: the link is stdin/stdout (a pseudo-terminal or pipes set up by
 * tinyflow/targets/sim_host.py), ticks are CLOCK_MONOTONIC microseconds. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "tinyflow/hal.h"

int tinyflow_hal_init(void) {
  int flags = fcntl(STDIN_FILENO, F_GETFL, 0);
  if (flags < 0 || fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK) < 0) {
    return -1;
  }
  return 0;
}

int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  ssize_t n = read(STDIN_FILENO, buf, cap);
  if (n > 0) {
    return (int)n;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return 0;
  }
  return -1; /* end of file or a real error: the host closed the link */
}

int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  size_t done = 0;
  int spins;
  /* stdout is blocking; EINTR/EAGAIN are retried a bounded number of times. */
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

uint32_t tinyflow_hal_ticks_per_second(void) { return 1000000u; }

uint32_t tinyflow_hal_stack_high_water(void) { return 0; }
