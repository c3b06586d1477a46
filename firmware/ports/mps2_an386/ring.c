/* The device side of the memory link (ring.h): the host produces, the device consumes. */
#include "ring.h"

#define RING_WORD(off) (*(volatile uint32_t *)(s_base + (off)))

static uintptr_t s_base;
static uint32_t s_capacity; /* 0: no ring attached */
static uint32_t s_tail;     /* the device's own copy: it is the only writer of the tail word */

/* Order the data accesses against the index accesses (the host writes data before head; the
 * device reads head before data and finishes reading data before it publishes the tail). */
static void barrier(void) { __asm__ volatile("dmb" ::: "memory"); }

int tinyflow_mps2_ring_attach(uintptr_t base) {
  uint32_t capacity;
  s_capacity = 0u;
  if (base == 0u || (base & 3u) != 0u) {
    return -1;
  }
  s_base = base;
  capacity = RING_WORD(8u);
  /* The header comes from a host file: checked once here, then trusted by ring_read. */
  if (RING_WORD(0u) != TINYFLOW_MPS2_RING_MAGIC || RING_WORD(4u) != TINYFLOW_MPS2_RING_VERSION ||
      capacity < 64u || (capacity & (capacity - 1u)) != 0u ||
      capacity > TINYFLOW_MPS2_RING_MAX_BYTES - TINYFLOW_MPS2_RING_DATA) {
    return -1;
  }
  s_tail = RING_WORD(TINYFLOW_MPS2_RING_TAIL);
  s_capacity = capacity;
  return 0;
}

/* A hexadecimal address ("0x21000000" up to a space or the end); 0 when it is not one. */
static uintptr_t parse_hex(const char *p) {
  uintptr_t v = 0u;
  uint32_t digits = 0u;
  if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X')) {
    return 0u;
  }
  for (p += 2; *p != '\0' && *p != ' '; ++p, ++digits) {
    uint32_t d = (*p >= '0' && *p <= '9')   ? (uint32_t)(*p - '0')
                 : (*p >= 'a' && *p <= 'f') ? (uint32_t)(*p - 'a' + 10)
                 : (*p >= 'A' && *p <= 'F') ? (uint32_t)(*p - 'A' + 10)
                                            : 16u;
    if (d == 16u || digits == 8u) {
      return 0u;
    }
    v = (v << 4) | d;
  }
  return v;
}

int tinyflow_mps2_ring_attach_cmdline(const char *cmdline) {
  static const char key[] = "--link-ring ";
  const char *p;
  uint32_t i;
  for (p = cmdline; *p != '\0'; ++p) {
    for (i = 0; key[i] != '\0' && p[i] == key[i]; ++i) {
    }
    if (key[i] == '\0' && (p == cmdline || p[-1] == ' ')) {
      return tinyflow_mps2_ring_attach(parse_hex(p + i));
    }
  }
  return -1;
}

int tinyflow_mps2_ring_attached(void) { return s_capacity != 0u; }

uint32_t tinyflow_mps2_ring_pending(void) {
  uint32_t n;
  if (s_capacity == 0u) {
    return 0u;
  }
  n = RING_WORD(TINYFLOW_MPS2_RING_HEAD) - s_tail;
  return n <= s_capacity ? n : 0u;
}

size_t tinyflow_mps2_ring_read(uint8_t *buf, size_t cap) {
  uint32_t head, avail, n, i;
  const volatile uint8_t *data;
  if (s_capacity == 0u || cap == 0u) {
    return 0u;
  }
  head = RING_WORD(TINYFLOW_MPS2_RING_HEAD);
  avail = head - s_tail;
  if (avail > s_capacity) {
    /* A head the host cannot have written: drop what is there and carry on from it; the
     * protocol's CRC and retries recover the request. */
    s_tail = head;
    RING_WORD(TINYFLOW_MPS2_RING_TAIL) = s_tail;
    return 0u;
  }
  n = avail < cap ? avail : (uint32_t)cap;
  barrier();
  data = (const volatile uint8_t *)(s_base + TINYFLOW_MPS2_RING_DATA);
  for (i = 0; i < n; ++i) {
    buf[i] = data[(s_tail + i) & (s_capacity - 1u)];
  }
  barrier();
  s_tail += n;
  RING_WORD(TINYFLOW_MPS2_RING_TAIL) = s_tail;
  return n;
}
