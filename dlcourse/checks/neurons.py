"""Checks for lecture 02-neurons-mlp.

Each ``check_*`` takes the student's function and ``hidden``; public cases are small and fixed
(the lecture's perceptron example among them), hidden ones add random shapes, extreme inputs and
edge cases: integer, transposed and strided inputs, exact zeros, a batch of one, the documented
default activation, α = 0 for ELU, a one-layer stack for the collapse. Every array result must be
float64 (integer input included) and a new array. Expected values come from :mod:`dlcourse.ref`
at check time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_equal, format_pair, passed
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL
from dlcourse.checks.guard import call_strict, call_student, unpack

__all__ = [
    "check_sigmoid",
    "check_elu_backward",
    "check_perceptron",
    "check_dense_forward",
    "check_mlp_forward",
    "check_xor_network",
    "check_collapse_linear",
]

SALT = 20_402  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng


# The two helpers below are shared with lecture 03's checks (dlcourse.checks.losses); being about any
# array result, they belong in dlcourse.checks.compare, where they can move.


def precision_mistakes(expected: np.ndarray, inputs: tuple[Any, ...]) -> list[Mistake]:
    """Two ways of losing float64: a float32 result, and floats stored in an integer array.

    The second is offered only when an input is an integer array (np.empty_like(z) then copies z's
    integer dtype, and every value assigned into it is truncated).
    """
    hint = integer_input_hint(inputs)
    return [
        Mistake(expected.astype(np.float32), "the result was converted to float32: keep float64 (NumPy's default).",
                name="float32"),
        Mistake(np.trunc(expected).astype(np.int64) if hint else None, hint, name="integer array"),
    ]


def integer_input_hint(inputs: tuple[Any, ...]) -> str:
    """What to say when a result is wrong on integer input (also as an observation, when no mistake matches)."""
    if not any(isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in inputs):
        return ""
    return ("for integer input the result must still hold floats: an array made like the input "
            "(np.empty_like, np.zeros_like) is an integer array, which truncates every value stored in it; "
            "create it with a float dtype (np.empty(z.shape), or dtype=float).")


def expect_float64(got: Any, what: str, case: str) -> None:
    """float64 in (or integers in), float64 out."""
    expect_equal(got.dtype, np.dtype(np.float64), what=f"the dtype of {what}", case=case, show=str,
                 hint="compute and return float64, NumPy's default; do not convert the result.")


# --------------------------------------------------------------------------- sigmoid

_SIGMOID_HINT = ("e^{−z} overflows for z = −1000 (and e^{z} for z = +1000). Use e^{−|z|}, which is always "
                 "in (0, 1]: σ(z) = 1/(1 + e^{−|z|}) for z ≥ 0 and e^{−|z|}/(1 + e^{−|z|}) for z < 0. "
                 "np.where evaluates both branches on every entry, so each branch must be safe by itself.")


def _sigmoid_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    yield "z of shape (7,) from −6 to 6", np.linspace(-6.0, 6.0, 7)
    yield "z of shape (3, 4)", 3 * rng.standard_normal((3, 4))
    yield "extreme z = [−1000, −50, 0, 50, 1000]", np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    if hidden:
        yield "z of shape (2, 3, 2)", 5 * rng.standard_normal((2, 3, 2))
        yield "z of shape (1,)", np.array([-745.5])
        yield "huge |z| of shape (4, 5)", 1e4 * rng.standard_normal((4, 5))
        yield "integer z = [[−3, 0, 2], [40, −1, 7]]", np.array([[-3, 0, 2], [40, -1, 7]])
        yield "z transposed (a (4, 3) array's .T)", (3 * rng.standard_normal((4, 3))).T
        yield "z read with a stride (a non-contiguous view)", (4 * rng.standard_normal(12))[::3]
        yield "a 0-d array z = 0.7 (shape ())", np.array(0.7)


@exercise("sigmoid")
def check_sigmoid(sigmoid: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``sigmoid(z) -> σ(z)`` (same shape as z): right values, no overflow for any z."""
    run = CheckRun("sigmoid", hidden)
    for case, z in run.cases(_sigmoid_cases(hidden)):
        with run.case():
            got = call_strict(sigmoid, z, name="sigmoid", hint=_SIGMOID_HINT)
            expected = ref.sigmoid(z)
            with np.errstate(all="ignore"):
                mistakes = [
                    Mistake(1 / (1 + np.exp(z)), "the sign of the exponent is flipped: σ(z) = 1/(1 + e^{−z})."),
                    Mistake(np.tanh(z), "that is tanh; σ(z) = 1/(1 + e^{−z}) lies in (0, 1)."),
                    Mistake(np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))),
                            "for z ≥ 0 use 1/(1 + e^{−|z|}); e^{−|z|}/(1 + e^{−|z|}) is σ(−|z|)."),
                    *precision_mistakes(expected, (z,)),
                ]
            expect_array(got, expected, what="sigmoid(z)", case=case, rtol=1e-9, atol=1e-12,
                         mistakes=mistakes, nonfinite_hint=_SIGMOID_HINT)
            expect_float64(got, "sigmoid(z)", case)
    run.passed()


