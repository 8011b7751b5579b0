"""Automatic differentiation in PyTorch: the twin of :mod:`dlcourse.ref.autodiff`.

- :class:`Value` has the reference's interface (``data``, ``grad``, the same operators,
  ``backward()``), but the graph and the gradients are ``torch.autograd``'s: each Value wraps a
  0-d float64 tensor. Building the same expression with both classes shows that the
  hand-written engine and PyTorch compute the same numbers.
- :func:`numerical_partials` is the reference's own (it only evaluates ``f``, which may return
  a 0-d tensor).
- :func:`two_layer_graph_forward` / :func:`two_layer_graph_backward` are the written-out passes
  on tensors; :class:`TwoLayerGraph` runs them under ``loss.backward()``.
"""

from __future__ import annotations

import torch

from dlcourse.ref.autodiff import DerivedOperators, Number, numerical_partials

__all__ = [
    "Value", "numerical_partials", "two_layer_graph_forward", "two_layer_graph_backward", "TwoLayerGraph",
]


class Value(DerivedOperators):
    """A scalar node whose gradient PyTorch computes: ``Value(2.0) * Value(3.0)`` etc.

    ``data`` and ``grad`` are Python floats, as in the reference; ``tensor`` is the underlying
    0-d tensor (a leaf with ``requires_grad=True`` for values created from numbers). ``-``, ``/``
    and the reflected forms come from the reference's
    :class:`~dlcourse.ref.autodiff.DerivedOperators`, written once for both classes.
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

