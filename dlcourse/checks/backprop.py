"""Checks for lecture 04-backprop.

Each ``check_*`` takes the student's function and ``hidden``; public cases are small and fixed,
hidden ones add random shapes (batch of one, higher-rank inputs), extreme values and
finite-difference gradient checks, and the inputs real code meets: integer arrays where integers
are valid (pixel values, labels, the lecture's worked example), transposed (non-contiguous)
arrays, exact zeros at ReLU's kink, batches whose labels miss classes, a learning rate of 0,
documented defaults, float64 in and float64 out, and the cache/parameter contract (new arrays,
nothing aliased). Expected values come from :mod:`dlcourse.ref`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import (
    CheckRun,
    Mistake,
    expect_array,
    expect_float64_like,
    expect_scalar,
    truncated_mistake,
)
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import (
    GRAD_TOL,
    expect_backward_matches_finite_differences,
    expect_matches_finite_differences,
)
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_linear_net_grads",
    "check_affine_forward",
    "check_affine_backward",
    "check_relu_backward",
    "check_sigmoid_backward",
    "check_tanh_backward",
    "check_softmax_cross_entropy",
    "check_numerical_gradient",
    "check_rel_error",
    "check_two_layer_net",
    "check_gradient_descent",
]

SALT = 20_404  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

Case = tuple[str, tuple[np.ndarray, ...]]

# Integer inputs are valid (pixel values, the lecture's all-ones example): an array made with
# np.zeros_like(x) / np.empty(..., dtype=x.dtype) is then an integer array, and the float
# results written into it are cut to whole numbers.
_TRUNCATED = ("the input is an integer array here, and your result looks cut to whole numbers: an array made "
              "with np.zeros_like(x) (or dtype=x.dtype) has the input's integer dtype. Create float arrays "
              "(np.zeros(shape)) or compute the result directly (e.g. dout * mask).")


# --------------------------------------------------------------------------- the worked example


def _linear_net_cases(hidden: bool) -> Iterator[tuple[str, tuple[np.ndarray, ...]]]:
    rng = case_rng(hidden, SALT)
    ones = (np.ones((2, 3)), np.ones(3), np.ones((3, 1)), np.ones(1))
    yield "the lecture's example: x = (1, 1), y = 0, every weight and bias 1", \
        (np.array([[1.0, 1.0]]), np.array([[0.0]]), *ones)
    dims = [(4, 3, 5, 2)]  # (N, D, H, K)
    if hidden:
        yield "the lecture's example written with integers", \
            (np.array([[1, 1]]), np.array([[0]]), *(np.ones(a.shape, dtype=int) for a in ones))
        dims += [(1, 2, 3, 1), (6, 1, 1, 1), (int(rng.integers(2, 9)), 4, int(rng.integers(1, 6)), 3)]
    for n, d, h, k in dims:
        args = (rng.standard_normal((n, d)), rng.standard_normal((n, k)), rng.standard_normal((d, h)),
                rng.standard_normal(h), rng.standard_normal((h, k)), rng.standard_normal(k))
        yield f"N={n}, D={d}, H={h}, K={k}", args
    if hidden:
        n, d, h, k = 5, 3, 4, 2
        x = rng.standard_normal((d, n)).T  # a transposed view: not contiguous
        W0 = np.asfortranarray(rng.standard_normal((d, h)))
        yield f"x and W0 transposed in memory, N={n}, D={d}, H={h}, K={k}", \
            (x, rng.standard_normal((n, k)), W0, rng.standard_normal(h), rng.standard_normal((h, k)), rng.standard_normal(k))


@exercise("linear_net_grads")
def check_linear_net_grads(linear_net_grads: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``linear_net_grads(x, y, W0, b0, W1, b1) -> (loss, grads)`` of the lecture's linear network."""
    run = CheckRun("linear_net_grads", hidden)
    for case, args in run.cases(_linear_net_cases(hidden)):
        with run.case():
            result = call_student(linear_net_grads, *args, name="linear_net_grads")
            loss, grads = unpack(result, 2, name="linear_net_grads", names=("loss", "grads"))
            e_loss, e_grads = ref.linear_net_grads(*args)
            x, y, W0, b0, W1, b1 = (np.asarray(a, dtype=np.float64) for a in args)
            n = x.shape[0]
            a = x @ W0 + b0
            err = a @ W1 + b1 - y  # ŷ − y
            expect_scalar(loss, e_loss, what="loss", case=case, mistakes=[
                Mistake(e_loss * n, "the loss is summed over the batch; take the mean (divide by N)."),
                Mistake(2 * e_loss, "L = ½(ŷ − y)² (averaged over the batch): don't drop the ½."),
                Mistake(0.5 * np.sum(err ** 2, axis=1), "return one number: the mean over the batch of ½‖ŷ − y‖²."),
            ])
            if not isinstance(grads, dict) or set(grads) != {"W0", "b0", "W1", "b1"}:
                keys = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
                raise CheckFailure(f"grads should be a dict with the keys W0, b0, W1, b1; got {keys} ({case}).")
            delta = err / n
            ints = not np.issubdtype(np.asarray(args[0]).dtype, np.floating)
            for key in ("W1", "b1", "W0", "b0"):
                wrong = {"summed": {k: v * n for k, v in e_grads.items()},
                         "sign": {k: -v for k, v in e_grads.items()},
                         "no W1": {"W0": x.T @ delta, "b0": delta.sum(axis=0)} if W1.shape[0] == W1.shape[1] else {}}
                expect_array(grads[key], e_grads[key], what=f"grads['{key}']", case=case, **GRAD_TOL, mistakes=[
                    Mistake(wrong["summed"][key], "the gradient is N times too large: the loss is a mean over the "
                            "batch, so δ = (ŷ − y)/N."),
                    Mistake(wrong["sign"][key], "the sign is flipped: δ = ∂L/∂ŷ = ŷ − y (prediction minus target)."),
                    Mistake(wrong["no W1"].get(key), "the error reaches the hidden layer through W1: "
                            "∂L/∂a = δ·W1ᵀ before it meets x."),
                    Mistake(np.asarray(e_grads[key]).T if np.ndim(e_grads[key]) == 2 else None,
                            f"grads['{key}'] is transposed: a gradient has the shape of its parameter."),
                    Mistake({"b1": delta, "b0": delta @ W1.T}.get(key),
                            "a bias gradient sums over the batch: every example uses the same bias."),
                    truncated_mistake(e_grads[key], ints, _TRUNCATED),
                ])
                if not ints:  # float64 in, float64 out (from integer inputs any exact answer will do)
                    expect_float64_like(grads[key], e_grads[key], what=f"grads['{key}']", case=case)
    run.passed()


