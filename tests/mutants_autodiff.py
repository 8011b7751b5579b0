"""Correct alternatives and known-wrong implementations (mutants) for the 01-autodiff checks.

``MUTANTS[check]`` lists ``(implementation, pattern, public, hint)`` entries, as ``check_harness``
describes.

The ``Value`` checks take a class: the harness copies the reference ``dlcourse.ref.Value`` as if a
student had typed it (``impersonate.as_student``), and the correct and wrong engines are classes.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import autodiff as checks

Impl = Any


# ----------------------------------------------------------------- Value: a differently written correct engine
class LocalGradValue:
    """Stores (input, local derivative) pairs instead of closures; backward by Kahn's algorithm."""

    def __init__(self, data, _parents=()):
        self.data = float(data)
        self.grad = 0.0
        self._parents = list(_parents)  # [(input Value, ∂self/∂input)]

    @staticmethod
    def _lift(v):
        return v if isinstance(v, LocalGradValue) else LocalGradValue(v)

    def __add__(self, other):
        other = self._lift(other)
        return LocalGradValue(self.data + other.data, [(self, 1.0), (other, 1.0)])

    def __mul__(self, other):
        other = self._lift(other)
        return LocalGradValue(self.data * other.data, [(self, other.data), (other, self.data)])

    def __pow__(self, n):
        return LocalGradValue(self.data**n, [(self, n * self.data ** (n - 1))])

    def exp(self):
        e = math.exp(self.data)
        return LocalGradValue(e, [(self, e)])

    def tanh(self):
        t = math.tanh(self.data)
        return LocalGradValue(t, [(self, 1 - t * t)])

    def backward(self):
        # Count each node's consumers, then release a node once all of them have added to its grad.
        consumers = {}
        stack, seen = [self], {id(self)}
        while stack:
            node = stack.pop()
            for parent, _ in node._parents:
                consumers[id(parent)] = consumers.get(id(parent), 0) + 1
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            for parent, local in node._parents:
                parent.grad += local * node.grad
                consumers[id(parent)] -= 1
                if consumers[id(parent)] == 0:
                    ready.append(parent)

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __rtruediv__(self, other):
        return other * self**-1


# ----------------------------------------------------------------- Value mutants (one method changed each)
class MicroValue:
    """A micrograd-style student engine; the mutants below override one method each."""

    def __init__(self, data, _children=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._backward = lambda: None

    def _w(self, o):
        return o if isinstance(o, MicroValue) else type(self)(o)

    def __add__(self, o):
        o = self._w(o)
        out = type(self)(self.data + o.data, (self, o))

        def _backward():
            self.grad += out.grad
            o.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, o):
        o = self._w(o)
        out = type(self)(self.data * o.data, (self, o))

        def _backward():
            self.grad += o.data * out.grad
            o.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, n):
        out = type(self)(self.data**n, (self,))

        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = type(self)(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def _topo(self):
        order, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for c in v._prev:
                    build(c)
                order.append(v)

        build(self)
        return order

    def backward(self):
        self.grad = 1.0
        for v in reversed(self._topo()):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, o):
        return self + o

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return o + (-self)

    def __rmul__(self, o):
        return self * o

    def __truediv__(self, o):
        return self * self._w(o) ** -1

    def __rtruediv__(self, o):
        return o * self**-1


class ValueAssignsGradients(MicroValue):
    def __add__(self, o):
        o = self._w(o)
        out = type(self)(self.data + o.data, (self, o))

        def _backward():
            self.grad = out.grad  # overwrites what another use of self already added
            o.grad = out.grad

        out._backward = _backward
        return out

    def __mul__(self, o):
        o = self._w(o)
        out = type(self)(self.data * o.data, (self, o))

        def _backward():
            self.grad = o.data * out.grad
            o.grad = self.data * out.grad

        out._backward = _backward
        return out


class ValueRecursiveBackward(MicroValue):
    def backward(self):
        self.grad = 1.0
        self._recurse()

    def _recurse(self):
        self._backward()
        for c in self._prev:
            c._recurse()


class ValueTopologicalOrderNotReversed(MicroValue):
    def backward(self):
        self.grad = 1.0
        for v in self._topo():  # inputs first
            v._backward()


class ValueBreadthFirstBackward(MicroValue):
    def backward(self):
        self.grad = 1.0
        queue, seen = [self], {self}
        while queue:
            v = queue.pop(0)
            v._backward()
            for c in v._prev:
                if c not in seen:
                    seen.add(c)
                    queue.append(c)


class ValueNoSeed(MicroValue):
    def backward(self):
        for v in reversed(self._topo()):
            v._backward()


class ValueTanhNotSquared(MicroValue):
    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1 - out.data) * out.grad

        out._backward = _backward
        return out


class ValueTanhDerivativeOfInput(MicroValue):
    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1 - self.data**2) * out.grad

        out._backward = _backward
        return out


