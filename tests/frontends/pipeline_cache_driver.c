/* Test driver for pipeline.c's frame cache (tests/frontends/test_pipeline_cache.py): a fake model
 * (its int8 input copied to output 0), random raw windows, random slides. After each slide and
 * new samples, the cached invoke's features must equal a full recompute of the same window, and
 * the front end must have computed only the new rows (the per-row function is wrapped with
 * -Wl,--wrap to count the calls pipeline.c makes).
 *
 * Usage: driver SEED STEPS > last_window. Build with -DTINYFLOW_FRONTEND_KIND=k, -DSTEP=<raw
 * frames between rows>, -DTOTAL_ROWS, -DINPUT_BYTES, -DINPUT_SCALE, -DINPUT_ZP (the plan's model input). Writes
 * the last raw window and its features copy to stdout; "ok <invokes> <cached rows>" to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyflow/frontend_imu.h"
#include "tinyflow/frontend_mfcc.h"
#include "tinyflow/frontend_micro_speech.h"
#include "tinyflow/pipeline.h"

static int8_t s_in[INPUT_BYTES];
static int8_t s_out[INPUT_BYTES];
static const tinyflow_tensor_spec_t s_in_spec = {TINYFLOW_DTYPE_INT8, 2, {1, INPUT_BYTES}, INPUT_SCALE, INPUT_ZP,
                                                 INPUT_BYTES};
static const tinyflow_model_info_t s_info = {"fake", "fake", {0}, 0, 0, 1, 1, 1, &s_in_spec, &s_in_spec, 0u, 0};

int tinyflow_model_init(void) { return 0; }
const tinyflow_model_info_t *tinyflow_model_info(void) { return &s_info; }
uint8_t *tinyflow_model_input(int index) { return index == 0 ? (uint8_t *)s_in : 0; }
const uint8_t *tinyflow_model_output(int index) { return index == 0 ? (const uint8_t *)s_out : 0; }
int tinyflow_model_invoke(uint32_t *op_ticks) {
  (void)op_ticks;
  memcpy(s_out, s_in, sizeof s_in);
  return 0;
}
const char *tinyflow_model_op_name(int index) { return index == 0 ? "COPY" : 0; }
uint32_t tinyflow_model_arena_used(void) { return 0; }
uint32_t tinyflow_hal_ticks(void) { return 0; }

/* The per-row work pipeline.c calls, counted. */
static unsigned long s_rows;
#if TINYFLOW_FRONTEND_KIND == 1
int __real_tinyflow_micro_speech_energy(const tinyflow_micro_speech_t *fe, const int16_t *s, uint32_t *e);
int __wrap_tinyflow_micro_speech_energy(const tinyflow_micro_speech_t *fe, const int16_t *s, uint32_t *e);
int __wrap_tinyflow_micro_speech_energy(const tinyflow_micro_speech_t *fe, const int16_t *s, uint32_t *e) {
  s_rows++;
  return __real_tinyflow_micro_speech_energy(fe, s, e);
}
#elif TINYFLOW_FRONTEND_KIND == 2
int __real_tinyflow_mfcc_frame(const tinyflow_mfcc_plan_t *plan, const int16_t *s, int16_t *out);
int __wrap_tinyflow_mfcc_frame(const tinyflow_mfcc_plan_t *plan, const int16_t *s, int16_t *out);
int __wrap_tinyflow_mfcc_frame(const tinyflow_mfcc_plan_t *plan, const int16_t *s, int16_t *out) {
  s_rows++;
  return __real_tinyflow_mfcc_frame(plan, s, out);
}
#else
int __real_tinyflow_imu_window(const tinyflow_imu_plan_t *plan, const int16_t *s, int32_t *out);
int __wrap_tinyflow_imu_window(const tinyflow_imu_plan_t *plan, const int16_t *s, int32_t *out);
int __wrap_tinyflow_imu_window(const tinyflow_imu_plan_t *plan, const int16_t *s, int32_t *out) {
  s_rows++;
  return __real_tinyflow_imu_window(plan, s, out);
}
#endif

