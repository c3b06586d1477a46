/* Fake TFLM (see README.md): registering an op twice fails, as in TFLM's AddBuiltin. */
#ifndef FAKE_TFLM_RESOLVER_H
#define FAKE_TFLM_RESOLVER_H
#include <string.h>
#include "tensorflow/lite/c/common.h"
namespace tflite {
class MicroOpResolver {};
template <unsigned N>
class MicroMutableOpResolver : public MicroOpResolver {
 public:
#define FAKE_TFLM_ADD(op) TfLiteStatus Add##op() { return Add(#op); }
  FAKE_TFLM_ADD(FullyConnected) FAKE_TFLM_ADD(Relu) FAKE_TFLM_ADD(Quantize) FAKE_TFLM_ADD(Dequantize)
  FAKE_TFLM_ADD(Conv2D) FAKE_TFLM_ADD(DepthwiseConv2D) FAKE_TFLM_ADD(Reshape) FAKE_TFLM_ADD(Softmax)
#undef FAKE_TFLM_ADD
 private:
  TfLiteStatus Add(const char *name) {
    for (unsigned i = 0; i < count_; ++i) {
      if (strcmp(names_[i], name) == 0) return kTfLiteError;
    }
    if (count_ >= N) return kTfLiteError;
    names_[count_++] = name;
    return kTfLiteOk;
  }
  const char *names_[N] = {};
  unsigned count_ = 0;
};
}  // namespace tflite
#endif
