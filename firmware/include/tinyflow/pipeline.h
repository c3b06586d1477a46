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

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_PIPELINE_H */
