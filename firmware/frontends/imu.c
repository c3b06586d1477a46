/* IMU features (twin of tinyflow/frontends/imu.py). */
#include "tinyflow/frontend_imu.h"

static int32_t s_centered[TINYFLOW_FRONTEND_MAX_FFT];
static int16_t s_fft_in[TINYFLOW_FRONTEND_MAX_FFT];
static tinyflow_cpx16_t s_spectrum[TINYFLOW_FRONTEND_MAX_FFT / 2 + 1];

/* floor(x / 2^s) without relying on the implementation-defined >> of negative values. */
static int64_t floor_shift(int64_t x, unsigned s) {
  const int64_t d = (int64_t)1 << s;
  return x >= 0 ? x / d : -((-x + d - 1) / d);
}

static int32_t clamp16(int64_t v) { return (int32_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v)); }

uint32_t tinyflow_imu_features_per_window(const tinyflow_imu_plan_t* plan) {
  return (uint32_t)plan->axes * ((uint32_t)plan->use_rms + plan->use_zero_crossings + plan->use_fft * plan->fft_bins);
}

static int plan_ok(const tinyflow_imu_plan_t* p) {
  return p != 0 && p->scale_q15 != 0 && p->axes >= 1 && p->axes <= TINYFLOW_IMU_MAX_AXES && p->window >= 4 &&
         p->window <= TINYFLOW_FRONTEND_MAX_FFT && (1u << p->log2_window) == p->window && p->step >= 1 &&
         (!p->use_fft || (p->fft_bins <= p->window / 2u && 2u * p->fft.nfft == p->window));
}

/* Scale and center one axis into s_centered. */
static void center_axis(const tinyflow_imu_plan_t* p, const int16_t* samples, unsigned axis) {
  int64_t sum = 0;
  for (unsigned i = 0; i < p->window; ++i) {
    s_centered[i] = clamp16(floor_shift((int64_t)samples[i * p->axes + axis] * p->scale_q15[axis], 15));
    sum += s_centered[i];
  }
  const int32_t mean = (int32_t)floor_shift(sum, p->log2_window);
  for (unsigned i = 0; i < p->window; ++i) {
    s_centered[i] -= mean;
  }
}

static int32_t rms(const tinyflow_imu_plan_t* p) {
  uint64_t sq = 0;
  for (unsigned i = 0; i < p->window; ++i) {
    sq += (uint64_t)((int64_t)s_centered[i] * s_centered[i]);
  }
  return (int32_t)tinyflow_fixed_sqrt64(sq >> p->log2_window);
}

static int32_t zero_crossings(const tinyflow_imu_plan_t* p) {
  int32_t count = 0;
  for (unsigned i = 1; i < p->window; ++i) {
    count += (s_centered[i - 1] < 0) != (s_centered[i] < 0);
  }
  return count;
}

static int fft_bins(const tinyflow_imu_plan_t* p, int32_t* out) {
  int32_t peak = 0;
  for (unsigned i = 0; i < p->window; ++i) {
    const int32_t v = clamp16(s_centered[i]);
    s_fft_in[i] = (int16_t)v;
    peak = v < 0 ? (-v > peak ? -v : peak) : (v > peak ? v : peak);
  }
  const int shift = 15 - tinyflow_fixed_msb32((uint32_t)(peak > 32767 ? 32767 : peak));
  for (unsigned i = 0; i < p->window; ++i) {
    s_fft_in[i] = (int16_t)(s_fft_in[i] * (1 << shift)); /* peak < 2^(15 - shift): no overflow */
  }
  const int status = tinyflow_fft_rfft_q15(&p->fft, s_fft_in, s_spectrum);
  for (unsigned k = 1; status == TINYFLOW_FRONTEND_OK && k <= p->fft_bins; ++k) {
    const int64_t r = s_spectrum[k].r, i = s_spectrum[k].i;
    const uint64_t mag = tinyflow_fixed_sqrt64((uint64_t)(r * r + i * i));
    out[k - 1] = (int32_t)(((int64_t)mag << p->log2_window) >> shift);
  }
  return status;
}

int tinyflow_imu_window(const tinyflow_imu_plan_t* p, const int16_t* samples, int32_t* out) {
  if (!plan_ok(p) || samples == 0 || out == 0) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  for (unsigned axis = 0; axis < p->axes; ++axis) {
    center_axis(p, samples, axis);
    if (p->use_rms) {
      *out++ = rms(p);
    }
    if (p->use_zero_crossings) {
      *out++ = zero_crossings(p);
    }
    if (p->use_fft && p->fft_bins > 0) {
      const int status = fft_bins(p, out);
      if (status != TINYFLOW_FRONTEND_OK) {
        return status;
      }
      out += p->fft_bins;
    }
  }
  return TINYFLOW_FRONTEND_OK;
}

int tinyflow_imu_run(const tinyflow_imu_plan_t* p, const int16_t* samples, uint32_t n, int32_t* out,
                     uint32_t capacity, uint32_t* windows) {
  if (!plan_ok(p) || windows == 0 || (n > 0u && samples == 0)) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  const uint32_t count = n < p->window ? 0u : (n - p->window) / p->step + 1u;
  const uint32_t per = tinyflow_imu_features_per_window(p);
  *windows = 0u;
  if ((uint64_t)count * per > capacity) {
    return TINYFLOW_FRONTEND_ESPACE;
  }
  for (uint32_t w = 0; w < count; ++w) {
    const int status = tinyflow_imu_window(p, samples + (uint64_t)w * p->step * p->axes, out + (uint64_t)w * per);
    if (status != TINYFLOW_FRONTEND_OK) {
      return status;
    }
  }
  *windows = count;
  return TINYFLOW_FRONTEND_OK;
}
