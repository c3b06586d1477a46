/* mps2_an386 implementation of hal.h: CMSDK UART0 (polled; QEMU puts it on a TCP socket) and,
 * when the host names one on the command line, the memory link (ring.h) for input,
 * CMSDK Timer0 as the free-running 32-bit tick counter (64-bit: extended in software, with
 * Timer1 waking an idle core), and the painted-stack high-water mark.
 *
 * Why Timer0 and not SysTick: SysTick is 24-bit and needs a wrap interrupt whose position
 * relative to an inference varies with when the request arrived, which would make
 * instruction counts differ from run to run. Timer0 counts 32 bits with no interrupt. */
#include "tinyflow/clock.h"
#include "tinyflow/hal.h"

#include "mps2.h"
#include "ring.h"

/* Timer0 wraps every 2^32 / 25 MHz = 172 s of emulated time; one wrap seen per reading keeps the
 * 64-bit count exact. The core reads it after every inference, and tinyflow_hal_idle() arms
 * Timer1 to wake up at least every 86 s while the core sleeps. */
#define IDLE_WAKE_TICKS 0x7FFFFFFFu
static tinyflow_clock_t s_clock;

uint32_t tinyflow_mps2_stack_high_water(void);
static void read_cmdline(void);

/* The rate the host divides ticks by. sim_qemu.py sets it so that device microseconds are the
 * estimated time on the chosen board (see docs/qemu.md); by default, Timer0's real 25 MHz. */
#ifndef TINYFLOW_MPS2_TICKS_PER_SECOND
#define TINYFLOW_MPS2_TICKS_PER_SECOND TINYFLOW_MPS2_PCLK_HZ
#endif

int tinyflow_hal_init(void) {
  TINYFLOW_MPS2_UART_BAUDDIV = 16u; /* the smallest divider the CMSDK UART accepts */
  TINYFLOW_MPS2_UART_CTRL = 0x3u | 0x8u; /* TX and RX enabled; RX interrupt (wakes WFI) */
  /* A read of DATA makes QEMU poll the socket again; without it the first byte from the host
   * waits for QEMU's next idle wake-up (about a second). */
  (void)TINYFLOW_MPS2_UART_DATA;
  TINYFLOW_MPS2_UART_INTCLEAR = 0x2u;
  /* The RX interrupt is enabled in the NVIC only while the core waits for input
   * (tinyflow_mps2_wait_for_input), so a byte arriving during an inference never runs a handler
   * inside it. */
  TINYFLOW_MPS2_TIMER_CTRL = 0u;
  TINYFLOW_MPS2_TIMER_RELOAD = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_VALUE = 0xFFFFFFFFu;
  TINYFLOW_MPS2_TIMER_CTRL = 0x1u; /* enable, PCLK, no interrupt */
  TINYFLOW_MPS2_TIMER1_CTRL = 0u;
  TINYFLOW_MPS2_NVIC_ENABLE(TINYFLOW_MPS2_TIMER1_IRQ);
  read_cmdline(); /* attaches the memory link when the host named one */
  return 0;
}

void tinyflow_mps2_timer1_irq(void) {
  /* Only there to end WFI; hal_idle reads the clock once awake. */
  TINYFLOW_MPS2_TIMER1_INTCLEAR = 0x1u;
}

void tinyflow_mps2_uart_rx_irq(void) {
  /* Only there to wake the core from WFI: the data stays in the UART for hal_read. */
  TINYFLOW_MPS2_UART_INTCLEAR = 0x2u;
}

void tinyflow_mps2_wait_for_input(void) {
  /* With interrupts masked, a byte that lands between the check and WFI still leaves its
   * interrupt pending, and a pending interrupt ends WFI: no lost wake-up. With the memory link,
   * the host rings the UART (one doorbell byte) after each write into the ring, for the same
   * reason: a sleeping core cannot see memory change. */
  __asm__ volatile("cpsid i" ::: "memory");
  TINYFLOW_MPS2_NVIC_ENABLE(TINYFLOW_MPS2_UART_RX_IRQ);
  if (!(TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL) && tinyflow_mps2_ring_pending() == 0u) {
    __asm__ volatile("dsb\n\twfi" ::: "memory");
  }
  __asm__ volatile("cpsie i\n\tisb" ::: "memory");
  TINYFLOW_MPS2_NVIC_DISABLE(TINYFLOW_MPS2_UART_RX_IRQ);
}

