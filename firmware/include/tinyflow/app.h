/* tinyflow application mode (firmware/src/app.c): sensor -> front end -> model -> your callback.
 *
 * The device reads its sensor between link polls (tinyflow_device_step()), assembles windows of
 * tinyflow_pipeline_window_frames() frames, one every `stride` frames, invokes the pipeline on
 * each and calls tinyflow_on_prediction(). The host starts it with CLASSIFY_START and reads the
 * queued predictions with PREDICTIONS (docs/protocol.md "Live classification"); a firmware built
 * with -DTINYFLOW_APP_AUTOSTART=1 starts at boot (a deployed application, no host needed).
 * Classification needs a front end (window_frames > 0). */
#ifndef TINYFLOW_APP_H
#define TINYFLOW_APP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Predictions kept for the host (PREDICTIONS); older unread ones are overwritten and counted. */
#ifndef TINYFLOW_APP_QUEUE
#define TINYFLOW_APP_QUEUE 8
#endif

/* Bytes of output 0 kept per queued prediction: a model whose output 0 is larger is refused by
 * CLASSIFY_START (64 int8 classes, or 16 float32). */
#ifndef TINYFLOW_APP_OUTPUT_BYTES
#define TINYFLOW_APP_OUTPUT_BYTES 64
#endif

/* Opt-in sampling (CLASSIFY_START with a threshold): windows whose top-1 confidence is below the
 * threshold are kept, raw, in one of these slots until the host has read them (WINDOW, then
 * acknowledged with PREDICTIONS; docs/protocol.md); without the opt-in no raw input ever leaves
 * the device. 0 slots: no sampling (CLASSIFY_START refuses it, and the buffers are not built). */
#ifndef TINYFLOW_APP_SAMPLES
#define TINYFLOW_APP_SAMPLES 2
#endif

/* Bytes of one kept window (window frames x channels x int16); a larger window cannot be sampled.
 * The default holds the IMU front end's largest window (128 frames x 6 axes); audio needs more
 * (a second at 16 kHz: 32000), set at build time where the board has the RAM. */
#ifndef TINYFLOW_APP_SAMPLE_BYTES
#define TINYFLOW_APP_SAMPLE_BYTES 1536
#endif

/* 1: start classifying at boot with stride = the window (tinyflow_device_step() does it). */
#ifndef TINYFLOW_APP_AUTOSTART
#define TINYFLOW_APP_AUTOSTART 0
#endif

typedef struct {
  uint32_t index;          /* 0, 1, ... since the classification started */
  uint64_t ticks64;        /* tinyflow_hal_ticks64() time the window's first frame was sampled */
  uint32_t read_ticks;     /* ticks spent in tinyflow_hal_sensor_read() since the previous prediction */
  uint32_t frontend_ticks; /* the front end (the pipeline's op 0) */
  uint32_t model_ticks;    /* the model (every other op) */
  uint16_t top1;           /* index of the largest element of output 0 */
  uint16_t num_classes;    /* elements of output 0 */
  float confidence;        /* output 0 [top1] dequantized (scale * (q - zero_point)); raw for float32 */
  const uint8_t *output;   /* output 0 as the model wrote it (valid during the callback only) */
  uint32_t output_bytes;
  uint8_t dtype;           /* TINYFLOW_DTYPE_* of output 0 */
} tinyflow_prediction_t;

/* Your hook: called after every window, inside the device loop (keep it short; the serial link
 * is the tinyflow protocol's, do not print to it). Default (weak): does nothing. */
void tinyflow_on_prediction(const tinyflow_prediction_t *p);

/* Start classifying: 0, or a negative TINYFLOW_SENSOR_E* (sensor), -100 (no front end), -101
 * (output 0 larger than TINYFLOW_APP_OUTPUT_BYTES), -102 (model not ready). stride_frames 0 = the
 * window (no overlap). */
int tinyflow_app_start(uint32_t stride_frames);
void tinyflow_app_stop(void);

/* Keep the raw windows whose top-1 confidence is below `threshold` (0 = keep none, the default),
 * until the next start. 0, or -103 when this build cannot keep a window of this pipeline. */
int tinyflow_app_sample_below(float threshold);
int tinyflow_app_running(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_APP_H */
