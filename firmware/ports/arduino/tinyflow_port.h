/* What the Arduino port adds to hal.h for the generated main.cpp. */
#ifndef TINYFLOW_PORT_H
#define TINYFLOW_PORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Boot counter for the protocol's reset detection: kept across resets in RTC no-init memory on
 * ESP32 chips; other Arduino cores have no portable no-init RAM, so it is 1 at every boot and the
 * host detects resets by the BOOT frame the core sends at init. */
uint32_t tinyflow_port_boot_count(void);

/* Nothing to wait on between polls: loop() returns to the core's own scheduler. */
static inline void tinyflow_port_idle(void) {}

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_PORT_H */
