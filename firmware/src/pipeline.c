/* The device's model as the link sees it (pipeline.h): the model alone, or a front end + the model.
 *
 * TINYFLOW_FRONTEND_KIND 0 (the default): every call forwards to model.h. Otherwise the firmware
 * links the generated plan (frontend_plan.c) and firmware/frontends/: input 0 is the raw int16
 * window, the front end computes the features, the mapping of tinyflow/frontends/mapping.py fills
 * the model's input 0 (bit for bit the host's), and a copy of that tensor is one more output.
 * No malloc; the buffers are the plan's, static, sized for the model when it was generated. */
#include <string.h>

#include "tinyflow/config.h"
#include "tinyflow/hal.h"
#include "tinyflow/pipeline.h"

#ifndef TINYFLOW_FRONTEND_KIND
#define TINYFLOW_FRONTEND_KIND 0
#endif

#if TINYFLOW_FRONTEND_KIND == 0

int tinyflow_pipeline_init(void) { return tinyflow_model_init(); }
const tinyflow_model_info_t *tinyflow_pipeline_info(void) { return tinyflow_model_info(); }
uint8_t *tinyflow_pipeline_input(int index) { return tinyflow_model_input(index); }
const uint8_t *tinyflow_pipeline_output(int index) { return tinyflow_model_output(index); }
int tinyflow_pipeline_invoke(uint32_t *op_ticks) { return tinyflow_model_invoke(op_ticks); }
const char *tinyflow_pipeline_op_name(int index) { return tinyflow_model_op_name(index); }
uint32_t tinyflow_pipeline_arena_used(void) { return tinyflow_model_arena_used(); }
uint32_t tinyflow_pipeline_window_frames(void) { return 0u; }
uint8_t tinyflow_pipeline_channels(void) { return 0u; }
uint32_t tinyflow_pipeline_sample_rate(void) { return 0u; }
uint8_t tinyflow_pipeline_kind(void) { return TINYFLOW_PIPELINE_NONE; }
void tinyflow_pipeline_slide(uint32_t frames) { (void)frames; }
void tinyflow_pipeline_input_changed(void) {}

#else

#include "tinyflow/frontend_imu.h"
#include "tinyflow/frontend_mfcc.h"
#include "tinyflow/frontend_micro_speech.h"

#define PIPELINE_MAX_TENSORS 16 /* as device.c's MAX_TENSORS: more makes the model NOT_READY */
#define STATUS_PLAN (-120)      /* the generated plan does not match the compiled model */
#define STATUS_FRONTEND (-121)  /* the front end refused its plan or produced another frame count */

extern const tinyflow_pipeline_plan_t tinyflow_pipeline_plan;

static const tinyflow_pipeline_plan_t *const s_plan = &tinyflow_pipeline_plan;
static tinyflow_model_info_t s_info;
static tinyflow_tensor_spec_t s_inputs[PIPELINE_MAX_TENSORS];
static tinyflow_tensor_spec_t s_outputs[PIPELINE_MAX_TENSORS + 1];
static const tinyflow_model_info_t *s_model;
#if TINYFLOW_FRONTEND_KIND == 1
static tinyflow_micro_speech_t s_micro; /* the noise estimate restarts each window, as on the host */
static uint32_t s_head;                 /* frame_cache slot of row 0 */
#endif
/* Leading rows of the raw window whose stateless work is in the cache (micro_speech's frame_cache,
 * the features themselves for mfcc and imu) and still matches the raw signal; used only by an
 * invoke that a slide armed. */
static uint32_t s_kept;
static uint8_t s_armed;

static uint32_t element_bytes(uint8_t dtype) {
  switch (dtype) {
    case TINYFLOW_DTYPE_FLOAT32: return 4u;
    case TINYFLOW_DTYPE_INT16: return 2u;
    case TINYFLOW_DTYPE_INT8: return 1u;
    default: return 0u; /* the mapping fills no other type */
  }
}

