/* tinyflow device core, binary protocol v1 (docs/protocol.md): receive, dispatch, reply.
 * Hardware only through hal.h, the model only through model.h; no malloc, bounded loops. */
#include "tinyflow/config.h"

#if !TINYFLOW_PROTOCOL_EEMBC

#include <string.h>

#include "tinyflow/core.h"
#include "tinyflow/device.h"
#include "tinyflow/hal.h"
#include "tinyflow/pipeline.h"
#include "tinyflow/protocol.h"

#define MAX_TENSORS 16 /* inputs/outputs beyond this make the model NOT_READY */

static uint8_t s_rx_buf[TINYFLOW_RX_BYTES];
static tinyflow_cobs_decoder_t s_rx;
static uint32_t s_boot_count;
static uint32_t s_boot_ticks;
static uint32_t s_infer_count;
static uint32_t s_rx_frames;
static uint32_t s_rx_errors;
static int s_model_status = -1;
static const tinyflow_model_info_t *s_info;
static uint32_t s_input_total;
static uint32_t s_output_total;
/* Chunked input: bytes staged so far and the INFER seq (tag) they belong to. */
static uint32_t s_staged;
static uint16_t s_staged_tag;
static uint8_t s_offset_error_sent; /* one BAD_OFFSET per broken upload, not one per chunk */
/* A streamed input (model.h TINYFLOW_MODEL_INPUT_STREAMED): the model takes the staged bytes as they
 * come and runs its first layers then; that work is billed to the sample's INFER, and its first
 * refusal fails it. */
static uint32_t s_stream_ticks;
static int s_stream_status;
static uint32_t s_op_ticks[TINYFLOW_MAX_OPS];
/* The last executed INFER's reply, resent when the same seq comes again. */
static uint8_t s_cache_valid;
static uint16_t s_cache_seq;
static uint32_t s_cache_ticks;
static uint32_t s_cache_count;
static uint8_t s_cache_out[TINYFLOW_REPLY_CACHE_BYTES];

static int hal_write_fn(const uint8_t *buf, size_t len) { return tinyflow_hal_write(buf, len); }

static uint32_t get_u16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }

static uint32_t get_u32(const uint8_t *p) { return get_u16(p) | (get_u16(p + 2) << 16); }

int tinyflow_core_write(const uint8_t *buf, size_t len) { return tinyflow_hal_write(buf, len); }

uint32_t tinyflow_core_get_u16(const uint8_t *p) { return get_u16(p); }

uint32_t tinyflow_core_get_u32(const uint8_t *p) { return get_u32(p); }

uint32_t tinyflow_core_boot_count(void) { return s_boot_count; }

int tinyflow_core_model_status(void) { return s_model_status; }

static uint32_t to_micros(uint32_t ticks) {
  uint32_t tps = tinyflow_hal_ticks_per_second();
  return tps == 0 ? 0u : (uint32_t)(((uint64_t)ticks * 1000000u) / tps);
}

static void send_error(uint16_t seq, uint8_t code, uint8_t req_type, uint16_t tag, uint32_t detail, const char *msg) {
  tinyflow_frame_writer_t w;
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_ERROR, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u8(&w, code);
  tinyflow_frame_put_u8(&w, req_type);
  tinyflow_frame_put_u16(&w, tag);
  tinyflow_frame_put_u32(&w, detail);
  tinyflow_frame_put_str(&w, msg);
  (void)tinyflow_frame_end(&w);
}

void tinyflow_core_send_error(uint16_t seq, uint8_t code, uint8_t req_type, uint16_t tag, uint32_t detail,
                              const char *msg) {
  send_error(seq, code, req_type, tag, detail, msg);
}

static void put_spec(tinyflow_frame_writer_t *w, const tinyflow_tensor_spec_t *s) {
  uint8_t rank = s->rank > TINYFLOW_MAX_DIMS ? TINYFLOW_MAX_DIMS : s->rank;
  uint8_t i;
  uint32_t scale_bits;
  memcpy(&scale_bits, &s->scale, sizeof scale_bits);
  tinyflow_frame_put_u8(w, s->dtype);
  tinyflow_frame_put_u8(w, rank);
  for (i = 0; i < rank; ++i) {
    tinyflow_frame_put_u32(w, (uint32_t)s->dims[i]);
  }
  tinyflow_frame_put_u32(w, scale_bits);
  tinyflow_frame_put_u32(w, (uint32_t)s->zero_point);
  tinyflow_frame_put_u32(w, s->bytes);
}

