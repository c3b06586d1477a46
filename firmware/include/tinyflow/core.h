/* What the core's modules share (device.c with pipeline.c, capture.c, app.c, monitor.c): the
 * reply writer and the error reply. Not part of the port contract: ports use hal.h and device.h. */
#ifndef TINYFLOW_CORE_H
#define TINYFLOW_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tinyflow_hal_write in the tinyflow_write_fn shape, for tinyflow_frame_begin(). */
int tinyflow_core_write(const uint8_t *buf, size_t len);

/* An ERROR reply (docs/protocol.md): code, request type, tag, detail, message. */
void tinyflow_core_send_error(uint16_t seq, uint8_t code, uint8_t req_type, uint16_t tag, uint32_t detail,
                              const char *msg);

uint32_t tinyflow_core_boot_count(void);

/* Little-endian readers for request bodies (lengths are checked by the caller). */
uint32_t tinyflow_core_get_u16(const uint8_t *p);
uint32_t tinyflow_core_get_u32(const uint8_t *p);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_CORE_H */