/* The pipeline's view: input 0 raw int16 [window_frames, channels], one more output, one more op. */
static int build_info(const tinyflow_model_info_t *m) {
  const tinyflow_tensor_spec_t *in0;
  uint16_t i;
  if (m == 0 || m->num_inputs == 0 || m->num_inputs > PIPELINE_MAX_TENSORS ||
      m->num_outputs > PIPELINE_MAX_TENSORS || m->num_ops == 0xFFFFu) {
    return STATUS_PLAN;
  }
  in0 = &m->inputs[0];
  if (element_bytes(in0->dtype) == 0u || s_plan->rows == 0u || s_plan->width == 0u ||
      in0->bytes != s_plan->rows * s_plan->width * element_bytes(in0->dtype) ||
      in0->bytes != s_plan->features_copy_bytes || s_plan->channels == 0u || s_plan->window_frames == 0u ||
      s_plan->window_frames > 0x7FFFFFFFu / 2u / s_plan->channels) {
    return STATUS_PLAN;
  }
  for (i = 0; i < m->num_inputs; ++i) {
    s_inputs[i] = m->inputs[i];
  }
  memset(&s_inputs[0], 0, sizeof s_inputs[0]);
  s_inputs[0].dtype = TINYFLOW_DTYPE_INT16;
  s_inputs[0].rank = 2;
  s_inputs[0].dims[0] = (int32_t)s_plan->window_frames;
  s_inputs[0].dims[1] = (int32_t)s_plan->channels;
  s_inputs[0].bytes = s_plan->window_frames * s_plan->channels * 2u;
  for (i = 0; i < m->num_outputs; ++i) {
    s_outputs[i] = m->outputs[i];
  }
  s_outputs[m->num_outputs] = *in0;
  s_info = *m;
  s_info.num_outputs = (uint16_t)(m->num_outputs + 1u);
  s_info.num_ops = (uint16_t)(m->num_ops + 1u);
  s_info.inputs = s_inputs;
  s_info.outputs = s_outputs;
  return 0;
}

int tinyflow_pipeline_init(void) {
  int status = tinyflow_model_init();
  if (status != 0) {
    return status;
  }
  s_model = tinyflow_model_info();
  if (s_plan->kind != TINYFLOW_FRONTEND_KIND) {
    return STATUS_PLAN;
  }
  return build_info(s_model);
}

const tinyflow_model_info_t *tinyflow_pipeline_info(void) { return &s_info; }

uint8_t *tinyflow_pipeline_input(int index) {
  return index == 0 ? (uint8_t *)s_plan->raw : tinyflow_model_input(index);
}

const uint8_t *tinyflow_pipeline_output(int index) {
  if (s_model != 0 && index == (int)s_model->num_outputs) {
    return s_plan->features_copy;
  }
  return tinyflow_model_output(index);
}

/* The front end's row geometry in raw frames: rows start every *step, each spans *span. */
static void row_geometry(uint32_t *step, uint32_t *span) {
#if TINYFLOW_FRONTEND_KIND == 1
  const tinyflow_micro_speech_plan_t *f = (const tinyflow_micro_speech_plan_t *)s_plan->frontend;
  *step = f->step;
  *span = f->window_size;
#elif TINYFLOW_FRONTEND_KIND == 2
  const tinyflow_mfcc_plan_t *f = (const tinyflow_mfcc_plan_t *)s_plan->frontend;
  *step = f->step;
  *span = f->window_size;
#else
  const tinyflow_imu_plan_t *f = (const tinyflow_imu_plan_t *)s_plan->frontend;
  *step = f->step;
  *span = f->window;
#endif
}

/* Rows [first, rows): their stateless work (a validated plan when first > 0: a full run checked it). */
static int compute_rows(uint32_t first) {
  const tinyflow_pipeline_plan_t *p = s_plan;
  uint32_t step, span, r;
  int status = TINYFLOW_FRONTEND_OK;
  row_geometry(&step, &span);
#if TINYFLOW_FRONTEND_KIND == 1
  (void)span;
  for (r = first; r < p->rows && status == TINYFLOW_FRONTEND_OK; ++r) {
    uint32_t slot = (s_head + r) % p->rows;
    status = tinyflow_micro_speech_energy(&s_micro, p->raw + r * step, p->frame_cache + slot * p->width);
  }
#else
  uint32_t count = 0;
  if (first == 0) { /* the run functions check the plan and count the rows */
#if TINYFLOW_FRONTEND_KIND == 2
    status = tinyflow_mfcc_run((const tinyflow_mfcc_plan_t *)p->frontend, p->raw, p->window_frames,
                               (int16_t *)p->features, p->rows * p->width, &count);
#else
    status = tinyflow_imu_run((const tinyflow_imu_plan_t *)p->frontend, p->raw, p->window_frames,
                              (int32_t *)p->features, p->rows * p->width, &count);
#endif
    return status != TINYFLOW_FRONTEND_OK || count != p->rows ? STATUS_FRONTEND : 0;
  }
  (void)span;
  for (r = first; r < p->rows && status == TINYFLOW_FRONTEND_OK; ++r) {
#if TINYFLOW_FRONTEND_KIND == 2
    status = tinyflow_mfcc_frame((const tinyflow_mfcc_plan_t *)p->frontend, p->raw + r * step,
                                 (int16_t *)p->features + r * p->width);
#else
    status = tinyflow_imu_window((const tinyflow_imu_plan_t *)p->frontend, p->raw + r * step * p->channels,
                                 (int32_t *)p->features + r * p->width);
#endif
  }
#endif
  return status != TINYFLOW_FRONTEND_OK ? STATUS_FRONTEND : 0;
}

