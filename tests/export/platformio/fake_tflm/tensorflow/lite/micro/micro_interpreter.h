/* Fake TFLM (see README.md): the test sets fake_tflm_* to choose what the interpreter reports. */
#ifndef FAKE_TFLM_INTERPRETER_H
#define FAKE_TFLM_INTERPRETER_H
#include <stddef.h>
#include <stdint.h>
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern int fake_tflm_allocate_failures;   /* AllocateTensors calls that fail before one succeeds */
extern TfLiteTensor fake_tflm_input, fake_tflm_output;

namespace tflite {
class MicroResourceVariables;
class MicroInterpreter {
 public:
  MicroInterpreter(const Model *, const MicroOpResolver &, uint8_t *, size_t, MicroResourceVariables *,
                   MicroProfilerInterface *) {}
  TfLiteStatus AllocateTensors() {
    if (fake_tflm_allocate_failures > 0) {
      --fake_tflm_allocate_failures;
      return kTfLiteError;
    }
    return kTfLiteOk;
  }
  size_t inputs_size() const { return 1; }
  size_t outputs_size() const { return 1; }
  TfLiteTensor *input(size_t) { return &fake_tflm_input; }
  TfLiteTensor *output(size_t) { return &fake_tflm_output; }
  TfLiteStatus Reset() { return kTfLiteOk; }
  TfLiteStatus Invoke() { return kTfLiteOk; }
  size_t arena_used_bytes() const { return 0; }
};
}  // namespace tflite
#endif
