/* The host port's played sensor (hal.h "Sensors"): a played file (tinyflow/targets/played.py)
 * named on the command line, `--sensor PATH [--sensor-pace realtime|fast]`. Realtime: frame i
 * becomes available i/rate seconds after the sensor opened, by the tick clock, as a real
 * sensor's would; fast: every frame is available at once. A played file waits for its reader,
 * so it never drops a frame. The file is untrusted: its header is checked against its size.
 * Testing aid: `--sensor-fifo N` (realtime only) plays a real sensor with an N-frame FIFO instead:
 * frames the reader leaves behind beyond N are dropped and counted, as a microphone overruns. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyflow/hal.h"

#define HEADER_BYTES 16
#define MAX_CHANNELS 16

static const char *s_path;
static int s_fast;
static FILE *s_file;
static tinyflow_sensor_info_t s_info;
static uint32_t s_frames;    /* in the file */
static uint32_t s_delivered; /* frames returned since open */
static uint64_t s_t0;        /* ticks64 at open: frame i is sampled at s_t0 + i / rate */
static uint32_t s_fifo;      /* --sensor-fifo: 0 = a played file, which waits for its reader */
static uint32_t s_dropped;

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void tinyflow_host_sensor_args(int argc, char **argv) {
  int i;
  for (i = 1; argv != NULL && i + 1 < argc; ++i) {
    if (strcmp(argv[i], "--sensor") == 0) {
      s_path = argv[i + 1];
    } else if (strcmp(argv[i], "--sensor-pace") == 0) {
      s_fast = strcmp(argv[i + 1], "fast") == 0;
    } else if (strcmp(argv[i], "--sensor-fifo") == 0) {
      s_fifo = (uint32_t)strtoul(argv[i + 1], NULL, 10);
    }
  }
}

int tinyflow_hal_sensor_open(uint32_t rate_hz, uint8_t channels, tinyflow_sensor_info_t *info) {
  uint8_t head[HEADER_BYTES];
  long size;
  tinyflow_hal_sensor_close();
  if (s_path == NULL) {
    return TINYFLOW_SENSOR_ENONE;
  }
  s_file = fopen(s_path, "rb");
  if (s_file == NULL) {
    return TINYFLOW_SENSOR_EIO;
  }
  if (fread(head, 1, sizeof head, s_file) != sizeof head || memcmp(head, "TFPS", 4) != 0 || head[4] != 1 ||
      head[5] != 0 || head[6] < TINYFLOW_SENSOR_AUDIO || head[6] > TINYFLOW_SENSOR_ADC || head[7] == 0 ||
      head[7] > MAX_CHANNELS || le32(head + 8) == 0 || fseek(s_file, 0, SEEK_END) != 0 ||
      (size = ftell(s_file)) < 0 || (uint64_t)size != HEADER_BYTES + (uint64_t)le32(head + 12) * head[7] * 2u ||
      fseek(s_file, HEADER_BYTES, SEEK_SET) != 0) {
    tinyflow_hal_sensor_close();
    return TINYFLOW_SENSOR_EIO;
  }
  if ((rate_hz != 0 && rate_hz != le32(head + 8)) || (channels != 0 && channels != head[7])) {
    tinyflow_hal_sensor_close();
    return TINYFLOW_SENSOR_EUNSUPPORTED; /* a played file has one rate and channel count */
  }
  s_info.kind = head[6];
  s_info.channels = head[7];
  s_info.rate_hz = le32(head + 8);
  s_frames = le32(head + 12);
  s_delivered = 0;
  s_dropped = 0;
  s_t0 = tinyflow_hal_ticks64();
  if (info != NULL) {
    *info = s_info;
  }
  return 0;
}

int tinyflow_hal_sensor_read(int16_t *buf, uint32_t max_frames, uint64_t *ticks64) {
  uint64_t now, avail;
  uint32_t n, i, values;
  if (s_file == NULL) {
    return TINYFLOW_SENSOR_ENOTOPEN;
  }
  if (s_delivered >= s_frames) {
    return TINYFLOW_SENSOR_ENDED;
  }
  now = tinyflow_hal_ticks64();
  avail = s_fast ? s_frames : (now - s_t0) * s_info.rate_hz / tinyflow_hal_ticks_per_second();
  avail = avail < s_frames ? avail : s_frames;
  if (s_fifo != 0 && !s_fast && avail - s_delivered > s_fifo) {
    uint32_t skip = (uint32_t)(avail - s_delivered - s_fifo); /* overran: the oldest are gone */
    if (fseek(s_file, (long)skip * s_info.channels * 2, SEEK_CUR) != 0) {
      return TINYFLOW_SENSOR_EIO;
    }
    s_delivered += skip;
    s_dropped += skip;
  }
  n = avail > s_delivered ? (uint32_t)(avail - s_delivered) : 0u;
  n = n < max_frames ? n : max_frames;
  if (n == 0) {
    return 0;
  }
  values = n * s_info.channels;
  if (fread(buf, 2, values, s_file) != values) {
    return TINYFLOW_SENSOR_EIO;
  }
  for (i = 0; i < values; ++i) {
    const uint8_t *b = (const uint8_t *)&buf[i]; /* the file is little-endian, whatever the host */
    buf[i] = (int16_t)(uint16_t)(b[0] | (b[1] << 8));
  }
  /* Frame i's time is i/rate after open, paced or not: timestamps stay true to the rate (in fast
   * mode they run ahead of the clock, as the frames do). */
  *ticks64 = s_t0 + (uint64_t)s_delivered * tinyflow_hal_ticks_per_second() / s_info.rate_hz;
  s_delivered += n;
  return (int)n;
}

uint32_t tinyflow_hal_sensor_dropped(void) { return s_dropped; }

void tinyflow_hal_sensor_close(void) {
  if (s_file != NULL) {
    fclose(s_file);
    s_file = NULL;
  }
}
