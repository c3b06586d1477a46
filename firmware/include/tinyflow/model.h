/* tinyflow model contract: what a runtime supplies to the protocol core.
 * Two runtimes implement it: the compiled runtime (C emitted by `tinyflow compile`) and the
 * TFLite Micro glue of generated PlatformIO projects. Test builds link a fake. */
#ifndef TINYFLOW_MODEL_H
#define TINYFLOW_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TINYFLOW_MAX_DIMS 6

/* Element types use the .tflite TensorType numbers so host and device agree without a table. */
enum {
  TINYFLOW_DTYPE_FLOAT32 = 0,
  TINYFLOW_DTYPE_INT32 = 2,
  TINYFLOW_DTYPE_UINT8 = 3,
  TINYFLOW_DTYPE_INT16 = 7,
  TINYFLOW_DTYPE_INT8 = 9
};

typedef struct {
  uint8_t dtype;                       /* TINYFLOW_DTYPE_* */
  uint8_t rank;
  int32_t dims[TINYFLOW_MAX_DIMS];
  float scale;                         /* 0 when not quantized */
  int32_t zero_point;
  uint32_t bytes;                      /* size of the tensor's buffer */
} tinyflow_tensor_spec_t;

typedef struct {
  const char *runtime;                 /* "aot" or "tflm" */
  const char *model_name;
  uint8_t model_sha256[8];             /* first 8 bytes of the .tflite's SHA-256 */
  uint32_t model_bytes;                /* size of the .tflite the firmware was made from */
  uint32_t arena_bytes;                /* planned activation RAM (aot) or tensor arena size (tflm) */
  uint16_t num_inputs;
  uint16_t num_outputs;
  uint16_t num_ops;
  const tinyflow_tensor_spec_t *inputs;
  const tinyflow_tensor_spec_t *outputs;
} tinyflow_model_info_t;

/* Prepare the model once (validate, plan); returns 0 or a negative status. */
int tinyflow_model_init(void);
const tinyflow_model_info_t *tinyflow_model_info(void);

/* Buffers owned by the runtime, valid after init; sizes are the specs' `bytes`. */
uint8_t *tinyflow_model_input(int index);
const uint8_t *tinyflow_model_output(int index);

/* Run one inference. When op_ticks is not NULL it has num_ops entries and receives the
 * ticks (tinyflow_hal_ticks) each op took. Returns 0 or a negative status. */
int tinyflow_model_invoke(uint32_t *op_ticks);

/* Name of op i (e.g. "CONV_2D") for profiles; NULL when out of range. */
const char *tinyflow_model_op_name(int index);

/* Activation/arena bytes actually used (tflm: arena_used_bytes(); aot: the planned size). */
uint32_t tinyflow_model_arena_used(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_MODEL_H */
