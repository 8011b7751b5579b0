"""Fully connected (affine) layer in PyTorch: the twin of :mod:`dlcourse.ref.layers`.

The forward/backward pair is the same math as the NumPy reference; :class:`Affine` wraps it in a
``torch.autograd.Function`` so that ``loss.backward()`` runs the backward pass written here.
"""

from __future__ import annotations

import torch

from dlcourse.gpu.activations import activation_backward, activation_forward, sigmoid

__all__ = [
    "affine_forward", "affine_backward", "perceptron", "dense_forward", "dense_backward", "Affine", "affine",
]

AffineCache = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def affine_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, AffineCache]:
    """out = x̃ w + b, where x̃ is x with every example flattened to one row.

    Args:
        x: (N, d_1, ..., d_k) inputs; each example is flattened to D = d_1 ⋯ d_k features.
        w: (D, M) weights.
        b: (M,) biases.

    Returns:
        out: (N, M), on x's device.
        cache: ``(x, w, b)``, exactly the inputs (the backward pass needs x and w).
    """
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(
    dout: torch.Tensor, cache: AffineCache
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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
    db = dout.sum(dim=0)
    return dx, dw, db


class Affine(torch.autograd.Function):
    """``Affine.apply(x, w, b)`` = :func:`affine_forward`, differentiated by :func:`affine_backward`.

    Shapes: x (N, d_1, ..., d_k), w (D, M), b (M,) → out (N, M).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out, cache = affine_forward(x, w, b)
        ctx.save_for_backward(*cache)
        return out

    @staticmethod
    def backward(ctx, dout: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # type: ignore[override]
        x, w, b = ctx.saved_tensors
        return affine_backward(dout, (x, w, b))


def affine(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x̃ w + b with the written-out backward: x (N, d_1, ..., d_k), w (D, M), b (M,) → (N, M)."""
    return Affine.apply(x, w, b)


# --------------------------------------------------------------------------- lecture 02: neurons and dense layers

DenseCache = tuple[AffineCache, object, str]


def perceptron(x: torch.Tensor, w: torch.Tensor, w0: float) -> torch.Tensor:
    """A single sigmoid neuron ŷ = σ(w₀ + x·w): x (N, D) or (D,), w (D,) → (N,) or 0-d."""

    return sigmoid(w0 + x @ w)


def dense_forward(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, activation: str = "relu"
) -> tuple[torch.Tensor, DenseCache]:
    """out = g(x̃ w + b): x (N, d_1, ..., d_k), w (D, M), b (M,) → out (N, M), cache."""

    z, affine_cache = affine_forward(x, w, b)
    out, act_cache = activation_forward(z, activation)
    return out, (affine_cache, act_cache, activation)


def dense_backward(dout: torch.Tensor, cache: DenseCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of :func:`dense_forward`: dout (N, M) → dx (shape of x), dw (D, M), db (M,)."""

    affine_cache, act_cache, activation = cache
    return affine_backward(activation_backward(dout, act_cache, activation), affine_cache)
