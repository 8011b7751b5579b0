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
    return b * (2.0 * np.random.default_rng(rng).random(size=shape) - 1.0)


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
    rng = np.random.default_rng(rng)  # the notebook's given first line: a seed or a generator
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
    return _gain(a, nonlinearity) / math.sqrt(fi if mode == "fan_in" else fo) * np.random.default_rng(rng).standard_normal(shape)


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


# ----------------------------------------------------------------- edge cases: shapes, defaults, seeds
def fan_in_fan_out_four_dims_only(shape):
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    f, c, kh, kw = shape  # a 1-D (F, C, k) or 3-D kernel does not unpack
    return int(c * kh * kw), int(f * kh * kw)


def xavier_uniform_default_gain_for_tanh(shape, gain=5 / 3, rng=None):
    rng = np.random.default_rng(rng)
    fi, fo = _fans(shape)
    b = gain * math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def xavier_uniform_needs_a_generator(shape, gain=1.0, rng=None):
    rng = rng if rng is not None else np.random.default_rng()  # an integer seed has no .uniform
    fi, fo = _fans(shape)
    b = gain * math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def kaiming_normal_default_mode_fan_out(shape, a=0.0, mode="fan_out", nonlinearity="leaky_relu", rng=None):
    return ref_kaiming(shape, a, mode, nonlinearity, rng, uniform=False)


def ref_kaiming(shape, a, mode, nonlinearity, rng, *, uniform, sqrt3=True, other_fan=False, gain_on=True,
                slope=True):
    rng = np.random.default_rng(rng)
    fi, fo = _fans(tuple(int(d) for d in shape))
    fan = fi if (mode == "fan_in") != other_fan else fo
    gain = _gain(a if slope else 0.0, nonlinearity) if gain_on else 1.0
    std = gain / math.sqrt(fan)
    if uniform:
        b = math.sqrt(3.0) * std if sqrt3 else std
        return rng.uniform(-b, b, size=shape)
    return rng.normal(0.0, std, size=shape)


# ----------------------------------------------------------------- xavier_normal
def xavier_normal_standard_normal_scaled(shape, gain=1.0, rng=None):
    fi, fo = _fans(tuple(int(d) for d in shape))
    return gain * math.sqrt(2.0 / (fi + fo)) * np.random.default_rng(rng).standard_normal(tuple(shape))


def _xavier_normal(shape, gain, rng, std_of):
    fi, fo = _fans(tuple(int(d) for d in shape))
    return np.random.default_rng(rng).normal(0.0, std_of(fi, fo, gain), size=shape)


def xavier_normal_no_gain(shape, gain=1.0, rng=None):
    return _xavier_normal(shape, gain, rng, lambda fi, fo, g: math.sqrt(2.0 / (fi + fo)))


def xavier_normal_uniform_bound_as_std(shape, gain=1.0, rng=None):
    return _xavier_normal(shape, gain, rng, lambda fi, fo, g: g * math.sqrt(6.0 / (fi + fo)))


def xavier_normal_fan_in_only(shape, gain=1.0, rng=None):
    return _xavier_normal(shape, gain, rng, lambda fi, fo, g: g * math.sqrt(2.0 / fi))


def xavier_normal_variance_as_std(shape, gain=1.0, rng=None):
    return _xavier_normal(shape, gain, rng, lambda fi, fo, g: g * g * 2.0 / (fi + fo))


def xavier_normal_draws_uniform(shape, gain=1.0, rng=None):
    fi, fo = _fans(tuple(int(d) for d in shape))
    b = gain * math.sqrt(6.0 / (fi + fo))
    return np.random.default_rng(rng).uniform(-b, b, size=shape)


def xavier_normal_conv_without_kernel(shape, gain=1.0, rng=None):
    return np.random.default_rng(rng).normal(0.0, gain * math.sqrt(2.0 / (shape[0] + shape[1])), size=shape)


# ----------------------------------------------------------------- kaiming_uniform
def kaiming_uniform_via_unit_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(tuple(int(d) for d in shape))
    b = math.sqrt(3.0) * _gain(a, nonlinearity) / math.sqrt(fi if mode == "fan_in" else fo)
    return b * np.random.default_rng(rng).uniform(-1.0, 1.0, size=tuple(shape))


