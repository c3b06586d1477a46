/* Fake TFLM (see tests/export/platformio/fake_tflm/README.md): TfLiteType values are TFLM's. */
#ifndef FAKE_TFLM_COMMON_H
#define FAKE_TFLM_COMMON_H
#include <stddef.h>
#include <stdint.h>
typedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
typedef enum {
  kTfLiteNoType = 0, kTfLiteFloat32 = 1, kTfLiteInt32 = 2, kTfLiteUInt8 = 3, kTfLiteInt64 = 4,
  kTfLiteString = 5, kTfLiteBool = 6, kTfLiteInt16 = 7, kTfLiteComplex64 = 8, kTfLiteInt8 = 9,
  kTfLiteFloat16 = 10, kTfLiteFloat64 = 11
} TfLiteType;
typedef union { uint8_t *uint8; int8_t *int8; float *f; void *raw; } TfLitePtrUnion;
typedef struct { TfLiteType type; TfLitePtrUnion data; size_t bytes; } TfLiteTensor;
#endif
