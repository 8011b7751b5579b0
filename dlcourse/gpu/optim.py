"""Optimizers on tensors: the twin of :mod:`dlcourse.ref.optim`, and ``torch.optim.Optimizer`` subclasses.

Two faces of the same rules:

- functions with the contract ``update(w, dw, state, cfg) -> (w, state)`` on tensors of any
  device (same names, signatures and conventions as :mod:`dlcourse.ref.optim`); they return new
  tensors and never modify ``w`` in place;
- optimizers :class:`SGD`, :class:`Momentum`, :class:`Nesterov`, :class:`Adagrad`,
  :class:`RMSprop`, :class:`Adadelta` and :class:`Adam`, subclasses of ``torch.optim.Optimizer``
  whose ``step()`` applies those functions to every parameter that has a gradient. They give the
  iterates of the built-ins (``torch.optim.SGD``, ``Adagrad``, ``RMSprop``, ``Adadelta``, ``Adam``
  with their default options) and run wherever the parameters live, CUDA included::

      opt = Adam(model.parameters(), lr=1e-3)
      loss.backward(); opt.step(); opt.zero_grad()

The schedules :func:`step_decay`, :func:`exponential_decay` and :func:`cosine_annealing` are
:mod:`dlcourse.ref.optim`'s own float functions, re-exported; to drive an optimizer with one, set
``group["lr"]`` each epoch (see :func:`set_lr`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

# The schedules are plain float functions of the epoch, the same on every device.
from dlcourse.ref.optim import cosine_annealing, exponential_decay, step_decay

__all__ = [
    "sgd",
    "sgd_momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "step_decay",
    "exponential_decay",
    "cosine_annealing",
    "train_minibatch",
    "gradient_descent",
    "SGD",
    "Momentum",
    "Nesterov",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "set_lr",
]


def _get(cfg: dict[str, Any] | None, key: str, default: float) -> float:
    return float((cfg or {}).get(key, default))


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


def sgd_momentum(
    w: torch.Tensor, dw: torch.Tensor, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """SGD with momentum: v ← μ·v + dw;  w ← w − lr·v.  cfg {"lr": 1e-2, "momentum": 0.9}."""
    lr, mu = _get(cfg, "lr", 1e-2), _get(cfg, "momentum", 0.9)
    v = (state or {}).get("velocity")
    v = dw.clone() if v is None else mu * v + dw
    return w - lr * v, {"velocity": v}


def nesterov(
    w: torch.Tensor, dw: torch.Tensor, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Nesterov momentum (w is the look-ahead point): v ← μ·v + dw;  w ← w − lr·(dw + μ·v)."""
    lr, mu = _get(cfg, "lr", 1e-2), _get(cfg, "momentum", 0.9)
    v = (state or {}).get("velocity")
    v = dw.clone() if v is None else mu * v + dw
    return w - lr * (dw + mu * v), {"velocity": v}


