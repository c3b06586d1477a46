"""Integer arithmetic shared by the front ends, vectorised with numpy and written to match C.

Every function here has a line-for-line twin in firmware/frontends/ (fft_q15.c, fixed.c): the
C types are kept (int16 stores wrap, uint32 shifts drop high bits) so both sides agree bit for bit.
The FFT is KISS FFT v130 in 16-bit fixed point (the one TFLM's micro frontend links), including
its per-stage 1/radix scaling and its twiddles rounded as floor(0.5 + 32767 * cos(phase)).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

_U32 = np.uint64(0xFFFFFFFF)


def msb(values: np.ndarray) -> np.ndarray:
    """MostSignificantBit: the bit length of each unsigned value (0 for 0), as int64."""
    v = np.asarray(values, dtype=np.uint64)
    out = np.zeros(v.shape, dtype=np.int64)
    for shift in (32, 16, 8, 4, 2, 1):
        big = (v >> np.uint64(shift)) != 0
        out += np.where(big, shift, 0)
        v = np.where(big, v >> np.uint64(shift), v)
    return out + (v != 0)


def isqrt_rounded(values: np.ndarray) -> np.ndarray:
    """TFLM's Sqrt64 (and its 32-bit shortcut): bitwise square root, rounded up when the rest exceeds it.

    Values below 2**32 take the 32-bit path and saturate at 0xFFFF, as the C code does."""
    num = np.asarray(values, dtype=np.uint64).copy()
    small = (num >> np.uint64(32)) == 0
    width = np.where(small, 32, 64)
    max_bit = (width - msb(num)) | 1
    top = np.where(small, 31, 63)
    bit = np.where(num == 0, 0, np.uint64(1) << np.clip(top - max_bit, 0, 63).astype(np.uint64))
    iterations = np.where(num == 0, 0, (top - max_bit) // 2 + 1)
    res = np.zeros_like(num)
    for it in range(int(iterations.max(initial=0))):
        active = it < iterations
        take = active & (num >= res + bit)
        num = np.where(take, num - (res + bit), num)
        res = np.where(take, (res >> np.uint64(1)) + bit, np.where(active, res >> np.uint64(1), res))
        bit = np.where(active, bit >> np.uint64(2), bit)
    cap = np.where(small, np.uint64(0xFFFF), np.uint64(0xFFFFFFFF))
    res = np.where((num > res) & (res != cap), res + np.uint64(1), res)
    return res & _U32


def _i16(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.int16).astype(np.int32)  # a store into int16_t (wraps)


def _sround(x: np.ndarray) -> np.ndarray:
    return _i16((np.asarray(x, dtype=np.int64) + (1 << 14)) >> 15)


def _fixdiv(x: np.ndarray, k: int) -> np.ndarray:
    return _sround(x.astype(np.int64) * (32767 // k))


def _cmul(ar, ai, br, bi):
    ar, ai = ar.astype(np.int64), ai.astype(np.int64)
    return _sround(ar * br - ai * bi), _sround(ar * bi + ai * br)


def _cexp(phase: float) -> tuple[int, int]:
    return math.floor(0.5 + 32767 * math.cos(phase)), math.floor(0.5 + 32767 * math.sin(phase))


@lru_cache(maxsize=8)
def complex_plan(nfft: int) -> tuple[np.ndarray, np.ndarray, tuple[tuple[int, int], ...]]:
    """Twiddles, the input order kf_work reads and the (radix, m) stages of a complex FFT of nfft."""
    tw = np.array([_cexp(-2 * math.pi * i / nfft) for i in range(nfft)], dtype=np.int64)
    factors, n, p, floor_sqrt = [], nfft, 4, math.isqrt(nfft)
    while n > 1:  # kf_factor: powers of 4 first, then 2, then odd primes
        while n % p:
            p = {4: 2, 2: 3}.get(p, p + 2)
            if p > floor_sqrt:
                p = n
        n //= p
        factors.append((p, n))

    def order(offset: int, fstride: int, depth: int) -> list[int]:
        p, m = factors[depth]
        if m == 1:
            return [offset + j * fstride for j in range(p)]
        return [i for j in range(p) for i in order(offset + j * fstride, fstride * p, depth + 1)]

    return tw, np.array(order(0, 1, 0)), tuple(factors)


def fft_complex_q15(re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """kiss_fft in int16 fixed point over the last axis (a power of two; output scaled by 1/n)."""
    nfft = re.shape[-1]
    tw, idx, factors = complex_plan(nfft)
    re, im = _i16(re[..., idx]), _i16(im[..., idx])
    fstrides = np.cumprod([1] + [p for p, _ in factors])[:-1]
    for (p, m), fstride in reversed(list(zip(factors, fstrides))):
        shape = re.shape[:-1] + (nfft // (p * m), p, m)
        r, i = re.reshape(shape).copy(), im.reshape(shape).copy()
        k = np.arange(m) * fstride
        if p == 2:
            _bfly2(r, i, tw[k])
        elif p == 4:
            _bfly4(r, i, tw[k], tw[2 * k], tw[3 * k])
        else:
            raise ValueError(f"FFT size {nfft} is not a power of two")
        re, im = r.reshape(re.shape), i.reshape(im.shape)
    return re, im


def _bfly2(r, i, tw1):
    a_r, a_i = _fixdiv(r[..., 0, :], 2), _fixdiv(i[..., 0, :], 2)
    b_r, b_i = _fixdiv(r[..., 1, :], 2), _fixdiv(i[..., 1, :], 2)
    t_r, t_i = _cmul(b_r, b_i, tw1[:, 0], tw1[:, 1])
    r[..., 1, :], i[..., 1, :] = _i16(a_r - t_r), _i16(a_i - t_i)
    r[..., 0, :], i[..., 0, :] = _i16(a_r + t_r), _i16(a_i + t_i)


def _bfly4(r, i, tw1, tw2, tw3):
    f = [(_fixdiv(r[..., q, :], 4), _fixdiv(i[..., q, :], 4)) for q in range(4)]
    s0 = _cmul(*f[1], tw1[:, 0], tw1[:, 1])
    s1 = _cmul(*f[2], tw2[:, 0], tw2[:, 1])
    s2 = _cmul(*f[3], tw3[:, 0], tw3[:, 1])
    s5 = (_i16(f[0][0] - s1[0]), _i16(f[0][1] - s1[1]))
    f0 = (_i16(f[0][0] + s1[0]), _i16(f[0][1] + s1[1]))
    s3 = (_i16(s0[0] + s2[0]), _i16(s0[1] + s2[1]))
    s4 = (_i16(s0[0] - s2[0]), _i16(s0[1] - s2[1]))
    r[..., 2, :], i[..., 2, :] = _i16(f0[0] - s3[0]), _i16(f0[1] - s3[1])
    r[..., 0, :], i[..., 0, :] = _i16(f0[0] + s3[0]), _i16(f0[1] + s3[1])
    r[..., 1, :], i[..., 1, :] = _i16(s5[0] + s4[1]), _i16(s5[1] - s4[0])
    r[..., 3, :], i[..., 3, :] = _i16(s5[0] - s4[1]), _i16(s5[1] + s4[0])


@lru_cache(maxsize=8)
def real_twiddles(nfft: int) -> np.ndarray:
    """kiss_fftr's super twiddles for a real FFT of nfft points, [nfft/4, 2] int."""
    half = nfft // 2
    return np.array([_cexp(-math.pi * ((i + 1) / half + 0.5)) for i in range(half // 2)], dtype=np.int64)


def rfft_q15(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """kiss_fftr: real int16 input over the last axis (nfft, a power of two >= 4) -> nfft/2+1 bins."""
    nfft = x.shape[-1]
    half = nfft // 2
    x = np.asarray(x, dtype=np.int32)
    tr, ti = fft_complex_q15(x[..., 0::2], x[..., 1::2])
    out_r = np.zeros(x.shape[:-1] + (half + 1,), dtype=np.int32)
    out_i = np.zeros_like(out_r)
    dc_r, dc_i = _fixdiv(tr[..., 0], 2), _fixdiv(ti[..., 0], 2)
    out_r[..., 0], out_r[..., half] = _i16(dc_r + dc_i), _i16(dc_r - dc_i)
    k = np.arange(1, half // 2 + 1)
    fpk_r, fpk_i = _fixdiv(tr[..., k], 2), _fixdiv(ti[..., k], 2)
    fpnk_r, fpnk_i = _fixdiv(tr[..., half - k], 2), _fixdiv(_i16(-ti[..., half - k]), 2)
    f1_r, f1_i = _i16(fpk_r + fpnk_r), _i16(fpk_i + fpnk_i)
    f2_r, f2_i = _i16(fpk_r - fpnk_r), _i16(fpk_i - fpnk_i)
    st = real_twiddles(nfft)[k - 1]
    tw_r, tw_i = _cmul(f2_r, f2_i, st[:, 0], st[:, 1])
    # Bin half/2 is written twice (k == half - k); the second store wins, as in C.
    out_r[..., k], out_i[..., k] = _i16((f1_r + tw_r) >> 1), _i16((f1_i + tw_i) >> 1)
    out_r[..., half - k], out_i[..., half - k] = _i16((f1_r - tw_r) >> 1), _i16((tw_i - f1_i) >> 1)
    return out_r, out_i
