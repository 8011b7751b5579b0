"""Softmax and the softmax cross-entropy loss with its gradient."""

from __future__ import annotations

import numpy as np

from dlcourse.ref.activations import sigmoid

__all__ = [
    "softmax", "softmax_cross_entropy", "mse", "mae", "huber", "bce", "bce_with_logits", "softmax_backward",
    "log_softmax", "log_softmax_backward", "cross_entropy", "kl_divergence",
]


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


# --------------------------------------------------------------------------- lecture 03: loss functions
# Every loss returns (loss, grad): the loss as a Python float, averaged as stated, and the gradient
# with respect to the first argument (predictions, probabilities or logits), of its shape.


def mse(y_hat: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error L = (1/m) Σ (ŷ − y)² over all m entries, and ∂L/∂ŷ = 2(ŷ − y)/m.

    y_hat, y: the same shape (any). Some texts use 1/(2m) so that the 2 of the gradient cancels;
    that halves both the loss and the gradient and moves no minimum.
    """
    d = y_hat - y
    return float(np.mean(d * d)), 2.0 * d / d.size


def mae(y_hat: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean absolute error L = (1/m) Σ |ŷ − y|, and ∂L/∂ŷ = sign(ŷ − y)/m (0 where ŷ = y).

    y_hat, y: the same shape (any).
    """
    d = y_hat - y
    return float(np.mean(np.abs(d))), np.sign(d) / d.size


def huber(y_hat: np.ndarray, y: np.ndarray, delta: float = 1.0) -> tuple[float, np.ndarray]:
    """Huber loss: quadratic for small residuals, linear for large ones, averaged over m entries.

    ℓ(d) = ½d² if |d| ≤ δ, else δ(|d| − ½δ);   ∂L/∂ŷ = clip(d, −δ, δ)/m,   d = ŷ − y.
    y_hat, y: the same shape (any); delta > 0.
    """
    d = y_hat - y
    a = np.abs(d)
    per = np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return float(np.mean(per)), np.clip(d, -delta, delta) / d.size


def bce(p: np.ndarray, y: np.ndarray, base: float = np.e) -> tuple[float, np.ndarray]:
    """Binary cross-entropy from probabilities, L = −(1/m) Σ [y log p + (1 − y) log(1 − p)].

    Args:
        p: predicted probabilities in (0, 1), any shape.
        y: targets in [0, 1], the shape of p.
        base: base of the logarithm; e (nats) is the standard, 10 reproduces some textbook tables.
            log_b(t) = ln(t)/ln(b), so a change of base only rescales the loss.

    Returns:
        loss and ∂L/∂p = (p − y) / (p(1 − p)) / (m · ln b).
    """
    scale = 1.0 / np.log(base)
    m = p.size
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)) * scale
    return float(loss), (p - y) / (p * (1 - p)) / m * scale


def bce_with_logits(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of σ(z), computed from the logits z without overflow.

    −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^{−|z|}), and
    ∂L/∂z = (σ(z) − y)/m. z, y: the same shape (any); y in [0, 1].
    """

    per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(per)), (sigmoid(z) - y) / z.size


def softmax_backward(dout: np.ndarray, probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Vector-Jacobian product of softmax: ds = p ⊙ (dout − Σ_k dout_k p_k). Shapes as probs."""
    return probs * (dout - np.sum(dout * probs, axis=axis, keepdims=True))


def log_softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """log p_j = (s_j − max s) − log Σ_k e^{s_k − max s} along ``axis``. Shape as scores.

    Never takes the log of a probability, so an underflowed e^{s} cannot turn into −inf.
    """
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax_backward(dout: np.ndarray, log_probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Vector-Jacobian product of log-softmax: ds = dout − p · Σ_k dout_k, p = e^{log p}."""
    return dout - np.exp(log_probs) * np.sum(dout, axis=axis, keepdims=True)


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean multiclass cross-entropy of softmax(logits), and its gradient.

    Args:
        logits: (N, C) unnormalized scores.
        y: (N,) integer labels in [0, C), or (N, C) target distributions (rows sum to 1).

    Returns:
        loss = −(1/N) Σ_n Σ_c t_nc log softmax(s_n)_c, with t the one-hot or given targets;
        dlogits: (N, C) = (softmax(logits) − t)/N.
    """
    n, c = logits.shape
    t = np.eye(c)[y] if np.ndim(y) == 1 else np.asarray(y, dtype=np.float64)
    logp = log_softmax(logits, axis=1)
    return float(-np.sum(t * logp) / n), (np.exp(logp) - t) / n


def kl_divergence(p: np.ndarray, q: np.ndarray) -> tuple[float, np.ndarray]:
    """KL(p ‖ q) = Σ_c p_c log(p_c / q_c), averaged over rows, and ∂/∂q = −p/q / N.

    Args:
        p: (N, C) or (C,) target distributions (entries ≥ 0, rows sum to 1); 0·log 0 counts as 0.
        q: the same shape, model distributions with q > 0 wherever p > 0.

    Returns:
        the mean over the N rows (N = 1 for a single distribution), and the gradient w.r.t. q.
    """
    n = p.shape[0] if p.ndim > 1 else 1
    support = p > 0
    safe_p, safe_q = np.where(support, p, 1.0), np.where(support, q, 1.0)  # no log 0 off the support
    terms = np.where(support, p * (np.log(safe_p) - np.log(safe_q)), 0.0)
    return float(np.sum(terms) / n), np.where(support, -p / safe_q, 0.0) / n
