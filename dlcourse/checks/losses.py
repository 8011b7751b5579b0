"""Checks for lecture 03-losses.

Every loss exercise returns ``(loss, grad)``: the loss as a number and its gradient with respect
to the first argument. Public cases are small and fixed (the lecture's MSE and BCE tables among
them); hidden ones add random shapes, extreme logits (±1000), zeros in distributions and a
finite-difference check of the gradient, and the edge cases real code meets: integer inputs,
transposed and strided arrays, residuals and logits exactly at a kink (|d| at 0, |d| = δ, z = 0),
tied maxima, labels that miss classes (or all of one class), a batch of one, the documented
defaults, and float64 gradients. Expected values come from :mod:`dlcourse.ref`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_scalar
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL, expect_matches_finite_differences
from dlcourse.checks.guard import call_strict, call_student, unpack
from dlcourse.checks.neurons import expect_float64, integer_input_hint, precision_mistakes

__all__ = [
    "check_mse",
    "check_mae",
    "check_huber",
    "check_bce",
    "check_bce_with_logits",
    "check_softmax",
    "check_softmax_backward",
    "check_log_softmax",
    "check_log_softmax_backward",
    "check_cross_entropy",
    "check_kl_divergence",
]

SALT = 20_403  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng
TOL = {"rtol": 1e-7, "atol": 1e-10}

# The lecture's tables (lecture 002): MSE → 0.995, BCE → 0.317 (base 10) / 0.730 (natural log).
MSE_Y = np.array([5.1, 1.6, 2.3, 3.7])
MSE_Y_HAT = np.array([4.8, 0.9, 1.1, 5.1])
BCE_Y = np.array([1.0, 0.0, 0.0, 1.0])
BCE_P = np.array([0.9, 0.5, 0.4, 0.2])

Case = tuple[str, tuple[Any, ...], dict[str, Any]]


def _check_loss(
    name: str,
    student: Callable[..., Any],
    cases: Iterator[Case],
    reference: Callable[..., tuple[float, np.ndarray]],
    loss_mistakes: Callable[..., list[Mistake]],
    grad_mistakes: Callable[..., list[Mistake]],
    hidden: bool,
    grad_name: str,
    hint: str,
    fd: bool = True,
) -> None:
    """The shared loop of every ``(loss, grad)`` check: call, unpack, compare loss, then gradient."""
    run = CheckRun(name, hidden)
    for case, args, kwargs in run.cases(cases):
        with run.case():
            result = call_strict(student, *args, name=name, hint=hint, **kwargs)
            loss, grad = unpack(result, 2, name=name, names=("loss", grad_name))
            e_loss, e_grad = reference(*args, **kwargs)
            expect_scalar(loss, e_loss, what=f"{name}'s loss", case=case, **TOL,
                          mistakes=loss_mistakes(*args, **kwargs), nonfinite_hint=hint)
            expect_array(grad, e_grad, what=f"{name}'s {grad_name}", case=case, **GRAD_TOL,
                         mistakes=[*grad_mistakes(*args, **kwargs), *precision_mistakes(e_grad, args[:1])],
                         nonfinite_hint=hint, hint=integer_input_hint(args[:1]))
            expect_float64(grad, f"{name}'s {grad_name}", case)
            if hidden and fd and "extreme" not in case:
                x = np.array(args[0], dtype=np.float64)
                rest = args[1:]
                numeric = ref.numerical_gradient(lambda v: reference(v, *rest, **kwargs)[0], x)
                expect_matches_finite_differences(grad, numeric, what=f"{name}'s {grad_name}", case=case,
                                                  of="the reference loss")
    run.passed()


# --------------------------------------------------------------------------- regression losses


def _regression_cases(hidden: bool, outliers: bool = False) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    yield "the lecture's table: y = [5.1, 1.6, 2.3, 3.7], ŷ = [4.8, 0.9, 1.1, 5.1]", (MSE_Y_HAT.copy(), MSE_Y.copy()), {}
    yield "ŷ, y of shape (3, 2)", (rng.standard_normal((3, 2)), rng.standard_normal((3, 2))), {}
    if hidden:
        yield "ŷ, y of shape (1,)", (rng.standard_normal(1), rng.standard_normal(1)), {}
        shape = (int(rng.integers(2, 6)), int(rng.integers(1, 5)), 2)
        yield f"ŷ, y of shape {shape}", (rng.standard_normal(shape), rng.standard_normal(shape)), {}
        y = rng.standard_normal(6)
        y_hat = y + 0.1 * rng.standard_normal(6)
        y_hat[2] += 25.0  # one outlier
        yield "one outlier in ŷ of shape (6,)", (y_hat, y), {}
        yield "integer ŷ = [3, −1, 4, 0], y = [1, 2, 4, 0] (two residuals exactly 0)", \
            (np.array([3, -1, 4, 0]), np.array([1, 2, 4, 0])), {}
        yield "ŷ transposed (a (3, 4) array's .T), y strided", \
            (rng.standard_normal((3, 4)).T, rng.standard_normal((8, 3))[::2]), {}


_REGRESSION_HINT = "compute the residual d = ŷ − y once and work from it."


@exercise("mse")
def check_mse(mse: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``mse(y_hat, y) -> (loss, dy_hat)`` with L = (1/m) Σ (ŷ − y)²."""
    def loss_m(y_hat: np.ndarray, y: np.ndarray) -> list[Mistake]:
        d = y_hat - y
        return [
            Mistake(np.mean(d * d) / 2, "that is the 1/(2m) convention (the lecture's formula); this exercise "
                    "uses the mean 1/m, as the lecture's table (0.995) and PyTorch's MSELoss do."),
            Mistake(np.sum(d * d), "divide by the number of entries m: the loss is a mean."),
            Mistake(np.mean(np.abs(d)), "that is the mean *absolute* error; square the residuals."),
            Mistake(np.sqrt(np.mean(d * d)), "that is the root of the MSE (RMSE); do not take the square root."),
        ]

    def grad_m(y_hat: np.ndarray, y: np.ndarray) -> list[Mistake]:
        d = y_hat - y
        return [
            Mistake(d / d.size, "the derivative of d² is 2d: dŷ = 2(ŷ − y)/m."),
            Mistake(2 * d, "divide the gradient by m too: the loss is a mean over m entries."),
            Mistake(-2 * d / d.size, "the sign is flipped: ∂/∂ŷ (ŷ − y)² = +2(ŷ − y)."),
            Mistake(2 * d, "divide by m."),
        ]
    _check_loss("mse", mse, _regression_cases(hidden), ref.mse, loss_m, grad_m, hidden, "dy_hat",
                _REGRESSION_HINT)


