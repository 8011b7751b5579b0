"""Element-wise activations in PyTorch: the twin of :mod:`dlcourse.ref.activations`.

Same caches as the reference: ReLU keeps its input x; sigmoid and tanh keep their *output*,
because σ'(x) = σ(x)(1 − σ(x)) and tanh'(x) = 1 − tanh(x)². The ``torch.autograd.Function``s
:class:`ReLU`, :class:`Sigmoid` and :class:`Tanh` run these backward passes under ``loss.backward()``;
:func:`relu`, :func:`sigmoid` and :func:`tanh` are their one-call forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = [
    "relu_forward", "relu_backward", "sigmoid", "sigmoid_forward", "sigmoid_backward", "tanh_forward",
    "tanh_backward", "leaky_relu_forward", "leaky_relu_backward", "elu_forward", "elu_backward", "softplus",
    "softplus_forward", "softplus_backward", "ACTIVATIONS", "activation_forward", "activation_backward",
    "ReLU", "Sigmoid", "Tanh", "relu", "tanh",
]


def relu_forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """out = max(0, x). x: any shape. Returns (out, cache=x)."""
    return x.clamp(min=0), x


def relu_backward(dout: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
    """dx = dout · 1[x > 0] (the subgradient 0 is used at x = 0, as PyTorch does). Shapes as x."""
    x = cache
    return dout * (x > 0)


def _stable_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """σ(x) for a floating tensor, exponentiating only non-positive numbers (see :func:`sigmoid`)."""
    z = torch.exp(-x.abs())
    return torch.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _as_float(x: torch.Tensor) -> torch.Tensor:
    """x itself when floating, else x as float64 (integer inputs get the reference's dtype)."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.float64)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """σ(x) = 1 / (1 + e^{−x}), computed without overflow for any x. x: any shape.

    For x ≥ 0 the textbook form is safe; for x < 0 the equivalent e^{x} / (1 + e^{x})
    only exponentiates non-positive numbers, so nothing overflows. Integer inputs give float64.
    Differentiable: autograd runs the written-out :func:`sigmoid_backward` (via :class:`Sigmoid`).
    """
    return Sigmoid.apply(_as_float(x))


def sigmoid_forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """out = σ(x). x: any shape. Returns (out, cache=out)."""
    out = _stable_sigmoid(_as_float(x))
    return out, out


def sigmoid_backward(dout: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
    """dx = dout · σ(x)(1 − σ(x)), with cache = σ(x). Shapes as x."""
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """out = tanh(x). x: any shape. Returns (out, cache=out)."""
    out = torch.tanh(x)
    return out, out


def tanh_backward(dout: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
    """dx = dout · (1 − tanh(x)²), with cache = tanh(x). Shapes as x."""
    t = cache
    return dout * (1.0 - t * t)


class ReLU(torch.autograd.Function):
    """``ReLU.apply(x)`` = max(0, x), differentiated by :func:`relu_backward`. Shapes as x."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out, cache = relu_forward(x)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx, dout: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return relu_backward(dout, x)


class Sigmoid(torch.autograd.Function):
    """``Sigmoid.apply(x)`` = σ(x), differentiated by :func:`sigmoid_backward`. Shapes as x."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out, cache = sigmoid_forward(x)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx, dout: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (s,) = ctx.saved_tensors
        return sigmoid_backward(dout, s)


class Tanh(torch.autograd.Function):
    """``Tanh.apply(x)`` = tanh(x), differentiated by :func:`tanh_backward`. Shapes as x."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out, cache = tanh_forward(x)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx, dout: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (t,) = ctx.saved_tensors
        return tanh_backward(dout, t)


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(0, x) with the written-out backward. x: any shape; returns the same shape."""
    return ReLU.apply(x)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh(x) with the written-out backward. x: any shape; returns the same shape."""
    return Tanh.apply(x)


# --------------------------------------------------------------------------- lecture 02: more activations


def leaky_relu_forward(x: torch.Tensor, alpha: float = 0.01) -> tuple[torch.Tensor, tuple[torch.Tensor, float]]:
    """out = x if x > 0 else α·x. x: any shape. Returns (out, cache=(x, α))."""
    return torch.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout: torch.Tensor, cache: tuple[torch.Tensor, float]) -> torch.Tensor:
    """dx = dout · (1 if x > 0 else α), with cache = (x, α). Shapes as x."""
    x, alpha = cache
    return torch.where(x > 0, dout, alpha * dout)


def elu_forward(x: torch.Tensor, alpha: float = 1.0) -> tuple[torch.Tensor, tuple[torch.Tensor, float]]:
    """out = x if x > 0 else α(e^x − 1), exponentiating min(x, 0) only. Returns (out, cache=(x, α))."""
    return torch.where(x > 0, x, alpha * torch.expm1(x.clamp(max=0))), (x, alpha)


def elu_backward(dout: torch.Tensor, cache: tuple[torch.Tensor, float]) -> torch.Tensor:
    """dx = dout · (1 if x > 0 else α·e^x), with cache = (x, α). Shapes as x."""
    x, alpha = cache
    return torch.where(x > 0, dout, dout * alpha * torch.exp(x.clamp(max=0)))


def softplus(x: torch.Tensor) -> torch.Tensor:
    """softplus(x) = max(x, 0) + log(1 + e^{−|x|}): no overflow, no lost digits. Integer x gives float64."""
    x = _as_float(x)
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


def softplus_forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """out = softplus(x). x: any shape. Returns (out, cache=x)."""
    return softplus(x), x


def softplus_backward(dout: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
    """dx = dout · σ(x), with cache = x. Shapes as x."""
    return dout * _stable_sigmoid(_as_float(cache))


Forward = Callable[[torch.Tensor], tuple[torch.Tensor, Any]]  # x -> (out, cache)
Backward = Callable[[torch.Tensor, Any], torch.Tensor]  # (dout, cache) -> dx


def _linear_forward(x: torch.Tensor) -> tuple[torch.Tensor, None]:
    """out = x: no activation (the "linear" entry of :data:`ACTIVATIONS`). Returns (x, cache=None)."""
    return x, None


def _linear_backward(dout: torch.Tensor, cache: None) -> torch.Tensor:
    """dx = dout. Shapes as x."""
    return dout


# Each activation's name and its (forward, backward) pair, as in the reference.
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


def activation_forward(x: torch.Tensor, name: str) -> tuple[torch.Tensor, object]:
    """Apply the activation called ``name`` (one of :data:`ACTIVATIONS`). Returns (out, cache)."""
    forward, _ = _by_name(name)
    return forward(x)


def activation_backward(dout: torch.Tensor, cache: object, name: str) -> torch.Tensor:
    """Backward pass of :func:`activation_forward` for the activation ``name``. Shapes as x."""
    _, backward = _by_name(name)
    return backward(dout, cache)
