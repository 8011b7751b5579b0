"""Numerical gradients and relative errors on tensors: the twin of :mod:`dlcourse.ref.gradcheck`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

__all__ = [
    "numerical_gradient", "numerical_gradient_array", "rel_error",
]


def numerical_gradient(
    f: Callable[[torch.Tensor], Any], x: torch.Tensor, h: float = 1e-5
) -> torch.Tensor:
    """∂f/∂x by central differences: (f(x + h·e_i) − f(x − h·e_i)) / 2h for every entry i.

    The error of the central difference is O(h²) (the one-sided (f(x+h) − f(x))/h is O(h)).
    ``x`` is perturbed in place and restored, so f may close over it (as a loss closes over
    its parameters); on return x holds exactly its original values. f runs under
    ``torch.no_grad()`` (so x may be a leaf that requires grad).

    Args:
        f: scalar function of x (a float or a one-element tensor).
        x: floating tensor of any shape (float64 for meaningful results).
        h: step.

    Returns:
        grad: tensor shaped like x, on its device and dtype.
    """
    grad = torch.zeros_like(x, dtype=x.dtype if x.is_floating_point() else torch.float64)
    with torch.no_grad():
        for i in np.ndindex(*x.shape):
            old = x[i].clone()
            x[i] = old + h
            f_plus = float(f(x))
            x[i] = old - h
            f_minus = float(f(x))
            x[i] = old
            grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, dout: torch.Tensor, h: float = 1e-5
) -> torch.Tensor:
    """Σ_j dout_j ∂f_j/∂x by central differences, for a tensor-valued f (checks a backward pass).

    Args:
        f: function of x returning a tensor shaped like ``dout``.
        x: tensor of any shape, perturbed in place and restored.
        dout: upstream gradient, shaped like f(x).

    Returns:
        dx: tensor shaped like x.
    """
    return numerical_gradient(lambda z: float(torch.sum(f(z) * dout)), x, h)


def _float64(a: Any, device: torch.device | None) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.detach().to(device=device if device is not None else a.device, dtype=torch.float64)
    return torch.as_tensor(np.asarray(a, dtype=np.float64), device=device)


def rel_error(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-12) -> float:
    """max_i |a_i − b_i| / max(|a_i| + |b_i|, eps), computed in float64 on a's device.

    Relative, so gradients of any magnitude compare on one scale: in float64 a correct
    backward pass typically gives < 1e-7 against central differences; > 1e-3 is a bug.
    Accepts tensors (any device) and NumPy arrays alike.
    """
    a = _float64(a, None)
    b = _float64(b, a.device)
    if a.shape != b.shape:
        raise ValueError(
            f"rel_error needs arrays of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.numel() == 0:
        return 0.0
    return float(torch.max((a - b).abs() / torch.clamp(a.abs() + b.abs(), min=eps)))