@exercise("mae")
def check_mae(mae: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``mae(y_hat, y) -> (loss, dy_hat)`` with L = (1/m) Σ |ŷ − y|."""
    def loss_m(y_hat: np.ndarray, y: np.ndarray) -> list[Mistake]:
        d = y_hat - y
        return [
            Mistake(np.sum(np.abs(d)), "divide by the number of entries m: the loss is a mean."),
            Mistake(np.mean(d), "take the absolute value: positive and negative errors must not cancel."),
            Mistake(np.abs(np.mean(d)), "take the absolute value of each residual before averaging."),
            Mistake(np.mean(d * d), "that is the mean *squared* error; MAE uses |ŷ − y|."),
        ]

    def grad_m(y_hat: np.ndarray, y: np.ndarray) -> list[Mistake]:
        d = y_hat - y
        return [
            Mistake(np.sign(d), "divide the gradient by m too: the loss is a mean over m entries."),
            Mistake(d / d.size, "that is (half) the MSE gradient; the derivative of |d| is sign(d)."),
            Mistake(-np.sign(d) / d.size, "the sign is flipped: ∂|ŷ − y|/∂ŷ = sign(ŷ − y)."),
            Mistake(np.ones_like(d) / d.size, "the derivative of |d| is sign(d): −1 where ŷ < y."),
            Mistake(np.where(d >= 0, 1.0, -1.0) / d.size, "at d = 0 exactly, |d| has no slope: use 0 there "
                    "(np.sign(0) = 0, as PyTorch does), not +1."),
        ]
    _check_loss("mae", mae, _regression_cases(hidden), ref.mae, loss_m, grad_m, hidden, "dy_hat",
                _REGRESSION_HINT)


def _huber_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    yield "residuals [−3, −1.5, −0.5, 0, 0.2, 2.5], δ = 1", (np.array([-3.0, -1.5, -0.5, 0.0, 0.2, 2.5]), np.zeros(6)), {"delta": 1.0}
    yield "ŷ, y of shape (4, 3), δ = 0.5", (2 * rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), {"delta": 0.5}
    if hidden:
        yield "ŷ, y of shape (5,), δ = 2", (3 * rng.standard_normal(5), rng.standard_normal(5)), {"delta": 2.0}
        yield "all residuals small, δ = 10", (rng.standard_normal((2, 3)), rng.standard_normal((2, 3))), {"delta": 10.0}
        yield "one outlier, δ = 1", (np.array([0.1, -0.2, 30.0]), np.zeros(3)), {"delta": 1.0}
        yield "δ not given (the default, 1)", (np.array([-2.5, -0.4, 0.0, 0.7, 3.0]), np.zeros(5)), {}
        yield "residuals exactly ±δ (the kink between the pieces), δ = 0.5", \
            (np.array([-0.5, 0.5, 0.25, -1.0]), np.zeros(4)), {"delta": 0.5}
        yield "integer ŷ, y, δ = 2", (np.array([5, -1, 0, 2]), np.array([1, 0, 0, 3])), {"delta": 2}
        yield "ŷ transposed (a (3, 2) array's .T), δ = 1", \
            (2 * rng.standard_normal((3, 2)).T, rng.standard_normal((2, 3))), {"delta": 1.0}


@exercise("huber")
def check_huber(huber: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``huber(y_hat, y, delta=1.0) -> (loss, dy_hat)``."""
    def loss_m(y_hat: np.ndarray, y: np.ndarray, delta: float = 1.0) -> list[Mistake]:
        d = y_hat - y
        a = np.abs(d)
        return [
            Mistake(np.mean(np.where(a > delta, 0.5 * d * d, delta * (a - 0.5 * delta))),
                    "the branches are swapped: quadratic ½d² for |d| ≤ δ (small residuals), linear for |d| > δ."),
            Mistake(np.mean(np.where(a <= delta, d * d, delta * (a - 0.5 * delta))),
                    "the quadratic branch is ½d² (the ½ makes the two branches meet smoothly at |d| = δ)."),
            Mistake(np.mean(np.where(a <= delta, 0.5 * d * d, delta * a)),
                    "the linear branch is δ(|d| − ½δ): without the −½δ² it jumps at |d| = δ."),
            Mistake(np.sum(np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))),
                    "divide by the number of entries m: the loss is a mean."),
        ]

    def grad_m(y_hat: np.ndarray, y: np.ndarray, delta: float = 1.0) -> list[Mistake]:
        d = y_hat - y
        return [
            Mistake(d / d.size, "clip the gradient: for |d| > δ it is δ·sign(d), not d."),
            Mistake(np.where(np.abs(d) > delta, d, delta * np.sign(d)) / d.size,
                    "the branches are swapped: the gradient is d where |d| ≤ δ and δ·sign(d) beyond."),
            Mistake(np.clip(d, -delta, delta), "divide the gradient by m too: the loss is a mean."),
            Mistake(delta * np.sign(d) / d.size, "inside |d| ≤ δ the loss is ½d², whose gradient is d."),
        ]
    _check_loss("huber", huber, _huber_cases(hidden), ref.huber, loss_m, grad_m, hidden, "dy_hat",
                _REGRESSION_HINT, fd=False)


