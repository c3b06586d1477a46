/* tinyflow feature front ends: shared status codes, limits and fixed-point helpers.
 * The C twins of tinyflow/frontends/ (numpy). Both sides compute the same integers: tables are
 * built once in Python and emitted as const C (tinyflow.frontends.ctables), the arithmetic here
 * mirrors the numpy code operation by operation. No malloc; scratch is file-static, so the front
 * ends are not reentrant (one audio/IMU stream per device). */
#ifndef TINYFLOW_FRONTEND_H
#define TINYFLOW_FRONTEND_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  TINYFLOW_FRONTEND_OK = 0,
  TINYFLOW_FRONTEND_EINVAL = -1,   /* a plan or an argument is outside the compiled limits */
  TINYFLOW_FRONTEND_ESPACE = -2    /* the output buffer is too small */
};

/* Limits that size the static scratch buffers; override with -D to save RAM. */
#ifndef TINYFLOW_FRONTEND_MAX_FFT
#define TINYFLOW_FRONTEND_MAX_FFT 1024      /* real FFT points */
#endif
#ifndef TINYFLOW_FRONTEND_MAX_CHANNELS
#define TINYFLOW_FRONTEND_MAX_CHANNELS 64
#endif
#define TINYFLOW_FFT_MAX_STAGES 10

typedef struct {
  int16_t r;
  int16_t i;
} tinyflow_cpx16_t;

/* A KISS-FFT-compatible real FFT of 2 * nfft points: complex plan of nfft points + split. */
typedef struct {
  uint16_t nfft;                               /* complex points (real points / 2) */
  uint8_t num_stages;
  uint8_t radix[TINYFLOW_FFT_MAX_STAGES];      /* 2 or 4, outermost first */
  uint16_t m[TINYFLOW_FFT_MAX_STAGES];         /* stage length / radix */
  const uint16_t* order;                       /* [nfft] input index of each output slot */
  const tinyflow_cpx16_t* twiddles;            /* [nfft], Q15 */
  const tinyflow_cpx16_t* super_twiddles;      /* [nfft / 2], Q15 */
} tinyflow_fft_plan_t;

/* Real FFT of 2 * plan->nfft int16 samples into plan->nfft + 1 bins (scaled by 1/(2 nfft)).
 * `in` and `out` must not overlap. Returns TINYFLOW_FRONTEND_OK or _EINVAL. */
int tinyflow_fft_rfft_q15(const tinyflow_fft_plan_t* plan, const int16_t* in, tinyflow_cpx16_t* out);

int tinyflow_fixed_msb32(uint32_t n);           /* bit length, 0 for 0 */
int tinyflow_fixed_msb64(uint64_t n);
uint32_t tinyflow_fixed_sqrt64(uint64_t n);     /* TFLM's rounded bitwise square root */

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_FRONTEND_H */
