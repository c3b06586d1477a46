/* MFCC in integers (twin of tinyflow/frontends/mfcc.py). */
#include "tinyflow/frontend_mfcc.h"

#define MAG_BITS 8
#define ACC_BITS (15 + MAG_BITS + 30 - 9)
#define DCT_BITS 20
#define MAX_MEL 64

/* log2(1 + x) - x over 128 segments, Q16: the same published table as micro_speech.c. */
static const uint16_t k_log_lut[130] = {
    0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944, 3087,
    3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714, 4791, 4864, 4934,
    5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533, 5557, 5578, 5595, 5610, 5622,
    5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370,
    5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341,
    4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659,
    2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963,  830,  695,  559,  421,
    282,  142,  0,    0};

static int16_t s_fft_in[TINYFLOW_FRONTEND_MAX_FFT];
static int32_t s_product[TINYFLOW_FRONTEND_MAX_FFT];
static tinyflow_cpx16_t s_spectrum[TINYFLOW_FRONTEND_MAX_FFT / 2 + 1];
static int64_t s_log2[MAX_MEL];

/* floor(x / 2^s) without the implementation-defined >> of negative values. */
static int64_t floor_shift(int64_t x, unsigned s) {
  const int64_t d = (int64_t)1 << s;
  return x >= 0 ? x / d : -((-x + d - 1) / d);
}

/* log2(x) in Q16 for x >= 1, interpolated within each 512-wide segment of the table. */
static int64_t log2_q16(uint64_t x) {
  const int integer = tinyflow_fixed_msb64(x) - 1;
  const int64_t norm = (int64_t)(integer < 16 ? x << (16 - integer) : x >> (integer - 16));
  const int64_t frac = norm - (1 << 16);
  const int64_t seg = frac >> 9; /* frac >= 0 */
  const int64_t c0 = k_log_lut[seg], c1 = k_log_lut[seg + 1];
  return ((int64_t)integer << 16) + frac + c0 + floor_shift((c1 - c0) * (frac - (seg << 9)), 9);
}

static int plan_ok(const tinyflow_mfcc_plan_t* p) {
  if (p == 0 || p->num_mel == 0 || p->num_mel > MAX_MEL || p->num_mfcc == 0 || p->window_size == 0 ||
      p->window_size > 2u * p->fft.nfft || 2u * p->fft.nfft > TINYFLOW_FRONTEND_MAX_FFT || p->step == 0 ||
      p->out_frac_bits > 12) {
    return 0;
  }
  for (unsigned j = 0; j < p->num_mel; ++j) {
    if ((unsigned)p->band_start[j] + p->band_width[j] > p->fft.nfft + 1u) {
      return 0;
    }
  }
  return 1;
}

/* Window in Q30 and drop the fewest bits that fit the peak into int16; returns the bits dropped. */
static unsigned window_frame(const tinyflow_mfcc_plan_t* p, const int16_t* samples) {
  uint32_t peak = 0;
  for (unsigned i = 0; i < p->window_size; ++i) {
    s_product[i] = (int32_t)samples[i] * p->window[i];
    const uint32_t a = s_product[i] < 0 ? (uint32_t)0 - (uint32_t)s_product[i] : (uint32_t)s_product[i];
    peak = a > peak ? a : peak;
  }
  const int msb = tinyflow_fixed_msb32(peak);
  const unsigned down = msb > 15 ? (unsigned)(msb - 15) : 0u;
  for (unsigned i = 0; i < 2u * p->fft.nfft; ++i) {
    s_fft_in[i] = i < p->window_size ? (int16_t)floor_shift(s_product[i], down) : 0;
  }
  return down;
}

int tinyflow_mfcc_frame(const tinyflow_mfcc_plan_t* p, const int16_t* samples, int16_t* out) {
  if (!plan_ok(p) || samples == 0 || out == 0) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  const unsigned down = window_frame(p, samples);
  const int status = tinyflow_fft_rfft_q15(&p->fft, s_fft_in, s_spectrum);
  if (status != TINYFLOW_FRONTEND_OK) {
    return status;
  }
  for (unsigned j = 0; j < p->num_mel; ++j) {
    uint64_t acc = p->eps[down];
    for (unsigned b = 0; b < p->band_width[j]; ++b) {
      const int64_t r = s_spectrum[p->band_start[j] + b].r, i = s_spectrum[p->band_start[j] + b].i;
      const uint64_t mag = tinyflow_fixed_sqrt64((uint64_t)(r * r + i * i) << 16);
      acc += (uint64_t)p->mel_weights[p->band_offset[j] + b] * mag;
    }
    s_log2[j] = log2_q16(acc) - ((int64_t)(ACC_BITS - (int)down) << 16);
  }
  const unsigned drop = 16 + DCT_BITS - p->out_frac_bits;
  for (unsigned k = 0; k < p->num_mfcc; ++k) {
    int64_t total = 0;
    for (unsigned j = 0; j < p->num_mel; ++j) {
      total += s_log2[j] * p->dct[k * p->num_mel + j];
    }
    const int64_t v = floor_shift(total + ((int64_t)1 << (drop - 1)), drop);
    out[k] = (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
  }
  return TINYFLOW_FRONTEND_OK;
}

int tinyflow_mfcc_run(const tinyflow_mfcc_plan_t* p, const int16_t* audio, uint32_t n, int16_t* out,
                      uint32_t capacity, uint32_t* frames) {
  if (!plan_ok(p) || frames == 0 || (n > 0u && audio == 0)) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  const uint32_t count = n < p->window_size ? 0u : (n - p->window_size) / p->step + 1u;
  *frames = 0u;
  if ((uint64_t)count * p->num_mfcc > capacity) {
    return TINYFLOW_FRONTEND_ESPACE;
  }
  for (uint32_t f = 0; f < count; ++f) {
    const int status = tinyflow_mfcc_frame(p, audio + (uint64_t)f * p->step, out + (uint64_t)f * p->num_mfcc);
    if (status != TINYFLOW_FRONTEND_OK) {
      return status;
    }
  }
  *frames = count;
  return TINYFLOW_FRONTEND_OK;
}