# --------------------------------------------------------------------------- binary cross-entropy


def _bce_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    yield "the lecture's table, base 10", (BCE_P.copy(), BCE_Y.copy()), {"base": 10.0}
    yield "the lecture's table, natural log", (BCE_P.copy(), BCE_Y.copy()), {}
    yield "p, y of shape (3, 2), base 2", (rng.uniform(0.05, 0.95, (3, 2)), rng.integers(0, 2, (3, 2)).astype(float)), {"base": 2.0}
    if hidden:
        yield "p, y of shape (1,)", (np.array([0.3]), np.array([1.0])), {}
        yield "soft targets of shape (5,)", (rng.uniform(0.01, 0.99, 5), rng.uniform(0, 1, 5)), {}
        yield "extreme (confident) p of shape (4,)", (np.array([1e-9, 1 - 1e-9, 0.5, 1e-4]), np.array([0.0, 1.0, 1.0, 1.0])), {}
        yield "integer labels y = [1, 0, 1] (dtype int64)", (np.array([0.8, 0.3, 0.6]), np.array([1, 0, 1])), {}
        yield "labels of one class only: y = 0 everywhere", (rng.uniform(0.05, 0.95, 5), np.zeros(5)), {}
        yield "labels of one class only: y = 1 everywhere, base 2", (rng.uniform(0.05, 0.95, (2, 2)), np.ones((2, 2))), \
            {"base": 2.0}
        yield "p transposed (a (3, 2) array's .T)", (rng.uniform(0.05, 0.95, (3, 2)).T, rng.integers(0, 2, (2, 3)).astype(float)), {}


