/* microbit start-up (Cortex-M0, ARMv6-M): vector table, reset (copy .data, clear .bss, paint
 * the stack, run main) and a HardFault handler that reports pc/lr/xpsr to the host over
 * semihosting and exits with TINYFLOW_MICROBIT_EXIT_FAULT. ARMv6-M has no IT blocks and no
 * fault status registers, hence a port of its own beside mps2_an386/startup.c. */
#include <stdint.h>

#include "microbit.h"

#define STACK_PAINT 0xA5A5A5A5u
#define NUM_IRQS 32

extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_limit__, __stack_top__;

int main(void);
void tinyflow_microbit_reset(void);
void tinyflow_microbit_hardfault(void);
void tinyflow_microbit_default_handler(void);

/* Boots so far, written by the host launcher before reset (targets/machines/qemu.py). */
__attribute__((section(".noinit"), used)) volatile uint32_t tinyflow_microbit_boot_count;

typedef void (*vector_t)(void);

#define IRQ(n) ((n) == TINYFLOW_NRF_UART_IRQ ? tinyflow_microbit_uart_irq : tinyflow_microbit_default_handler)

__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16 + NUM_IRQS] = {
    (vector_t)(uintptr_t)&__stack_top__,
    tinyflow_microbit_reset,
    tinyflow_microbit_default_handler, /* NMI */
    tinyflow_microbit_hardfault,
    0, 0, 0, 0, 0, 0, 0,
    tinyflow_microbit_default_handler, /* SVCall */
    0, 0,
    tinyflow_microbit_default_handler, /* PendSV */
    tinyflow_microbit_default_handler, /* SysTick */
    IRQ(0), IRQ(1), IRQ(2), IRQ(3), IRQ(4), IRQ(5), IRQ(6), IRQ(7),
    IRQ(8), IRQ(9), IRQ(10), IRQ(11), IRQ(12), IRQ(13), IRQ(14), IRQ(15),
    IRQ(16), IRQ(17), IRQ(18), IRQ(19), IRQ(20), IRQ(21), IRQ(22), IRQ(23),
    IRQ(24), IRQ(25), IRQ(26), IRQ(27), IRQ(28), IRQ(29), IRQ(30), IRQ(31),
};

static void paint_stack(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  uint32_t *end = (uint32_t *)(sp - 64u); /* leave the live frame alone */
  for (uint32_t *p = &__stack_limit__; p < end; ++p) {
    *p = STACK_PAINT;
  }
}

void tinyflow_microbit_reset(void) {
  const uint32_t *src = &__data_load__;
  for (uint32_t *dst = &__data_start__; dst < &__data_end__; ++dst) {
    *dst = *src++;
  }
  for (uint32_t *dst = &__bss_start__; dst < &__bss_end__; ++dst) {
    *dst = 0;
  }
  paint_stack();
  int code = main();
  tinyflow_mps2_semihost_exit((uint32_t)code);
}

uint32_t tinyflow_microbit_stack_high_water(void) {
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

/* Called with the exception frame {r0,r1,r2,r3,r12,lr,pc,xpsr}. */
__attribute__((used, noreturn)) static void report_fault(const uint32_t *frame) {
  static char line[100];
  char *p = line;
  const char *head = "tinyflow: HardFault";
  while (*head) {
    *p++ = *head++;
  }
  p = put_hex(p, " pc=", frame[6]);
  p = put_hex(p, " lr=", frame[5]);
  p = put_hex(p, " xpsr=", frame[7]);
  p = put_hex(p, " sp=", (uint32_t)(uintptr_t)frame);
  *p++ = '\n';
  *p = '\0';
  tinyflow_mps2_semihost_write(line);
  tinyflow_mps2_semihost_exit(TINYFLOW_MICROBIT_EXIT_FAULT);
}

__attribute__((naked)) void tinyflow_microbit_hardfault(void) {
  /* The stack the faulting code used (EXC_RETURN bit 2), without IT blocks (ARMv6-M). */
  __asm__ volatile(
      "movs r0, #4\n\t"
      "mov r1, lr\n\t"
      "tst r0, r1\n\t"
      "bne 1f\n\t"
      "mrs r0, msp\n\t"
      "b report_fault\n"
      "1:\n\t"
      "mrs r0, psp\n\t"
      "b report_fault\n\t");
}

void tinyflow_microbit_default_handler(void) {
  tinyflow_mps2_semihost_write("tinyflow: unexpected exception\n");
  tinyflow_mps2_semihost_exit(TINYFLOW_MICROBIT_EXIT_FAULT);
}
