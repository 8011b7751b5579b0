"""Regularization: data splits, L2/L1 penalties, dropout and DropConnect, early stopping,
image augmentations and hyper-parameter search samplers.

Conventions:

- parameters are dicts name → array; **weights are the entries whose name starts with "W"**;
  biases (and anything else) are never penalized;
- ``p`` is the probability of *dropping* a unit (PyTorch's ``nn.Dropout(p)``; TensorFlow 1's
  ``keep_prob`` is 1 − p). Dropout is *inverted*: kept units are scaled by 1/(1 − p) during
  training, so eval mode is the identity;
- every random choice goes through an explicit ``rng`` (a ``np.random.Generator`` or a seed).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "stratified_split", "l2_penalty", "l1_penalty", "dropout_forward", "dropout_backward",
    "dropconnect_forward", "dropconnect_backward", "EarlyStopping", "random_flip", "random_shift",
    "add_noise", "grid_search_points", "random_search_points",
]

Params = Mapping[str, np.ndarray]


# --------------------------------------------------------------------------- splits


def stratified_split(
    y: np.ndarray, val_fraction: float = 0.2, test_fraction: float = 0.2, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a train/validation/test split that keeps every class's proportion in each part.

    For each class c (in increasing order) its indices are shuffled with ``rng``; the first
    round(n_c · test_fraction) go to test, the next round(n_c · val_fraction) to validation, the
    rest to training. Each returned index array is sorted.

    Args:
        y: (N,) integer labels.
        val_fraction, test_fraction: fractions of every class (their sum < 1).
        rng: generator or seed; the same seed gives the same split.

    Returns:
        train_idx, val_idx, test_idx: disjoint int64 arrays whose union is 0…N−1.
    """
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise ValueError("need val_fraction ≥ 0, test_fraction ≥ 0 and val_fraction + test_fraction < 1")
    rng = np.random.default_rng(rng)
    y = np.asarray(y)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(len(idx) * test_fraction))
        n_val = int(round(len(idx) * val_fraction))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) if p else np.zeros(0, np.int64)  # type: ignore[return-value]
                 for p in parts)


# --------------------------------------------------------------------------- penalties


def _is_weight(name: str) -> bool:
    return name.startswith("W")


def l2_penalty(params: Params, lam: float) -> tuple[float, dict[str, np.ndarray]]:
    """R = ½ λ Σ_{weights W} ‖W‖², and ∂R/∂θ = λ W for weights, 0 for biases.

    The ½ makes the gradient λW. Added to a *mean* data loss this is lecture 002's
    λ/(2m) Σ w² added to a *summed* loss, divided by m. With plain SGD it is weight decay:
    w ← w − α(∂L/∂w + λw) = (1 − αλ) w − α ∂L/∂w (``torch.optim.SGD(weight_decay=λ)``).

    Args:
        params: name → array; names starting with "W" are penalized.
        lam: λ ≥ 0.

    Returns:
        (penalty as a float, grads with the keys and shapes of ``params``).
    """
    loss = 0.5 * lam * sum(float(np.sum(v * v)) for k, v in params.items() if _is_weight(k))
    grads = {k: lam * v if _is_weight(k) else np.zeros_like(v) for k, v in params.items()}
    return float(loss), grads


def l1_penalty(params: Params, lam: float) -> tuple[float, dict[str, np.ndarray]]:
    """R = λ Σ_{weights W} Σ |w|, and ∂R/∂w = λ·sign(w) (subgradient 0 at w = 0) for weights, 0 for biases.

    Gradient descent then moves every weight by a constant α λ *towards 0*:
    w ← w − α ∂L/∂w − αλ sign(w). (Lecture 002 writes "+ αλ sign(w)", which pushes weights away
    from 0.) Shapes and keys as :func:`l2_penalty`.
    """
    loss = lam * sum(float(np.sum(np.abs(v))) for k, v in params.items() if _is_weight(k))
    grads = {k: lam * np.sign(v) if _is_weight(k) else np.zeros_like(v) for k, v in params.items()}
    return float(loss), grads


# --------------------------------------------------------------------------- dropout


def dropout_forward(
    x: np.ndarray, p: float = 0.5, train: bool = True, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout: out = x ⊙ m / (1 − p), m_i ~ Bernoulli(1 − p), drawn as
    ``rng.random(x.shape) < 1 - p``; eval mode (``train=False``) returns x unchanged.

    Args:
        x: any shape. p: drop probability in [0, 1]. train: training or evaluation mode.

    Returns:
        out: shaped like x, E[out] = x.
        cache: the scaled mask m / (1 − p) (all ones in eval mode; all zeros when p = 1), so
            that dx = dout ⊙ cache.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p is a probability, got {p}")
    if not train or p == 0.0:
        mask = np.ones_like(x, dtype=np.float64)
    elif p == 1.0:
        mask = np.zeros_like(x, dtype=np.float64)
    else:
        keep = 1.0 - p
        mask = (np.random.default_rng(rng).random(x.shape) < keep) / keep
    return x * mask, mask


def dropout_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout ⊙ (m / (1 − p)): dropped units pass no gradient, kept ones scale it. Shapes as x."""
    return dout * cache


def dropconnect_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, p: float = 0.5, train: bool = True,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """DropConnect: an affine layer whose *weights* (not units) are dropped, out = x (w ⊙ M) + b.

    M = (``rng.random(w.shape) < 1 - p``) / (1 − p) in training, all ones in eval mode (inverted
    scaling, so the expected weight is w). A fresh mask per call (per mini-batch).

    Args:
        x: (N, D), w: (D, M), b: (M,).

    Returns:
        out (N, M); cache (x, w, mask).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"DropConnect needs 0 ≤ p < 1, got {p}")
    if train and p > 0:
        mask = (np.random.default_rng(rng).random(w.shape) < 1.0 - p) / (1.0 - p)
    else:
        mask = np.ones_like(w, dtype=np.float64)
    return x @ (w * mask) + b, (x, w, mask)