@exercise("bce")
def check_bce(bce: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``bce(p, y, base=np.e) -> (loss, dp)`` from probabilities p ∈ (0, 1)."""
    def loss_m(p: np.ndarray, y: np.ndarray, base: float = np.e) -> list[Mistake]:
        nat = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        return [
            Mistake(nat, f"the logarithm's base is a parameter: log_b(t) = ln(t)/ln(b) (here b = {base:g}).",
                    name="natural log for any base"),
            Mistake(nat / np.log(10), "the base is a parameter; log10 is right only for base = 10."),
            Mistake(-nat / np.log(base), "the loss is −(1/m) Σ [y log p + (1 − y) log(1 − p)]: mind the minus sign."),
            Mistake(nat / np.log(base) * p.size, "divide by m: the loss is a mean over entries."),
            Mistake(-np.mean(y * np.log(p)) / np.log(base), "include the (1 − y)·log(1 − p) term for the negatives."),
        ]

    def grad_m(p: np.ndarray, y: np.ndarray, base: float = np.e) -> list[Mistake]:
        m, s = p.size, 1 / np.log(base)
        full = (p - y) / (p * (1 - p))
        return [
            Mistake((p - y) / m * s, "(p − y)/m is the gradient with respect to the *logit*; with respect to p "
                    "it is (p − y)/(p(1 − p))/m."),
            Mistake(full * s, "divide the gradient by m too: the loss is a mean."),
            Mistake(full / m, "the base scales the gradient too: multiply by 1/ln(b)."),
            Mistake(-full / m * s, "the sign is flipped: ∂L/∂p = (p − y)/(p(1 − p))/m."),
        ]
    _check_loss("bce", bce, _bce_cases(hidden), ref.bce, loss_m, grad_m, hidden, "dp",
                "log(0) = −inf: p must stay strictly between 0 and 1. And the loss is a mean over all m entries: "
                "a batch may have no positives (or no negatives), so never divide by their number.")


def _bce_logits_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    yield "z, y of shape (5,)", (2 * rng.standard_normal(5), rng.integers(0, 2, 5).astype(float)), {}
    yield "z, y of shape (3, 2)", (rng.standard_normal((3, 2)), rng.integers(0, 2, (3, 2)).astype(float)), {}
    yield "extreme logits z = [−1000, −40, 40, 1000]", (np.array([-1000.0, -40.0, 40.0, 1000.0]), np.array([1.0, 0.0, 0.0, 1.0])), {}
    if hidden:
        yield "soft targets of shape (6,)", (3 * rng.standard_normal(6), rng.uniform(0, 1, 6)), {}
        yield "z of shape (1, 1)", (np.array([[0.3]]), np.array([[1.0]])), {}
        yield "extreme logits of shape (2, 3)", (1e4 * rng.standard_normal((2, 3)), rng.integers(0, 2, (2, 3)).astype(float)), {}
        yield "logits exactly 0 (the kink of max(z, 0) and |z|), z = [0, 0, 2, −2]", \
            (np.array([0.0, 0.0, 2.0, -2.0]), np.array([1.0, 0.0, 1.0, 0.0])), {}
        yield "integer logits and labels, z = [−3, 0, 5], y = [0, 1, 1]", (np.array([-3, 0, 5]), np.array([0, 1, 1])), {}
        yield "labels of one class only: y = 1 everywhere", (rng.standard_normal(4), np.ones(4)), {}
        yield "z transposed (a (3, 2) array's .T)", (rng.standard_normal((3, 2)).T, rng.integers(0, 2, (2, 3)).astype(float)), {}


@exercise("bce_with_logits")
def check_bce_with_logits(bce_with_logits: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``bce_with_logits(z, y) -> (loss, dz)``, stable for any logits."""
    def loss_m(z: np.ndarray, y: np.ndarray) -> list[Mistake]:
        with np.errstate(all="ignore"):
            s = ref.sigmoid(z)
            clipped = np.clip(s, 1e-7, 1 - 1e-7)
            return [
                Mistake(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)),
                        "clipping σ(z) caps the loss of a confidently wrong prediction: for z = −1000 and y = 1 "
                        "the loss is 1000, not −log(1e−7). Compute it from z directly: max(z, 0) − z·y + log(1 + e^{−|z|})."),
                Mistake(np.mean(np.maximum(-z, 0) + z * y + np.log1p(np.exp(-np.abs(z)))),
                        "the sign of z is flipped: the loss is max(z, 0) − z·y + log(1 + e^{−|z|})."),
                Mistake(np.mean(np.maximum(z, 0) - z * y), "the term log(1 + e^{−|z|}) is missing."),
            ]

    def grad_m(z: np.ndarray, y: np.ndarray) -> list[Mistake]:
        s = ref.sigmoid(z)
        return [
            Mistake((y - s) / z.size, "the sign is flipped: ∂L/∂z = (σ(z) − y)/m."),
            Mistake(s - y, "divide the gradient by m too: the loss is a mean."),
            Mistake((s - y) / (s * (1 - s) + 1e-300) / z.size, "that is the gradient with respect to p = σ(z); "
                    "with respect to z the σ′ cancels: (σ(z) − y)/m."),
            Mistake(((z > 0) - y - np.sign(z) * np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z)))) / z.size,
                    "differentiating max(z, 0) − z·y + log(1 + e^{−|z|}) piece by piece breaks at z = 0, where "
                    "max and |·| have kinks (their slopes there cancel): the gradient is (σ(z) − y)/m everywhere, "
                    "0.5 − y at z = 0."),
        ]
    hint = ("log(σ(z)) is −inf once σ(z) underflows to 0 (z ≈ −750), and e^{−z} overflows for z = −1000: "
            "use −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^{−|z|}), which "
            "exponentiates only −|z|. This function takes logits (any real numbers), not probabilities.")
    _check_loss("bce_with_logits", bce_with_logits, _bce_logits_cases(hidden), ref.bce_with_logits,
                loss_m, grad_m, hidden, "dz", hint)