class ValuePowerNotLowered(MicroValue):
    def __pow__(self, n):
        out = type(self)(self.data**n, (self,))

        def _backward():
            self.grad += n * self.data**n * out.grad

        out._backward = _backward
        return out


class ValueExpUsesInput(MicroValue):
    def exp(self):
        out = type(self)(math.exp(self.data), (self,))

        def _backward():
            self.grad += self.data * out.grad

        out._backward = _backward
        return out


class ValueProductGradientsSwapped(MicroValue):
    def __mul__(self, o):
        o = self._w(o)
        out = type(self)(self.data * o.data, (self, o))

        def _backward():
            self.grad += self.data * out.grad
            o.grad += o.data * out.grad

        out._backward = _backward
        return out


class ValueRejectsPlainNumbers(MicroValue):
    def __add__(self, o):
        out = type(self)(self.data + o.data, (self, o))  # `x + 1`: int has no .data

        def _backward():
            self.grad += out.grad
            o.grad += out.grad

        out._backward = _backward
        return out


class ValuePowerDividesByBase(MicroValue):
    """n·xⁿ⁻¹ written as n·xⁿ/x: right everywhere except at x = 0, where it divides by zero."""

    def __pow__(self, n):
        out = type(self)(self.data**n, (self,))

        def _backward():
            self.grad += n * out.data / self.data * out.grad

        out._backward = _backward
        return out


class ValueAddsInPlace(MicroValue):
    """`x + y` adds y into x and returns x: the input is changed, and the sum is not a new node."""

    def __add__(self, o):
        o = self._w(o)
        self.data += o.data
        return self


class ValueBorrowsTheReference(ref.Value):
    """Subclasses the answer key: every operation runs reference code."""


# ----------------------------------------------------------------- numerical partials
def numerical_partials_with_numpy(f, xs, h=1e-5):
    x = np.array(xs, dtype=float)
    eye = np.eye(len(x)) * h
    return np.array([(f(*(x + e)) - f(*(x - e))) / (2 * h) for e in eye])


def numerical_partials_one_sided(f, xs, h=1e-5):
    xs = list(xs)
    f0 = f(*xs)
    out = []
    for i in range(len(xs)):
        p = list(xs)
        p[i] += h
        out.append((f(*p) - f0) / h)
    return np.array(out)


def numerical_partials_divides_by_h(f, xs, h=1e-5):
    out = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        out.append((f(*up) - f(*down)) / h)
    return np.array(out)


def numerical_partials_moves_everything(f, xs, h=1e-5):
    d = (f(*[v + h for v in xs]) - f(*[v - h for v in xs])) / (2 * h)
    return np.full(len(xs), d)


def numerical_partials_ignores_h(f, xs, h=1e-5):
    return numerical_partials_with_numpy(f, xs)  # always the default step


def numerical_partials_integer_copy(f, xs, h=1e-5):
    x = np.array(xs)  # integers stay integers: x[i] += h is rounded back
    out = np.zeros(len(x))
    for i in range(len(x)):
        x[i] += h
        up = f(*x)
        x[i] -= 2 * h
        down = f(*x)
        x[i] += h
        out[i] = (up - down) / (2 * h)
    return out


def numerical_partials_float32(f, xs, h=1e-5):
    out = np.zeros(len(xs), dtype=np.float32)
    for i in range(len(xs)):
        up, down = [float(v) for v in xs], [float(v) for v in xs]
        up[i] += h
        down[i] -= h
        out[i] = (f(*up) - f(*down)) / (2 * h)
    return out


def numerical_partials_edits_the_point(f, xs, h=1e-5):
    out = []
    for i in range(len(xs)):
        xs[i] += h
        up = f(*xs)
        xs[i] -= 2 * h
        down = f(*xs)  # forgets to put xs[i] back
        out.append((up - down) / (2 * h))
    return np.array(out)


# ----------------------------------------------------------------- two-layer graph backward
def graph_backward_einsum(dy, cache):
    x, W, b, V, a, h = cache
    dz = np.einsum("nc,ch->nh", dy, V) * (1 - h**2)
    return (np.einsum("nh,hd->nd", dz, W), np.einsum("nh,nd->hd", dz, x), dz.sum(0),
            np.einsum("nc,nh->ch", dy, h), dy.sum(0))


def _grads(dy, cache, *, tanh_grad=None, dW_T=False, dV_T=False, db_mean=False, da_mean=False):
    x, W, b, V, a, h = cache
    dh = dy @ V
    dz = dh * ((1 - h * h) if tanh_grad is None else tanh_grad(h))
    dW = x.T @ dz if dW_T else dz.T @ x
    dV = h.T @ dy if dV_T else dy.T @ h
    db = dz.mean(0) if db_mean else dz.sum(0)
    da = dy.mean(0) if da_mean else dy.sum(0)
    return dz @ W, dW, db, dV, da


def graph_backward_skips_tanh(dy, cache):
    return _grads(dy, cache, tanh_grad=lambda h: np.ones_like(h))


