"""Optimizers with one contract: ``update(w, dw, state, cfg) -> (w, state)``.

``state`` is the optimizer's memory for one parameter (empty for plain SGD); ``cfg`` holds
hyper-parameters. Updates return new arrays and never modify ``w`` in place, so a caller's
copy of the old parameters stays valid.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sgd(
    w: np.ndarray, dw: np.ndarray, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Vanilla stochastic gradient descent: w ← w − lr · dw.

    Args:
        w, dw: parameter and its gradient, same shape.
        state: unused by SGD (kept for the common contract).
        cfg: {"lr": learning rate, default 1e-2}.
    """
    lr = (cfg or {}).get("lr", 1e-2)
    return w - lr * dw, state if state is not None else {}