# --------------------------------------------------------------------------- softmax family


def _logit_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray]]:
    rng = case_rng(hidden, SALT)
    yield "logits of shape (2, 3)", np.array([[1.0, 2.0, 3.0], [2.0, -1.0, 0.5]])
    yield "logits of shape (4, 5)", 2 * rng.standard_normal((4, 5))
    yield "extreme logits (±1000) of shape (3, 3)", np.array([[1000.0, 999.0, 0.0], [-1000.0, -999.0, -1001.0], [0.0, 0.0, 0.0]])
    if hidden:
        yield "logits of shape (5,)", rng.standard_normal(5)
        yield "logits of shape (2, 3, 4)", 3 * rng.standard_normal((2, 3, 4))
        yield "extreme logits (~1e4) of shape (3, 4)", 1e4 * rng.standard_normal((3, 4))
        yield "one class, shape (3, 1)", rng.standard_normal((3, 1))
        yield "tied maxima, [[2, 2, 0], [1, 1, 1]]", np.array([[2.0, 2.0, 0.0], [1.0, 1.0, 1.0]])
        yield "integer logits [[3, 0, −2], [1, 4, 4]]", np.array([[3, 0, -2], [1, 4, 4]])
        yield "logits transposed (a (4, 3) array's .T)", rng.standard_normal((4, 3)).T
        yield "logits read with a stride (every other row)", rng.standard_normal((6, 4))[::2]
        yield "a batch of one, shape (1, 4)", rng.standard_normal((1, 4))
        yield "probabilities near 0 and 1, logits [[40, 0, 0]]", np.array([[40.0, 0.0, 0.0]])


_SOFTMAX_HINT = ("e^{1000} overflows: subtract each row's maximum before exponentiating (softmax does not change, "
                 "and every exponent becomes ≤ 0). Subtract the maximum of each row (axis=-1, keepdims=True), "
                 "not of the whole array, or a row far below the global maximum underflows to 0/0.")


