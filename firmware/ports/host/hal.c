/* Host (POSIX) port of hal.h: the link is stdin/stdout (a pseudo-terminal or pipes set up by
 * tinyflow/targets/sim_host.py, or a generated project's `native` env), ticks are
 * CLOCK_MONOTONIC microseconds (the default rate), 64-bit in tinyflow_hal_ticks64(). Stack high water: the default (unknown).
 * The sensor: a played file named on the command line (played.c). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
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

uint32_t tinyflow_hal_ticks(void) { return (uint32_t)tinyflow_hal_ticks64(); }

/* CLOCK_MONOTONIC is already 64-bit: no software extension needed. */
uint64_t tinyflow_hal_ticks64(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* $TINYFLOW_BOOT_COUNT, else 1; a launcher that restarts the process passes `--boot N`
 * instead (tinyflow_device_main() reads it), adding 1 per restart. */
uint32_t tinyflow_hal_boot_count(void) {
  const char *text = getenv("TINYFLOW_BOOT_COUNT");
  return text != NULL ? (uint32_t)strtoul(text, NULL, 10) : 1u;
}

void tinyflow_hal_idle(void) {
  /* Sleep until input arrives or 100 ms pass instead of spinning (the machine is shared). */
  struct pollfd p;
  p.fd = STDIN_FILENO;
  p.events = POLLIN;
  p.revents = 0;
  (void)poll(&p, 1, 100);
}
