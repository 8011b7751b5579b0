"""Checks for lecture 01-autodiff: the scalar ``Value`` engine, central differences, the two-layer graph.

The ``Value`` checks take the student's *class*: ``check_value_ops(Value)`` and
``check_value_backward(Value)``. They build small expressions with it, run the backward pass and
read ``data`` and ``grad``; the whole build-and-backward runs under the anti-shortcut guard, so
a class that borrows from (or subclasses) ``dlcourse.ref.Value`` is caught. ``check_value_ops``
drives the backward pass itself (each node's ``_backward`` in reverse topological order of
``_prev``), so the operations can be checked one at a time before ``backward()`` is written, as
the notebook builds them; ``check_value_backward`` calls the student's ``backward()``. Expected values come
from :class:`dlcourse.ref.Value` on the same expressions; the diagnoses come from replaying the
expression on small engines in this module with one known mistake switched on.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_equal, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import (
    GRAD_TOL,
    expect_backward_matches_finite_differences,
    expect_matches_finite_differences,
)
from dlcourse.checks.guard import call_student, unpack

__all__ = ["check_value_ops", "check_value_backward", "check_numerical_partials", "check_two_layer_graph_backward"]

SALT = 20_101  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

# An expression: build(V, *leaves) -> (output, {name: node whose grad is examined}).
Build = Callable[..., tuple[Any, dict[str, Any]]]


# --------------------------------------------------------------------------- engines with one mistake


class _Node:
    """A minimal Value used only to replay expressions with a known mistake (see :func:`_replay`)."""

    assigns: frozenset[str] = frozenset()  # the operations whose backward assigns instead of accumulating

    def __init__(self, data: float, children: tuple[_Node, ...] = ()) -> None:
        self.data, self.grad, self._prev = float(data), 0.0, children
        self._backward: Callable[[], None] = lambda: None

    def _give(self, amount: float, op: str) -> None:
        self.grad = amount if op in self.assigns else self.grad + amount

    @classmethod
    def _wrap(cls, o: Any) -> _Node:
        return o if isinstance(o, _Node) else cls(o)

    def __add__(self, o: Any) -> _Node:
        o = self._wrap(o)
        out = type(self)(self.data + o.data, (self, o))

        def back() -> None:
            self._give(out.grad, "add")
            o._give(out.grad, "add")

        out._backward = back
        return out

    def __mul__(self, o: Any) -> _Node:
        o = self._wrap(o)
        out = type(self)(self.data * o.data, (self, o))

        def back() -> None:
            self._give(o.data * out.grad, "mul")
            o._give(self.data * out.grad, "mul")

        out._backward = back
        return out

    def __pow__(self, n: float) -> _Node:
        out = type(self)(self.data**n, (self,))
        out._backward = lambda: self._give(n * self.data ** (n - 1) * out.grad, "pow")
        return out

    def exp(self) -> _Node:
        out = type(self)(math.exp(self.data), (self,))
        out._backward = lambda: self._give(out.data * out.grad, "exp")
        return out

    def tanh(self) -> _Node:
        out = type(self)(math.tanh(self.data), (self,))
        out._backward = lambda: self._give((1 - out.data**2) * out.grad, "tanh")
        return out

    def __neg__(self) -> _Node:
        return self * -1

    def __radd__(self, o: Any) -> _Node:
        return self + o

    def __sub__(self, o: Any) -> _Node:
        return self + (-o)

    def __rsub__(self, o: Any) -> _Node:
        return o + (-self)

    def __rmul__(self, o: Any) -> _Node:
        return self * o

    def __truediv__(self, o: Any) -> _Node:
        return self * self._wrap(o) ** -1

    def __rtruediv__(self, o: Any) -> _Node:
        return o * self**-1


class _AssigningNode(_Node):
    assigns = frozenset({"add", "mul", "pow", "exp", "tanh"})


class _SumProductAssigningNode(_Node):
    """Assigns in + and * only (the operations written first), accumulates in the others."""

    assigns = frozenset({"add", "mul"})


def _topo(root: _Node) -> list[_Node]:
    order: list[_Node] = []
    seen: set[int] = set()

    def visit(n: _Node) -> None:
        if id(n) not in seen:
            seen.add(id(n))
            for c in n._prev:
                visit(c)
            order.append(n)

    visit(root)
    return order


def _replay(build: Build, xs: tuple[float, ...], mistake: str) -> dict[str, float]:
    """The grads a Value with ``mistake`` would report on ``build(xs)``."""
    cls = {"assign": _AssigningNode, "assign in + and *": _SumProductAssigningNode}.get(mistake, _Node)
    out, nodes = build(cls, *[cls(x) for x in xs])
    out.grad = 1.0
    if mistake in ("assign", "assign in + and *", "correct"):
        for n in reversed(_topo(out)):
            n._backward()
    elif mistake == "not reversed":  # inputs first: every node passes on a gradient it has not received yet
        for n in _topo(out):
            n._backward()
    elif mistake == "recursive":  # no topological sort: a node reached twice passes its gradient twice
        def rec(n: _Node) -> None:
            n._backward()
            for c in n._prev:
                rec(c)
        rec(out)
    elif mistake == "breadth first":  # each node once, but possibly before all its consumers added to it
        seen = {id(out)}
        queue = [out]
        while queue:
            n = queue.pop(0)
            n._backward()
            for c in n._prev:
                if id(c) not in seen:
                    seen.add(id(c))
                    queue.append(c)
    elif mistake == "no seed":
        out.grad = 0.0
        for n in reversed(_topo(out)):
            n._backward()
    return {name: float(node.grad) for name, node in nodes.items()}


_ASSIGN = ("a node used more than once must collect the gradient of every use: accumulate with "
           "`self.grad += ...` in each _backward, never assign `self.grad = ...`.")
_DIAGNOSES = {
    "assign": _ASSIGN,
    "assign in + and *": _ASSIGN,  # one mistake, made in every operation or only in the first two
    "not reversed": "the nodes run their _backward in the wrong direction: build the topological order "
                    "(inputs before outputs) and visit it reversed, from the output back to the inputs.",
    "recursive": "a node reached along two paths passed its gradient on twice: sort the graph "
                 "topologically and call each node's _backward exactly once, after all its consumers.",
    "breadth first": "a node passed its gradient on before every node that uses it had added its share: "
                     "a breadth-first or pre-order walk is not enough; visit the nodes in reverse "
                     "topological order.",
    "no seed": "every gradient is 0: backward() must start with `self.grad = 1.0` (∂out/∂out = 1).",
}


# --------------------------------------------------------------------------- running the student's class


def _as_number(x: Any, what: str, case: str) -> float:
    if hasattr(x, "detach") and hasattr(x, "item"):
        raise CheckFailure(f"{what} is a torch.Tensor; store a Python float ({case}).")
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        if isinstance(x, np.ndarray) and x.size == 1:
            return float(x)
        raise CheckFailure(f"{what} should be a number (a float), got a {type(x).__name__} ({case}).")
    return float(x)


def _follows_the_given_structure(out: Any) -> bool:
    """Whether every node reachable from ``out`` has the ``_prev`` and ``_backward`` of the given ``__init__``."""
    stack, seen = [out], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        prev = getattr(node, "_prev", None)
        if not callable(getattr(node, "_backward", None)) or not isinstance(prev, (tuple, list, set, frozenset)):
            return False
        stack.extend(prev)
    return True


def _backward_by_the_check(out: Any) -> None:
    """The check's own ``backward()``: seed 1, then each node's ``_backward`` in reverse topological order.

    Iterative (no recursion limit) and by identity (a student's class may define ``__eq__``).
    """
    order: list[Any] = []
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(out, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in seen)
    out.grad = 1.0
    for node in reversed(order):
        node._backward()


def _run(Value: Any, build: Build, xs: tuple[float, ...], case: str,
         own_backward: bool = True) -> tuple[float, dict[str, float]]:
    """Build the expression with the student's class under the guard, run backward, read data and grads.

    With ``own_backward=False`` the check runs the backward pass itself (see
    :func:`_backward_by_the_check`) when the class has the given ``_prev``/``_backward`` structure,
    so that only the operations are tested; a class built differently is driven by its own
    ``backward()``.
    """

    def run() -> tuple[Any, Any, dict[str, Any], list[Any], list[Any]]:
        leaves = [Value(x) for x in xs]
        out, nodes = build(Value, *leaves)
        before = {name: getattr(node, "grad", None) for name, node in nodes.items()}
        data_before = [getattr(leaf, "data", None) for leaf in leaves]
        if not own_backward and _follows_the_given_structure(out):
            _backward_by_the_check(out)
        else:
            out.backward()
        return out, before, nodes, leaves, data_before

    if not isinstance(Value, type):
        raise CheckFailure(f"pass the class itself (e.g. check_value_ops(Value)), got a {type(Value).__name__}.")
    out, before, nodes, leaves, data_before = call_student(run, name="Value")
    if not isinstance(out, Value):
        raise CheckFailure(f"the result of `{case}` should be a new Value, got a {type(out).__name__}: every "
                           f"operation returns a Value that remembers its inputs.")
    if not own_backward:  # one operation: its result is a new node, its inputs stay as they were
        names = list(nodes)
        for k, leaf in enumerate(leaves):
            label = names[k] if k < len(names) else f"input #{k + 1}"
            if out is leaf or data_before[k] != xs[k]:
                raise CheckFailure(
                    f"`{case}` changed its input {label} (it {'returned it' if out is leaf else 'changed its data'}) "
                    f"(inputs {xs}). Every operation builds a new Value for its result and leaves its inputs as "
                    f"they were: other nodes of the graph still use them, with their old values.")
    for name, g in before.items():
        if g is None:
            raise CheckFailure(f"a Value needs a `grad` attribute (starting at 0.0); {name} has none ({case}).")
        if _as_number(g, f"{name}.grad", case) != 0.0 and name in ("x", "y", "z"):
            raise CheckFailure(f"a new Value's grad should start at 0.0; {name}.grad was {g} before backward() ({case}).")
    data = _as_number(getattr(out, "data", None), "the result's .data", case)
    own = _as_number(getattr(out, "grad", None), "the result's .grad", case)
    if own == 0.0:
        raise CheckFailure(f"after backward() the output's own grad is 0 ({case}).\n  Hint: {_DIAGNOSES['no seed']}")
    grads = {name: _as_number(node.grad, f"{name}.grad", case) for name, node in nodes.items()}
    return data, grads


def _expected(build: Build, xs: tuple[float, ...]) -> tuple[float, dict[str, float]]:
    out, nodes = build(ref.Value, *[ref.Value(x) for x in xs])
    out.backward()
    return out.data, {name: node.grad for name, node in nodes.items()}


def _expect_grads(got: dict[str, float], build: Build, xs: tuple[float, ...], case: str,
                  extra: list[tuple[dict[str, float], str]] = ()) -> None:
    _, expected = _expected(build, xs)
    variants = [(_replay(build, xs, m), _DIAGNOSES[m])
                for m in ("no seed", "assign", "assign in + and *", "recursive", "not reversed", "breadth first")]
    for name in expected:
        mistakes = [Mistake(v[name], hint) for v, hint in list(extra) + variants if not _close(v, expected)]
        expect_scalar(got[name], expected[name], what=f"{name}.grad", case=case, rtol=1e-9, atol=1e-12,
                      mistakes=mistakes)


def _close(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) for k in b)


# --------------------------------------------------------------------------- Value: one operation at a time


def _op_cases(hidden: bool) -> list[tuple[str, Build, tuple[float, ...], list[tuple[Callable[..., dict[str, float]], str]]]]:
    """(case, build, inputs, [(wrong grads as a function of the inputs, hint)])."""
    def leaves(*names: str) -> Callable[..., dict[str, Any]]:
        return lambda *nodes: dict(zip(names, nodes))

    cases = [
        ("x + y", lambda V, x, y: (x + y, leaves("x", "y")(x, y)), (2.0, -3.0),
         [(lambda x, y: {"x": 0.0, "y": 0.0}, "addition passes the upstream gradient to both inputs unchanged: "
           "x.grad += out.grad and y.grad += out.grad.")]),
        ("x * y", lambda V, x, y: (x * y, leaves("x", "y")(x, y)), (2.0, -3.0),
         [(lambda x, y: {"x": x, "y": y}, "the gradients of a product are swapped: ∂(xy)/∂x = y and ∂(xy)/∂y = x."),
          (lambda x, y: {"x": 1.0, "y": 1.0}, "a product is not a sum: ∂(xy)/∂x = y, ∂(xy)/∂y = x.")]),
        ("x ** 3", lambda V, x: (x**3, leaves("x")(x)), (1.5,),
         [(lambda x: {"x": 3 * x**3}, "the power rule lowers the exponent: ∂(xⁿ)/∂x = n·xⁿ⁻¹."),
          (lambda x: {"x": x**2}, "the power rule multiplies by the exponent: ∂(xⁿ)/∂x = n·xⁿ⁻¹.")]),
        ("x.exp()", lambda V, x: (x.exp(), leaves("x")(x)), (0.7,),
         [(lambda x: {"x": x}, "∂eˣ/∂x = eˣ, which is the output's data (not the input's)."),
          (lambda x: {"x": 1.0}, "∂eˣ/∂x = eˣ: multiply out.grad by the output's data.")]),
        ("x.tanh()", lambda V, x: (x.tanh(), leaves("x")(x)), (0.8,),
         [(lambda x: {"x": 1 - math.tanh(x)}, "square the output: ∂tanh(x)/∂x = 1 − tanh(x)²."),
          (lambda x: {"x": 1 - x**2}, "∂tanh(x)/∂x = 1 − tanh(x)²: use the output t = tanh(x), not the input x."),
          (lambda x: {"x": math.tanh(x) * (1 - math.tanh(x))}, "that is the sigmoid's derivative; "
           "∂tanh(x)/∂x = 1 − tanh(x)²."),
          (lambda x: {"x": 1 - math.tanh(math.tanh(x)) ** 2}, "out.data already holds tanh(x): do not apply tanh again.")]),
        ("x + 1 (a plain number on the right)", lambda V, x: (x + 1, leaves("x")(x)), (0.5,), []),
        ("2 * x (a plain number on the left)", lambda V, x: (2 * x, leaves("x")(x)), (0.5,), []),
        ("x - y", lambda V, x, y: (x - y, leaves("x", "y")(x, y)), (1.0, 4.0), []),
        ("x / y", lambda V, x, y: (x / y, leaves("x", "y")(x, y)), (1.0, 4.0), []),
    ]
    if hidden:
        cases += [
            ("x ** -2", lambda V, x: (x**-2, leaves("x")(x)), (1.7,),
             [(lambda x: {"x": -2 * x**-2}, "the power rule lowers the exponent: ∂(xⁿ)/∂x = n·xⁿ⁻¹.")]),
            ("x ** 0.5", lambda V, x: (x**0.5, leaves("x")(x)), (2.3,), []),
            ("x * x (one input used twice)", lambda V, x: (x * x, leaves("x")(x)), (-1.3,), []),
            ("x + x (one input used twice)", lambda V, x: (x + x, leaves("x")(x)), (0.4,), []),
            ("x.exp() at x = 3", lambda V, x: (x.exp(), leaves("x")(x)), (3.0,), []),
            ("x.tanh() at x = -2.5", lambda V, x: (x.tanh(), leaves("x")(x)), (-2.5,), []),
            ("3 - x", lambda V, x: (3 - x, leaves("x")(x)), (0.25,), []),
            ("-x", lambda V, x: (-x, leaves("x")(x)), (0.25,), []),
            ("1 / x", lambda V, x: (1 / x, leaves("x")(x)), (0.4,), []),
            # a power at base 0, where n·xⁿ⁻¹ must not be computed as n·xⁿ/x
            ("x ** 2 at x = 0", lambda V, x: (x**2, leaves("x")(x)), (0.0,), []),
            ("x ** 1 at x = 0", lambda V, x: (x**1, leaves("x")(x)), (0.0,), []),
            ("x ** 3 at x = 0", lambda V, x: (x**3, leaves("x")(x)), (0.0,), []),
            # exact zeros: a product with a zero factor, tanh and exp at 0
            ("x * y with y = 0", lambda V, x, y: (x * y, leaves("x", "y")(x, y)), (1.5, 0.0), []),
            ("x.tanh() at x = 0", lambda V, x: (x.tanh(), leaves("x")(x)), (0.0,), []),
            ("x.exp() at x = 0", lambda V, x: (x.exp(), leaves("x")(x)), (0.0,), []),
            # integers: Value(3), and an int constant
            ("x * y with integer data, Value(3) * Value(-2)", lambda V, x, y: (x * y, leaves("x", "y")(x, y)),
             (3, -2), []),
            ("x + 2 with integer data, Value(5) + 2", lambda V, x: (x + 2, leaves("x")(x)), (5,), []),
        ]
    return cases


@exercise("Value")
def check_value_ops(Value: type, hidden: bool = False) -> None:
    """Check each operation of the student's ``Value`` class: its result and its local derivative.

    Every case builds one operation on fresh leaves, e.g. ``Value(2.0) * Value(-3.0)``, sets the
    result's ``grad`` to 1 and runs the new nodes' ``_backward`` closures itself (not the
    student's ``backward()``, which this exercise writes later), then compares ``data`` and every
    leaf's ``grad`` with :class:`dlcourse.ref.Value`. A class without the given ``_prev`` and
    ``_backward`` attributes is driven by its own ``backward()`` instead.
    """
    cases = _op_cases(hidden)
    run = CheckRun("Value operations", hidden)
    for case, build, xs, wrong in run.cases(cases):
        with run.case():
            data, grads = _run(Value, build, xs, case, own_backward=False)
            e_data, _ = _expected(build, xs)
            expect_scalar(data, e_data, what=f"({case}).data", case=f"inputs {xs}", rtol=1e-12, atol=1e-12)
            extra = [(f(*xs), hint) for f, hint in wrong]
            _expect_grads(grads, build, xs, f"{case} at inputs {xs}", extra)
    run.passed()


# --------------------------------------------------------------------------- Value: whole graphs


def _neuron(V: Any, x1: Any, x2: Any, w1: Any, w2: Any, b: Any) -> tuple[Any, dict[str, Any]]:
    """One tanh neuron, the scalar version of the lecture's h = tanh(Wx + b)."""
    return (x1 * w1 + x2 * w2 + b).tanh(), {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}


def _shared(V: Any, x: Any, y: Any) -> tuple[Any, dict[str, Any]]:
    a = x * y
    return a * a + a, {"x": x, "y": y, "a": a}


def _uneven_paths(V: Any, x: Any) -> tuple[Any, dict[str, Any]]:
    """a reaches the output along a long and a short path."""
    a = x.tanh()
    return (a * 2).exp() + a, {"x": x, "a": a}


def _graph_cases(hidden: bool) -> list[tuple[str, Build, tuple[float, ...]]]:
    cases: list[tuple[str, Build, tuple[float, ...]]] = [
        ("f = x·y + x (x used twice)", lambda V, x, y: (x * y + x, {"x": x, "y": y}), (2.0, -3.0)),
        ("a = x + 1, f = a·a (a node used twice)", lambda V, x: (lambda a: (a * a, {"x": x, "a": a}))(x + 1), (0.5,)),
        ("a = x·y, f = a·a + a", _shared, (0.6, -1.5)),
        ("a = tanh(x), f = exp(2a) + a (paths of different lengths)", _uneven_paths, (0.3,)),
        ("neuron tanh(x1·w1 + x2·w2 + b)", _neuron, (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)),
    ]
    if hidden:
        rng = case_rng(hidden, SALT)
        for k in range(4):
            seed = int(rng.integers(0, 2**31))
            n_leaves = 3
            cases.append((f"random expression #{k + 1} ({n_leaves} inputs, shared subexpressions)",
                          _random_build(seed, n_leaves), tuple(float(v) for v in rng.uniform(-1, 1, n_leaves))))
        cases.append(("a chain of 300 operations", _chain, (0.1,)))
        cases += [
            ("f = x²·y + y at x = 0 (a power at base 0, a zero factor)",
             lambda V, x, y: (x**2 * y + y, {"x": x, "y": y}), (0.0, 1.7)),
            ("f = tanh(x·y) at x = 0, y = 0 (every product is 0)",
             lambda V, x, y: ((x * y).tanh(), {"x": x, "y": y}), (0.0, 0.0)),
            ("f = x (the output is the input itself)", lambda V, x: (x, {"x": x}), (0.8,)),
        ]
    return cases


def _random_build(seed: int, n_leaves: int) -> Build:
    def build(V: Any, *leaves: Any) -> tuple[Any, dict[str, Any]]:
        r = np.random.default_rng(seed)
        nodes = list(leaves)
        for _ in range(12):
            i, j = (int(t) for t in r.integers(0, len(nodes), 2))
            a, b = nodes[i], nodes[j]  # i == j reuses a node on both sides
            op = int(r.integers(0, 6))
            if op == 0:
                new = a + b
            elif op == 1:
                new = a * b
            elif op == 2:
                new = a.tanh()
            elif op == 3:
                new = (a.tanh() * 0.5).exp()
            elif op == 4:
                new = a**2 + 1.0
            else:
                new = a - 0.5 * b
            nodes.append(new.tanh() * 2)  # keep values bounded
        out = nodes[-1]
        for n in nodes[n_leaves:-1:3]:
            out = out + n
        return out, {f"x{i + 1}": leaf for i, leaf in enumerate(leaves)}
    return build


def _chain(V: Any, x: Any) -> tuple[Any, dict[str, Any]]:
    out = x
    for _ in range(100):
        out = (out * 1.01 + 0.01).tanh()  # three operations per step
    return out, {"x": x}


@exercise("Value")
def check_value_backward(Value: type, hidden: bool = False) -> None:
    """Check ``Value.backward()`` on whole graphs: reused nodes, paths of different lengths, a neuron.

    With ``hidden=True`` adds random expressions with shared subexpressions, a long chain, and
    a comparison of the gradients with central differences of the student's own forward pass.
    """
    cases = _graph_cases(hidden)
    run = CheckRun("Value.backward", hidden)
    for case, build, xs in run.cases(cases):
        with run.case():
            data, grads = _run(Value, build, xs, case)
            e_data, _ = _expected(build, xs)
            expect_scalar(data, e_data, what="f.data", case=f"{case}, inputs {xs}", rtol=1e-10, atol=1e-12)
            _expect_grads(grads, build, xs, f"{case}, inputs {xs}")
            if hidden:
                _expect_consistent_with_own_forward(Value, build, xs, grads, case)
    run.passed()


def _expect_consistent_with_own_forward(Value: Any, build: Build, xs: tuple[float, ...],
                                        grads: dict[str, float], case: str) -> None:
    leaves = list(grads)[: len(xs)]  # every build lists its inputs first, in order

    def f(*values: float) -> float:
        out, _ = call_student(lambda: build(Value, *[Value(v) for v in values]), name="Value")
        return float(out.data)

    numeric = ref.numerical_partials(f, xs)
    analytic = np.array([grads[n] for n in leaves])
    expect_matches_finite_differences(analytic, numeric, what=f"the gradient ({', '.join(leaves)})",
                                      case=case, of="your own forward pass")


# --------------------------------------------------------------------------- numerical partials


# The exercise's documented default step is the reference's (1e-5, where truncation and rounding balance).
DEFAULT_STEP: float = inspect.signature(ref.numerical_partials).parameters["h"].default


def _f_product(a: float, b: float) -> float:
    return a * b + math.sin(a)


def _f_abs(x: float) -> float:
    return abs(x)


def _f_cubic(x: float) -> float:
    return x**3


def _f_three(a: float, b: float, c: float) -> float:
    return math.exp(a) * b - c**2 + a * c


@exercise("numerical_partials")
def check_numerical_partials(numerical_partials: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``numerical_partials(f, xs, h=1e-5) -> (n,) array`` of central differences."""
    cases: list[tuple[str, Callable[..., float], Any, float | None]] = [
        ("f(a, b) = a·b + sin a at (1, 2)", _f_product, [1.0, 2.0], None),
        ("f(x) = x³ at x = 2", _f_cubic, [2.0], None),
        ("f(a, b, c) = eᵃ·b − c² + a·c at (0.5, −1, 2)", _f_three, [0.5, -1.0, 2.0], None),
    ]
    if hidden:
        rng = case_rng(hidden, SALT)
        cases += [
            ("the point given as a NumPy array", _f_three, rng.uniform(-1, 1, 3), None),
            ("a step h = 1e-4 passed explicitly", _f_three, [0.3, 0.7, -0.2], 1e-4),
            ("f(x) = x³ at x = −1.5 with h = 1e-3", _f_cubic, [-1.5], 1e-3),
            ("f of five inputs", lambda *v: float(np.tanh(np.dot(v, np.arange(1, 6)) / 10)) + v[0] * v[4],
             list(rng.uniform(-1, 1, 5)), None),
            ("an integer point [1, 2] (Python ints)", _f_product, [1, 2], None),
            ("an integer point given as a NumPy int array", _f_three, np.array([1, 0, -1]), 1e-4),
            ("a point read with a stride (a non-contiguous array)", _f_three, np.linspace(-1, 1, 6)[::2], None),
            ("f(x) = |x| at its kink x = 0", _f_abs, [0.0], None),
        ]
    run = CheckRun("numerical_partials", hidden)
    for case, f, xs, h in run.cases(cases):
        with run.case():
            original = np.array(xs, dtype=np.float64)
            args: tuple[Any, ...] = (f, xs) if h is None else (f, xs, h)
            got = call_student(numerical_partials, *args, name="numerical_partials")
            if isinstance(got, (list, tuple)):
                got = np.asarray(got, dtype=np.float64)
            step = DEFAULT_STEP if h is None else h
            expected = ref.numerical_partials(f, list(original), step)
            n = len(original)
            point = list(original)

            def at(i: int, delta: float) -> list[float]:
                p = list(point)
                p[i] += delta
                return p

            f0 = f(*point)
            forward = np.array([(f(*at(i, step)) - f0) / step for i in range(n)])
            everything = (f(*[v + step for v in point]) - f(*[v - step for v in point])) / (2 * step)
            if not np.array_equal(np.asarray(xs, dtype=np.float64), original):
                raise CheckFailure(f"numerical_partials changed the point xs it was given ({case}): perturb a copy, "
                                   f"or put every entry back after using it.")
            expect_array(got, expected, what="numerical_partials", case=case, rtol=1e-7, atol=1e-9, mistakes=[
                Mistake(forward, "that is the one-sided difference (f(x+h) − f(x))/h, accurate only to O(h); use the "
                        "central difference (f(x+h) − f(x−h))/(2h), accurate to O(h²)."),
                Mistake(2 * expected, "divide by 2h: the two evaluation points are 2h apart."),
                Mistake(np.full(n, everything), "move one input at a time: ∂f/∂x_i changes x_i only, keeping the others fixed."),
                Mistake(ref.numerical_partials(f, list(original), DEFAULT_STEP), "use the step h that was passed in."),
            ], hint="the point holds integers: if you copied it with np.array(xs), that is an integer array, "
                    "where x[i] += h is rounded back to an integer; copy it as floats, np.array(xs, dtype=float)."
               if np.asarray(xs).dtype.kind in "iu" else "")
            expect_equal(got.dtype, np.dtype(np.float64), what="the dtype of numerical_partials' result", case=case,
                         show=str, hint="return float64 numbers, e.g. fill np.zeros(n).")
    run.passed()


# --------------------------------------------------------------------------- the two-layer graph


def _graph_inputs(hidden: bool) -> list[tuple[str, tuple[np.ndarray, ...], np.ndarray]]:
    rng = case_rng(hidden, SALT)
    dims = [(1, 3, 4, 2), (5, 3, 4, 2)]
    if hidden:
        dims += [(2, 1, 1, 1), (7, 5, 6, 3), (int(rng.integers(2, 9)), int(rng.integers(1, 6)), int(rng.integers(1, 7)),
                                              int(rng.integers(1, 5)))]
    out = []
    for n, d, h, c in dims:
        x = rng.standard_normal((n, d))
        W = rng.standard_normal((h, d))
        b = rng.standard_normal(h)
        V = rng.standard_normal((c, h))
        a = rng.standard_normal(c)
        dy = rng.standard_normal((n, c))
        out.append((f"N={n}, D={d}, H={h}, C={c}", (x, W, b, V, a), dy))
    if hidden:
        # transposed and strided arrays: x and W stored column by column, dy read with a stride
        params = (rng.standard_normal((3, 4)).T, rng.standard_normal((3, 5)).T, rng.standard_normal(5),
                  rng.standard_normal((2, 5)), rng.standard_normal(2))
        out.append(("N=4, D=3, H=5, C=2, x and W transposed arrays, dy strided", params,
                    rng.standard_normal((8, 2))[::2]))
        # exact zeros: z = 0 everywhere (tanh'(0) = 1) and a zero upstream gradient for one example
        zero_x, zero_b = np.zeros((3, 2)), np.zeros(4)
        dy = rng.standard_normal((3, 2))
        dy[1] = 0.0
        out.append(("N=3, D=2, H=4, C=2, x = 0 and b = 0 (z = 0), dy = 0 for one example",
                    (zero_x, rng.standard_normal((4, 2)), zero_b, rng.standard_normal((2, 4)), rng.standard_normal(2)), dy))
    return out


@exercise("two_layer_graph_backward")
def check_two_layer_graph_backward(two_layer_graph_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``two_layer_graph_backward(dy, cache) -> (dx, dW, db, dV, da)`` for h = tanh(xWᵀ + b), y = hVᵀ + a."""
    run = CheckRun("two_layer_graph_backward", hidden)
    for case, params, dy in run.cases(_graph_inputs(hidden)):
        with run.case():
            _, cache = ref.two_layer_graph_forward(*params)
            x, W, b, V, a, h = cache
            result = call_student(two_layer_graph_backward, dy, cache, name="two_layer_graph_backward")
            dx, dW, db, dV, da = unpack(result, 5, name="two_layer_graph_backward", names=("dx", "dW", "db", "dV", "da"))
            edx, edW, edb, edV, eda = ref.two_layer_graph_backward(dy, cache)
            dh = dy @ V
            no_tanh = dh
            not_squared = dh * (1 - h)
            twice = dh * (1 - np.tanh(h) ** 2)
            dz = dh * (1 - h * h)
            tanh_hints = [
                (no_tanh, "the gradient must pass through tanh: multiply dy·V by tanh'(z) = 1 − h² element-wise."),
                (not_squared, "tanh'(z) = 1 − tanh(z)² = 1 − h²: square h."),
                (twice, "the cache holds h = tanh(z) already: tanh'(z) = 1 − h², without applying tanh again."),
            ]
            expect_array(da, eda, what="da", case=case, **GRAD_TOL, mistakes=[
                Mistake(dy, "da must be summed over the batch: every example adds the same a."),
                Mistake(dy.mean(axis=0), "da is averaged; sum dy over the batch (axis 0)."),
            ])
            expect_array(dV, edV, what="dV", case=case, **GRAD_TOL, mistakes=[
                Mistake(h.T @ dy, "dV is transposed: dV = dyᵀ h has V's shape (C, H)."),
            ])
            expect_array(db, edb, what="db", case=case, **GRAD_TOL, mistakes=[
                *(Mistake(g.sum(axis=0), hint) for g, hint in tanh_hints),
                Mistake(dz, "db must be summed over the batch: every example adds the same b."),
                Mistake(dz.mean(axis=0), "db is averaged; sum over the batch (axis 0)."),
            ])
            expect_array(dW, edW, what="dW", case=case, **GRAD_TOL, mistakes=[
                Mistake(x.T @ dz, "dW is transposed: with z = x Wᵀ + b, dW = dzᵀ x has W's shape (H, D)."),
                *(Mistake(g.T @ x, hint) for g, hint in tanh_hints),
            ])
            expect_array(dx, edx, what="dx", case=case, **GRAD_TOL, mistakes=[
                *(Mistake(g @ W, hint) for g, hint in tanh_hints),
                Mistake(dz @ W / len(x), "do not divide by N: the upstream gradient dy already carries any averaging."),
            ])
            for label, grad in zip(("dx", "dW", "db", "dV", "da"), (dx, dW, db, dV, da)):
                expect_equal(grad.dtype, np.dtype(np.float64), what=f"the dtype of {label}", case=case, show=str,
                             hint="float64 in, float64 out: do not convert the gradients.")
            if hidden:
                expect_backward_matches_finite_differences(
                    "two_layer_graph_backward", lambda *p: ref.two_layer_graph_forward(*p)[0],
                    params, dy, (dx, dW, db, dV, da), ("dx", "dW", "db", "dV", "da"), case=case)
    run.passed()
