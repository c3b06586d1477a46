/* tinyflow application mode (tinyflow/app.h, docs/protocol.md "Live classification"): between link
 * polls, read the sensor into the pipeline's raw window, invoke every `stride` frames once a
 * window is full, queue the prediction for the host and call tinyflow_on_prediction().
 *
 * The window is assembled in place in tinyflow_pipeline_input(0): with a front end that buffer is
 * the raw signal pipeline.c owns (the model never writes it), so the overlap of the next window is
 * slid down after each invoke and no second window-sized buffer is needed on small boards.
 * No malloc; every loop is bounded by a buffer size, the queue length or READS_PER_STEP. */
#include "tinyflow/config.h"

#if !TINYFLOW_PROTOCOL_EEMBC && TINYFLOW_APP

#include <string.h>

#include "tinyflow/app.h"
#include "tinyflow/core.h"
#include "tinyflow/hal.h"
#include "tinyflow/model.h"
#include "tinyflow/pipeline.h"
#include "tinyflow/protocol.h"

#define READS_PER_STEP 4    /* sensor reads per device step: bounds the time one step takes */
#define STAMPS 8            /* recent reads' timestamps, to date a window's first frame */
#define SCRATCH_VALUES 64   /* int16 values read and discarded per read when stride > window */
#define END_MODEL_FAILED (-108) /* why classification stopped, beside the sensor's -1..-5 */
#define NO_SAMPLING (-103)      /* tinyflow_app_sample_below(): this build cannot keep the window */
#define KEPT_SLOTS (TINYFLOW_APP_SAMPLES > 0 ? TINYFLOW_APP_SAMPLES : 1)

typedef struct {
  uint32_t index;
  uint64_t ticks64;
  uint32_t read_ticks;
  uint32_t frontend_ticks;
  uint32_t model_ticks;
  uint16_t top1;
  uint8_t output[TINYFLOW_APP_OUTPUT_BYTES];
} entry_t;

typedef struct {
  uint64_t frame; /* frames read since start when this read returned its first frame */
  uint64_t ticks64;
} stamp_t;

static entry_t s_queue[TINYFLOW_APP_QUEUE]; /* slot = index % TINYFLOW_APP_QUEUE */
static uint32_t s_next;                     /* index of the next prediction */
static uint32_t s_acked;                    /* the host has read every index below this */
static uint32_t s_dropped;                  /* overwritten before the host read them */
static uint8_t s_running;
static int32_t s_end_status; /* why it is not running: 0 stopped (or never started), else < 0 */
static uint32_t s_window;
static uint32_t s_stride;
static uint8_t s_channels;
static uint32_t s_rate_hz;
static uint32_t s_out_bytes;
static uint32_t s_fill; /* frames in the window so far */
static uint32_t s_skip; /* frames still to discard before the next window (stride > window) */
static uint64_t s_frames;
static stamp_t s_stamps[STAMPS];
static uint32_t s_stamp_count;
static uint32_t s_read_ticks;
static uint32_t s_op_ticks[TINYFLOW_MAX_OPS];
static int16_t s_scratch[SCRATCH_VALUES];
static uint8_t s_start_valid; /* the last CLASSIFY_START executed, answered again on a retry */
static uint16_t s_start_seq;
static uint32_t s_start_stride;
static uint8_t s_autostart_done;
static float s_start_below;
/* Opt-in sampling: kept raw windows. A slot is reused only once the host has acknowledged its
 * prediction (PREDICTIONS next_index beyond it: it had its chance to read the window), so a window
 * is never replaced while the host reads it; with every slot unread, a new unsure window is not kept. */
static float s_sample_below; /* 0: keep none */
static uint32_t s_kept_index[KEPT_SLOTS];
static uint8_t s_kept_valid[KEPT_SLOTS];
static int16_t s_kept[KEPT_SLOTS][TINYFLOW_APP_SAMPLE_BYTES / sizeof(int16_t)];

__attribute__((weak)) void tinyflow_on_prediction(const tinyflow_prediction_t *p) { (void)p; }

static int16_t *window_base(void) { return (int16_t *)(void *)tinyflow_pipeline_input(0); }