/* The front end over the raw window: exactly `rows` rows of `width` features, or an error. Rows a
 * slide kept are not recomputed; everything stateful runs over all rows from a reset state. */
static int run_frontend(uint32_t first) {
  const tinyflow_pipeline_plan_t *p = s_plan;
  int status;
  s_armed = 0;
  s_kept = 0; /* until this invoke has computed every row */
#if TINYFLOW_FRONTEND_KIND == 1
  uint32_t r;
  /* init checks the plan; a full run also checks that the window holds exactly `rows` frames */
  status = tinyflow_micro_speech_init(&s_micro, (const tinyflow_micro_speech_plan_t *)p->frontend);
  if (status != TINYFLOW_FRONTEND_OK || p->frame_cache == 0) {
    return STATUS_FRONTEND;
  }
  if (first == 0) {
    uint32_t step, span;
    row_geometry(&step, &span);
    s_head = 0;
    if (p->window_frames < span || (p->window_frames - span) / step + 1u != p->rows) {
      return STATUS_FRONTEND;
    }
  }
  status = compute_rows(first);
  for (r = 0; r < p->rows && status == 0; ++r) {
    const uint32_t *energy = p->frame_cache + ((s_head + r) % p->rows) * p->width;
    if (tinyflow_micro_speech_finish(&s_micro, energy, (uint16_t *)p->features + r * p->width) != 0) {
      status = STATUS_FRONTEND;
    }
  }
#else
  status = compute_rows(first);
#endif
  if (status == 0) {
    s_kept = p->rows;
  }
  return status;
}

void tinyflow_pipeline_slide(uint32_t frames) {
  const tinyflow_pipeline_plan_t *p = s_plan;
  uint32_t keep = frames < p->window_frames ? p->window_frames - frames : 0u;
  uint32_t step, span, rows;
  row_geometry(&step, &span);
  (void)span;
  rows = step == 0u ? p->rows : frames / step;
  memmove(p->raw, p->raw + (size_t)(p->window_frames - keep) * p->channels, (size_t)keep * p->channels * 2u);
  s_armed = 1;
  if (step == 0u || frames % step != 0u || rows >= s_kept) {
    s_kept = 0; /* no row lies wholly in the kept part at its old row boundary */
    return;
  }
  s_kept -= rows;
#if TINYFLOW_FRONTEND_KIND == 1
  s_head = (s_head + rows) % p->rows; /* the ring turns: old row `rows` becomes row 0 */
#else
  {
    size_t row_bytes = (size_t)p->width * (TINYFLOW_FRONTEND_KIND == 2 ? sizeof(int16_t) : sizeof(int32_t));
    size_t copy_row = p->features_copy_bytes / p->rows; /* rows' mapped features are stateless too */
    memmove(p->features, (uint8_t *)p->features + rows * row_bytes, (size_t)s_kept * row_bytes);
    memmove(p->features_copy, p->features_copy + rows * copy_row, (size_t)s_kept * copy_row);
  }
#endif
}

void tinyflow_pipeline_input_changed(void) {
  s_armed = 0;
  s_kept = 0;
}

static int64_t feature_at(uint32_t i) {
#if TINYFLOW_FRONTEND_KIND == 1
  return ((const uint16_t *)s_plan->features)[i];
#elif TINYFLOW_FRONTEND_KIND == 2
  return ((const int16_t *)s_plan->features)[i];
#else
  return ((const int32_t *)s_plan->features)[i];
#endif
}