int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  size_t n = 0;
  if (tinyflow_mps2_ring_attached()) {
    /* Input comes through the ring; UART bytes are only the host's doorbells. Reading them
     * keeps the UART receiving, so the next doorbell can wake the core. */
    for (n = 0; n < cap && (TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL); ++n) {
      (void)TINYFLOW_MPS2_UART_DATA;
    }
    return (int)tinyflow_mps2_ring_read(buf, cap);
  }
  /* The CMSDK UART holds one byte; QEMU refills it as soon as it is read, so drain up to cap. */
  while (n < cap && (TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_RX_FULL)) {
    buf[n++] = (uint8_t)TINYFLOW_MPS2_UART_DATA;
  }
  return (int)n;
}

int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    /* Bounded wait: QEMU empties the holding register at once; give up rather than hang. */
    uint32_t spins = 1000000u;
    while ((TINYFLOW_MPS2_UART_STATE & TINYFLOW_MPS2_UART_TX_FULL) && spins) {
      --spins;
    }
    if (!spins) {
      return (int)i;
    }
    TINYFLOW_MPS2_UART_DATA = buf[i];
  }
  return (int)len;
}

uint32_t tinyflow_hal_ticks(void) {
  return 0xFFFFFFFFu - TINYFLOW_MPS2_TIMER_VALUE;
}

uint64_t tinyflow_hal_ticks64(void) { return tinyflow_clock_extend(&s_clock, tinyflow_hal_ticks()); }

uint32_t tinyflow_hal_ticks_per_second(void) {
  return (uint32_t)TINYFLOW_MPS2_TICKS_PER_SECOND;
}

uint32_t tinyflow_hal_stack_high_water(void) {
  return tinyflow_mps2_stack_high_water();
}

/* Written by the launcher (tinyflow/targets/sim_qemu.py) into no-init RAM before each boot. */
uint32_t tinyflow_hal_boot_count(void) { return tinyflow_mps2_boot_count; }

/* ---- Played sensor (hal.h "Sensors"): the file of `--sensor PATH [--sensor-pace realtime|fast]`
 * on the semihosting command line (tinyflow/targets/machines/qemu.py puts it there), read with
 * SYS_READ. Realtime: frame i is available i/rate seconds after open by the tick clock (virtual
 * time under -icount); fast: at once. The file is untrusted: its header is checked against its
 * length. A played file waits for its reader: nothing is dropped. */
#define SENSOR_HEADER_BYTES 16
#define SENSOR_MAX_CHANNELS 16u
#define SENSOR_WAKE_TICKS (TINYFLOW_MPS2_PCLK_HZ / 100u) /* idle wakes every 10 ms while realtime plays */