@exercise("softmax")
def check_softmax(softmax: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``softmax(logits) -> probs`` along the last axis, stable for any logits."""
    run = CheckRun("softmax", hidden)
    for case, s in run.cases(_logit_cases(hidden)):
        with run.case():
            got = call_strict(softmax, s, name="softmax", hint=_SOFTMAX_HINT)
            expected = ref.softmax(s, axis=-1)
            with np.errstate(all="ignore"):
                e = np.exp(s - s.max())
                mistakes = [
                    Mistake(ref.softmax(s, axis=0), "normalize along the last axis (each row sums to 1), not axis 0."),
                    Mistake(s / s.sum(axis=-1, keepdims=True), "exponentiate first: p = e^{s} / Σ e^{s}."),
                    Mistake(e / e.sum(), "each row is its own distribution: sum over axis=-1 with keepdims=True."),
                    Mistake(ref.sigmoid(s), "that is the element-wise sigmoid; softmax normalizes each row to sum 1."),
                    *precision_mistakes(expected, (s,)),
                ]
            expect_array(got, expected, what="softmax(logits)", case=case, rtol=1e-9, atol=1e-12,
                         mistakes=mistakes, nonfinite_hint=_SOFTMAX_HINT)
            expect_float64(got, "softmax(logits)", case)
    run.passed()


@exercise("log_softmax")
def check_log_softmax(log_softmax: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``log_softmax(logits) -> log_probs`` along the last axis, finite for any logits."""
    hint = ("log(softmax(s)) is log 0 = −inf where a probability underflows; compute "
            "(s − m) − log Σ e^{s − m} with m the row maximum (log-sum-exp), never the log of a probability.")
    run = CheckRun("log_softmax", hidden)
    for case, s in run.cases(_logit_cases(hidden)):
        with run.case():
            got = call_strict(log_softmax, s, name="log_softmax", hint=hint)
            expected = ref.log_softmax(s, axis=-1)
            with np.errstate(all="ignore"):
                m = s.max(axis=-1, keepdims=True)
                mistakes = [
                    Mistake(s - np.log(np.exp(s - m).sum(axis=-1, keepdims=True)),
                            "the maximum m you subtracted inside the exponentials must come back: log Σ e^{s} = m + log Σ e^{s − m}."),
                    Mistake(ref.log_softmax(s, axis=0), "normalize along the last axis, not axis 0."),
                    Mistake(s - m, "subtract log Σ e^{s − m} as well: log p = (s − m) − log Σ e^{s − m}."),
                    Mistake(np.log(ref.softmax(s)), hint),
                    *precision_mistakes(expected, (s,)),
                ]
            expect_array(got, expected, what="log_softmax(logits)", case=case, rtol=1e-9, atol=1e-9,
                         mistakes=mistakes, nonfinite_hint=hint)
            expect_float64(got, "log_softmax(logits)", case)
    run.passed()


@exercise("softmax_backward")
def check_softmax_backward(softmax_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``softmax_backward(dout, probs) -> dlogits`` (vector-Jacobian product, last axis)."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("softmax_backward", hidden)
    for case, s in run.cases(c for c in _logit_cases(hidden) if "extreme" not in c[0]):
        with run.case():
            p = ref.softmax(s)
            dout = rng.standard_normal(s.shape)
            got = call_student(softmax_backward, dout, p, name="softmax_backward")
            expected = ref.softmax_backward(dout, p)
            expect_array(got, expected, what="softmax_backward's dlogits", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout * p * (1 - p), "only the diagonal of the Jacobian is used: ∂p_i/∂s_j = p_i([i = j] − p_j) "
                        "couples all classes, giving p ⊙ (dout − Σ_j dout_j p_j)."),
                Mistake(p * dout, "subtract the weighted mean Σ_j dout_j p_j: dlogits = p ⊙ (dout − Σ_j dout_j p_j)."),
                Mistake(p * (dout - (dout * p).sum(axis=0, keepdims=True)),
                        "the sum Σ_j dout_j p_j runs over the classes (last axis), not over examples."),
                Mistake(dout - p * dout.sum(axis=-1, keepdims=True), "that is log-softmax's backward pass."),
                *precision_mistakes(expected, ()),
            ])
            expect_float64(got, "softmax_backward's dlogits", case)
            if hidden and "near 0 and 1" not in case:  # there the gradient (~1e-17) is below the differences' noise
                numeric = ref.numerical_gradient(lambda v: float(np.sum(ref.softmax(v) * dout)), s.astype(np.float64))
                expect_matches_finite_differences(got, numeric, what="softmax_backward's dlogits", case=case,
                                                  of="Σ dout ⊙ softmax(logits)")
    run.passed()