static int64_t saturate32(int64_t x) {
  return x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : x);
}

/* MultiplyByQuantizedMultiplier with a saturating left shift (mapping.py's _requantize). */
static int64_t requantize(int64_t x, int32_t multiplier, int exponent) {
  int left = exponent > 0 ? exponent : 0;
  int right = exponent > 0 ? 0 : -exponent;
  int64_t ab = saturate32(x * ((int64_t)1 << left)) * (int64_t)multiplier;
  int64_t n = ab + (ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)));
  int64_t high = n / ((int64_t)1 << 31); /* truncates toward zero, as SaturatingRoundingDoublingHighMul */
  int64_t mask = ((int64_t)1 << right) - 1;
  int64_t remainder = high & mask;
  int64_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  /* floor division by 2^right: an arithmetic shift, written portably */
  int64_t shifted = high >= 0 ? high / ((int64_t)1 << right) : -((-high + mask) / ((int64_t)1 << right));
  return shifted + (remainder > threshold ? 1 : 0);
}

/* The mapping of rows [first, rows) into the copy (rows before it: kept by a slide), then the copy
 * into the model's input. */
static void map_features(uint32_t first) {
  const tinyflow_pipeline_plan_t *p = s_plan;
  const tinyflow_tensor_spec_t *in0 = &s_model->inputs[0];
  uint8_t *dst = tinyflow_model_input(0);
  uint32_t total = p->rows * p->width;
  uint32_t i;
#if TINYFLOW_FRONTEND_KIND == 1
  if (p->micro_int8 && in0->dtype == TINYFLOW_DTYPE_INT8) {
    tinyflow_micro_speech_to_int8((const uint16_t *)p->features, (int8_t *)p->features_copy, total);
  } else
#endif
  {
    for (i = first * p->width; i < total; ++i) {
      uint32_t c = i % p->width;
      int64_t d = saturate32(feature_at(i) - p->mean[c]);
      if (in0->dtype == TINYFLOW_DTYPE_FLOAT32) {
        float v = (float)d * p->float_scale[c];
        memcpy(p->features_copy + 4u * i, &v, 4u);
      } else {
        int64_t q = requantize(d, p->multiplier[c], p->exponent[c]) + in0->zero_point;
        int64_t lo = in0->dtype == TINYFLOW_DTYPE_INT8 ? -128 : -32768;
        int64_t hi = in0->dtype == TINYFLOW_DTYPE_INT8 ? 127 : 32767;
        q = q < lo ? lo : (q > hi ? hi : q);
        if (in0->dtype == TINYFLOW_DTYPE_INT8) {
          ((int8_t *)p->features_copy)[i] = (int8_t)q;
        } else {
          int16_t v16 = (int16_t)q;
          memcpy(p->features_copy + 2u * i, &v16, 2u);
        }
      }
    }
  }
  /* The runtime may reuse its input buffer during invoke: the reply's copy is kept apart. */
  memcpy(dst, p->features_copy, p->features_copy_bytes);
}

int tinyflow_pipeline_invoke(uint32_t *op_ticks) {
  uint32_t t0 = tinyflow_hal_ticks();
  /* Rows a slide kept (mfcc, imu: their mapped features too; micro_speech's are stateful). */
  uint32_t first = s_armed ? s_kept : 0u;
  int status = run_frontend(first);
  if (status != 0) {
    return status;
  }
  map_features(TINYFLOW_FRONTEND_KIND == 1 ? 0u : first);
  if (op_ticks != 0) {
    op_ticks[0] = tinyflow_hal_ticks() - t0;
  }
  return tinyflow_model_invoke(op_ticks != 0 ? op_ticks + 1 : 0);
}

const char *tinyflow_pipeline_op_name(int index) {
  return index == 0 ? "FRONTEND" : tinyflow_model_op_name(index - 1);
}

uint32_t tinyflow_pipeline_arena_used(void) { return tinyflow_model_arena_used(); }
uint32_t tinyflow_pipeline_window_frames(void) { return s_plan->window_frames; }
uint8_t tinyflow_pipeline_channels(void) { return s_plan->channels; }
uint32_t tinyflow_pipeline_sample_rate(void) { return s_plan->sample_rate; }
uint8_t tinyflow_pipeline_kind(void) { return s_plan->kind; }

#endif
