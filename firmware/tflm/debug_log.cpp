/* TFLM's log sink for tinyflow projects. The serial link carries the tinyflow protocol, so TFLM's
 * messages (MicroPrintf) are dropped instead of corrupting frames; failures still reach the host
 * as status codes (HELLO status, MODEL_FAILED). The pinned Arduino library defines DebugLog only
 * for the Nano 33 BLE (in system_setup.cpp, which the project's tinyflow_build.py leaves out of
 * every build), so this is the one definition on every board. Signature: the pinned library's
 * tensorflow/lite/micro/debug_log.h (Arduino_TensorFlowLite 7948b85). */
#include "tensorflow/lite/micro/debug_log.h"

extern "C" void DebugLog(const char *s) { (void)s; }
