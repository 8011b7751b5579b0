"""Checks for lecture 07-regularization.

Splits are checked by their properties (disjoint, complete, stratified, shuffled, seeded) rather
than by exact indices; dropout and DropConnect by value against the reference drawn from the same
seed (the exercise fixes the drawing call); the early-stopping tracker by replaying validation
curves while the "optimizer" keeps changing the parameters, in place or by rebinding them.

Hidden cases also hold the inputs real code meets: the documented defaults (a call without the
optional arguments), integer arrays where integers are valid (labels, pixel values, integer
weights and bounds, error counts as validation losses), transposed and strided (non-contiguous)
arrays, exact zeros at |w|'s kink, labels that skip values and classes with one example, the
extremes of the rates (dropout p = 0 and p = 1, DropConnect p near 1, λ = 0, empty splits), a batch
of one, float64 results for float64 inputs, and the cache/state contract (the scaled mask, new
dicts and copies that do not follow the caller's later changes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

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
from dlcourse.checks.gradients import GRAD_TOL, expect_backward_matches_finite_differences
from dlcourse.checks.guard import call_strict, call_student, unpack

__all__ = [
    "check_stratified_split",
    "check_l2_penalty",
    "check_l1_penalty",
    "check_dropout_forward",
    "check_dropout_backward",
    "check_dropconnect_forward",
    "check_dropconnect_backward",
    "check_early_stopping",
    "check_random_shift",
    "check_random_search_points",
]

SALT = 70_707  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

# Integers are valid input (pixel values, integer weights): an array made with np.zeros_like(x)
# (or dtype=x.dtype) then has an integer dtype, and float results written into it are cut.
TRUNCATED = ("the input is an integer array here, and your result looks cut to whole numbers: an array made with "
             "np.zeros_like(x) (or dtype=x.dtype) has the input's integer dtype. Create float arrays "
             "(np.zeros(x.shape)) or compute the result directly.")




def _transposed(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` in a transposed memory layout (Fortran order): not C-contiguous."""
    return np.asfortranarray(a)