static void finish(int32_t status) {
  if (s_running) {
    tinyflow_hal_sensor_close();
  }
  s_running = 0;
  s_end_status = status;
}

/* -100 no usable front end, -101 output 0 too large, -102 model not ready. */
static int check_pipeline(void) {
  const tinyflow_model_info_t *info = tinyflow_pipeline_info();
  uint32_t window = tinyflow_pipeline_window_frames();
  uint8_t channels = tinyflow_pipeline_channels();
  const uint8_t *in0 = tinyflow_pipeline_input(0);
  if (tinyflow_core_model_status() != 0 || info == 0 || info->num_outputs == 0 || info->num_inputs == 0) {
    return -102;
  }
  /* The window is written as int16 in place: the buffer must be int16-aligned. */
  if (window == 0 || channels == 0 || channels > SCRATCH_VALUES || in0 == 0 ||
      ((uintptr_t)(const void *)in0 % sizeof(int16_t)) != 0 ||
      info->inputs[0].bytes != window * channels * (uint32_t)sizeof(int16_t)) {
    return -100;
  }
  return info->outputs[0].bytes > TINYFLOW_APP_OUTPUT_BYTES ? -101 : 0;
}

int tinyflow_app_start(uint32_t stride_frames) {
  tinyflow_sensor_info_t sensor;
  int status = check_pipeline();
  finish(0);
  if (status != 0) {
    return status;
  }
  memset(&sensor, 0, sizeof sensor);
  status = tinyflow_hal_sensor_open(tinyflow_pipeline_sample_rate(), tinyflow_pipeline_channels(), &sensor);
  /* The front end was made for exactly this signal (a rate of 0: the IMU's own rate, unchecked). */
  if (status == 0 && ((tinyflow_pipeline_sample_rate() != 0 && sensor.rate_hz != tinyflow_pipeline_sample_rate()) ||
                      sensor.channels != tinyflow_pipeline_channels())) {
    tinyflow_hal_sensor_close();
    status = TINYFLOW_SENSOR_EUNSUPPORTED;
  }
  if (status != 0) {
    return status < 0 ? status : TINYFLOW_SENSOR_EIO;
  }
  s_window = tinyflow_pipeline_window_frames();
  s_channels = tinyflow_pipeline_channels();
  s_rate_hz = sensor.rate_hz;
  s_out_bytes = tinyflow_pipeline_info()->outputs[0].bytes;
  s_stride = stride_frames == 0 ? s_window : stride_frames;
  s_fill = 0;
  s_skip = 0;
  s_frames = 0;
  s_stamp_count = 0;
  s_read_ticks = 0;
  s_next = 0;
  s_acked = 0;
  s_dropped = 0;
  s_running = 1;
  s_end_status = 0;
  s_sample_below = 0.0f;
  memset(s_kept_valid, 0, sizeof s_kept_valid);
  return 0;
}

static uint32_t window_bytes(void) {
  return tinyflow_pipeline_window_frames() * tinyflow_pipeline_channels() * (uint32_t)sizeof(int16_t);
}

int tinyflow_app_sample_below(float threshold) {
  if (threshold > 0.0f && (TINYFLOW_APP_SAMPLES == 0 || window_bytes() > TINYFLOW_APP_SAMPLE_BYTES)) {
    return NO_SAMPLING;
  }
  s_sample_below = threshold > 0.0f ? threshold : 0.0f; /* also refuses NaN: NaN > 0 is false */
  return 0;
}

/* Keep the window just classified (still whole in the pipeline's input) when its top-1 is unsure. */
static void keep_window(uint32_t index, float confidence) {
  uint32_t slot;
  uint32_t bytes = s_window * s_channels * (uint32_t)sizeof(int16_t);
  if (TINYFLOW_APP_SAMPLES == 0 || !(confidence < s_sample_below) || bytes > TINYFLOW_APP_SAMPLE_BYTES) {
    return;
  }
  for (slot = 0; slot < (uint32_t)KEPT_SLOTS; ++slot) {
    if (!s_kept_valid[slot] || s_kept_index[slot] < s_acked) {
      break;
    }
  }
  if (slot == (uint32_t)KEPT_SLOTS) {
    return; /* every kept window is still unread: the host counts this one as missed */
  }
  memcpy(s_kept[slot], window_base(), bytes);
  s_kept_index[slot] = index;
  s_kept_valid[slot] = 1;
}

