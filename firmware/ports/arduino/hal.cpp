/* tinyflow board port for Arduino cores (mbed nRF52840/RP2040, ESP32, STM32duino): the HAL
 * contract of firmware/include/tinyflow/hal.h over `Serial` (a UART bridge or native USB CDC)
 * and micros(). Baud and the serial object come from the generated tinyflow_config.h. */
#include <Arduino.h>

#include "tinyflow/clock.h"
#include "tinyflow/hal.h"

#ifndef TINYFLOW_SERIAL_BAUD
#define TINYFLOW_SERIAL_BAUD 115200
#endif
#ifndef TINYFLOW_SERIAL
#define TINYFLOW_SERIAL Serial
#endif
/* Upper bound on one read call: keeps tinyflow_hal_read() short even on a 12 Mbit/s CDC link. */
#ifndef TINYFLOW_HAL_READ_CHUNK
#define TINYFLOW_HAL_READ_CHUNK 256
#endif

extern "C" int tinyflow_hal_init(void) {
  /* Native USB CDC ignores the baud; UART bridges need it to match the host's. We do not wait
   * for the host to open the port: the device only writes replies to requests. */
  TINYFLOW_SERIAL.begin(TINYFLOW_SERIAL_BAUD);
  return 0;
}

extern "C" int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  if (buf == NULL) {
    return -1;
  }
  int pending = TINYFLOW_SERIAL.available();
  if (pending <= 0) {
    return 0;
  }
  size_t n = (size_t)pending;
  if (n > cap) {
    n = cap;
  }
  if (n > TINYFLOW_HAL_READ_CHUNK) {
    n = TINYFLOW_HAL_READ_CHUNK;
  }
  size_t got = 0;
  for (; got < n; ++got) {
    int c = TINYFLOW_SERIAL.read();
    if (c < 0) {
      break;
    }
    buf[got] = (uint8_t)c;
  }
  return (int)got;
}

extern "C" int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  if (buf == NULL && len != 0) {
    return -1;
  }
  if (!TINYFLOW_SERIAL) {
    /* USB CDC with no host attached (DTR low): writing could wait for the host, which the HAL
     * contract forbids. Nobody is listening, so the bytes (e.g. the BOOT frame) are dropped. */
    return (int)len;
  }
  size_t written = TINYFLOW_SERIAL.write(buf, len);
  return written == len ? (int)written : -1;
}

extern "C" uint32_t tinyflow_hal_ticks(void) { return (uint32_t)micros(); }

/* micros() wraps every 71.6 minutes; extended in software, exact while read at least once per
 * wrap: the EEMBC core reads it after every inference and tinyflow_hal_idle() on every loop(). */
static tinyflow_clock_t s_clock;
extern "C" uint64_t tinyflow_hal_ticks64(void) { return tinyflow_clock_extend(&s_clock, (uint32_t)micros()); }

extern "C" void tinyflow_hal_idle(void) { (void)tinyflow_hal_ticks64(); }

/* Ticks are micros(): the default rate (1000000/s) applies. Stack high water: the default, 0
 * ("unknown"), since Arduino cores do not expose the stack bounds portably (mbed runs main in an
 * RTOS thread, ESP32 in a FreeRTOS task). Idle: only reads the 64-bit clock; loop() returns to
 * the core's own scheduler between steps. */

/* Boot counter for the protocol's reset detection: kept across resets in RTC no-init memory on
 * ESP32 chips; other Arduino cores have no portable no-init RAM, so it is 1 at every boot and the
 * host detects resets by the BOOT frame the core sends at init. */
#if defined(ARDUINO_ARCH_ESP32)
#include <esp_attr.h>
static RTC_NOINIT_ATTR uint32_t boot_magic;
static RTC_NOINIT_ATTR uint32_t boot_count;
#define TINYFLOW_BOOT_MAGIC 0x7f10b007u

