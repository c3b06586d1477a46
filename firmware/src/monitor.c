/* Monitor mode (docs/protocol.md, MONITOR 0x0E): running statistics of what the model sees, kept
 * on the device and read by the host (`tinyflow monitor`) to detect drift. Raw inputs never leave
 * the device: only counts, sums and histograms do.
 *
 * Per feature column (the last axis of the model's input, at most TINYFLOW_MONITOR_COLUMNS): the
 * element count, sum, sum of squares and a 16-bin histogram of the quantized value (bin = the
 * value's top 4 bits, offset to unsigned: a shift, no division), over at most
 * TINYFLOW_MONITOR_SAMPLE_ROWS rows per inference (a row subsample, below). Per inference: a 16-bin histogram
 * of the top-1 confidence of output 0 and the top-1 class counts. The out-of-distribution signals
 * are the count of input elements at the dtype's limits (saturation: the signal left the range
 * the model was calibrated for) and the low-confidence share of the confidence histogram.
 *
 * Who calls what: device.c (INFER) calls tinyflow_monitor_begin() just before the invoke, because
 * runtimes reuse the input's memory during an invoke, and tinyflow_monitor_observe() after a
 * successful one; app.c calls tinyflow_monitor_observe() after its invoke. With a front end the
 * features (the model's input as the front end filled it) are read from the pipeline's last
 * output after the invoke instead. No malloc; every loop is bounded by the model's tensor sizes.
 *
 * Build with -DTINYFLOW_MONITOR=0 to leave it out (the hooks become empty, MONITOR is unknown). */
#include "tinyflow/config.h"

#if !TINYFLOW_PROTOCOL_EEMBC

#include <string.h>

#include "tinyflow/core.h"
#include "tinyflow/hal.h"
#include "tinyflow/pipeline.h"
#include "tinyflow/protocol.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#endif

#ifndef TINYFLOW_MONITOR
#define TINYFLOW_MONITOR 1
#endif

#if TINYFLOW_MONITOR

#ifndef TINYFLOW_MONITOR_COLUMNS
#define TINYFLOW_MONITOR_COLUMNS 64
#endif
#ifndef TINYFLOW_MONITOR_CLASSES
#define TINYFLOW_MONITOR_CLASSES 32
#endif

/* Inputs of more rows than this are subsampled: every k-th row from row 0, k = ceil(rows / N), so
 * at most N rows per inference (a 96x96 image: every 9th of 9,216 rows) and the cost stays well
 * under 2% of the model's (bench/monitor.py). Counts are of the sampled rows, so every statistic
 * the host derives stays exact for what was observed. tinyflow.monitor.reference applies the same rule. */
#ifndef TINYFLOW_MONITOR_SAMPLE_ROWS
#define TINYFLOW_MONITOR_SAMPLE_ROWS 1024
#endif
#if TINYFLOW_MONITOR_SAMPLE_ROWS < 1
#error "TINYFLOW_MONITOR_SAMPLE_ROWS must be at least 1"
#endif

#define MONITOR_VERSION 1u
#define BINS 16u
#define BLOCK_ROWS 65536u /* rows whose 32-bit sums of u and u^2 cannot overflow (65536 x 255^2 < 2^32) */
#define FLAG_FEATURES 0x01u
#define FLAG_REPLAYED 0x02u
#define FLAG_FRONTEND 0x04u
#define REQ_RESET 0x01u

typedef struct {
  int64_t sum;
  uint64_t sumsq;
  uint32_t su; /* 8-bit inputs: sums of u = value offset to unsigned, since the last flush */
  uint32_t sq;
  uint32_t hist[BINS];
} column_t;

static column_t s_cols[TINYFLOW_MONITOR_COLUMNS];
static uint32_t s_rows;    /* values each tracked column has seen: the same for every column */
static uint32_t s_pending; /* rows in the columns' 32-bit sums (at most BLOCK_ROWS) */
static uint32_t s_offset;  /* what u is offset by: 128 for int8, 0 for uint8 */
static uint32_t s_conf_hist[BINS];
static uint32_t s_classes[TINYFLOW_MONITOR_CLASSES];
static uint32_t s_class_other;
static uint32_t s_windows;
static uint64_t s_elements;
static uint64_t s_saturated;
static uint32_t s_ticks; /* spent in the monitor since the last reset: its cost, measured by itself */
static uint32_t s_epoch; /* resets since boot */
static uint8_t s_reset_valid;
static uint16_t s_reset_seq;

