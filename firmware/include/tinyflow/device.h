/* tinyflow device core: what a port's main() calls. See docs/protocol.md.
 *
 *   tinyflow_hal_init();
 *   tinyflow_device_set_boot_count(n);   // optional: from no-init RAM or the launcher
 *   tinyflow_device_init();
 *   for (;;) tinyflow_device_poll();
 */
#ifndef TINYFLOW_DEVICE_H
#define TINYFLOW_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The boot counter reported in HELLO/BOOT/INFER (a change tells the host the device reset). */
void tinyflow_device_set_boot_count(uint32_t count);

/* Initialise the model and the link state; announces BOOT (binary protocol only).
 * Returns 0, or the model's negative init status (the device still answers, with NOT_READY). */
int tinyflow_device_init(void);

/* Read what the HAL has and execute complete requests; never waits for input.
 * Returns the number of bytes consumed (0 when idle) or negative when the link is gone. */
int tinyflow_device_poll(void);

/* Process bytes as if they had been read (poll() calls it; fuzzers and tests call it). */
void tinyflow_device_feed(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_DEVICE_H */