# --------------------------------------------------------------------------- affine


def _affine_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    shapes = [((2, 4), 3), ((3, 2, 3), 5)]  # (x shape, M): a plain batch and a 3-D one to flatten
    if hidden:
        shapes += [((1, 6), 2), ((4, 2, 2, 3), 1), ((int(rng.integers(2, 9)), int(rng.integers(1, 7))), 7)]
    for x_shape, m in shapes:
        d = int(np.prod(x_shape[1:]))
        x = rng.standard_normal(x_shape)
        w = rng.standard_normal((d, m))
        b = rng.standard_normal(m)
        yield f"x of shape {x_shape}, w of shape {w.shape}", (x, w, b)
    if hidden:
        x = rng.integers(0, 256, size=(3, 2, 2))  # pixel values: integers are valid input
        yield "integer x (pixel values 0–255) of shape (3, 2, 2), w of shape (4, 3)", \
            (x, 0.01 * rng.standard_normal((4, 3)), rng.standard_normal(3))
        x = rng.standard_normal((2, 3, 4)).transpose(2, 0, 1)  # not contiguous
        yield "x of shape (4, 2, 3), a transposed (non-contiguous) array", \
            (x, np.asfortranarray(rng.standard_normal((6, 2))), rng.standard_normal(2))


@exercise("affine_forward")
def check_affine_forward(affine_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``affine_forward(x, w, b) -> (out, cache)`` with cache = (x, w, b)."""
    run = CheckRun("affine_forward", hidden)
    for case, (x, w, b) in run.cases(_affine_cases(hidden)):
        with run.case():
            result = call_student(affine_forward, x, w, b, name="affine_forward")
            out, cache = unpack(result, 2, name="affine_forward", names=("out", "cache"))
            expected, _ = ref.affine_forward(x, w, b)
            x2 = x.reshape(x.shape[0], -1)
            expect_array(out, expected, what="affine_forward's out", case=case, mistakes=[
                Mistake(x2 @ w, "out equals x̃·w: the bias b is missing."),
                Mistake(x2 @ w - b, "the bias is subtracted; out = x̃·w + b."),
                Mistake(expected.T, "out should have one row per example, shape (N, M): compute x̃·w, not wᵀ·x̃ᵀ."),
                truncated_mistake(expected, x.dtype.kind in "iu", _TRUNCATED),
            ])
            expect_float64_like(out, expected, what="affine_forward's out", case=case)
            _expect_affine_cache(cache, x, w, b, case)
    run.passed()


def _expect_affine_cache(cache: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray, case: str) -> None:
    contract = "cache should be the tuple (x, w, b) of the inputs, as affine_backward expects"
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        raise CheckFailure(f"affine_forward's {contract}; got {type(cache).__name__} ({case}).")
    for name, got, want in zip("xwb", cache, (x, w, b)):
        if not isinstance(got, np.ndarray) or got.shape != want.shape or not np.array_equal(got, want):
            raise CheckFailure(f"affine_forward's {contract}: item `{name}` differs from the input {name} ({case}).")


def _affine_backward_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    for case, (x, w, b) in _affine_cases(hidden):
        dout = rng.standard_normal((x.shape[0], w.shape[1]))
        yield case, (x, w, b, dout)


@exercise("affine_backward")
def check_affine_backward(affine_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``affine_backward(dout, cache) -> (dx, dw, db)`` with cache = (x, w, b)."""
    run = CheckRun("affine_backward", hidden)
    for case, (x, w, b, dout) in run.cases(_affine_backward_cases(hidden)):
        with run.case():
            result = call_student(affine_backward, dout, (x, w, b), name="affine_backward")
            dx, dw, db = unpack(result, 3, name="affine_backward", names=("dx", "dw", "db"))
            edx, edw, edb = ref.affine_backward(dout, (x, w, b))
            x2 = x.reshape(x.shape[0], -1)
            batch = x.shape[0]
            ints = x.dtype.kind in "iu"
            expect_array(dx, edx, what="dx", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout @ w.T, "dx must have the shape of x: reshape dout·wᵀ back to x.shape."),
                Mistake((dout @ w.T).T, "dx is transposed: dx = dout·wᵀ, one row per example."),
                truncated_mistake(edx, ints, _TRUNCATED),
            ])
            expect_array(dw, edw, what="dw", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout.T @ x2, "dw is transposed: dw = x̃ᵀ·dout has w's shape (D, M)."),
                Mistake(edw / batch, "dw is divided by N; the 1/N of the loss is already inside dout."),
            ])
            expect_array(db, edb, what="db", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout.mean(axis=0), "db is averaged; sum dout over the batch (the 1/N is already in dout)."),
                Mistake(dout, "db must be summed over the batch: every example uses the same b, so its gradients add up."),
                Mistake(dout.sum(axis=1), "db is summed over the wrong axis: sum over examples, axis 0."),
            ])
            for label, got, want in (("dx", dx, edx), ("dw", dw, edw), ("db", db, edb)):
                expect_float64_like(got, want, what=label, case=case)
            if hidden:
                expect_backward_matches_finite_differences(
                    "affine_backward", lambda xx, ww, bb: ref.affine_forward(xx, ww, bb)[0],
                    (x.astype(np.float64), w, b), dout, (dx, dw, db), ("dx", "dw", "db"), case=case)
    run.passed()


