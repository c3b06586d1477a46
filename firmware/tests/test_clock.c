/* Host unit test of the 64-bit clock (tinyflow/clock.h) and the weak default
 * tinyflow_hal_ticks64() of hal_defaults.c, linked with a fake 32-bit tick source that
 * advances by a settable step. Built and run by tests/mlperf/test_clock.py; prints one line per
 * failed check and exits 1 if any failed. */
#include <stdio.h>

#include "tinyflow/clock.h"
#include "tinyflow/hal.h"

static uint64_t s_true_ticks; /* what a 64-bit counter would read */
static uint64_t s_step;
static int s_failures;

uint32_t tinyflow_hal_ticks(void) {
  s_true_ticks += s_step;
  return (uint32_t)s_true_ticks;
}
int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  (void)buf;
  (void)cap;
  return 0;
}
int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  (void)buf;
  return (int)len;
}

static void expect(int ok, const char *what, unsigned long long got, unsigned long long want) {
  if (!ok) {
    printf("FAIL %s: got %llu, want %llu\n", what, got, want);
    ++s_failures;
  }
}

/* A 72.4 MHz tick (sim://qemu-m4's reported rate) read once per ~1 s inference for 3 hours:
 * the 32-bit count wraps every 59.3 s, the 64-bit one must not. */
static void extended_default_follows_a_long_run(void) {
  const uint32_t rate = 72400000u;
  uint64_t last = 0;
  int i;
  s_true_ticks = 0;
  s_step = rate;
  for (i = 0; i < 3 * 3600; ++i) {
    uint64_t now = tinyflow_hal_ticks64();
    expect(now == s_true_ticks, "ticks64 equals the true count", now, s_true_ticks);
    expect(now > last, "ticks64 increases", now, last);
    last = now;
  }
  expect(tinyflow_clock_micros(last, rate) == 10800000000ull, "3 h of ticks in us", tinyflow_clock_micros(last, rate),
         10800000000ull);
}

static void extend_counts_each_wrap_once(void) {
  tinyflow_clock_t c = {0, 0};
  expect(tinyflow_clock_extend(&c, 0xFFFFFFF0u) == 0xFFFFFFF0ull, "before the wrap", 0, 0);
  expect(tinyflow_clock_extend(&c, 0x10u) == 0x100000010ull, "after one wrap", tinyflow_clock_extend(&c, 0x10u),
         0x100000010ull);
  expect(tinyflow_clock_extend(&c, 0x10u) == 0x100000010ull, "same reading, no new wrap", 0, 0);
  expect(tinyflow_clock_extend(&c, 0x0Fu) == 0x20000000Full, "a smaller reading is a wrap", 0, 0);
}

static void micros_do_not_overflow(void) {
  /* ticks * 1000000 would overflow 64 bits above 1.8e13 ticks; the split form must not. */
  uint64_t ticks = 0xFFFFFFFFFFFFull; /* 2.8e14 ticks */
  uint64_t us = tinyflow_clock_micros(ticks, 25000000u);
  expect(us == 11258999068426ull, "2^48 ticks at 25 MHz", us, 11258999068426ull);
  expect(tinyflow_clock_micros(1000000u, 1000000u) == 1000000u, "identity at 1 MHz", 0, 0);
  expect(tinyflow_clock_micros(123u, 0u) == 0u, "rate 0", 0, 0);
  expect(tinyflow_clock_micros((uint64_t)1 << 63, 1000000u) == (uint64_t)1 << 63, "2^63 us at 1 MHz", 0, 0);
}

int main(void) {
  extend_counts_each_wrap_once();
  micros_do_not_overflow();
  extended_default_follows_a_long_run();
  printf("%s\n", s_failures == 0 ? "ok" : "failed");
  return s_failures == 0 ? 0 : 1;
}
