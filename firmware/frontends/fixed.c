/* Integer helpers shared by the front ends (twin of tinyflow/frontends/fixed.py). */
#include "tinyflow/frontend.h"

int tinyflow_fixed_msb32(uint32_t n) {
#if defined(__GNUC__)
  return n == 0u ? 0 : 32 - __builtin_clz(n); /* one CLZ instruction on Cortex-M3 and up */
#else
  int bits = 0;
  while (n != 0u && bits < 32) {  /* bounded: at most 32 steps */
    n >>= 1;
    ++bits;
  }
  return bits;
#endif
}

int tinyflow_fixed_msb64(uint64_t n) {
  return (n >> 32) != 0u ? 32 + tinyflow_fixed_msb32((uint32_t)(n >> 32)) : tinyflow_fixed_msb32((uint32_t)n);
}

#if (defined(__ARM_FP) && (__ARM_FP & 4)) || defined(TINYFLOW_FRONTEND_FPU_SQRT)
/* Cores with a single-precision FPU (Cortex-M4F): VSQRT seeds the root, integer steps make it
 * exact, so the result is the bitwise algorithm's below (floor, then round up when the rest
 * exceeds it). The seed is within 2^9 of the root for any 64-bit input; the loops stop there. */
static float seed_sqrt(float f) {
#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__GNUC__)
  float s;
  __asm__("vsqrt.f32 %0, %1" : "=t"(s) : "t"(f)); /* no libm, no errno branch */
  return s;
#else
  return __builtin_sqrtf(f); /* host test builds (TINYFLOW_FRONTEND_FPU_SQRT) link -lm */
#endif
}

static uint32_t sqrt_rounded(uint64_t num, uint64_t cap) {
  /* Two 32-bit conversions and a multiply-add instead of the library's 64-bit ones. */
  const float f = (float)(uint32_t)(num >> 32) * 4294967296.0f + (float)(uint32_t)num;
  const float seed = seed_sqrt(f);
  uint64_t r = seed >= 4294967040.0f ? 0xFFFFFFFFu : (uint32_t)seed;
  for (int i = 0; i < 1024 && r * r > num; ++i) {
    --r;
  }
  for (int i = 0; i < 1024 && r < 0xFFFFFFFFu && (r + 1u) * (r + 1u) <= num; ++i) {
    ++r;
  }
  return (uint32_t)(num - r * r > r && r != cap ? r + 1u : r);
}

uint32_t tinyflow_fixed_sqrt64(uint64_t num) { return sqrt_rounded(num, (num >> 32) == 0u ? 0xFFFFu : 0xFFFFFFFFu); }
#else
/* Rounded square root; values below 2^32 take a 32-bit path that saturates at 0xFFFF (as TFLM). */
uint32_t tinyflow_fixed_sqrt64(uint64_t num) {
  const int small = (num >> 32) == 0u;
  const int top = small ? 31 : 63;
  const uint64_t cap = small ? 0xFFFFu : 0xFFFFFFFFu;
  if (num == 0u) {
    return 0u;
  }
  int max_bit = ((small ? 32 : 64) - tinyflow_fixed_msb64(num)) | 1;
  uint64_t bit = (uint64_t)1 << (top - max_bit);
  int iterations = (top - max_bit) / 2 + 1;
  uint64_t res = 0u;
  while (iterations-- > 0) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (num > res && res != cap) {
    ++res;
  }
  return (uint32_t)res;
}
#endif