# --------------------------------------------------------------------------- ELU derivative


def _elu_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, float, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    shapes = [(3, 4), (2, 3, 2)]
    alphas = [1.0, 0.5]
    if hidden:
        shapes += [(1, 1), (6,)]
        alphas += [2.0, 0.1]
    for shape, alpha in zip(shapes, alphas):
        x = 2 * rng.standard_normal(shape)
        x.flat[::4] = 0.0  # the kink: the left derivative α·e⁰ = α is the convention (as PyTorch)
        yield f"x of shape {shape}, α = {alpha}", x, alpha, rng.standard_normal(shape)
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    yield "extreme x = [−1000, −30, 0, 30, 1000], α = 0.5", x, 0.5, rng.standard_normal(5)
    if hidden:
        x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
        yield "α = 0 (ELU′ is 0 for x ≤ 0), x = [−2, −0.5, 0, 0.5, 2]", x, 0.0, rng.standard_normal(5)
        yield "integer x = [−3, −1, 0, 2]", np.array([-3, -1, 0, 2]), 1.0, rng.standard_normal(4)
        x, dout = (2 * rng.standard_normal((4, 3))).T, rng.standard_normal((6, 4))[::2]
        x[0, 0] = 0.0
        yield "x transposed, dout strided (non-contiguous arrays), α = 1.5", x, 1.5, dout