@exercise("log_softmax_backward")
def check_log_softmax_backward(log_softmax_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``log_softmax_backward(dout, logp) -> dlogits`` for logp = log_softmax(s) along the last axis.

    dlogits = dout − softmax(s) · Σ_j dout_j (the sum along the last axis, softmax(s) = e^logp).
    Extreme logits are included: from logp alone the backward pass never overflows.
    """
    rng = case_rng(hidden, SALT)
    run = CheckRun("log_softmax_backward", hidden)
    for case, s in run.cases(_logit_cases(hidden)):
        with run.case():
            logp = ref.log_softmax(s)
            dout = rng.standard_normal(s.shape)
            got = call_student(log_softmax_backward, dout, logp, name="log_softmax_backward")
            expected = ref.log_softmax_backward(dout, logp)
            p = np.exp(logp)
            total = dout.sum(axis=-1, keepdims=True)
            expect_array(got, expected, what="log_softmax_backward's dlogits", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout * (1 - p), "only the diagonal of the Jacobian is used: ∂ℓ_i/∂s_j = [i = j] − p_j couples "
                        "all classes, giving dout − p · Σ_j dout_j."),
                Mistake(dout - p * dout.sum(), "each row has its own sum: Σ_j dout_j along the last axis "
                        "(axis=-1, keepdims=True), not over the whole array."),
                Mistake(dout - p * dout.sum(axis=0, keepdims=True),
                        "the sum Σ_j dout_j runs over the classes (last axis), not over examples."),
                Mistake(p * (dout - (dout * p).sum(axis=-1, keepdims=True)), "that is softmax's backward pass; for "
                        "ℓ = log p the Jacobian is [i = j] − p_j, giving dout − p · Σ_j dout_j."),
                Mistake(dout - logp * total, "the probabilities are p = e^ℓ: exponentiate logp before using it."),
                Mistake(p * total - dout, "the sign is flipped: dlogits = dout − p · Σ_j dout_j."),
                *precision_mistakes(expected, ()),
            ])
            expect_float64(got, "log_softmax_backward's dlogits", case)
            if hidden and "extreme" not in case:
                numeric = ref.numerical_gradient(lambda v: float(np.sum(ref.log_softmax(v) * dout)), s.astype(np.float64))
                expect_matches_finite_differences(got, numeric, what="log_softmax_backward's dlogits", case=case,
                                                  of="Σ dout ⊙ log_softmax(logits)")
    run.passed()


# --------------------------------------------------------------------------- cross-entropy and KL


def _ce_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    yield "logits of shape (4, 3)", (2 * rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])), {}
    yield "positive logits of shape (3, 4)", (rng.uniform(0.2, 3.0, (3, 4)), np.array([3, 0, 1])), {}
    yield "extreme logits (±1000)", (np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [5.0, 5.0, 5.0]]), np.array([2, 1, 0])), {}
    if hidden:
        yield "logits of shape (1, 5)", (rng.standard_normal((1, 5)), np.array([4])), {}
        n, c = int(rng.integers(2, 9)), int(rng.integers(2, 7))
        yield f"logits of shape {(n, c)}", (3 * rng.standard_normal((n, c)), rng.integers(0, c, n)), {}
        yield "extreme logits (~1e4)", (1e4 * rng.standard_normal((4, 3)), rng.integers(0, 3, 4)), {}
        yield "labels that miss classes 2 and 3: y = [0, 1, 0], C = 4", (rng.standard_normal((3, 4)), np.array([0, 1, 0])), {}
        yield "labels of dtype uint8", (rng.standard_normal((3, 3)), np.array([2, 0, 1], dtype=np.uint8)), {}
        yield "labels read with a stride, y = [2, 0, 1]", (rng.standard_normal((3, 3)), np.array([2, 9, 0, 9, 1])[::2]), {}
        yield "logits transposed (a (3, 4) array's .T)", (rng.standard_normal((3, 4)).T, np.array([0, 2, 2, 1])), {}
        yield "integer logits [[2, 0, 0], [1, 1, 3]]", (np.array([[2, 0, 0], [1, 1, 3]]), np.array([0, 1])), {}


@exercise("cross_entropy")
def check_cross_entropy(cross_entropy: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``cross_entropy(logits, y) -> (loss, dlogits)``, integer labels, mean over the batch."""
    def loss_m(s: np.ndarray, y: np.ndarray) -> list[Mistake]:
        n = len(y)
        logp = ref.log_softmax(s, axis=1)
        with np.errstate(all="ignore"):
            return [
                Mistake(-np.mean(np.log(s[np.arange(n), y])), "the inputs are logits, not probabilities: "
                        "apply (log-)softmax first, loss = −mean log softmax(s)[y]."),
                Mistake(-np.sum(logp[np.arange(n), y]), "divide by N: the loss is a mean over examples."),
                Mistake(-np.mean(logp), "pick the log-probability of the correct class y_n in each row."),
                Mistake(np.mean(logp[np.arange(n), y]), "the loss is the *negative* log-probability."),
            ]

    def grad_m(s: np.ndarray, y: np.ndarray) -> list[Mistake]:
        n, c = s.shape
        p, t = ref.softmax(s, axis=1), np.eye(c)[y]
        return [
            Mistake(p - t, "divide the gradient by N too: the loss is a mean."),
            Mistake((t - p) / n, "the sign is flipped: ∂L/∂s = (softmax(s) − onehot(y))/N."),
            Mistake(p / n, "subtract the one-hot targets: ∂L/∂s = (softmax(s) − onehot(y))/N."),
        ]
    hint = ("work in log space from the logits: log p = (s − m) − log Σ e^{s − m} with m the row maximum; "
            "e^{1000} overflows and log of an underflowed probability is −inf. If you took the log of the "
            "logits themselves: this function receives logits (any real numbers), not probabilities.")
    _check_loss("cross_entropy", cross_entropy, _ce_cases(hidden), ref.cross_entropy, loss_m, grad_m, hidden,
                "dlogits", hint)


def _distribution(rng: np.random.Generator, shape: tuple[int, ...], zeros: bool = False) -> np.ndarray:
    p = rng.uniform(0.05, 1.0, shape)
    if zeros:
        p.flat[:: 3] = 0.0
    return p / p.sum(axis=-1, keepdims=True)


def _kl_cases(hidden: bool) -> Iterator[Case]:
    rng = case_rng(hidden, SALT)
    yield "p, q of shape (4,)", (np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.25, 0.25, 0.25, 0.25])), {}
    yield "p, q of shape (3, 5)", (_distribution(rng, (3, 5)), _distribution(rng, (3, 5))), {}
    yield "p with zeros, shape (2, 4)", (np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]), _distribution(rng, (2, 4))), {}
    if hidden:
        yield "p, q of shape (1, 2)", (np.array([[0.9, 0.1]]), np.array([[0.5, 0.5]])), {}
        yield "p with zeros, shape (4, 6)", (_distribution(rng, (4, 6), zeros=True), _distribution(rng, (4, 6))), {}
        yield "p = q, shape (3,)", (np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5])), {}
        yield "one-hot p, q near 0 where p is 0, shape (2, 3)", \
            (np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), np.array([[1e-12, 1 - 2e-12, 1e-12], [0.5, 0.25, 0.25]])), {}
        yield "p and q stored column by column (non-contiguous rows), shape (3, 4)", \
            (np.asfortranarray(_distribution(rng, (3, 4))), np.asfortranarray(_distribution(rng, (3, 4)))), {}


