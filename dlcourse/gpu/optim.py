"""Optimizers on tensors: the twin of :mod:`dlcourse.ref.optim`.

One contract: ``update(w, dw, state, cfg) -> (w, state)``. Updates return new tensors and never
modify ``w`` in place, so a caller's copy of the old parameters stays valid.
"""

from __future__ import annotations

from typing import Any

import torch


def sgd(
    w: torch.Tensor, dw: torch.Tensor, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Vanilla stochastic gradient descent: w ← w − lr · dw.

    Args:
        w, dw: parameter and its gradient, same shape (and device).
        state: unused by SGD (kept for the common contract).
        cfg: {"lr": learning rate, default 1e-2}.
    """
    lr = (cfg or {}).get("lr", 1e-2)
    return w - lr * dw, state if state is not None else {}
