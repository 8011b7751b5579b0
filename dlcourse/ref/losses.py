"""Softmax and the softmax cross-entropy loss with its gradient."""

from __future__ import annotations

import numpy as np


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """p_j = e^{s_j} / Σ_k e^{s_k} along ``axis``, stable for any scores.

    Subtracting the row maximum leaves the result unchanged (it cancels between numerator and
    denominator) and keeps every exponent ≤ 0, so e^{s} can neither overflow nor all underflow.
    """
    shifted = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_cross_entropy(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(scores) against integer labels, and its gradient.

    L = −(1/N) Σ_n log softmax(s_n)[y_n],   ∂L/∂s_n = (softmax(s_n) − onehot(y_n)) / N.

    Args:
        scores: (N, C) unnormalized class scores (logits).
        y: (N,) integer labels in [0, C).

    Returns:
        loss: a Python float.
        dscores: (N, C) gradient of the loss with respect to scores.
    """
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    # log-softmax via log-sum-exp: never takes the log of an underflowed 0.
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, y].mean()
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    dscores /= n
    return float(loss), dscores