static void handle_hello(uint16_t seq) {
  static const uint8_t kNoHash[8] = {0};
  const tinyflow_model_info_t *m = s_info;
  int ready = s_model_status == 0 && m != 0;
  uint16_t i;
  tinyflow_frame_writer_t w;
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_HELLO, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u8(&w, TINYFLOW_PROTOCOL_VERSION);
  tinyflow_frame_put_u8(&w, (uint8_t)(s_model_status < -128 ? -128 : s_model_status));
  tinyflow_frame_put_u16(&w, (uint16_t)TINYFLOW_RX_BYTES);
  tinyflow_frame_put_u32(&w, (uint32_t)TINYFLOW_RX_QUEUE_BYTES);
  tinyflow_frame_put_u32(&w, s_boot_count);
  tinyflow_frame_put_u32(&w, (uint32_t)TINYFLOW_CPU_HZ);
  tinyflow_frame_put_u32(&w, tinyflow_hal_ticks_per_second());
  tinyflow_frame_put_u32(&w, ready ? m->model_bytes : 0u);
  tinyflow_frame_put(&w, ready ? m->model_sha256 : kNoHash, 8);
  tinyflow_frame_put_u32(&w, ready ? m->arena_bytes : 0u);
  tinyflow_frame_put_u16(&w, ready ? m->num_ops : 0u);
  tinyflow_frame_put_u8(&w, (uint8_t)(ready ? m->num_inputs : 0u));
  tinyflow_frame_put_u8(&w, (uint8_t)(ready ? m->num_outputs : 0u));
  tinyflow_frame_put_str(&w, TINYFLOW_FIRMWARE_VERSION);
  tinyflow_frame_put_str(&w, TINYFLOW_BOARD_ID);
  tinyflow_frame_put_str(&w, ready ? m->runtime : "");
  tinyflow_frame_put_str(&w, ready ? m->model_name : "");
  for (i = 0; ready && i < m->num_inputs; ++i) {
    put_spec(&w, &m->inputs[i]);
  }
  for (i = 0; ready && i < m->num_outputs; ++i) {
    put_spec(&w, &m->outputs[i]);
  }
  (void)tinyflow_frame_end(&w);
}

static int streams(void) { return (s_info->flags & TINYFLOW_MODEL_INPUT_STREAMED) != 0u && s_info->input_rows != 0; }

/* Copy `len` bytes at `offset` of the concatenated inputs into the runtime's input buffers, or
 * hand them to a streamed input in order (the callers pass offset 0 or the next byte only) and to
 * the monitor; `tag` names the sample (the INFER seq). */
static void write_input(uint16_t tag, uint32_t offset, const uint8_t *data, uint32_t len) {
  uint32_t base = 0;
  uint16_t i;
  if (streams()) {
    uint32_t t0 = tinyflow_hal_ticks();
    int status;
    if (offset == 0u) {
      s_stream_ticks = 0;
      s_stream_status = 0;
    }
    status = s_info->input_rows(0, offset, data, len);
    s_stream_ticks += tinyflow_hal_ticks() - t0;
    if (status != 0 && s_stream_status == 0) {
      s_stream_status = status;
    }
    tinyflow_monitor_input_stream(tag, offset, data, len); /* after t0..: its cost is the monitor's own */
    return;
  }
  tinyflow_pipeline_input_changed(); /* the front end recomputes every row of a host's window */
  for (i = 0; i < s_info->num_inputs && len > 0; ++i) {
    uint32_t size = s_info->inputs[i].bytes;
    if (offset < base + size) {
      uint32_t at = offset - base;
      uint32_t n = size - at < len ? size - at : len;
      memcpy(tinyflow_pipeline_input(i) + at, data, n);
      data += n;
      offset += n;
      len -= n;
    }
    base += size;
  }
}

static void send_infer_reply(uint16_t seq, uint32_t ticks, uint32_t count, int from_cache) {
  tinyflow_frame_writer_t w;
  uint16_t i;
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_INFER, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, ticks);
  tinyflow_frame_put_u32(&w, to_micros(ticks));
  tinyflow_frame_put_u32(&w, s_boot_count);
  tinyflow_frame_put_u32(&w, count);
  if (from_cache) {
    tinyflow_frame_put(&w, s_cache_out, s_output_total);
  } else {
    for (i = 0; i < s_info->num_outputs; ++i) {
      tinyflow_frame_put(&w, tinyflow_pipeline_output(i), s_info->outputs[i].bytes);
    }
  }
  (void)tinyflow_frame_end(&w);
}