@exercise("kl_divergence")
def check_kl_divergence(kl_divergence: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``kl_divergence(p, q) -> (kl, dq)``: KL(p ‖ q) averaged over rows; gradient w.r.t. q."""
    # The student's first argument is p, but the gradient is with respect to q: reorder for the FD check.
    def loss_m(p: np.ndarray, q: np.ndarray) -> list[Mistake]:
        n = p.shape[0] if p.ndim > 1 else 1
        with np.errstate(all="ignore"):
            sup = p > 0
            kl_pq = np.sum(np.where(sup, p * np.log(np.where(sup, p, 1) / q), 0)) / n
            swapped = np.sum(q * (np.log(q) - np.log(np.where(p > 0, p, np.nan)))) / n
            return [
                Mistake(ref.kl_divergence(q, p)[0] if np.all(p > 0) else swapped,
                        "the arguments are swapped: KL(p ‖ q) = Σ p log(p/q) weights by the target p."),
                Mistake(kl_pq * n, "average over the rows (the batch): divide the sum by N."),
                Mistake(-np.sum(np.where(sup, p * np.log(q), 0)) / n, "that is the cross-entropy H(p, q); "
                        "KL subtracts the entropy: KL = H(p, q) − H(p) = Σ p log(p/q)."),
                Mistake(-kl_pq, "the sign is flipped: KL(p ‖ q) = Σ p log(p/q) ≥ 0."),
            ]

    def grad_m(p: np.ndarray, q: np.ndarray) -> list[Mistake]:
        n = p.shape[0] if p.ndim > 1 else 1
        sup = p > 0
        with np.errstate(all="ignore"):
            return [
                Mistake(p / q / n, "the sign is flipped: ∂/∂q [p log(p/q)] = −p/q."),
                Mistake(-p / q, "divide the gradient by N too: the loss is a mean over rows."),
                Mistake(np.where(sup, np.log(np.where(sup, p, 1) / q) + 1, 0) / n,
                        "that is the gradient with respect to p; this exercise asks for ∂KL/∂q = −p/q."),
            ]

    def reference(p: np.ndarray, q: np.ndarray) -> tuple[float, np.ndarray]:
        return ref.kl_divergence(p, q)

    hint = ("0·log 0 must count as 0 (the limit of t log t): compute the terms only where p > 0, e.g. "
            "np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0), so no log(0) is ever evaluated.")
    run = CheckRun("kl_divergence", hidden)
    for case, (p, q), _ in run.cases(_kl_cases(hidden)):
        with run.case():
            result = call_strict(kl_divergence, p, q, name="kl_divergence", hint=hint)
            loss, grad = unpack(result, 2, name="kl_divergence", names=("kl", "dq"))
            e_loss, e_grad = reference(p, q)
            expect_scalar(loss, e_loss, what="kl_divergence's value", case=case, **TOL, mistakes=loss_m(p, q),
                          nonfinite_hint=hint)
            expect_array(grad, e_grad, what="kl_divergence's dq", case=case, **GRAD_TOL,
                         mistakes=[*grad_m(p, q), *precision_mistakes(e_grad, ())], nonfinite_hint=hint)
            expect_float64(grad, "kl_divergence's dq", case)
            if hidden:
                numeric = ref.numerical_gradient(lambda v: reference(p, v)[0], q.copy())
                expect_matches_finite_differences(grad, numeric, what="kl_divergence's dq", case=case,
                                                  of="the reference KL divergence")
    run.passed()
