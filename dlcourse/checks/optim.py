"""Checks for lecture 05-optimization.

Update rules are checked on whole trajectories: the student's ``update(w, dw, state, cfg)`` is
called step after step on a fixed gradient sequence, starting from ``state = {}`` and fed its
own returned state, and every iterate is compared with :mod:`dlcourse.ref.optim`'s. Public cases
include a learning rate that changes mid-run (as under a schedule) and a large ε (so where ε
goes shows); hidden ones add other shapes, random hyper-parameters, long runs, tiny and zero
gradients, a cfg that leaves every optional key at its documented default, a learning rate of 0,
transposed (non-contiguous) and integer arrays, and the state contract: a new dict every call,
holding nothing that aliases the w or dw it was given (a training loop reuses its gradient
buffers), float64 iterates. Known wrong rules are run on the same gradients, so a wrong iterate
is diagnosed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_float64_like, record
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_sgd_momentum",
    "check_nesterov",
    "check_adagrad",
    "check_rmsprop",
    "check_adadelta",
    "check_adam",
    "check_step_decay",
    "check_exponential_decay",
    "check_cosine_annealing",
    "check_train_minibatch",
]

SALT = 20_505  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

Rule = Callable[..., tuple[np.ndarray, dict[str, Any]]]


# --------------------------------------------------------------------------- trajectories


@dataclass(frozen=True)
class _Run:
    """One update-rule case: start w0, gradients (T, *shape), one cfg per step."""

    case: str
    w0: np.ndarray
    grads: np.ndarray
    cfgs: list[dict[str, Any]]


def _trajectory(rule: Rule, run: _Run, base: dict[str, Any] | None = None) -> np.ndarray:
    """Iterates (T, *shape) of ``rule`` (a reference or variant, never student code).

    ``base``: the full cfg a variant needs (a case may leave optional keys to the defaults, which
    only the reference and the student's rule know).
    """
    w, state, path = run.w0.copy(), {}, []
    with np.errstate(all="ignore"):  # variants may divide by zero; they are only compared with
        for g, cfg in zip(run.grads, run.cfgs):
            w, state = rule(w, g, state, cfg if base is None else dict(base, **cfg))
            path.append(w)
    return np.array(path, dtype=np.float64)


def _runs(base: dict[str, Any], hidden: bool, eps_key: bool, big_eps: float = 0.1) -> Iterator[_Run]:
    rng = case_rng(hidden, SALT)
    lr = base["lr"]

    def cfgs(t: int, **over: Any) -> list[dict[str, Any]]:
        return [dict(base, **over) for _ in range(t)]

    yield _Run("w of shape (3, 4), 6 steps", rng.standard_normal((3, 4)), rng.standard_normal((6, 3, 4)), cfgs(6))
    # The learning rate drops to a fifth after step 3, as a schedule would make it; with ε large,
    # ε inside or outside the square root gives visibly different steps.
    changing = [dict(base, lr=lr if t < 3 else lr / 5, **({"eps": big_eps} if eps_key else {})) for t in range(7)]
    what = "lr drops to lr/5 after step 3" + (f", eps = {big_eps}" if eps_key else "")
    yield _Run(f"w of shape (5,), 7 steps, {what}", rng.standard_normal(5), rng.standard_normal((7, 5)), changing)
    if hidden:
        shape = (2, 3, 2)
        over = {k: float(v * rng.uniform(0.5, 1.2)) if isinstance(v, float) and k != "lr" else v
                for k, v in base.items()}
        over = {k: min(v, 0.995) if k in ("momentum", "alpha", "rho", "beta1", "beta2") else v for k, v in over.items()}
        yield _Run(f"w of shape {shape}, 30 steps, cfg {over}", rng.standard_normal(shape),
                   rng.standard_normal((30,) + shape), cfgs(30, **over))
        g = rng.standard_normal((8, 1))
        g[::3] = 0.0
        yield _Run("w of shape (1,), 8 steps, some gradients exactly 0", rng.standard_normal(1), g, cfgs(8))
        yield _Run("w of shape (4, 4), 10 steps, tiny gradients (~1e-5), default eps",
                   rng.standard_normal((4, 4)), 1e-5 * rng.standard_normal((10, 4, 4)), cfgs(10))
        yield _Run("w of shape (3,), 5 steps, large gradients (~1e3)", rng.standard_normal(3),
                   1e3 * rng.standard_normal((5, 3)), cfgs(5))
        # Only lr given: every other key at the documented default (small gradients, so ε shows).
        yield _Run("w of shape (2, 2), 6 steps, cfg = {'lr': ...} only (the other keys at their defaults), "
                   "small gradients (~1e-6)", rng.standard_normal((2, 2)), 1e-6 * rng.standard_normal((6, 2, 2)),
                   [{"lr": lr} for _ in range(6)])
        yield _Run("w of shape (4,), lr = 0 for 3 steps (the state still learns), then lr", rng.standard_normal(4),
                   rng.standard_normal((7, 4)), [dict(base, lr=0.0 if t < 3 else lr) for t in range(7)])
        yield _Run("w and dw of shape (3, 4), transposed (non-contiguous) arrays, 5 steps",
                   rng.standard_normal((4, 3)).T, rng.standard_normal((5, 4, 3)).transpose(0, 2, 1), cfgs(5))
        yield _Run("integer starting w = [1, 0, -2], 4 steps", np.array([1, 0, -2]), rng.standard_normal((4, 3)),
                   cfgs(4))


def _check_rule(
    name: str,
    student: Callable[..., Any],
    reference: Rule,
    base: dict[str, Any],
    variants: list[tuple[Rule, str]],
    hidden: bool,
    eps_key: bool = False,
    nonfinite: str = "inf or nan appeared: is something divided by 0 (a square root of 0 without ε)?",
) -> None:
    """Run the student's rule along every case; compare each iterate, diagnosing known mistakes.

    A known mistake explains a case only if its whole trajectory is the student's: at step 1
    several rules agree (with v = 0, Nesterov's old-velocity slip is plain momentum).
    """
    check = CheckRun(name, hidden)
    for trial in check.cases(_runs(base, hidden, eps_key)):
        with check.case():
            w, state, path = trial.w0.copy(), {}, []
            expected = _trajectory(reference, trial)
            for t, (g, cfg) in enumerate(zip(trial.grads, trial.cfgs)):
                given = state
                result = call_student(student, w, g, given, dict(cfg), name=name)
                w_new, state = unpack(result, 2, name=name, names=("w", "state"))
                if not isinstance(state, dict):
                    raise CheckFailure(f"{name} should return the new state as a dict (e.g. {{'velocity': v}}); "
                                       f"got {type(state).__name__} ({trial.case}).")
                _expect_fresh_state(name, state, given, w, g, f"{trial.case}, step {t + 1}")
                w = w_new
                if not isinstance(w, np.ndarray) or w.shape != expected[t].shape or w.dtype.kind not in "fiub":
                    expect_array(w, expected[t], what=f"w after step {t + 1}", case=f"{trial.case}, cfg {cfg}")
                path.append(w)
            wrong = [(_trajectory(v, trial, base), hint) for v, hint in variants]
            got = np.array(path, dtype=np.float64)
            with np.errstate(all="ignore"):
                close = np.isclose(got, expected, rtol=1e-7, atol=1e-12).reshape(len(got), -1).all(axis=1)
                whole = record([Mistake(traj, hint) for traj, hint in wrong],
                               lambda m: np.allclose(m.value, got, rtol=1e-7, atol=1e-12))
            if not close.all():
                t = int(np.argmin(close))
                expect_array(got[t], expected[t], what=f"w after step {t + 1}",
                             case=f"{trial.case}, cfg {trial.cfgs[t]}", rtol=1e-7, atol=1e-12,
                             nonfinite_hint=nonfinite, mistakes=[replace(m, value=m.value[t]) for m in whole])
            if trial.w0.dtype == np.float64:  # float64 in, float64 out
                expect_float64_like(path[-1], expected[-1], what=f"w after step {len(path)}", case=trial.case)
    check.passed()


def _expect_fresh_state(name: str, state: dict[str, Any], given: dict[str, Any], w: np.ndarray, dw: np.ndarray,
                        case: str) -> None:
    """The state contract: a new dict, holding no array that is (a view of) the w or dw it was given.

    A training loop keeps the old state (to restart a step) and reuses its gradient buffer for the
    next step's gradient; a state that shares memory with either changes behind the rule's back.
    """
    if state is given:
        raise CheckFailure(f"{name} returned the state dict it was given ({case}): return a new dict (e.g. "
                           f"`{{'velocity': v}}`), so that the caller's old state stays as it was.")
    for key, value in state.items():
        for label, arr in (("dw", dw), ("w", w)):
            if isinstance(value, np.ndarray) and np.shares_memory(value, arr):
                raise CheckFailure(
                    f"{name}'s new state[{key!r}] is the array {label} it was given (or a view of it) ({case}). The "
                    f"caller may overwrite {label} after the step (a training loop reuses its gradient buffer), which "
                    f"would change your state too: store a new array (e.g. `dw.copy()`, or the result of an "
                    f"arithmetic expression).")


# --------------------------------------------------------------------------- momentum family


def _momentum_wrong_sign(w, dw, s, c):
    v = c["momentum"] * s.get("v", np.zeros_like(w)) - dw
    return w - c["lr"] * v, {"v": v}


def _momentum_lecture_form(w, dw, s, c):
    v = c["momentum"] * s.get("v", np.zeros_like(w)) - c["lr"] * dw
    return w + v, {"v": v}


def _momentum_dampened(w, dw, s, c):
    v = c["momentum"] * s.get("v", np.zeros_like(w)) + (1 - c["momentum"]) * dw
    return w - c["lr"] * v, {"v": v}


def _momentum_old_velocity(w, dw, s, c):
    old = s.get("v", np.zeros_like(w))
    return w - c["lr"] * old, {"v": c["momentum"] * old + dw}


def _momentum_forgetful(w, dw, s, c):
    return w - c["lr"] * dw, {}


_MOMENTUM_CONVENTION = ("this is the velocity-with-lr form v ← μv − lr·dw, w ← w + v. It matches while lr is "
                        "constant, but not once lr changes: keep the velocity without the learning rate, "
                        "v ← μv + dw, and step w ← w − lr·v (PyTorch's convention).")


@exercise("sgd_momentum")
def check_sgd_momentum(sgd_momentum: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``sgd_momentum(w, dw, state, cfg) -> (w, state)``: v ← μv + dw; w ← w − lr·v."""
    _check_rule("sgd_momentum", sgd_momentum, ref.sgd_momentum, {"lr": 0.1, "momentum": 0.9}, [
        (_momentum_wrong_sign, "the gradient enters the velocity with the wrong sign: v ← μv + dw, "
                               "then w ← w − lr·v (or, equivalently, subtract lr·dw and add v)."),
        (_momentum_lecture_form, _MOMENTUM_CONVENTION),
        (_momentum_dampened, "don't scale the gradient by (1 − μ): v ← μv + dw (no dampening)."),
        (_momentum_old_velocity, "update the velocity first, then step with the new velocity."),
        (_momentum_forgetful, "that is plain SGD: keep the velocity in the state and add μ times it "
                              "to the gradient at every step."),
    ], hidden)


def _nesterov_plain_momentum(w, dw, s, c):
    v = c["momentum"] * s.get("v", np.zeros_like(w)) + dw
    return w - c["lr"] * v, {"v": v}


def _nesterov_lecture_order(w, dw, s, c):
    old = s.get("v", np.zeros_like(w))
    return w + old, {"v": c["momentum"] * old - c["lr"] * dw}


def _nesterov_cs231n(w, dw, s, c):
    old = s.get("v", np.zeros_like(w))
    v = c["momentum"] * old - c["lr"] * dw
    return w - c["momentum"] * old + (1 + c["momentum"]) * v, {"v": v}


def _nesterov_wrong_sign(w, dw, s, c):
    v = c["momentum"] * s.get("v", np.zeros_like(w)) + dw
    return w - c["lr"] * (dw - c["momentum"] * v), {"v": v}


@exercise("nesterov")
def check_nesterov(nesterov: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``nesterov(w, dw, state, cfg) -> (w, state)``: v ← μv + dw; w ← w − lr·(dw + μv)."""
    _check_rule("nesterov", nesterov, ref.nesterov, {"lr": 0.1, "momentum": 0.9}, [
        (_nesterov_plain_momentum, "that is plain momentum (w ← w − lr·v, i.e. dw + μ·v with the velocity "
                                   "before this step's update). Nesterov looks ahead: update v ← μv + dw "
                                   "first, then step w ← w − lr·(dw + μ·v) with the new v."),
        (_nesterov_lecture_order, "this follows the lecture's order (W ← W + V, then V ← βV − αg), which "
                                  "applies each gradient one step late and is not Nesterov's method: "
                                  "update v ← μv + dw, then step w ← w − lr·(dw + μ·v)."),
        (_nesterov_cs231n, "this is the velocity-with-lr form (v ← μv − lr·dw). It matches while lr is "
                           "constant, but not once lr changes: keep v without lr, v ← μv + dw, and step "
                           "w ← w − lr·(dw + μv) (PyTorch's convention)."),
        (_nesterov_wrong_sign, "the look-ahead term has the wrong sign: w ← w − lr·(dw + μ·v)."),
    ], hidden)


# --------------------------------------------------------------------------- adaptive rules


def _adagrad_no_accumulation(w, dw, s, c):
    return w - c["lr"] * dw / (np.sqrt(dw * dw) + c["eps"]), {}


def _adagrad_eps_inside(w, dw, s, c):
    r = s.get("r", 0.0) + dw * dw
    return w - c["lr"] * dw / np.sqrt(r + c["eps"]), {"r": r}


def _adagrad_no_sqrt(w, dw, s, c):
    r = s.get("r", 0.0) + dw * dw
    return w - c["lr"] * dw / (r + c["eps"]), {"r": r}


def _adagrad_stale(w, dw, s, c):
    r = s.get("r", np.zeros_like(w))
    return w - c["lr"] * dw / (np.sqrt(r) + c["eps"]), {"r": r + dw * dw}


_EPS_OUTSIDE = ("ε belongs outside the square root here: divide by (√r + ε), as PyTorch does "
                "(√(r + ε) is the lecture's variant).")


@exercise("adagrad")
def check_adagrad(adagrad: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``adagrad(w, dw, state, cfg) -> (w, state)``: r ← r + dw²; w ← w − lr·dw/(√r + ε)."""
    _check_rule("adagrad", adagrad, ref.adagrad, {"lr": 0.1, "eps": 1e-10}, [
        (_adagrad_no_accumulation, "r must accumulate: r ← r + dw², summed over all steps so far "
                                   "(dividing by |dw| alone gives sign-SGD)."),
        (_adagrad_eps_inside, _EPS_OUTSIDE),
        (_adagrad_no_sqrt, "divide by the square root of the accumulated squares, √r + ε."),
        (_adagrad_stale, "add this step's dw² to r before dividing by √r + ε."),
    ], hidden, eps_key=True)


def _rmsprop_eps_inside(w, dw, s, c):
    r = c["alpha"] * s.get("r", 0.0) + (1 - c["alpha"]) * dw * dw
    return w - c["lr"] * dw / np.sqrt(r + c["eps"]), {"r": r}


def _rmsprop_swapped(w, dw, s, c):
    r = (1 - c["alpha"]) * s.get("r", 0.0) + c["alpha"] * dw * dw
    return w - c["lr"] * dw / (np.sqrt(r) + c["eps"]), {"r": r}


def _rmsprop_sum(w, dw, s, c):
    r = s.get("r", 0.0) + dw * dw
    return w - c["lr"] * dw / (np.sqrt(r) + c["eps"]), {"r": r}


def _rmsprop_no_sqrt(w, dw, s, c):
    r = c["alpha"] * s.get("r", 0.0) + (1 - c["alpha"]) * dw * dw
    return w - c["lr"] * dw / (r + c["eps"]), {"r": r}


def _rmsprop_starts_at_dw2(w, dw, s, c):
    r = dw * dw if "r" not in s else c["alpha"] * s["r"] + (1 - c["alpha"]) * dw * dw
    return w - c["lr"] * dw / (np.sqrt(r) + c["eps"]), {"r": r}


@exercise("rmsprop")
def check_rmsprop(rmsprop: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``rmsprop(w, dw, state, cfg) -> (w, state)``: r ← αr + (1 − α)dw²; w ← w − lr·dw/(√r + ε)."""
    _check_rule("rmsprop", rmsprop, ref.rmsprop, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}, [
        (_rmsprop_eps_inside, _EPS_OUTSIDE),
        (_rmsprop_swapped, "α and 1 − α are swapped: r ← α·r + (1 − α)·dw² keeps most of the old average."),
        (_rmsprop_sum, "that is Adagrad's sum: RMSprop keeps a leaky average r ← α·r + (1 − α)·dw²."),
        (_rmsprop_no_sqrt, "divide by the square root of the average, √r + ε."),
        (_rmsprop_starts_at_dw2, "r starts at 0 (so the first r is (1 − α)·dw²), as in PyTorch; "
                                 "don't initialise it with the first dw²."),
    ], hidden, eps_key=True)


def _adadelta_eps_outside(w, dw, s, c):
    r = c["rho"] * s.get("r", 0.0) + (1 - c["rho"]) * dw * dw
    u = s.get("u", np.zeros_like(w))
    d = (np.sqrt(u) + c["eps"]) / (np.sqrt(r) + c["eps"]) * dw
    return w - c["lr"] * d, {"r": r, "u": c["rho"] * u + (1 - c["rho"]) * d * d}


def _adadelta_u_first(w, dw, s, c):
    r = c["rho"] * s.get("r", 0.0) + (1 - c["rho"]) * dw * dw
    u = c["rho"] * s.get("u", 0.0) + (1 - c["rho"]) * dw * dw
    d = np.sqrt(u + c["eps"]) / np.sqrt(r + c["eps"]) * dw
    return w - c["lr"] * d, {"r": r, "u": u}


def _adadelta_upside_down(w, dw, s, c):
    r = c["rho"] * s.get("r", 0.0) + (1 - c["rho"]) * dw * dw
    u = s.get("u", np.zeros_like(w))
    d = np.sqrt(r + c["eps"]) / np.sqrt(u + c["eps"]) * dw
    return w - c["lr"] * d, {"r": r, "u": c["rho"] * u + (1 - c["rho"]) * d * d}


def _adadelta_no_lr(w, dw, s, c):
    w2, s2 = ref.adadelta(w, dw, s, dict(c, lr=1.0))
    return w2, s2


def _adadelta_no_sqrt(w, dw, s, c):
    r = c["rho"] * s.get("r", 0.0) + (1 - c["rho"]) * dw * dw
    u = s.get("u", np.zeros_like(w))
    d = (u + c["eps"]) / (r + c["eps"]) * dw
    return w - c["lr"] * d, {"r": r, "u": c["rho"] * u + (1 - c["rho"]) * d * d}


@exercise("adadelta")
def check_adadelta(adadelta: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``adadelta(w, dw, state, cfg) -> (w, state)`` (ε inside both square roots)."""
    _check_rule("adadelta", adadelta, ref.adadelta, {"lr": 1.0, "rho": 0.9, "eps": 1e-6}, [
        (_adadelta_eps_outside, "Adadelta puts ε inside both square roots: Δ = √(u + ε) / √(r + ε) · dw."),
        (_adadelta_u_first, "u averages the squared *steps* Δ², updated after Δ is computed from the old u."),
        (_adadelta_upside_down, "the ratio is upside down: Δ = √(u + ε) / √(r + ε) · dw."),
        (_adadelta_no_lr, "multiply the step by lr: w ← w − lr·Δ (lr = 1 is only the default)."),
        (_adadelta_no_sqrt, "take square roots: Δ = √(u + ε) / √(r + ε) · dw."),
    ], hidden, eps_key=True)


def _adam_parts(w, dw, s, c):
    t = s.get("t", 0) + 1
    m = c["beta1"] * s.get("m", 0.0) + (1 - c["beta1"]) * dw
    v = c["beta2"] * s.get("v", 0.0) + (1 - c["beta2"]) * dw * dw
    return t, m, v, {"t": t, "m": m, "v": v}


def _adam_no_correction(w, dw, s, c):
    t, m, v, st = _adam_parts(w, dw, s, c)
    return w - c["lr"] * m / (np.sqrt(v) + c["eps"]), st


def _adam_lecture(w, dw, s, c):
    t, m, v, st = _adam_parts(w, dw, s, c)
    return w - c["lr"] * (m / c["beta1"]) / (np.sqrt(v / c["beta2"]) + c["eps"]), st


def _adam_lecture_literal(w, dw, s, c):
    # The lecture's recursion taken literally: the state keeps the averages already divided by β.
    m = (c["beta1"] * s.get("m", 0.0) + (1 - c["beta1"]) * dw) / c["beta1"]
    v = (c["beta2"] * s.get("v", 0.0) + (1 - c["beta2"]) * dw * dw) / c["beta2"]
    return w - c["lr"] * m / (np.sqrt(v) + c["eps"]), {"m": m, "v": v}


def _adam_eps_inside(w, dw, s, c):
    t, m, v, st = _adam_parts(w, dw, s, c)
    return w - c["lr"] * (m / (1 - c["beta1"] ** t)) / np.sqrt(v / (1 - c["beta2"] ** t) + c["eps"]), st


def _adam_t_from_zero(w, dw, s, c):
    t, m, v, st = _adam_parts(w, dw, s, c)
    return w - c["lr"] * (m / (1 - c["beta1"] ** (t - 1))) / (np.sqrt(v / (1 - c["beta2"] ** (t - 1))) + c["eps"]), st


def _adam_t_frozen(w, dw, s, c):
    t, m, v, st = _adam_parts(w, dw, s, c)
    return w - c["lr"] * (m / (1 - c["beta1"])) / (np.sqrt(v / (1 - c["beta2"])) + c["eps"]), st


def _adam_first_moment_only(w, dw, s, c):
    t, m, v, st = _adam_parts(w, dw, s, c)
    return w - c["lr"] * (m / (1 - c["beta1"] ** t)) / (np.sqrt(v) + c["eps"]), st


@exercise("adam")
def check_adam(adam: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``adam(w, dw, state, cfg) -> (w, state)`` with bias correction 1 − βᵗ, ε outside the root."""
    _check_rule("adam", adam, ref.adam, {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, [
        (_adam_no_correction, "m and v start at 0 and are biased towards 0: divide them by the bias "
                              "corrections 1 − β₁ᵗ and 1 − β₂ᵗ."),
        (_adam_lecture, "the bias correction divides by 1 − βᵗ (t = number of steps), not by β "
                        "as the lecture's formula says."),
        (_adam_lecture_literal, "this is the lecture's recursion taken literally: the state keeps m/β₁ and v/β₂, "
                                "so the division by β compounds and the steps grow like √t. Keep the plain "
                                "averages m and v in the state and divide copies by 1 − βᵗ (t = number of steps)."),
        (_adam_t_from_zero, "count steps from t = 1: increment t before using it (1 − β⁰ = 0)."),
        (_adam_t_frozen, "t must count the steps: keep it in the state and increment it every call."),
        (_adam_eps_inside, _EPS_OUTSIDE.replace("(√r + ε)", "(√v̂ + ε)")),
        (_adam_first_moment_only, "correct both moments: v̂ = v / (1 − β₂ᵗ) too."),
    ], hidden, eps_key=True, nonfinite="inf or nan appeared: count steps from t = 1 (increment t before "
                                       "using it; 1 − β⁰ = 0) and add ε to √v̂ so that the denominator is never 0.")


# --------------------------------------------------------------------------- schedules


ScheduleCase = tuple[str, tuple[Any, ...], dict[str, Any], int]


def _check_schedule(name: str, student: Callable[..., Any], reference: Callable[..., float],
                    cases: list[ScheduleCase],
                    mistakes: Callable[[tuple[Any, ...], dict[str, Any], np.ndarray], list[Mistake]],
                    hidden: bool) -> None:
    """Evaluate ``student(*head, t, *tail, **kwargs)`` for t = 0 … T − 1 and compare the whole schedule.

    Each case is (description, positional arguments with None where t goes, keyword arguments,
    number of epochs T); the returned learning rates must be single numbers. ``mistakes(args,
    kwargs, ts)`` gives the known wrong schedules for a case.
    """
    check = CheckRun(name, hidden)
    for case, args, kwargs, epochs in check.cases(cases):
        with check.case():
            ts = np.arange(epochs)
            got = []
            for t in ts:
                call = tuple(int(t) if a is None else a for a in args)
                value = call_student(student, *call, name=name, **kwargs)
                if hasattr(value, "detach") or isinstance(value, (bool, np.bool_)) or np.ndim(value) != 0 \
                        or not isinstance(value, (int, float, np.integer, np.floating, np.ndarray)):
                    raise CheckFailure(f"{name} should return one number (a float), got {type(value).__name__} "
                                       f"({case}, t={t}).")
                got.append(float(value))
            expected = np.array([reference(*(int(t) if a is None else a for a in args), **kwargs) for t in ts])
            expect_array(np.array(got), expected, what="the schedule", case=f"{case}; values for t = 0…{epochs - 1}",
                         mistakes=mistakes(args, kwargs, ts))
    check.passed()


@exercise("step_decay")
def check_step_decay(step_decay: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``step_decay(lr0, t, step_size, gamma=0.1) -> float``: lr₀·γ^⌊t/step_size⌋."""
    rng = case_rng(hidden, SALT)
    cases: list[ScheduleCase] = [
        ("lr0=0.1, step_size=3, gamma=0.5", (0.1, None, 3), {"gamma": 0.5}, 12),
        ("lr0=1.0, step_size=1, gamma left at its default", (1.0, None, 1), {}, 6),
    ]
    if hidden:
        g = float(rng.uniform(0.1, 0.9))
        lr0 = float(rng.uniform(0.01, 1))
        size = int(rng.integers(2, 8))
        cases += [
            ("lr0=0.05, step_size=10, gamma=0.3", (0.05, None, 10, 0.3), {}, 45),
            ("lr0=2.0, step_size=4, gamma=1.0 (constant)", (2.0, None, 4), {"gamma": 1.0}, 9),
            ("integer lr0=1, step_size=2, gamma=0.5", (1, None, 2, 0.5), {}, 7),
            ("learning rate 0: lr0=0.0, step_size=2, gamma=0.5", (0.0, None, 2, 0.5), {}, 5),
            (f"lr0={lr0:.4g}, step_size={size}, gamma={g:.4g}", (lr0, None, size), {"gamma": g}, 30),
        ]

    def mistakes(args: tuple[Any, ...], kwargs: dict[str, Any], ts: np.ndarray) -> list[Mistake]:
        lr0, size = args[0], args[2]
        g = args[3] if len(args) > 3 else kwargs.get("gamma", 0.1)
        return [
            Mistake(lr0 * g ** ((ts + 1) // size), "off by one: the first drop comes at t = step_size "
                    "(epochs 0 … step_size − 1 use lr0); use ⌊t / step_size⌋."),
            Mistake(lr0 * g ** np.ceil(ts / size), "use the floor ⌊t / step_size⌋, not the ceiling: "
                    "epochs 0 … step_size − 1 use lr0."),
            Mistake(lr0 * g ** (ts / size), "the learning rate drops in steps: the exponent is the "
                    "whole number ⌊t / step_size⌋ (use //)."),
            Mistake(lr0 * g ** ts, "that decays every epoch: raise γ to the number of completed "
                    "steps ⌊t / step_size⌋, not to t."),
            Mistake(lr0 * g * (ts // size), "raise γ to a power, lr0 · γ^⌊t/step_size⌋; don't multiply by it."),
        ]

    _check_schedule("step_decay", step_decay, ref.step_decay, cases, mistakes, hidden)


@exercise("exponential_decay")
def check_exponential_decay(exponential_decay: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``exponential_decay(lr0, t, gamma) -> float``: lr₀·γᵗ."""
    rng = case_rng(hidden, SALT)
    cases: list[ScheduleCase] = [
        ("lr0=0.1, gamma=0.9", (0.1, None, 0.9), {}, 10),
        ("lr0=1.0, gamma=0.5", (1.0, None, 0.5), {}, 6),
    ]
    if hidden:
        g = float(rng.uniform(0.8, 0.999))
        cases += [
            ("lr0=0.3, gamma=1.0 (constant)", (0.3, None, 1.0), {}, 5),
            ("integer lr0=2, gamma=0.8", (2, None, 0.8), {}, 6),
            ("learning rate 0: lr0=0.0, gamma=0.9", (0.0, None, 0.9), {}, 4),
            (f"lr0=0.01, gamma={g:.4g}, 100 epochs", (0.01, None, g), {}, 100),
        ]

    def mistakes(args: tuple[Any, ...], kwargs: dict[str, Any], ts: np.ndarray) -> list[Mistake]:
        lr0, g = args[0], args[2]
        return [
            Mistake(lr0 * g ** (ts + 1), "off by one: epoch 0 uses lr0 itself (γ⁰ = 1), so α_t = lr0·γᵗ."),
            Mistake(lr0 * (1 - g) ** ts, "γ is the factor kept each epoch, not the fraction removed: α_t = lr0·γᵗ."),
            Mistake(lr0 * np.exp(-g * ts), "that is lr0·e^(−γt), with γ as a decay rate; here γ is the factor per "
                    "epoch: α_t = lr0·γᵗ (PyTorch's ExponentialLR)."),
            Mistake(lr0 * g * ts, "raise γ to the power t: α_t = lr0·γᵗ, not lr0·γ·t."),
            Mistake(lr0 / (1 + g * ts), "that is inverse-time decay lr0/(1 + γt); exponential decay is lr0·γᵗ."),
        ]

    _check_schedule("exponential_decay", exponential_decay, ref.exponential_decay, cases, mistakes, hidden)


@exercise("cosine_annealing")
def check_cosine_annealing(cosine_annealing: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``cosine_annealing(lr0, t, t_max, lr_min=0.0) -> float``: lr_min + ½(lr₀ − lr_min)(1 + cos(πt/T))."""
    rng = case_rng(hidden, SALT)
    cases: list[ScheduleCase] = [
        ("lr0=0.1, t_max=10, lr_min left at its default", (0.1, None, 10), {}, 11),
        ("lr0=0.5, t_max=8, lr_min=0.01", (0.5, None, 8), {"lr_min": 0.01}, 9),
    ]
    if hidden:
        big = int(rng.integers(20, 60))
        cases += [
            ("lr0=0.2, t_max=1, lr_min=0.05", (0.2, None, 1, 0.05), {}, 2),
            ("lr0 = lr_min = 0.03 (constant), t_max=5", (0.03, None, 5), {"lr_min": 0.03}, 6),
            ("integer lr0=1, t_max=4", (1, None, 4), {}, 5),
            ("learning rate 0: lr0=0.0, t_max=3", (0.0, None, 3), {}, 4),
            (f"lr0=0.1, t_max={big}, lr_min=1e-4", (0.1, None, big), {"lr_min": 1e-4}, big + 1),
        ]

    def mistakes(args: tuple[Any, ...], kwargs: dict[str, Any], ts: np.ndarray) -> list[Mistake]:
        lr0, t_max = args[0], args[2]
        lr_min = args[3] if len(args) > 3 else kwargs.get("lr_min", 0.0)
        span, phase = lr0 - lr_min, np.pi * ts / t_max
        return [
            Mistake(lr_min + span * (1 + np.cos(phase)), "multiply by ½: ½(1 + cos) runs from 1 down to 0."),
            Mistake(lr_min + 0.5 * span * (1 + np.cos(ts / t_max)), "the angle is π·t/T (radians): at t = T the "
                    "cosine must reach cos π = −1."),
            Mistake(0.5 * lr0 * (1 + np.cos(phase)), "the schedule ends at lr_min, not 0: α_t = lr_min + "
                    "½(lr0 − lr_min)(1 + cos(πt/T)).", partial=True),
            Mistake(lr_min + 0.5 * span * (1 - np.cos(phase)), "the schedule starts at lr0 and falls: use 1 + cos, "
                    "not 1 − cos."),
            Mistake(lr_min + 0.5 * span * (1 + np.cos(2 * phase)), "half a period over T epochs: the angle is πt/T, "
                    "not 2πt/T."),
        ]

    _check_schedule("cosine_annealing", cosine_annealing, ref.cosine_annealing, cases, mistakes, hidden)


# --------------------------------------------------------------------------- mini-batch training


def _softmax_regression_loss(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray
                             ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy of softmax regression s = X W + b, and its gradients (the check's model)."""
    s = X @ params["W"] + params["b"]
    s = s - s.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    n = len(y)
    ds = np.exp(logp)
    ds[np.arange(n), y] -= 1.0
    ds /= n
    return float(-logp[np.arange(n), y].mean()), {"W": X.T @ ds, "b": ds.sum(axis=0)}


def _train_variant(params, X, y, lr, b, epochs, seed, *, shuffle="each", drop_last=False, grad_scale=1.0):
    """The reference loop with one known mistake switched on (for diagnostics)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    params = {k: v.copy() for k, v in params.items()}
    losses = []
    perm = rng.permutation(n) if shuffle == "once" else None
    for _ in range(epochs):
        order = {"each": lambda: rng.permutation(n), "once": lambda: perm, "none": lambda: np.arange(n)}[shuffle]()
        stop = n - n % b if drop_last else n
        for start in range(0, stop, b):
            idx = order[start:start + b]
            loss, g = _softmax_regression_loss(params, X[idx], y[idx])
            params = {k: p - lr * grad_scale * g[k] for k, p in params.items()}
            losses.append(loss)
    return params, np.array(losses)


@exercise("train_minibatch")
def check_train_minibatch(train_minibatch: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``train_minibatch(loss_fn, params, X, y, *, lr, batch_size, epochs, rng) -> (params, losses)``."""
    rng = case_rng(hidden, SALT)
    dims = [(23, 5, 2, 0.5, ""), (20, 4, 3, 0.3, "")]  # (N, batch size, epochs, lr, what else)
    if hidden:
        dims += [(17, 17, 4, 0.5, ""), (9, 1, 2, 0.2, ""), (6, 10, 3, 0.5, ""),
                 (int(rng.integers(20, 40)), 7, 2, 0.4, ""),
                 (10, 3, 2, 0.0, ""),  # learning rate 0: the losses are all the same batches' losses at the start
                 (8, 3, 0, 0.5, ""),  # no epoch at all: copies of the initial parameters
                 (12, 5, 2, 0.5, "integer initial b"), (11, 4, 2, 0.5, "X transposed (non-contiguous)")]
    check = CheckRun("train_minibatch", hidden)
    for n, b, epochs, lr, extra in check.cases(dims):
        with check.case():
            c = 3
            X = rng.standard_normal((n, 2))
            y = rng.integers(0, c, size=n)
            X += 1.5 * np.eye(c, 2)[y]  # learnable but not separable
            if extra.startswith("X transposed"):
                X = X.T.copy().T
            params = {"W": 0.1 * rng.standard_normal((2, c)),
                      "b": np.zeros(c, dtype=int) if extra.startswith("integer") else np.zeros(c)}
            seed = int(rng.integers(1 << 30))
            case = f"N={n}, batch_size={b}, epochs={epochs}, lr={lr}" + (f", {extra}" if extra else "")
            sizes: list[int] = []

            def loss_fn(p: dict[str, np.ndarray], Xb: np.ndarray, yb: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
                sizes.append(len(yb))
                return _softmax_regression_loss(p, Xb, yb)

            result = call_student(train_minibatch, loss_fn, params, X, y, lr=lr, batch_size=b, epochs=epochs,
                                  rng=np.random.default_rng(seed), name="train_minibatch")
            got_params, losses = unpack(result, 2, name="train_minibatch", names=("params", "losses"))
            want_params, want_losses = ref.train_minibatch(_softmax_regression_loss, params, X, y, lr=lr,
                                                           batch_size=b, epochs=epochs, rng=np.random.default_rng(seed))
            per_epoch = [min(b, n - s) for s in range(0, n, b)]
            if sizes != per_epoch * epochs:
                shown = sizes if len(sizes) <= 12 else sizes[:12] + ["…"]
                raise CheckFailure(
                    f"loss_fn was called on batches of sizes {shown} ({len(sizes)} calls); expected "
                    f"{per_epoch} in every one of the {epochs} epochs ({case}). Visit perm[0:B], perm[B:2B], …, "
                    f"keeping the last, smaller batch, once per epoch.")
            if not isinstance(losses, (list, tuple, np.ndarray)):
                raise CheckFailure(f"losses should be a list of floats, one per batch; got {type(losses).__name__} ({case}).")
            losses = np.asarray([float(v) for v in losses])
            variants = {
                "none": _train_variant(params, X, y, lr, b, epochs, seed, shuffle="none"),
                "once": _train_variant(params, X, y, lr, b, epochs, seed, shuffle="once"),
                "scaled": _train_variant(params, X, y, lr, b, epochs, seed, grad_scale=1.0 / b),
            }
            hints = {
                "none": "the batches are not shuffled: draw perm = rng.permutation(N) at the start of every epoch.",
                "once": "shuffle at the start of every epoch, not once before training.",
                "epoch": "record the loss of every batch (as loss_fn returns it, before the step), not one per epoch.",
                "scaled": "the loss is already a mean over the batch: step with lr·grad, don't divide by B again.",
            }
            otherwise = ("shuffle with the generator you are given: perm = rng.permutation(N) once per epoch "
                         "(np.random.* draws other numbers), and step every parameter with p − lr·grads[key].")
            expect_array(losses, np.asarray(want_losses), what="losses", case=case, hint=otherwise, mistakes=[
                *(Mistake(variants[k][1], hints[k]) for k in variants),
                Mistake(np.zeros(epochs), hints["epoch"], shape_only=True)])
            for key in ("W", "b"):
                if not isinstance(got_params, dict) or key not in got_params:
                    raise CheckFailure(f"params should be a dict with the keys of the input params ({case}).")
                expect_array(got_params[key], want_params[key], what=f"final params['{key}']", case=case,
                             hint=otherwise, mistakes=[Mistake(variants[k][0][key], hints[k]) for k in variants])
                expect_float64_like(got_params[key], want_params[key], what=f"final params['{key}']", case=case)
                if np.shares_memory(got_params[key], params[key]):
                    raise CheckFailure(
                        f"final params['{key}'] is the caller's own array (or a view of it) ({case}): return new "
                        f"arrays, so that the initial parameters stay as they were whatever the caller does with "
                        f"the result.")
    check.passed()