extern "C" uint32_t tinyflow_hal_boot_count(void) {
  if (boot_magic != TINYFLOW_BOOT_MAGIC) { /* power-on: RTC memory holds garbage */
    boot_magic = TINYFLOW_BOOT_MAGIC;
    boot_count = 0;
  }
  return ++boot_count;
}
#else
extern "C" uint32_t tinyflow_hal_boot_count(void) { return 1u; }
#endif

/* ---- Sensors (hal.h "Sensors"), opt in: -DTINYFLOW_ARDUINO_SENSORS=1 (build_flags in
 * platformio_user.ini). Without it the weak defaults apply: no sensor.
 *   nano33ble: the on-board PDM microphone (mono, 16 kHz; the mbed core's own PDM library) and
 *              the LSM9DS1 accelerometer + gyroscope on Wire1 (raw registers, no library);
 *   esp32:     an I2S MEMS microphone (INMP441-style, 32-bit slots; pins TINYFLOW_I2S_SCK, _WS,
 *              _SD) through ESP-IDF's I2S driver, and an MPU-6050 on Wire (raw registers).
 * Which one opens: 1 channel or a rate >= 8 kHz is the microphone, 3 (accelerometer) or 6
 * (+ gyroscope) channels the IMU; 0/0 is TINYFLOW_ARDUINO_SENSOR_DEFAULT. Both use only what
 * the Arduino cores ship, so platformio.ini pins no extra library. Dropped frames (hal.h): the
 * IMU's periods that passed unread, and microphone samples the ring overwrote before a read
 * (counted in that read); an ESP32 I2S DMA overrun before the ring is not seen. These were written against
 * the cores' APIs but not compile-checked here: the PlatformIO platforms are not installed in
 * the environment this was written in (the host and QEMU ports play files and are tested). */
#ifndef TINYFLOW_ARDUINO_SENSORS
#define TINYFLOW_ARDUINO_SENSORS 0
#endif

#if TINYFLOW_ARDUINO_SENSORS && (defined(ARDUINO_ARDUINO_NANO33BLE) || defined(ARDUINO_ARCH_ESP32))
#include <Wire.h>
#include <string.h>

#ifndef TINYFLOW_ARDUINO_SENSOR_DEFAULT
#define TINYFLOW_ARDUINO_SENSOR_DEFAULT TINYFLOW_SENSOR_AUDIO
#endif
#define MIC_RATE_HZ 16000u
#define MIC_RING_SAMPLES 4096u /* 256 ms at 16 kHz, filled between loop() calls */
#define IMU_DEFAULT_HZ 100u
#define IMU_MAX_HZ 952u

static uint8_t s_kind; /* TINYFLOW_SENSOR_* open, or NONE */
static uint8_t s_channels;
static uint32_t s_rate;
static uint32_t s_dropped;

/* -- IMU: polled at the rate by the tick clock; a period that passed unread is a dropped frame -- */
#if defined(ARDUINO_ARCH_ESP32)
#define IMU_WIRE Wire
#define IMU_ADDR 0x68u /* MPU-6050 */
#else
#define IMU_WIRE Wire1 /* the Nano 33 BLE's internal bus */
#define IMU_ADDR 0x6Bu /* LSM9DS1 accelerometer + gyroscope */
#endif
static uint64_t s_imu_next;
static uint32_t s_imu_period;

static int imu_write(uint8_t reg, uint8_t value) {
  IMU_WIRE.beginTransmission((uint8_t)IMU_ADDR);
  IMU_WIRE.write(reg);
  IMU_WIRE.write(value);
  return IMU_WIRE.endTransmission() == 0 ? 0 : -1;
}

static int imu_read(uint8_t reg, uint8_t *buf, uint8_t n) {
  IMU_WIRE.beginTransmission((uint8_t)IMU_ADDR);
  IMU_WIRE.write(reg);
  if (IMU_WIRE.endTransmission(false) != 0 || IMU_WIRE.requestFrom((uint8_t)IMU_ADDR, n) != n) {
    return -1;
  }
  for (uint8_t i = 0; i < n; ++i) {
    buf[i] = (uint8_t)IMU_WIRE.read();
  }
  return 0;
}

