/* Op-by-op trace of the compiled model (debug builds with TINYFLOW_TRACE_OPS only; never in a
 * normal firmware): after each whole op, the generated invoke calls tinyflow_trace_op(k, arena)
 * and this writes op k's output tensors to the host file named by `--trace PATH` on the
 * semihosting command line (tinyflow/workflows/intermediates_qemu.py reads it back and compares
 * every tensor with TFLM's). Which bytes of the arena each op produces comes from a table the
 * host generates from the memory plan (tinyflow_trace_entries). Record: op, tensor, byte count
 * (three little-endian uint32), then the bytes. Without `--trace`, tracing does nothing. */
#include <stdint.h>

#include "mps2.h"

typedef struct {
  uint32_t op;
  uint32_t tensor;
  uint32_t offset; /* in the arena */
  uint32_t bytes;
} tinyflow_trace_entry_t;

extern const tinyflow_trace_entry_t tinyflow_trace_entries[];
extern const uint32_t tinyflow_trace_count;

void tinyflow_trace_op(int op, const uint8_t *arena);

#define SYS_OPEN 0x01u
#define SYS_WRITE 0x05u
#define OPEN_MODE_WB 5u /* fopen "wb" */
#define CMDLINE_BYTES 512u

static int s_trace = -2; /* -2: command line not read yet; -1: no trace file */

static uint32_t trace_call(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static void trace_write(const void *data, uint32_t len) {
  static uint32_t block[3];
  block[0] = (uint32_t)s_trace;
  block[1] = (uint32_t)(uintptr_t)data;
  block[2] = len;
  (void)trace_call(SYS_WRITE, block);
}

/* The word after `--trace` on the command line, opened for writing; -1 when absent or refused. */
static int open_trace(void) {
  static char line[CMDLINE_BYTES];
  static uint32_t block[3];
  static const char flag[] = "--trace ";
  uint32_t i, k, len;
  if (tinyflow_mps2_semihost_cmdline(line, sizeof line) != 0) {
    return -1;
  }
  line[sizeof line - 1] = '\0';
  for (i = 0; line[i] != '\0'; ++i) {
    for (k = 0; flag[k] != '\0' && line[i + k] == flag[k]; ++k) {
    }
    if (flag[k] == '\0' && (i == 0 || line[i - 1] == ' ')) {
      char *path = &line[i + k];
      for (len = 0; path[len] != '\0' && path[len] != ' '; ++len) {
      }
      path[len] = '\0';
      block[0] = (uint32_t)(uintptr_t)path;
      block[1] = OPEN_MODE_WB;
      block[2] = len;
      return len == 0 ? -1 : (int)trace_call(SYS_OPEN, block);
    }
  }
  return -1;
}

void tinyflow_trace_op(int op, const uint8_t *arena) {
  uint32_t i, head[3];
  if (s_trace == -2) {
    s_trace = open_trace();
  }
  if (s_trace < 0) {
    return;
  }
  for (i = 0; i < tinyflow_trace_count; ++i) {
    const tinyflow_trace_entry_t *e = &tinyflow_trace_entries[i];
    if (e->op == (uint32_t)op) {
      head[0] = e->op;
      head[1] = e->tensor;
      head[2] = e->bytes;
      trace_write(head, sizeof head);
      trace_write(arena + e->offset, e->bytes);
    }
  }
}
