/* TFLM's log sink for tinyflow projects. The serial link carries the tinyflow protocol, so TFLM's
 * messages (MicroPrintf) are dropped instead of corrupting frames; failures still reach the host
 * as status codes (HELLO status, MODEL_FAILED). The pinned Arduino library defines DebugLog only
 * for the Nano 33 BLE (in system_setup.cpp, which the project's tinyflow_build.py leaves out of
 * every build), so this is the one definition on every board.
 *
 * TFLM has had two declarations in tensorflow/lite/micro/debug_log.h: DebugLog(const char*) until
 * 2023-07 (the pinned Arduino_TensorFlowLite 7948b85), then DebugLog(const char*, va_list) plus,
 * since 2023-12, DebugVsnprintf (esp-tflite-micro 1.4.0). The header has no version macro; the
 * same change (#2073) deleted micro_string.h, so its presence tells the old declaration apart.
 * A TFLM tree that brings its own debug_log.cc (esp-tflite-micro) must leave it out of the
 * build, as the Arduino build leaves out system_setup.cpp: it prints to the protocol port. */
#include "tensorflow/lite/micro/debug_log.h"

#if defined(__has_include)
#if __has_include("tensorflow/lite/micro/micro_string.h")
#define TINYFLOW_TFLM_DEBUG_LOG_ONE_ARG 1
#endif
#endif

#ifdef TINYFLOW_TFLM_DEBUG_LOG_ONE_ARG

extern "C" void DebugLog(const char *s) { (void)s; }

#else

#include <cstdio>

extern "C" void DebugLog(const char *format, va_list args) {
  (void)format;
  (void)args;
}

/* MicroSnprintf formats into caller buffers with this (e.g. for tensor names): not a log. */
extern "C" int DebugVsnprintf(char *buffer, size_t buf_size, const char *format, va_list vlist) {
  return vsnprintf(buffer, buf_size, format, vlist);
}

#endif