# --------------------------------------------------------------------------- activations


def _activation_cases(hidden: bool, with_zeros: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    shapes = [(3, 4), (2, 3, 2)]
    if hidden:
        shapes += [(1, 1), (5,), (2, 2, 2, 3)]
    for shape in shapes:
        x = rng.standard_normal(shape) * 2
        if with_zeros:
            x.flat[:: 3] = 0.0  # ReLU's kink: the convention there is part of the answer.
        dout = rng.standard_normal(shape)
        yield f"x of shape {shape}", x, dout
    if hidden:
        x = np.array([-50.0, -5.0, 0.0, 5.0, 50.0])  # σ(50) and tanh(50) are exactly 1.0
        yield "large |x| (saturation)", x, rng.standard_normal(x.shape)
        x = (rng.standard_normal((4, 3)) * 2).T  # transposed views: not contiguous
        if with_zeros:
            x[0] = 0.0
        yield "x and dout of shape (3, 4), transposed (non-contiguous) arrays", x, rng.standard_normal((4, 3)).T
        if with_zeros:
            yield "integer x of shape (2, 5) with zeros", rng.integers(-3, 4, size=(2, 5)), rng.standard_normal((2, 5))


def _check_activation_backward(
    name: str,
    student: Callable[..., Any],
    forward: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    mistakes: Callable[[np.ndarray, np.ndarray, np.ndarray], list[Mistake]],
    hidden: bool,
    with_zeros: bool = False,
) -> None:
    run = CheckRun(name, hidden)
    for case, x, dout in run.cases(_activation_cases(hidden, with_zeros)):
        with run.case():
            _, cache = forward(x)
            dx = call_student(student, dout, cache, name=name)
            expected = getattr(ref, name)(dout, cache)
            expect_array(dx, expected, what=f"{name}'s dx", case=case, **GRAD_TOL,
                         mistakes=[*mistakes(x, cache, dout), truncated_mistake(expected, x.dtype.kind in "iu", _TRUNCATED)])
            expect_float64_like(dx, expected, what=f"{name}'s dx", case=case)
    run.passed()


@exercise("relu_backward")
def check_relu_backward(relu_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``relu_backward(dout, cache) -> dx`` with cache = x."""
    def mistakes(x: np.ndarray, cache: np.ndarray, dout: np.ndarray) -> list[Mistake]:
        return [
            Mistake(dout * (x >= 0), "at x = 0 the gradient should be 0: use the mask x > 0 (as PyTorch does)."),
            Mistake((x > 0).astype(float), "multiply the mask by dout: the chain rule passes the upstream gradient through."),
            Mistake(dout * (dout > 0), "the mask comes from the layer's input x (the cache), not from dout."),
            Mistake(np.maximum(dout, 0), "the mask comes from the layer's input x (the cache), not from dout."),
        ]
    _check_activation_backward("relu_backward", relu_backward, ref.relu_forward, mistakes, hidden, with_zeros=True)


@exercise("sigmoid_backward")
def check_sigmoid_backward(sigmoid_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``sigmoid_backward(dout, cache) -> dx`` with cache = σ(x)."""
    def mistakes(x: np.ndarray, s: np.ndarray, dout: np.ndarray) -> list[Mistake]:
        ss = ref.sigmoid(s)
        return [
            Mistake(dout * ss * (1 - ss), "the cache already holds σ(x): use it directly instead of applying σ again."),
            Mistake(s * (1 - s), "multiply by dout: dx = dout · σ(x)(1 − σ(x))."),
            Mistake(dout * (1 - s * s), "that is tanh's derivative; σ'(x) = σ(x)(1 − σ(x))."),
            Mistake(dout * s, "σ'(x) = σ(x)(1 − σ(x)), not σ(x)."),
        ]
    _check_activation_backward("sigmoid_backward", sigmoid_backward, ref.sigmoid_forward, mistakes, hidden)


@exercise("tanh_backward")
def check_tanh_backward(tanh_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``tanh_backward(dout, cache) -> dx`` with cache = tanh(x)."""
    def mistakes(x: np.ndarray, t: np.ndarray, dout: np.ndarray) -> list[Mistake]:
        tt = np.tanh(t)
        return [
            Mistake(dout * (1 - t), "square the output: tanh'(x) = 1 − tanh(x)²."),
            Mistake(dout * (1 - tt * tt), "the cache already holds tanh(x): use it directly instead of applying tanh again."),
            Mistake(1 - t * t, "multiply by dout: dx = dout · (1 − tanh(x)²)."),
            Mistake(dout * t * (1 - t), "that is the sigmoid's derivative; tanh'(x) = 1 − tanh(x)²."),
        ]
    _check_activation_backward("tanh_backward", tanh_backward, ref.tanh_forward, mistakes, hidden)


# --------------------------------------------------------------------------- softmax cross-entropy


def _softmax_ce_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    dims = [(4, 3), (6, 5)]
    if hidden:
        dims += [(1, 4), (7, 2), (int(rng.integers(2, 12)), int(rng.integers(2, 12)))]
    for n, c in dims:
        yield f"scores of shape {(n, c)}", rng.standard_normal((n, c)) * 2, rng.integers(0, c, size=n)
    # Large logits: softmax of these is a valid distribution, but e^{1000} overflows.
    big = np.array([[1000.0, 999.0, 0.0], [-1000.0, 0.0, 1000.0], [500.0, 500.0, 500.0]])
    yield "large scores (±1000)", big, np.array([0, 1, 2])
    if hidden:
        huge = rng.standard_normal((5, 4)) * 1e4
        yield "huge scores (~1e4)", huge, rng.integers(0, 4, size=5)
        # A batch need not contain every class: C comes from the scores, not from the labels.
        yield "scores of shape (4, 5), every label 0 (classes 1–4 absent)", rng.standard_normal((4, 5)), np.zeros(4, int)
        yield "scores of shape (3, 6), labels 0 and 2 only", rng.standard_normal((3, 6)), np.array([2, 0, 2])
        yield "integer scores of shape (4, 3), int32 labels", rng.integers(-5, 6, size=(4, 3)), \
            rng.integers(0, 3, size=4).astype(np.int32)
        yield "scores of shape (5, 3), a transposed (non-contiguous) array", \
            rng.standard_normal((3, 5)).T * 2, rng.integers(0, 3, size=5)


@exercise("softmax_cross_entropy")
def check_softmax_cross_entropy(softmax_cross_entropy: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``softmax_cross_entropy(scores, y) -> (loss, dscores)`` (mean over the batch)."""
    run = CheckRun("softmax_cross_entropy", hidden)
    for case, scores, y in run.cases(_softmax_ce_cases(hidden)):
        with run.case():
            result = call_student(softmax_cross_entropy, scores, y, name="softmax_cross_entropy")
            loss, dscores = unpack(result, 2, name="softmax_cross_entropy", names=("loss", "dscores"))
            e_loss, e_d = ref.softmax_cross_entropy(scores, y)
            n = scores.shape[0]
            p = ref.softmax(scores, axis=1)
            per_example = -ref.log_softmax(scores, axis=1)[np.arange(n), y]
            unstable = ("e^s overflows for large scores: subtract each row's maximum before "
                        "exponentiating (it does not change the softmax), and compute the log-probabilities "
                        "directly as s − max − log Σ e^{s − max}; the log of a probability that underflowed "
                        "to 0 (or was clipped) gives a wrong loss.")
            # Right on ordinary scores but wrong on large ones: the formula is not stable.
            large = unstable if "large" in case or "huge" in case else ""
            expect_scalar(loss, e_loss, what="loss", case=case, nonfinite_hint=unstable, hint=large, mistakes=[
                Mistake(e_loss * n, "the loss is summed over examples; take the mean (divide by N)."),
                Mistake(per_example, "return one number: the mean of the per-example losses."),
                Mistake(e_loss * n / scores.size, "divide by the number of examples N, not by N·C."),
            ])
            expect_array(dscores, e_d, what="dscores", case=case, **GRAD_TOL, nonfinite_hint=unstable, hint=large,
                         mistakes=[
                Mistake(e_d * n, "dscores is N times too large: the loss is a mean, so divide the gradient by N too."),
                Mistake(-e_d, "the sign is flipped: ∂L/∂s = softmax(s) − onehot(y)."),
                Mistake(p / n, "subtract 1 at the correct class: ∂L/∂s = (softmax(s) − onehot(y)) / N."),
                Mistake(p - np.eye(scores.shape[1])[y], "divide by N: the loss is a mean over the batch."),
            ])
            expect_float64_like(dscores, e_d, what="dscores", case=case)
            if hidden and "huge" not in case:
                numeric = ref.numerical_gradient(lambda s: ref.softmax_cross_entropy(s, y)[0],
                                                 scores.astype(np.float64))
                expect_matches_finite_differences(dscores, numeric, what="dscores", case=case,
                                                  of="the reference loss")
    run.passed()


# --------------------------------------------------------------------------- numerical gradient


def _smooth(z: np.ndarray) -> float:
    """A smooth test function with a non-trivial third derivative (so forward differences show)."""
    return float(np.sum(np.sin(z) * z**2 + np.exp(0.3 * z)))


def _coupled(z: np.ndarray) -> float:
    """Couples entries, so a gradient that perturbs every entry at once is wrong."""
    return float(np.sum(z) ** 2 + np.sum(np.cos(z)))


@exercise("numerical_gradient")
def check_numerical_gradient(numerical_gradient: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``numerical_gradient(f, x, h=1e-5) -> grad`` (central differences, x restored)."""
    rng = case_rng(hidden, SALT)
    cases: list[tuple[str, Callable[[np.ndarray], float], np.ndarray, bool]] = [
        ("f(x) = Σ sin(x)x² + e^{0.3x}, x of shape (5,)", _smooth, rng.standard_normal(5), False),
        ("f(x) = (Σx)² + Σ cos x, x of shape (3, 4)", _coupled, rng.standard_normal((3, 4)), False),
        ("f reads x through a closure (like a loss reading its weights), x of shape (2, 3)",
         _smooth, rng.standard_normal((2, 3)), True),
    ]
    if hidden:
        cases += [
            ("x of shape (2, 3, 2)", _smooth, rng.standard_normal((2, 3, 2)), False),
            ("x of shape (1,)", _coupled, rng.standard_normal(1), False),
            ("closure, x of shape (4, 2)", _coupled, rng.standard_normal((4, 2)), True),
            # A transposed array: x.reshape(-1) and x.ravel() are copies of it, not views.
            ("closure, x of shape (4, 3), a transposed (non-contiguous) array", _smooth,
             rng.standard_normal((3, 4)).T, True),
            ("x of shape (3, 2), a transposed (non-contiguous) array", _coupled, rng.standard_normal((2, 3)).T, False),
        ]
    run = CheckRun("numerical_gradient", hidden)
    for case, func, x, closure in run.cases(cases):
        with run.case():
            original = x.copy()
            strided = not x.flags.c_contiguous
            if closure:
                def f(_: np.ndarray, func: Callable[[np.ndarray], float] = func, x: np.ndarray = x) -> float:
                    return func(x)
            else:
                f = func
            expected = ref.numerical_gradient(func, original.copy())
            h = 1e-5
            xc = original.copy()
            forward_diff = np.array([(func(xc + h * e.reshape(x.shape)) - func(xc)) / h for e in np.eye(x.size)]).reshape(x.shape)
            grad = call_student(numerical_gradient, f, x, name="numerical_gradient", allow_inplace=True)
            if not np.allclose(x, original, rtol=1e-12, atol=1e-14):
                raise CheckFailure(
                    f"numerical_gradient left x changed ({case}): restore every entry after perturbing it, "
                    f"e.g. save `old = x[i]` and finish with `x[i] = old`."
                )
            expect_array(grad, expected, what="the numerical gradient", case=case, rtol=1e-7, atol=1e-8, mistakes=[
                # Perturbing a copy of x is invisible only to an f that reads x through a closure.
                Mistake(np.zeros_like(expected) if closure else expected, "f did not see your perturbation: change "
                        "x itself in place (x[i] = old + h), because f may read x through a closure instead of its "
                        "argument."),
                Mistake(forward_diff, "that is a one-sided difference (f(x+h) − f(x))/h, accurate only to O(h); "
                        "use the central difference (f(x+h) − f(x−h)) / (2h)."),
                Mistake(2 * expected, "divide by 2h: the two evaluation points are 2h apart."),
                Mistake(expected / 2, "divide by 2h, not 4h."),
                Mistake(np.zeros_like(expected) if strided else None, "x is not contiguous here (a transposed array), "
                        "so x.reshape(-1) and x.ravel() return copies: writing into them does not perturb x. Index x "
                        "itself, e.g. `for i in np.ndindex(x.shape): x[i] = ...`.", partial=True),
            ])
            expect_float64_like(grad, expected, what="the numerical gradient", case=case)
    run.passed()


# --------------------------------------------------------------------------- two-layer network


TwoLayerCase = tuple[str, dict[str, np.ndarray], np.ndarray, np.ndarray, "float | None"]


def _two_layer_cases(hidden: bool) -> Iterator[TwoLayerCase]:
    """(case, params, X, y, reg); reg None: called without reg (its default, 0.0)."""
    rng = case_rng(hidden, SALT)
    dims: list[tuple[int, int, int, int, float | None]] = [(5, 4, 6, 3, 0.0), (5, 4, 6, 3, 0.3)]
    if hidden:
        dims += [(1, 3, 4, 2, 0.1), (8, 2, 10, 4, 0.05), (4, 3, 5, 3, None),
                 (int(rng.integers(2, 10)), int(rng.integers(2, 6)), int(rng.integers(2, 8)), 3, 0.2)]

    def draw(n: int, d: int, h: int, c: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        params = ref.init_two_layer(d, h, c, rng=rng)
        # Non-zero biases: otherwise a regularized bias or a missing bias gradient cannot show.
        params["b1"] = 0.5 * rng.standard_normal(h)
        params["b2"] = 0.5 * rng.standard_normal(c)
        return params, rng.standard_normal((n, d)), rng.integers(0, c, size=n)

    for n, d, h, c, reg in dims:
        params, X, y = draw(n, d, h, c)
        yield f"N={n}, D={d}, H={h}, C={c}, " + ("reg left at its default" if reg is None else f"reg={reg}"), \
            params, X, y, reg
    if hidden:
        params, X, _ = draw(3, 4, 6, 5)
        yield "N=3, C=5, labels 1 and 3 only (the other classes are absent), reg=0.1", params, X, np.array([3, 1, 3]), 0.1
        params, X, y = draw(4, 3, 6, 3)
        X[0], params["b1"][::2] = 0.0, 0.0  # example 0 reaches half the hidden units at exactly h = 0
        yield "N=4, some hidden pre-activations exactly 0 (ReLU's kink), reg=0.1", params, X, y, 0.1
        params, _, y = draw(5, 3, 4, 3)
        yield "integer X (pixel values 0–255), N=5, D=3, reg=0.1", params, rng.integers(0, 256, size=(5, 3)), y, 0.1
        params, _, y = draw(5, 4, 3, 2)
        yield "X of shape (5, 4), a transposed (non-contiguous) array, reg=0.2", \
            params, rng.standard_normal((4, 5)).T, y, 0.2


def _variant_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float, *,
                   relu_mask: bool = True, reg_factor: float = 1.0, reg_bias: bool = False,
                   mask_at_zero: bool = False) -> dict[str, np.ndarray]:
    """Gradients of the two-layer net with one known mistake switched on (for diagnostics)."""
    h, c1 = ref.affine_forward(X, params["W1"], params["b1"])
    a, _ = ref.relu_forward(h)
    s, c2 = ref.affine_forward(a, params["W2"], params["b2"])
    _, ds = ref.softmax_cross_entropy(s, y)
    da, dW2, db2 = ref.affine_backward(ds, c2)
    dh = (da * ((h >= 0) if mask_at_zero else (h > 0))) if relu_mask else da
    _, dW1, db1 = ref.affine_backward(dh, c1)
    g = {"W1": dW1 + reg_factor * reg * params["W1"], "b1": db1,
         "W2": dW2 + reg_factor * reg * params["W2"], "b2": db2}
    if reg_bias:
        g["b1"] = g["b1"] + reg * params["b1"]
        g["b2"] = g["b2"] + reg * params["b2"]
    return g


@exercise("two_layer_net")
def check_two_layer_net(two_layer_net: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``two_layer_net(params, X, y=None, reg=0.0)``: scores, or (loss, grads)."""
    run = CheckRun("two_layer_net", hidden)
    for case, params, X, y, given_reg in run.cases(_two_layer_cases(hidden)):
        with run.case():
            reg = 0.0 if given_reg is None else given_reg
            # Scores mode.
            scores = call_student(two_layer_net, params, X, name="two_layer_net")
            e_scores = ref.two_layer_net(params, X)
            hidden_linear = X @ params["W1"] + params["b1"]
            expect_array(scores, e_scores, what="two_layer_net(params, X)", case=case, mistakes=[
                Mistake(ref.softmax(e_scores), "with y=None return the raw class scores, not softmax probabilities."),
                Mistake(hidden_linear @ params["W2"] + params["b2"], "apply ReLU to the hidden layer."),
            ])
            # Loss-and-gradients mode.
            result = (call_student(two_layer_net, params, X, y, name="two_layer_net") if given_reg is None
                      else call_student(two_layer_net, params, X, y, reg=reg, name="two_layer_net"))
            loss, grads = unpack(result, 2, name="two_layer_net(params, X, y, reg)", names=("loss", "grads"))
            e_loss, e_grads = ref.two_layer_net(params, X, y, reg=reg)
            w2 = np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)
            b2 = np.sum(params["b1"] ** 2) + np.sum(params["b2"] ** 2)
            expect_scalar(loss, e_loss, what="loss", case=case, mistakes=[
                Mistake(e_loss + 0.5 * reg * w2, "the penalty is ½·reg·(‖W1‖² + ‖W2‖²): drop the factor 2 (or add the ½)."),
                Mistake(e_loss + 0.5 * reg * b2, "biases are not regularized: penalize W1 and W2 only."),
                Mistake(e_loss - 0.5 * reg * w2, "add the L2 penalty ½·reg·(‖W1‖² + ‖W2‖²) to the data loss."),
            ])
            if not isinstance(grads, dict):
                raise CheckFailure(f"grads should be a dict with keys W1, b1, W2, b2; got {type(grads).__name__} ({case}).")
            missing = sorted(set(params) - set(grads))
            if missing:
                raise CheckFailure(f"grads is missing {', '.join(missing)}: return a gradient for every parameter ({case}).")
            variants = {
                "double reg": _variant_grads(params, X, y, reg, reg_factor=2.0),
                "no reg": _variant_grads(params, X, y, reg, reg_factor=0.0),
                "reg bias": _variant_grads(params, X, y, reg, reg_bias=True),
                "no relu": _variant_grads(params, X, y, reg, relu_mask=False),
                "mask at 0": _variant_grads(params, X, y, reg, mask_at_zero=True) if "kink" in case else {},
            }
            for key in ("W2", "b2", "W1", "b1"):
                expect_array(grads[key], e_grads[key], what=f"grads['{key}']", case=case, **GRAD_TOL,
                             mistakes=[
                    Mistake(variants["double reg"][key], "the gradient of ½·reg·‖W‖² is reg·W, not 2·reg·W."),
                    Mistake(variants["no reg"][key], "add the penalty's gradient reg·W to each weight gradient."),
                    Mistake(variants["reg bias"][key], "biases are not regularized: their gradient has no reg term."),
                    Mistake(variants["no relu"][key], "backpropagate through the ReLU: zero the gradient where the "
                            "hidden pre-activation was ≤ 0."),
                    Mistake(np.asarray(e_grads[key]).T, f"grads['{key}'] is transposed: it must have the shape of params['{key}']."),
                    Mistake(variants["mask at 0"].get(key), "at h = 0 ReLU's gradient is 0 (as in relu_backward and "
                            "PyTorch): mask with h > 0, not h ≥ 0.", partial=True),
                ])
                expect_float64_like(grads[key], e_grads[key], what=f"grads['{key}']", case=case)
            # Finite differences straddle ReLU's kink (they average its two slopes): not there.
            if hidden and "kink" not in case:
                _expect_self_consistent(two_layer_net, params, X, y, reg, grads, case)
    run.passed()


def _expect_self_consistent(net: Callable[..., Any], params: dict[str, np.ndarray], X: np.ndarray,
                            y: np.ndarray, reg: float, grads: dict[str, np.ndarray], case: str) -> None:
    """The student's gradients must match finite differences of the student's own loss."""
    work = {k: v.copy() for k, v in params.items()}
    for key in ("W1", "b1", "W2", "b2"):
        def loss_of(_: np.ndarray) -> float:
            loss, _grads = call_student(net, work, X, y, reg=reg, name="two_layer_net")
            return float(loss)
        numeric = ref.numerical_gradient(loss_of, work[key])
        expect_matches_finite_differences(grads[key], numeric, what=f"grads['{key}']", case=case, of="your own loss")


# --------------------------------------------------------------------------- relative error


def _rel_error_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, float | None]]:
    """(case, a, b, eps); eps None: called without eps (its default)."""
    rng = case_rng(hidden, SALT)
    a = rng.standard_normal((3, 4)) * np.logspace(-3, 3, 4)  # gradients of very different sizes
    yield "a, b of shape (3, 4) with entries from 1e-3 to 1e3, b = a·(1 + 1e-6·noise)", \
        a, a * (1 + 1e-6 * rng.standard_normal(a.shape)), None
    a = rng.standard_normal((2, 5))
    a[0, :3] = 0.0  # both gradients exactly 0 there: 0/0 without the eps
    b = a + 1e-3 * rng.standard_normal(a.shape)
    b[0, :3] = 0.0
    yield "a, b of shape (2, 5), some entries 0 in both, eps=1e-8", a, b, 1e-8
    if hidden:
        yield "identical arrays of shape (4,)", (c := rng.standard_normal(4)), c.copy(), None
        yield "entries smaller than eps (±1e-14), eps left at its default", \
            np.array([1e-14, 2.0, -3e-15]), np.array([-1e-14, 2.0 + 1e-9, 3e-15]), None
        yield "integer arrays of shape (2, 3)", rng.integers(-5, 6, size=(2, 3)), rng.integers(-5, 6, size=(2, 3)), 1e-12
        yield "a of shape (1,) (a single gradient entry), eps=1e-6", np.array([0.5]), np.array([0.4]), 1e-6
        a = rng.standard_normal((3, 2, 2))
        yield "a, b of shape (3, 2, 2), b transposed (non-contiguous) with the same shape", \
            a, (a + 0.01 * rng.standard_normal(a.shape)).T.copy().T, None
        yield "one large error among tiny ones, shape (6,)", \
            np.array([1.0, 2.0, 3.0, 4.0, 5.0, 1e-3]), np.array([1.0, 2.0, 3.0, 4.0, 5.0, -1e-3]), None


@exercise("rel_error")
def check_rel_error(rel_error: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``rel_error(a, b, eps=1e-12) -> float``: max_i |a_i − b_i| / max(|a_i| + |b_i|, eps)."""
    run = CheckRun("rel_error", hidden)
    for case, a, b, eps in run.cases(_rel_error_cases(hidden)):
        with run.case():
            got = call_student(rel_error, a, b, name="rel_error") if eps is None else \
                call_student(rel_error, a, b, eps=eps, name="rel_error")
            expected = ref.rel_error(a, b) if eps is None else ref.rel_error(a, b, eps)
            e = 1e-12 if eps is None else eps
            fa, fb = a.astype(np.float64), b.astype(np.float64)
            diff, size = np.abs(fa - fb), np.abs(fa) + np.abs(fb)
            with np.errstate(all="ignore"):
                per_entry = diff / np.maximum(size, e)
                expect_scalar(got, expected, what="rel_error(a, b)", case=case, nonfinite_hint=(
                    "where a_i = b_i = 0 the ratio is 0/0: divide by max(|a_i| + |b_i|, eps), not by |a_i| + |b_i|."),
                    mistakes=[
                    Mistake(per_entry.mean(), "take the largest relative error (max over the entries), not the mean: "
                            "one wrong entry is a bug even when the others are right."),
                    Mistake(per_entry, "return one number, the maximum over the entries (a float)."),
                    Mistake(diff.max() / max(size.max(), e), "divide entry by entry and then take the max: "
                            "max_i (|a_i − b_i| / max(|a_i| + |b_i|, eps)), not max|a − b| / max(|a| + |b|)."),
                    Mistake(np.linalg.norm(fa - fb) / max(np.linalg.norm(fa) + np.linalg.norm(fb), e),
                            "that is the norm-wise error ‖a − b‖/(‖a‖ + ‖b‖); this exercise asks for the largest "
                            "entry-wise one."),
                    Mistake((diff / (size + e)).max(), "eps is a floor on the denominator, max(|a_i| + |b_i|, eps), "
                            "not an amount added to it."),
                    Mistake((diff / np.maximum(np.abs(fa), e)).max(), "divide by |a_i| + |b_i|, so that the error is "
                            "symmetric in a and b and at most 1."),
                ])
    run.passed()


# --------------------------------------------------------------------------- gradient descent


def _regression(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """Loss ½·mean((X w + b − y)²) and its gradients (the check's model; it must not call dlcourse.ref)."""
    w, b = np.asarray(params["w"], dtype=np.float64), np.asarray(params["b"], dtype=np.float64)
    err = X @ w + b - y
    n = len(y)
    return float(0.5 * np.mean(err**2)), {"w": X.T @ err / n, "b": np.atleast_1d(err.mean())}


def _gd_variant(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, lr: float, steps: int, *,
                sign: float = 1.0, record_after: bool = False, stale: bool = False,
                only: str | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The loop with one known mistake switched on (for diagnostics)."""
    p = {k: np.asarray(v, dtype=np.float64).copy() for k, v in params.items()}
    losses = []
    first = _regression(p, X, y)[1]
    for _ in range(steps):
        loss, grads = _regression(p, X, y)
        if stale:
            grads = first
        p = {k: v - sign * lr * grads[k] if only in (None, k) else v for k, v in p.items()}
        losses.append(_regression(p, X, y)[0] if record_after else loss)
    return p, np.array(losses)


def _gd_cases(hidden: bool) -> Iterator[tuple[str, dict[str, np.ndarray], np.ndarray, np.ndarray, float, int]]:
    rng = case_rng(hidden, SALT)

    def data(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, d))
        return X, X @ rng.standard_normal(d) + 1.5 + 0.1 * rng.standard_normal(n)

    X, y = data(20, 3)
    yield "N=20, D=3, lr=0.1, 5 steps", {"w": rng.standard_normal(3), "b": np.zeros(1)}, X, y, 0.1, 5
    X, y = data(15, 2)
    yield "N=15, D=2, lr=0.5, 8 steps", {"w": np.zeros(2), "b": np.array([2.0])}, X, y, 0.5, 8
    if hidden:
        X, y = data(10, 2)
        yield "learning rate 0 (nothing may change), 3 steps", {"w": rng.standard_normal(2), "b": np.ones(1)}, X, y, 0.0, 3
        X, y = data(1, 3)
        yield "a single example (N=1), lr=0.3, 4 steps", {"w": rng.standard_normal(3), "b": np.zeros(1)}, X, y, 0.3, 4
        X, y = data(12, 2)
        yield "1 step", {"w": rng.standard_normal(2), "b": np.zeros(1)}, X, y, 0.2, 1
        yield "0 steps (return copies of the initial parameters)", {"w": rng.standard_normal(2), "b": np.zeros(1)}, \
            X, y, 0.2, 0
        X, y = data(9, 3)
        yield "integer initial parameters (w = [1, 0, -1], b = [0]), lr=0.2, 3 steps", \
            {"w": np.array([1, 0, -1]), "b": np.array([0])}, X, y, 0.2, 3
        X, y = data(8, 4)
        w = rng.standard_normal((2, 2)).T.reshape(4)  # a copy; then view it through a stride
        yield "w a strided (non-contiguous) view, lr=0.1, 3 steps", \
            {"w": np.repeat(w, 2)[::2], "b": np.zeros(1)}, X, y, 0.1, 3


@exercise("gradient_descent")
def check_gradient_descent(gradient_descent: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``gradient_descent(loss_fn, params, *, lr, steps) -> (params, losses)`` (full batch)."""
    run = CheckRun("gradient_descent", hidden)
    for case, params, X, y, lr, steps in run.cases(_gd_cases(hidden)):
        with run.case():
            def loss_fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
                return _regression(p, X, y)

            given = {k: v for k, v in params.items()}
            result = call_student(gradient_descent, loss_fn, given, lr=lr, steps=steps, name="gradient_descent")
            got_params, losses = unpack(result, 2, name="gradient_descent", names=("params", "losses"))
            want_params, want_losses = ref.gradient_descent(loss_fn, params, lr=lr, steps=steps)
            if not isinstance(losses, (list, tuple, np.ndarray)):
                raise CheckFailure(f"losses should be a list of floats, one per step; got {type(losses).__name__} ({case}).")
            wrong = {
                "ascent": _gd_variant(params, X, y, lr, steps, sign=-1.0),
                "after": _gd_variant(params, X, y, lr, steps, record_after=True),
                "stale": _gd_variant(params, X, y, lr, steps, stale=True),
                "w only": _gd_variant(params, X, y, lr, steps, only="w"),
            }
            hints = {
                "ascent": "the parameters move up the gradient: step with p − lr·grads[key] (descent), not +.",
                "after": "record each loss before its step, as loss_fn returns it (the first entry is the loss of the "
                         "initial parameters).",
                "stale": "call loss_fn again at every step: the gradient changes as the parameters move.",
                "w only": "update every parameter in the dict (the bias too), not only the weights.",
            }
            expect_array(np.asarray(losses, dtype=np.float64) if len(losses) else np.zeros(0), np.asarray(want_losses),
                         what="losses", case=case, hint=lambda _: "take exactly `steps` steps and record the loss "
                         "before each one.", mistakes=[
                *(Mistake(wrong[k][1], hints[k]) for k in wrong),
                Mistake(np.zeros(steps + 1), "take exactly `steps` steps: one loss per step.", shape_only=True,
                        name="count"),
                Mistake(np.zeros(max(steps - 1, 0)), "take exactly `steps` steps: one loss per step.", shape_only=True,
                        name="count"),
            ])
            if not isinstance(got_params, dict) or set(got_params) != set(params):
                raise CheckFailure(f"params should be a dict with the keys {sorted(params)} of the input ({case}).")
            for key in params:
                expect_array(got_params[key], want_params[key], what=f"final params['{key}']", case=case,
                             mistakes=[Mistake(wrong[k][0][key], hints[k]) for k in wrong])
                expect_float64_like(got_params[key], want_params[key], what=f"final params['{key}']", case=case)
                if got_params[key] is params[key] or np.shares_memory(got_params[key], params[key]):
                    raise CheckFailure(
                        f"final params['{key}'] is the caller's own array (or a view of it) ({case}): return new "
                        f"arrays (e.g. `{{k: v.copy() for k, v in params.items()}}` before the loop), so that the "
                        f"initial parameters stay as they were whatever the caller does with the result.")
    run.passed()
