"""gemmlowp fixed-point logistic/tanh in Python, bit-exact with firmware/kernels/fixedpoint.c.

The host uses it to bake 256-entry int8 tables for LOGISTIC and TANH (and any int8 -> int8
element-wise op), so the device does one load per element instead of the fixed-point series.
Values are int32 raw fixed-point numbers; Q<n> means n integer bits.
"""

from __future__ import annotations

from tinyflow.compile.ops.tflm_math import calculate_input_radius, mbqm, rdivpot, srdhm, wrap32

Q0_ONE = (1 << 31) - 1


def _add(a: int, b: int) -> int:
    return wrap32(a + b)


def _sub(a: int, b: int) -> int:
    return wrap32(a - b)


def mulpot(x: int, exponent: int) -> int:
    """SaturatingRoundingMultiplyByPOT."""
    if exponent == 0:
        return x
    if exponent < 0:
        return rdivpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return Q0_ONE
    if x < -threshold:
        return -(1 << 31)
    return wrap32(x << exponent)


def half_sum(a: int, b: int) -> int:
    s = a + b
    n = s + (1 if s >= 0 else -1)
    q = abs(n) // 2
    return q if n >= 0 else -q


def exp_quarter(a: int) -> int:
    """exp(x) for Q0 x in [-1/4, 0)."""
    constant_term, one_third = 1895147668, 715827883
    x = _add(a, 1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = mulpot(_add(srdhm(_add(mulpot(x4, -2), x3), one_third), x2), -1)
    return _add(constant_term, srdhm(constant_term, _add(x, poly)))


_BARREL = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)


def exp_neg(a: int, int_bits: int) -> int:
    """exp(x) for x <= 0 in Q(int_bits); result Q0."""
    frac = 31 - int_bits
    quarter = 1 << (frac - 2)
    a_mod = _sub(a & (quarter - 1), quarter)
    result = exp_quarter(mulpot(a_mod, int_bits))
    remainder = _sub(a_mod, a)
    for k in range(-2, 5):
        if int_bits > k and remainder & (1 << (frac + k)):
            result = srdhm(result, _BARREL[k + 2])
    if int_bits > 5 and a < -(1 << (36 - int_bits)):
        result = 0
    return Q0_ONE if a == 0 else result


def _newton_q2(half_denominator: int) -> int:
    x = _add(1515870810, srdhm(half_denominator, -1010580540))
    for _ in range(3):
        x = _add(x, mulpot(srdhm(x, _sub(1 << 29, srdhm(half_denominator, x))), 2))
    return x


def one_over_one_plus_x(a: int) -> int:
    return mulpot(_newton_q2(half_sum(a, Q0_ONE)), 1)


def logistic(a: int, int_bits: int) -> int:
    abs_input = a if a > 0 else _sub(0, a)
    pos = one_over_one_plus_x(exp_neg(_sub(0, abs_input), int_bits))
    if a == 0:
        return 1 << 30
    return pos if a > 0 else _sub(Q0_ONE, pos)


def tanh(a: int, int_bits: int) -> int:
    n = a if a < 0 else _sub(0, a)
    t = mulpot(_sub(_newton_q2(half_sum(exp_neg(n, int_bits + 1), Q0_ONE)), 1 << 29), 2)
    if a == 0:
        return 0
    return _sub(0, t) if a < 0 else t


def sigmoid_table(p: dict, kind: str) -> list[int]:
    """int8 LOGISTIC ("logistic") or TANH ("tanh") output for every input -128..127, from
    tinyflow_sigmoid_params_t fields, exactly as tinyflow_logistic_s8 / tinyflow_tanh_s8."""
    out = []
    for v in range(-128, 128):
        x = v - p["input_zero_point"]
        if x <= -p["input_range_radius"]:
            out.append(-128)
        elif x >= p["input_range_radius"]:
            out.append(127)
        else:
            q4 = mbqm(x, p["input_multiplier"], p["input_left_shift"])
            if kind == "logistic":
                y = rdivpot(logistic(q4, 4), 23) - 128
            else:
                y = rdivpot(tanh(q4, 4), 24)
            out.append(max(-128, min(127, y)))
    return out


__all__ = ["sigmoid_table", "calculate_input_radius"]
