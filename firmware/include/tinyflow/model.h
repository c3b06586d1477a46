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
  uint32_t flags;                      /* TINYFLOW_MODEL_* bits; 0 for a model whose inputs are buffers */
  /* With TINYFLOW_MODEL_INPUT_STREAMED: the streaming entry (the compiled runtime's
   * tinyflow_model_input_rows, or its namespaced twin); NULL otherwise. */
  int (*input_rows)(int index, uint32_t offset, const uint8_t *data, uint32_t len);
} tinyflow_model_info_t;

/* Input 0 streams row by row (patch-based inference, docs/compiled-runtime.md "Streamed input"):
 * it has no whole buffer (tinyflow_model_input returns NULL); input_rows takes its bytes in order,
 * offset 0 starting a sample, and runs the first layers' bands as their rows come in. invoke then
 * finishes the sample (a negative status when not every byte came); the next invoke needs a new
 * input. The outputs of the last invoke are overwritten once a new input starts streaming. */
#define TINYFLOW_MODEL_INPUT_STREAMED 1u

/* Prepare the model once (validate, plan); returns 0 or a negative status. */
int tinyflow_model_init(void);
const tinyflow_model_info_t *tinyflow_model_info(void);

/* Buffers owned by the runtime, valid after init; sizes are the specs' `bytes`. */
uint8_t *tinyflow_model_input(int index);
const uint8_t *tinyflow_model_output(int index);

/* The compiled runtime's streaming entry, defined only by models compiled with a streamed input
 * (info->flags & TINYFLOW_MODEL_INPUT_STREAMED); call it through info->input_rows. 0 or negative. */
int tinyflow_model_input_rows(int index, uint32_t offset, const uint8_t *data, uint32_t len);

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