/* The tensor the feature statistics come from: the model's input 0, or with a front end the
 * pipeline's features output (the model's input exactly as the front end filled it). */
static const tinyflow_tensor_spec_t *feature_spec(const uint8_t **data, int after_invoke) {
  const tinyflow_model_info_t *info = tinyflow_pipeline_info();
  if (info == 0 || info->num_inputs == 0 || info->num_outputs == 0) {
    return 0;
  }
  if (tinyflow_pipeline_kind() != TINYFLOW_PIPELINE_NONE) {
    if (!after_invoke || info->num_outputs < 2) {
      return 0;
    }
    *data = tinyflow_pipeline_output(info->num_outputs - 1);
    return &info->outputs[info->num_outputs - 1];
  }
  if (after_invoke) {
    return 0;
  }
  *data = tinyflow_pipeline_input(0); /* NULL for a streamed input: its rows are seen as they stream */
  return &info->inputs[0];
}

static uint32_t last_dim(const tinyflow_tensor_spec_t *s) {
  int32_t d = s->rank > 0 && s->rank <= TINYFLOW_MAX_DIMS ? s->dims[s->rank - 1] : 1;
  return d > 0 ? (uint32_t)d : 1u;
}

/* Row step of the subsample: 1 (every row) up to TINYFLOW_MONITOR_SAMPLE_ROWS rows. */
static uint32_t sample_step(uint32_t rows) {
  const uint32_t n = TINYFLOW_MONITOR_SAMPLE_ROWS;
  return rows > n ? (rows + n - 1u) / n : 1u;
}

/* Move the columns' 32-bit sums of u into the signed 64-bit sums: sum(v) = sum(u) - n*off,
 * sum(v^2) = sum(u^2) - 2*off*sum(u) + n*off^2 over the n pending rows. */
static void flush(void) {
  int64_t off = (int64_t)s_offset;
  int64_t n = (int64_t)s_pending;
  uint32_t c;
  for (c = 0; c < TINYFLOW_MONITOR_COLUMNS && s_pending > 0u; ++c) {
    column_t *col = &s_cols[c];
    col->sum += (int64_t)col->su - n * off;
    col->sumsq += (uint64_t)((int64_t)col->sq - 2 * off * (int64_t)col->su + n * off * off);
    col->su = 0;
    col->sq = 0;
  }
  s_pending = 0;
}

/* `rows` (<= BLOCK_ROWS) rows of 8-bit values, `stride` bytes apart. The loop works on u = the value offset to unsigned
 * (int8: the byte with its top bit flipped; uint8: the byte): its bin is u >> 4, and its 32-bit
 * sums wait for flush() until BLOCK_ROWS rows would overflow them, which keeps the cost at ~16
 * Cortex-M4 instructions per value and a few per column (bench/monitor.py). */
static void rows_8(const uint8_t *data, uint32_t rows, uint32_t stride, uint32_t cols, uint32_t flip) {
  uint32_t c;
  uint32_t sat = 0;
  if (s_pending + rows > BLOCK_ROWS || s_offset != (flip ? 128u : 0u)) {
    flush();
    s_offset = flip ? 128u : 0u;
  }
  for (c = 0; c < cols; ++c) {
    column_t *col = &s_cols[c];
    uint32_t *hist = col->hist;
    uint32_t su = col->su;
    uint32_t sq = col->sq; /* at most 65536 x 255^2 < 2^32 */
    const uint8_t *q = data + c;
    uint32_t r;
    for (r = 0; r < rows; ++r, q += stride) {
      uint32_t u = (uint32_t)*q ^ flip;
      su += u;
      sq += u * u;
      hist[u >> 4]++;
      sat += (u - 1u) >= 254u; /* u is 0 or 255: the value sits at a limit of its type */
    }
    col->su = su;
    col->sq = sq;
  }
  s_pending += rows;
  s_saturated += sat;
}

