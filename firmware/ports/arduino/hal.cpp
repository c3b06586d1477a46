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
