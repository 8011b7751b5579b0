"""Correct alternatives and known-wrong implementations (mutants) for the 03-losses checks.

``MUTANTS[check]`` lists ``(implementation, pattern, public, hint)`` entries, as ``check_harness``
describes.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import losses as checks

Impl = Callable[..., Any]


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


# ----------------------------------------------------------------- MSE
def mse_flat(y_hat, y):
    d = (y_hat - y).ravel()
    return float(d @ d / d.size), (2 * (y_hat - y) / d.size)


def mse_half(y_hat, y):
    d = y_hat - y
    return np.mean(d**2) / 2, d / d.size


def mse_sum(y_hat, y):
    d = y_hat - y
    return np.sum(d**2), 2 * d


def mse_grad_no_two(y_hat, y):
    d = y_hat - y
    return np.mean(d**2), d / d.size


def mse_grad_sign(y_hat, y):
    d = y_hat - y
    return np.mean(d**2), -2 * d / d.size


def mse_rmse(y_hat, y):
    d = y_hat - y
    return np.sqrt(np.mean(d**2)), 2 * d / d.size


# ----------------------------------------------------------------- MAE
def mae_where(y_hat, y):
    d = y_hat - y
    return float(np.abs(d).sum() / d.size), np.where(d > 0, 1.0, np.where(d < 0, -1.0, 0.0)) / d.size


def mae_no_abs(y_hat, y):
    d = y_hat - y
    return np.mean(d), np.sign(d) / d.size


def mae_grad_not_averaged(y_hat, y):
    d = y_hat - y
    return np.mean(np.abs(d)), np.sign(d)


def mae_grad_like_mse(y_hat, y):
    d = y_hat - y
    return np.mean(np.abs(d)), d / d.size


def mae_sum(y_hat, y):
    d = y_hat - y
    return np.sum(np.abs(d)), np.sign(d)


# ----------------------------------------------------------------- Huber
def huber_via_min(y_hat, y, delta=1.0):
    d = y_hat - y
    a = np.abs(d)
    quad = np.minimum(a, delta)  # ½q² + δ(a − q) is ½a² inside and δ(a − ½δ) outside
    return float(np.mean(0.5 * quad**2 + delta * (a - quad))), np.sign(d) * quad / d.size


def huber_wrong_branch(y_hat, y, delta=1.0):
    d = y_hat - y
    a = np.abs(d)
    return np.mean(np.where(a > delta, 0.5 * d**2, delta * (a - 0.5 * delta))), \
        np.where(a > delta, d, delta * np.sign(d)) / d.size


def huber_no_half(y_hat, y, delta=1.0):
    d = y_hat - y
    a = np.abs(d)
    return np.mean(np.where(a <= delta, d**2, delta * (a - 0.5 * delta))), np.clip(d, -delta, delta) / d.size


def huber_linear_without_offset(y_hat, y, delta=1.0):
    d = y_hat - y
    a = np.abs(d)
    return np.mean(np.where(a <= delta, 0.5 * d**2, delta * a)), np.clip(d, -delta, delta) / d.size


def huber_grad_unclipped(y_hat, y, delta=1.0):
    d = y_hat - y
    a = np.abs(d)
    return np.mean(np.where(a <= delta, 0.5 * d**2, delta * (a - 0.5 * delta))), d / d.size


def huber_grad_not_averaged(y_hat, y, delta=1.0):
    d = y_hat - y
    a = np.abs(d)
    return np.mean(np.where(a <= delta, 0.5 * d**2, delta * (a - 0.5 * delta))), np.clip(d, -delta, delta)


# ----------------------------------------------------------------- BCE from probabilities
def bce_log_change_of_base(p, y, base=np.e):
    log = lambda t: np.log(t) / np.log(base)  # noqa: E731
    m = p.size
    return float(-(y * log(p) + (1 - y) * log(1 - p)).sum() / m), (-(y / p) + (1 - y) / (1 - p)) / (m * np.log(base))


def bce_ignores_base(p, y, base=np.e):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / (p * (1 - p)) / p.size


def bce_always_log10(p, y, base=np.e):
    return -np.mean(y * np.log10(p) + (1 - y) * np.log10(1 - p)), (p - y) / (p * (1 - p)) / p.size / np.log(10)


def bce_missing_minus(p, y, base=np.e):
    return np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) / np.log(base), (p - y) / (p * (1 - p)) / p.size / np.log(base)


def bce_positive_term_only(p, y, base=np.e):
    return -np.mean(y * np.log(p)) / np.log(base), (p - y) / (p * (1 - p)) / p.size / np.log(base)


def bce_logit_gradient(p, y, base=np.e):
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) / np.log(base)
    return loss, (p - y) / p.size / np.log(base)


# ----------------------------------------------------------------- BCE from logits
def bce_with_logits_logaddexp(z, y):
    per = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
    return float(per.mean()), (_sigmoid(z) - y) / z.size


def bce_with_logits_log_sigmoid(z, y):
    e = np.exp(-np.abs(z))
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))  # a stable sigmoid, but then log(σ) = log(0)
    return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)), (s - y) / z.size  # log(0) at z = ±1000


def bce_with_logits_naive_exp(z, y):
    s = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)), (s - y) / z.size


def bce_with_logits_clipped(z, y):
    s = np.clip(_sigmoid(z), 1e-7, 1 - 1e-7)
    return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)), (_sigmoid(z) - y) / z.size


def bce_with_logits_takes_probabilities(z, y):
    return -np.mean(y * np.log(z) + (1 - y) * np.log(1 - z)), (z - y) / z.size  # logits treated as p


def bce_with_logits_grad_sign(z, y):
    per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return per.mean(), (y - _sigmoid(z)) / z.size


def bce_with_logits_no_log_term(z, y):
    return np.mean(np.maximum(z, 0) - z * y), (_sigmoid(z) - y) / z.size


# ----------------------------------------------------------------- softmax
def softmax_logsumexp(s):
    m = s.max(axis=-1, keepdims=True)
    return np.exp(s - m - np.log(np.exp(s - m).sum(axis=-1, keepdims=True)))


def softmax_no_max(s):
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_global_max(s):
    e = np.exp(s - s.max())
    return e / e.sum(axis=-1, keepdims=True)


def softmax_axis0(s):
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_no_exp(s):
    return s / s.sum(axis=-1, keepdims=True)


def softmax_whole_array(s):
    e = np.exp(s - s.max())
    return e / e.sum()


# ----------------------------------------------------------------- softmax backward
def softmax_backward_jacobian(dout, p):
    flat_p, flat_d = p.reshape(-1, p.shape[-1]), dout.reshape(-1, p.shape[-1])
    rows = [(np.diag(pi) - np.outer(pi, pi)) @ di for pi, di in zip(flat_p, flat_d)]
    return np.array(rows).reshape(p.shape)


def softmax_backward_diagonal(dout, p):
    return dout * p * (1 - p)


def softmax_backward_no_mean(dout, p):
    return dout * p


def softmax_backward_wrong_axis(dout, p):
    return p * (dout - (dout * p).sum(axis=0, keepdims=True))


def softmax_backward_log_softmax(dout, p):
    return dout - p * dout.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------- log-softmax
def log_softmax_logaddexp(s):
    return s - np.logaddexp.reduce(s, axis=-1, keepdims=True)


def log_softmax_of_softmax(s):
    return np.log(softmax_logsumexp(s))  # log 0 for underflowed probabilities


def log_softmax_forgets_max(s):
    m = s.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s - m).sum(axis=-1, keepdims=True))


def log_softmax_no_max(s):
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def log_softmax_shift_only(s):
    return s - s.max(axis=-1, keepdims=True)


# ----------------------------------------------------------------- cross-entropy
def cross_entropy_loop(logits, y):
    n, c = logits.shape
    loss, d = 0.0, np.zeros(logits.shape)
    for i in range(n):
        row = logits[i] - logits[i].max()
        lse = np.log(np.exp(row).sum())
        loss -= row[y[i]] - lse
        d[i] = np.exp(row - lse)
        d[i, y[i]] -= 1
    return loss / n, d / n


def cross_entropy_zeros_like_logits(logits, y):
    """The row-by-row version with d = np.zeros_like(logits): integer logits give an integer gradient."""
    n, c = logits.shape
    loss, d = 0.0, np.zeros_like(logits)
    for i in range(n):
        row = logits[i] - logits[i].max()
        lse = np.log(np.exp(row).sum())
        loss -= row[y[i]] - lse
        d[i] = np.exp(row - lse)
        d[i, y[i]] -= 1
    return loss / n, d / n


def cross_entropy_takes_probabilities(logits, y):
    n, c = logits.shape
    return -np.mean(np.log(logits[np.arange(n), y])), (logits - np.eye(c)[y]) / n


def cross_entropy_no_max(logits, y):
    n, c = logits.shape
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(n), y])), (p - np.eye(c)[y]) / n


def cross_entropy_sum(logits, y):
    n, c = logits.shape
    logp = log_softmax_logaddexp(logits)
    return -np.sum(logp[np.arange(n), y]), np.exp(logp) - np.eye(c)[y]


def cross_entropy_no_onehot(logits, y):
    n, c = logits.shape
    logp = log_softmax_logaddexp(logits)
    return -np.mean(logp[np.arange(n), y]), np.exp(logp) / n


def cross_entropy_grad_not_averaged(logits, y):
    n, c = logits.shape
    logp = log_softmax_logaddexp(logits)
    return -np.mean(logp[np.arange(n), y]), np.exp(logp) - np.eye(c)[y]


# ----------------------------------------------------------------- KL
def kl_divergence_entropy_form(p, q):
    n = p.shape[0] if p.ndim > 1 else 1
    sup = p > 0
    logp = np.log(np.where(sup, p, 1.0))
    logq = np.log(np.where(sup, q, 1.0))
    cross, ent = -np.sum(p * logq), -np.sum(p * logp)  # KL = H(p, q) − H(p)
    return (cross - ent) / n, np.where(sup, -p / np.where(sup, q, 1.0), 0.0) / n


def kl_divergence_swapped(p, q):
    n = p.shape[0] if p.ndim > 1 else 1
    return np.sum(q * np.log(q / p)) / n, (np.log(q / p) + 1) / n


def kl_divergence_log_of_zero(p, q):
    n = p.shape[0] if p.ndim > 1 else 1
    return np.sum(p * np.log(p / q)) / n, -p / q / n  # 0·log 0 = nan, with a warning


def kl_divergence_summed(p, q):
    sup = p > 0
    return np.sum(np.where(sup, p * np.log(np.where(sup, p, 1.0) / q), 0.0)), -p / q


def kl_divergence_cross_entropy(p, q):
    n = p.shape[0] if p.ndim > 1 else 1
    return -np.sum(p * np.log(q)) / n, -p / q / n


def kl_divergence_grad_sign(p, q):
    n = p.shape[0] if p.ndim > 1 else 1
    sup = p > 0
    return np.sum(np.where(sup, p * np.log(np.where(sup, p, 1.0) / q), 0.0)) / n, p / q / n


# ----------------------------------------------------------------- log-softmax backward
def log_softmax_backward_jacobian(dout, logp):
    """Builds the (C, C) Jacobian [i = j] − p_j per row and multiplies (slow, but right)."""
    p = np.exp(logp)
    flat_d, flat_p = dout.reshape(-1, dout.shape[-1]), p.reshape(-1, p.shape[-1])
    rows = [g @ (np.eye(len(q)) - np.outer(np.ones(len(q)), q)) for g, q in zip(flat_d, flat_p)]
    return np.array(rows).reshape(dout.shape)


def log_softmax_backward_diagonal(dout, logp):
    return dout * (1 - np.exp(logp))


def log_softmax_backward_global_sum(dout, logp):
    return dout - np.exp(logp) * dout.sum()


def log_softmax_backward_wrong_axis(dout, logp):
    return dout - np.exp(logp) * dout.sum(axis=0, keepdims=True)


def log_softmax_backward_softmax_rule(dout, logp):
    p = np.exp(logp)
    return p * (dout - np.sum(dout * p, axis=-1, keepdims=True))


def log_softmax_backward_no_exp(dout, logp):
    return dout - logp * dout.sum(axis=-1, keepdims=True)


def log_softmax_backward_sign(dout, logp):
    return np.exp(logp) * dout.sum(axis=-1, keepdims=True) - dout


# ----------------------------------------------------------------- edge cases (issue 10): dtypes, kinks, defaults, classes
def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def mse_grad_zeros_like(y_hat, y):
    d = y_hat - y
    grad = np.zeros_like(y_hat)  # integer ŷ: an integer gradient, every value truncated
    grad[...] = 2 * d / d.size
    return np.mean(d**2), grad


def mse_float32(y_hat, y):
    d = y_hat - y
    return np.mean(d**2), (2 * d / d.size).astype(np.float32)


def mae_sign_zero_is_one(y_hat, y):
    d = y_hat - y
    return np.mean(np.abs(d)), np.where(d >= 0, 1.0, -1.0) / d.size


def huber_default_half(y_hat, y, delta=0.5):
    d = y_hat - y
    a = np.abs(d)
    return (np.mean(np.where(a <= delta, 0.5 * d**2, delta * (a - 0.5 * delta))),
            np.clip(d, -delta, delta) / d.size)


def bce_mean_over_positives(p, y, base=np.e):
    """Divides by the number of positives instead of m: wrong, and a batch without positives divides by 0."""
    s = 1 / np.log(base)
    loss = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / y.sum() * s
    return loss, (p - y) / (p * (1 - p)) / p.size * s


def bce_with_logits_piecewise_derivative(z, y):
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    e = np.exp(-np.abs(z))
    dz = ((z > 0) - y - np.sign(z) * e / (1 + e)) / z.size  # the kinks at z = 0 handled wrongly
    return loss, dz


def bce_with_logits_empty_like(z, y):
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    dz = np.empty_like(z)  # integer logits: an integer gradient
    dz[...] = (_stable_sigmoid(z) - y) / z.size
    return loss, dz


def softmax_empty_like(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    p = np.empty_like(s)  # integer logits: the probabilities are truncated to 0
    p[...] = e / e.sum(axis=-1, keepdims=True)
    return p


def softmax_float32(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def log_softmax_zeros_like(s):
    m = s.max(axis=-1, keepdims=True)
    out = np.zeros_like(s)
    out[...] = (s - m) - np.log(np.exp(s - m).sum(axis=-1, keepdims=True))
    return out


def softmax_backward_float32(dout, p):
    return (p * (dout - (dout * p).sum(axis=-1, keepdims=True))).astype(np.float32)


def log_softmax_backward_float32(dout, logp):
    return (dout - np.exp(logp) * dout.sum(axis=-1, keepdims=True)).astype(np.float32)


def cross_entropy_eye_from_labels(logits, y):
    """Builds the one-hot targets with as many columns as the largest label + 1: a batch missing the last
    classes has too few columns."""
    n = len(y)
    logp = logits - logits.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    t = np.eye(int(y.max()) + 1)[y]
    return -np.mean(logp[np.arange(n), y]), (np.exp(logp) - t) / n


def kl_divergence_float32(p, q):
    n = p.shape[0] if p.ndim > 1 else 1
    support = p > 0
    kl = np.sum(np.where(support, p * np.log(np.where(support, p, 1.0) / q), 0.0)) / n
    return kl, (np.where(support, -p / q, 0.0) / n).astype(np.float32)


CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_mse: [mse_flat],
    checks.check_mae: [mae_where],
    checks.check_huber: [huber_via_min],
    checks.check_bce: [bce_log_change_of_base],
    checks.check_bce_with_logits: [bce_with_logits_logaddexp],
    checks.check_softmax: [softmax_logsumexp],
    checks.check_softmax_backward: [softmax_backward_jacobian],
    checks.check_log_softmax: [log_softmax_logaddexp],
    checks.check_log_softmax_backward: [log_softmax_backward_jacobian],
    checks.check_cross_entropy: [cross_entropy_loop],
    checks.check_kl_divergence: [kl_divergence_entropy_form],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_mse: ref.mse,
    checks.check_mae: ref.mae,
    checks.check_huber: ref.huber,
    checks.check_bce: ref.bce,
    checks.check_bce_with_logits: ref.bce_with_logits,
    checks.check_softmax: ref.softmax,
    checks.check_softmax_backward: ref.softmax_backward,
    checks.check_log_softmax: ref.log_softmax,
    checks.check_log_softmax_backward: ref.log_softmax_backward,
    checks.check_cross_entropy: ref.cross_entropy,
    checks.check_kl_divergence: ref.kl_divergence,
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_mse: [
        (mse_half, "mse's loss is", True, r"1/\(2m\) convention"),
        (mse_sum, "mse's loss is", True, "divide by the number of entries"),
        (mse_grad_no_two, "mse's dy_hat has wrong values", True, "derivative of d² is 2d"),
        (mse_grad_sign, "mse's dy_hat has wrong values", True, "sign is flipped"),
        (mse_rmse, "mse's loss is", True, "RMSE"),
        (mse_grad_zeros_like, r"mse's dy_hat has wrong values \(integer ŷ", False, "integer array"),
        (mse_float32, "the dtype of mse's dy_hat is float32, expected float64", True, "return float64"),
    ],
    checks.check_mae: [
        (mae_no_abs, "mae's loss is", True, "take the absolute value"),
        (mae_grad_not_averaged, "mae's dy_hat has wrong values", True, "divide the gradient by m"),
        (mae_grad_like_mse, "mae's dy_hat has wrong values", True, r"derivative of \|d\| is sign"),
        (mae_sum, "mae's loss is", True, "divide by the number of entries"),
        (mae_sign_zero_is_one, r"mae's dy_hat has wrong values \(integer ŷ = \[3, −1, 4, 0\], y = \[1, 2, 4, 0\] \(two residuals exactly 0\)\)", False,
         "at d = 0 exactly"),
    ],
    checks.check_huber: [
        (huber_wrong_branch, "huber's loss is", True, "branches are swapped"),
        (huber_no_half, "huber's loss is", True, "quadratic branch is ½d²"),
        (huber_linear_without_offset, "huber's loss is", True, "jumps at"),
        (huber_grad_unclipped, "huber's dy_hat has wrong values", True, "clip the gradient"),
        (huber_grad_not_averaged, "huber's dy_hat has wrong values", True, "divide the gradient by m"),
        (huber_default_half, r"huber's loss is .* \(δ not given \(the default, 1\)\)", False, None),
    ],
    checks.check_bce: [
        (bce_ignores_base, "bce's loss is", True, "base is a parameter"),
        (bce_always_log10, "bce's loss is", True, "log10 is right only"),
        (bce_missing_minus, "bce's loss is", True, "minus sign"),
        (bce_positive_term_only, "bce's loss is", True, r"\(1 − y\)·log\(1 − p\) term"),
        (bce_logit_gradient, "bce's dp has wrong values", True, r"with respect to the \*logit\*"),
        (bce_mean_over_positives, r"bce's loss is 0\.6338\d*, expected 0\.316902 \(the lecture's table, base 10\)", True, None),
    ],
    checks.check_bce_with_logits: [
        (bce_with_logits_log_sigmoid, "bce_with_logits raised", True, r"log\(σ\(z\)\) is −inf"),
        (bce_with_logits_naive_exp, "overflow", True, "once σ.z. underflows to 0"),
        (bce_with_logits_clipped, "bce_with_logits's loss is", True, r"clipping σ\(z\) caps the loss"),
        (bce_with_logits_takes_probabilities, "bce_with_logits raised", True, "takes logits"),
        (bce_with_logits_grad_sign, "bce_with_logits's dz has wrong values", True, "sign is flipped"),
        (bce_with_logits_no_log_term, "bce_with_logits's loss is", True, r"log\(1 \+ e\^\{−\|z\|\}\) is missing"),
        (bce_with_logits_piecewise_derivative, r"bce_with_logits's dz has wrong values \(logits exactly 0", False, "piece by piece"),
        (bce_with_logits_empty_like, r"bce_with_logits's dz has wrong values \(integer logits", False, "integer array"),
    ],
    checks.check_softmax: [
        (softmax_no_max, "softmax raised", True, "subtract each row's maximum"),
        (softmax_global_max, "softmax raised", True, "not of the whole array"),
        (softmax_axis0, r"softmax\(logits\) has wrong values", True, "not axis 0"),
        (softmax_no_exp, r"softmax\(logits\) has wrong values", True, "exponentiate first"),
        (softmax_whole_array, r"softmax\(logits\) has wrong values", True, "each row is its own distribution"),
        (softmax_empty_like, r"softmax\(logits\) has wrong values \(integer logits", False, "integer array"),
        (softmax_float32, r"softmax\(logits\) has wrong values", True, "float32"),
    ],
    checks.check_softmax_backward: [
        (softmax_backward_diagonal, "softmax_backward's dlogits has wrong values", True, "only the diagonal"),
        (softmax_backward_no_mean, "softmax_backward's dlogits has wrong values", True, "subtract the weighted mean"),
        (softmax_backward_wrong_axis, "softmax_backward's dlogits has wrong values", True, "runs over the classes"),
        (softmax_backward_log_softmax, "softmax_backward's dlogits has wrong values", True, "log-softmax's backward"),
        (softmax_backward_float32, "the dtype of softmax_backward's dlogits is float32, expected float64", True, "return float64"),
    ],
    checks.check_log_softmax: [
        (log_softmax_of_softmax, "log_softmax raised", True, "never the log of a probability"),
        (log_softmax_forgets_max, r"log_softmax\(logits\) has wrong values", True, "must come back"),
        (log_softmax_no_max, "log-sum-exp|overflow", True, "−inf where a probability underflows"),
        (log_softmax_shift_only, r"log_softmax\(logits\) has wrong values", True, "subtract log Σ"),
        (log_softmax_zeros_like, r"log_softmax\(logits\) has wrong values \(integer logits", False, "integer array"),
    ],
    checks.check_log_softmax_backward: [
        (log_softmax_backward_diagonal, "log_softmax_backward's dlogits has wrong values", True, "only the diagonal"),
        (log_softmax_backward_global_sum, "log_softmax_backward's dlogits has wrong values", True, "each row has its own sum"),
        (log_softmax_backward_wrong_axis, "log_softmax_backward's dlogits has wrong values", True, "runs over the classes"),
        (log_softmax_backward_softmax_rule, "log_softmax_backward's dlogits has wrong values", True, "that is softmax's backward"),
        (log_softmax_backward_no_exp, "log_softmax_backward's dlogits has wrong values", True, "exponentiate logp"),
        (log_softmax_backward_sign, "log_softmax_backward's dlogits has wrong values", True, "sign is flipped"),
        (log_softmax_backward_float32, "the dtype of log_softmax_backward's dlogits is float32, expected float64", True,
         "return float64"),
    ],
    checks.check_cross_entropy: [
        (cross_entropy_takes_probabilities, "cross_entropy", True, "not probabilities"),
        (cross_entropy_no_max, "overflow", True, "work in log space from the logits"),
        (cross_entropy_sum, "cross_entropy's loss is", True, "divide by N"),
        (cross_entropy_no_onehot, "cross_entropy's dlogits has wrong values", True, "subtract the one-hot"),
        (cross_entropy_grad_not_averaged, "cross_entropy's dlogits has wrong values", True, "divide the gradient by N"),
        (cross_entropy_eye_from_labels, None, False, None),
        (cross_entropy_zeros_like_logits, r"cross_entropy's dlogits has wrong values \(integer logits", False, "integer array"),
    ],
    checks.check_kl_divergence: [
        (kl_divergence_swapped, "kl_divergence's value is", True, "arguments are swapped"),
        (kl_divergence_log_of_zero, "kl_divergence raised", True, "0·log 0 must count as 0"),
        (kl_divergence_summed, "kl_divergence's value is", True, "average over the rows"),
        (kl_divergence_cross_entropy, "kl_divergence's value is", True, r"cross-entropy H\(p, q\)|0·log 0"),
        (kl_divergence_grad_sign, "kl_divergence's dq has wrong values", True, "sign is flipped"),
        (kl_divergence_float32, "the dtype of kl_divergence's dq is float32, expected float64", True, "return float64"),
    ],
}
