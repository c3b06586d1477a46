/* Semihosting calls (bkpt 0xAB) for QEMU's -semihosting: the port's only way to tell the
 * host something outside the UART (fault reports, exit codes). */
#include "mps2.h"

#define SYS_WRITE0 0x04u
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