def graph_backward_tanh_not_squared(dy, cache):
    return _grads(dy, cache, tanh_grad=lambda h: 1 - h)


def graph_backward_tanh_applied_again(dy, cache):
    return _grads(dy, cache, tanh_grad=lambda h: 1 - np.tanh(h) ** 2)


def graph_backward_dW_transposed(dy, cache):
    return _grads(dy, cache, dW_T=True)


def graph_backward_dV_transposed(dy, cache):
    return _grads(dy, cache, dV_T=True)


def graph_backward_da_averaged(dy, cache):
    return _grads(dy, cache, da_mean=True)


def graph_backward_db_averaged(dy, cache):
    return _grads(dy, cache, db_mean=True)


def graph_backward_float32(dy, cache):
    return tuple(g.astype(np.float32) for g in _grads(dy, cache))


def graph_backward_returns_dict(dy, cache):
    dx, dW, db, dV, da = _grads(dy, cache)
    return {"dx": dx, "dW": dW, "db": db, "dV": dV, "da": da}


# ----------------------------------------------------------------- tables
REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_value_ops: ref.Value,
    checks.check_value_backward: ref.Value,
    checks.check_numerical_partials: ref.numerical_partials,
    checks.check_two_layer_graph_backward: ref.two_layer_graph_backward,
}

CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_value_ops: [LocalGradValue, MicroValue],
    checks.check_value_backward: [LocalGradValue, MicroValue],
    checks.check_numerical_partials: [numerical_partials_with_numpy],
    checks.check_two_layer_graph_backward: [graph_backward_einsum],
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_value_ops: [
        (ValueTanhNotSquared, r"x\.grad is", True, "square the output"),
        (ValueTanhDerivativeOfInput, r"x\.grad is", True, r"use the output t = tanh\(x\), not the input"),
        (ValuePowerNotLowered, r"x\.grad is", True, "lowers the exponent"),
        (ValueExpUsesInput, r"x\.grad is", True, r"output's data \(not the input's\)"),
        (ValueProductGradientsSwapped, r"x\.grad is", True, "swapped"),
        (ValueRejectsPlainNumbers, None, True, None),
        (ValuePowerDividesByBase, None, False, None),
        (ValueAddsInPlace, r"`x \+ y` changed its input x \(it returned it\)", True, None),
        (ValueAssignsGradients, r"x\.grad is", False, r"accumulate with `self.grad \+= \.\.\.`"),
        (ValueBorrowsTheReference, r"called dlcourse\.ref\.autodiff", True, None),
    ],
    checks.check_value_backward: [
        (ValueAssignsGradients, r"x\.grad is", True, r"accumulate with `self.grad \+= \.\.\.`"),
        (ValueRecursiveBackward, r"x\.grad is", True, "passed its gradient on twice"),
        (ValueTopologicalOrderNotReversed, r"x\.grad is", True, "wrong direction"),
        (ValueBreadthFirstBackward, r"x\.grad is", True, "breadth-first"),
        (ValueNoSeed, r"after backward\(\) the output's own grad is", True, "every gradient is 0"),
        (ValueTanhNotSquared, "tanh|grad", True, None),
        (ValuePowerDividesByBase, None, False, None),
        (ValueBorrowsTheReference, r"called dlcourse\.ref\.autodiff", True, None),
    ],
    checks.check_numerical_partials: [
        (numerical_partials_one_sided, "numerical_partials has wrong values", True, "one-sided difference"),
        (numerical_partials_divides_by_h, "numerical_partials has wrong values", True, "divide by 2h"),
        (numerical_partials_moves_everything, "numerical_partials has wrong values", True, "one input at a time"),
        (numerical_partials_ignores_h, "numerical_partials has wrong values", False, "use the step h that was passed in"),
        (numerical_partials_edits_the_point, "changed (the point xs|its argument #2)", True, None),
        (numerical_partials_integer_copy, "numerical_partials has wrong values", False, "integer array"),
        (numerical_partials_float32, "the dtype of numerical_partials' result is float32, expected float64", True,
         "return float64"),
    ],
    checks.check_two_layer_graph_backward: [
        (graph_backward_skips_tanh, "db has wrong values", True, "must pass through tanh"),
        (graph_backward_tanh_not_squared, "db has wrong values", True, "square h"),
        (graph_backward_tanh_applied_again, "db has wrong values", True, "without applying tanh again"),
        (graph_backward_dW_transposed, "dW has shape", True, "dW is transposed"),
        (graph_backward_dV_transposed, "dV has shape", True, "dV is transposed"),
        (graph_backward_da_averaged, "da has wrong values", True, "da is averaged"),
        (graph_backward_db_averaged, "db has wrong values", True, "db is averaged"),
        (graph_backward_returns_dict, "should return a tuple", True, None),
        (graph_backward_float32, "the dtype of dx is float32, expected float64", True, "do not convert"),
    ],
}
