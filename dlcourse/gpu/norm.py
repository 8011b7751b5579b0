"""Batch normalization and standardization on tensors: the twin of :mod:`dlcourse.ref.norm`.

The functions mirror the reference (same state/cfg contract, PyTorch's momentum convention,
unbiased running variance). :class:`BatchNormFunction` is a ``torch.autograd.Function`` whose
backward is the written-out closed form, and :class:`BatchNorm` is an ``nn.Module`` built on it
that behaves like ``nn.BatchNorm1d`` on (N, D) inputs and ``nn.BatchNorm2d`` on (N, C, H, W)
inputs (through the same reshape as :func:`spatial_batchnorm_forward`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

BNCache = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float]

__all__ = [
    "init_bn_state", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward", "standardize", "BatchNormFunction", "BatchNorm",
]


def init_bn_state(num_features: int, device: torch.device | str | None = None,
                  dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """Running mean zeros (D,) and running variance ones (D,), as PyTorch starts them."""
    return {"running_mean": torch.zeros(num_features, device=device, dtype=dtype),
            "running_var": torch.ones(num_features, device=device, dtype=dtype)}


def batchnorm_forward(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    state: dict[str, torch.Tensor] | None = None,
    cfg: dict[str, Any] | None = None,
) -> tuple[torch.Tensor, BNCache, dict[str, torch.Tensor]]:
    """y = γ (x − μ)/√(σ² + ε) + β; x (N, D), γ, β (D,). Returns (out, cache, new state)."""
    cfg = cfg or {}
    mode = cfg.get("mode", "train")
    momentum = float(cfg.get("momentum", 0.1))
    eps = float(cfg.get("eps", 1e-5))
    state = init_bn_state(x.shape[1], x.device, x.dtype) if state is None else state
    if mode == "train":
        n = x.shape[0]
        if n < 2:
            raise ValueError("train-mode batch norm needs N ≥ 2 examples (the unbiased variance divides by N − 1)")
        mu = x.mean(dim=0)
        var = x.var(dim=0, unbiased=False)
        new_state = {
            "running_mean": (1 - momentum) * state["running_mean"] + momentum * mu,
            "running_var": (1 - momentum) * state["running_var"] + momentum * var * n / (n - 1),
        }
    elif mode == "eval":
        mu, var = state["running_mean"], state["running_var"]
        new_state = {k: v.clone() for k, v in state.items()}
    else:
        raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
    x_hat = (x - mu) / torch.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, mu, var, gamma, eps), new_state


def batchnorm_backward(dout: torch.Tensor, cache: BNCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train-mode gradients node by node (see the reference): dx (N, D), dgamma (D,), dbeta (D,)."""
    x, x_hat, mu, var, gamma, eps = cache
    n = x.shape[0]
    c = x - mu
    s = torch.sqrt(var + eps)
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    dx_hat = dout * gamma
    dc = dx_hat / s
    ds = -(dx_hat * c).sum(dim=0) / s**2
    dv = ds / (2 * s)
    dc = dc + 2 * c * dv / n
    dmu = -dc.sum(dim=0)
    return dc + dmu / n, dgamma, dbeta


def batchnorm_backward_alt(dout: torch.Tensor, cache: BNCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dx = γ/(N√(σ²+ε)) · (N·dout − Σdout − x̂ Σ(dout ⊙ x̂)); shapes as :func:`batchnorm_backward`."""
    x, x_hat, mu, var, gamma, eps = cache
    n = x.shape[0]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    dx = gamma / (n * torch.sqrt(var + eps)) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    state: dict[str, torch.Tensor] | None = None,
    cfg: dict[str, Any] | None = None,
) -> tuple[torch.Tensor, BNCache, dict[str, torch.Tensor]]:
    """Per-channel batch norm of x (N, C, H, W); γ, β (C,)."""
    n, c, h, w = x.shape
    out, cache, state = batchnorm_forward(x.permute(0, 2, 3, 1).reshape(-1, c), gamma, beta, state, cfg)
    return out.reshape(n, h, w, c).permute(0, 3, 1, 2), cache, state


def spatial_batchnorm_backward(dout: torch.Tensor, cache: BNCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of :func:`spatial_batchnorm_forward`: dx (N, C, H, W), dgamma (C,), dbeta (C,)."""
    n, c, h, w = dout.shape
    dx, dgamma, dbeta = batchnorm_backward_alt(dout.permute(0, 2, 3, 1).reshape(-1, c), cache)
    return dx.reshape(n, h, w, c).permute(0, 3, 1, 2), dgamma, dbeta


def standardize(X_train: torch.Tensor, X_test: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(X − mean)/std with the training split's mean and population std (1 for constant features)."""
    mean = X_train.mean(dim=0)
    std = X_train.std(dim=0, unbiased=False)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (X_train - mean) / std, (X_test - mean) / std, mean, std


class BatchNormFunction(torch.autograd.Function):
    """``BatchNormFunction.apply(x, gamma, beta, eps)``: train-mode batch norm of x (N, D) with the
    written-out :func:`batchnorm_backward_alt` as its backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:  # type: ignore[override]
        out, cache, _ = batchnorm_forward(x, gamma, beta, None, {"mode": "train", "eps": eps, "momentum": 0.0})
        ctx.save_for_backward(*cache[:5])
        ctx.eps = eps
        return out

    @staticmethod
    def backward(ctx, dout: torch.Tensor):  # type: ignore[override]
        x, x_hat, mu, var, gamma = ctx.saved_tensors
        dx, dgamma, dbeta = batchnorm_backward_alt(dout, (x, x_hat, mu, var, gamma, ctx.eps))
        return dx, dgamma, dbeta, None


class BatchNorm(nn.Module):
    """Batch norm like ``nn.BatchNorm1d`` (x of shape (N, D)) or ``nn.BatchNorm2d`` ((N, C, H, W)).

    Train mode: batch statistics through :class:`BatchNormFunction`, running averages updated
    with ``momentum`` (weight of the new value) and the unbiased batch variance. Eval mode:
    the running averages. ``weight``/``bias``/``running_mean``/``running_var`` have PyTorch's names,
    so ``load_state_dict`` works in both directions (``num_batches_tracked`` excepted).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 device: torch.device | str | None = None, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features, device=device, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(num_features, device=device, dtype=dtype))
        self.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
        self.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = x.dim() == 4
        c = x.shape[1]
        flat = x.permute(0, 2, 3, 1).reshape(-1, c) if spatial else x
        if self.training:
            out = BatchNormFunction.apply(flat, self.weight, self.bias, self.eps)
            with torch.no_grad():
                n = flat.shape[0]
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * flat.mean(dim=0))
                self.running_var.mul_(1 - self.momentum).add_(
                    self.momentum * flat.var(dim=0, unbiased=False) * n / (n - 1))
        else:
            out = (flat - self.running_mean) / torch.sqrt(self.running_var + self.eps) * self.weight + self.bias
        if spatial:
            n, _, h, w = x.shape
            out = out.reshape(n, h, w, c).permute(0, 3, 1, 2)
        return out
