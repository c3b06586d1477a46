/* tinyflow link protocol v1: CRC-32 and the streaming COBS decoder/encoder (docs/protocol.md). */
#include "tinyflow/protocol.h"

/* CRC-32/IEEE, reflected, one nibble at a time: a 64-byte table instead of 1 KiB of flash. */
static const uint32_t kCrcNibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t tinyflow_crc32_update(uint32_t crc, const uint8_t *data, size_t len) {
  uint32_t c = crc ^ 0xFFFFFFFFu;
  size_t i;
  for (i = 0; i < len; ++i) {
    c = kCrcNibble[(c ^ data[i]) & 0x0Fu] ^ (c >> 4);
    c = kCrcNibble[(c ^ (uint32_t)(data[i] >> 4)) & 0x0Fu] ^ (c >> 4);
  }
  return c ^ 0xFFFFFFFFu;
}

void tinyflow_cobs_decoder_init(tinyflow_cobs_decoder_t *d, uint8_t *buf, size_t cap) {
  d->buf = buf;
  d->cap = cap;
  d->len = 0;
  d->code = 0;
  d->left = 0;
  d->overflow = 0;
  d->started = 0;
}

static void cobs_append(tinyflow_cobs_decoder_t *d, uint8_t byte) {
  if (d->len < d->cap) {
    d->buf[d->len++] = byte;
  } else {
    d->overflow = 1;
  }
}

int tinyflow_cobs_decoder_push(tinyflow_cobs_decoder_t *d, uint8_t byte) {
  int result;
  if (byte == 0) {
    if (!d->started) {
      return TINYFLOW_COBS_EMPTY;
    }
    result = d->overflow ? TINYFLOW_COBS_TOO_LONG : (d->left != 0 ? TINYFLOW_COBS_BAD : TINYFLOW_COBS_FRAME);
    d->started = 0;
    d->code = 0;
    d->left = 0;
    return result;
  }
  if (!d->started) {
    d->started = 1;
    d->len = 0;
    d->overflow = 0;
  }
  if (d->left == 0) {
    /* A code byte. The block before it implies a zero unless it was a full 254-byte block. */
    if (d->code != 0 && d->code != 255) {
      cobs_append(d, 0);
    }
    d->code = byte;
    d->left = (uint8_t)(byte - 1);
  } else {
    cobs_append(d, byte);
    d->left--;
  }
  return TINYFLOW_COBS_MORE;
}

static void writer_flush(tinyflow_frame_writer_t *w) {
  size_t done = 0;
  int tries;
  w->block[0] = w->n;
  /* hal_write may write less than asked; a bounded number of attempts, then give up. */
  for (tries = 0; tries < 1000 && done < w->n && w->status == 0; ++tries) {
    int r = w->write(w->block + done, (size_t)w->n - done);
    if (r < 0) {
      w->status = r;
    } else {
      done += (size_t)r;
    }
  }
  w->n = 1;
}

static void writer_raw(tinyflow_frame_writer_t *w, uint8_t byte) {
  if (byte == 0) {
    writer_flush(w);
    return;
  }
  w->block[w->n++] = byte;
  if (w->n == 255) {
    writer_flush(w);
  }
}

void tinyflow_frame_begin(tinyflow_frame_writer_t *w, tinyflow_write_fn write, uint8_t type, uint8_t flags,
                          uint16_t seq) {
  w->write = write;
  w->crc = 0;
  w->n = 1;
  w->status = 0;
  tinyflow_frame_put_u8(w, type);
  tinyflow_frame_put_u8(w, flags);
  tinyflow_frame_put_u16(w, seq);
}

void tinyflow_frame_put(tinyflow_frame_writer_t *w, const uint8_t *data, size_t len) {
  size_t i;
  w->crc = tinyflow_crc32_update(w->crc, data, len);
  for (i = 0; i < len; ++i) {
    writer_raw(w, data[i]);
  }
}

void tinyflow_frame_put_u8(tinyflow_frame_writer_t *w, uint8_t v) { tinyflow_frame_put(w, &v, 1); }

void tinyflow_frame_put_u16(tinyflow_frame_writer_t *w, uint16_t v) {
  uint8_t b[2];
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
  tinyflow_frame_put(w, b, 2);
}

void tinyflow_frame_put_u32(tinyflow_frame_writer_t *w, uint32_t v) {
  uint8_t b[4];
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
  b[2] = (uint8_t)(v >> 16);
  b[3] = (uint8_t)(v >> 24);
  tinyflow_frame_put(w, b, 4);
}

void tinyflow_frame_put_str(tinyflow_frame_writer_t *w, const char *s) {
  size_t n = 0;
  if (s == 0) {
    s = "";
  }
  while (n < 255 && s[n] != '\0') {
    ++n;
  }
  tinyflow_frame_put_u8(w, (uint8_t)n);
  tinyflow_frame_put(w, (const uint8_t *)s, n);
}

int tinyflow_frame_end(tinyflow_frame_writer_t *w) {
  uint32_t crc = w->crc;
  static const uint8_t kDelimiter = 0;
  int i;
  for (i = 0; i < 4; ++i) {
    writer_raw(w, (uint8_t)(crc >> (8 * i)));
  }
  writer_flush(w);
  if (w->status == 0 && w->write(&kDelimiter, 1) < 0) {
    w->status = -1;
  }
  return w->status;
}
