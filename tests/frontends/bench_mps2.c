/* Bare-metal cost bench of the front ends on QEMU mps2-an386 (run by bench/frontends.py).
 * Each front end runs on SECONDS of a deterministic pseudo-random int16 signal; Timer0 (25 MHz of
 * virtual time, exact under -icount) gives the ticks. Reports over semihosting one line per front
 * end: "<name> ticks=<n> frames=<n> fnv=<hash of the output bytes>", the hash so the host can
 * check the device computed the same features as numpy. */
#include <stdint.h>

#include "mps2.h"
#include "tinyflow/frontend_imu.h"
#include "tinyflow/frontend_mfcc.h"
#include "tinyflow/frontend_micro_speech.h"

#define SECONDS 1u
#define RATE 16000u
#define IMU_RATE 100u

extern const tinyflow_micro_speech_plan_t tinyflow_micro_speech_plan;
extern const tinyflow_mfcc_plan_t tinyflow_mfcc_plan;
extern const tinyflow_imu_plan_t tinyflow_imu_plan;
void tinyflow_mps2_semihost_write(const char* text);
void tinyflow_mps2_semihost_exit(uint32_t code);

static int16_t s_audio[SECONDS * RATE];
static int16_t s_imu[SECONDS * 10u * IMU_RATE * 3u];
static uint16_t s_ms_out[64u * 64u];
static int16_t s_mfcc_out[64u * 64u];
static int32_t s_imu_out[64u * 64u];
static tinyflow_micro_speech_t s_ms;

/* Handlers the port's vector table names (its hal.c is not linked here). */
void tinyflow_mps2_uart_rx_irq(void) {}
void tinyflow_mps2_timer1_irq(void) {}

static void fill(int16_t* x, uint32_t n, uint32_t seed) {
  uint32_t s = seed;
  for (uint32_t i = 0; i < n; ++i) {
    s = s * 1103515245u + 12345u;
    x[i] = (int16_t)((int32_t)(s >> 16) - 32768) / 4;
  }
}

static uint32_t fnv(const void* data, uint32_t n) {
  const uint8_t* p = (const uint8_t*)data;
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; ++i) {
    h = (h ^ p[i]) * 16777619u;
  }
  return h;
}

static uint32_t now(void) { return TINYFLOW_MPS2_TIMER_VALUE; } /* counts down */

static void put_u32(char** out, uint32_t v) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0u && n < 10);
  while (n > 0) {
    *(*out)++ = digits[--n];
  }
}

static void report(const char* name, uint32_t ticks, uint32_t frames, uint32_t hash, int status) {
  char line[96];
  char* p = line;
  while (*name) {
    *p++ = *name++;
  }
  const char* keys[4] = {" ticks=", " frames=", " fnv=", " status="};
  const uint32_t values[4] = {ticks, frames, hash, (uint32_t)-status};
  for (int k = 0; k < 4; ++k) {
    for (const char* q = keys[k]; *q; ++q) {
      *p++ = *q;
    }
    put_u32(&p, values[k]);
  }
  *p++ = '\n';
  *p = '\0';
  tinyflow_mps2_semihost_write(line);
}

int main(void) {
  uint32_t frames = 0, t0;
  int status;
  TINYFLOW_MPS2_TIMER_CTRL = 0u;
  TINYFLOW_MPS2_TIMER_RELOAD = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_VALUE = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_CTRL = 0x1u;
  fill(s_audio, SECONDS * RATE, 1u);
  fill(s_imu, SECONDS * 10u * IMU_RATE * 3u, 2u);

  t0 = now();
  status = tinyflow_micro_speech_init(&s_ms, &tinyflow_micro_speech_plan);
  if (status == TINYFLOW_FRONTEND_OK) {
    status = tinyflow_micro_speech_run(&s_ms, s_audio, SECONDS * RATE, s_ms_out, sizeof s_ms_out / 2u, &frames);
  }
  report("micro_speech", t0 - now(), frames, fnv(s_ms_out, frames * tinyflow_micro_speech_plan.num_channels * 2u), status);

  t0 = now();
  status = tinyflow_mfcc_run(&tinyflow_mfcc_plan, s_audio, SECONDS * RATE, s_mfcc_out, sizeof s_mfcc_out / 2u, &frames);
  report("mfcc", t0 - now(), frames, fnv(s_mfcc_out, frames * tinyflow_mfcc_plan.num_mfcc * 2u), status);

  t0 = now();
  status = tinyflow_imu_run(&tinyflow_imu_plan, s_imu, SECONDS * 10u * IMU_RATE, s_imu_out, sizeof s_imu_out / 4u, &frames);
  report("imu", t0 - now(), frames, fnv(s_imu_out, frames * tinyflow_imu_features_per_window(&tinyflow_imu_plan) * 4u),
         status);
  tinyflow_mps2_semihost_exit(0u);
  return 0;
}