def adagrad(
    w: torch.Tensor, dw: torch.Tensor, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Adagrad: r ← r + dw²;  w ← w − lr·dw / (√r + ε).  cfg {"lr": 1e-2, "eps": 1e-10}."""
    lr, eps = _get(cfg, "lr", 1e-2), _get(cfg, "eps", 1e-10)
    r = (state or {}).get("sum_sq")
    r = dw * dw if r is None else r + dw * dw
    return w - lr * dw / (torch.sqrt(r) + eps), {"sum_sq": r}


def rmsprop(
    w: torch.Tensor, dw: torch.Tensor, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """RMSprop: r ← α·r + (1 − α)·dw²;  w ← w − lr·dw / (√r + ε).  cfg {"lr", "alpha": 0.99, "eps": 1e-8}."""
    lr, alpha, eps = _get(cfg, "lr", 1e-2), _get(cfg, "alpha", 0.99), _get(cfg, "eps", 1e-8)
    r = (state or {}).get("sq_avg")
    r = (1 - alpha) * dw * dw if r is None else alpha * r + (1 - alpha) * dw * dw
    return w - lr * dw / (torch.sqrt(r) + eps), {"sq_avg": r}


def adadelta(
    w: torch.Tensor, dw: torch.Tensor, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Adadelta (ε inside the roots): r ← ρr + (1−ρ)dw²; Δ ← √(u+ε)/√(r+ε)·dw; u ← ρu + (1−ρ)Δ²; w ← w − lr·Δ."""
    lr, rho, eps = _get(cfg, "lr", 1.0), _get(cfg, "rho", 0.9), _get(cfg, "eps", 1e-6)
    state = state or {}
    r = state.get("sq_avg", torch.zeros_like(w))
    u = state.get("delta_avg", torch.zeros_like(w))
    r = rho * r + (1 - rho) * dw * dw
    delta = torch.sqrt(u + eps) / torch.sqrt(r + eps) * dw
    u = rho * u + (1 - rho) * delta * delta
    return w - lr * delta, {"sq_avg": r, "delta_avg": u}


def adam(
    w: torch.Tensor, dw: torch.Tensor, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Adam with bias correction 1 − βᵗ: w ← w − lr·m̂ / (√v̂ + ε).  cfg {"lr": 1e-3, "beta1", "beta2", "eps"}."""
    lr, eps = _get(cfg, "lr", 1e-3), _get(cfg, "eps", 1e-8)
    b1, b2 = _get(cfg, "beta1", 0.9), _get(cfg, "beta2", 0.999)
    state = state or {}
    t = int(state.get("t", 0)) + 1
    m = b1 * state.get("m", torch.zeros_like(w)) + (1 - b1) * dw
    v = b2 * state.get("v", torch.zeros_like(w)) + (1 - b2) * dw * dw
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    return w - lr * m_hat / (torch.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}


def train_minibatch(
    loss_fn: Callable[..., tuple[Any, dict[str, torch.Tensor]]],
    params: dict[str, torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    batch_size: int,
    epochs: int,
    rng: np.random.Generator,
) -> tuple[dict[str, torch.Tensor], list[float]]:
    """Mini-batch SGD on tensors, with the shuffling protocol of :func:`dlcourse.ref.train_minibatch`.

    The permutation is drawn with the NumPy ``rng`` (so both twins visit the same batches) and
    moved to X's device. Returns (final params, loss of every batch before its step).
    """
    n = X.shape[0]
    params = {k: v.detach().clone() for k, v in params.items()}
    losses: list[float] = []
    for _ in range(int(epochs)):
        perm = torch.as_tensor(rng.permutation(n), device=X.device)
        for start in range(0, n, int(batch_size)):
            idx = perm[start : start + int(batch_size)]
            loss, grads = loss_fn(params, X[idx], y[idx])
            losses.append(float(loss))
            params = {k: sgd(p, grads[k], None, {"lr": lr})[0] for k, p in params.items()}
    return params, losses


def gradient_descent(
    loss_fn: Callable[[dict[str, torch.Tensor]], tuple[Any, dict[str, torch.Tensor]]],
    params: dict[str, torch.Tensor],
    *,
    lr: float,
    steps: int,
) -> tuple[dict[str, torch.Tensor], list[float]]:
    """Full-batch gradient descent on tensors, as :func:`dlcourse.ref.gradient_descent`.

    ``steps`` times p ← p − lr·grads[p]; params are not modified. Returns (final params, the
    loss before each step).
    """
    params = {k: v.detach().clone() for k, v in params.items()}
    losses: list[float] = []
    for _ in range(int(steps)):
        loss, grads = loss_fn(params)
        losses.append(float(loss))
        params = {k: sgd(p, grads[k], None, {"lr": lr})[0] for k, p in params.items()}
    return params, losses


# --------------------------------------------------------------------------- torch.optim.Optimizer subclasses


class _RuleOptimizer(torch.optim.Optimizer):
    """An Optimizer that applies one ``update(w, dw, state, cfg)`` rule to each parameter.

    The group's hyper-parameters are the rule's cfg, read at every step, so changing
    ``group["lr"]`` (by hand or with a ``torch.optim.lr_scheduler``) takes effect at once.
    """

    rule: Callable[..., tuple[torch.Tensor, dict[str, Any]]]

    def __init__(self, params: Iterable[Any], **defaults: float) -> None:
        if defaults.get("lr", 1.0) < 0:
            raise ValueError(f"invalid learning rate {defaults['lr']}")
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            cfg = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                if p.grad is None:
                    continue
                new, state = type(self).rule(p, p.grad, dict(self.state[p]), cfg)
                self.state[p].update(state)
                p.copy_(new)
        return loss


class SGD(_RuleOptimizer):
    """Plain SGD (equal to ``torch.optim.SGD(params, lr)``)."""

    rule = staticmethod(sgd)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2) -> None:
        super().__init__(params, lr=lr)


class Momentum(_RuleOptimizer):
    """SGD with momentum (equal to ``torch.optim.SGD(params, lr, momentum)``)."""

    rule = staticmethod(sgd_momentum)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, momentum: float = 0.9) -> None:
        super().__init__(params, lr=lr, momentum=momentum)


class Nesterov(_RuleOptimizer):
    """Nesterov momentum (equal to ``torch.optim.SGD(params, lr, momentum, nesterov=True)``)."""

    rule = staticmethod(nesterov)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, momentum: float = 0.9) -> None:
        super().__init__(params, lr=lr, momentum=momentum)


class Adagrad(_RuleOptimizer):
    """Adagrad (equal to ``torch.optim.Adagrad(params, lr, eps=eps)``)."""

    rule = staticmethod(adagrad)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, eps: float = 1e-10) -> None:
        super().__init__(params, lr=lr, eps=eps)


class RMSprop(_RuleOptimizer):
    """RMSprop (equal to ``torch.optim.RMSprop(params, lr, alpha, eps)``)."""

    rule = staticmethod(rmsprop)

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps)


class Adadelta(_RuleOptimizer):
    """Adadelta (equal to ``torch.optim.Adadelta(params, lr, rho, eps)``)."""

    rule = staticmethod(adadelta)

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6) -> None:
        super().__init__(params, lr=lr, rho=rho, eps=eps)


class Adam(_RuleOptimizer):
    """Adam (equal to ``torch.optim.Adam(params, lr, betas=(beta1, beta2), eps=eps)``)."""

    rule = staticmethod(adam)

    def __init__(
        self, params: Iterable[Any], lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(params, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group (e.g. to a schedule's value for this epoch)."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)