void tinyflow_app_stop(void) { finish(0); }

int tinyflow_app_running(void) { return s_running; }

/* The sampling time of frame `frame`, from the latest read at or before it (else the oldest). */
static uint64_t frame_ticks64(uint64_t frame) {
  uint32_t n = s_stamp_count < STAMPS ? s_stamp_count : STAMPS;
  uint32_t i;
  const stamp_t *best = 0;
  const stamp_t *oldest = 0;
  uint64_t tps = s_rate_hz == 0 ? 0u : tinyflow_hal_ticks_per_second();
  uint32_t rate = s_rate_hz == 0 ? 1u : s_rate_hz;
  for (i = 0; i < n; ++i) {
    const stamp_t *s = &s_stamps[i];
    if (s->frame <= frame && (best == 0 || s->frame > best->frame)) {
      best = s;
    }
    if (oldest == 0 || s->frame < oldest->frame) {
      oldest = s;
    }
  }
  if (best != 0) {
    return best->ticks64 + (frame - best->frame) * tps / rate;
  }
  return oldest == 0 ? 0u : oldest->ticks64 - (oldest->frame - frame) * tps / rate;
}

static uint32_t element_bytes(uint8_t dtype) {
  if (dtype == TINYFLOW_DTYPE_INT16) {
    return 2u;
  }
  return dtype == TINYFLOW_DTYPE_INT32 || dtype == TINYFLOW_DTYPE_FLOAT32 ? 4u : 1u;
}

static uint16_t class_count(const tinyflow_tensor_spec_t *spec) {
  uint32_t n = spec->bytes / element_bytes(spec->dtype);
  return (uint16_t)(n < 0xFFFFu ? n : 0xFFFFu);
}

/* Largest element of output 0 and its dequantized value. */
static void top1_of(const uint8_t *out, const tinyflow_tensor_spec_t *spec, uint16_t *top, float *confidence) {
  uint32_t n = class_count(spec);
  uint32_t i;
  float best = 0.0f;
  *top = 0;
  for (i = 0; i < n; ++i) {
    float v;
    if (spec->dtype == TINYFLOW_DTYPE_FLOAT32) {
      memcpy(&v, out + 4 * i, sizeof v);
    } else if (spec->dtype == TINYFLOW_DTYPE_INT32) {
      int32_t q;
      memcpy(&q, out + 4 * i, sizeof q);
      v = (float)q;
    } else if (spec->dtype == TINYFLOW_DTYPE_INT16) {
      int16_t q;
      memcpy(&q, out + 2 * i, sizeof q);
      v = (float)q;
    } else {
      v = spec->dtype == TINYFLOW_DTYPE_UINT8 ? (float)out[i] : (float)(int8_t)out[i];
    }
    if (i == 0 || v > best) {
      best = v;
      *top = (uint16_t)i;
    }
  }
  *confidence = spec->dtype != TINYFLOW_DTYPE_FLOAT32 && spec->scale > 0.0f
                    ? spec->scale * (best - (float)spec->zero_point)
                    : best;
}

static void record(uint64_t first_ticks, uint32_t frontend_ticks, uint32_t model_ticks) {
  const tinyflow_tensor_spec_t *spec = &tinyflow_pipeline_info()->outputs[0];
  const uint8_t *out = tinyflow_pipeline_output(0);
  entry_t *e = &s_queue[s_next % TINYFLOW_APP_QUEUE];
  tinyflow_prediction_t p;
  if (s_next >= TINYFLOW_APP_QUEUE && s_next - TINYFLOW_APP_QUEUE >= s_acked) {
    s_dropped++; /* its slot still holds a prediction the host has not read */
  }
  memset(&p, 0, sizeof p);
  p.index = s_next;
  p.ticks64 = first_ticks;
  p.read_ticks = s_read_ticks;
  p.frontend_ticks = frontend_ticks;
  p.model_ticks = model_ticks;
  p.output = out;
  p.output_bytes = s_out_bytes;
  p.dtype = spec->dtype;
  p.num_classes = class_count(spec);
  top1_of(out, spec, &p.top1, &p.confidence);
  e->index = p.index;
  e->ticks64 = p.ticks64;
  e->read_ticks = p.read_ticks;
  e->frontend_ticks = p.frontend_ticks;
  e->model_ticks = p.model_ticks;
  e->top1 = p.top1;
  memcpy(e->output, out, s_out_bytes);
  keep_window(p.index, p.confidence);
  s_next++;
  tinyflow_on_prediction(&p);
}

