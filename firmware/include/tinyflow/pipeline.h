/* The device's model as the link and the application see it: a front end (optional) + the model.
 *
 * Built without a front end (TINYFLOW_FRONTEND_KIND 0, the default), every call forwards to
 * model.h. Built with one (the plan generated from the model's <model>.frontend.json sidecar):
 *   - input 0 is the raw signal: int16 [window_frames, channels], interleaved;
 *   - outputs are the model's outputs followed by one more, the features: the model's input
 *     tensor exactly as the front end filled it (so the host can compare them with its own);
 *   - op 0 is "FRONTEND" (its ticks are the front end's time), ops 1.. are the model's.
 * device.c (INFER, UPLOAD, PROFILE, STATS, HELLO) and app.c (application mode) use only this. */
#ifndef TINYFLOW_PIPELINE_H
#define TINYFLOW_PIPELINE_H

#include <stdint.h>

#include "tinyflow/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TINYFLOW_FRONTEND_KIND values (also the PIPELINE reply's kind byte). */
enum {
  TINYFLOW_PIPELINE_NONE = 0,
  TINYFLOW_PIPELINE_MICRO_SPEECH = 1,
  TINYFLOW_PIPELINE_MFCC = 2,
  TINYFLOW_PIPELINE_IMU = 3
};

int tinyflow_pipeline_init(void);
const tinyflow_model_info_t *tinyflow_pipeline_info(void);
uint8_t *tinyflow_pipeline_input(int index);
const uint8_t *tinyflow_pipeline_output(int index);
int tinyflow_pipeline_invoke(uint32_t *op_ticks);
const char *tinyflow_pipeline_op_name(int index);
uint32_t tinyflow_pipeline_arena_used(void);

/* The raw window one invoke consumes, in frames of `channels` int16, and the signal's rate;
 * 0 frames when the firmware has no front end (the model then takes its own input). */
uint32_t tinyflow_pipeline_window_frames(void);
uint8_t tinyflow_pipeline_channels(void);
uint32_t tinyflow_pipeline_sample_rate(void);
uint8_t tinyflow_pipeline_kind(void);

/* Streaming (application mode, app.c): drop the raw window's first `frames` frames and move the
 * rest down; the caller then writes the `frames` new ones after them. The next invoke reuses the
 * front end's per-frame work on the rows that lie wholly in the kept part (when `frames` is a
 * multiple of the front end's step) and recomputes only the new rows; the stateful stages
 * (micro_speech's noise reduction, PCAN, log) still run over every row from a reset state, so
 * the features are bit for bit those of a full recompute. An invoke not preceded by a slide
 * recomputes everything. Whoever else writes input 0 (device.c: INFER, UPLOAD) calls
 * tinyflow_pipeline_input_changed() first. Without a front end both do nothing. */
void tinyflow_pipeline_slide(uint32_t frames);
void tinyflow_pipeline_input_changed(void);

/* The generated plan (frontend_plan.c, tinyflow.export.frontend_tables.render_pipeline_plan) a
 * firmware built with TINYFLOW_FRONTEND_KIND != 0 links: the front end's own plan, the
 * feature -> model input mapping per feature column (tinyflow/frontends/mapping.py), and the
 * static buffers, sized for this model. */
typedef struct {
  uint8_t kind;                  /* TINYFLOW_PIPELINE_* */
  uint8_t channels;              /* int16 values per raw frame */
  uint8_t micro_int8;            /* micro_speech's own int8 conversion (int8 model input) */
  uint32_t sample_rate;          /* Hz; 0 when unknown (IMU) */
  uint32_t window_frames;        /* raw frames one invoke consumes */
  uint32_t rows;                 /* feature rows (frames, windows) the model takes */
  uint32_t width;                /* features per row */
  const void *frontend;          /* tinyflow_micro_speech_plan_t, _mfcc_plan_t or _imu_plan_t */
  const int32_t *mean;           /* [width] */
  const float *float_scale;      /* [width] gain * 2^-shift, for a float32 model input */
  const int32_t *multiplier;     /* [width] Q31, for an int8/int16 model input */
  const int8_t *exponent;        /* [width] MultiplyByQuantizedMultiplier's shift */
  int16_t *raw;                  /* [window_frames * channels] input 0 */
  void *features;                /* [rows * width] uint16 / int16 / int32 by kind */
  uint8_t *features_copy;        /* the model input 0 as filled, [model input 0 bytes] */
  uint32_t features_copy_bytes;
  uint32_t *frame_cache;         /* micro_speech: [rows * width] per-row filterbank output, a ring
                                    reused across slides; 0 for the others (their rows are the cache) */
} tinyflow_pipeline_plan_t;

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_PIPELINE_H */
