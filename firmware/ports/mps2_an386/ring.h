/* The memory link of the mps2 family under QEMU: a single-producer/single-consumer byte ring in
 * a guest RAM region that QEMU maps from a host file (-object memory-backend-file,share=on), so
 * the host writes request bytes straight into guest memory instead of pushing them one at a time
 * through the emulated CMSDK UART (which holds one byte and costs an event-loop round trip per
 * byte). The host (tinyflow/targets/machines/qemu_ring.py) owns the layout and names the region on
 * the semihosting command line (`--link-ring 0x21000000`); replies stay on the UART.
 *
 * Layout (little-endian 32-bit words, offsets in bytes), the same in qemu_ring.py:
 *   0 magic "TFRG", 4 version, 8 capacity (a power of two),
 *   64 head: bytes the host has written (mod 2^32), written by the host only,
 *   128 tail: bytes the device has taken (mod 2^32), written by the device only,
 *   256 data[capacity].
 * head and tail sit on separate 64-byte lines so neither side writes the other's word. */
#ifndef TINYFLOW_MPS2_RING_H
#define TINYFLOW_MPS2_RING_H

#include <stddef.h>
#include <stdint.h>

#define TINYFLOW_MPS2_RING_MAGIC 0x47524654u /* "TFRG" */
#define TINYFLOW_MPS2_RING_VERSION 1u
#define TINYFLOW_MPS2_RING_HEAD 64u
#define TINYFLOW_MPS2_RING_TAIL 128u
#define TINYFLOW_MPS2_RING_DATA 256u
/* The largest ring the device accepts: the mps2 machines' shared region is 16 MiB. */
#define TINYFLOW_MPS2_RING_MAX_BYTES (16u << 20)

/* Use the ring whose header is at `base`: 0 when the header is valid (then hal_read takes input
 * from it), -1 otherwise (input stays on the UART). */
int tinyflow_mps2_ring_attach(uintptr_t base);

/* Attach the ring the command line names (`--link-ring 0x21000000`); -1 when it names none or
 * its header is not valid. */
int tinyflow_mps2_ring_attach_cmdline(const char *cmdline);

/* Whether a ring is attached. */
int tinyflow_mps2_ring_attached(void);

/* Bytes the host has written that the device has not taken yet (0 without a ring). */
uint32_t tinyflow_mps2_ring_pending(void);

/* Take up to `cap` bytes; returns how many. Called between requests only, so the ring never
 * adds instructions to an inference. */
size_t tinyflow_mps2_ring_read(uint8_t *buf, size_t cap);

#endif /* TINYFLOW_MPS2_RING_H */