static void classify_window(void) {
  const tinyflow_model_info_t *info = tinyflow_pipeline_info();
  int ops_ok = info->num_ops <= TINYFLOW_MAX_OPS;
  uint64_t first_ticks = frame_ticks64(s_frames - s_window);
  uint32_t keep = s_stride < s_window ? s_window - s_stride : 0u;
  uint32_t t0 = tinyflow_hal_ticks();
  int status = tinyflow_pipeline_invoke(ops_ok ? s_op_ticks : 0);
  uint32_t total = tinyflow_hal_ticks() - t0;
  uint32_t frontend = 0;
  if (status != 0) {
    finish(END_MODEL_FAILED);
    return;
  }
  if (ops_ok && info->num_ops > 0 && tinyflow_pipeline_kind() != TINYFLOW_PIPELINE_NONE) {
    frontend = s_op_ticks[0] < total ? s_op_ticks[0] : total;
  }
  record(first_ticks, frontend, total - frontend);
  tinyflow_monitor_observe(); /* monitor.c: what the model saw, as for INFER */
  /* The next window starts `stride` frames after this one: keep the overlap, or skip the gap. */
  tinyflow_pipeline_slide(s_window - keep); /* pipeline.c moves it and keeps the kept rows' work */
  s_fill = keep;
  s_skip = s_stride > s_window ? s_stride - s_window : 0u;
  s_read_ticks = 0;
}

/* Up to READS_PER_STEP non-blocking reads: discard the gap, then fill the window. */
static void pump(void) {
  int reads;
  for (reads = 0; s_running && reads < READS_PER_STEP; ++reads) {
    int16_t *dst;
    uint32_t want;
    uint64_t t64 = 0;
    uint32_t t0;
    int n;
    if (s_skip > 0) {
      dst = s_scratch;
      want = s_skip < SCRATCH_VALUES / s_channels ? s_skip : SCRATCH_VALUES / s_channels;
    } else if (s_fill < s_window) {
      dst = window_base() + (size_t)s_fill * s_channels;
      want = s_window - s_fill;
    } else {
      break;
    }
    t0 = tinyflow_hal_ticks();
    n = tinyflow_hal_sensor_read(dst, want, &t64);
    s_read_ticks += tinyflow_hal_ticks() - t0;
    if (n < 0) {
      finish(n);
      return;
    }
    if (n == 0) {
      break;
    }
    if ((uint32_t)n > want) {
      n = (int)want; /* a HAL that over-reports must not move the window past its end */
    }
    s_stamps[s_stamp_count % STAMPS].frame = s_frames;
    s_stamps[s_stamp_count % STAMPS].ticks64 = t64;
    s_stamp_count++;
    s_frames += (uint32_t)n;
    if (s_skip > 0) {
      s_skip -= (uint32_t)n;
    } else {
      s_fill += (uint32_t)n;
    }
  }
  if (s_running && s_skip == 0 && s_fill == s_window) {
    classify_window();
  }
}

int tinyflow_app_step(void) {
  uint64_t frames = s_frames;
  uint32_t next = s_next;
  if (TINYFLOW_APP_AUTOSTART && !s_autostart_done) {
    s_autostart_done = 1;
    (void)tinyflow_app_start(0); /* on failure the device still serves the link: the host can ask */
  }
  if (s_running) {
    pump();
  }
  return s_frames != frames || s_next != next;
}

/* ---- the link: CLASSIFY_START, PREDICTIONS, CLASSIFY_STOP ---------------------------------- */

