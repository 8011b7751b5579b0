"""Checks for lecture 07-regularization.

Splits are checked by their properties (disjoint, complete, stratified, shuffled, seeded) rather
than by exact indices; dropout by value against the reference drawn from the same seed (the
exercise fixes the drawing call); the early-stopping tracker by replaying validation curves while
the "optimizer" keeps changing the parameter arrays in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_stratified_split",
    "check_l2_penalty",
    "check_l1_penalty",
    "check_dropout_forward",
    "check_dropout_backward",
    "check_early_stopping",
    "check_random_shift",
    "check_random_search_points",
]

SALT = 70_707  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng


# --------------------------------------------------------------------------- split


def _split_cases(hidden: bool) -> list[tuple[str, np.ndarray, float, float]]:
    rng = case_rng(hidden, SALT)
    cases = [
        ("100 labels, classes 60/30/10 in sorted order", np.repeat([0, 1, 2], [60, 30, 10]), 0.2, 0.2),
        ("50 shuffled labels, 2 classes", rng.permutation(np.repeat([0, 1], [35, 15])), 0.1, 0.3),
    ]
    if hidden:
        cases += [
            ("5 classes, 200 labels", rng.integers(0, 5, 200), 0.15, 0.15),
            ("labels 3 and 7 only", rng.choice([3, 7], 40), 0.25, 0.25),
            ("no test split", rng.integers(0, 3, 60), 0.2, 0.0),
        ]
    return cases


@exercise("stratified_split")
def check_stratified_split(stratified_split: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``stratified_split(y, val_fraction, test_fraction, rng) -> (train_idx, val_idx, test_idx)``."""
    run = CheckRun("stratified_split", hidden)
    for case, y, fv, ft in run.cases(_split_cases(hidden)):
        with run.case():
            def split(seed: int) -> tuple[np.ndarray, ...]:
                result = call_student(stratified_split, y, fv, ft, rng=np.random.default_rng(seed), name="stratified_split")
                parts = unpack(result, 3, name="stratified_split", names=("train_idx", "val_idx", "test_idx"))
                for name, part in zip(("train_idx", "val_idx", "test_idx"), parts):
                    if not isinstance(part, np.ndarray) or part.ndim != 1 or (part.size and part.dtype.kind not in "iu"):
                        raise CheckFailure(f"{name} should be a 1-D NumPy array of integer indices ({case}).")
                return parts

            case = f"{case}, val_fraction={fv}, test_fraction={ft}"
            train, val, test = split(1)
            everything = np.concatenate([train, val, test])
            if len(np.unique(everything)) != len(everything):
                raise CheckFailure(f"the three splits overlap: an example must be in exactly one of them ({case}).")
            if len(everything) != len(y) or not np.array_equal(np.sort(everything), np.arange(len(y))):
                raise CheckFailure(f"the splits hold {len(everything)} indices of the {len(y)} examples: every index "
                                   f"0…N−1 must appear exactly once (watch the rounding of the last part) ({case}).")
            for name, part, frac in (("val_idx", val, fv), ("test_idx", test, ft)):
                for c in np.unique(y):
                    n_c = int(np.sum(y == c))
                    got = int(np.sum(y[part] == c))
                    if abs(got - n_c * frac) > 1:
                        raise CheckFailure(
                            f"{name} holds {got} examples of class {c}, expected about {n_c * frac:g} "
                            f"({frac:g} of its {n_c}) ({case}).\n  Hint: split every class separately (stratify), "
                            f"so each split keeps the class proportions of y.")
            again = split(1)
            if not all(np.array_equal(np.sort(a), np.sort(b)) for a, b in zip((train, val, test), again)):
                raise CheckFailure(f"two calls with the same seed gave different splits ({case}).\n  Hint: draw every "
                                   f"random number from the `rng` argument, not from np.random's global state.")
            other = split(2)
            if all(np.array_equal(np.sort(a), np.sort(b)) for a, b in zip((train, val, test), other)):
                raise CheckFailure(f"different seeds gave the same split ({case}).\n  Hint: shuffle each class's indices "
                                   f"with rng (e.g. rng.permutation) before cutting; taking the first ones puts the "
                                   f"oldest (or any ordered) examples in one split.")
    run.passed()


