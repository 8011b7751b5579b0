"""Correct alternatives and known-wrong implementations (mutants) for the 06 initialization checks.

``MUTANTS[check]`` lists ``(implementation, pattern, public, hint)`` entries, as ``check_harness``
describes.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import init as checks

Impl = Callable[..., Any]


def _fans(shape):
    k = math.prod(shape[2:]) if len(shape) > 2 else 1
    return (shape[0], shape[1]) if len(shape) == 2 else (shape[1] * k, shape[0] * k)


# ----------------------------------------------------------------- fan_in_fan_out
def fan_in_fan_out_by_unpacking(shape):
    if len(shape) == 2:
        d_in, d_out = shape
        return int(d_in), int(d_out)
    f, c, *kernel = shape
    k = int(np.prod(kernel))
    return int(c * k), int(f * k)


def fan_in_fan_out_torch_convention(shape):  # treats the dense weight as nn.Linear's (D_out, D_in)
    k = math.prod(shape[2:])
    return shape[1] * k, shape[0] * k


def fan_in_fan_out_no_receptive_field(shape):
    return (shape[0], shape[1]) if len(shape) == 2 else (shape[1], shape[0])


def fan_in_fan_out_conv_as_dense(shape):
    return shape[0], shape[1]


def fan_in_fan_out_conv_swapped(shape):
    fi, fo = _fans(shape)
    return (fi, fo) if len(shape) == 2 else (fo, fi)


def fan_in_fan_out_returns_list_of_floats(shape):
    fi, fo = _fans(shape)
    return [float(fi), float(fo)]


# ----------------------------------------------------------------- xavier_uniform
def xavier_uniform_scaled_unit(shape, gain=1.0, rng=None):
    fi, fo = _fans(shape)
    b = gain * np.sqrt(6.0 / (fi + fo))
    return b * (2.0 * rng.random(size=shape) - 1.0)


def xavier_uniform_no_gain(shape, gain=1.0, rng=None):
    fi, fo = _fans(shape)
    b = np.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def xavier_uniform_std_as_bound(shape, gain=1.0, rng=None):
    fi, fo = _fans(shape)
    b = gain * np.sqrt(2.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def xavier_uniform_fan_in_only(shape, gain=1.0, rng=None):
    fi, fo = _fans(shape)
    b = gain * np.sqrt(6.0 / fi)
    return rng.uniform(-b, b, size=shape)


def xavier_uniform_draws_normal(shape, gain=1.0, rng=None):
    fi, fo = _fans(shape)
    return rng.normal(0.0, gain * np.sqrt(2.0 / (fi + fo)), size=shape)


def xavier_uniform_conv_without_kernel(shape, gain=1.0, rng=None):
    b = gain * np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-b, b, size=shape)


def xavier_uniform_one_row_at_a_time(shape, gain=1.0, rng=None):
    fi, fo = _fans(shape)
    b = gain * np.sqrt(6.0 / (fi + fo))
    return np.stack([rng.uniform(-b, b, size=shape[1:]) for _ in range(shape[0])])


def xavier_uniform_draws_in_transposed_order(shape, gain=1.0, rng=None):
    fi, fo = _fans(shape)
    b = gain * np.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=tuple(reversed(shape))).T  # right distribution, other draws


# ----------------------------------------------------------------- kaiming_normal
def _gain(a, nonlinearity):
    return math.sqrt(2.0) if nonlinearity == "relu" else math.sqrt(2.0 / (1 + a * a))


def kaiming_normal_standard_normal_scaled(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(shape)
    return _gain(a, nonlinearity) / math.sqrt(fi if mode == "fan_in" else fo) * rng.standard_normal(shape)


def kaiming_normal_ignores_mode(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, _ = _fans(shape)
    return rng.normal(0.0, _gain(a, nonlinearity) / math.sqrt(fi), size=shape)


def kaiming_normal_torch_fans_on_dense(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    k = math.prod(shape[2:])
    fi, fo = shape[1] * k, shape[0] * k  # nn.Linear's (D_out, D_in) convention on a (D_in, D_out) weight
    return rng.normal(0.0, _gain(a, nonlinearity) / math.sqrt(fi if mode == "fan_in" else fo), size=shape)


def kaiming_normal_no_gain(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(shape)
    return rng.normal(0.0, 1.0 / math.sqrt(fi if mode == "fan_in" else fo), size=shape)


def kaiming_normal_variance_as_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(shape)
    return rng.normal(0.0, _gain(a, nonlinearity) ** 2 / (fi if mode == "fan_in" else fo), size=shape)


def kaiming_normal_ignores_slope(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fi if mode == "fan_in" else fo)), size=shape)


def kaiming_normal_xavier_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(shape)
    return rng.normal(0.0, _gain(a, nonlinearity) * math.sqrt(2.0 / (fi + fo)), size=shape)


def kaiming_normal_draws_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(shape)
    b = math.sqrt(3.0) * _gain(a, nonlinearity) / math.sqrt(fi if mode == "fan_in" else fo)
    return rng.uniform(-b, b, size=shape)


def kaiming_normal_fresh_generator(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(shape)
    std = _gain(a, nonlinearity) / math.sqrt(fi if mode == "fan_in" else fo)
    return np.random.default_rng(12345).normal(0.0, std, size=shape)  # ignores the rng it was given


# ----------------------------------------------------------------- tables
CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_fan_in_fan_out: [fan_in_fan_out_by_unpacking],
    checks.check_xavier_uniform: [xavier_uniform_scaled_unit, xavier_uniform_one_row_at_a_time],
    checks.check_kaiming_normal: [kaiming_normal_standard_normal_scaled],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_fan_in_fan_out: ref.fan_in_fan_out,
    checks.check_xavier_uniform: ref.xavier_uniform,
    checks.check_kaiming_normal: ref.kaiming_normal,
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_fan_in_fan_out: [
        (fan_in_fan_out_torch_convention, r"\(fan_in, fan_out\) has wrong values", True, "swapped"),
        (fan_in_fan_out_no_receptive_field, r"\(fan_in, fan_out\) has wrong values", True, "receptive field"),
        (fan_in_fan_out_conv_as_dense, r"\(fan_in, fan_out\) has wrong values", True, "C·kh·kw"),
        (fan_in_fan_out_conv_swapped, r"\(fan_in, fan_out\) has wrong values", True, "swapped"),
        (fan_in_fan_out_returns_list_of_floats, "two integers", True, None),
    ],
    checks.check_xavier_uniform: [
        (xavier_uniform_no_gain, "xavier_uniform's weights has wrong values", True, "gain is missing"),
        (xavier_uniform_std_as_bound, "xavier_uniform's weights has wrong values", True, "standard deviation b/√3"),
        (xavier_uniform_fan_in_only, "xavier_uniform's weights has wrong values", True, "He's uniform bound"),
        (xavier_uniform_draws_normal, "xavier_uniform's weights has wrong values", True, "normal draws"),
        (xavier_uniform_conv_without_kernel, "xavier_uniform's weights has wrong values", True, "receptive field"),
        (xavier_uniform_draws_in_transposed_order, "xavier_uniform's weights has wrong values", True, "in one call"),
    ],
    checks.check_kaiming_normal: [
        (kaiming_normal_ignores_mode, "kaiming_normal's weights has wrong values", True, "other fan"),
        (kaiming_normal_torch_fans_on_dense, "kaiming_normal's weights has wrong values", True, "other fan"),
        (kaiming_normal_no_gain, "kaiming_normal's weights has wrong values", True, "gain is missing"),
        (kaiming_normal_variance_as_std, "kaiming_normal's weights has wrong values", True, "variance"),
        (kaiming_normal_ignores_slope, "kaiming_normal's weights has wrong values", False, "leaky ReLU"),
        (kaiming_normal_xavier_std, "kaiming_normal's weights has wrong values", True, "Xavier"),
        (kaiming_normal_draws_uniform, "kaiming_normal's weights has wrong values", True, "uniform draws"),
        (kaiming_normal_fresh_generator, "kaiming_normal's weights has wrong values", True, "rng you were given"),
    ],
}
