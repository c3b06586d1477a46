/* tinyflow model contract (firmware/include/tinyflow/model.h) over TensorFlow Lite Micro.
 * The model-specific parts (the .tflite array, the op resolver with exactly the model's ops,
 * the arena size and the tensor specs) come from the generated tinyflow_tflm_model.h; this file
 * is the same for every model. No heap: the arena and the interpreter live in static storage. */
#include <new>

#include "tinyflow/hal.h"
#include "tinyflow/model.h"

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

#include "tinyflow_tflm_model.h"

namespace {

/* Records the ticks of each top-level operator of one Invoke, in execution order. TFLM opens one
 * event per operator (when built without TF_LITE_STRIP_ERROR_STRINGS); events of subgraphs that
 * an IF/WHILE calls are numbered after them and dropped past num_ops. */
class TickProfiler : public tflite::MicroProfilerInterface {
 public:
  void Arm(uint32_t *op_ticks, uint32_t num_ops) {
    op_ticks_ = op_ticks;
    num_ops_ = num_ops;
    next_ = 0;
  }
  uint32_t BeginEvent(const char *tag) override {
    (void)tag;
    uint32_t handle = next_++;
    if (op_ticks_ != nullptr && handle < num_ops_) {
      op_ticks_[handle] = tinyflow_hal_ticks();
    }
    return handle;
  }
  void EndEvent(uint32_t handle) override {
    if (op_ticks_ != nullptr && handle < num_ops_) {
      op_ticks_[handle] = tinyflow_hal_ticks() - op_ticks_[handle];
    }
  }

 private:
  uint32_t *op_ticks_ = nullptr;
  uint32_t num_ops_ = 0;
  uint32_t next_ = 0;
};

/* 16-byte alignment is what TFLM's allocator asks of the arena (MicroArenaBufferAlignment). */
alignas(16) uint8_t g_arena[TINYFLOW_TFLM_ARENA_BYTES];
tflite::MicroMutableOpResolver<TINYFLOW_TFLM_NUM_OP_TYPES> g_resolver;
TickProfiler g_profiler;
/* The interpreter is placement-constructed here once, at init: no new/malloc. */
alignas(tflite::MicroInterpreter) uint8_t g_interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter *g_interpreter = nullptr;
/* The resolver refuses an op added twice, so a retry after a failed init must not register again. */
bool g_ops_registered = false;

enum {
  kErrSchema = -2,
  kErrOps = -3,
  kErrAllocate = -4,
  kErrTensors = -5,
  kErrInvoke = -6,
  kErrNotReady = -7
};

/* The specs carry .tflite TensorType numbers (model.h); TFLM's TfLiteType numbers differ
 * (FLOAT32 is 0 in the schema, kTfLiteFloat32 is 1), so map the types the protocol carries. */
bool same_type(TfLiteType type, uint8_t dtype) {
  switch (dtype) {
    case tflite::TensorType_FLOAT32: return type == kTfLiteFloat32;
    case tflite::TensorType_INT32: return type == kTfLiteInt32;
    case tflite::TensorType_UINT8: return type == kTfLiteUInt8;
    case tflite::TensorType_INT16: return type == kTfLiteInt16;
    case tflite::TensorType_INT8: return type == kTfLiteInt8;
    default: return false;
  }
}

bool tensor_matches(const TfLiteTensor *t, const tinyflow_tensor_spec_t *spec) {
  return t != nullptr && t->data.raw != nullptr && (uint32_t)t->bytes == spec->bytes && same_type(t->type, spec->dtype);
}

int check_tensors(void) {
  const tinyflow_model_info_t *info = &tinyflow_tflm_info;
  if (g_interpreter->inputs_size() != info->num_inputs || g_interpreter->outputs_size() != info->num_outputs) {
    return kErrTensors;
  }
  for (uint16_t i = 0; i < info->num_inputs; ++i) {
    if (!tensor_matches(g_interpreter->input(i), &info->inputs[i])) {
      return kErrTensors;
    }
  }
  for (uint16_t i = 0; i < info->num_outputs; ++i) {
    if (!tensor_matches(g_interpreter->output(i), &info->outputs[i])) {
      return kErrTensors;
    }
  }
  return 0;
}

}  // namespace

extern "C" int tinyflow_model_init(void) {
  if (g_interpreter != nullptr) {
    return 0;
  }
  const tflite::Model *model = tflite::GetModel(g_tinyflow_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    return kErrSchema;
  }
  if (!g_ops_registered) {
    if (tinyflow_tflm_register_ops(g_resolver) != kTfLiteOk) {
      return kErrOps;
    }
    g_ops_registered = true;
  }
  g_interpreter = new (g_interpreter_storage)
      tflite::MicroInterpreter(model, g_resolver, g_arena, sizeof(g_arena), nullptr, &g_profiler);
  if (g_interpreter->AllocateTensors() != kTfLiteOk) {
    g_interpreter = nullptr;
    return kErrAllocate;
  }
  int status = check_tensors();
  if (status != 0) {
    g_interpreter = nullptr;
  }
  return status;
}

extern "C" const tinyflow_model_info_t *tinyflow_model_info(void) { return &tinyflow_tflm_info; }

extern "C" uint8_t *tinyflow_model_input(int index) {
  if (g_interpreter == nullptr || index < 0 || index >= (int)tinyflow_tflm_info.num_inputs) {
    return nullptr;
  }
  return g_interpreter->input((size_t)index)->data.uint8;
}

extern "C" const uint8_t *tinyflow_model_output(int index) {
  if (g_interpreter == nullptr || index < 0 || index >= (int)tinyflow_tflm_info.num_outputs) {
    return nullptr;
  }
  return g_interpreter->output((size_t)index)->data.uint8;
}

extern "C" int tinyflow_model_invoke(uint32_t *op_ticks) {
  if (g_interpreter == nullptr) {
    return kErrNotReady;
  }
#ifndef TINYFLOW_KEEP_STATE
  /* Each sample starts from fresh variable tensors (e.g. SVDF state), as the host reference and
   * the compiled runtime do; define TINYFLOW_KEEP_STATE to carry state across invokes. */
  if (g_interpreter->Reset() != kTfLiteOk) {
    return kErrInvoke;
  }
#endif
  g_profiler.Arm(op_ticks, tinyflow_tflm_info.num_ops);
  TfLiteStatus status = g_interpreter->Invoke();
  g_profiler.Arm(nullptr, 0);
  return status == kTfLiteOk ? 0 : kErrInvoke;
}

extern "C" const char *tinyflow_model_op_name(int index) {
  if (index < 0 || index >= (int)tinyflow_tflm_info.num_ops) {
    return nullptr;
  }
  return tinyflow_tflm_op_names[index];
}

extern "C" uint32_t tinyflow_model_arena_used(void) {
  return g_interpreter == nullptr ? 0u : (uint32_t)g_interpreter->arena_used_bytes();
}