static void send_start_reply(uint16_t seq) {
  tinyflow_frame_writer_t w;
  uint16_t classes = class_count(&tinyflow_pipeline_info()->outputs[0]);
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_CLASSIFY_START, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, s_window);
  tinyflow_frame_put_u8(&w, s_channels);
  tinyflow_frame_put_u32(&w, s_rate_hz);
  tinyflow_frame_put_u16(&w, classes);
  (void)tinyflow_frame_end(&w);
}

void tinyflow_app_handle_start(uint16_t seq, const uint8_t *body, uint32_t len) {
  uint32_t stride;
  uint32_t bits;
  float below = 0.0f;
  int status;
  if (len != 4 && len != 8) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_CLASSIFY_START, 0, 8,
                             "CLASSIFY_START body is not a u32 stride [, f32 sample_below]");
    return;
  }
  stride = tinyflow_core_get_u32(body);
  if (len == 8) { /* the opt-in: keep windows whose top-1 confidence is below this */
    bits = tinyflow_core_get_u32(body + 4);
    memcpy(&below, &bits, sizeof below);
  }
  if (s_running && s_start_valid && seq == s_start_seq && stride == s_start_stride &&
      memcmp(&below, &s_start_below, sizeof below) == 0) {
    send_start_reply(seq); /* a retry: this start already ran, do not restart the stream */
    return;
  }
  s_start_valid = 0;
  status = tinyflow_app_start(stride);
  if (status == 0 && tinyflow_app_sample_below(below) != 0) {
    tinyflow_app_stop();
    status = NO_SAMPLING;
  }
  if (status <= -100) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_NOT_READY, TINYFLOW_MSG_CLASSIFY_START, 0, (uint32_t)-status,
                             status == -100         ? "no front end: classify needs firmware built with one"
                             : status == -101       ? "output 0 larger than TINYFLOW_APP_OUTPUT_BYTES"
                             : status == NO_SAMPLING ? "window larger than TINYFLOW_APP_SAMPLE_BYTES: no sampling"
                                                     : "model init failed");
    return;
  }
  if (status != 0) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_NO_SENSOR, TINYFLOW_MSG_CLASSIFY_START, 0, (uint32_t)-status,
                             "no sensor at the front end's rate and channels");
    return;
  }
  s_start_valid = 1;
  s_start_seq = seq;
  s_start_stride = stride;
  s_start_below = below;
  send_start_reply(seq);
}

void tinyflow_app_handle_predictions(uint16_t seq, const uint8_t *body, uint32_t len) {
  tinyflow_frame_writer_t w;
  uint32_t next;
  uint32_t first;
  uint32_t count;
  uint32_t i;
  if (len != 5) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_PREDICTIONS, 0, 5,
                             "PREDICTIONS body is not u32 next_index, u8 max");
    return;
  }
  next = tinyflow_core_get_u32(body);
  next = next < s_next ? next : s_next; /* nothing beyond what exists can be acknowledged */
  s_acked = next > s_acked ? next : s_acked;
  first = s_next > TINYFLOW_APP_QUEUE && s_next - TINYFLOW_APP_QUEUE > next ? s_next - TINYFLOW_APP_QUEUE : next;
  count = s_next - first;
  if (count == 0 && !s_running) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_NOT_RUNNING, TINYFLOW_MSG_PREDICTIONS, 0, (uint32_t)-s_end_status,
                             s_end_status == TINYFLOW_SENSOR_ENDED ? "the sensor stream ended"
                             : s_end_status == END_MODEL_FAILED    ? "the model failed"
                                                                   : "not classifying");
    return;
  }
  count = count < body[4] ? count : body[4];
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_PREDICTIONS, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, first);
  tinyflow_frame_put_u8(&w, (uint8_t)count);
  tinyflow_frame_put_u32(&w, s_dropped);
  for (i = 0; i < count; ++i) {
    const entry_t *e = &s_queue[(first + i) % TINYFLOW_APP_QUEUE];
    tinyflow_frame_put_u32(&w, e->index);
    tinyflow_frame_put_u32(&w, (uint32_t)e->ticks64);
    tinyflow_frame_put_u32(&w, (uint32_t)(e->ticks64 >> 32));
    tinyflow_frame_put_u32(&w, e->read_ticks);
    tinyflow_frame_put_u32(&w, e->frontend_ticks);
    tinyflow_frame_put_u32(&w, e->model_ticks);
    tinyflow_frame_put_u16(&w, e->top1);
    tinyflow_frame_put(&w, e->output, s_out_bytes);
  }
  (void)tinyflow_frame_end(&w);
}

