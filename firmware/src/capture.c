/* Capture: the sensor's frames streamed to the host (docs/protocol.md "Capture").
 *
 * A static ring holds the frames sampled but not yet acknowledged. The pump, called from
 * tinyflow_device_step() between polls, reads the sensor only into free ring space, so a played
 * file (which waits for its reader) never loses a frame; a real sensor that the host does not
 * read fast enough drops frames in its port, which counts them (tinyflow_hal_sensor_dropped),
 * and the block after the gap is flagged; each reply says how many were lost before its first
 * frame, so the host can place every frame in time. Frames are numbered from 0 since CAPTURE_START;
 * CAPTURE_READ names the frame it wants next, which acknowledges everything before it, so a
 * retried read gets the same frames again. Timestamps: each sensor read's ticks64 is kept with
 * the frames it returned (a segment); a reply's ticks64 is its first frame's, counted from its
 * segment's start at the sensor's rate. No malloc, bounded loops. */
#include "tinyflow/config.h"

/* 0 leaves capture out (a board without a sensor, or short of RAM): its requests are UNKNOWN_TYPE. */
#ifndef TINYFLOW_CAPTURE
#define TINYFLOW_CAPTURE 1
#endif

#if !TINYFLOW_PROTOCOL_EEMBC && TINYFLOW_CAPTURE

#include <string.h>

#include "tinyflow/app.h"
#include "tinyflow/core.h"
#include "tinyflow/hal.h"
#include "tinyflow/protocol.h"

/* The ring's size: frames x channels x 2 bytes. A board with RAM to spare raises it to absorb
 * longer gaps between reads (a slow link, a busy host). */
#ifndef TINYFLOW_CAPTURE_RING_BYTES
#define TINYFLOW_CAPTURE_RING_BYTES 4096
#endif
/* Sensor reads whose timestamps are kept: with this many unacknowledged, the pump waits. */
#ifndef TINYFLOW_CAPTURE_SEGMENTS
#define TINYFLOW_CAPTURE_SEGMENTS 32
#endif
/* Frame data in one CAPTURE_READ reply at most: short frames get through a noisy link. */
#ifndef TINYFLOW_CAPTURE_READ_BYTES
#define TINYFLOW_CAPTURE_READ_BYTES 1024
#endif

#define RING_VALUES (TINYFLOW_CAPTURE_RING_BYTES / 2)
#define START_BODY_BYTES 5
#define READ_BODY_BYTES 6
#define FLAG_ENDED 0x01u
#define FLAG_LOST 0x02u

typedef struct {
  uint64_t ticks;  /* tinyflow_hal_ticks64() when the segment's first frame was sampled */
  uint32_t first;  /* frame index of that frame */
  uint32_t lost;   /* frames lost since CAPTURE_START before that frame */
  uint8_t gap;     /* some of them were lost just before it */
} segment_t;

static int16_t s_ring[RING_VALUES];
static segment_t s_seg[TINYFLOW_CAPTURE_SEGMENTS];
static uint32_t s_seg_head;  /* segments written (index of the next, mod TINYFLOW_CAPTURE_SEGMENTS) */
static uint32_t s_seg_tail;  /* oldest segment still holding frames */
static uint8_t s_running;    /* 0 never started, 1 capturing, 2 stopped */
static uint8_t s_ended;      /* the sensor said ENDED (a played file ran out) or failed */
static uint16_t s_start_seq;
static tinyflow_sensor_info_t s_info;
static uint32_t s_cap;       /* ring capacity in frames */
static uint32_t s_oldest;    /* first frame still held (everything before it was acknowledged) */
static uint32_t s_head;      /* frames sampled so far */
static uint32_t s_dropped;   /* tinyflow_hal_sensor_dropped() at the last pump */
static uint32_t s_lost;      /* frames lost since CAPTURE_START */
static uint32_t s_pending_lost; /* lost before the next frame the pump stores */

static uint32_t max_frames_per_read(void) {
  uint32_t n = TINYFLOW_CAPTURE_READ_BYTES / (2u * s_info.channels);
  n = n < s_cap ? n : s_cap;
  return n > 0xFFFFu ? 0xFFFFu : (n == 0 ? 1u : n);
}

/* Drop segments whose frames were all acknowledged. */
static void release_segments(void) {
  uint32_t guard;
  for (guard = 0; guard < TINYFLOW_CAPTURE_SEGMENTS && s_seg_head - s_seg_tail > 1u; ++guard) {
    const segment_t *next = &s_seg[(s_seg_tail + 1u) % TINYFLOW_CAPTURE_SEGMENTS];
    if (next->first > s_oldest) {
      break;
    }
    s_seg_tail++;
  }
}