def _strided(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` as a view of every other entry of a larger array: neither C- nor F-contiguous."""
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    return big[..., ::2]


# --------------------------------------------------------------------------- split


def _split_cases(hidden: bool) -> list[tuple[str, np.ndarray, float | None, float | None]]:
    """(case, y, val_fraction, test_fraction); fractions None: called without them (defaults 0.2 and 0.2)."""
    rng = case_rng(hidden, SALT)
    cases: list[tuple[str, np.ndarray, float | None, float | None]] = [
        ("100 labels, classes 60/30/10 in sorted order", np.repeat([0, 1, 2], [60, 30, 10]), 0.2, 0.2),
        ("50 shuffled labels, 2 classes", rng.permutation(np.repeat([0, 1], [35, 15])), 0.1, 0.3),
    ]
    if hidden:
        cases += [
            ("5 classes, 200 labels", rng.integers(0, 5, 200), 0.15, 0.15),
            ("labels 3 and 7 only", rng.choice([3, 7], 40), 0.25, 0.25),
            ("no test split", rng.integers(0, 3, 60), 0.2, 0.0),
            ("fractions left at their defaults (0.2 and 0.2), 3 classes", rng.integers(0, 3, 90), None, None),
            ("uint8 labels 2, 5 and 9, a strided (non-contiguous) view", _strided(rng.choice(
                np.array([2, 5, 9], dtype=np.uint8), 60)), 0.2, 0.2),
            ("class 4 has a single example", np.concatenate([rng.integers(0, 2, 30), [4]]), 0.2, 0.2),
            ("no validation and no test split", rng.integers(0, 2, 20), 0.0, 0.0),
        ]
    return cases


def _first_missing_class(y: np.ndarray, found: np.ndarray) -> Any:
    """A label none of whose examples is in any split, or None."""
    present = np.zeros(len(y), dtype=bool)
    present[found[(found >= 0) & (found < len(y))]] = True
    lost = [c for c in np.unique(y) if not present[y == c].any()]
    return lost[0] if lost else None


@exercise("stratified_split")
def check_stratified_split(stratified_split: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``stratified_split(y, val_fraction, test_fraction, rng) -> (train_idx, val_idx, test_idx)``."""
    run = CheckRun("stratified_split", hidden)
    for case, y, given_fv, given_ft in run.cases(_split_cases(hidden)):
        with run.case():
            fractions = () if given_fv is None else (given_fv, given_ft)
            fv, ft = (0.2, 0.2) if given_fv is None else (given_fv, given_ft)

            def split(seed: int) -> tuple[np.ndarray, ...]:
                result = call_student(stratified_split, y, *fractions, rng=np.random.default_rng(seed),
                                      name="stratified_split")
                parts = unpack(result, 3, name="stratified_split", names=("train_idx", "val_idx", "test_idx"))
                for name, part in zip(("train_idx", "val_idx", "test_idx"), parts):
                    if not isinstance(part, np.ndarray) or part.ndim != 1 or part.dtype.kind not in "iu":
                        dtype = f", dtype {part.dtype}" if isinstance(part, np.ndarray) else ""
                        raise CheckFailure(
                            f"{name} should be a 1-D NumPy array of integer indices{dtype} ({case}).\n  Hint: an "
                            f"empty part must be an integer array too (np.array([]) is float64, and indexing with "
                            f"it fails): e.g. np.array([], dtype=int), or concatenate integer index arrays.")
                return parts

            case = f"{case}, " + ("val_fraction and test_fraction left at their defaults" if given_fv is None
                                  else f"val_fraction={fv}, test_fraction={ft}")
            train, val, test = split(1)
            everything = np.concatenate([train, val, test])
            if len(np.unique(everything)) != len(everything):
                raise CheckFailure(f"the three splits overlap: an example must be in exactly one of them ({case}).")
            lost = _first_missing_class(y, everything)
            if lost is not None:
                raise CheckFailure(
                    f"no example of class {lost} is in any of the splits ({case}).\n  Hint: loop over the labels "
                    f"that occur, np.unique(y): labels need not run from 0 to K − 1 (range(K) misses them).")
            if len(everything) != len(y) or not np.array_equal(np.sort(everything), np.arange(len(y))):
                raise CheckFailure(f"the splits hold {len(everything)} indices of the {len(y)} examples: every index "
                                   f"0…N−1 must appear exactly once (watch the rounding of the last part) ({case}).")
            for name, part, frac in (("val_idx", val, fv), ("test_idx", test, ft)):
                for c in np.unique(y):
                    n_c = int(np.sum(y == c))
                    got = int(np.sum(y[part] == c))
                    if abs(got - n_c * frac) > 1:
                        hint = ("split every class separately (stratify), so each split keeps the class proportions "
                                "of y." if given_fv is not None else "the function was called without the "
                                "fractions: their defaults are val_fraction=0.2 and test_fraction=0.2.")
                        raise CheckFailure(
                            f"{name} holds {got} examples of class {c}, expected about {n_c * frac:g} "
                            f"({frac:g} of its {n_c}) ({case}).\n  Hint: {hint}")
            again = split(1)
            if not all(np.array_equal(np.sort(a), np.sort(b)) for a, b in zip((train, val, test), again)):
                raise CheckFailure(f"two calls with the same seed gave different splits ({case}).\n  Hint: draw every "
                                   f"random number from the `rng` argument, not from np.random's global state.")
            if fv + ft > 0 and len(y) > 2:  # with nothing to hold out, every seed gives the same split
                other = split(2)
                if all(np.array_equal(np.sort(a), np.sort(b)) for a, b in zip((train, val, test), other)):
                    raise CheckFailure(f"different seeds gave the same split ({case}).\n  Hint: shuffle each class's "
                                       f"indices with rng (e.g. rng.permutation) before cutting; taking the first ones "
                                       f"puts the oldest (or any ordered) examples in one split.")
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
            ("integer weights W1 (3, 4) with zeros, integer b1; λ = 0.3",
             {"W1": rng.integers(-3, 4, (3, 4)), "b1": rng.integers(-3, 4, 4)}, 0.3),
            ("W1 (4, 5) transposed in memory, W2 a strided view, b2; λ = 0.2",
             {"W1": _transposed(rng.standard_normal((4, 5))), "W2": _strided(rng.standard_normal((5, 3))),
              "b2": rng.standard_normal(3)}, 0.2),
        ]
    return cases


def _expect_new_gradients(name: str, grads: dict[str, Any], params: dict[str, np.ndarray], case: str) -> None:
    """The gradients are new arrays: a caller that updates params in place must not change them."""
    for key, value in params.items():
        if isinstance(grads[key], np.ndarray) and np.shares_memory(grads[key], value):
            raise CheckFailure(f"{name}'s grads['{key}'] shares memory with params['{key}'] ({case}).\n  Hint: "
                               f"return new arrays (e.g. lam * value, np.zeros(value.shape)): the caller updates "
                               f"params in place, which would change your gradient too.")


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
            if grads is params:
                raise CheckFailure(f"{name} returned the params dict itself as grads ({case}).\n  Hint: build a new "
                                   f"dict; the caller still needs params.")
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
                         Mistake(np.full_like(value, lam, dtype=np.float64), "the gradient of λ|w| is λ·sign(w), not λ.")]
                if not is_w:
                    m = [mm for mm in m if "biases" in mm.hint]
                else:
                    m = [mm for mm in m if "biases" not in mm.hint]
                e_grad = np.asarray(e_grads[key], dtype=np.float64)
                ints = value.dtype.kind in "iu"
                if not ints:
                    expect_float64_like(grads[key], e_grad, what=f"grads['{key}']", case=case)
                expect_array(grads[key], e_grad, what=f"grads['{key}']", case=case,
                             mistakes=[*m, truncated_mistake(e_grad, ints, TRUNCATED)])
            _expect_new_gradients(name, grads, params, case)
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


class _DropCase(NamedTuple):
    case: str
    shape: tuple[int, ...]
    p: float | None  # None: called without p and train (the defaults, p = 0.5 and train=True)
    train: bool
    layout: str = "C"  # "C"; "T": x (and dout) transposed in memory; "S": strided views; "int": integer x


def _dropout_cases(hidden: bool) -> list[_DropCase]:
    cases = [_DropCase("x of shape (20, 30), p = 0.5, train", (20, 30), 0.5, True),
             _DropCase("x of shape (20, 30), p = 0.2, train", (20, 30), 0.2, True),
             _DropCase("x of shape (20, 30), p = 0.5, eval", (20, 30), 0.5, False)]
    if hidden:
        cases += [_DropCase("x of shape (4, 3, 8, 8), p = 0.3, train", (4, 3, 8, 8), 0.3, True),
                  _DropCase("x of shape (50,), p = 0.9, train", (50,), 0.9, True),
                  _DropCase("p = 0, train", (10, 10), 0.0, True),
                  _DropCase("x of shape (4, 3, 8, 8), p = 0.3, eval", (4, 3, 8, 8), 0.3, False),
                  _DropCase("p = 1 (every unit dropped), train", (10, 10), 1.0, True),
                  _DropCase("p and train left at their defaults (0.5, True), x of shape (12, 10)", (12, 10), None, True),
                  _DropCase("integer x (pixel values 0–255) of shape (6, 8), p = 0.25, train", (6, 8), 0.25, True, "int"),
                  _DropCase("x of shape (9, 7) transposed in memory, p = 0.4, train", (9, 7), 0.4, True, "T"),
                  _DropCase("x of shape (5, 6), a strided view, p = 0.6, train", (5, 6), 0.6, True, "S"),
                  _DropCase("a batch of one, x of shape (1, 40), p = 0.5, train", (1, 40), 0.5, True)]
    return cases


def _dropout_input(rng: np.random.Generator, c: _DropCase, shift: float = 0.0) -> np.ndarray:
    if c.layout == "int":
        return rng.integers(0, 256, c.shape)
    x = rng.standard_normal(c.shape) + shift
    return {"T": _transposed, "S": _strided}.get(c.layout, lambda a: a)(x)


ZERO_DIVISION = ("at p = 1 every unit is dropped and 1/(1 − p) divides by zero: return zeros (out and mask) "
                 "without dividing.")


@exercise("dropout_forward")
def check_dropout_forward(dropout_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dropout_forward(x, p, train, rng) -> (out, cache)``: inverted dropout, mask drawn as
    ``rng.random(x.shape) < 1 - p``, cache = the scaled mask."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("dropout_forward", hidden)
    for c in run.cases(_dropout_cases(hidden)):
        with run.case():
            case, shape, train = c.case, c.shape, c.train
            p = 0.5 if c.p is None else c.p
            x = _dropout_input(rng, c, shift=0.5)
            seed = int(rng.integers(2**31))
            args = (x,) if c.p is None else (x, p, train)
            result = call_strict(dropout_forward, *args, rng=np.random.default_rng(seed), name="dropout_forward",
                                 hint=ZERO_DIVISION if p == 1 else "an inf or nan appeared: check every division.")
            out, cache = unpack(result, 2, name="dropout_forward", names=("out", "cache"))
            e_out, e_cache = ref.dropout_forward(x, p, train, rng=np.random.default_rng(seed))
            u = np.random.default_rng(seed).random(shape)
            keep = 1 - p
            kept = u < keep
            scaling = train and 0 < p < 1  # where 1/(1 − p) is a real scale
            ints = x.dtype.kind in "iu"
            mistakes = [
                Mistake(x * kept if scaling else None, "the kept units must be scaled by 1/(1 − p) (inverted "
                        "dropout), so that the expected output equals x and eval mode needs no change."),
                Mistake(x * (u < p) / p if train and p > 0 else None, "p is the probability of DROPPING a unit: "
                        "keep a unit with probability 1 − p (`rng.random(x.shape) < 1 - p`) and scale by 1/(1 − p)."),
                Mistake(x * kept * p if scaling and p != 0.5 else None,
                        "scale the kept units by 1/(1 − p), not by p."),
                Mistake(x * kept / keep if not train else None, "in eval mode (train=False) dropout does nothing: "
                        "return x unchanged."),
                Mistake(x * keep if not train else None, "with inverted dropout the scaling happened during "
                        "training: eval mode returns x itself, not (1 − p)·x (that is the old, non-inverted scheme)."),
                truncated_mistake(e_out, ints, TRUNCATED),
            ]

            def misdrawn(values: np.ndarray) -> str:
                """The right fraction kept and scaled, but other units: a different drawing call."""
                if not scaling:
                    return ""
                zero = values == 0
                if np.allclose(values[~zero], x[~zero] / keep) and abs(zero.mean() - p) < 0.12:
                    return ("the right fraction is kept and scaled correctly, but not the expected units: draw the "
                            "mask in one call, `rng.random(x.shape) < 1 - p`, with the rng you were given.")
                return ""

            if not ints:
                expect_float64_like(out, e_out, what="dropout_forward's out", case=case)
            expect_array(out, e_out, what="dropout_forward's out", case=case, mistakes=mistakes, hint=misdrawn,
                         nonfinite_hint=ZERO_DIVISION if p == 1 else "an inf or nan appeared: check every division.")
            expect_float64_like(cache, e_cache, what="dropout_forward's cache (the scaled mask)", case=case)
            expect_array(cache, e_cache, what="dropout_forward's cache (the scaled mask)", case=case, mistakes=[
                Mistake(kept.astype(float) if scaling else None, "store the *scaled* mask m/(1 − p) in the cache, "
                        "so that dropout_backward is dout * cache."),
            ])
    run.passed()


@exercise("dropout_backward")
def check_dropout_backward(dropout_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dropout_backward(dout, cache) -> dx`` with cache = the scaled mask."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("dropout_backward", hidden)
    for c in run.cases(_dropout_cases(hidden)):
        with run.case():
            case, shape, train = c.case, c.shape, c.train
            p = 0.5 if c.p is None else c.p
            x = _dropout_input(rng, c)
            _, cache = ref.dropout_forward(x, p, train, rng=rng)
            dout = _dropout_input(rng, c._replace(layout="C" if c.layout == "int" else c.layout))
            dx = call_strict(dropout_backward, dout, cache, name="dropout_backward",
                             hint="the cache already holds m/(1 − p): multiply dout by it; recovering p from it "
                                  "divides by zero when p = 1 (the mask is all zeros).")
            expected = ref.dropout_backward(dout, cache)
            keep = 1 - p
            expect_float64_like(dx, expected, what="dx", case=case)
            expect_array(dx, expected, what="dx", case=case, mistakes=[
                Mistake(dout * (cache > 0) if train and 0 < p < 1 else None, "scale the gradient like the forward "
                        "pass: dx = dout * cache, where the cache already holds m/(1 − p)."),
                Mistake(dout if p < 1 else None, "dropped units pass no gradient: multiply dout by the mask in the cache."),
                Mistake(dout * cache / keep if train and 0 < p < 1 else None,
                        "the cache is already scaled by 1/(1 − p): do not divide again."),
                Mistake(cache, "multiply the mask by dout (chain rule)."),
            ])
            if hidden and train:
                numeric = ref.numerical_gradient_array(lambda z: z * cache, np.array(x, dtype=np.float64), dout)
                if np.abs(np.asarray(dx) - numeric).max() > 1e-6:
                    raise CheckFailure(f"dx disagrees with a finite-difference check ({case}).")
    run.passed()


# --------------------------------------------------------------------------- DropConnect


class _ConnectCase(NamedTuple):
    case: str
    n: int
    d: int
    m: int
    p: float | None  # None: called without p and train (the defaults, p = 0.5 and train=True)
    train: bool
    layout: str = "C"  # "C"; "int": integer x; "T": x and w transposed in memory; "S": strided views


def _dropconnect_cases(hidden: bool) -> list[_ConnectCase]:
    cases = [_ConnectCase("x (4, 6), w (6, 3), p = 0.5, train", 4, 6, 3, 0.5, True),
             _ConnectCase("x (5, 8), w (8, 4), p = 0.2, train", 5, 8, 4, 0.2, True),
             _ConnectCase("x (4, 6), w (6, 3), p = 0.5, eval", 4, 6, 3, 0.5, False)]
    if hidden:
        cases += [_ConnectCase("p and train left at their defaults (0.5, True), x (3, 5), w (5, 2)", 3, 5, 2, None, True),
                  _ConnectCase("p = 0, train", 4, 5, 3, 0.0, True),
                  _ConnectCase("p = 0.95, train", 6, 10, 4, 0.95, True),
                  _ConnectCase("a batch of one, x (1, 7), w (7, 3), p = 0.4, train", 1, 7, 3, 0.4, True),
                  _ConnectCase("integer x (pixel values 0–255) (3, 6), w (6, 2), p = 0.3, train", 3, 6, 2, 0.3, True, "int"),
                  _ConnectCase("x (5, 4) and w (4, 6) transposed in memory, p = 0.5, train", 5, 4, 6, 0.5, True, "T"),
                  _ConnectCase("x (4, 5) and w (5, 3) strided views, p = 0.3, train", 4, 5, 3, 0.3, True, "S"),
                  _ConnectCase("x (3, 4), w (4, 4), p = 0.25, eval", 3, 4, 4, 0.25, False)]
    return cases


def _dropconnect_inputs(rng: np.random.Generator, c: _ConnectCase) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    layout = {"T": _transposed, "S": _strided}.get(c.layout, lambda a: a)
    x = rng.integers(0, 256, (c.n, c.d)) if c.layout == "int" else layout(rng.standard_normal((c.n, c.d)))
    w = layout(rng.standard_normal((c.d, c.m)) * (0.01 if c.layout == "int" else 1.0))
    return x, w, rng.standard_normal(c.m)


@exercise("dropconnect_forward")
def check_dropconnect_forward(dropconnect_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dropconnect_forward(x, w, b, p, train, rng) -> (out, (x, w, mask))``: inverted DropConnect,
    mask drawn as ``rng.random(w.shape) < 1 - p`` and scaled by 1/(1 − p)."""
    rng = case_rng(hidden, SALT + 1)
    run = CheckRun("dropconnect_forward", hidden)
    for c in run.cases(_dropconnect_cases(hidden)):
        with run.case():
            case, train = c.case, c.train
            p = 0.5 if c.p is None else c.p
            x, w, b = _dropconnect_inputs(rng, c)
            seed = int(rng.integers(2**31))
            args = (x, w, b) if c.p is None else (x, w, b, p, train)
            result = call_student(dropconnect_forward, *args, rng=np.random.default_rng(seed),
                                  name="dropconnect_forward")
            out, cache = unpack(result, 2, name="dropconnect_forward", names=("out", "cache"))
            e_out, (_, _, e_mask) = ref.dropconnect_forward(x, w, b, p, train, rng=np.random.default_rng(seed))
            keep, xf = 1 - p, np.asarray(x, dtype=np.float64)
            drawn = train and p > 0
            kept = np.random.default_rng(seed).random(w.shape) < keep
            units = np.random.default_rng(seed).random(x.shape) < keep  # dropout on the inputs
            per_example = np.random.default_rng(seed).random((c.n,) + w.shape) < keep
            mistakes = [
                Mistake(xf @ (w * kept) + b if drawn else None, "scale the kept weights by 1/(1 − p) (inverted "
                        "scaling), so that the expected weight is w and eval mode uses w itself."),
                Mistake(xf @ (w * (np.random.default_rng(seed).random(w.shape) < p) / p) + b if drawn else None,
                        "p is the probability of DROPPING a weight: keep it with probability 1 − p "
                        "(`rng.random(w.shape) < 1 - p`) and scale by 1/(1 − p)."),
                Mistake((xf * units / keep) @ w + b if drawn else None, "that drops input units (dropout on x); "
                        "DropConnect drops weights: draw the mask with w's shape, `rng.random(w.shape) < 1 - p`."),
                Mistake(np.einsum("nd,ndm->nm", xf, w * per_example / keep) + b if drawn and c.n > 1 else None,
                        "one mask per call, shared by the batch: draw `rng.random(w.shape)` once (the paper draws "
                        "one per example; this notebook draws one per mini-batch)."),
                Mistake(xf @ (w * (np.random.default_rng(seed).random(w.shape) < keep) / keep) + b
                        if not train else None, "eval mode (train=False) uses the weights w themselves: no mask."),
                Mistake(e_out - b, "the bias b is missing."),
                truncated_mistake(e_out, x.dtype.kind in "iu", TRUNCATED),
            ]
            expect_float64_like(out, e_out, what="dropconnect_forward's out", case=case)
            expect_array(out, e_out, what="dropconnect_forward's out", case=case, mistakes=mistakes)
            cx, cw, mask = unpack(cache, 3, name="dropconnect_forward's cache", names=("x", "w", "mask"))
            for label, got_, want in (("x", cx, x), ("w", cw, w)):
                if not (isinstance(got_, np.ndarray) and got_.shape == want.shape and np.array_equal(got_, want)):
                    raise CheckFailure(f"the cache's {label} should be the {label} you were given ({case}).")
            expect_float64_like(mask, e_mask, what="the cache's mask", case=case)
            expect_array(mask, e_mask, what="the cache's mask", case=case, mistakes=[
                Mistake(kept.astype(float) if drawn else None, "store the *scaled* mask M/(1 − p), the factor each "
                        "weight was multiplied by, so that the backward pass can use it as it is."),
            ])
    run.passed()


@exercise("dropconnect_backward")
def check_dropconnect_backward(dropconnect_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dropconnect_backward(dout, cache) -> (dx, dw, db)`` with cache = (x, w, scaled mask)."""
    rng = case_rng(hidden, SALT + 2)
    run = CheckRun("dropconnect_backward", hidden)
    for c in run.cases(_dropconnect_cases(hidden)):
        with run.case():
            case = c.case
            p = 0.5 if c.p is None else c.p
            x, w, b = _dropconnect_inputs(rng, c)
            _, cache = ref.dropconnect_forward(x, w, b, p, c.train, rng=rng)
            mask = cache[2]
            dout = rng.standard_normal((c.n, c.m))
            result = call_student(dropconnect_backward, dout, cache, name="dropconnect_backward")
            dx, dw, db = unpack(result, 3, name="dropconnect_backward", names=("dx", "dw", "db"))
            edx, edw, edb = ref.dropconnect_backward(dout, cache)
            xf = np.asarray(x, dtype=np.float64)
            masked = c.train and p > 0
            for label, got, want in (("dx", dx, edx), ("dw", dw, edw), ("db", db, edb)):
                expect_float64_like(got, want, what=label, case=case)
            expect_array(db, edb, what="db", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout, "db must be summed over the batch: every example uses the same b."),
                Mistake(dout.mean(axis=0) if c.n > 1 else None, "db is averaged; sum dout over the batch (the 1/N is "
                        "already in dout)."),
            ])
            expect_array(dw, edw, what="dw", case=case, **GRAD_TOL, mistakes=[
                Mistake(xf.T @ dout if masked else None, "a dropped weight gets no gradient: multiply xᵀ·dout by the "
                        "mask in the cache."),
                Mistake((xf.T @ dout) * (mask > 0) if masked else None, "the cached mask is scaled by 1/(1 − p), and "
                        "so is the weight's effect on out: multiply by the mask as it is."),
                Mistake(((xf.T @ dout) * mask).T if c.d != c.m else None, "dw = (xᵀ·dout) ⊙ mask has w's shape (D, M)."),
            ])
            expect_array(dx, edx, what="dx", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout @ w.T if masked else None, "dx goes through the weights that were used: "
                        "dout·(w ⊙ mask)ᵀ."),
                Mistake(dout @ (w * (mask > 0)).T if masked else None, "use the scaled mask as it is: dx = "
                        "dout·(w ⊙ mask)ᵀ."),
            ])
            if hidden:
                expect_backward_matches_finite_differences(
                    "dropconnect_backward", lambda xx, ww, bb: xx @ (ww * mask) + bb,
                    (xf, np.array(w, dtype=np.float64), b), dout, (dx, dw, db), ("dx", "dw", "db"), case=case)
    run.passed()


# --------------------------------------------------------------------------- early stopping


class _Curve(NamedTuple):
    case: str
    losses: list[float]
    patience: int | None  # None: EarlyStopping() with its defaults (patience 5, min_delta 0.0)
    min_delta: float
    inplace: bool = True  # the "optimizer" changes the arrays in place; else it rebinds the dict's entries


def _curves(hidden: bool) -> list[_Curve]:
    curves = [
        _Curve("a U-shaped validation curve, patience 3", [1.0, 0.8, 0.6, 0.55, 0.57, 0.6, 0.62, 0.7, 0.8], 3, 0.0),
        _Curve("a plateau then a new best, patience 2", [1.0, 0.9, 0.95, 0.85, 0.86, 0.9, 0.7], 2, 0.0),
        _Curve("a rise, then a slow recovery that never beats the best, patience 3", [1.0, 0.6, 0.8, 0.7, 0.65, 0.9],
               3, 0.0),
    ]
    if hidden:
        rng = case_rng(True, SALT)
        noisy = list(np.round(1 / (1 + np.arange(30) / 5) + 0.003 * np.arange(30) ** 1.5 / 10
                              + 0.02 * rng.standard_normal(30), 4))
        curves += [
            _Curve("a noisy curve, patience 4", noisy, 4, 0.0),
            _Curve("patience 1", [0.5, 0.4, 0.45, 0.3], 1, 0.0),
            _Curve("min_delta 0.05: improvements smaller than 0.05 do not count", [1.0, 0.97, 0.9, 0.89, 0.88, 0.7, 0.69],
                   2, 0.05),
            _Curve("equal losses are not an improvement", [0.5, 0.5, 0.5, 0.5], 2, 0.0),
            _Curve("EarlyStopping() with its defaults (patience 5, min_delta 0.0)",
                   [1.0, 0.8, 0.85, 0.9, 0.82, 0.81, 0.95, 0.99, 1.1], None, 0.0),
            _Curve("an optimizer that replaces the arrays (params[k] = params[k] - ...), patience 2",
                   [1.0, 0.7, 0.9, 0.95], 2, 0.0, inplace=False),
            _Curve("validation error counts (integers), patience 2", [40, 31, 31, 25, 26, 27], 2, 0.0),
        ]
    return curves


@exercise("EarlyStopping")
def check_early_stopping(EarlyStopping: Callable[..., Any], hidden: bool = False) -> None:
    """Check an ``EarlyStopping(patience, min_delta)`` class with ``step(val_loss, params) -> stop``
    and attributes ``best_loss``, ``best_epoch``, ``best_params``."""
    run = CheckRun("EarlyStopping", hidden)
    for case, losses, given_patience, min_delta, inplace in run.cases(_curves(hidden)):
        with run.case():
            patience = 5 if given_patience is None else given_patience
            kwargs = {} if given_patience is None else {"patience": patience, "min_delta": min_delta}
            mine = call_student(EarlyStopping, name="EarlyStopping", **kwargs)
            theirs = ref.EarlyStopping(patience=patience, min_delta=min_delta)
            params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
            for epoch, loss in enumerate(losses):
                if inplace:  # the "optimizer" changes the arrays in place, as many training loops do
                    params["W"] += 1.0
                    params["b"] -= 1.0
                else:  # ... or puts new arrays into the same dict
                    params["W"] = params["W"] + 1.0
                    params["b"] = params["b"] - 1.0
                stop = call_student(mine.step, loss, params, name="EarlyStopping.step", allow_inplace=True)
                e_stop = theirs.step(loss, params)
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
                        "ones, or you stored a reference to the dict or arrays that training kept changing. Store a "
                        "copy of the dict and of its arrays (copy.deepcopy(params)) when the loss improves.", partial=True),
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
    drawn as ``rng.integers(-max_shift, max_shift + 1, size=(N, 2))`` (dy down, dx right); a new array
    of x's shape and dtype."""
    rng = case_rng(hidden, SALT)
    # (shape, max_shift or None for the default 2, layout: "C", "uint8", "T" transposed in memory)
    shapes: list[tuple[tuple[int, int, int, int], int | None, str]] = [((6, 1, 8, 8), 2, "C"), ((4, 3, 5, 7), 1, "C")]
    if hidden:
        shapes += [((1, 2, 6, 6), 3, "C"), ((10, 1, 4, 4), 0, "C"), ((5, 1, 3, 9), 2, "C"),
                   ((8, 1, 6, 6), None, "C"), ((6, 3, 5, 5), 2, "uint8"), ((5, 2, 6, 4), 1, "T"),
                   ((12, 1, 3, 3), 3, "C")]
    run = CheckRun("random_shift", hidden)
    for shape, given_max, layout in run.cases(shapes):
        with run.case():
            max_shift = 2 if given_max is None else given_max
            case = (f"x of shape {shape}, " + ("max_shift left at its default (2)" if given_max is None
                                               else f"max_shift {max_shift}")
                    + {"uint8": ", uint8 pixel values", "T": ", transposed in memory"}.get(layout, ""))
            x = rng.random(shape) + 0.5  # no zeros, so zero fill shows
            if layout == "uint8":
                x = (x * 150).astype(np.uint8)
            elif layout == "T":
                x = _transposed(x)
            seed = int(rng.integers(2**31))
            args = (x,) if given_max is None else (x, max_shift)
            got = call_student(random_shift, *args, rng=np.random.default_rng(seed), name="random_shift")
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
            if got.dtype != x.dtype:
                raise CheckFailure(f"random_shift's output has dtype {got.dtype}, expected {x.dtype}, the dtype of x "
                                   f"({case}).\n  Hint: an augmentation keeps the images' dtype (uint8 images stay "
                                   f"uint8): start from np.zeros_like(x).")
    run.passed()


# --------------------------------------------------------------------------- search


@exercise("random_search_points")
def check_random_search_points(random_search_points: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``random_search_points(ranges, n, rng, log)``: (n, K) points drawn as
    ``rng.uniform(lo, hi, size=(n, K))`` on the bounds, log10-transformed on the ``log`` axes."""
    rng = case_rng(hidden, SALT)
    # (case, ranges, n, log; None: called without log, its default)
    cases: list[tuple[str, list[tuple[float, float]], int, list[bool] | None]] = [
        ("learning rate in [1e-5, 1e-1] (log), dropout in [0, 0.5]", [(1e-5, 1e-1), (0.0, 0.5)], 20, [True, False]),
        ("two linear axes", [(-1.0, 1.0), (2.0, 3.0)], 10, [False, False])]
    if hidden:
        cases += [("three axes, λ and learning rate on log scales", [(1e-6, 1e-2), (16.0, 256.0), (1e-4, 1.0)], 30,
                   [True, False, True]),
                  ("one point", [(1e-3, 1.0)], 1, [True]),
                  ("two linear axes, log left at its default (None)", [(0.0, 2.0), (-3.0, 3.0)], 12, None),
                  ("integer bounds: a batch size in [16, 256] (log) and a depth in [1, 8]", [(16, 256), (1, 8)], 25,
                   [True, False])]
    run = CheckRun("random_search_points", hidden)
    for case, ranges, n, given_log in run.cases(cases):
        with run.case():
            log = [False] * len(ranges) if given_log is None else given_log
            seed = int(rng.integers(2**31))
            kwargs = {} if given_log is None else {"log": given_log}
            got = call_student(random_search_points, ranges, n, rng=np.random.default_rng(seed),
                               name="random_search_points", **kwargs)
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
            ints = all(isinstance(v, int) for pair in ranges for v in pair)
            cut = np.random.default_rng(seed).uniform(  # log10 bounds written into an integer array
                [np.trunc(np.log10(a)) if g else a for (a, _), g in zip(ranges, log)],
                [np.trunc(np.log10(b)) if g else b for (_, b), g in zip(ranges, log)], size=(n, len(ranges)))
            expect_float64_like(got, expected, what="the sampled points", case=case)
            expect_array(got, expected, what="the sampled points", case=case, mistakes=[
                Mistake(linear if any(log) else None, "the log axes are sampled uniformly in the value itself: "
                        "draw the exponent uniformly (log10(lo) … log10(hi)) and return 10**exponent, so that every "
                        "decade gets the same share of the points."),
                Mistake(per_axis if len(ranges) > 1 and n > 1 else None, "draw all points in one call, "
                        "rng.uniform(lo, hi, size=(n, K)) with the (transformed) bounds as arrays: axis-by-axis draws "
                        "give other values from the same rng."),
                Mistake(natural if any(log) else None, "the exponent drawn in log10 units must be raised to "
                        "10**u, not e**u."),
                Mistake(np.where(np.asarray(log), 10**cut, cut) if ints and any(log) else None,
                        "the bounds are integers here, so np.array(ranges) is an integer array and the log10 values "
                        "written into it are cut to whole numbers: use np.array(ranges, dtype=float).", partial=True),
            ])
    run.passed()
