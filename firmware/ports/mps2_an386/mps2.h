/* mps2_an386 port internals: memory-mapped registers of the CMSDK peripherals QEMU's
 * mps2-an386 machine models, and the semihosting calls the port uses. Only this port's
 * files include it; the portable core sees hal.h alone. */
#ifndef TINYFLOW_MPS2_H
#define TINYFLOW_MPS2_H

#include <stdint.h>

#define TINYFLOW_MPS2_REG(addr) (*(volatile uint32_t *)(addr))

/* Addresses and IRQ numbers are those of mps2-an385/an386/an500; each is a default that
 * tinyflow/build/arm_targets.py overrides for the other images of the family (mps2-an505's secure
 * aliases, mps3-an547's UART). */

/* CMSDK APB UART0: 1-byte RX/TX holding registers. */
#ifndef TINYFLOW_MPS2_UART0
#define TINYFLOW_MPS2_UART0 0x40004000u
#endif
#define TINYFLOW_MPS2_UART_DATA TINYFLOW_MPS2_REG(TINYFLOW_MPS2_UART0 + 0x00u)
#define TINYFLOW_MPS2_UART_STATE TINYFLOW_MPS2_REG(TINYFLOW_MPS2_UART0 + 0x04u)
#define TINYFLOW_MPS2_UART_CTRL TINYFLOW_MPS2_REG(TINYFLOW_MPS2_UART0 + 0x08u)
#define TINYFLOW_MPS2_UART_INTCLEAR TINYFLOW_MPS2_REG(TINYFLOW_MPS2_UART0 + 0x0Cu)
#define TINYFLOW_MPS2_UART_BAUDDIV TINYFLOW_MPS2_REG(TINYFLOW_MPS2_UART0 + 0x10u)
#ifndef TINYFLOW_MPS2_UART_RX_IRQ
#define TINYFLOW_MPS2_UART_RX_IRQ 0u /* UART0 RX is IRQ 0 on mps2-an385/an386 */
#endif
#define TINYFLOW_MPS2_UART_TX_FULL 0x1u
#define TINYFLOW_MPS2_UART_RX_FULL 0x2u

/* CMSDK APB Timer0: 32-bit down counter clocked by PCLK (25 MHz on mps2-an386). */
#ifndef TINYFLOW_MPS2_TIMER0
#define TINYFLOW_MPS2_TIMER0 0x40000000u
#endif
#define TINYFLOW_MPS2_TIMER_CTRL TINYFLOW_MPS2_REG(TINYFLOW_MPS2_TIMER0 + 0x00u)
#define TINYFLOW_MPS2_TIMER_VALUE TINYFLOW_MPS2_REG(TINYFLOW_MPS2_TIMER0 + 0x04u)
#define TINYFLOW_MPS2_TIMER_RELOAD TINYFLOW_MPS2_REG(TINYFLOW_MPS2_TIMER0 + 0x08u)
#ifndef TINYFLOW_MPS2_PCLK_HZ
#define TINYFLOW_MPS2_PCLK_HZ 25000000u
#endif

/* CMSDK APB Timer1: armed only while the core sleeps, to wake it before Timer0 wraps twice
 * unseen (the 64-bit tick count is Timer0 extended in software). IRQ 9 on mps2-an385/an386. */
#ifndef TINYFLOW_MPS2_TIMER1
#define TINYFLOW_MPS2_TIMER1 0x40001000u
#endif
#define TINYFLOW_MPS2_TIMER1_CTRL TINYFLOW_MPS2_REG(TINYFLOW_MPS2_TIMER1 + 0x00u)
#define TINYFLOW_MPS2_TIMER1_VALUE TINYFLOW_MPS2_REG(TINYFLOW_MPS2_TIMER1 + 0x04u)
#define TINYFLOW_MPS2_TIMER1_RELOAD TINYFLOW_MPS2_REG(TINYFLOW_MPS2_TIMER1 + 0x08u)
#define TINYFLOW_MPS2_TIMER1_INTCLEAR TINYFLOW_MPS2_REG(TINYFLOW_MPS2_TIMER1 + 0x0Cu)
#ifndef TINYFLOW_MPS2_TIMER1_IRQ
#define TINYFLOW_MPS2_TIMER1_IRQ 9u
#endif

/* System control block: fault status and the FPU access register. */
#define TINYFLOW_MPS2_NVIC_ISER0 TINYFLOW_MPS2_REG(0xE000E100u)
/* Enable IRQ n (ISER0 holds IRQs 0-31; the TrustZone images put their UARTs above 31). */
#define TINYFLOW_MPS2_NVIC_ENABLE(n) (TINYFLOW_MPS2_REG(0xE000E100u + 4u * ((n) >> 5)) = 1u << ((n) & 31u))
#define TINYFLOW_MPS2_NVIC_DISABLE(n) (TINYFLOW_MPS2_REG(0xE000E180u + 4u * ((n) >> 5)) = 1u << ((n) & 31u))
#define TINYFLOW_MPS2_SCB_CPACR TINYFLOW_MPS2_REG(0xE000ED88u)
#define TINYFLOW_MPS2_SCB_CFSR TINYFLOW_MPS2_REG(0xE000ED28u)
#define TINYFLOW_MPS2_SCB_HFSR TINYFLOW_MPS2_REG(0xE000ED2Cu)
#define TINYFLOW_MPS2_SCB_MMFAR TINYFLOW_MPS2_REG(0xE000ED34u)
#define TINYFLOW_MPS2_SCB_BFAR TINYFLOW_MPS2_REG(0xE000ED38u)

/* Exit codes the host recognises (targets/machines/qemu.py): 0 normal, FAULT after a HardFault. */
#define TINYFLOW_MPS2_EXIT_FAULT 0x7Fu

/* Sleep (WFI) until the UART has a byte for us; returns at once when one is already there.
 * Keeps the emulator from spinning a host core while the host is busy. */
void tinyflow_mps2_wait_for_input(void);
void tinyflow_mps2_uart_rx_irq(void);
void tinyflow_mps2_timer1_irq(void);

/* Boots so far, as the host launcher set it (0 when it did not). */
extern volatile uint32_t tinyflow_mps2_boot_count;

/* Semihosting (QEMU -semihosting): write a NUL-terminated string to the host's stderr,
 * and end the emulation with an exit code. */
void tinyflow_mps2_semihost_write(const char *text);
void tinyflow_mps2_semihost_exit(uint32_t code) __attribute__((noreturn));

/* Host files through semihosting (the played sensor): the command line (0 or -1), open for
 * reading (a handle, -1 on failure), length (-1 on failure), read (bytes read), close. */
int tinyflow_mps2_semihost_cmdline(char *buf, uint32_t cap);
int tinyflow_mps2_semihost_open(const char *path);
int32_t tinyflow_mps2_semihost_flen(int handle);
uint32_t tinyflow_mps2_semihost_read(int handle, void *buf, uint32_t len);
void tinyflow_mps2_semihost_close(int handle);

#endif /* TINYFLOW_MPS2_H */