def dropconnect_backward(
    dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx = dout (w ⊙ M)ᵀ (N, D), dw = (xᵀ dout) ⊙ M (D, M), db = Σ_n dout (M,)."""
    x, w, mask = cache
    return dout @ (w * mask).T, (x.T @ dout) * mask, dout.sum(axis=0)


# --------------------------------------------------------------------------- early stopping


class EarlyStopping:
    """Stop when the validation loss has not improved for ``patience`` epochs; keep the best weights.

    ``step(val_loss, params)`` is called once per epoch (epochs count from 0). An epoch improves
    when val_loss < best_loss − min_delta; then best_loss, best_epoch and a *deep copy* of params
    are stored (an optimizer that updates the arrays in place must not change the saved ones) and
    the count of epochs without improvement restarts at 0; otherwise the count goes up by one.
    ``step`` returns True once that count reaches ``patience``: training should stop, and
    ``best_params`` holds the weights to restore (not the last ones).

    Attributes:
        patience, min_delta: the settings.
        best_loss: the lowest validation loss so far (inf before the first step).
        best_epoch: its epoch (−1 before the first step).
        best_params: a copy of the params of best_epoch (None before the first step).
        bad_epochs: epochs since the last improvement.
        epoch: the number of steps taken.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0) -> None:
        if patience < 1:
            raise ValueError(f"patience must be ≥ 1, got {patience}")
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_epoch = -1
        self.best_params: Any = None
        self.bad_epochs = 0
        self.epoch = 0

    def step(self, val_loss: float, params: Any) -> bool:
        """Record one epoch's validation loss and params; True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            self.best_params = copy.deepcopy(params)
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        self.epoch += 1
        return self.bad_epochs >= self.patience


# --------------------------------------------------------------------------- augmentation


def random_flip(x: np.ndarray, p: float = 0.5, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Mirror each image left–right with probability p.

    x: (N, C, H, W). Image n is flipped when ``rng.random(N)[n] < p``. Returns a new array.
    """
    flip = np.random.default_rng(rng).random(x.shape[0]) < p
    out = x.copy()
    out[flip] = x[flip][..., ::-1]
    return out


def random_shift(x: np.ndarray, max_shift: int = 2, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Translate each image by whole pixels, filling the uncovered border with zeros.

    x: (N, C, H, W). Shifts (dy, dx) are drawn per image as
    ``rng.integers(-max_shift, max_shift + 1, size=(N, 2))``; a positive dy moves the content down,
    a positive dx right. Returns a new array of the same shape.
    """
    n, _, h, w = x.shape
    shifts = np.random.default_rng(rng).integers(-max_shift, max_shift + 1, size=(n, 2))
    out = np.zeros_like(x)
    for i, (dy, dx) in enumerate(shifts):
        dy, dx = int(dy), int(dx)
        src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
        src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
        out[i, :, dst_y, dst_x] = x[i, :, src_y, src_x]
    return out


def add_noise(x: np.ndarray, sigma: float = 0.1, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """x + ε with ε ~ N(0, σ²) i.i.d. per entry, drawn as ``rng.normal(0, sigma, size=x.shape)``."""
    return x + np.random.default_rng(rng).normal(0.0, sigma, size=x.shape)


# --------------------------------------------------------------------------- search


def grid_search_points(ranges: Sequence[tuple[float, float]], n_per_axis: int, log: Sequence[bool] | None = None) -> np.ndarray:
    """All combinations of ``n_per_axis`` evenly spaced values per hyper-parameter.

    Args:
        ranges: K (low, high) pairs. n_per_axis: values per axis (≥ 1; 1 gives the midpoint).
        log: per axis, space the values evenly in log10 (for learning rates, λ) instead.

    Returns:
        (n_per_axis**K, K) points; the last axis varies fastest.
    """
    log = log or [False] * len(ranges)
    axes = []
    for (lo, hi), is_log in zip(ranges, log):
        a, b = (math.log10(lo), math.log10(hi)) if is_log else (lo, hi)
        v = np.linspace(a, b, n_per_axis) if n_per_axis > 1 else np.array([(a + b) / 2])
        axes.append(10**v if is_log else v)
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def random_search_points(
    ranges: Sequence[tuple[float, float]], n: int, rng: np.random.Generator | int | None = None,
    log: Sequence[bool] | None = None,
) -> np.ndarray:
    """n points drawn uniformly (log-uniformly where ``log``) in the box ``ranges``: (n, K).

    Drawn as ``rng.uniform(lo, hi, size=(n, K))`` on the (log10-)transformed bounds.
    """
    log = log or [False] * len(ranges)
    lo = np.array([math.log10(a) if g else a for (a, _), g in zip(ranges, log)])
    hi = np.array([math.log10(b) if g else b for (_, b), g in zip(ranges, log)])
    u = np.random.default_rng(rng).uniform(lo, hi, size=(n, len(ranges)))
    return np.where(np.asarray(log, dtype=bool), 10**u, u)
