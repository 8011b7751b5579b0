"""Numerical gradients by central differences, and the relative error used to compare gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "numerical_gradient", "numerical_gradient_array", "rel_error",
]


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """∂f/∂x by central differences: (f(x + h·e_i) − f(x − h·e_i)) / 2h for every entry i.

    The error of the central difference is O(h²) (the one-sided (f(x+h) − f(x))/h is O(h)).
    ``x`` is perturbed in place and restored, so f may close over it (as a loss closes over
    its parameters); on return x holds exactly its original values.

    Args:
        f: scalar function of x.
        x: float array of any shape (float64 for meaningful results).
        h: step.

    Returns:
        grad: array shaped like x.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Σ_j dout_j ∂f_j/∂x by central differences, for an array-valued f (checks a backward pass).

    Args:
        f: function of x returning an array shaped like ``dout``.
        x: array of any shape, perturbed in place and restored.
        dout: upstream gradient, shaped like f(x).

    Returns:
        dx: array shaped like x.
    """
    return numerical_gradient(lambda z: float(np.sum(f(z) * dout)), x, h)


def rel_error(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> float:
    """max_i |a_i − b_i| / max(|a_i| + |b_i|, eps).

    Relative, so gradients of any magnitude compare on one scale: in float64 a correct
    backward pass typically gives < 1e-7 against central differences; > 1e-3 is a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
