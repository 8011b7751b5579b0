"""Automatic differentiation: a scalar engine (``Value``) and the lecture's two-layer graph by hand.

``Value`` is reverse-mode autodiff in a few dozen lines (in the spirit of micrograd): every
operation creates a node that remembers its inputs and how to pass a gradient back to them;
:meth:`Value.backward` visits the nodes in reverse topological order, so each node has
received the gradient from *all* its consumers before it passes its own on.

The two-layer graph is the lecture's h = tanh(W x + b), y = V h + a, batched: X holds one
example per row, so H = tanh(X Wᵀ + b) and Y = H Vᵀ + a, with W and V shaped as in the math
(W: (H, D), V: (C, H)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "Value", "numerical_partials", "two_layer_graph_forward", "two_layer_graph_backward",
]

Number = float | int
Node = TypeVar("Node", bound="DerivedOperators")


class DerivedOperators:
    """The operators a scalar node class gets for free from its ``+``, ``*`` and ``**``.

    Subtraction, negation, division and the reflected forms (``2 * x``, ``1 - x``) are written in
    terms of those three, so they need no backward pass of their own: the graph records the
    primitive operations they expand to. :class:`Value` here and its PyTorch twin
    ``dlcourse.gpu.Value`` both inherit them; a class using this mixin defines ``__add__``,
    ``__mul__`` and ``__pow__`` (a constant exponent), and is constructible from a number.
    """

    @classmethod
    def _wrap(cls: type[Node], other: Node | Number) -> Node:
        """A node for ``other``: itself if it is one, else a new constant node holding the number."""
        return other if isinstance(other, cls) else cls(other)

    def __neg__(self: Node) -> Node:
        return self * -1

    def __radd__(self: Node, other: Number) -> Node:
        return self + other

    def __sub__(self: Node, other: Node | Number) -> Node:
        return self + (-other)

    def __rsub__(self: Node, other: Number) -> Node:
        return other + (-self)

    def __rmul__(self: Node, other: Number) -> Node:
        return self * other

    def __truediv__(self: Node, other: Node | Number) -> Node:
        return self * self._wrap(other) ** -1

    def __rtruediv__(self: Node, other: Number) -> Node:
        return other * self**-1


class Value(DerivedOperators):
    """A scalar node of a computation graph: its value ``data`` and ∂out/∂self in ``grad``.

    Supported: ``+``, ``-``, ``*``, ``/``, ``**`` (a constant exponent), unary ``-``, :meth:`exp`,
    :meth:`tanh`, and plain numbers on either side (``2 * x``, ``x + 1``). The primitives ``+``,
    ``*``, ``**``, ``exp`` and ``tanh`` are below, each with its backward pass; ``-``, ``/`` and
    the reflected forms come from :class:`DerivedOperators`.
    """

    def __init__(self, data: Number, _children: tuple[Value, ...] = (), _op: str = "", label: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self.label = label
        self._backward: Callable[[], None] = lambda: None  # leaves pass nothing on

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other: Value | Number) -> Value:
        other = self._wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # ∂(a + b)/∂a = ∂(a + b)/∂b = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = self._wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # ∂(ab)/∂a = b, ∂(ab)/∂b = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, n: Number) -> Value:
        if not isinstance(n, (int, float)):
            raise TypeError("only constant (int or float) exponents are supported")
        out = Value(self.data**n, (self,), f"**{n:g}")

        def _backward() -> None:  # ∂(aⁿ)/∂a = n aⁿ⁻¹
            self.grad += n * self.data ** (n - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:  # ∂eᵃ/∂a = eᵃ, which is the output itself
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:  # ∂tanh(a)/∂a = 1 − tanh(a)²
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def backward(self) -> None:
        """Fill ``grad`` of every node this one depends on with ∂self/∂node (accumulating)."""
        order = topological_order(self)  # inputs before the nodes that use them
        self.grad = 1.0  # ∂self/∂self
        for node in reversed(order):  # a node runs only after all its consumers have added to its grad
            node._backward()


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on (itself included), each after all of its inputs."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:  # iterative post-order, so deep graphs do not hit the recursion limit
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node._prev) if id(child) not in seen)
    return order


def numerical_partials(f: Callable[..., float], xs: Sequence[float], h: float = 1e-5) -> np.ndarray:
    """∂f/∂x_i at xs by central differences (f(…, x_i + h, …) − f(…, x_i − h, …)) / 2h, for every i.

    Args:
        f: a function of len(xs) numbers returning a number.
        xs: the point, a sequence of n numbers.
        h: step; the truncation error is O(h²), the rounding error about ε·|f|/h; the default
            1e-5 ≈ ε^(1/3) balances the two for values and derivatives of order 1.

    Returns:
        (n,) float64.
    """
    xs = [float(x) for x in xs]
    grad = np.zeros(len(xs))
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += h
        down[i] -= h
        grad[i] = (float(f(*up)) - float(f(*down))) / (2 * h)
    return grad


GraphCache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def two_layer_graph_forward(
    x: np.ndarray, W: np.ndarray, b: np.ndarray, V: np.ndarray, a: np.ndarray
) -> tuple[np.ndarray, GraphCache]:
    """The lecture's graph h = tanh(W x + b), y = V h + a, for a batch of row vectors.

    Args:
        x: (N, D) inputs, one example per row.
        W: (H, D); b: (H,); V: (C, H); a: (C,).

    Returns:
        y: (N, C) = tanh(x Wᵀ + b) Vᵀ + a.
        cache: ``(x, W, b, V, a, h)`` with h: (N, H) the hidden activations.
    """
    h = np.tanh(x @ W.T + b)
    y = h @ V.T + a
    return y, (x, W, b, V, a, h)


def two_layer_graph_backward(
    dy: np.ndarray, cache: GraphCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the two-layer graph, derived by hand.

    Args:
        dy: (N, C) upstream gradient ∂L/∂y.
        cache: from :func:`two_layer_graph_forward`.

    Returns:
        dx (N, D) = dz W, dW (H, D) = dzᵀ x, db (H,) = Σ_n dz, dV (C, H) = dyᵀ h, da (C,) = Σ_n dy,
        where dz = (dy V) ⊙ (1 − h²) is the gradient at the pre-activation z = x Wᵀ + b.
    """
    x, W, _, V, _, h = cache
    da = dy.sum(axis=0)
    dV = dy.T @ h
    dh = dy @ V
    dz = dh * (1.0 - h * h)
    db = dz.sum(axis=0)
    dW = dz.T @ x
    dx = dz @ W
    return dx, dW, db, dV, da