static void column_16(column_t *c, const uint8_t *p, uint32_t rows, uint32_t stride) {
  uint32_t r;
  uint32_t sat = 0;
  int64_t sum = 0;
  uint64_t sq = 0;
  for (r = 0; r < rows; ++r, p += stride) {
    int16_t v16;
    int32_t v;
    uint32_t u;
    memcpy(&v16, p, sizeof v16); /* inputs may sit at odd offsets in a packed buffer */
    v = v16;
    u = (uint32_t)(v + 32768);
    sum += v;
    sq += (uint64_t)((int64_t)v * v);
    c->hist[u >> 12]++;
    sat += (u == 0u) | (u == 65535u);
  }
  c->sum += sum;
  c->sumsq += sq;
  s_saturated += sat;
}

static int feature_stats(const tinyflow_tensor_spec_t *s, const uint8_t *data) {
  uint32_t size = s->dtype == TINYFLOW_DTYPE_INT16 ? 2u : 1u;
  uint32_t dim = last_dim(s);
  uint32_t rows;
  uint32_t step;
  uint32_t cols;
  uint32_t c;
  uint32_t r0;
  if (data == 0 || (s->dtype != TINYFLOW_DTYPE_INT8 && s->dtype != TINYFLOW_DTYPE_UINT8 &&
                    s->dtype != TINYFLOW_DTYPE_INT16)) {
    return 0; /* float inputs: no feature statistics */
  }
  rows = s->bytes / size / dim;
  step = sample_step(rows);
  rows = (rows + step - 1u) / step; /* the sampled rows: 0, step, 2 step, ... */
  cols = dim < TINYFLOW_MONITOR_COLUMNS ? dim : TINYFLOW_MONITOR_COLUMNS;
  if (size == 2u) {
    for (c = 0; c < cols; ++c) {
      column_16(&s_cols[c], data + (size_t)c * 2u, rows, dim * 2u * step);
    }
  } else {
    for (r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
      uint32_t n = rows - r0 < BLOCK_ROWS ? rows - r0 : BLOCK_ROWS;
      rows_8(data + (size_t)r0 * step * dim, n, dim * step, cols, s->dtype == TINYFLOW_DTYPE_INT8 ? 0x80u : 0u);
    }
  }
  s_rows += rows;
  s_elements += (uint64_t)rows * cols;
  return 1;
}

