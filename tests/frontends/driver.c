/* Test driver for the front end C twins: one signal on stdin, the features on stdout.
 * stdin:  uint32 count, then count int16 samples (host byte order).
 * stdout: uint32 frames (or windows), then the front end's output (see each mode).
 * Exit code 0, or minus the front end's status. Built with one WITH_<MODE> define. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_SAMPLES (1u << 20)
#define MAX_OUT (1u << 20)

static int16_t s_in[MAX_SAMPLES];

#ifdef WITH_MICRO_SPEECH
#include "tinyflow/frontend_micro_speech.h"
extern const tinyflow_micro_speech_plan_t tinyflow_micro_speech_plan;
static tinyflow_micro_speech_t s_ms;
static uint16_t s_out[MAX_OUT];
static int8_t s_out8[MAX_OUT];

/* Output: uint16 features [frames][channels], then their int8 conversion. */
static int run_mode(uint32_t n) {
  uint32_t frames = 0;
  int status = tinyflow_micro_speech_init(&s_ms, &tinyflow_micro_speech_plan);
  if (status == TINYFLOW_FRONTEND_OK) {
    status = tinyflow_micro_speech_run(&s_ms, s_in, n, s_out, MAX_OUT, &frames);
  }
  if (status != TINYFLOW_FRONTEND_OK) {
    return -status;
  }
  const uint32_t total = frames * tinyflow_micro_speech_plan.num_channels;
  tinyflow_micro_speech_to_int8(s_out, s_out8, total);
  fwrite(&frames, sizeof frames, 1, stdout);
  fwrite(s_out, sizeof s_out[0], total, stdout);
  fwrite(s_out8, 1, total, stdout);
  return 0;
}
#endif

#ifdef WITH_IMU
#include "tinyflow/frontend_imu.h"
extern const tinyflow_imu_plan_t tinyflow_imu_plan;
static int32_t s_out32[MAX_OUT];

/* Input: n / axes interleaved frames. Output: int32 features [windows][features per window]. */
static int run_mode(uint32_t n) {
  uint32_t windows = 0;
  const int status = tinyflow_imu_run(&tinyflow_imu_plan, s_in, n / tinyflow_imu_plan.axes, s_out32, MAX_OUT, &windows);
  if (status != TINYFLOW_FRONTEND_OK) {
    return -status;
  }
  fwrite(&windows, sizeof windows, 1, stdout);
  fwrite(s_out32, sizeof s_out32[0], windows * tinyflow_imu_features_per_window(&tinyflow_imu_plan), stdout);
  return 0;
}
#endif

#ifdef WITH_MFCC
#include "tinyflow/frontend_mfcc.h"
extern const tinyflow_mfcc_plan_t tinyflow_mfcc_plan;
static int16_t s_out16[MAX_OUT];

/* Output: int16 coefficients [frames][num_mfcc]. */
static int run_mode(uint32_t n) {
  uint32_t frames = 0;
  const int status = tinyflow_mfcc_run(&tinyflow_mfcc_plan, s_in, n, s_out16, MAX_OUT, &frames);
  if (status != TINYFLOW_FRONTEND_OK) {
    return -status;
  }
  fwrite(&frames, sizeof frames, 1, stdout);
  fwrite(s_out16, sizeof s_out16[0], frames * tinyflow_mfcc_plan.num_mfcc, stdout);
  return 0;
}
#endif

int main(void) {
  uint32_t n = 0;
  if (fread(&n, sizeof n, 1, stdin) != 1 || n > MAX_SAMPLES || fread(s_in, sizeof s_in[0], n, stdin) != n) {
    fprintf(stderr, "driver: expected a uint32 count and that many int16 samples on stdin\n");
    return 100;
  }
  return run_mode(n);
}