@exercise("elu_backward")
def check_elu_backward(elu_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``elu_backward(dout, cache) -> dx`` with cache = (x, α)."""
    hint = ("e^{x} overflows for x = 1000 even in the branch np.where does not keep: "
            "exponentiate np.minimum(x, 0) instead.")
    run = CheckRun("elu_backward", hidden)
    for case, x, alpha, dout in run.cases(_elu_cases(hidden)):
        with run.case():
            _, cache = ref.elu_forward(x, alpha)
            got = call_strict(elu_backward, dout, cache, name="elu_backward", hint=hint)
            expected = ref.elu_backward(dout, cache)
            with np.errstate(all="ignore"):
                e = np.exp(np.minimum(x, 0))
                mistakes = [
                    Mistake(np.where(x > 0, 1.0, alpha * e), "multiply by dout: dx = dout · ELU′(x) (chain rule)."),
                    Mistake(dout * np.where(x > 0, 1.0, e), "the negative branch of ELU′ is α·e^{x}: multiply by α."),
                    Mistake(dout * np.where(x > 0, 1.0, alpha * (e - 1)),
                            "that is ELU itself on the negative side; its derivative is α·e^{x} (the −1 disappears)."),
                    Mistake(dout * np.where(x >= 0, 1.0, alpha * e),
                            "at x = 0 use the left derivative α·e⁰ = α (the x > 0 mask), as PyTorch does."),
                    Mistake(dout * np.where(x > 0, 1.0, alpha), "that is leaky ReLU's derivative; ELU′(x) = α·e^{x} for x ≤ 0."),
                    Mistake(dout * np.where(x > 0, 1.0, e) if alpha == 0 else None,
                            "α = 0 is a valid α (ELU becomes ReLU): do not replace it by a default "
                            "(`alpha or 1.0` treats 0 as missing)."),
                    *precision_mistakes(expected, ()),
                ]
            expect_array(got, expected, what="elu_backward's dx", case=case, **GRAD_TOL, mistakes=mistakes,
                         nonfinite_hint=hint)
            expect_float64(got, "elu_backward's dx", case)
    run.passed()


# --------------------------------------------------------------------------- perceptron


def _perceptron_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, float]]:
    rng = case_rng(hidden, SALT)
    yield "the lecture's example x = [[−1, 2]], w = [3, −2], w₀ = 1", np.array([[-1.0, 2.0]]), np.array([3.0, -2.0]), 1.0
    yield "x of shape (5, 3)", rng.standard_normal((5, 3)), rng.standard_normal(3), 0.5
    if hidden:
        yield "x of shape (1, 1)", rng.standard_normal((1, 1)), rng.standard_normal(1), -2.0
        yield "x of shape (8, 6)", rng.standard_normal((8, 6)), rng.standard_normal(6), float(rng.standard_normal())
        yield "large weights (saturation)", rng.standard_normal((4, 2)), np.array([400.0, -900.0]), 3.0
        yield "integer x, w and w₀", np.array([[1, -2], [0, 3], [2, 2]]), np.array([2, 1]), -1
        yield "x transposed (a (3, 4) array's .T)", rng.standard_normal((3, 4)).T, rng.standard_normal(3), 0.2
        yield "z = w₀ + x·w exactly 0 for every example (σ(0) = 0.5)", np.array([[1.0, 1.0], [2.0, 2.0]]), \
            np.array([1.0, -1.0]), 0.0


@exercise("perceptron")
def check_perceptron(perceptron: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``perceptron(x, w, w0) -> σ(w0 + x·w)``, x (N, D), w (D,) → (N,)."""
    run = CheckRun("perceptron", hidden)
    for case, x, w, w0 in run.cases(_perceptron_cases(hidden)):
        with run.case():
            got = call_strict(perceptron, x, w, w0, name="perceptron", hint=_SIGMOID_HINT)
            expected = ref.perceptron(x, w, w0)
            z = w0 + x @ w
            expect_array(got, expected, what="perceptron(x, w, w0)", case=case, rtol=1e-9, atol=1e-12, mistakes=[
                Mistake(z, "apply the activation: ŷ = g(z) with g the sigmoid, not z itself."),
                Mistake(ref.sigmoid(x @ w), "add the bias w₀: z = w₀ + Σ_j x_j w_j."),
                Mistake(ref.sigmoid(x @ w - w0), "the bias is added, z = w₀ + x·w, not subtracted."),
                Mistake((z > 0).astype(float), "use the sigmoid σ(z), not a hard step."),
                Mistake(z.reshape(-1, 1), "return one output per example, shape (N,)."),
                Mistake(ref.sigmoid(z).reshape(-1, 1), "return shape (N,), not (N, 1): use x @ w with w of shape (D,)."),
                *precision_mistakes(expected, (x, w)),
            ])
            expect_float64(got, "perceptron(x, w, w0)", case)
    run.passed()


# --------------------------------------------------------------------------- dense layer


def _dense_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray, str]]:
    rng = case_rng(hidden, SALT)
    dims = [(4, 3, 3, "relu"), (5, 4, 2, "sigmoid"), (3, 2, 4, "tanh"), (2, 3, 3, "linear")]
    if hidden:
        dims += [(1, 5, 1, "relu"), (7, 6, 6, "sigmoid"), (int(rng.integers(2, 9)), 4, 5, "tanh")]
    for n, d, m, act in dims:
        yield (f"x of shape {(n, d)}, W of shape {(d, m)}, activation {act!r}",
               rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal(m), act)
    if hidden:
        yield ("activation not given (the default, 'relu'), x of shape (3, 2)", rng.standard_normal((3, 2)),
               rng.standard_normal((2, 4)), rng.standard_normal(4), None)
        yield ("integer x, W, b, activation 'sigmoid'", np.array([[1, 0], [-2, 3]]), np.array([[1, -1, 2], [0, 1, 1]]),
               np.array([0, 1, -1]), "sigmoid")
        yield ("W transposed (a (4, 3) array's .T), activation 'tanh'", rng.standard_normal((2, 3)),
               rng.standard_normal((4, 3)).T, rng.standard_normal(4), "tanh")
        zeros_w = rng.standard_normal((3, 4))
        zeros_w[:, ::2] = 0.0
        yield ("pre-activations exactly 0 in half the units (ReLU at its kink), activation 'relu'",
               rng.standard_normal((2, 3)), zeros_w, np.zeros(4), "relu")


