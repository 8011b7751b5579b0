"""Automatic differentiation in PyTorch: the twin of :mod:`dlcourse.ref.autodiff`.

- :class:`Value` has the reference's interface (``data``, ``grad``, the same operators,
  ``backward()``), but the graph and the gradients are ``torch.autograd``'s: each Value wraps a
  0-d float64 tensor. Building the same expression with both classes shows that the
  hand-written engine and PyTorch compute the same numbers.
- :func:`two_layer_graph_forward` / :func:`two_layer_graph_backward` are the written-out passes
  on tensors; :class:`TwoLayerGraph` runs them under ``loss.backward()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

Number = float | int


class Value:
    """A scalar node whose gradient PyTorch computes: ``Value(2.0) * Value(3.0)`` etc.

    ``data`` and ``grad`` are Python floats, as in the reference; ``tensor`` is the underlying
    0-d tensor (a leaf with ``requires_grad=True`` for values created from numbers).
    """

    def __init__(self, data: Number | torch.Tensor, _children: tuple[Value, ...] = (), _op: str = "",
                 label: str = "") -> None:
        if isinstance(data, torch.Tensor):
            t = data
        else:
            t = torch.tensor(float(data), dtype=torch.float64, requires_grad=True)
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()  # autograd keeps gradients of leaves only, unless asked
        self.tensor = t
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    @property
    def data(self) -> float:
        return float(self.tensor.detach())

    @property
    def grad(self) -> float:
        g = self.tensor.grad
        return 0.0 if g is None else float(g)

    @grad.setter
    def grad(self, value: float) -> None:
        self.tensor.grad = None if value == 0 else torch.tensor(float(value), dtype=self.tensor.dtype)

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other: Value | Number) -> Value:
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other: Value | Number) -> Value:
        other = self._wrap(other)
        return Value(self.tensor + other.tensor, (self, other), "+")

    def __mul__(self, other: Value | Number) -> Value:
        other = self._wrap(other)
        return Value(self.tensor * other.tensor, (self, other), "*")

    def __pow__(self, n: Number) -> Value:
        if not isinstance(n, (int, float)):
            raise TypeError("only constant (int or float) exponents are supported")
        return Value(self.tensor**n, (self,), f"**{n:g}")

    def exp(self) -> Value:
        return Value(torch.exp(self.tensor), (self,), "exp")

    def tanh(self) -> Value:
        return Value(torch.tanh(self.tensor), (self,), "tanh")

    def backward(self) -> None:
        """∂self/∂node into every node's ``grad`` (accumulating, like the reference)."""
        self.tensor.backward(retain_graph=True)

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-other)

    def __rsub__(self, other: Number) -> Value:
        return other + (-self)

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __truediv__(self, other: Value | Number) -> Value:
        return self * self._wrap(other) ** -1

    def __rtruediv__(self, other: Number) -> Value:
        return other * self**-1


def numerical_partials(f: Callable[..., float], xs: Sequence[float], h: float = 1e-5) -> np.ndarray:
    """(n,) central differences ∂f/∂x_i at xs; f may return a number or a 0-d tensor."""
    xs = [float(x) for x in xs]
    grad = np.zeros(len(xs))
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        grad[i] = (float(f(*up)) - float(f(*down))) / (2 * h)
    return grad


GraphCache = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def two_layer_graph_forward(
    x: torch.Tensor, W: torch.Tensor, b: torch.Tensor, V: torch.Tensor, a: torch.Tensor
) -> tuple[torch.Tensor, GraphCache]:
    """y (N, C) = tanh(x Wᵀ + b) Vᵀ + a for x (N, D), W (H, D), b (H,), V (C, H), a (C,).

    Returns (y, cache = (x, W, b, V, a, h)) with h (N, H).
    """
    h = torch.tanh(x @ W.T + b)
    y = h @ V.T + a
    return y, (x, W, b, V, a, h)


def two_layer_graph_backward(
    dy: torch.Tensor, cache: GraphCache
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx (N, D), dW (H, D), db (H,), dV (C, H), da (C,)) from dy (N, C), written out by hand."""
    x, W, _, V, _, h = cache
    da = dy.sum(dim=0)
    dV = dy.T @ h
    dz = (dy @ V) * (1.0 - h * h)
    return dz @ W, dz.T @ x, dz.sum(dim=0), dV, da


class TwoLayerGraph(torch.autograd.Function):
    """``TwoLayerGraph.apply(x, W, b, V, a)`` = y, differentiated by :func:`two_layer_graph_backward`."""

    @staticmethod
    def forward(ctx, x, W, b, V, a):  # type: ignore[override]
        y, cache = two_layer_graph_forward(x, W, b, V, a)
        ctx.save_for_backward(*cache)
        return y

    @staticmethod
    def backward(ctx, dy):  # type: ignore[override]
        return two_layer_graph_backward(dy, tuple(ctx.saved_tensors))