static int imu_open(uint32_t rate) {
  uint8_t who = 0;
  IMU_WIRE.begin();
#if defined(ARDUINO_ARCH_ESP32)
  if (imu_read(0x75u, &who, 1) != 0 || who != 0x68u) { /* WHO_AM_I */
    return TINYFLOW_SENSOR_ENONE;
  }
  /* wake; 1 kHz internal rate (DLPF 44 Hz); rate = 1 kHz / (1 + SMPLRT_DIV); +-4 g; +-2000 dps */
  uint32_t divider = 1000u / rate - 1u;
  if (imu_write(0x6Bu, 0x00u) || imu_write(0x1Au, 0x03u) ||
      imu_write(0x19u, (uint8_t)(divider > 255u ? 255u : divider)) || imu_write(0x1Cu, 0x08u) ||
      imu_write(0x1Bu, 0x18u)) {
    return TINYFLOW_SENSOR_EIO;
  }
#else
  static const uint16_t kOdr[] = {10u, 50u, 119u, 238u, 476u, 952u}; /* CTRL_REG6_XL ODR codes 1..6 */
  uint8_t code = 1;
  if (imu_read(0x0Fu, &who, 1) != 0 || who != 0x68u) { /* WHO_AM_I */
    return TINYFLOW_SENSOR_ENONE;
  }
  while (code < 6u && kOdr[code - 1u] < rate) {
    ++code;
  }
  /* the output rate at or above the one asked for; +-4 g; +-2000 dps */
  if (imu_write(0x20u, (uint8_t)((code << 5) | 0x10u)) || imu_write(0x10u, (uint8_t)((code << 5) | 0x18u))) {
    return TINYFLOW_SENSOR_EIO;
  }
#endif
  return 0;
}

static int imu_frame(int16_t *frame) {
  uint8_t raw[14];
#if defined(ARDUINO_ARCH_ESP32)
  if (imu_read(0x3Bu, raw, 14) != 0) { /* accel x,y,z, temperature, gyro x,y,z; big-endian */
    return TINYFLOW_SENSOR_EIO;
  }
  for (uint8_t i = 0; i < 6u; ++i) {
    uint8_t at = (uint8_t)(i < 3u ? 2u * i : 2u * i + 2u);
    frame[i] = (int16_t)(uint16_t)((raw[at] << 8) | raw[at + 1u]);
  }
#else
  if (imu_read(0x28u, raw, 6) != 0 || imu_read(0x18u, raw + 6, 6) != 0) { /* OUT_X_XL, OUT_X_G */
    return TINYFLOW_SENSOR_EIO;
  }
  for (uint8_t i = 0; i < 6u; ++i) {
    frame[i] = (int16_t)(uint16_t)(raw[2u * i] | (raw[2u * i + 1u] << 8));
  }
#endif
  return 0;
}

static int imu_read_frames(int16_t *buf, uint32_t max_frames, uint64_t *ticks64) {
  int16_t frame[6];
  uint64_t now = tinyflow_hal_ticks64();
  if (max_frames == 0 || now < s_imu_next) {
    return 0;
  }
  uint64_t late = (now - s_imu_next) / s_imu_period; /* periods that passed unread */
  s_dropped += (uint32_t)late;
  s_imu_next += (late + 1u) * s_imu_period;
  if (imu_frame(frame) != 0) {
    return TINYFLOW_SENSOR_EIO;
  }
  memcpy(buf, frame, s_channels * sizeof(int16_t));
  *ticks64 = now;
  return 1;
}

/* -- microphone: an interrupt (PDM) or the I2S DMA fills a ring; reads drain it -------------- */
static int16_t s_mic[MIC_RING_SAMPLES];
static volatile uint32_t s_mic_head; /* samples written; the writer overwrites the oldest when full */
static uint32_t s_mic_tail;          /* samples read */
static volatile uint32_t s_mic_head_micros;