@exercise("dense_forward")
def check_dense_forward(dense_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dense_forward(x, W, b, activation="relu") -> g(xW + b)`` of shape (N, M)."""
    run = CheckRun("dense_forward", hidden)
    for case, x, w, b, given in run.cases(_dense_cases(hidden)):
        with run.case():
            act = "relu" if given is None else given
            args = (x, w, b) if given is None else (x, w, b, given)
            got = call_student(dense_forward, *args, name="dense_forward")
            if isinstance(got, tuple):
                raise CheckFailure(f"dense_forward should return the array g(xW + b) only, got a tuple ({case}).")
            expected, _ = ref.dense_forward(x, w, b, act)
            g = lambda z: ref.activation_forward(z, act)[0]  # noqa: E731
            mistakes = [
                Mistake(g(x @ w), "add the bias b before the activation: out = g(xW + b)."),
                Mistake(g(x @ w) + b, "add the bias *before* the activation: out = g(xW + b), not g(xW) + b."),
            ]
            if act != "linear":
                mistakes.append(Mistake(x @ w + b, f"apply the activation {act!r} to xW + b.", name="no activation"))
            if w.shape[0] == w.shape[1]:
                mistakes.append(Mistake(g(x @ w.T + b), "W has shape (D, M): compute x @ W, not x @ W.T."))
            mistakes += [
                Mistake(x @ w + b if given is None else None, "called without an activation, dense_forward applies "
                        "its documented default, ReLU (activation=\"relu\" in the signature)."),
                *precision_mistakes(expected, (x, w, b)),
            ]
            what = "dense_forward(x, W, b)" if given is None else f"dense_forward(x, W, b, {act!r})"
            expect_array(got, expected, what=what, case=case, rtol=1e-9, atol=1e-12, mistakes=mistakes)
            expect_float64(got, what, case)
    run.passed()


# --------------------------------------------------------------------------- MLP


def _layers(rng: np.random.Generator, dims: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rng.standard_normal((a, b)) / np.sqrt(a), rng.standard_normal(b)) for a, b in zip(dims[:-1], dims[1:])]


def _mlp_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, list[tuple[np.ndarray, np.ndarray]], str]]:
    rng = case_rng(hidden, SALT)
    specs = [([2, 4, 3], 5, "relu"), ([3, 5, 4, 2], 4, "tanh"), ([2, 3, 3, 3, 1], 3, "sigmoid")]
    if hidden:
        specs += [([4, 1], 2, "relu"), ([1, 6, 1], 1, "relu"), ([5, 3, 4, 3, 2, 2], 6, "tanh")]
    for dims, n, act in specs:
        yield f"layer sizes {dims}, N = {n}, activation {act!r}", rng.standard_normal((n, dims[0])), _layers(rng, dims), act
    if hidden:
        yield ("layer sizes [3, 4, 2], activation not given (the default, 'relu')", rng.standard_normal((4, 3)),
               _layers(rng, [3, 4, 2]), None)
        yield ("integer x and weights, layer sizes [2, 3, 1], activation 'tanh'", np.array([[1, 2], [0, -1]]),
               [(np.array([[1, 0, -1], [2, 1, 0]]), np.array([0, 1, 1])), (np.array([[1], [-1], [2]]), np.array([3]))],
               "tanh")
        yield ("transposed weight arrays, layer sizes [3, 5, 2], activation 'relu'", rng.standard_normal((2, 3)),
               [(rng.standard_normal((5, 3)).T, rng.standard_normal(5)), (rng.standard_normal((2, 5)).T,
                                                                          rng.standard_normal(2))], "relu")


@exercise("mlp_forward")
def check_mlp_forward(mlp_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``mlp_forward(x, layers, activation="relu") -> scores`` (last layer linear)."""
    run = CheckRun("mlp_forward", hidden)
    for case, x, layers, given in run.cases(_mlp_cases(hidden)):
        with run.case():
            act = "relu" if given is None else given
            args = (x, layers) if given is None else (x, layers, given)
            got = call_student(mlp_forward, *args, name="mlp_forward")
            expected = ref.mlp_forward(x, layers, act)
            mistakes = [
                Mistake(ref.mlp_forward(x, layers, act, output_activation=act),
                        "the last layer is linear (raw scores): apply the activation to hidden layers only."),
                Mistake(ref.mlp_forward(x, layers, "linear"), f"apply {act!r} after every hidden layer.",
                        name="no activation"),
                *(Mistake(value, "the last layer is missing: loop over all layers, and leave only the last one linear.")
                  for value in (ref.mlp_forward(x, layers[:-1], act),
                                ref.mlp_forward(x, layers[:-1], act, output_activation=act))),
            ]
            if len(layers) > 2:
                first = ref.activation_forward(x @ layers[0][0] + layers[0][1], act)[0]
                mistakes.append(Mistake(ref.mlp_forward(first, layers[1:], "linear"),
                                        "the activation must follow every hidden layer, not only the first."))
            mistakes += [
                Mistake(ref.mlp_forward(x, layers, "linear") if given is None else None,
                        "called without an activation, mlp_forward applies its documented default, ReLU "
                        "(activation=\"relu\" in the signature), after every hidden layer."),
                *precision_mistakes(expected, (x,)),
            ]
            expect_array(got, expected, what="mlp_forward(x, layers)", case=case, rtol=1e-9, atol=1e-12,
                         mistakes=mistakes)
            expect_float64(got, "mlp_forward(x, layers)", case)
    run.passed()


# --------------------------------------------------------------------------- XOR

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


@exercise("xor_network")
def check_xor_network(xor_network: Callable[[], Any], hidden: bool = False) -> None:
    """Check ``xor_network() -> layers`` such that a ReLU MLP with them outputs XOR (> 0.5 means 1).

    Hidden mode also requires a margin: outputs within 0.25 of their targets, robust to input
    noise of ±0.05 (a network that is right only by luck on the four corners fails).
    """
    layers = call_student(xor_network, name="xor_network")
    if not isinstance(layers, (list, tuple)) or not all(isinstance(l, (list, tuple)) and len(l) == 2 for l in layers):
        raise CheckFailure("xor_network should return a list of (W, b) pairs, e.g. [(W1, b1), (W2, b2)].")
    layers = [(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in layers]
    dims_ok = layers[0][0].ndim == 2 and layers[0][0].shape[0] == 2 and layers[-1][0].shape[-1] == 1
    for (w, b), nxt in zip(layers, layers[1:] + [None]):
        dims_ok &= w.ndim == 2 and b.shape == (w.shape[1],) and (nxt is None or nxt[0].shape[0] == w.shape[1])
    if not dims_ok:
        shapes = [(w.shape, b.shape) for w, b in layers]
        raise CheckFailure(f"the layer shapes {shapes} do not chain: the first W needs 2 rows (two inputs), "
                           "each b as many entries as its W has columns, and the last W one column (one output).")
    if len(layers) == 1:
        raise CheckFailure("one layer is a linear model (a single line), which cannot separate XOR: "
                           "add a hidden layer with ReLU.")
    out = ref.mlp_forward(XOR_X, layers, "relu").ravel()
    # digits enough to show which side of the 0.5 threshold an output is on
    shown = [format_pair(v, 0.5, digits=3)[0] for v in out]
    wrong = [f"x = {XOR_X[i].astype(int).tolist()} gives {shown[i]}, target {int(XOR_Y[i])}"
             for i in range(4) if (out[i] > 0.5) != bool(XOR_Y[i])]
    if wrong:
        raise CheckFailure("your network gets XOR wrong: " + "; ".join(wrong) + ". (Output > 0.5 counts as 1.)")
    n = 1
    if hidden:
        far = np.abs(out - XOR_Y) > 0.25
        if far.any():
            raise CheckFailure(f"the outputs {np.round(out, 3).tolist()} are right but too close to the threshold: "
                               "make each within 0.25 of its target 0 or 1.")
        rng = case_rng(True, SALT)
        noisy = np.repeat(XOR_X, 25, axis=0) + rng.uniform(-0.05, 0.05, size=(100, 2))
        ok = (ref.mlp_forward(noisy, layers, "relu").ravel() > 0.5) == np.repeat(XOR_Y, 25).astype(bool)
        if not ok.all():
            raise CheckFailure("the network flips its answer when the inputs move by ±0.05: the XOR solution "
                               "should be robust, not balanced on a knife's edge.")
        n = 2
    passed("xor_network", n, hidden)


# --------------------------------------------------------------------------- linear collapse


def _collapse_cases(hidden: bool) -> Iterator[tuple[str, list[tuple[np.ndarray, np.ndarray]]]]:
    rng = case_rng(hidden, SALT)
    specs = [[3, 3, 3, 3], [2, 4, 3], [4, 2, 5, 1]]
    if hidden:
        specs += [[3, 2], [2, 2, 2, 2, 2, 2], [5, 1, 4]]
    for dims in specs:
        yield f"layer sizes {dims}", [(rng.standard_normal((a, b)), rng.standard_normal(b)) for a, b in zip(dims[:-1], dims[1:])]
    if hidden:
        yield "transposed weight arrays, layer sizes [3, 4, 2]", [
            (rng.standard_normal((4, 3)).T, rng.standard_normal(4)), (rng.standard_normal((2, 4)).T, rng.standard_normal(2))]
        yield "integer weights and biases, layer sizes [2, 2, 3]", [
            (np.array([[1, 2], [0, -1]]), np.array([1, 0])), (np.array([[2, 0, 1], [1, 1, -1]]), np.array([0, 3, 1]))]


@exercise("collapse_linear")
def check_collapse_linear(collapse_linear: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``collapse_linear(layers) -> (W_c, b_c)``, the one affine map equal to linear layers."""
    run = CheckRun("collapse_linear", hidden)
    for case, layers in run.cases(_collapse_cases(hidden)):
        with run.case():
            result = call_student(collapse_linear, layers, name="collapse_linear")
            w_c, b_c = unpack(result, 2, name="collapse_linear", names=("W_c", "b_c"))
            e_w, e_b = ref.collapse_linear(layers)
            ws = [w for w, _ in layers]
            rev = ws[-1]
            for w in reversed(ws[:-1]):
                rev = rev @ w if rev.shape[1] == w.shape[0] else rev
            w_mistakes = [Mistake(ws[0], "multiply all the weight matrices: W_c = W₀ W₁ ⋯ W_{L−1}.")]
            if all(w.shape[0] == w.shape[1] for w in ws):
                w_mistakes.append(Mistake(rev, "the order matters: with row vectors x W₀ comes first, so "
                                          "W_c = W₀ W₁ ⋯ W_{L−1} (the lecture's W₃W₂W₁ is the column-vector form)."))
            expect_array(w_c, e_w, what="W_c", case=case, rtol=1e-9, atol=1e-10, mistakes=w_mistakes)
            _expect_not_aliased(w_c, "W_c", layers, case)
            try:
                summed = sum(b for _, b in layers)
            except ValueError:
                summed = None  # the shapes do not broadcast: that mistake crashes instead
            expect_array(b_c, e_b, what="b_c", case=case, rtol=1e-9, atol=1e-10, mistakes=[
                Mistake(layers[-1][1], "the earlier biases count too: each one is carried through the "
                        "weights after it, b_c = (⋯(b₀W₁ + b₁)W₂ + ⋯) + b_{L−1}."),
                Mistake(np.zeros_like(e_b), "the biases do not vanish: b_c = (⋯(b₀W₁ + b₁)W₂ + ⋯) + b_{L−1}."),
                Mistake(summed,
                        "a bias that enters early is multiplied by every later W: b_c = (⋯(b₀W₁ + b₁)W₂ + ⋯)."),
            ])
            _expect_not_aliased(b_c, "b_c", layers, case)
    run.passed()


def _expect_not_aliased(got: np.ndarray, what: str, layers: list[tuple[np.ndarray, np.ndarray]], case: str) -> None:
    """The collapsed map is new: it must not be (a view of) a layer's array, which the caller may later update."""
    for k, (w, b) in enumerate(layers):
        for name, arr in ((f"W_{k}", w), (f"b_{k}", b)):
            if np.may_share_memory(got, arr):
                raise CheckFailure(
                    f"{what} is the array {name} of the layers itself (it shares its memory) ({case}). Return new "
                    f"arrays (e.g. W.copy()): a training step that later updates the layer in place would "
                    f"otherwise change the collapsed map too, but only when there is a single layer.")
