"""Softmax and the softmax cross-entropy loss in PyTorch: the twin of :mod:`dlcourse.ref.losses`."""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = [
    "softmax", "softmax_cross_entropy", "mse", "mae", "huber", "bce", "bce_with_logits", "softmax_backward",
    "log_softmax", "log_softmax_backward", "cross_entropy", "kl_divergence", "SoftmaxCrossEntropy",
    "softmax_cross_entropy_loss",
]


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


# --------------------------------------------------------------------------- lecture 03: loss functions
# Same contract as dlcourse.ref.losses: (loss as a Python float, gradient tensor of the first argument).


def _item(loss: torch.Tensor) -> float:
    """A 0-d loss as a Python float (detached, so inputs that require grad do not warn)."""
    return float(loss.detach())


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> tuple[float, torch.Tensor]:
    """L = (1/m) Σ (ŷ − y)², ∂L/∂ŷ = 2(ŷ − y)/m. Same shapes (any)."""
    d = y_hat - y
    return _item((d * d).mean()), 2.0 * d / d.numel()


def mae(y_hat: torch.Tensor, y: torch.Tensor) -> tuple[float, torch.Tensor]:
    """L = (1/m) Σ |ŷ − y|, ∂L/∂ŷ = sign(ŷ − y)/m. Same shapes (any)."""
    d = y_hat - y
    return _item(d.abs().mean()), torch.sign(d) / d.numel()


def huber(y_hat: torch.Tensor, y: torch.Tensor, delta: float = 1.0) -> tuple[float, torch.Tensor]:
    """Huber: ½d² if |d| ≤ δ else δ(|d| − ½δ), averaged; ∂L/∂ŷ = clip(d, −δ, δ)/m."""
    d = y_hat - y
    a = d.abs()
    per = torch.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _item(per.mean()), d.clamp(-delta, delta) / d.numel()


def bce(p: torch.Tensor, y: torch.Tensor, base: float = math.e) -> tuple[float, torch.Tensor]:
    """Binary cross-entropy from probabilities p in (0, 1) with log base ``base``; gradient w.r.t. p."""
    scale = 1.0 / math.log(base)
    loss = -(y * torch.log(p) + (1 - y) * torch.log1p(-p)).mean() * scale
    return _item(loss), (p - y) / (p * (1 - p)) / p.numel() * scale


def bce_with_logits(z: torch.Tensor, y: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Binary cross-entropy of σ(z) from logits: max(z, 0) − z·y + log(1 + e^{−|z|}); ∂L/∂z = (σ(z) − y)/m."""
    per = z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
    s = torch.where(z >= 0, 1 / (1 + torch.exp(-z.abs())), torch.exp(-z.abs()) / (1 + torch.exp(-z.abs())))
    return _item(per.mean()), (s - y) / z.numel()


def softmax_backward(dout: torch.Tensor, probs: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Vector-Jacobian product of softmax: p ⊙ (dout − Σ_k dout_k p_k). Shapes as probs."""
    return probs * (dout - (dout * probs).sum(dim=axis, keepdim=True))


def log_softmax(scores: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """log p = (s − max s) − log Σ e^{s − max s} along ``axis``. Shape as scores."""
    shifted = scores - scores.amax(dim=axis, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=axis, keepdim=True))


def log_softmax_backward(dout: torch.Tensor, log_probs: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Vector-Jacobian product of log-softmax: dout − p · Σ_k dout_k."""
    return dout - torch.exp(log_probs) * dout.sum(dim=axis, keepdim=True)


def cross_entropy(logits: torch.Tensor, y: Any) -> tuple[float, torch.Tensor]:
    """Mean cross-entropy of softmax(logits (N, C)) against labels (N,) or target rows (N, C)."""
    n, c = logits.shape
    y = torch.as_tensor(y, device=logits.device)
    if y.ndim == 1:
        t = torch.nn.functional.one_hot(y.long(), c).to(logits.dtype)
    else:
        t = y.to(logits.dtype)
    logp = log_softmax(logits, axis=1)
    return _item(-(t * logp).sum() / n), (torch.exp(logp) - t) / n


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> tuple[float, torch.Tensor]:
    """KL(p ‖ q) = Σ p log(p/q), averaged over rows (0·log 0 = 0), and ∂/∂q = −p/q / N."""
    n = p.shape[0] if p.ndim > 1 else 1
    support = p > 0
    one = torch.ones_like(p)
    safe_p, safe_q = torch.where(support, p, one), torch.where(support, q, one)
    terms = torch.where(support, p * (torch.log(safe_p) - torch.log(safe_q)), torch.zeros_like(p))
    return _item(terms.sum() / n), torch.where(support, -p / safe_q, torch.zeros_like(p)) / n