static void mic_push(const int16_t *samples, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    s_mic[s_mic_head % MIC_RING_SAMPLES] = samples[i];
    s_mic_head = s_mic_head + 1u;
  }
  s_mic_head_micros = micros();
}

#if defined(ARDUINO_ARCH_ESP32)
#include <driver/i2s.h>
#ifndef TINYFLOW_I2S_SCK
#define TINYFLOW_I2S_SCK 26
#endif
#ifndef TINYFLOW_I2S_WS
#define TINYFLOW_I2S_WS 25
#endif
#ifndef TINYFLOW_I2S_SD
#define TINYFLOW_I2S_SD 33
#endif

static int mic_open(void) {
  i2s_config_t cfg;
  i2s_pin_config_t pins;
  memset(&cfg, 0, sizeof cfg);
  memset(&pins, 0, sizeof pins);
  cfg.mode = (i2s_mode_t)(I2S_MODE_MASTER | I2S_MODE_RX);
  cfg.sample_rate = MIC_RATE_HZ;
  cfg.bits_per_sample = I2S_BITS_PER_SAMPLE_32BIT; /* the microphone's 24 bits, left-aligned */
  cfg.channel_format = I2S_CHANNEL_FMT_ONLY_LEFT;
  cfg.communication_format = I2S_COMM_FORMAT_STAND_I2S;
  cfg.dma_buf_count = 8;
  cfg.dma_buf_len = 256; /* 8 x 256 samples: 128 ms of DMA between loop() calls */
  pins.mck_io_num = I2S_PIN_NO_CHANGE;
  pins.bck_io_num = TINYFLOW_I2S_SCK;
  pins.ws_io_num = TINYFLOW_I2S_WS;
  pins.data_out_num = I2S_PIN_NO_CHANGE;
  pins.data_in_num = TINYFLOW_I2S_SD;
  if (i2s_driver_install(I2S_NUM_0, &cfg, 0, NULL) != ESP_OK) {
    return TINYFLOW_SENSOR_EIO;
  }
  if (i2s_set_pin(I2S_NUM_0, &pins) != ESP_OK) {
    i2s_driver_uninstall(I2S_NUM_0);
    return TINYFLOW_SENSOR_EIO;
  }
  return 0;
}

/* Polled: move what the DMA holds into the ring (non-blocking reads of at most 256 samples). */
static void mic_poll(void) {
  int32_t raw[256];
  int16_t pcm[256];
  for (int guard = 0; guard < 8; ++guard) {
    size_t got = 0;
    if (i2s_read(I2S_NUM_0, raw, sizeof raw, &got, 0) != ESP_OK || got == 0) {
      return;
    }
    uint32_t n = (uint32_t)(got / sizeof raw[0]);
    for (uint32_t i = 0; i < n; ++i) {
      pcm[i] = (int16_t)(raw[i] >> 16);
    }
    mic_push(pcm, n);
  }
}

static void mic_close(void) { i2s_driver_uninstall(I2S_NUM_0); }
#else
#include <PDM.h>

static void on_pdm(void) {
  int16_t pcm[256];
  for (int guard = 0; guard < 16; ++guard) { /* the PDM buffer holds a few hundred samples */
    int bytes = PDM.available();
    if (bytes <= 0) {
      return;
    }
    if (bytes > (int)sizeof pcm) {
      bytes = (int)sizeof pcm;
    }
    int got = PDM.read(pcm, bytes);
    if (got <= 0) {
      return;
    }
    mic_push(pcm, (uint32_t)got / 2u);
  }
}

static int mic_open(void) {
  PDM.onReceive(on_pdm);
  return PDM.begin(1, (int)MIC_RATE_HZ) ? 0 : TINYFLOW_SENSOR_EIO;
}

static void mic_poll(void) {}

static void mic_close(void) { PDM.end(); }
#endif

