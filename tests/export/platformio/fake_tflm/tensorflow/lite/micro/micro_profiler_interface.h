/* Fake TFLM (see README.md). */
#ifndef FAKE_TFLM_PROFILER_H
#define FAKE_TFLM_PROFILER_H
#include <stdint.h>
namespace tflite {
class MicroProfilerInterface {
 public:
  virtual ~MicroProfilerInterface() {}
  virtual uint32_t BeginEvent(const char *tag) = 0;
  virtual void EndEvent(uint32_t handle) = 0;
};
}  // namespace tflite
#endif