static void note_segment(uint32_t first, uint64_t ticks, uint8_t gap) {
  segment_t *s = &s_seg[s_seg_head % TINYFLOW_CAPTURE_SEGMENTS];
  s->first = first;
  s->ticks = ticks;
  s->lost = s_lost; /* every loss noticed so far came before these frames */
  s->gap = gap;
  s_seg_head++;
}

/* Losses the port reported since the last look: they came before the frames of the read just made
 * (hal.h: tinyflow_hal_sensor_dropped() after a read counts what was dropped before its frames). */
static void note_dropped(void) {
  uint32_t dropped = tinyflow_hal_sensor_dropped();
  if (dropped != s_dropped) {
    s_pending_lost += dropped - s_dropped;
    s_lost += dropped - s_dropped;
    s_dropped = dropped;
  }
}

/* Read what the sensor has into the free part of the ring (at most two reads: up to the ring's
 * end, then from its start), each read with its own timestamp record. */
void tinyflow_capture_pump(void) {
  int pass;
  if (s_running != 1 || s_ended) {
    return;
  }
  if (tinyflow_app_running()) {
    s_ended = 1; /* application mode took the sensor (it has one reader): this stream ends here */
    return;
  }
  for (pass = 0; pass < 2; ++pass) {
    uint32_t held = s_head - s_oldest;
    uint32_t pos = s_head % s_cap;
    uint32_t room = s_cap - held;
    uint32_t contiguous = s_cap - pos < room ? s_cap - pos : room;
    uint64_t ticks = 0;
    int n;
    release_segments();
    if (contiguous == 0 || s_seg_head - s_seg_tail >= TINYFLOW_CAPTURE_SEGMENTS) {
      return; /* ring or timestamp table full: the host has not acknowledged enough yet */
    }
    n = tinyflow_hal_sensor_read(&s_ring[pos * s_info.channels], contiguous, &ticks);
    note_dropped();
    if (n < 0) {
      s_ended = 1; /* ENDED, or a failure: either way no more frames come */
      return;
    }
    if (n == 0) {
      return;
    }
    if ((uint32_t)n > contiguous) {
      n = (int)contiguous; /* a port that over-reports must not move the head past what it wrote */
    }
    note_segment(s_head, ticks, (uint8_t)(s_pending_lost != 0));
    s_pending_lost = 0;
    s_head += (uint32_t)n;
  }
}

static void handle_start(uint16_t seq, const uint8_t *body, uint32_t len) {
  tinyflow_frame_writer_t w;
  int status;
  if (len != START_BODY_BYTES) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_CAPTURE_START, 0, START_BODY_BYTES,
                             "CAPTURE_START body is u32 rate_hz, u8 channels");
    return;
  }
  /* A retried START (same seq) must not restart a stream the host may already be reading. */
  if (!(s_running == 1 && seq == s_start_seq)) {
    if (tinyflow_app_running()) {
      tinyflow_app_stop(); /* the sensor has one reader: a capture takes it from application mode */
    }
    memset(&s_info, 0, sizeof s_info);
    status = tinyflow_hal_sensor_open(tinyflow_core_get_u32(body), body[4], &s_info);
    if (status == 0 && (s_info.channels == 0 || 2u * s_info.channels > TINYFLOW_CAPTURE_RING_BYTES)) {
      tinyflow_hal_sensor_close();
      status = TINYFLOW_SENSOR_EUNSUPPORTED;
    }
    if (status != 0) {
      s_running = 0;
      tinyflow_core_send_error(seq, TINYFLOW_ERR_NO_SENSOR, TINYFLOW_MSG_CAPTURE_START, 0, (uint32_t)-status,
                               "the sensor did not open");
      return;
    }
    s_cap = RING_VALUES / s_info.channels;
    s_oldest = s_head = s_lost = s_pending_lost = 0;
    s_seg_head = s_seg_tail = 0;
    s_dropped = tinyflow_hal_sensor_dropped();
    s_ended = 0;
    s_running = 1;
    s_start_seq = seq;
  }
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_CAPTURE_START, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u8(&w, s_info.kind);
  tinyflow_frame_put_u8(&w, s_info.channels);
  tinyflow_frame_put_u32(&w, s_info.rate_hz);
  tinyflow_frame_put_u16(&w, (uint16_t)max_frames_per_read());
  (void)tinyflow_frame_end(&w);
}

/* The segment holding frame `index` (held frames always have one). */
static const segment_t *segment_of(uint32_t index, uint32_t *end) {
  uint32_t i;
  const segment_t *found = &s_seg[s_seg_tail % TINYFLOW_CAPTURE_SEGMENTS];
  *end = s_head;
  for (i = s_seg_tail + 1u; i != s_seg_head && i - s_seg_tail < TINYFLOW_CAPTURE_SEGMENTS; ++i) {
    const segment_t *s = &s_seg[i % TINYFLOW_CAPTURE_SEGMENTS];
    if (s->first <= index) {
      found = s;
    } else if (s->gap) {
      *end = s->first; /* a block never spans a gap: its frames are continuous in time */
      break;
    }
  }
  return found;
}

