"""Element-wise activations with the forward/backward cache contract.

The caches hold what the derivative is cheapest to compute from:
ReLU keeps its input x; sigmoid and tanh keep their *output*, because
σ'(x) = σ(x)(1 − σ(x)) and tanh'(x) = 1 − tanh(x)².
"""

from __future__ import annotations

import numpy as np


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
