/* Semihosting calls (bkpt 0xAB) for QEMU's -semihosting: the port's only way to tell the
 * host something outside the UART (fault reports, exit codes) and to read a file of the host
 * (the played sensor, named on the command line QEMU's -semihosting-config arg=... gives). */
#include "mps2.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE0 0x04u
#define SYS_READ 0x06u
#define SYS_FLEN 0x0Cu
#define SYS_GET_CMDLINE 0x15u
#define OPEN_MODE_RB 1u /* fopen "rb" */
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihost_call(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void tinyflow_mps2_semihost_write(const char *text) {
  (void)semihost_call(SYS_WRITE0, text);
}

void tinyflow_mps2_semihost_exit(uint32_t code) {
  /* SYS_EXIT_EXTENDED carries the code itself; plain SYS_EXIT on AArch32 only says 0 or 1. */
  static uint32_t block[2];
  block[0] = ADP_STOPPED_APPLICATION_EXIT;
  block[1] = code;
  (void)semihost_call(SYS_EXIT_EXTENDED, block);
  for (;;) {
    /* Unreachable under QEMU; on anything else, park the core. */
    __asm__ volatile("wfi");
  }
}

int tinyflow_mps2_semihost_cmdline(char *buf, uint32_t cap) {
  static uint32_t block[2];
  block[0] = (uint32_t)(uintptr_t)buf;
  block[1] = cap;
  return semihost_call(SYS_GET_CMDLINE, block) == 0u ? 0 : -1;
}

int tinyflow_mps2_semihost_open(const char *path) {
  static uint32_t block[3];
  uint32_t len = 0;
  while (path[len] != '\0' && len < 0xFFFFu) {
    ++len;
  }
  block[0] = (uint32_t)(uintptr_t)path;
  block[1] = OPEN_MODE_RB;
  block[2] = len;
  return (int)semihost_call(SYS_OPEN, block);
}

int32_t tinyflow_mps2_semihost_flen(int handle) {
  static uint32_t block[1];
  block[0] = (uint32_t)handle;
  return (int32_t)semihost_call(SYS_FLEN, block);
}

uint32_t tinyflow_mps2_semihost_read(int handle, void *buf, uint32_t len) {
  static uint32_t block[3];
  uint32_t left;
  block[0] = (uint32_t)handle;
  block[1] = (uint32_t)(uintptr_t)buf;
  block[2] = len;
  left = semihost_call(SYS_READ, block); /* the bytes NOT read */
  return left <= len ? len - left : 0u;
}

void tinyflow_mps2_semihost_close(int handle) {
  static uint32_t block[1];
  block[0] = (uint32_t)handle;
  (void)semihost_call(SYS_CLOSE, block);
}