static void handle_read(uint16_t seq, const uint8_t *body, uint32_t len) {
  tinyflow_frame_writer_t w;
  const segment_t *seg = 0;
  uint32_t offset, want, end = 0, n = 0, i, lost;
  uint64_t ticks = 0;
  uint8_t flags = 0;
  if (len != READ_BODY_BYTES) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_LENGTH, TINYFLOW_MSG_CAPTURE_READ, 0, READ_BODY_BYTES,
                             "CAPTURE_READ body is u32 offset, u16 max_frames");
    return;
  }
  if (s_running == 0) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_NOT_RUNNING, TINYFLOW_MSG_CAPTURE_READ, 0, 0, "no capture started");
    return;
  }
  offset = tinyflow_core_get_u32(body);
  want = tinyflow_core_get_u16(body + 4);
  if (offset < s_oldest) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_BAD_OFFSET, TINYFLOW_MSG_CAPTURE_READ, 0, s_oldest,
                             "frames before the oldest held were acknowledged");
    return;
  }
  lost = s_lost; /* no frames in the reply: every loss so far is before `offset` */
  if (offset <= s_head) {
    s_oldest = offset; /* acknowledged: the pump may reuse their space */
    if (offset < s_head) {
      seg = segment_of(offset, &end);
      n = end - offset;
      n = n < want ? n : want;
      n = n < max_frames_per_read() ? n : max_frames_per_read();
      ticks = seg->ticks + (uint64_t)(offset - seg->first) * tinyflow_hal_ticks_per_second() / s_info.rate_hz;
      flags |= (seg->first == offset && seg->gap) ? FLAG_LOST : 0u;
      lost = seg->lost;
    }
  }
  if ((s_ended || s_running == 2) && offset + n >= s_head) {
    flags |= FLAG_ENDED;
  }
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_CAPTURE_READ, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, offset);
  tinyflow_frame_put_u16(&w, (uint16_t)n);
  tinyflow_frame_put_u8(&w, flags);
  tinyflow_frame_put_u32(&w, lost);
  tinyflow_frame_put_u32(&w, (uint32_t)ticks);
  tinyflow_frame_put_u32(&w, (uint32_t)(ticks >> 32));
  for (i = 0; i < n; ++i) {
    /* frame by frame: the block may wrap around the ring's end */
    const int16_t *frame = &s_ring[((offset + i) % s_cap) * s_info.channels];
    uint8_t c;
    for (c = 0; c < s_info.channels; ++c) {
      tinyflow_frame_put_u16(&w, (uint16_t)frame[c]);
    }
  }
  (void)tinyflow_frame_end(&w);
}

static void handle_stop(uint16_t seq) {
  tinyflow_frame_writer_t w;
  if (s_running == 0) {
    tinyflow_core_send_error(seq, TINYFLOW_ERR_NOT_RUNNING, TINYFLOW_MSG_CAPTURE_STOP, 0, 0, "no capture started");
    return;
  }
  if (s_running == 1) {
    tinyflow_hal_sensor_close();
    s_running = 2; /* stopped: a retried STOP gets the same count, READ drains what is held */
  }
  tinyflow_frame_begin(&w, tinyflow_core_write, TINYFLOW_MSG_CAPTURE_STOP, TINYFLOW_FLAG_REPLY, seq);
  tinyflow_frame_put_u32(&w, s_head);
  (void)tinyflow_frame_end(&w);
}

void tinyflow_capture_handle(uint8_t type, uint16_t seq, const uint8_t *body, uint32_t len) {
  if (type == TINYFLOW_MSG_CAPTURE_START) {
    handle_start(seq, body, len);
  } else if (type == TINYFLOW_MSG_CAPTURE_READ) {
    handle_read(seq, body, len);
  } else {
    handle_stop(seq);
  }
}

#elif !TINYFLOW_PROTOCOL_EEMBC
#include "tinyflow/core.h"
#include "tinyflow/protocol.h"

void tinyflow_capture_pump(void) {}

void tinyflow_capture_handle(uint8_t type, uint16_t seq, const uint8_t *body, uint32_t len) {
  (void)body;
  (void)len;
  tinyflow_core_send_error(seq, TINYFLOW_ERR_UNKNOWN_TYPE, type, 0, type, "built without capture");
}
#else
#include "tinyflow/core.h"

void tinyflow_capture_pump(void) {} /* EEMBC build: no capture; run.c still calls the pump */
#endif