void tinyflow_app_handle_stop(uint16_t seq) {
  tinyflow_frame_writer_t w;
  if (s_running) {
    finish(0);
  }
  s_start_valid = 0;
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_CLASSIFY_STOP, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, s_next);
  tinyflow_frame_put_u32(&w, s_dropped);
  (void)tinyflow_frame_end(&w);
}

/* WINDOW: u32 index, u32 offset, u16 max -> u32 index, u8 held, u32 total, u32 offset, u16 n, n bytes.
 * Read-only, so any retry is safe; held 0 (total 0): that window was not kept or was overwritten. */
void tinyflow_app_handle_window(uint16_t seq, const uint8_t *body, uint32_t len) {
  tinyflow_frame_writer_t w;
  uint32_t index;
  uint32_t offset;
  uint32_t total = 0;
  uint32_t n;
  uint32_t i;
  const uint8_t *data = 0;
  if (len != 10) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_WINDOW, 0, 10,
                             "WINDOW body is not u32 index, u32 offset, u16 max");
    return;
  }
  index = tinyflow_core_get_u32(body);
  offset = tinyflow_core_get_u32(body + 4);
  for (i = 0; i < (uint32_t)KEPT_SLOTS && TINYFLOW_APP_SAMPLES > 0; ++i) {
    if (s_kept_valid[i] && s_kept_index[i] == index) {
      total = s_window * s_channels * (uint32_t)sizeof(int16_t);
      data = (const uint8_t *)(const void *)s_kept[i];
    }
  }
  if (data != 0 && offset > total) { /* a window not held is answered held 0 at any offset */
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_OFFSET, TINYFLOW_MSG_WINDOW, 0, total,
                             "WINDOW offset is beyond the kept window");
    return;
  }
  n = data != 0 ? total - offset : 0u;
  n = n < tinyflow_core_get_u16(body + 8) ? n : tinyflow_core_get_u16(body + 8);
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_WINDOW, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, index);
  tinyflow_frame_put_u8(&w, data != 0);
  tinyflow_frame_put_u32(&w, total);
  tinyflow_frame_put_u32(&w, offset);
  tinyflow_frame_put_u16(&w, (uint16_t)n);
  if (n > 0) {
    tinyflow_frame_put(&w, data + offset, n);
  }
  (void)tinyflow_frame_end(&w);
}

#elif !TINYFLOW_PROTOCOL_EEMBC
/* Built with TINYFLOW_APP=0: the loop still calls the step; the requests are unknown here. */
#include "tinyflow/core.h"
#include "tinyflow/protocol.h"

static void not_built(uint16_t seq, uint8_t type) {
  tinyflow_core_send_error(seq, TINYFLOW_ERR_UNKNOWN_TYPE, type, 0, type, "application mode not built (TINYFLOW_APP=0)");
}

int tinyflow_app_step(void) { return 0; }

int tinyflow_app_running(void) { return 0; }

void tinyflow_app_stop(void) {}

void tinyflow_app_handle_start(uint16_t seq, const uint8_t *body, uint32_t len) {
  (void)body;
  (void)len;
  not_built(seq, TINYFLOW_MSG_CLASSIFY_START);
}

void tinyflow_app_handle_predictions(uint16_t seq, const uint8_t *body, uint32_t len) {
  (void)body;
  (void)len;
  not_built(seq, TINYFLOW_MSG_PREDICTIONS);
}

void tinyflow_app_handle_stop(uint16_t seq) { not_built(seq, TINYFLOW_MSG_CLASSIFY_STOP); }

void tinyflow_app_handle_window(uint16_t seq, const uint8_t *body, uint32_t len) {
  (void)body;
  (void)len;
  not_built(seq, TINYFLOW_MSG_WINDOW);
}
#else
/* EEMBC build: no application mode; the shared loop still calls the step. */
int tinyflow_app_step(void);
int tinyflow_app_step(void) { return 0; }
#endif
