"""Element-wise activations with the forward/backward cache contract.

The caches hold what the derivative is cheapest to compute from:
ReLU keeps its input x; sigmoid and tanh keep their *output*, because
σ'(x) = σ(x)(1 − σ(x)) and tanh'(x) = 1 − tanh(x)².
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "relu_forward", "relu_backward", "sigmoid", "sigmoid_forward", "sigmoid_backward", "tanh_forward",
    "tanh_backward", "leaky_relu_forward", "leaky_relu_backward", "elu_forward", "elu_backward", "softplus",
    "softplus_forward", "softplus_backward", "ACTIVATIONS", "activation_forward", "activation_backward",
]


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = max(0, x). x: any shape. Returns (out, cache=x)."""
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout · 1[x > 0] (the subgradient 0 is used at x = 0, as PyTorch does). Shapes as x."""
    x = cache
    return dout * (x > 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{−x}), computed without overflow for any x.

    For x ≥ 0 the textbook form is safe; for x < 0 the equivalent e^{x} / (1 + e^{x})
    only exponentiates non-positive numbers, so nothing overflows.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = σ(x). x: any shape. Returns (out, cache=out)."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout · σ(x)(1 − σ(x)), with cache = σ(x). Shapes as x."""
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = tanh(x). x: any shape. Returns (out, cache=out)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout · (1 − tanh(x)²), with cache = tanh(x). Shapes as x."""
    t = cache
    return dout * (1.0 - t * t)


# --------------------------------------------------------------------------- lecture 02: more activations


def leaky_relu_forward(x: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    """out = x if x > 0 else α·x (α = 0.01: leaky ReLU; a learned α: PReLU; a random α: RReLU).

    x: any shape. Returns (out, cache=(x, α)).
    """
    return np.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout: np.ndarray, cache: tuple[np.ndarray, float]) -> np.ndarray:
    """dx = dout · (1 if x > 0 else α), with cache = (x, α). Shapes as x."""
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha)


def elu_forward(x: np.ndarray, alpha: float = 1.0) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    """out = x if x > 0 else α(e^x − 1). x: any shape. Returns (out, cache=(x, α)).

    e^x is evaluated at min(x, 0) only, so a large positive x cannot overflow in the unused branch.
    """
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), (x, alpha)


def elu_backward(dout: np.ndarray, cache: tuple[np.ndarray, float]) -> np.ndarray:
    """dx = dout · (1 if x > 0 else α·e^x), with cache = (x, α). Shapes as x."""
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def softplus(x: np.ndarray) -> np.ndarray:
    """softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^{−|x|}), without overflow or lost digits.

    The right-hand form exponentiates only non-positive numbers, and ``log1p`` keeps the tiny
    values log(1 + e^{−40}) ≈ 4e−18 that log(1 + ·) would round to 0. x: any shape.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = softplus(x). x: any shape. Returns (out, cache=x)."""
    return softplus(x), x


def softplus_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout · σ(x): the derivative of softplus is the sigmoid. cache = x. Shapes as x."""
    return dout * sigmoid(cache)


Forward = Callable[[np.ndarray], tuple[np.ndarray, Any]]  # x -> (out, cache)
Backward = Callable[[np.ndarray, Any], np.ndarray]  # (dout, cache) -> dx


def _linear_forward(x: np.ndarray) -> tuple[np.ndarray, None]:
    """out = x: no activation (the "linear" entry of :data:`ACTIVATIONS`). Returns (x, cache=None)."""
    return x, None


def _linear_backward(dout: np.ndarray, cache: None) -> np.ndarray:
    """dx = dout. Shapes as x."""
    return dout


# Each activation's name and its (forward, backward) pair, written out so that a search for a
# function finds where it is dispatched. "linear" comes first: it means "no activation".
_BY_NAME: dict[str, tuple[Forward, Backward]] = {
    "linear": (_linear_forward, _linear_backward),
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
    "softplus": (softplus_forward, softplus_backward),
}

ACTIVATIONS = tuple(_BY_NAME)


def _by_name(name: str) -> tuple[Forward, Backward]:
    if name not in _BY_NAME:
        raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")
    return _BY_NAME[name]


def activation_forward(x: np.ndarray, name: str) -> tuple[np.ndarray, object]:
    """Apply the activation called ``name`` (one of :data:`ACTIVATIONS`, default parameters).

    x: any shape. Returns (out, cache) with the cache of that activation's forward function.
    """
    forward, _ = _by_name(name)
    return forward(x)


def activation_backward(dout: np.ndarray, cache: object, name: str) -> np.ndarray:
    """Backward pass of :func:`activation_forward` for the activation ``name``. Shapes as x."""
    _, backward = _by_name(name)
    return backward(dout, cache)
