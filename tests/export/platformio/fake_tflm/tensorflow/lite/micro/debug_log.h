/* Fake TFLM (see README.md): the pre-2023-07 declaration, as in the pinned library. */
#ifndef FAKE_TFLM_DEBUG_LOG_H
#define FAKE_TFLM_DEBUG_LOG_H
extern "C" void DebugLog(const char *s);
#endif
