"""Regularization on tensors: the twin of :mod:`dlcourse.ref.regularization`.

Penalties, dropout and DropConnect operate on tensors of any device. Dropout's mask is drawn
the way ``torch.nn.functional.dropout`` draws it on the CPU (``bernoulli_(1 − p)``, then ÷ (1 − p)),
so with ``rng=None`` and the same ``torch.manual_seed`` it drops the same units as ``nn.Dropout``.
Index bookkeeping (splits, search samplers) and :class:`EarlyStopping` are device-independent and
shared with the reference (EarlyStopping deep-copies tensors as well as arrays).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from dlcourse.gpu.device import torch_generator
from dlcourse.ref.regularization import (
    EarlyStopping,
    grid_search_points,
    random_search_points,
    stratified_split,
)

__all__ = [
    "stratified_split", "l2_penalty", "l1_penalty", "dropout_forward", "dropout_backward",
    "dropconnect_forward", "dropconnect_backward", "EarlyStopping", "random_flip", "random_shift", "add_noise",
    "grid_search_points", "random_search_points",
]

Params = Mapping[str, torch.Tensor]


def _generator(rng: torch.Generator | np.random.Generator | int | None) -> torch.Generator | None:
    """None stays None (torch's default generator, as nn.Dropout uses); seeds become generators."""
    return None if rng is None else torch_generator(rng)


def _bernoulli(shape_like: torch.Tensor, keep: float, g: torch.Generator | None) -> torch.Tensor:
    if g is None or g.device == shape_like.device:
        return torch.empty_like(shape_like).bernoulli_(keep, generator=g)
    return torch.empty(shape_like.shape, dtype=shape_like.dtype, device=g.device).bernoulli_(keep, generator=g).to(
        shape_like.device)


def l2_penalty(params: Params, lam: float) -> tuple[float, dict[str, torch.Tensor]]:
    """½ λ Σ_W ‖W‖² over the entries named "W…", and its gradients (λW; zeros for the rest)."""
    loss = 0.5 * lam * sum(float((v * v).sum()) for k, v in params.items() if k.startswith("W"))
    return float(loss), {k: lam * v if k.startswith("W") else torch.zeros_like(v) for k, v in params.items()}


def l1_penalty(params: Params, lam: float) -> tuple[float, dict[str, torch.Tensor]]:
    """λ Σ_W Σ|w| over the entries named "W…", and its gradients (λ sign(w); zeros for the rest)."""
    loss = lam * sum(float(v.abs().sum()) for k, v in params.items() if k.startswith("W"))
    return float(loss), {k: lam * torch.sign(v) if k.startswith("W") else torch.zeros_like(v) for k, v in params.items()}


def dropout_forward(x: torch.Tensor, p: float = 0.5, train: bool = True,
                    rng: torch.Generator | np.random.Generator | int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverted dropout of x (any shape); returns (out, scaled mask). Eval mode: x unchanged."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p is a probability, got {p}")
    if not train or p == 0.0:
        mask = torch.ones_like(x)
    elif p == 1.0:
        mask = torch.zeros_like(x)
    else:
        mask = _bernoulli(x, 1.0 - p, _generator(rng)) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
    """dx = dout ⊙ scaled mask."""
    return dout * cache


def dropconnect_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, p: float = 0.5, train: bool = True,
                        rng: torch.Generator | np.random.Generator | int | None = None):
    """out = x (w ⊙ M) + b with M ~ Bernoulli(1 − p)/(1 − p) per weight in training; x (N, D), w (D, M)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"DropConnect needs 0 ≤ p < 1, got {p}")
    mask = _bernoulli(w, 1.0 - p, _generator(rng)) / (1.0 - p) if train and p > 0 else torch.ones_like(w)
    return x @ (w * mask) + b, (x, w, mask)


def dropconnect_backward(dout: torch.Tensor, cache):
    """dx (N, D), dw (D, M), db (M,) of :func:`dropconnect_forward`."""
    x, w, mask = cache
    return dout @ (w * mask).T, (x.T @ dout) * mask, dout.sum(dim=0)


def random_flip(x: torch.Tensor, p: float = 0.5, rng: torch.Generator | np.random.Generator | int | None = None) -> torch.Tensor:
    """Mirror each image of x (N, C, H, W) left–right with probability p."""
    g = _generator(rng)
    flip = torch.rand(x.shape[0], generator=g, device="cpu" if g is None else g.device).to(x.device) < p
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_shift(x: torch.Tensor, max_shift: int = 2,
                 rng: torch.Generator | np.random.Generator | int | None = None) -> torch.Tensor:
    """Translate each image of x (N, C, H, W) by whole pixels in [−max_shift, max_shift], zero fill."""
    g = _generator(rng)
    n, _, h, w = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=g)
    out = torch.zeros_like(x)
    for i, (dy, dx) in enumerate(shifts.tolist()):
        out[i, :, max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)] = \
            x[i, :, max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    return out


def add_noise(x: torch.Tensor, sigma: float = 0.1,
              rng: torch.Generator | np.random.Generator | int | None = None) -> torch.Tensor:
    """x + N(0, σ²) noise per entry."""
    g = _generator(rng)
    noise = torch.randn(x.shape, generator=g, dtype=x.dtype, device="cpu" if g is None else g.device)
    return x + sigma * noise.to(x.device)