static void cache_outputs(uint16_t seq, uint32_t ticks) {
  uint32_t at = 0;
  uint16_t i;
  s_cache_valid = 0;
  if (s_output_total > TINYFLOW_REPLY_CACHE_BYTES) {
    return;
  }
  for (i = 0; i < s_info->num_outputs; ++i) {
    memcpy(s_cache_out + at, tinyflow_pipeline_output(i), s_info->outputs[i].bytes);
    at += s_info->outputs[i].bytes;
  }
  s_cache_valid = 1;
  s_cache_seq = seq;
  s_cache_ticks = ticks;
  s_cache_count = s_infer_count;
}

static void handle_infer(uint16_t seq, const uint8_t *body, uint32_t len) {
  uint32_t t0;
  uint32_t ticks;
  int status;
  if (s_model_status != 0) {
    send_error(seq, TINYFLOW_ERR_NOT_READY, TINYFLOW_MSG_INFER, 0, (uint32_t)-s_model_status, "model init failed");
    return;
  }
  if (s_cache_valid && seq == s_cache_seq) {
    send_infer_reply(seq, s_cache_ticks, s_cache_count, 1);
    return;
  }
  if (len == s_input_total) {
    write_input(seq, 0, body, len);
  } else if (len != 0) {
    send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_INFER, 0, s_input_total, "INFER body is not the input size");
    return;
  }
  s_offset_error_sent = 0;
  if (len == 0 && (s_staged != s_input_total || s_staged_tag != seq)) {
    send_error(seq, TINYFLOW_ERR_NOT_STAGED, TINYFLOW_MSG_INFER, s_staged_tag, s_staged, "input not fully staged");
    return;
  }
  s_staged = 0;
  tinyflow_monitor_begin();
  t0 = tinyflow_hal_ticks();
  if (streams() && s_stream_status != 0) {
    status = s_stream_status; /* the model refused part of the sample as it streamed */
  } else {
    status = tinyflow_pipeline_invoke(s_info->num_ops <= TINYFLOW_MAX_OPS ? s_op_ticks : 0);
  }
  ticks = tinyflow_hal_ticks() - t0 + (streams() ? s_stream_ticks : 0u);
  if (status != 0) {
    s_cache_valid = 0;
    send_error(seq, TINYFLOW_ERR_MODEL_FAILED, TINYFLOW_MSG_INFER, 0, (uint32_t)-status, "model invoke failed");
    return;
  }
  s_infer_count++;
  tinyflow_monitor_observe();
  cache_outputs(seq, ticks);
  send_infer_reply(seq, ticks, s_infer_count, 0);
}

static void handle_upload(uint16_t seq, uint8_t flags, const uint8_t *body, uint32_t len) {
  uint16_t tag;
  uint32_t offset;
  uint32_t n;
  tinyflow_frame_writer_t w;
  if (s_model_status != 0) {
    send_error(seq, TINYFLOW_ERR_NOT_READY, TINYFLOW_MSG_UPLOAD, 0, (uint32_t)-s_model_status, "model init failed");
    return;
  }
  if (len < 6) {
    send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_UPLOAD, 0, 6, "UPLOAD body shorter than its header");
    return;
  }
  tag = (uint16_t)get_u16(body);
  offset = get_u32(body + 2);
  n = len - 6;
  /* offset 0 starts a sample; otherwise the chunk must continue the same sample in order. */
  if (!(offset == 0 || (tag == s_staged_tag && offset == s_staged)) || offset > s_input_total ||
      n > s_input_total - offset) {
    if (!s_offset_error_sent) {
      send_error(seq, TINYFLOW_ERR_BAD_OFFSET, TINYFLOW_MSG_UPLOAD, s_staged_tag, s_staged, "chunk out of order");
    }
    s_offset_error_sent = 1;
    return;
  }
  s_offset_error_sent = 0;
  write_input(tag, offset, body + 6, n);
  s_staged_tag = tag;
  s_staged = offset + n;
  if (flags & TINYFLOW_FLAG_NOACK) {
    return;
  }
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_UPLOAD, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u16(&w, s_staged_tag);
  tinyflow_frame_put_u32(&w, s_staged);
  (void)tinyflow_frame_end(&w);
}