# --------------------------------------------------------------------------- penalties


def _params_cases(hidden: bool) -> list[tuple[str, dict[str, np.ndarray], float]]:
    rng = case_rng(hidden, SALT)
    cases = [("W1 (4, 3), b1, W2 (3, 2), b2; λ = 0.1",
              {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(3),
               "W2": rng.standard_normal((3, 2)), "b2": rng.standard_normal(2)}, 0.1)]
    if hidden:
        cases += [
            ("one conv weight W (2, 3, 3, 3) and b; λ = 0.05",
             {"W": rng.standard_normal((2, 3, 3, 3)), "b": rng.standard_normal(2)}, 0.05),
            ("W1, b1, gamma, beta, W2 with exact zeros; λ = 1.0",
             {"W1": np.where(rng.random((5, 4)) < 0.3, 0.0, rng.standard_normal((5, 4))), "b1": rng.standard_normal(4),
              "gamma": rng.standard_normal(4), "beta": rng.standard_normal(4), "W2": rng.standard_normal((4, 1))}, 1.0),
            ("λ = 0", {"W1": rng.standard_normal((3, 3)), "b1": rng.standard_normal(3)}, 0.0),
        ]
    return cases


def _check_penalty(student: Callable[..., Any], name: str, hidden: bool, kind: str) -> None:
    reference = ref.l2_penalty if kind == "l2" else ref.l1_penalty
    run = CheckRun(name, hidden)
    for case, params, lam in run.cases(_params_cases(hidden)):
        with run.case():
            result = call_student(student, params, lam, name=name)
            loss, grads = unpack(result, 2, name=name, names=("penalty", "grads"))
            e_loss, e_grads = reference(params, lam)
            w = {k: v for k, v in params.items() if k.startswith("W")}
            all_sq = sum(float(np.sum(v * v)) for v in params.values())
            all_abs = sum(float(np.sum(np.abs(v))) for v in params.values())
            if kind == "l2":
                sq = sum(float(np.sum(v * v)) for v in w.values())
                loss_m = [
                    Mistake(0.5 * lam * all_sq, "biases (and other non-weight parameters) are not penalized: sum over "
                            "the entries whose name starts with 'W' only."),
                    Mistake(lam * sq, "the L2 penalty is ½·λ·Σ‖W‖²: the ½ is missing."),
                    Mistake(0.5 * lam * math.sqrt(sq), "square the weights: ‖W‖² = Σ w², not the norm ‖W‖."),
                    Mistake(lam * sum(float(np.sum(np.abs(v))) for v in w.values()), "that is the L1 penalty λΣ|w|."),
                ]
            else:
                loss_m = [
                    Mistake(lam * all_abs, "biases (and other non-weight parameters) are not penalized: sum over "
                            "the entries whose name starts with 'W' only."),
                    Mistake(lam * sum(float(np.sum(v)) for v in w.values()), "take absolute values: λΣ|w|."),
                    Mistake(0.5 * lam * sum(float(np.sum(v * v)) for v in w.values()), "that is the L2 penalty; L1 is λΣ|w|."),
                    Mistake(0.5 * lam * sum(float(np.sum(np.abs(v))) for v in w.values()), "L1 has no ½: λΣ|w|."),
                ]
            expect_scalar(loss, e_loss, what=f"{name}'s penalty", case=case, mistakes=loss_m)
            if not isinstance(grads, dict) or set(grads) != set(params):
                raise CheckFailure(f"{name}'s grads should be a dict with the keys of params "
                                   f"({sorted(params)}), a zero gradient for the unpenalized ones ({case}).")
            for key, value in params.items():
                is_w = key.startswith("W")
                if kind == "l2":
                    m = [Mistake(lam * value, f"grads['{key}'] should be 0: biases are not penalized.", name="biases"),
                         Mistake(2 * lam * value, "the gradient of ½λ‖W‖² is λW, not 2λW."),
                         Mistake(-lam * value, "the gradient is +λW: the penalty grows with |w|."),
                         Mistake(lam * np.sign(value), "that is the L1 gradient; L2's is λW.")]
                else:
                    m = [Mistake(lam * np.sign(value), f"grads['{key}'] should be 0: biases are not penalized.",
                                 name="biases"),
                         Mistake(-lam * np.sign(value), "the gradient is +λ·sign(w) (so that descent moves w towards 0); "
                                 "lecture 002's update has this sign wrong."),
                         Mistake(lam * value, "that is the L2 gradient; L1's is λ·sign(w)."),
                         Mistake(lam * np.where(value >= 0, 1.0, -1.0), "at w = 0 use the subgradient 0 (np.sign(0) = 0)."),
                         Mistake(np.full_like(value, lam), "the gradient of λ|w| is λ·sign(w), not λ.")]
                if not is_w:
                    m = [mm for mm in m if "biases" in mm.hint]
                else:
                    m = [mm for mm in m if "biases" not in mm.hint]
                expect_array(grads[key], e_grads[key], what=f"grads['{key}']", case=case, mistakes=m)
    run.passed()