static float dequantize(const tinyflow_tensor_spec_t *s, const uint8_t *p, uint32_t i) {
  int32_t q;
  float f;
  switch (s->dtype) {
    case TINYFLOW_DTYPE_FLOAT32: memcpy(&f, p + (size_t)i * 4u, sizeof f); return f;
    case TINYFLOW_DTYPE_INT16: {
      int16_t v;
      memcpy(&v, p + (size_t)i * 2u, sizeof v);
      q = v;
      break;
    }
    case TINYFLOW_DTYPE_UINT8: q = p[i]; break;
    default: q = (int8_t)p[i]; break;
  }
  return s->scale > 0.0f ? (float)(q - s->zero_point) * s->scale : (float)q;
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* Index of the first largest of n (>= 1) 8-bit values in two passes of ~1 instruction per value
 * instead of one of ~5: the largest value, four lanes at a time (SSUB8/USUB8 set each lane's GE
 * flag where w >= m, SEL keeps those lanes of w), then the first word holding it. */
static uint32_t argmax_8(const uint8_t *p, uint32_t n, uint32_t flip) {
  uint32_t m = p[0] * 0x01010101u; /* every lane starts at an element: a lower bound of the max */
  uint32_t top = 0;
  uint32_t want;
  uint32_t i;
  uint32_t w;
  for (i = 0; i + 4u <= n; i += 4u) {
    memcpy(&w, p + i, 4); /* one unaligned LDR */
    if (flip) {
      (void)__ssub8((int32_t)w, (int32_t)m);
    } else {
      (void)__usub8(w, m);
    }
    m = __sel(w, m);
  }
  for (; i < n; ++i) {
    uint32_t u = p[i] ^ flip;
    top = u > top ? u : top;
  }
  for (i = 0; i < 4u; ++i, m >>= 8) {
    uint32_t u = (m & 0xFFu) ^ flip;
    top = u > top ? u : top;
  }
  want = (top ^ flip) * 0x01010101u;
  for (i = 0; i + 4u <= n; i += 4u) {
    memcpy(&w, p + i, 4);
    w ^= want; /* a zero byte where the value is the max */
    if (((w - 0x01010101u) & ~w & 0x80808080u) != 0u) {
      break;
    }
  }
  while ((p[i] ^ flip) != top) {
    ++i; /* the max is in this word or the tail: the scan stops by n */
  }
  return i;
}
#else
/* Index of the first largest of n (>= 1) 8-bit values (int8 order = (byte ^ 0x80) order). */
static uint32_t argmax_8(const uint8_t *p, uint32_t n, uint32_t flip) {
  uint32_t top = p[0] ^ flip;
  uint32_t best = 0;
  uint32_t i;
  for (i = 1; i < n; ++i) {
    uint32_t v = p[i] ^ flip;
    if (v > top) {
      top = v;
      best = i;
    }
  }
  return best;
}
#endif

/* Index of the first largest value of n (>= 1) values of output 0, compared in their own type:
 * dequantization with a positive scale keeps the order, so only the winner is dequantized. */
static uint32_t argmax(const tinyflow_tensor_spec_t *s, const uint8_t *p, uint32_t n) {
  uint32_t i;
  uint32_t best = 0;
  if (s->dtype == TINYFLOW_DTYPE_INT8 || s->dtype == TINYFLOW_DTYPE_UINT8) {
    return argmax_8(p, n, s->dtype == TINYFLOW_DTYPE_INT8 ? 0x80u : 0u);
  }
  {
    float top = dequantize(s, p, 0);
    for (i = 1; i < n; ++i) {
      float v = dequantize(s, p, i);
      if (v > top) {
        top = v;
        best = i;
      }
    }
  }
  return best;
}

/* Top-1 class and its confidence (the dequantized top value) of output 0. */
static void output_stats(void) {
  const tinyflow_model_info_t *info = tinyflow_pipeline_info();
  const tinyflow_tensor_spec_t *s;
  const uint8_t *p;
  uint32_t size;
  uint32_t n;
  uint32_t best;
  float top;
  int32_t bin;
  if (info == 0 || info->num_outputs == 0) {
    return;
  }
  s = &info->outputs[0];
  p = tinyflow_pipeline_output(0);
  size = s->dtype == TINYFLOW_DTYPE_FLOAT32 ? 4u : s->dtype == TINYFLOW_DTYPE_INT16 ? 2u : 1u;
  n = s->bytes / size;
  if (p == 0 || n == 0 || s->dtype == TINYFLOW_DTYPE_INT32) {
    return;
  }
  /* A zero scale means values as they are: the quantized order is then the value order too. */
  best = argmax(s, p, n);
  top = dequantize(s, p, best);
  /* !(top > 0) also takes NaN: a float output gone wrong lands in bin 0, not in undefined behaviour */
  bin = !(top > 0.0f) ? 0 : top >= 1.0f ? (int32_t)BINS - 1 : (int32_t)(top * (float)BINS);
  s_conf_hist[bin > (int32_t)BINS - 1 ? BINS - 1 : (uint32_t)bin]++;
  if (best < TINYFLOW_MONITOR_CLASSES) {
    s_classes[best]++;
  } else {
    s_class_other++;
  }
  s_windows++;
}

/* A streamed input (model.h TINYFLOW_MODEL_INPUT_STREAMED) is never whole: device.c hands each
 * chunk the model accepted here, in order. The bytes of one sample (tag) count once: a restart at
 * offset 0 (a retry resends the same sample) counts only bytes past the furthest already counted;
 * the sample's INFER (tinyflow_monitor_begin) closes it. Streamed inputs are 8-bit. */
static uint32_t s_stream_counted;
static uint16_t s_stream_tag;
static uint8_t s_stream_open;

/* The values of one row's columns [col, col + n) in a sampled row. */
static void stream_row(const uint8_t *data, uint32_t col, uint32_t n, uint32_t cols, uint32_t flip) {
  int32_t off = flip ? 128 : 0;
  uint32_t i;
  for (i = 0; i < n && col + i < cols; ++i) {
    column_t *c = &s_cols[col + i];
    uint32_t u = (uint32_t)data[i] ^ flip;
    int32_t v = (int32_t)u - off;
    c->sum += v;
    c->sumsq += (uint64_t)((int64_t)v * v);
    c->hist[u >> 4]++;
    s_saturated += (u - 1u) >= 254u;
    s_elements++;
  }
}

/* The stream's bytes [offset, offset + len): the rows of the same subsample as feature_stats. */
static void stream_bytes(const tinyflow_tensor_spec_t *s, uint32_t offset, const uint8_t *data, uint32_t len) {
  uint32_t dim = last_dim(s);
  uint32_t cols = dim < TINYFLOW_MONITOR_COLUMNS ? dim : TINYFLOW_MONITOR_COLUMNS;
  uint32_t flip = s->dtype == TINYFLOW_DTYPE_INT8 ? 0x80u : 0u;
  uint32_t step = sample_step(s->bytes / dim);
  uint32_t col = offset % dim;
  uint32_t phase = (offset / dim) % step; /* 0: a sampled row */
  uint32_t i = 0;
  while (i < len) {
    uint32_t n = dim - col < len - i ? dim - col : len - i; /* the rest of this row in this chunk */
    if (phase == 0u) {
      stream_row(data + i, col, n, cols, flip);
    }
    i += n;
    col += n;
    if (col == dim) {
      s_rows += phase == 0u;
      col = 0;
      phase = phase + 1u == step ? 0u : phase + 1u;
    }
  }
}

void tinyflow_monitor_input_stream(uint16_t tag, uint32_t offset, const uint8_t *data, uint32_t len) {
  uint32_t t0 = tinyflow_hal_ticks();
  const tinyflow_model_info_t *info = tinyflow_pipeline_info();
  uint32_t skip;
  if (info == 0 || info->num_inputs == 0 ||
      (info->inputs[0].dtype != TINYFLOW_DTYPE_INT8 && info->inputs[0].dtype != TINYFLOW_DTYPE_UINT8)) {
    return;
  }
  if (!s_stream_open || tag != s_stream_tag) {
    s_stream_open = 1;
    s_stream_tag = tag;
    s_stream_counted = 0;
  }
  if (offset > s_stream_counted || len <= s_stream_counted - offset) {
    return; /* counted already (or a gap, which the device never passes on) */
  }
  skip = s_stream_counted - offset;
  stream_bytes(&info->inputs[0], s_stream_counted, data + skip, len - skip);
  s_stream_counted = offset + len;
  s_ticks += tinyflow_hal_ticks() - t0;
}

void tinyflow_monitor_begin(void) {
  uint32_t t0 = tinyflow_hal_ticks();
  s_stream_open = 0; /* the streamed sample, if any, is complete: the next one counts anew */
  const uint8_t *data = 0;
  const tinyflow_tensor_spec_t *s = feature_spec(&data, 0);
  if (s != 0) {
    (void)feature_stats(s, data);
  }
  s_ticks += tinyflow_hal_ticks() - t0;
}

void tinyflow_monitor_observe(void) {
  uint32_t t0 = tinyflow_hal_ticks();
  const uint8_t *data = 0;
  const tinyflow_tensor_spec_t *s = feature_spec(&data, 1);
  if (s != 0) {
    (void)feature_stats(s, data);
  }
  output_stats();
  s_ticks += tinyflow_hal_ticks() - t0;
}

static void reset(void) {
  memset(s_cols, 0, sizeof s_cols);
  s_rows = 0;
  s_pending = 0;
  memset(s_conf_hist, 0, sizeof s_conf_hist);
  memset(s_classes, 0, sizeof s_classes);
  s_class_other = 0;
  s_windows = 0;
  s_elements = 0;
  s_saturated = 0;
  s_ticks = 0;
  s_epoch++;
}

static void put_u64(tinyflow_frame_writer_t *w, uint64_t v) {
  tinyflow_frame_put_u32(w, (uint32_t)v);
  tinyflow_frame_put_u32(w, (uint32_t)(v >> 32));
}

static void put_hist(tinyflow_frame_writer_t *w, const uint32_t *h) {
  uint32_t b;
  for (b = 0; b < BINS; ++b) {
    tinyflow_frame_put_u32(w, h[b]);
  }
}

static void send_stats(uint16_t seq, uint8_t flags) {
  const tinyflow_model_info_t *info = tinyflow_pipeline_info();
  const uint8_t *data = 0;
  const tinyflow_tensor_spec_t *s = feature_spec(&data, tinyflow_pipeline_kind() != TINYFLOW_PIPELINE_NONE);
  const tinyflow_tensor_spec_t *out = info != 0 && info->num_outputs > 0 ? &info->outputs[0] : 0;
  int tracked = s != 0 && (s->dtype == TINYFLOW_DTYPE_INT8 || s->dtype == TINYFLOW_DTYPE_UINT8 ||
                           s->dtype == TINYFLOW_DTYPE_INT16);
  uint32_t dim = s != 0 ? last_dim(s) : 0u;
  uint32_t cols = !tracked ? 0u : dim < TINYFLOW_MONITOR_COLUMNS ? dim : TINYFLOW_MONITOR_COLUMNS;
  uint32_t size = out == 0 ? 1u : out->dtype == TINYFLOW_DTYPE_FLOAT32 ? 4u : out->dtype == TINYFLOW_DTYPE_INT16 ? 2u : 1u;
  uint32_t nout = out != 0 ? out->bytes / size : 0u;
  uint32_t classes = nout < TINYFLOW_MONITOR_CLASSES ? nout : TINYFLOW_MONITOR_CLASSES;
  uint32_t c;
  tinyflow_frame_writer_t w;
  flush();
  flags = (uint8_t)(flags | (tracked ? FLAG_FEATURES : 0u) |
                    (tinyflow_pipeline_kind() != TINYFLOW_PIPELINE_NONE ? FLAG_FRONTEND : 0u));
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_MONITOR, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u8(&w, (uint8_t)MONITOR_VERSION);
  tinyflow_frame_put_u8(&w, flags);
  tinyflow_frame_put_u8(&w, s != 0 ? s->dtype : 0u);
  tinyflow_frame_put_u8(&w, out != 0 ? out->dtype : 0u);
  tinyflow_frame_put_u32(&w, s_epoch);
  tinyflow_frame_put_u32(&w, s_windows);
  tinyflow_frame_put_u32(&w, s_ticks);
  put_u64(&w, s_elements);
  put_u64(&w, s_saturated);
  tinyflow_frame_put_u16(&w, (uint16_t)cols);
  tinyflow_frame_put_u16(&w, (uint16_t)(dim > 0xFFFFu ? 0xFFFFu : dim));
  tinyflow_frame_put_u16(&w, (uint16_t)classes);
  tinyflow_frame_put_u8(&w, (uint8_t)BINS);
  put_hist(&w, s_conf_hist);
  for (c = 0; c < classes; ++c) {
    tinyflow_frame_put_u32(&w, s_classes[c]);
  }
  tinyflow_frame_put_u32(&w, s_class_other);
  for (c = 0; c < cols; ++c) {
    tinyflow_frame_put_u32(&w, s_rows);
    put_u64(&w, (uint64_t)s_cols[c].sum);
    put_u64(&w, s_cols[c].sumsq);
    put_hist(&w, s_cols[c].hist);
  }
  (void)tinyflow_frame_end(&w);
}

/* MONITOR: body u8 flags (bit 0: reset after reading). Retry-safe by seq: a resent request whose
 * seq already reset the statistics does not reset them again (its reply has FLAG_REPLAYED and shows
 * what came after the reset), so a lost reply never drops the observations made since. */
void tinyflow_monitor_handle(uint16_t seq, const uint8_t *body, uint32_t len) {
  int replay;
  if (len != 1u) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_MONITOR, 0, 1u, "MONITOR body is u8 flags");
    return;
  }
  replay = s_reset_valid && s_reset_seq == seq;
  send_stats(seq, replay ? (uint8_t)FLAG_REPLAYED : 0u);
  s_reset_valid = 0;
  if ((body[0] & REQ_RESET) != 0u) {
    if (!replay) {
      reset();
    }
    s_reset_valid = 1;
    s_reset_seq = seq;
  }
}

#else /* TINYFLOW_MONITOR == 0: the hooks cost a call; MONITOR is answered as an unknown type. */

void tinyflow_monitor_begin(void) {}

void tinyflow_monitor_observe(void) {}

void tinyflow_monitor_input_stream(uint16_t tag, uint32_t offset, const uint8_t *data, uint32_t len) {
  (void)tag;
  (void)offset;
  (void)data;
  (void)len;
}

void tinyflow_monitor_handle(uint16_t seq, const uint8_t *body, uint32_t len) {
  (void)body;
  (void)len;
  tinyflow_core_send_error(seq, TINYFLOW_ERR_UNKNOWN_TYPE, TINYFLOW_MSG_MONITOR, 0, TINYFLOW_MSG_MONITOR,
                           "monitor mode not built (TINYFLOW_MONITOR=0)");
}

#endif /* TINYFLOW_MONITOR */

#else
typedef int tinyflow_monitor_unused_t; /* EEMBC build: no monitor */
#endif