static void handle_profile(uint16_t seq) {
  tinyflow_frame_writer_t w;
  uint16_t n = (s_model_status == 0) ? s_info->num_ops : 0;
  uint16_t i;
  const char *name;
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_PROFILE, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u16(&w, n);
  for (i = 0; i < n; ++i) {
    tinyflow_frame_put_u32(&w, n <= TINYFLOW_MAX_OPS ? s_op_ticks[i] : 0u);
    name = tinyflow_pipeline_op_name(i);
    tinyflow_frame_put_str(&w, name ? name : "?");
  }
  (void)tinyflow_frame_end(&w);
}

/* A resync barrier: replies leave in request order, so this one tells the host that every
 * earlier request was answered or lost. 12 bytes in, 16 out: it gets through noise that
 * corrupts nearly every HELLO reply. */
static void handle_sync(uint16_t seq, const uint8_t *body, uint32_t len) {
  tinyflow_frame_writer_t w;
  if (len != TINYFLOW_SYNC_BODY_BYTES) {
    send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_SYNC, 0, TINYFLOW_SYNC_BODY_BYTES,
               "SYNC body is not a u32 nonce");
    return;
  }
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_SYNC, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put(&w, body, TINYFLOW_SYNC_BODY_BYTES);
  tinyflow_frame_put_u32(&w, s_boot_count);
  (void)tinyflow_frame_end(&w);
}

/* PIPELINE: the front end this firmware runs before the model (docs/protocol.md). */
static void handle_pipeline(uint16_t seq) {
  tinyflow_frame_writer_t w;
  int ready = s_model_status == 0 && s_info != 0;
  uint8_t kind = ready ? tinyflow_pipeline_kind() : (uint8_t)TINYFLOW_PIPELINE_NONE;
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_PIPELINE, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u8(&w, kind);
  tinyflow_frame_put_u8(&w, kind ? tinyflow_pipeline_channels() : 0u);
  tinyflow_frame_put_u32(&w, kind ? tinyflow_pipeline_sample_rate() : 0u);
  tinyflow_frame_put_u32(&w, kind ? tinyflow_pipeline_window_frames() : 0u);
  /* the features are the output after the model's own: the last one */
  tinyflow_frame_put_u16(&w, kind ? (uint16_t)(s_info->num_outputs - 1u) : 0xFFFFu);
  (void)tinyflow_frame_end(&w);
}

static void handle_stats(uint16_t seq) {
  tinyflow_frame_writer_t w;
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_STATS, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, s_model_status == 0 ? tinyflow_pipeline_arena_used() : 0u);
  tinyflow_frame_put_u32(&w, tinyflow_hal_stack_high_water());
  tinyflow_frame_put_u32(&w, s_boot_count);
  tinyflow_frame_put_u32(&w, s_infer_count);
  tinyflow_frame_put_u32(&w, s_rx_frames);
  tinyflow_frame_put_u32(&w, s_rx_errors);
  tinyflow_frame_put_u32(&w, tinyflow_hal_ticks() - s_boot_ticks);
  (void)tinyflow_frame_end(&w);
}

/* One decoded frame: every length is checked here, once. */
static void dispatch(const uint8_t *frame, size_t len) {
  uint32_t crc;
  uint8_t type;
  uint8_t flags;
  uint16_t seq;
  const uint8_t *body = frame + TINYFLOW_FRAME_HEADER_BYTES;
  uint32_t body_len;
  if (len < TINYFLOW_FRAME_MIN_BYTES) {
    s_rx_errors++;
    send_error(TINYFLOW_SEQ_UNKNOWN, TINYFLOW_ERR_BAD_FRAME, 0, 0, (uint32_t)len, "frame too short");
    return;
  }
  crc = get_u32(frame + len - 4);
  if (crc != tinyflow_crc32_update(0, frame, len - 4)) {
    s_rx_errors++;
    send_error(TINYFLOW_SEQ_UNKNOWN, TINYFLOW_ERR_BAD_CRC, 0, 0, (uint32_t)len, "CRC mismatch");
    return;
  }
  s_rx_frames++;
  type = frame[0];
  flags = frame[1];
  seq = (uint16_t)get_u16(frame + 2);
  body_len = (uint32_t)(len - TINYFLOW_FRAME_MIN_BYTES);
  if (flags & TINYFLOW_FLAG_REPLY) {
    return; /* our own kind of frame echoed back (loopback wiring): never answer it */
  }
  switch (type) {
    case TINYFLOW_MSG_HELLO: handle_hello(seq); break;
    case TINYFLOW_MSG_INFER: handle_infer(seq, body, body_len); break;
    case TINYFLOW_MSG_UPLOAD: handle_upload(seq, flags, body, body_len); break;
    case TINYFLOW_MSG_PROFILE: handle_profile(seq); break;
    case TINYFLOW_MSG_STATS: handle_stats(seq); break;
    case TINYFLOW_MSG_PIPELINE: handle_pipeline(seq); break;
    case TINYFLOW_MSG_SYNC: handle_sync(seq, body, body_len); break;
    case TINYFLOW_MSG_CAPTURE_START: /* fall through: capture.c tells the three apart */
    case TINYFLOW_MSG_CAPTURE_READ:
    case TINYFLOW_MSG_CAPTURE_STOP: tinyflow_capture_handle(type, seq, body, body_len); break;
    case TINYFLOW_MSG_MONITOR: tinyflow_monitor_handle(seq, body, body_len); break;
    case TINYFLOW_MSG_CLASSIFY_START: tinyflow_app_handle_start(seq, body, body_len); break;
    case TINYFLOW_MSG_PREDICTIONS: tinyflow_app_handle_predictions(seq, body, body_len); break;
    case TINYFLOW_MSG_CLASSIFY_STOP: tinyflow_app_handle_stop(seq); break;
    case TINYFLOW_MSG_WINDOW: tinyflow_app_handle_window(seq, body, body_len); break;
    default: send_error(seq, TINYFLOW_ERR_UNKNOWN_TYPE, type, 0, type, "unknown request type"); break;
  }
}