@exercise("l2_penalty")
def check_l2_penalty(l2_penalty: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``l2_penalty(params, lam) -> (½λΣ‖W‖², grads)`` (weights = names starting with "W")."""
    _check_penalty(l2_penalty, "l2_penalty", hidden, "l2")


@exercise("l1_penalty")
def check_l1_penalty(l1_penalty: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``l1_penalty(params, lam) -> (λΣ|w|, grads)`` (weights = names starting with "W")."""
    _check_penalty(l1_penalty, "l1_penalty", hidden, "l1")


# --------------------------------------------------------------------------- dropout


def _dropout_cases(hidden: bool) -> list[tuple[str, tuple[int, ...], float, bool]]:
    cases = [("x of shape (20, 30), p = 0.5, train", (20, 30), 0.5, True),
             ("x of shape (20, 30), p = 0.2, train", (20, 30), 0.2, True),
             ("x of shape (20, 30), p = 0.5, eval", (20, 30), 0.5, False)]
    if hidden:
        cases += [("x of shape (4, 3, 8, 8), p = 0.3, train", (4, 3, 8, 8), 0.3, True),
                  ("x of shape (50,), p = 0.9, train", (50,), 0.9, True),
                  ("p = 0, train", (10, 10), 0.0, True),
                  ("x of shape (4, 3, 8, 8), p = 0.3, eval", (4, 3, 8, 8), 0.3, False)]
    return cases


@exercise("dropout_forward")
def check_dropout_forward(dropout_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dropout_forward(x, p, train, rng) -> (out, cache)``: inverted dropout, mask drawn as
    ``rng.random(x.shape) < 1 - p``, cache = the scaled mask."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("dropout_forward", hidden)
    for case, shape, p, train in run.cases(_dropout_cases(hidden)):
        with run.case():
            x = rng.standard_normal(shape) + 0.5
            seed = int(rng.integers(2**31))
            result = call_student(dropout_forward, x, p, train, rng=np.random.default_rng(seed), name="dropout_forward")
            out, cache = unpack(result, 2, name="dropout_forward", names=("out", "cache"))
            e_out, e_cache = ref.dropout_forward(x, p, train, rng=np.random.default_rng(seed))
            u = np.random.default_rng(seed).random(shape)
            keep = 1 - p
            kept = u < keep
            mistakes = [
                Mistake(x * kept if train else None, "the kept units must be scaled by 1/(1 − p) (inverted "
                        "dropout), so that the expected output equals x and eval mode needs no change."),
                Mistake(x * (u < p) / p if train and p > 0 else None, "p is the probability of DROPPING a unit: "
                        "keep a unit with probability 1 − p (`rng.random(x.shape) < 1 - p`) and scale by 1/(1 − p)."),
                Mistake(x * kept * p if train and 0 < p < 1 and p != 0.5 else None,
                        "scale the kept units by 1/(1 − p), not by p."),
                Mistake(x * kept / keep if not train else None, "in eval mode (train=False) dropout does nothing: "
                        "return x unchanged."),
                Mistake(x * keep if not train else None, "with inverted dropout the scaling happened during "
                        "training: eval mode returns x itself, not (1 − p)·x (that is the old, non-inverted scheme)."),
            ]
            def misdrawn(values: np.ndarray) -> str:
                """The right fraction kept and scaled, but other units: a different drawing call."""
                if not (train and p > 0):
                    return ""
                zero = values == 0
                if np.allclose(values[~zero], x[~zero] / keep) and abs(zero.mean() - p) < 0.12:
                    return ("the right fraction is kept and scaled correctly, but not the expected units: draw the "
                            "mask in one call, `rng.random(x.shape) < 1 - p`, with the rng you were given.")
                return ""

            expect_array(out, e_out, what="dropout_forward's out", case=case, mistakes=mistakes, hint=misdrawn)
            expect_array(cache, e_cache, what="dropout_forward's cache (the scaled mask)", case=case, mistakes=[
                Mistake(kept.astype(float) if train else None, "store the *scaled* mask m/(1 − p) in the cache, "
                        "so that dropout_backward is dout * cache."),
            ])
    run.passed()


@exercise("dropout_backward")
def check_dropout_backward(dropout_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dropout_backward(dout, cache) -> dx`` with cache = the scaled mask."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("dropout_backward", hidden)
    for case, shape, p, train in run.cases(_dropout_cases(hidden)):
        with run.case():
            x = rng.standard_normal(shape)
            _, cache = ref.dropout_forward(x, p, train, rng=rng)
            dout = rng.standard_normal(shape)
            dx = call_student(dropout_backward, dout, cache, name="dropout_backward")
            expected = ref.dropout_backward(dout, cache)
            keep = 1 - p
            expect_array(dx, expected, what="dx", case=case, mistakes=[
                Mistake(dout * (cache > 0) if train and p > 0 else None, "scale the gradient like the forward "
                        "pass: dx = dout * cache, where the cache already holds m/(1 − p)."),
                Mistake(dout, "dropped units pass no gradient: multiply dout by the mask in the cache."),
                Mistake(dout * cache / keep if train and p > 0 else None,
                        "the cache is already scaled by 1/(1 − p): do not divide again."),
                Mistake(cache, "multiply the mask by dout (chain rule)."),
            ])
            if hidden and train:
                numeric = ref.numerical_gradient_array(lambda z: z * cache, x.copy(), dout)
                if np.abs(np.asarray(dx) - numeric).max() > 1e-6:
                    raise CheckFailure(f"dx disagrees with a finite-difference check ({case}).")
    run.passed()


# --------------------------------------------------------------------------- early stopping


def _curves(hidden: bool) -> list[tuple[str, list[float], int, float]]:
    curves = [
        ("a U-shaped validation curve, patience 3", [1.0, 0.8, 0.6, 0.55, 0.57, 0.6, 0.62, 0.7, 0.8], 3, 0.0),
        ("a plateau then a new best, patience 2", [1.0, 0.9, 0.95, 0.85, 0.86, 0.9, 0.7], 2, 0.0),
        ("a rise, then a slow recovery that never beats the best, patience 3", [1.0, 0.6, 0.8, 0.7, 0.65, 0.9], 3, 0.0),
    ]
    if hidden:
        rng = case_rng(True, SALT)
        noisy = list(np.round(1 / (1 + np.arange(30) / 5) + 0.003 * np.arange(30) ** 1.5 / 10
                              + 0.02 * rng.standard_normal(30), 4))
        curves += [
            ("a noisy curve, patience 4", noisy, 4, 0.0),
            ("patience 1", [0.5, 0.4, 0.45, 0.3], 1, 0.0),
            ("min_delta 0.05: improvements smaller than 0.05 do not count", [1.0, 0.97, 0.9, 0.89, 0.88, 0.7, 0.69],
             2, 0.05),
            ("equal losses are not an improvement", [0.5, 0.5, 0.5, 0.5], 2, 0.0),
        ]
    return curves


@exercise("EarlyStopping")
def check_early_stopping(EarlyStopping: Callable[..., Any], hidden: bool = False) -> None:
    """Check an ``EarlyStopping(patience, min_delta)`` class with ``step(val_loss, params) -> stop``
    and attributes ``best_loss``, ``best_epoch``, ``best_params``."""
    run = CheckRun("EarlyStopping", hidden)
    for case, losses, patience, min_delta in run.cases(_curves(hidden)):
        with run.case():
            mine = call_student(EarlyStopping, patience=patience, min_delta=min_delta, name="EarlyStopping")
            theirs = ref.EarlyStopping(patience=patience, min_delta=min_delta)
            params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
            for epoch, loss in enumerate(losses):
                # The "optimizer" changes the arrays in place, as many training loops do.
                params["W"] += 1.0
                params["b"] -= 1.0
                stop = call_student(mine.step, float(loss), params, name="EarlyStopping.step", allow_inplace=True)
                e_stop = theirs.step(float(loss), params)
                at = f"{case}; epoch {epoch}, val_loss {loss}"
                if not isinstance(stop, (bool, np.bool_)):
                    raise CheckFailure(f"step should return True or False (stop training?), got {stop!r} ({at}).")
                if bool(stop) != e_stop:
                    if e_stop:
                        hint = (f"{theirs.bad_epochs} epochs in a row without improvement reached patience {patience}: "
                                f"stop now (count epochs since the best loss, and compare with the BEST loss so far, "
                                f"not the previous epoch's).")
                    else:
                        hint = (f"only {theirs.bad_epochs} epoch(s) without improvement so far (patience {patience}); "
                                f"an improvement means val_loss < best_loss − min_delta and restarts the count at 0.")
                    raise CheckFailure(f"step returned {bool(stop)}, expected {e_stop} ({at}).\n  Hint: {hint}")
                for attr in ("best_loss", "best_epoch"):
                    if not hasattr(mine, attr):
                        raise CheckFailure(f"the tracker has no attribute `{attr}` ({at}).")
                expect_scalar(mine.best_loss, theirs.best_loss, what="best_loss", case=at)
                expect_scalar(mine.best_epoch, theirs.best_epoch, what="best_epoch", case=at)
                if e_stop:
                    break
            best = getattr(mine, "best_params", None)
            if not isinstance(best, dict) or set(best) != set(params):
                raise CheckFailure(f"best_params should be the params dict of the best epoch, got "
                                   f"{type(best).__name__} ({case}).")
            expect_array(best["W"], theirs.best_params["W"], what="best_params['W']", case=case, mistakes=[
                Mistake(params["W"], "best_params holds the LAST weights: either they were never replaced by the best "
                        "ones, or you stored a reference to arrays that training kept changing in place. Store a copy "
                        "(copy.deepcopy(params)) when the loss improves."),
            ])
    run.passed()


# --------------------------------------------------------------------------- augmentation


def _shift_mistake(x: np.ndarray, shifts: np.ndarray, *, roll: bool = False) -> np.ndarray:
    """Shift every image by its (dy, dx) with zero fill, or with wrap-around when ``roll``."""
    out = np.zeros_like(x)
    h, w = x.shape[2:]
    for i, (dy, dx) in enumerate(shifts.tolist()):
        if roll:
            out[i] = np.roll(x[i], (dy, dx), axis=(1, 2))
        else:
            out[i, :, max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)] = \
                x[i, :, max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    return out


@exercise("random_shift")
def check_random_shift(random_shift: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``random_shift(x, max_shift, rng)``: per-image whole-pixel translation with zero fill, shifts
    drawn as ``rng.integers(-max_shift, max_shift + 1, size=(N, 2))`` (dy down, dx right)."""
    rng = case_rng(hidden, SALT)
    shapes = [((6, 1, 8, 8), 2), ((4, 3, 5, 7), 1)]
    if hidden:
        shapes += [((1, 2, 6, 6), 3), ((10, 1, 4, 4), 0), ((5, 1, 3, 9), 2)]
    run = CheckRun("random_shift", hidden)
    for shape, max_shift in run.cases(shapes):
        with run.case():
            case = f"x of shape {shape}, max_shift {max_shift}"
            x = rng.random(shape) + 0.5  # no zeros, so zero fill shows
            seed = int(rng.integers(2**31))
            got = call_student(random_shift, x, max_shift, rng=np.random.default_rng(seed), name="random_shift")
            expected = ref.random_shift(x, max_shift, rng=np.random.default_rng(seed))
            shifts = np.random.default_rng(seed).integers(-max_shift, max_shift + 1, size=(shape[0], 2))
            narrow = np.random.default_rng(seed).integers(-max_shift, max_shift, size=(shape[0], 2)) if max_shift else shifts
            expect_array(got, expected, what="random_shift's output", case=case, mistakes=[
                Mistake(_shift_mistake(x, shifts, roll=True), "np.roll wraps the pixels that leave one side around to "
                        "the other; a shift should fill the uncovered border with zeros."),
                Mistake(_shift_mistake(x, -shifts), "the shift goes the wrong way: a positive dy moves the content DOWN "
                        "(out[y + dy] = x[y]), a positive dx moves it right."),
                Mistake(_shift_mistake(x, shifts[:, ::-1]), "dy and dx are swapped: the first column of the drawn shifts "
                        "moves rows (axis 2), the second columns (axis 3)."),
                Mistake(_shift_mistake(x, np.repeat(shifts[:1], shape[0], axis=0)), "every image needs its own shift: "
                        "draw (N, 2) shifts, not one for the whole batch."),
                Mistake(_shift_mistake(x, narrow) if max_shift else None, "rng.integers excludes its upper bound: "
                        "use rng.integers(-max_shift, max_shift + 1, ...) so that +max_shift can occur."),
            ])
    run.passed()


# --------------------------------------------------------------------------- search


@exercise("random_search_points")
def check_random_search_points(random_search_points: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``random_search_points(ranges, n, rng, log)``: (n, K) points drawn as
    ``rng.uniform(lo, hi, size=(n, K))`` on the bounds, log10-transformed on the ``log`` axes."""
    rng = case_rng(hidden, SALT)
    cases = [("learning rate in [1e-5, 1e-1] (log), dropout in [0, 0.5]", [(1e-5, 1e-1), (0.0, 0.5)], 20, [True, False]),
             ("two linear axes", [(-1.0, 1.0), (2.0, 3.0)], 10, [False, False])]
    if hidden:
        cases += [("three axes, λ and learning rate on log scales", [(1e-6, 1e-2), (16.0, 256.0), (1e-4, 1.0)], 30,
                   [True, False, True]),
                  ("one point", [(1e-3, 1.0)], 1, [True])]
    run = CheckRun("random_search_points", hidden)
    for case, ranges, n, log in run.cases(cases):
        with run.case():
            seed = int(rng.integers(2**31))
            got = call_student(random_search_points, ranges, n, rng=np.random.default_rng(seed), log=log,
                               name="random_search_points")
            expected = ref.random_search_points(ranges, n, rng=np.random.default_rng(seed), log=log)
            linear = ref.random_search_points(ranges, n, rng=np.random.default_rng(seed))
            r = np.random.default_rng(seed)
            per_axis = np.column_stack([r.uniform(np.log10(a) if g else a, np.log10(b) if g else b, size=n)
                                        for (a, b), g in zip(ranges, log)])
            per_axis = np.where(np.asarray(log), 10**per_axis, per_axis)
            u = np.random.default_rng(seed).uniform([np.log10(a) if g else a for (a, _), g in zip(ranges, log)],
                                                    [np.log10(b) if g else b for (_, b), g in zip(ranges, log)],
                                                    size=(n, len(ranges)))
            natural = np.where(np.asarray(log), np.exp(u), u)  # the log10 exponent raised to e**u
            expect_array(got, expected, what="the sampled points", case=case, mistakes=[
                Mistake(linear if any(log) else None, "the log axes are sampled uniformly in the value itself: "
                        "draw the exponent uniformly (log10(lo) … log10(hi)) and return 10**exponent, so that every "
                        "decade gets the same share of the points."),
                Mistake(per_axis if len(ranges) > 1 and n > 1 else None, "draw all points in one call, "
                        "rng.uniform(lo, hi, size=(n, K)) with the (transformed) bounds as arrays: axis-by-axis draws "
                        "give other values from the same rng."),
                Mistake(natural if any(log) else None, "the exponent drawn in log10 units must be raised to "
                        "10**u, not e**u."),
            ])
    run.passed()
