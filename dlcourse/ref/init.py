"""Weight initialization: Xavier/Glorot and He/Kaiming, and what they do to signals through depth.

Shape conventions (the course's, which differ from PyTorch's for dense layers):

- dense weight ``(D_in, D_out)`` (``out = x @ w``): fan_in = D_in, fan_out = D_out.
  PyTorch's ``nn.Linear`` stores the transpose ``(D_out, D_in)``, so ``torch.nn.init`` gives the
  same fans for ``w.T``.
- convolution weight ``(F, C, kh, kw)`` (F filters over C channels), as PyTorch: every output
  unit sees C·kh·kw inputs, and every input unit feeds F·kh·kw outputs, so
  fan_in = C·kh·kw and fan_out = F·kh·kw.

Gain conventions (as ``torch.nn.init.calculate_gain``): linear/sigmoid 1, tanh 5/3, ReLU √2,
leaky ReLU √(2 / (1 + a²)). Xavier: std = gain·√(2 / (fan_in + fan_out)); Kaiming:
std = gain / √fan. A uniform U(−b, b) has std b/√3, so every uniform bound is √3·std.

The usual recipe for the logistic sigmoid multiplies the tanh bound by 4 (σ has slope 1/4 at 0,
tanh slope 1): :func:`glorot_bound` with ``activation="sigmoid"``. The factor comes from the Deep
Learning Tutorials of Bengio's lab (the multilayer-perceptron tutorial), not from Glorot & Bengio
(2010), whose normalized initialization is derived for units that are linear around 0. (Lecture
002 swaps the two: the 4× belongs to sigmoid, not tanh.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dlcourse.ref.activations import activation_backward, activation_forward

__all__ = [
    "fan_in_fan_out", "calculate_gain", "xavier_std", "kaiming_std", "glorot_bound", "xavier_uniform",
    "xavier_normal", "kaiming_uniform", "kaiming_normal", "propagate_through_depth",
]

Shape = Sequence[int]


def fan_in_fan_out(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape``.

    Args:
        shape: (D_in, D_out) for a dense layer, or (F, C, kh, kw, ...) for a convolution.

    Returns:
        dense: (D_in, D_out); convolution: (C·kh·kw, F·kh·kw).
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"a weight needs at least 2 dimensions to have fans, got shape {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for a nonlinearity (``torch.nn.init.calculate_gain``).

    linear/identity/conv/sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2 / (1 + a²)) with
    negative slope a = ``param`` (default 0.01); selu: 3/4.
    """
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + a * a))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def xavier_std(shape: Shape, gain: float = 1.0) -> float:
    """Glorot's standard deviation gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_fan_out(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def kaiming_std(shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> float:
    """He's standard deviation gain / √fan, fan = fan_in (forward signal) or fan_out (gradients).

    With PyTorch's defaults (leaky_relu, a = 0) the gain is √2: std = √(2 / fan_in).
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def xavier_uniform(shape: Shape, gain: float = 1.0, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """W ~ U(−b, b), b = gain·√(6 / (fan_in + fan_out)), drawn as ``rng.uniform(-b, b, size=shape)``."""
    b = math.sqrt(3.0) * xavier_std(shape, gain)
    return np.random.default_rng(rng).uniform(-b, b, size=tuple(shape))


def xavier_normal(shape: Shape, gain: float = 1.0, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """W ~ N(0, σ²), σ = gain·√(2 / (fan_in + fan_out)), drawn as ``rng.normal(0, σ, size=shape)``."""
    return np.random.default_rng(rng).normal(0.0, xavier_std(shape, gain), size=tuple(shape))


def kaiming_uniform(
    shape: Shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """W ~ U(−b, b), b = √3 · gain / √fan, drawn as ``rng.uniform(-b, b, size=shape)``."""
    b = math.sqrt(3.0) * kaiming_std(shape, a, mode, nonlinearity)
    return np.random.default_rng(rng).uniform(-b, b, size=tuple(shape))


def kaiming_normal(
    shape: Shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """W ~ N(0, σ²), σ = gain / √fan, drawn as ``rng.normal(0, σ, size=shape)``."""
    return np.random.default_rng(rng).normal(0.0, kaiming_std(shape, a, mode, nonlinearity), size=tuple(shape))


def glorot_bound(fan_in: int, fan_out: int, activation: str = "tanh") -> float:
    """The uniform bound b of Glorot & Bengio (2010) and its sigmoid and ReLU variants, W ~ U(−b, b).

    tanh (and linear): √(6 / (fan_in + fan_out)) (the paper's normalized initialization); sigmoid:
    4·√(6 / (fan_in + fan_out)), because σ'(0) = 1/4 shrinks each layer's signal fourfold (the
    Deep Learning Tutorials' rule, not the paper's); relu: √(6 / fan_in) (He's uniform bound).
    """
    base = math.sqrt(6.0 / (fan_in + fan_out))
    if activation in ("tanh", "linear"):
        return base
    if activation == "sigmoid":
        return 4.0 * base
    if activation == "relu":
        return math.sqrt(6.0 / fan_in)
    raise ValueError(f"unknown activation {activation!r}")


def propagate_through_depth(
    x: np.ndarray, weights: Sequence[np.ndarray], activation: str = "relu", dout: np.ndarray | None = None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Push x through L bias-free layers h_l = g(h_{l−1} W_l) and a gradient back through them.

    Args:
        x: (N, D_0) inputs.
        weights: L matrices, W_l of shape (D_{l−1}, D_l).
        activation: a name of :data:`dlcourse.ref.activations.ACTIVATIONS` ("linear", "relu",
            "tanh", "sigmoid", …).
        dout: (N, D_L) gradient arriving at the last layer's output; all ones when None.

    Returns:
        activations: L arrays, h_l of shape (N, D_l).
        gradients: L arrays, ∂L/∂h_l of shape (N, D_l) (the gradient *arriving* at layer l's
            output; index l matches activations[l]).
    """
    h = np.asarray(x, dtype=np.float64)
    activations, caches = [], []
    for w in weights:
        z = h @ w
        h, cache = activation_forward(z, activation)
        activations.append(h)
        caches.append((cache, w))
    g = np.ones_like(h) if dout is None else np.asarray(dout, dtype=np.float64)
    gradients: list[np.ndarray] = [np.empty(0)] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        gradients[l] = g
        cache, w = caches[l]
        g = activation_backward(g, cache, activation) @ w.T  # through the activation, then the matrix
    return activations, gradients
