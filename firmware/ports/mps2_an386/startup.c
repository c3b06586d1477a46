/* mps2_an386 start-up: vector table, reset (copy .data, clear .bss, paint the stack, enable
 * the FPU, run main) and a HardFault handler that reports the fault registers to the host
 * over semihosting and exits with TINYFLOW_MPS2_EXIT_FAULT. */
#include <stdint.h>

#include "mps2.h"

#define STACK_PAINT 0xA5A5A5A5u
/* mps2-an385/an386/an500 use IRQs 0-31; the TrustZone images' UARTs sit above 31 (arm_targets.py). */
#ifndef TINYFLOW_MPS2_NUM_IRQS
#define TINYFLOW_MPS2_NUM_IRQS 32
#endif
#define NUM_IRQS TINYFLOW_MPS2_NUM_IRQS
#define IRQ(n)                                                \
  ((n) == TINYFLOW_MPS2_UART_RX_IRQ  ? tinyflow_mps2_uart_rx_irq \
   : (n) == TINYFLOW_MPS2_TIMER1_IRQ ? tinyflow_mps2_timer1_irq  \
                                     : tinyflow_mps2_default_handler)

/* Symbols from the generated linker script (link.ld.in). */
extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_limit__, __stack_top__;

int main(void);
void tinyflow_mps2_reset(void);
void tinyflow_mps2_hardfault(void);
void tinyflow_mps2_default_handler(void);

/* Boots so far, written by the host launcher before reset (targets/machines/qemu.py: -device loader). */
__attribute__((section(".noinit"), used)) volatile uint32_t tinyflow_mps2_boot_count;

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16 + NUM_IRQS] = {
    (vector_t)(uintptr_t)&__stack_top__,
    tinyflow_mps2_reset,
    tinyflow_mps2_default_handler, /* NMI */
    tinyflow_mps2_hardfault,
    tinyflow_mps2_hardfault, /* MemManage: escalates anyway, same report */
    tinyflow_mps2_hardfault, /* BusFault */
    tinyflow_mps2_hardfault, /* UsageFault */
    0, 0, 0, 0,
    tinyflow_mps2_default_handler, /* SVCall */
    tinyflow_mps2_default_handler, /* DebugMon */
    0,
    tinyflow_mps2_default_handler, /* PendSV */
    tinyflow_mps2_default_handler, /* SysTick (unused: Timer0 gives 32-bit ticks) */
    /* UART0 RX and Timer1 (the idle wake-up, see hal.c) where this image wires them. */
    IRQ(0), IRQ(1), IRQ(2), IRQ(3), IRQ(4), IRQ(5), IRQ(6), IRQ(7),
    IRQ(8), IRQ(9), IRQ(10), IRQ(11), IRQ(12), IRQ(13), IRQ(14), IRQ(15),
    IRQ(16), IRQ(17), IRQ(18), IRQ(19), IRQ(20), IRQ(21), IRQ(22), IRQ(23),
    IRQ(24), IRQ(25), IRQ(26), IRQ(27), IRQ(28), IRQ(29), IRQ(30), IRQ(31),
#if NUM_IRQS > 32
    IRQ(32), IRQ(33), IRQ(34), IRQ(35), IRQ(36), IRQ(37), IRQ(38), IRQ(39),
    IRQ(40), IRQ(41), IRQ(42), IRQ(43), IRQ(44), IRQ(45), IRQ(46), IRQ(47),
#endif
};

static void paint_stack(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  /* Leave the 64 bytes under the live frame alone; paint everything below down to the limit. */
  uint32_t *end = (uint32_t *)(sp - 64u);
  for (uint32_t *p = &__stack_limit__; p < end; ++p) {
    *p = STACK_PAINT;
  }
}

void tinyflow_mps2_reset(void) {
  const uint32_t *src = &__data_load__;
  for (uint32_t *dst = &__data_start__; dst < &__data_end__; ++dst) {
    *dst = *src++;
  }
  for (uint32_t *dst = &__bss_start__; dst < &__bss_end__; ++dst) {
    *dst = 0;
  }
  paint_stack();
#if defined(__ARM_FP)
  /* Full access to CP10/CP11: the build uses -mfloat-abi=hard (Cortex-M3 builds have no FPU). */
  TINYFLOW_MPS2_SCB_CPACR |= (0xFu << 20);
#endif
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  int code = main();
  tinyflow_mps2_semihost_exit((uint32_t)code);
}

uint32_t tinyflow_mps2_stack_high_water(void) {
  const uint32_t *p = &__stack_limit__;
  while (p < &__stack_top__ && *p == STACK_PAINT) {
    ++p;
  }
  return (uint32_t)((uintptr_t)&__stack_top__ - (uintptr_t)p);
}

static char *put_hex(char *out, const char *label, uint32_t value) {
  static const char digits[] = "0123456789abcdef";
  while (*label) {
    *out++ = *label++;
  }
  *out++ = '0';
  *out++ = 'x';
  for (int shift = 28; shift >= 0; shift -= 4) {
    *out++ = digits[(value >> shift) & 0xFu];
  }
  return out;
}

/* Called by the naked handler with the exception frame {r0,r1,r2,r3,r12,lr,pc,xpsr}. */
__attribute__((used, noreturn)) static void report_fault(const uint32_t *frame) {
  static char line[200];
  char *p = line;
  const char *head = "tinyflow: HardFault";
  while (*head) {
    *p++ = *head++;
  }
  p = put_hex(p, " pc=", frame[6]);
  p = put_hex(p, " lr=", frame[5]);
  p = put_hex(p, " xpsr=", frame[7]);
  p = put_hex(p, " cfsr=", TINYFLOW_MPS2_SCB_CFSR);
  p = put_hex(p, " hfsr=", TINYFLOW_MPS2_SCB_HFSR);
  p = put_hex(p, " mmfar=", TINYFLOW_MPS2_SCB_MMFAR);
  p = put_hex(p, " bfar=", TINYFLOW_MPS2_SCB_BFAR);
  p = put_hex(p, " sp=", (uint32_t)(uintptr_t)frame);
  *p++ = '\n';
  *p = '\0';
  tinyflow_mps2_semihost_write(line);
  tinyflow_mps2_semihost_exit(TINYFLOW_MPS2_EXIT_FAULT);
}

__attribute__((naked)) void tinyflow_mps2_hardfault(void) {
  /* Pick the stack the faulting code used (EXC_RETURN bit 2), then report from C. */
  __asm__ volatile(
      "tst lr, #4\n\t"
      "ite eq\n\t"
      "mrseq r0, msp\n\t"
      "mrsne r0, psp\n\t"
      "b report_fault\n\t");
}

void tinyflow_mps2_default_handler(void) {
  tinyflow_mps2_semihost_write("tinyflow: unexpected exception\n");
  tinyflow_mps2_semihost_exit(TINYFLOW_MPS2_EXIT_FAULT);
}
