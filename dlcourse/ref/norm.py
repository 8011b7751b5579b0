"""Batch normalization (forward in train/eval mode, two backward passes) and data standardization.

Conventions, the same as ``torch.nn.BatchNorm1d/2d``:

- train mode normalizes with the *batch* mean and the *biased* batch variance (divide by N);
- the running averages are updated as running ← (1 − momentum)·running + momentum·batch
  (PyTorch's ``momentum`` is the weight of the *new* value; Keras' is the weight of the old);
- the running variance is updated with the *unbiased* batch variance (divide by N − 1);
- eval mode normalizes with the running averages only: one example gives the same output
  whatever else is in the batch;
- ε = 1e-5 sits inside the square root: x̂ = (x − μ) / √(σ² + ε).

``state`` = {"running_mean": (D,), "running_var": (D,)} is returned as a *new* dict, never
modified in place (like the optimizers' state). PyTorch starts it at zeros and ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "init_bn_state", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward", "standardize",
]

BNCache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]


def init_bn_state(num_features: int) -> dict[str, np.ndarray]:
    """PyTorch's starting running statistics: mean zeros (D,), variance ones (D,)."""
    return {"running_mean": np.zeros(num_features), "running_var": np.ones(num_features)}


def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    state: dict[str, np.ndarray] | None = None,
    cfg: dict[str, Any] | None = None,
) -> tuple[np.ndarray, BNCache, dict[str, np.ndarray]]:
    """y = γ · (x − μ) / √(σ² + ε) + β, per feature.

    Args:
        x: (N, D) inputs.
        gamma, beta: (D,) scale and shift.
        state: {"running_mean": (D,), "running_var": (D,)}; :func:`init_bn_state` when None.
        cfg: {"mode": "train" (default) or "eval", "momentum": 0.1, "eps": 1e-5}.

    Returns:
        out: (N, D).
        cache: (x, x̂, μ, σ², γ, ε) with the statistics that were used (batch ones in train
            mode, running ones in eval mode).
        state: new running statistics (train mode: updated with momentum, the variance
            unbiased; eval mode: unchanged copies).
    """
    cfg = cfg or {}
    mode = cfg.get("mode", "train")
    momentum = float(cfg.get("momentum", 0.1))
    eps = float(cfg.get("eps", 1e-5))
    state = init_bn_state(x.shape[1]) if state is None else state
    if mode == "train":
        n = x.shape[0]
        if n < 2:
            raise ValueError("train-mode batch norm needs N ≥ 2 examples (the unbiased variance divides by N − 1)")
        mu = x.mean(axis=0)
        var = x.var(axis=0)  # biased: normalizes the batch itself
        new_state = {
            "running_mean": (1 - momentum) * state["running_mean"] + momentum * mu,
            "running_var": (1 - momentum) * state["running_var"] + momentum * var * n / (n - 1),
        }
    elif mode == "eval":
        mu, var = state["running_mean"], state["running_var"]
        new_state = {k: np.array(v, copy=True) for k, v in state.items()}
    else:
        raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
    x_hat = (x - mu) / np.sqrt(var + eps)
    out = gamma * x_hat + beta
    return out, (x, x_hat, mu, var, gamma, eps), new_state


def batchnorm_backward(dout: np.ndarray, cache: BNCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train-mode gradients, node by node through the graph of the forward pass.

    Graph: μ = mean(x); c = x − μ; v = mean(c²); s = √(v + ε); x̂ = c / s; y = γ x̂ + β.

    Args:
        dout: (N, D) upstream gradient. cache: from :func:`batchnorm_forward` in train mode.

    Returns:
        dx (N, D), dgamma (D,), dbeta (D,).
    """
    x, x_hat, mu, var, gamma, eps = cache
    n = x.shape[0]
    c = x - mu
    s = np.sqrt(var + eps)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dc = dx_hat / s                               # x̂ = c · (1/s): the direct path
    ds = -(dx_hat * c).sum(axis=0) / s**2         # ... and through s
    dv = ds / (2 * s)                             # s = √(v + ε)
    dc = dc + 2 * c * dv / n                      # v = mean(c²)
    dmu = -dc.sum(axis=0)                         # c = x − μ
    dx = dc + dmu / n                             # μ = mean(x)
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: np.ndarray, cache: BNCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train-mode gradients from the simplified closed form (same result, fewer operations):

    dx = γ / (N·√(σ² + ε)) · (N·dout − Σ dout − x̂ · Σ (dout ⊙ x̂)), sums over the batch.

    Shapes as :func:`batchnorm_backward`.
    """
    x, x_hat, mu, var, gamma, eps = cache
    n = x.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma / (n * np.sqrt(var + eps)) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    state: dict[str, np.ndarray] | None = None,
    cfg: dict[str, Any] | None = None,
) -> tuple[np.ndarray, BNCache, dict[str, np.ndarray]]:
    """Batch norm of images (``nn.BatchNorm2d``): statistics per channel over N, H and W.

    Args:
        x: (N, C, H, W). gamma, beta: (C,). state, cfg: as :func:`batchnorm_forward`.

    Returns:
        out (N, C, H, W), cache (of the (N·H·W, C) view), state.
    """
    n, c, h, w = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)  # every pixel of every image is one "example"
    out, cache, state = batchnorm_forward(flat, gamma, beta, state, cfg)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache, state


def spatial_batchnorm_backward(dout: np.ndarray, cache: BNCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`spatial_batchnorm_forward`: dx (N, C, H, W), dgamma (C,), dbeta (C,)."""
    n, c, h, w = dout.shape
    dx, dgamma, dbeta = batchnorm_backward_alt(dout.transpose(0, 2, 3, 1).reshape(-1, c), cache)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


def standardize(
    X_train: np.ndarray, X_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Z = (X − mean) / std with the mean and std of the *training* split, applied to both splits.

    The test split must be transformed with the training statistics: computing them on all the
    data (or on the test split) lets test information leak into the model.

    Args:
        X_train: (N_train, D); X_test: (N_test, D).

    Returns:
        Z_train (N_train, D), Z_test (N_test, D), mean (D,), std (D,): the population standard
        deviation (ddof = 0) of X_train, with 1 in place of 0 for a constant feature (which then
        maps to 0 instead of a division by zero).
    """
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std, mean, std
