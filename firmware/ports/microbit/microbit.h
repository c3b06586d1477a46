/* microbit port internals: the nRF51822 registers QEMU's micro:bit machine models (UART0,
 * TIMER0) and the Cortex-M0 system registers the port uses. Only this port's files include it. */
#ifndef TINYFLOW_MICROBIT_H
#define TINYFLOW_MICROBIT_H

#include <stdint.h>

#define TINYFLOW_NRF_REG(addr) (*(volatile uint32_t *)(addr))

/* UART0: tasks start/stop each direction, events flag a received or sent byte. IRQ 2. */
#define TINYFLOW_NRF_UART0 0x40002000u
#define TINYFLOW_NRF_UART_STARTRX TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x000u)
#define TINYFLOW_NRF_UART_STARTTX TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x008u)
#define TINYFLOW_NRF_UART_RXDRDY TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x108u)
#define TINYFLOW_NRF_UART_TXDRDY TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x11Cu)
#define TINYFLOW_NRF_UART_INTENSET TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x304u)
#define TINYFLOW_NRF_UART_INTENCLR TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x308u)
#define TINYFLOW_NRF_UART_ENABLE TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x500u)
#define TINYFLOW_NRF_UART_RXD TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x518u)
#define TINYFLOW_NRF_UART_TXD TINYFLOW_NRF_REG(TINYFLOW_NRF_UART0 + 0x51Cu)
#define TINYFLOW_NRF_UART_INT_RXDRDY (1u << 2)
#define TINYFLOW_NRF_UART_IRQ 2u

/* TIMER0: 32-bit mode, prescaler 0 = 16 MHz; the count is read by a capture task into CC[0]. */
#define TINYFLOW_NRF_TIMER0 0x40008000u
#define TINYFLOW_NRF_TIMER_START TINYFLOW_NRF_REG(TINYFLOW_NRF_TIMER0 + 0x000u)
#define TINYFLOW_NRF_TIMER_CLEAR TINYFLOW_NRF_REG(TINYFLOW_NRF_TIMER0 + 0x00Cu)
#define TINYFLOW_NRF_TIMER_CAPTURE0 TINYFLOW_NRF_REG(TINYFLOW_NRF_TIMER0 + 0x040u)
#define TINYFLOW_NRF_TIMER_MODE TINYFLOW_NRF_REG(TINYFLOW_NRF_TIMER0 + 0x504u)
#define TINYFLOW_NRF_TIMER_BITMODE TINYFLOW_NRF_REG(TINYFLOW_NRF_TIMER0 + 0x508u)
#define TINYFLOW_NRF_TIMER_PRESCALER TINYFLOW_NRF_REG(TINYFLOW_NRF_TIMER0 + 0x510u)
#define TINYFLOW_NRF_TIMER_CC0 TINYFLOW_NRF_REG(TINYFLOW_NRF_TIMER0 + 0x540u)
#define TINYFLOW_NRF_TIMER_HZ 16000000u

#define TINYFLOW_NRF_NVIC_ISER TINYFLOW_NRF_REG(0xE000E100u)
#define TINYFLOW_MICROBIT_EXIT_FAULT 0x7Fu /* as mps2: targets/machines/qemu.py EXIT_FAULT */

void tinyflow_microbit_wait_for_input(void);
void tinyflow_microbit_uart_irq(void);
uint32_t tinyflow_microbit_stack_high_water(void);
extern volatile uint32_t tinyflow_microbit_boot_count;

/* Semihosting, shared with the mps2 family (firmware/ports/mps2_an386/semihost.c). */
void tinyflow_mps2_semihost_write(const char *text);
void tinyflow_mps2_semihost_exit(uint32_t code) __attribute__((noreturn));

#endif /* TINYFLOW_MICROBIT_H */
