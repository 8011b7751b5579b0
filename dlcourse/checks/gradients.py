"""Gradient checks shared by every lecture: one tolerance, one finite-difference comparison.

Two questions are asked of a student's gradient. Does it equal the reference's? (``expect_array``
with :data:`GRAD_TOL`.) And, in hidden cases, does it agree with central differences of the
function it claims to differentiate? (:func:`expect_matches_finite_differences`, or
:func:`expect_backward_matches_finite_differences` for a layer's backward pass.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from dlcourse import ref
from dlcourse.checks.compare import format_pair
from dlcourse.checks.errors import CheckFailure

__all__ = [
    "GRAD_TOL",
    "FD_TOL",
    "relative_error",
    "expect_matches_finite_differences",
    "expect_backward_matches_finite_differences",
]

# A correct float64 backward pass agrees with the reference to ~1e-12; rtol 1e-6 leaves room for
# a different (but right) order of operations while catching every real mistake.
GRAD_TOL: dict[str, float] = {"rtol": 1e-6, "atol": 1e-9}

# Central differences in float64 are accurate to ~1e-8 relative on these well-scaled cases; a
# wrong gradient is off by far more than 1e-6.
FD_TOL = 1e-6
_TOL_TEXT = f"{FD_TOL:.0e}".replace("e-0", "e-")  # "1e-6", not "1e-06"


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖): the relative error over the whole gradient (0 when both are 0).

    Norm-wise rather than entry-wise, because finite differences carry an absolute rounding
    noise of ~1e-11 that would dominate the relative error of entries that are themselves tiny.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return float(np.linalg.norm(a - n) / denom) if denom > 0 else 0.0


def expect_matches_finite_differences(
    analytic: np.ndarray, numeric: np.ndarray, *, what: str, case: str, of: str = "the reference function"
) -> None:
    """Raise :class:`CheckFailure` unless ``analytic`` is within :data:`FD_TOL` of ``numeric``.

    Args:
        analytic: the student's gradient, any shape.
        numeric: finite differences of the same function, same shape.
        what: the gradient's name in the message, e.g. "dscores".
        case: a short description of the inputs.
        of: which function was differenced ("the reference function", "your own loss", ...).
    """
    err = relative_error(analytic, numeric)
    if err > FD_TOL:
        shown, _ = format_pair(err, FD_TOL, digits=2)  # 1.04e-06, not 1.0e-06, just above 1e-6
        raise CheckFailure(
            f"{what} disagrees with a finite-difference gradient check: central differences of {of} "
            f"give a relative error of {shown}, expected < {_TOL_TEXT} ({case})."
        )


def expect_backward_matches_finite_differences(
    name: str,
    forward: Callable[..., np.ndarray],
    inputs: Sequence[np.ndarray],
    dout: np.ndarray,
    grads: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    case: str,
) -> None:
    """Check a backward pass: ``grads[i]`` against central differences of Σ dout ⊙ forward(*inputs).

    Args:
        name: the backward function's name, e.g. "affine_backward".
        forward: the reference forward pass, ``forward(*inputs) -> out`` of dout's shape (other
            arguments such as stride or mode bound in a closure).
        inputs: the forward pass's array inputs; copies are perturbed, the originals are not.
        dout: the upstream gradient, shape of ``out``.
        grads: the student's gradients, one per input, in the order of ``inputs``.
        labels: their names in messages, e.g. ("dx", "dw", "db").
        case: a short description of the inputs.
    """
    for i, (label, grad) in enumerate(zip(labels, grads)):
        args = [np.array(a, copy=True) for a in inputs]
        if not np.issubdtype(args[i].dtype, np.floating):
            # An integer input (a hidden case's edge class) would truncate every perturbation to 0:
            # difference it in float64. The other inputs keep their dtype (labels stay indices).
            args[i] = args[i].astype(np.float64)

        def f(z: np.ndarray, i: int = i, args: list[np.ndarray] = args) -> np.ndarray:
            args[i] = z
            return forward(*args)

        numeric = ref.numerical_gradient_array(f, args[i], dout)
        expect_matches_finite_differences(grad, numeric, what=f"{name}: {label}", case=case,
                                          of="the reference forward pass")