static uint32_t s_rng;
static uint32_t next_u32(void) {
  s_rng = s_rng * 1664525u + 1013904223u;
  return s_rng;
}

/* Noise whose loudness changes every few hundred samples (the noise estimate must matter). */
static int16_t sample(void) {
  static uint32_t left = 0, amp = 1000;
  if (left == 0) {
    uint32_t pick = next_u32() >> 29;
    amp = pick == 0 ? 0u : (pick < 3 ? 30u : (pick < 6 ? 2000u : 16000u));
    left = 50 + (next_u32() >> 23);
  }
  left--;
  return (int16_t)((int32_t)(next_u32() >> 16) % (int32_t)(2 * amp + 1) - (int32_t)amp);
}

static void fill(int16_t *raw, uint32_t from, uint32_t to, uint32_t channels) {
  for (uint32_t i = from * channels; i < to * channels; ++i) {
    raw[i] = sample();
  }
}

int main(int argc, char **argv) {
  if (argc != 3 || tinyflow_pipeline_init() != 0) {
    return 2;
  }
  s_rng = (uint32_t)strtoul(argv[1], 0, 10);
  const long steps = strtol(argv[2], 0, 10);
  const uint32_t window = tinyflow_pipeline_window_frames(), channels = tinyflow_pipeline_channels();
  int16_t *raw = (int16_t *)(void *)tinyflow_pipeline_input(0);
  static int8_t cached[INPUT_BYTES];
  unsigned long cached_rows = 0;
  fill(raw, 0, window, channels);
  if (tinyflow_pipeline_invoke(0) != 0) {
    return 3;
  }
  for (long k = 0; k < steps; ++k) {
    /* A multiple of the step (mostly), sometimes any stride, sometimes more than the window. */
    uint32_t pick = next_u32() >> 28, frames;
    if (pick < 11) {
      frames = STEP * (1u + next_u32() % (window / STEP));
    } else if (pick < 14) {
      frames = 1u + next_u32() % window;
    } else {
      frames = window + next_u32() % window;
    }
    tinyflow_pipeline_slide(frames);
    fill(raw, frames < window ? window - frames : 0u, window, channels);
    const unsigned long before = s_rows;
    if (tinyflow_pipeline_invoke(0) != 0) {
      return 4;
    }
    const unsigned long computed = s_rows - before;
    memcpy(cached, tinyflow_pipeline_output(1), INPUT_BYTES);
    tinyflow_pipeline_input_changed();
    const unsigned long full_before = s_rows;
    if (tinyflow_pipeline_invoke(0) != 0) {
      return 5;
    }
    if (memcmp(cached, tinyflow_pipeline_output(1), INPUT_BYTES) != 0) {
      fprintf(stderr, "step %ld: slide %u: cached features differ from a full recompute\n", k, frames);
      return 6;
    }
    /* Only the rows starting in the new part were computed (full runs of mfcc/imu count 0 here:
     * their run function calls the row function inside its own object, unwrapped). */
    const unsigned long full = s_rows - full_before;
    if (frames % STEP == 0 && frames < window) {
      const unsigned long want = frames / STEP;
      if (computed != want && !(want >= (unsigned long)TOTAL_ROWS && computed == full)) {
        fprintf(stderr, "step %ld: slide %u computed %lu rows, want %lu\n", k, frames, computed, want);
        return 7;
      }
      cached_rows += TOTAL_ROWS - computed;
    } else if (computed != full) {
      fprintf(stderr, "step %ld: slide %u (not at a row boundary) reused rows\n", k, frames);
      return 8;
    }
  }
  fwrite(raw, 2, (size_t)window * channels, stdout);
  fwrite(tinyflow_pipeline_output(1), 1, INPUT_BYTES, stdout);
  fprintf(stderr, "ok %ld %lu\n", steps, cached_rows);
  return 0;
}
