"""Compare a student's answer with the expected one, in teaching order: type, shape, values, mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlcourse.checks.errors import CheckFailure


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and what to tell a student whose answer matches it.

    ``value`` is what the mistaken code returns on the same inputs, computed by the check;
    matching is by shape and values, so one table serves shape and value diagnostics.
    """

    value: Any
    hint: str


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"a {type(x).__name__}"


def _matches(got: np.ndarray, value: Any, rtol: float, atol: float) -> bool:
    value = np.asarray(value)
    if value.shape != got.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(got, value, rtol=rtol, atol=atol, equal_nan=False))


def _hint_for(got: np.ndarray, mistakes: Sequence[Mistake], rtol: float, atol: float, shape_only: bool) -> str:
    for m in mistakes:
        v = np.asarray(m.value)
        if (shape_only and v.shape == got.shape) or (not shape_only and _matches(got, v, rtol, atol)):
            return f"\n  Hint: {m.hint}"
    return ""


def expect_array(
    got: Any,
    expected: np.ndarray,
    *,
    what: str,
    case: str,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    mistakes: Sequence[Mistake] = (),
    nonfinite_hint: str = "an overflow (exp of a large number) or a log/division of 0 gives inf or nan.",
) -> None:
    """Raise :class:`CheckFailure` unless ``got`` is an array equal to ``expected``.

    Args:
        got: the student's value.
        expected: the reference value.
        what: its name in messages, e.g. "affine_forward's out".
        case: a short description of the inputs ("N=2, x of shape (2, 4)").
        rtol, atol: tolerances of ``np.allclose``.
        mistakes: known wrong answers on these inputs, checked in order when values differ.
        nonfinite_hint: what to say when ``got`` has inf/nan where ``expected`` is finite.
    """
    if hasattr(got, "detach") and hasattr(got, "numpy"):
        raise CheckFailure(f"{what} is a torch.Tensor; this exercise is NumPy — return a NumPy array ({case}).")
    if not isinstance(got, np.ndarray):
        if np.ndim(expected) == 0 and isinstance(got, (int, float, np.number)):
            got = np.asarray(got)
        else:
            raise CheckFailure(f"{what} should be a NumPy array, got {_describe(got)} ({case}).")
    if got.shape != expected.shape:
        raise CheckFailure(
            f"{what} has shape {got.shape}, expected {expected.shape} ({case})."
            + _hint_for(got, mistakes, rtol, atol, shape_only=True)
        )
    if got.dtype.kind not in "fiub":
        raise CheckFailure(f"{what} should hold numbers, got dtype {got.dtype} ({case}).")
    with np.errstate(all="ignore"):
        finite_expected = np.isfinite(expected)
        bad_nan = ~np.isfinite(got) & finite_expected
        if bad_nan.any():
            idx = tuple(int(i) for i in np.argwhere(bad_nan)[0])
            where = f"contains {got[idx]} at index {idx} where" if idx else f"is {got[()]} where"
            raise CheckFailure(
                f"{what} {where} {expected[idx]:.6g} was expected ({case})."
                + (_hint_for(got, mistakes, rtol, atol, shape_only=False) or f"\n  Hint: {nonfinite_hint}")
            )
        close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if not close.all():
        got = got.astype(np.float64)
        diff = np.where(close, 0.0, np.abs(got - expected))
        idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        idx = tuple(int(i) for i in idx)
        hint = _hint_for(got, mistakes, rtol, atol, shape_only=False)
        if got.ndim == 0:
            raise CheckFailure(f"{what} is {got[()]:.6g}, expected {expected[()]:.6g} ({case}).{hint}")
        raise CheckFailure(
            f"{what} has wrong values ({case}): {int((~close).sum())} of {close.size} entries differ; "
            f"largest difference at index {idx}: got {got[idx]:.6g}, expected {expected[idx]:.6g}.{hint}"
        )


def expect_scalar(
    got: Any,
    expected: float,
    *,
    what: str,
    case: str,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    mistakes: Sequence[Mistake] = (),
    **kwargs: Any,
) -> None:
    """Raise :class:`CheckFailure` unless ``got`` is a real number close to ``expected``."""
    if hasattr(got, "detach") and hasattr(got, "item"):
        raise CheckFailure(f"{what} is a torch.Tensor; return a Python float (e.g. `float(loss)`) ({case}).")
    if isinstance(got, np.ndarray):
        if got.size != 1:
            raise CheckFailure(
                f"{what} should be a single number, got an array of shape {got.shape} ({case})."
                + _hint_for(got, mistakes, rtol, atol, shape_only=True)
            )
        got = got.reshape(())
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating, np.ndarray)):
        raise CheckFailure(f"{what} should be a number, got {_describe(got)} ({case}).")
    expect_array(np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                 what=what, case=case, rtol=rtol, atol=atol, mistakes=mistakes, **kwargs)


def passed(name: str, n_cases: int, hidden: bool) -> None:
    """Print the one-line success message of a check (stdout only)."""
    kind = "public and hidden" if hidden else "public"
    print(f"✔ {name}: all {n_cases} {kind} cases passed.")
