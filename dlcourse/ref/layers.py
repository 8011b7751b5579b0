"""Fully connected (affine) layer: forward and backward passes."""

from __future__ import annotations

import numpy as np

from dlcourse.ref.activations import activation_backward, activation_forward, sigmoid

__all__ = [
    "affine_forward", "affine_backward", "perceptron", "dense_forward", "dense_backward",
]

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


# --------------------------------------------------------------------------- lecture 02: neurons and dense layers

DenseCache = tuple[AffineCache, object, str]


def perceptron(x: np.ndarray, w: np.ndarray, w0: float) -> np.ndarray:
    """A single sigmoid neuron:  ŷ = σ(w₀ + x·w).

    Args:
        x: (N, D) inputs (one row per example) or (D,) for a single example.
        w: (D,) weights.
        w0: the bias (the weight of a constant input 1).

    Returns:
        (N,) outputs in (0, 1), or a 0-d array for a single example.
    """

    return sigmoid(w0 + x @ w)


def dense_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, activation: str = "relu"
) -> tuple[np.ndarray, DenseCache]:
    """A dense layer: out = g(x̃ w + b), g the activation named ``activation``.

    Args:
        x: (N, d_1, ..., d_k) inputs, flattened per example to D features as in :func:`affine_forward`.
        w: (D, M) weights.
        b: (M,) biases.
        activation: one of :data:`dlcourse.ref.activations.ACTIVATIONS` ("linear" means none).

    Returns:
        out: (N, M).
        cache: (affine cache, activation cache, activation name).
    """

    z, affine_cache = affine_forward(x, w, b)
    out, act_cache = activation_forward(z, activation)
    return out, (affine_cache, act_cache, activation)


def dense_backward(dout: np.ndarray, cache: DenseCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`dense_forward`: dout (N, M) → dx (shape of x), dw (D, M), db (M,)."""

    affine_cache, act_cache, activation = cache
    dz = activation_backward(dout, act_cache, activation)
    return affine_backward(dz, affine_cache)