static char s_cmdline[512];
static const char *s_sensor_path;
static uint8_t s_sensor_fast;
static uint8_t s_cmdline_read;
static int s_sensor = -1;
static tinyflow_sensor_info_t s_sensor_info;
static uint32_t s_sensor_frames;
static uint32_t s_sensor_delivered;
static uint64_t s_sensor_t0;

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int same(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

/* Split the command line at spaces (in place) and pick out the sensor's arguments. */
static void read_cmdline(void) {
  char *words[16];
  uint32_t n = 0, i;
  char *p = s_cmdline;
  s_cmdline_read = 1;
  if (tinyflow_mps2_semihost_cmdline(s_cmdline, sizeof s_cmdline) != 0) {
    return;
  }
  s_cmdline[sizeof s_cmdline - 1] = '\0';
  (void)tinyflow_mps2_ring_attach_cmdline(s_cmdline); /* before the split below cuts it up */
  for (i = 0; i < sizeof s_cmdline && *p != '\0' && n < 16u; ++i) {
    while (*p == ' ') {
      *p++ = '\0';
    }
    if (*p == '\0') {
      break;
    }
    words[n++] = p;
    while (*p != '\0' && *p != ' ') {
      ++p;
    }
  }
  for (i = 0; i + 1 < n; ++i) {
    if (same(words[i], "--sensor")) {
      s_sensor_path = words[i + 1];
    } else if (same(words[i], "--sensor-pace")) {
      s_sensor_fast = (uint8_t)same(words[i + 1], "fast");
    }
  }
}

int tinyflow_hal_sensor_open(uint32_t rate_hz, uint8_t channels, tinyflow_sensor_info_t *info) {
  uint8_t head[SENSOR_HEADER_BYTES];
  tinyflow_hal_sensor_close();
  if (!s_cmdline_read) {
    read_cmdline();
  }
  if (s_sensor_path == 0) {
    return TINYFLOW_SENSOR_ENONE;
  }
  s_sensor = tinyflow_mps2_semihost_open(s_sensor_path);
  if (s_sensor < 0) {
    return TINYFLOW_SENSOR_EIO;
  }
  if (tinyflow_mps2_semihost_read(s_sensor, head, sizeof head) != sizeof head || head[0] != 'T' ||
      head[1] != 'F' || head[2] != 'P' || head[3] != 'S' || head[4] != 1u || head[5] != 0u ||
      head[6] < TINYFLOW_SENSOR_AUDIO || head[6] > TINYFLOW_SENSOR_ADC || head[7] == 0u ||
      head[7] > SENSOR_MAX_CHANNELS || le32(head + 8) == 0u ||
      (uint64_t)(uint32_t)tinyflow_mps2_semihost_flen(s_sensor) !=
          SENSOR_HEADER_BYTES + (uint64_t)le32(head + 12) * head[7] * 2u) {
    tinyflow_hal_sensor_close();
    return TINYFLOW_SENSOR_EIO;
  }
  if ((rate_hz != 0u && rate_hz != le32(head + 8)) || (channels != 0u && channels != head[7])) {
    tinyflow_hal_sensor_close();
    return TINYFLOW_SENSOR_EUNSUPPORTED; /* a played file has one rate and channel count */
  }
  s_sensor_info.kind = head[6];
  s_sensor_info.channels = head[7];
  s_sensor_info.rate_hz = le32(head + 8);
  s_sensor_frames = le32(head + 12);
  s_sensor_delivered = 0;
  s_sensor_t0 = tinyflow_hal_ticks64();
  if (info != 0) {
    *info = s_sensor_info;
  }
  return 0;
}

int tinyflow_hal_sensor_read(int16_t *buf, uint32_t max_frames, uint64_t *ticks64) {
  uint64_t now, avail;
  uint32_t n, i, values;
  uint32_t tps = tinyflow_hal_ticks_per_second();
  if (s_sensor < 0) {
    return TINYFLOW_SENSOR_ENOTOPEN;
  }
  if (s_sensor_delivered >= s_sensor_frames) {
    return TINYFLOW_SENSOR_ENDED;
  }
  now = tinyflow_hal_ticks64();
  avail = s_sensor_fast ? s_sensor_frames : (now - s_sensor_t0) * s_sensor_info.rate_hz / tps;
  avail = avail < s_sensor_frames ? avail : s_sensor_frames;
  n = avail > s_sensor_delivered ? (uint32_t)(avail - s_sensor_delivered) : 0u;
  n = n < max_frames ? n : max_frames;
  if (n == 0u) {
    return 0;
  }
  values = n * s_sensor_info.channels;
  if (tinyflow_mps2_semihost_read(s_sensor, buf, values * 2u) != values * 2u) {
    return TINYFLOW_SENSOR_EIO;
  }
  for (i = 0; i < values; ++i) {
    const uint8_t *b = (const uint8_t *)&buf[i]; /* the file is little-endian, like the core */
    buf[i] = (int16_t)(uint16_t)(b[0] | (b[1] << 8));
  }
  /* Frame i's time is i/rate after open, paced or not (fast: ahead of the clock, as the frames are). */
  *ticks64 = s_sensor_t0 + (uint64_t)s_sensor_delivered * tps / s_sensor_info.rate_hz;
  s_sensor_delivered += n;
  return (int)n;
}

uint32_t tinyflow_hal_sensor_dropped(void) { return 0u; }

void tinyflow_hal_sensor_close(void) {
  if (s_sensor >= 0) {
    tinyflow_mps2_semihost_close(s_sensor);
    s_sensor = -1;
  }
}

void tinyflow_hal_idle(void) {
  /* A realtime played sensor makes frames while the core sleeps: wake up to move them. */
  uint32_t wake = (s_sensor >= 0 && !s_sensor_fast) ? SENSOR_WAKE_TICKS : IDLE_WAKE_TICKS;
  (void)tinyflow_hal_ticks64();
  /* Timer1 interrupts only while asleep, so no interrupt lands inside an inference and
   * instruction counts stay deterministic. */
  TINYFLOW_MPS2_TIMER1_RELOAD = wake;
  TINYFLOW_MPS2_TIMER1_VALUE = wake;
  TINYFLOW_MPS2_TIMER1_CTRL = 0x9u; /* enable, interrupt */
  tinyflow_mps2_wait_for_input();
  TINYFLOW_MPS2_TIMER1_CTRL = 0u;
  TINYFLOW_MPS2_TIMER1_INTCLEAR = 0x1u;
  (void)tinyflow_hal_ticks64();
}
