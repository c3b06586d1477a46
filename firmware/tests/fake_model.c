/* A fake runtime implementing model.h for protocol tests and the fuzzer.
 * Outputs are a checksum-like function of every input byte, so a corrupted or misplaced
 * input byte changes them: out[j] = (int8)(sum_i in[i] * (i % 7 + j + 1) + j).
 * Sizes and an artificial inference time come from -D: FAKE_IN0_BYTES, FAKE_IN1_BYTES
 * (0 = one input), FAKE_OUT_BYTES, FAKE_DELAY_US (busy wait on the HAL ticks). */
#include <string.h>

#include "tinyflow/hal.h"
#include "tinyflow/model.h"

#ifndef FAKE_IN0_BYTES
#define FAKE_IN0_BYTES 490
#endif
#ifndef FAKE_IN1_BYTES
#define FAKE_IN1_BYTES 0
#endif
#ifndef FAKE_OUT_BYTES
#define FAKE_OUT_BYTES 12
#endif
#ifndef FAKE_DELAY_US
#define FAKE_DELAY_US 0
#endif
#define FAKE_NUM_INPUTS (FAKE_IN1_BYTES > 0 ? 2 : 1)
#define FAKE_IN1_ALLOC (FAKE_IN1_BYTES > 0 ? FAKE_IN1_BYTES : 1)

static uint8_t s_in0[FAKE_IN0_BYTES];
static uint8_t s_in1[FAKE_IN1_ALLOC];
static uint8_t s_out[FAKE_OUT_BYTES];

static const tinyflow_tensor_spec_t kInputs[2] = {
    {9, 2, {1, FAKE_IN0_BYTES, 0, 0, 0, 0}, 0.5f, -3, FAKE_IN0_BYTES},
    {9, 2, {1, FAKE_IN1_ALLOC, 0, 0, 0, 0}, 0.25f, 1, FAKE_IN1_BYTES},
};
static const tinyflow_tensor_spec_t kOutputs[1] = {
    {9, 2, {1, FAKE_OUT_BYTES, 0, 0, 0, 0}, 0.00390625f, -128, FAKE_OUT_BYTES},
};
static const tinyflow_model_info_t kInfo = {
    "fake", "fake_model", {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}, 1234, 4096,
    FAKE_NUM_INPUTS, 1, 2, kInputs, kOutputs, 0u, 0};
static const char *const kOps[2] = {"FAKE_SUM", "FAKE_WAIT"};

int tinyflow_model_init(void) { return 0; }

const tinyflow_model_info_t *tinyflow_model_info(void) { return &kInfo; }

uint8_t *tinyflow_model_input(int index) { return index == 0 ? s_in0 : s_in1; }

const uint8_t *tinyflow_model_output(int index) { return index == 0 ? s_out : 0; }

int tinyflow_model_invoke(uint32_t *op_ticks) {
  uint32_t t0 = tinyflow_hal_ticks();
  uint32_t t1;
  int j;
  uint32_t i;
  uint32_t spins;
  for (j = 0; j < FAKE_OUT_BYTES; ++j) {
    uint32_t acc = (uint32_t)j;
    for (i = 0; i < (uint32_t)(FAKE_IN0_BYTES + FAKE_IN1_BYTES); ++i) {
      uint8_t b = i < FAKE_IN0_BYTES ? s_in0[i] : s_in1[i - FAKE_IN0_BYTES];
      acc += (uint32_t)(int32_t)(int8_t)b * (uint32_t)(i % 7 + (uint32_t)j + 1);
    }
    s_out[j] = (uint8_t)acc;
  }
  t1 = tinyflow_hal_ticks();
  /* Bounded busy wait standing in for a slow model (window measurements). */
  for (spins = 0; spins < 100000000u && FAKE_DELAY_US > 0; ++spins) {
    if ((uint64_t)(tinyflow_hal_ticks() - t1) * 1000000u >= (uint64_t)FAKE_DELAY_US * tinyflow_hal_ticks_per_second()) {
      break;
    }
  }
  if (op_ticks) {
    op_ticks[0] = t1 - t0;
    op_ticks[1] = tinyflow_hal_ticks() - t1;
  }
  return 0;
}

const char *tinyflow_model_op_name(int index) { return index >= 0 && index < 2 ? kOps[index] : 0; }

uint32_t tinyflow_model_arena_used(void) { return 2048; }