def kaiming_uniform_ignores_mode(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    return ref_kaiming(shape, a, "fan_in", nonlinearity, rng, uniform=True)


def kaiming_uniform_std_as_bound(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    return ref_kaiming(shape, a, mode, nonlinearity, rng, uniform=True, sqrt3=False)


def kaiming_uniform_no_gain(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    return ref_kaiming(shape, a, mode, nonlinearity, rng, uniform=True, gain_on=False)


def kaiming_uniform_ignores_slope(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    return ref_kaiming(shape, a, mode, nonlinearity, rng, uniform=True, slope=False)


def kaiming_uniform_draws_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    return ref_kaiming(shape, a, mode, nonlinearity, rng, uniform=False)


def kaiming_uniform_xavier_bound(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fi, fo = _fans(tuple(int(d) for d in shape))
    b = _gain(a, nonlinearity) * math.sqrt(6.0 / (fi + fo))
    return np.random.default_rng(rng).uniform(-b, b, size=shape)


def kaiming_uniform_default_mode_fan_out(shape, a=0.0, mode="fan_out", nonlinearity="leaky_relu", rng=None):
    return ref_kaiming(shape, a, mode, nonlinearity, rng, uniform=True)


# ----------------------------------------------------------------- statistics through depth
_DERIV = {"linear": lambda z, h: 1.0, "relu": lambda z, h: z > 0, "tanh": lambda z, h: 1 - h * h,
          "sigmoid": lambda z, h: h * (1 - h)}
_ACT = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z))}


def _depth(x, weights, activation, dout, *, record_dz=False, deriv=None, dout_fill=1.0, keep_input=False,
           reverse=False):
    h = np.asarray(x, dtype=float)
    acts, zs = ([h] if keep_input else []), []
    for w in weights:
        zs.append(h @ w)
        h = _ACT[activation](zs[-1])
        acts.append(h)
    g = np.full(h.shape, dout_fill) if dout is None else dout
    grads = [None] * len(weights)
    for l in reversed(range(len(weights))):
        z = zs[l]
        hl = _ACT[activation](z)
        dz = g * (deriv or _DERIV[activation])(z, hl)
        grads[l] = dz if record_dz else g
        g = dz @ weights[l].T
    return acts, grads[::-1] if reverse else grads


def propagate_through_depth_branches(x, weights, activation="relu", dout=None):
    h = np.array(x, dtype=np.float64)
    outs, pre = [], []
    for w in weights:
        z = h @ w
        if activation == "relu":
            h = np.where(z > 0, z, 0.0)
        elif activation == "tanh":
            h = np.tanh(z)
        elif activation == "sigmoid":
            h = np.exp(-np.logaddexp(0.0, -z))
        else:
            h = z
        outs.append(h)
        pre.append(z)
    g = np.ones_like(h) if dout is None else np.asarray(dout, dtype=np.float64)
    grads = []
    for w, z, h in zip(reversed(weights), reversed(pre), reversed(outs)):
        grads.insert(0, g)
        local = {"relu": (z > 0) * 1.0, "tanh": 1 - h**2, "sigmoid": h - h**2}.get(activation, 1.0)
        g = (g * local) @ w.T
    return outs, grads


def propagate_through_depth_records_after_the_derivative(x, weights, activation="relu", dout=None):
    return _depth(x, weights, activation, dout, record_dz=True)


def propagate_through_depth_forgets_the_derivative(x, weights, activation="relu", dout=None):
    return _depth(x, weights, activation, dout, deriv=lambda z, h: 1.0)


def propagate_through_depth_derivative_from_z(x, weights, activation="relu", dout=None):
    d = {"tanh": lambda z, h: 1 - z * z, "sigmoid": lambda z, h: z * (1 - z)}
    return _depth(x, weights, activation, dout, deriv=d.get(activation))


def propagate_through_depth_relu_mask_at_zero(x, weights, activation="relu", dout=None):
    return _depth(x, weights, activation, dout, deriv=(lambda z, h: z >= 0) if activation == "relu" else None)


def propagate_through_depth_default_dout_zeros(x, weights, activation="relu", dout=None):
    return _depth(x, weights, activation, dout, dout_fill=0.0)


def propagate_through_depth_keeps_the_input(x, weights, activation="relu", dout=None):
    return _depth(x, weights, activation, dout, keep_input=True)


def propagate_through_depth_gradients_reversed(x, weights, activation="relu", dout=None):
    return _depth(x, weights, activation, dout, reverse=True)


def propagate_through_depth_backward_with_w(x, weights, activation="relu", dout=None):
    h, zs, acts = np.asarray(x, dtype=float), [], []
    for w in weights:
        zs.append(h @ w)
        h = _ACT[activation](zs[-1])
        acts.append(h)
    g = np.ones_like(h) if dout is None else dout
    grads = [None] * len(weights)
    for l in reversed(range(len(weights))):
        grads[l] = g
        g = (g * _DERIV[activation](zs[l], acts[l])) @ weights[l]  # W, not Wᵀ
    return acts, grads


# ----------------------------------------------------------------- tables
CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_fan_in_fan_out: [fan_in_fan_out_by_unpacking],
    checks.check_xavier_uniform: [xavier_uniform_scaled_unit, xavier_uniform_one_row_at_a_time],
    checks.check_xavier_normal: [xavier_normal_standard_normal_scaled],
    checks.check_kaiming_uniform: [kaiming_uniform_via_unit_uniform],
    checks.check_kaiming_normal: [kaiming_normal_standard_normal_scaled],
    checks.check_propagate_through_depth: [propagate_through_depth_branches],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_fan_in_fan_out: ref.fan_in_fan_out,
    checks.check_xavier_uniform: ref.xavier_uniform,
    checks.check_xavier_normal: ref.xavier_normal,
    checks.check_kaiming_uniform: ref.kaiming_uniform,
    checks.check_kaiming_normal: ref.kaiming_normal,
    checks.check_propagate_through_depth: ref.propagate_through_depth,
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_fan_in_fan_out: [
        (fan_in_fan_out_torch_convention, r"\(fan_in, fan_out\) has wrong values", True, "swapped"),
        (fan_in_fan_out_no_receptive_field, r"\(fan_in, fan_out\) has wrong values", True, "receptive field"),
        (fan_in_fan_out_conv_as_dense, r"\(fan_in, fan_out\) has wrong values", True, "C·kh·kw"),
        (fan_in_fan_out_conv_swapped, r"\(fan_in, fan_out\) has wrong values", True, "swapped"),
        (fan_in_fan_out_returns_list_of_floats, "two integers", True, None),
        (fan_in_fan_out_four_dims_only, None, False, None),
    ],
    checks.check_xavier_uniform: [
        (xavier_uniform_no_gain, "xavier_uniform's weights has wrong values", True, "gain is missing"),
        (xavier_uniform_std_as_bound, "xavier_uniform's weights has wrong values", True, "standard deviation b/√3"),
        (xavier_uniform_fan_in_only, "xavier_uniform's weights has wrong values", True, "He's uniform bound"),
        (xavier_uniform_draws_normal, "xavier_uniform's weights has wrong values", True, "normal draws"),
        (xavier_uniform_conv_without_kernel, "xavier_uniform's weights has wrong values", True, "receptive field"),
        (xavier_uniform_draws_in_transposed_order, "xavier_uniform's weights has wrong values", True, "in one call"),
        (xavier_uniform_default_gain_for_tanh, "gain left at its default", False, "standard deviation"),
        (xavier_uniform_needs_a_generator, None, False, None),
    ],
    checks.check_xavier_normal: [
        (xavier_normal_no_gain, "xavier_normal's weights has wrong values", True, "gain is missing"),
        (xavier_normal_uniform_bound_as_std, "xavier_normal's weights has wrong values", True, "uniform bound"),
        (xavier_normal_fan_in_only, "xavier_normal's weights has wrong values", True, "He's standard deviation"),
        (xavier_normal_variance_as_std, "xavier_normal's weights has wrong values", True, "variance"),
        (xavier_normal_draws_uniform, "xavier_normal's weights has wrong values", True, "uniform draws"),
        (xavier_normal_conv_without_kernel, "xavier_normal's weights has wrong values", True, "receptive field"),
    ],
    checks.check_kaiming_uniform: [
        (kaiming_uniform_ignores_mode, "kaiming_uniform's weights has wrong values", True, "other fan"),
        (kaiming_uniform_std_as_bound, "kaiming_uniform's weights has wrong values", True, "√3 times"),
        (kaiming_uniform_no_gain, "kaiming_uniform's weights has wrong values", True, "gain is missing"),
        (kaiming_uniform_ignores_slope, "kaiming_uniform's weights has wrong values", False, "leaky ReLU"),
        (kaiming_uniform_draws_normal, "kaiming_uniform's weights has wrong values", True, "normal draws"),
        (kaiming_uniform_xavier_bound, "kaiming_uniform's weights has wrong values", True, "Xavier's bound"),
        (kaiming_uniform_default_mode_fan_out, "mode left at its default", False, "other fan"),
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
        (kaiming_normal_default_mode_fan_out, "mode left at its default", False, "other fan"),
    ],
    checks.check_propagate_through_depth: [
        (propagate_through_depth_records_after_the_derivative, r"gradients\[2\] .* has wrong values", True,
         "before it goes through"),
        (propagate_through_depth_forgets_the_derivative, r"gradients\[1\] .* has wrong values", True,
         "activation's derivative"),
        (propagate_through_depth_derivative_from_z, r"gradients\[1\] .* has wrong values", True, "from its output"),
        (propagate_through_depth_relu_mask_at_zero, r"gradients\[0\] .* has wrong values", False, "z > 0"),
        (propagate_through_depth_default_dout_zeros, r"gradients\[1\] .* has wrong values", True, "all ones"),
        (propagate_through_depth_keeps_the_input, "list of 3 arrays", True, None),
        (propagate_through_depth_gradients_reversed, r"gradients\[2\] .* has shape", True, None),
        (propagate_through_depth_backward_with_w, None, True, None),
    ],
}