void tinyflow_device_feed(const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    int r = tinyflow_cobs_decoder_push(&s_rx, data[i]);
    if (r == TINYFLOW_COBS_FRAME) {
      dispatch(s_rx.buf, s_rx.len);
    } else if (r == TINYFLOW_COBS_BAD) {
      s_rx_errors++;
      send_error(TINYFLOW_SEQ_UNKNOWN, TINYFLOW_ERR_BAD_FRAME, 0, 0, 0, "bad COBS frame");
    } else if (r == TINYFLOW_COBS_TOO_LONG) {
      s_rx_errors++;
      send_error(TINYFLOW_SEQ_UNKNOWN, TINYFLOW_ERR_TOO_LONG, 0, 0, TINYFLOW_RX_BYTES, "frame longer than max_frame");
    }
  }
}

void tinyflow_device_set_boot_count(uint32_t count) { s_boot_count = count; }

static int check_model(const tinyflow_model_info_t *m) {
  uint16_t i;
  if (m == 0 || m->num_inputs == 0 || m->num_outputs == 0 || m->num_inputs > MAX_TENSORS ||
      m->num_outputs > MAX_TENSORS) {
    return -100; /* the host reports it as a model without inputs or outputs (docs/protocol.md) */
  }
  s_input_total = 0;
  s_output_total = 0;
  for (i = 0; i < m->num_inputs; ++i) {
    s_input_total += m->inputs[i].bytes;
  }
  for (i = 0; i < m->num_outputs; ++i) {
    s_output_total += m->outputs[i].bytes;
  }
  if ((m->flags & TINYFLOW_MODEL_INPUT_STREAMED) != 0u && (m->input_rows == 0 || m->num_inputs != 1)) {
    return -102; /* a streamed input is input 0 alone, with its entry */
  }
  return s_input_total == 0 ? -101 : 0;
}

int tinyflow_device_init(void) {
  tinyflow_frame_writer_t w;
  tinyflow_cobs_decoder_init(&s_rx, s_rx_buf, sizeof s_rx_buf);
  s_boot_ticks = tinyflow_hal_ticks();
  s_infer_count = 0;
  s_rx_frames = 0;
  s_rx_errors = 0;
  s_staged = 0;
  s_cache_valid = 0;
  memset(s_op_ticks, 0, sizeof s_op_ticks);
  s_model_status = tinyflow_pipeline_init();
  s_info = s_model_status == 0 ? tinyflow_pipeline_info() : 0;
  if (s_model_status == 0) {
    s_model_status = check_model(s_info);
  }
  tinyflow_frame_begin(&w, hal_write_fn, TINYFLOW_MSG_BOOT, TINYFLOW_FLAG_REPLY, 0);
  tinyflow_frame_put_u32(&w, s_boot_count);
  (void)tinyflow_frame_end(&w);
  return s_model_status;
}

#else
typedef int tinyflow_device_binary_unused_t; /* EEMBC build: see eembc.c */
#endif
