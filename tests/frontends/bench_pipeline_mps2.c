/* Bare-metal cost of pipeline.c's front end at a stride, on QEMU mps2-an386 (run by
 * bench/frontends.py, stride section). Links pipeline.c with a generated plan and a fake model (it
 * copies its input: the model's cost is not the front end's). A full window first, then for each
 * stride in STRIDES (in front end rows) REPEAT slides of that many rows, new pseudo-random samples
 * and an invoke; Timer0 (25 MHz virtual, exact under -icount) gives the ticks of each invoke.
 * Prints "full ticks=<n>" and "stride=<rows> ticks=<total> windows=<n>", then "same=<1|0>": the
 * last cached invoke's features equal a full recompute of the same window. Build with
 * -DTINYFLOW_FRONTEND_KIND=k -DSTEP=<samples per row> -DINPUT_BYTES=<the plan's model input>. */
#include <stdint.h>
#include <string.h>

#include "mps2.h"
#include "tinyflow/pipeline.h"

#define REPEAT 10u

void tinyflow_mps2_semihost_write(const char* text);
void tinyflow_mps2_semihost_exit(uint32_t code);
void tinyflow_mps2_uart_rx_irq(void) {}
void tinyflow_mps2_timer1_irq(void) {}

static int8_t s_in[INPUT_BYTES];
static int8_t s_out[INPUT_BYTES];
static int8_t s_cached[INPUT_BYTES];
static const tinyflow_tensor_spec_t s_spec = {TINYFLOW_DTYPE_INT8, 2, {1, INPUT_BYTES}, 0.1f, -128, INPUT_BYTES};
static const tinyflow_model_info_t s_info = {"fake", "fake", {0}, 0, 0, 1, 1, 1, &s_spec, &s_spec, 0u, 0};

int tinyflow_model_init(void) { return 0; }
const tinyflow_model_info_t* tinyflow_model_info(void) { return &s_info; }
uint8_t* tinyflow_model_input(int index) { return index == 0 ? (uint8_t*)s_in : 0; }
const uint8_t* tinyflow_model_output(int index) { return index == 0 ? (const uint8_t*)s_out : 0; }
int tinyflow_model_invoke(uint32_t* op_ticks) {
  (void)op_ticks;
  memcpy(s_out, s_in, sizeof s_in);
  return 0;
}
const char* tinyflow_model_op_name(int index) { return index == 0 ? "COPY" : 0; }
uint32_t tinyflow_model_arena_used(void) { return 0; }
uint32_t tinyflow_hal_ticks(void) { return 0u - TINYFLOW_MPS2_TIMER_VALUE; }

static uint32_t s_seed = 1u;
static void fill(int16_t* x, uint32_t from, uint32_t to) {
  for (uint32_t i = from; i < to; ++i) {
    s_seed = s_seed * 1103515245u + 12345u;
    x[i] = (int16_t)((int32_t)(s_seed >> 16) - 32768) / 4;
  }
}

static uint32_t now(void) { return TINYFLOW_MPS2_TIMER_VALUE; } /* counts down */

static void put(char** p, const char* s) {
  while (*s) {
    *(*p)++ = *s++;
  }
}

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

static void line3(const char* a, uint32_t x, const char* b, uint32_t y, const char* c, uint32_t z) {
  char text[128];
  char* p = text;
  put(&p, a);
  put_u32(&p, x);
  put(&p, b);
  put_u32(&p, y);
  put(&p, c);
  put_u32(&p, z);
  *p++ = '\n';
  *p = '\0';
  tinyflow_mps2_semihost_write(text);
}

int main(void) {
  static const uint32_t strides[3] = {1u, 5u, 25u};
  uint32_t window, t0, k, s;
  int16_t* raw;
  TINYFLOW_MPS2_TIMER_CTRL = 0u;
  TINYFLOW_MPS2_TIMER_RELOAD = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_VALUE = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_CTRL = 0x1u;
  if (tinyflow_pipeline_init() != 0) {
    tinyflow_mps2_semihost_exit(2u);
  }
  window = tinyflow_pipeline_window_frames();
  raw = (int16_t*)(void*)tinyflow_pipeline_input(0);
  fill(raw, 0u, window);
  t0 = now();
  if (tinyflow_pipeline_invoke(0) != 0) {
    tinyflow_mps2_semihost_exit(3u);
  }
  line3("full ticks=", t0 - now(), " windows=", 1u, " rows=", 0u);
  for (s = 0; s < 3u; ++s) {
    uint32_t total = 0u, frames = strides[s] * STEP;
    for (k = 0; k < REPEAT; ++k) {
      tinyflow_pipeline_slide(frames);
      fill(raw, window - frames, window);
      t0 = now();
      if (tinyflow_pipeline_invoke(0) != 0) {
        tinyflow_mps2_semihost_exit(4u);
      }
      total += t0 - now();
    }
    line3("stride=", strides[s], " ticks=", total, " windows=", REPEAT);
  }
  memcpy(s_cached, tinyflow_pipeline_output(1), INPUT_BYTES);
  tinyflow_pipeline_input_changed();
  (void)tinyflow_pipeline_invoke(0);
  line3("same=", memcmp(s_cached, tinyflow_pipeline_output(1), INPUT_BYTES) == 0 ? 1u : 0u, " x=", 0u, " y=", 0u);
  tinyflow_mps2_semihost_exit(0u);
  return 0;
}
