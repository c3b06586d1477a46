/* What the host port adds to hal.h for the generated main.cpp (PlatformIO `native` env). */
#ifndef TINYFLOW_PORT_H
#define TINYFLOW_PORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* $TINYFLOW_BOOT_COUNT (the launcher adds 1 per restart), else 1. */
uint32_t tinyflow_port_boot_count(void);

/* Sleep until input arrives or 100 ms pass, instead of spinning (the machine is shared). */
void tinyflow_port_idle(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_PORT_H */
