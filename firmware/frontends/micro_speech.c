/* TFLM micro frontend, bit-exact (twin of tinyflow/frontends/micro_speech.py). */
#include "tinyflow/frontend_micro_speech.h"

#define WINDOW_BITS 12
#define NOISE_BITS 14
#define PCAN_SNR_BITS 12
#define PCAN_OUTPUT_BITS 6
#define LOG_COEFF 45426u
#define GAIN_LUT_SIZE 125

/* log2(1 + x) - x over 128 segments, Q16: the published table of TFLM's log_lut.c. */
static const uint16_t k_log_lut[130] = {
    0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944, 3087,
    3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714, 4791, 4864, 4934,
    5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533, 5557, 5578, 5595, 5610, 5622,
    5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370,
    5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341,
    4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659,
    2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963,  830,  695,  559,  421,
    282,  142,  0,    0};

/* File-static scratch: the FFT input, its output, the filterbank sums (one stream at a time). */
static int16_t s_fft_in[TINYFLOW_FRONTEND_MAX_FFT];
static tinyflow_cpx16_t s_spectrum[TINYFLOW_FRONTEND_MAX_FFT / 2 + 1];
static uint64_t s_work[TINYFLOW_FRONTEND_MAX_CHANNELS + 1];

int tinyflow_micro_speech_init(tinyflow_micro_speech_t* fe, const tinyflow_micro_speech_plan_t* plan) {
  if (fe == 0 || plan == 0 || plan->num_channels == 0 || plan->num_channels > TINYFLOW_FRONTEND_MAX_CHANNELS ||
      plan->window_size == 0 || plan->window_size > 2u * plan->fft.nfft || plan->step == 0 ||
      2u * plan->fft.nfft > TINYFLOW_FRONTEND_MAX_FFT ||
      (plan->enable_pcan && (plan->snr_shift < 0 || plan->snr_shift > 31)) ||
      plan->correction_bits < -31 || plan->correction_bits > 31 || plan->smoothing_bits > 31 ||
      plan->window == 0 || plan->weights == 0 || plan->unweights == 0 || plan->gain_lut == 0) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  for (unsigned c = 0; c <= plan->num_channels; ++c) {
    if ((unsigned)plan->band_start[c] + plan->band_width[c] > plan->fft.nfft + 1u) {
      return TINYFLOW_FRONTEND_EINVAL;
    }
  }
  fe->plan = plan;
  for (unsigned c = 0; c < TINYFLOW_FRONTEND_MAX_CHANNELS; ++c) {
    fe->noise_estimate[c] = 0u;
  }
  return TINYFLOW_FRONTEND_OK;
}

/* Window the frame and scale it up to the peak so the int16 FFT keeps its resolution. */
static int window_and_scale(const tinyflow_micro_speech_plan_t* p, const int16_t* samples) {
  int16_t peak = 0;
  for (unsigned i = 0; i < p->window_size; ++i) {
    int16_t v = (int16_t)(((int32_t)samples[i] * p->window[i]) >> WINDOW_BITS);
    s_fft_in[i] = v;
    v = (int16_t)-v; /* |-32768| wraps to itself and never becomes the peak, as in TFLM */
    v = s_fft_in[i] < 0 ? v : s_fft_in[i];
    if (v > peak) {
      peak = v;
    }
  }
  const int shift = 15 - tinyflow_fixed_msb32((uint32_t)peak);
  for (unsigned i = 0; i < 2u * p->fft.nfft; ++i) {
    s_fft_in[i] = i < p->window_size ? (int16_t)(uint16_t)((uint32_t)(uint16_t)s_fft_in[i] << shift) : 0;
  }
  return shift;
}

/* weight * energy as TFLM computes it: the int32 energy sign-extended to uint64 first. The one
 * negative energy (both parts -32768: 2^31 wraps) is handled apart so the common case is a
 * 32 x 32 -> 64 multiply (UMULL) instead of a 64-bit one. */
static uint64_t weigh(int16_t weight, int32_t e) {
  const uint32_t w = (uint32_t)(uint16_t)weight; /* Q12 weights are 0..4096 */
  return e >= 0 ? (uint64_t)w * (uint32_t)e : (uint64_t)0 - ((uint64_t)w << 31);
}

static void filterbank(const tinyflow_micro_speech_plan_t* p) {
  uint64_t weighted = 0u, unweighted = 0u;
  for (unsigned c = 0; c <= p->num_channels; ++c) {
    const unsigned start = p->band_start[c], off = p->band_offset[c];
    for (unsigned j = 0; j < p->band_width[c]; ++j) {
      const int32_t r = s_spectrum[start + j].r, i = s_spectrum[start + j].i;
      const int32_t e = (int32_t)((uint32_t)(r * r) + (uint32_t)(i * i));
      weighted += weigh(p->weights[off + j], e);
      unweighted += weigh(p->unweights[off + j], e);
    }
    s_work[c] = weighted;
    weighted = unweighted;
    unweighted = 0u;
  }
}

static int16_t wide_dynamic(uint32_t x, const int16_t* lut) {
  if (x <= 2u) {
    return lut[x];
  }
  const int interval = tinyflow_fixed_msb32(x);
  lut += 4 * interval - 6;
  const int32_t frac = (int32_t)((interval < 11 ? x << (11 - interval) : x >> (interval - 11)) & 0x3FFu);
  /* Wrapping int32 steps (TFLM's arithmetic, without its signed-overflow corner). */
  int32_t result = ((int32_t)lut[2] * frac) >> 5;
  result = (int32_t)((uint32_t)result + ((uint32_t)(int32_t)lut[1] << 5));
  result = (int32_t)((uint32_t)result * (uint32_t)frac);
  return (int16_t)((((int64_t)result + (1 << 14)) >> 15) + lut[0]);
}

