/* Fake TFLM (see README.md): TensorType values are the .tflite schema's. */
#ifndef FAKE_TFLM_SCHEMA_H
#define FAKE_TFLM_SCHEMA_H
#include <stdint.h>
#define TFLITE_SCHEMA_VERSION (3)
namespace tflite {
enum TensorType : int8_t {
  TensorType_FLOAT32 = 0, TensorType_FLOAT16 = 1, TensorType_INT32 = 2, TensorType_UINT8 = 3,
  TensorType_INT64 = 4, TensorType_STRING = 5, TensorType_BOOL = 6, TensorType_INT16 = 7,
  TensorType_COMPLEX64 = 8, TensorType_INT8 = 9, TensorType_FLOAT64 = 10
};
struct Model {
  uint32_t version() const { return 3; }
};
inline const Model *GetModel(const void *data) { return static_cast<const Model *>(data); }
}  // namespace tflite
#endif
