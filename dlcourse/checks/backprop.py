"""Checks for lecture 04-backprop.

Each ``check_*`` takes the student's function and ``hidden``; public cases are small and fixed,
hidden ones add random shapes (batch of one, higher-rank inputs), extreme values and
finite-difference gradient checks. Expected values come from :mod:`dlcourse.ref`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import (
    GRAD_TOL,
    expect_backward_matches_finite_differences,
    expect_matches_finite_differences,
)
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_affine_forward",
    "check_affine_backward",
    "check_relu_backward",
    "check_sigmoid_backward",
    "check_tanh_backward",
    "check_softmax_cross_entropy",
    "check_numerical_gradient",
    "check_two_layer_net",
]

SALT = 20_404  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

Case = tuple[str, tuple[np.ndarray, ...]]


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
            ])
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
            expect_array(dx, edx, what="dx", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout @ w.T, "dx must have the shape of x: reshape dout·wᵀ back to x.shape."),
                Mistake((dout @ w.T).T, "dx is transposed: dx = dout·wᵀ, one row per example."),
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
            if hidden:
                expect_backward_matches_finite_differences(
                    "affine_backward", lambda xx, ww, bb: ref.affine_forward(xx, ww, bb)[0],
                    (x, w, b), dout, (dx, dw, db), ("dx", "dw", "db"), case=case)
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
        x = np.array([-50.0, -5.0, 0.0, 5.0, 50.0])
        yield "large |x| (saturation)", x, rng.standard_normal(x.shape)


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
            backward = getattr(ref, name)
            expected = backward(dout, cache)
            dx = call_student(student, dout, cache, name=name)
            expect_array(dx, expected, what=f"{name}'s dx", case=case, **GRAD_TOL,
                         mistakes=mistakes(x, cache, dout))
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
            if hidden and "huge" not in case:
                numeric = ref.numerical_gradient(lambda s: ref.softmax_cross_entropy(s, y)[0], scores.copy())
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
        ]
    run = CheckRun("numerical_gradient", hidden)
    for case, func, x, closure in run.cases(cases):
        with run.case():
            original = x.copy()
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
            ])
    run.passed()


# --------------------------------------------------------------------------- two-layer network


def _two_layer_cases(hidden: bool) -> Iterator[tuple[str, dict[str, np.ndarray], np.ndarray, np.ndarray, float]]:
    rng = case_rng(hidden, SALT)
    dims = [(5, 4, 6, 3, 0.0), (5, 4, 6, 3, 0.3)]
    if hidden:
        dims += [(1, 3, 4, 2, 0.1), (8, 2, 10, 4, 0.05),
                 (int(rng.integers(2, 10)), int(rng.integers(2, 6)), int(rng.integers(2, 8)), 3, 0.2)]
    for n, d, h, c, reg in dims:
        params = ref.init_two_layer(d, h, c, rng=rng)
        # Non-zero biases: otherwise a regularized bias or a missing bias gradient cannot show.
        params["b1"] = 0.5 * rng.standard_normal(h)
        params["b2"] = 0.5 * rng.standard_normal(c)
        X = rng.standard_normal((n, d))
        y = rng.integers(0, c, size=n)
        yield f"N={n}, D={d}, H={h}, C={c}, reg={reg}", params, X, y, reg


def _variant_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float, *,
                   relu_mask: bool = True, reg_factor: float = 1.0, reg_bias: bool = False) -> dict[str, np.ndarray]:
    """Gradients of the two-layer net with one known mistake switched on (for diagnostics)."""
    h, c1 = ref.affine_forward(X, params["W1"], params["b1"])
    a, _ = ref.relu_forward(h)
    s, c2 = ref.affine_forward(a, params["W2"], params["b2"])
    _, ds = ref.softmax_cross_entropy(s, y)
    da, dW2, db2 = ref.affine_backward(ds, c2)
    dh = da * (h > 0) if relu_mask else da
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
    for case, params, X, y, reg in run.cases(_two_layer_cases(hidden)):
        with run.case():
            # Scores mode.
            scores = call_student(two_layer_net, params, X, name="two_layer_net")
            e_scores = ref.two_layer_net(params, X)
            hidden_linear = X @ params["W1"] + params["b1"]
            expect_array(scores, e_scores, what="two_layer_net(params, X)", case=case, mistakes=[
                Mistake(ref.softmax(e_scores), "with y=None return the raw class scores, not softmax probabilities."),
                Mistake(hidden_linear @ params["W2"] + params["b2"], "apply ReLU to the hidden layer."),
            ])
            # Loss-and-gradients mode.
            result = call_student(two_layer_net, params, X, y, reg=reg, name="two_layer_net")
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
                ])
            if hidden:
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
