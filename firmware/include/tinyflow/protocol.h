/* tinyflow link protocol v1 (docs/protocol.md): constants, CRC-32, streaming COBS codec.
 * Pure code: no HAL, no model; the fuzz harness and unit tests link it alone. */
#ifndef TINYFLOW_PROTOCOL_H
#define TINYFLOW_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TINYFLOW_PROTOCOL_VERSION 1
#define TINYFLOW_FRAME_HEADER_BYTES 4
#define TINYFLOW_FRAME_MIN_BYTES 8 /* header + CRC */
#define TINYFLOW_FLAG_REPLY 0x01u
#define TINYFLOW_FLAG_NOACK 0x02u
#define TINYFLOW_SEQ_UNKNOWN 0xFFFFu
#define TINYFLOW_SYNC_BODY_BYTES 4

enum {
  TINYFLOW_MSG_HELLO = 0x01,
  TINYFLOW_MSG_INFER = 0x02,
  TINYFLOW_MSG_UPLOAD = 0x03,
  TINYFLOW_MSG_PROFILE = 0x04,
  TINYFLOW_MSG_STATS = 0x05,
  TINYFLOW_MSG_SYNC = 0x06, /* u32 nonce -> u32 nonce, u32 boot_count: the host's short resync barrier */
  TINYFLOW_MSG_PIPELINE = 0x07,      /* the front end the firmware runs before the model (pipeline.c) */
  TINYFLOW_MSG_CAPTURE_START = 0x08, /* open the sensor, start a capture stream (capture.c) */
  TINYFLOW_MSG_CAPTURE_READ = 0x09,  /* frames from an offset; acknowledges everything before it */
  TINYFLOW_MSG_CAPTURE_STOP = 0x0A,
  TINYFLOW_MSG_CLASSIFY_START = 0x0B, /* application mode: sensor -> front end -> model (app.c) */
  TINYFLOW_MSG_PREDICTIONS = 0x0C,    /* predictions from an index; acknowledges everything before it */
  TINYFLOW_MSG_CLASSIFY_STOP = 0x0D,
  TINYFLOW_MSG_MONITOR = 0x0E,        /* running statistics of what the model saw (monitor.c) */
  TINYFLOW_MSG_WINDOW = 0x0F,         /* a low-confidence raw window kept by opt-in sampling (app.c) */
  TINYFLOW_MSG_BOOT = 0x10,
  TINYFLOW_MSG_ERROR = 0x7F
};

enum {
  TINYFLOW_ERR_BAD_CRC = 1,
  TINYFLOW_ERR_BAD_FRAME = 2,
  TINYFLOW_ERR_TOO_LONG = 3,
  TINYFLOW_ERR_UNKNOWN_TYPE = 4,
  TINYFLOW_ERR_BAD_LENGTH = 5,
  TINYFLOW_ERR_BAD_OFFSET = 6,
  TINYFLOW_ERR_NOT_STAGED = 7,
  TINYFLOW_ERR_MODEL_FAILED = 8,
  TINYFLOW_ERR_NOT_READY = 9,
  TINYFLOW_ERR_NO_SENSOR = 10,  /* detail = -TINYFLOW_SENSOR_E* from tinyflow_hal_sensor_open/read */
  TINYFLOW_ERR_NOT_RUNNING = 11 /* CAPTURE_READ / PREDICTIONS without a started stream */
};

/* CRC-32/IEEE (zlib.crc32): start with crc = 0, feed pieces, the result is the CRC. */
uint32_t tinyflow_crc32_update(uint32_t crc, const uint8_t *data, size_t len);

/* Incremental COBS decoder into a caller-owned buffer (the receive buffer). */
typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t len;
  uint8_t code;     /* code byte of the current block */
  uint8_t left;     /* data bytes still expected in the current block */
  uint8_t overflow; /* the frame outgrew cap: drop it at its delimiter */
  uint8_t started;
} tinyflow_cobs_decoder_t;

enum {
  TINYFLOW_COBS_MORE = 0,      /* byte consumed, frame not complete */
  TINYFLOW_COBS_FRAME = 1,     /* delimiter: buf[0..len) holds a complete decoded frame */
  TINYFLOW_COBS_EMPTY = 2,     /* delimiter with nothing before it (ignored) */
  TINYFLOW_COBS_BAD = -1,      /* delimiter ended a malformed frame */
  TINYFLOW_COBS_TOO_LONG = -2  /* delimiter ended a frame longer than cap */
};

void tinyflow_cobs_decoder_init(tinyflow_cobs_decoder_t *d, uint8_t *buf, size_t cap);
/* Feed one byte; on any result but MORE the decoder is ready for the next frame. */
int tinyflow_cobs_decoder_push(tinyflow_cobs_decoder_t *d, uint8_t byte);

/* Streaming frame encoder: COBS + CRC on the fly through a 255-byte block buffer. */
typedef int (*tinyflow_write_fn)(const uint8_t *buf, size_t len);
typedef struct {
  tinyflow_write_fn write;
  uint32_t crc;
  uint8_t block[255]; /* block[0] is the code byte */
  uint8_t n;          /* bytes in block, code byte included */
  int status;         /* first negative write result, else 0 */
} tinyflow_frame_writer_t;

void tinyflow_frame_begin(tinyflow_frame_writer_t *w, tinyflow_write_fn write, uint8_t type, uint8_t flags,
                          uint16_t seq);
void tinyflow_frame_put(tinyflow_frame_writer_t *w, const uint8_t *data, size_t len);
void tinyflow_frame_put_u8(tinyflow_frame_writer_t *w, uint8_t v);
void tinyflow_frame_put_u16(tinyflow_frame_writer_t *w, uint16_t v);
void tinyflow_frame_put_u32(tinyflow_frame_writer_t *w, uint32_t v);
void tinyflow_frame_put_str(tinyflow_frame_writer_t *w, const char *s); /* u8 length + bytes */
/* Append the CRC and the delimiter; returns 0 or the first negative write status. */
int tinyflow_frame_end(tinyflow_frame_writer_t *w);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_PROTOCOL_H */