static int mic_read_frames(int16_t *buf, uint32_t max_frames, uint64_t *ticks64) {
  mic_poll();
  /* Interrupts off while the ring is read: the PDM interrupt must not overwrite what is copied. */
  noInterrupts();
  uint32_t head = s_mic_head;
  uint32_t head_micros = s_mic_head_micros;
  if (head - s_mic_tail > MIC_RING_SAMPLES) {
    /* overwritten before anyone read them: dropped, and counted before this read's frames */
    s_dropped += head - s_mic_tail - MIC_RING_SAMPLES;
    s_mic_tail = head - MIC_RING_SAMPLES;
  }
  uint32_t pending = head - s_mic_tail;
  uint32_t n = pending < max_frames ? pending : max_frames;
  for (uint32_t i = 0; i < n; ++i) {
    buf[i] = s_mic[(s_mic_tail + i) % MIC_RING_SAMPLES];
  }
  interrupts();
  if (n == 0) {
    return 0;
  }
  /* the newest sample (head - 1) arrived at head_micros; the first returned one pending - 1 periods earlier */
  uint64_t newest_ticks = tinyflow_hal_ticks64() - (uint32_t)(micros() - head_micros);
  *ticks64 = newest_ticks - (uint64_t)(pending - 1u) * 1000000u / MIC_RATE_HZ;
  s_mic_tail += n;
  return (int)n;
}

extern "C" int tinyflow_hal_sensor_open(uint32_t rate_hz, uint8_t channels, tinyflow_sensor_info_t *info) {
  tinyflow_hal_sensor_close();
  bool mic = channels == 1u || rate_hz >= 8000u ||
             (channels == 0u && rate_hz == 0u && TINYFLOW_ARDUINO_SENSOR_DEFAULT == TINYFLOW_SENSOR_AUDIO);
  int status;
  s_dropped = 0;
  if (mic) {
    if ((rate_hz != 0u && rate_hz != MIC_RATE_HZ) || channels > 1u) {
      return TINYFLOW_SENSOR_EUNSUPPORTED;
    }
    s_mic_head = s_mic_tail = 0;
    status = mic_open();
    s_kind = TINYFLOW_SENSOR_AUDIO;
    s_channels = 1;
    s_rate = MIC_RATE_HZ;
  } else {
    uint32_t rate = rate_hz != 0u ? rate_hz : IMU_DEFAULT_HZ;
    if ((channels != 0u && channels != 3u && channels != 6u) || rate > IMU_MAX_HZ) {
      return TINYFLOW_SENSOR_EUNSUPPORTED;
    }
    status = imu_open(rate);
    s_kind = TINYFLOW_SENSOR_IMU;
    s_channels = channels != 0u ? channels : 6u;
    s_rate = rate;
    s_imu_period = 1000000u / rate;
    s_imu_next = tinyflow_hal_ticks64();
  }
  if (status != 0) {
    s_kind = TINYFLOW_SENSOR_NONE;
    return status;
  }
  if (info != NULL) {
    info->kind = s_kind;
    info->channels = s_channels;
    info->rate_hz = s_rate;
  }
  return 0;
}

extern "C" int tinyflow_hal_sensor_read(int16_t *buf, uint32_t max_frames, uint64_t *ticks64) {
  if (s_kind == TINYFLOW_SENSOR_AUDIO) {
    return mic_read_frames(buf, max_frames, ticks64);
  }
  if (s_kind == TINYFLOW_SENSOR_IMU) {
    return imu_read_frames(buf, max_frames, ticks64);
  }
  return TINYFLOW_SENSOR_ENOTOPEN;
}

extern "C" uint32_t tinyflow_hal_sensor_dropped(void) { return s_dropped; }

extern "C" void tinyflow_hal_sensor_close(void) {
  if (s_kind == TINYFLOW_SENSOR_AUDIO) {
    mic_close();
  }
  s_kind = TINYFLOW_SENSOR_NONE;
}
#endif /* TINYFLOW_ARDUINO_SENSORS */
