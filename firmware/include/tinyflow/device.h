/* tinyflow device core: what a port's main() calls. See docs/protocol.md.
 *
 *   int main(void) { return tinyflow_device_run(tinyflow_hal_boot_count()); }
 *
 * or, where the framework owns the loop (Arduino's setup() and loop()):
 *
 *   void setup() { tinyflow_device_start(tinyflow_hal_boot_count()); }
 *   void loop() { tinyflow_device_step(); }
 */
#ifndef TINYFLOW_DEVICE_H
#define TINYFLOW_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The main loop every port shares: tinyflow_device_start(boot_count), then
 * tinyflow_device_step() until the HAL reports the link gone. Returns 2 when
 * tinyflow_hal_init() failed, 0 when the link is gone; on a board it does not return. */
int tinyflow_device_run(uint32_t boot_count);

/* Hosted ports' entry (a process with a command line): tinyflow_device_run() with the boot
 * counter of `--boot N` when given, else `boot_count` (pass tinyflow_hal_boot_count()). */
int tinyflow_device_main(int argc, char **argv, uint32_t boot_count);

/* tinyflow_hal_init(), the boot counter, tinyflow_device_init(). Returns 0, or -1 when the HAL
 * failed (nothing else is done). A model that fails to initialise still returns 0: the device
 * answers NOT_READY, so the host learns why. */
int tinyflow_device_start(uint32_t boot_count);

/* One iteration of the loop: tinyflow_device_poll(), then tinyflow_hal_idle() if it was idle.
 * Returns what poll returned. */
int tinyflow_device_step(void);

/* The boot counter reported in HELLO/BOOT/INFER (a change tells the host the device reset). */
void tinyflow_device_set_boot_count(uint32_t count);

/* Initialise the model and the link state; announces BOOT (binary protocol only).
 * Returns 0, or the model's negative init status (the device still answers, with NOT_READY). */
int tinyflow_device_init(void);

/* Read what the HAL has (at most 64 bytes) and execute complete requests; never waits for
 * input. Returns the number of bytes consumed (0 when idle) or negative when the link is gone. */
int tinyflow_device_poll(void);

/* Process bytes as if they had been read (poll() calls it; fuzzers and tests call it). */
void tinyflow_device_feed(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_DEVICE_H */
