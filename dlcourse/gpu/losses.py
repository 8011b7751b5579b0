"""Softmax and the softmax cross-entropy loss in PyTorch: the twin of :mod:`dlcourse.ref.losses`."""

from __future__ import annotations

from typing import Any

import torch


def softmax(scores: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """p_j = e^{s_j} / Σ_k e^{s_k} along ``axis``, stable for any scores. Shape as scores.

    Subtracting the maximum leaves the result unchanged (it cancels between numerator and
    denominator) and keeps every exponent ≤ 0, so e^{s} can neither overflow nor all underflow.
    """
    shifted = scores - scores.amax(dim=axis, keepdim=True)
    e = torch.exp(shifted)
    return e / e.sum(dim=axis, keepdim=True)


def _softmax_cross_entropy(scores: torch.Tensor, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`softmax_cross_entropy` with the loss left as a 0-d tensor (no device sync)."""
    n = scores.shape[0]
    y = torch.as_tensor(y, device=scores.device)
    shifted = scores - scores.amax(dim=1, keepdim=True)
    # log-softmax via log-sum-exp: never takes the log of an underflowed 0.
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    rows = torch.arange(n, device=scores.device)
    loss = -log_probs[rows, y].mean()
    dscores = torch.exp(log_probs)
    dscores[rows, y] -= 1.0
    dscores /= n
    return loss, dscores


def softmax_cross_entropy(scores: torch.Tensor, y: Any) -> tuple[float, torch.Tensor]:
    """Mean cross-entropy of softmax(scores) against integer labels, and its gradient.

    L = −(1/N) Σ_n log softmax(s_n)[y_n],   ∂L/∂s_n = (softmax(s_n) − onehot(y_n)) / N.

    Args:
        scores: (N, C) unnormalized class scores (logits).
        y: (N,) integer labels in [0, C) (a tensor, or anything ``torch.as_tensor`` takes).

    Returns:
        loss: a Python float.
        dscores: (N, C) gradient of the loss with respect to scores, on scores' device and dtype.
    """
    loss, dscores = _softmax_cross_entropy(scores, y)
    return float(loss.detach()), dscores


class SoftmaxCrossEntropy(torch.autograd.Function):
    """``SoftmaxCrossEntropy.apply(scores, y)`` → 0-d loss tensor; backward = the saved dscores.

    Shapes: scores (N, C), y (N,) integer labels (not differentiable) → loss ().
    """

    @staticmethod
    def forward(ctx, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        loss, dscores = _softmax_cross_entropy(scores, y)
        ctx.save_for_backward(dscores)
        return loss

    @staticmethod
    def backward(ctx, dloss: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (dscores,) = ctx.saved_tensors
        return dloss * dscores, None


def softmax_cross_entropy_loss(scores: torch.Tensor, y: Any) -> torch.Tensor:
    """Mean softmax cross-entropy as a 0-d tensor, with the written-out backward.

    scores (N, C), y (N,) integer labels → loss (); ``loss.backward()`` gives scores.grad (N, C).
    """
    return SoftmaxCrossEntropy.apply(scores, torch.as_tensor(y, device=scores.device))