static uint32_t pcan_shrink(uint32_t x) {
  if (x < (2u << PCAN_SNR_BITS)) {
    return (x * x) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS);
  }
  return (x >> (PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - (1u << PCAN_OUTPUT_BITS);
}

static uint32_t log_scaled(uint32_t x, int scale_shift) {
  const uint32_t integer = (uint32_t)tinyflow_fixed_msb32(x) - 1u;
  int32_t frac = (int32_t)(x - (1u << integer));
  frac = integer < 16u ? (int32_t)((uint32_t)frac << (16u - integer)) : frac >> (integer - 16u);
  const uint32_t seg = (uint32_t)frac >> 9;
  const int32_t c0 = k_log_lut[seg], c1 = k_log_lut[seg + 1];
  const int32_t rel = (int32_t)((int64_t)(c1 - c0) * (frac - (int32_t)(seg << 9)) >> 16);
  const uint32_t log2 = (integer << 16) + (uint32_t)(frac + c0 + rel);
  const uint32_t loge = (uint32_t)(((uint64_t)LOG_COEFF * log2 + 32768u) >> 16);
  return ((loge << scale_shift) + 32768u) >> 16;
}

static uint16_t finish_channel(tinyflow_micro_speech_t* fe, unsigned c, uint32_t signal) {
  const tinyflow_micro_speech_plan_t* p = fe->plan;
  const uint32_t smoothing = (c & 1u) == 0u ? p->even_smoothing : p->odd_smoothing;
  const uint32_t up = signal << p->smoothing_bits;
  uint32_t estimate =
      (uint32_t)(((uint64_t)up * smoothing + (uint64_t)fe->noise_estimate[c] * ((1u << NOISE_BITS) - smoothing)) >>
                 NOISE_BITS);
  fe->noise_estimate[c] = estimate;
  if (estimate > up) {
    estimate = up;
  }
  const uint32_t floor = (uint32_t)(((uint64_t)signal * p->min_signal_remaining) >> NOISE_BITS);
  const uint32_t sub = (up - estimate) >> p->smoothing_bits;
  signal = sub > floor ? sub : floor;
  if (p->enable_pcan) {
    const uint32_t gain = (uint32_t)(int32_t)wide_dynamic(fe->noise_estimate[c], p->gain_lut);
    signal = pcan_shrink((uint32_t)(((uint64_t)signal * gain) >> p->snr_shift));
  }
  if (p->enable_log) {
    signal = p->correction_bits < 0 ? signal >> -p->correction_bits : signal << p->correction_bits;
    signal = signal > 1u ? log_scaled(signal, p->scale_shift) : 0u;
  }
  return (uint16_t)(signal < 0xFFFFu ? signal : 0xFFFFu);
}

int tinyflow_micro_speech_energy(const tinyflow_micro_speech_t* fe, const int16_t* samples, uint32_t* energy) {
  if (fe == 0 || fe->plan == 0 || samples == 0 || energy == 0) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  const tinyflow_micro_speech_plan_t* p = fe->plan;
  const int shift = window_and_scale(p, samples);
  const int status = tinyflow_fft_rfft_q15(&p->fft, s_fft_in, s_spectrum);
  if (status != TINYFLOW_FRONTEND_OK) {
    return status;
  }
  filterbank(p);
  for (unsigned c = 0; c < p->num_channels; ++c) {
    energy[c] = tinyflow_fixed_sqrt64(s_work[c + 1]) >> shift;
  }
  return TINYFLOW_FRONTEND_OK;
}

int tinyflow_micro_speech_finish(tinyflow_micro_speech_t* fe, const uint32_t* energy, uint16_t* out) {
  if (fe == 0 || fe->plan == 0 || energy == 0 || out == 0) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  for (unsigned c = 0; c < fe->plan->num_channels; ++c) {
    out[c] = finish_channel(fe, c, energy[c]);
  }
  return TINYFLOW_FRONTEND_OK;
}

int tinyflow_micro_speech_frame(tinyflow_micro_speech_t* fe, const int16_t* samples, uint16_t* out) {
  static uint32_t energy[TINYFLOW_FRONTEND_MAX_CHANNELS];
  const int status = tinyflow_micro_speech_energy(fe, samples, energy);
  return status != TINYFLOW_FRONTEND_OK ? status : tinyflow_micro_speech_finish(fe, energy, out);
}

int tinyflow_micro_speech_run(tinyflow_micro_speech_t* fe, const int16_t* audio, uint32_t n, uint16_t* out,
                              uint32_t capacity, uint32_t* frames) {
  if (fe == 0 || fe->plan == 0 || frames == 0 || (n > 0u && audio == 0)) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  const tinyflow_micro_speech_plan_t* p = fe->plan;
  const uint32_t count = n < p->window_size ? 0u : (n - p->window_size) / p->step + 1u;
  *frames = 0u;
  if ((uint64_t)count * p->num_channels > capacity) {
    return TINYFLOW_FRONTEND_ESPACE;
  }
  for (uint32_t f = 0; f < count; ++f) {
    const int status = tinyflow_micro_speech_frame(fe, audio + f * p->step, out + f * p->num_channels);
    if (status != TINYFLOW_FRONTEND_OK) {
      return status;
    }
  }
  *frames = count;
  return TINYFLOW_FRONTEND_OK;
}

void tinyflow_micro_speech_to_int8(const uint16_t* features, int8_t* out, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    int32_t v = ((int32_t)features[i] * 256 + 333) / 666 - 128;
    out[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
  }
}
