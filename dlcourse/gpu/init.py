"""Weight initialization on tensors: the twin of :mod:`dlcourse.ref.init`.

Fans, gains and standard deviations are plain numbers and shared with the reference. The draws
use a ``torch.Generator`` exactly as ``torch.nn.init`` does (``tensor.uniform_(-b, b, generator=g)``,
``tensor.normal_(0, σ, generator=g)``), so with one seed :func:`xavier_uniform` of a shape equals
``torch.nn.init.xavier_uniform_`` of an empty tensor of that shape, value for value. Mind the
dense-layer convention: the course's weights are (D_in, D_out), ``nn.Linear.weight`` is
(D_out, D_in); for a (D_in, D_out) tensor PyTorch's ``mode="fan_out"`` is the course's "fan_in".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from dlcourse.gpu.activations import activation_backward, activation_forward
from dlcourse.gpu.device import default_device, torch_generator
from dlcourse.ref.init import calculate_gain, fan_in_fan_out, glorot_bound, kaiming_std, xavier_std

__all__ = [
    "fan_in_fan_out", "calculate_gain", "xavier_std", "kaiming_std", "glorot_bound",
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "propagate_through_depth",
]

Shape = Sequence[int]


def _draw(shape: Shape, rng, device, dtype, fill) -> torch.Tensor:
    g = torch_generator(rng)
    t = torch.empty(tuple(int(s) for s in shape), dtype=dtype, device=g.device)
    fill(t, g)
    return t.to(default_device() if device is None else torch.device(device))


def xavier_uniform(shape: Shape, gain: float = 1.0, rng: torch.Generator | np.random.Generator | int | None = None,
                   device: torch.device | str | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """W ~ U(−b, b), b = gain·√(6 / (fan_in + fan_out)); shape (D_in, D_out) or (F, C, kh, kw)."""
    b = math.sqrt(3.0) * xavier_std(shape, gain)
    return _draw(shape, rng, device, dtype, lambda t, g: t.uniform_(-b, b, generator=g))


def xavier_normal(shape: Shape, gain: float = 1.0, rng: torch.Generator | np.random.Generator | int | None = None,
                  device: torch.device | str | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """W ~ N(0, σ²), σ = gain·√(2 / (fan_in + fan_out))."""
    std = xavier_std(shape, gain)
    return _draw(shape, rng, device, dtype, lambda t, g: t.normal_(0.0, std, generator=g))


def kaiming_uniform(shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    rng: torch.Generator | np.random.Generator | int | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """W ~ U(−b, b), b = √3 · gain / √fan."""
    b = math.sqrt(3.0) * kaiming_std(shape, a, mode, nonlinearity)
    return _draw(shape, rng, device, dtype, lambda t, g: t.uniform_(-b, b, generator=g))


def kaiming_normal(shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                   rng: torch.Generator | np.random.Generator | int | None = None,
                   device: torch.device | str | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """W ~ N(0, σ²), σ = gain / √fan."""
    std = kaiming_std(shape, a, mode, nonlinearity)
    return _draw(shape, rng, device, dtype, lambda t, g: t.normal_(0.0, std, generator=g))


def propagate_through_depth(
    x: torch.Tensor, weights: Sequence[torch.Tensor], activation: str = "relu", dout: torch.Tensor | None = None
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """h_l = g(h_{l−1} W_l) for L layers, and the gradient arriving at each h_l (see the reference).

    x: (N, D_0); W_l: (D_{l−1}, D_l); returns L activations and L gradients, each (N, D_l).
    """
    h = x
    activations, caches = [], []
    for w in weights:
        h, cache = activation_forward(h @ w, activation)
        activations.append(h)
        caches.append((cache, w))
    g = torch.ones_like(h) if dout is None else dout
    gradients: list[torch.Tensor] = [h] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        gradients[l] = g
        cache, w = caches[l]
        g = activation_backward(g, cache, activation) @ w.T
    return activations, gradients
