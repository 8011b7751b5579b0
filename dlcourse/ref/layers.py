"""Fully connected (affine) layer: forward and backward passes."""

from __future__ import annotations

import numpy as np

AffineCache = tuple[np.ndarray, np.ndarray, np.ndarray]


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, AffineCache]:
    """out = x̃ w + b, where x̃ is x with every example flattened to one row.

    Args:
        x: (N, d_1, ..., d_k) inputs; each example is flattened to D = d_1 ⋯ d_k features.
        w: (D, M) weights.
        b: (M,) biases.

    Returns:
        out: (N, M).
        cache: ``(x, w, b)``, exactly the inputs (the backward pass needs x and w).
    """
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout: np.ndarray, cache: AffineCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of an affine layer.

    Args:
        dout: (N, M) upstream gradient ∂L/∂out.
        cache: ``(x, w, b)`` from :func:`affine_forward`.

    Returns:
        dx: (N, d_1, ..., d_k) = dout wᵀ, reshaped like x.
        dw: (D, M) = x̃ᵀ dout.
        db: (M,) = Σ_n dout[n]  (the bias is shared by every example, so its gradients add up).
    """
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
