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

/* Monitor mode (monitor.c; empty when built with TINYFLOW_MONITOR=0): tinyflow_monitor_begin()
 * just before an invoke (the model's own input, before the runtime reuses its memory),
 * tinyflow_monitor_observe() after every successful invoke (INFER and application mode), and the
 * MONITOR request handler. */
void tinyflow_monitor_begin(void);
void tinyflow_monitor_observe(void);
void tinyflow_monitor_handle(uint16_t seq, const uint8_t *body, uint32_t len);
/* The bytes of a streamed input (model.h) as the model took them, in order, for sample `tag`. */
void tinyflow_monitor_input_stream(uint16_t tag, uint32_t offset, const uint8_t *data, uint32_t len);

/* Capture (capture.c, docs/protocol.md "Capture"): CAPTURE_START/READ/STOP requests, and the
 * pump tinyflow_device_step() calls between polls to move sensor frames into the ring. */
void tinyflow_capture_handle(uint8_t type, uint16_t seq, const uint8_t *body, uint32_t len);
void tinyflow_capture_pump(void);

/* 0 when the model initialised and passed the core's checks, else its negative status (device.c). */
int tinyflow_core_model_status(void);

/* Application mode (app.c, tinyflow/app.h): tinyflow_app_step() between polls (nonzero when it read
 * frames or classified a window, so the loop does not idle), and the request handlers. */
int tinyflow_app_step(void);
void tinyflow_app_handle_start(uint16_t seq, const uint8_t *body, uint32_t len);
void tinyflow_app_handle_predictions(uint16_t seq, const uint8_t *body, uint32_t len);
void tinyflow_app_handle_stop(uint16_t seq);
void tinyflow_app_handle_window(uint16_t seq, const uint8_t *body, uint32_t len); /* WINDOW: a kept raw window */

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_CORE_H */
