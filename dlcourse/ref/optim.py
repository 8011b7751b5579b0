"""Optimizers with one contract: ``update(w, dw, state, cfg) -> (w, state)``, and learning-rate schedules.

``state`` is the optimizer's memory for one parameter (``{}`` or ``None`` on the first call,
empty for plain SGD); ``cfg`` holds hyper-parameters, any missing key taking the default of the
matching ``torch.optim`` class. Updates return a new array and a new state dict and never modify
``w``, ``dw`` or ``state`` in place, so a caller's copy of the old values stays valid.

Every rule reproduces ``torch.optim`` step for step (``tests/test_optim.py`` runs 100 steps of
each against PyTorch in float64). Where textbooks and PyTorch write a rule differently, the
docstring says which convention is used:

- **Momentum** keeps the velocity *without* the learning rate, v ← μv + g, w ← w − lr·v (PyTorch).
  The CS231n/lecture form v ← μv − lr·g, w ← w + v gives the same iterates while lr is constant,
  and different ones once a schedule changes lr.
- **Nesterov**: the gradient is evaluated at the iterate w itself, which PyTorch's (Bengio et
  al.'s) reformulation tracks *as the look-ahead point* w̃ = w_Sutskever + μ·v.
- **ε**: Adagrad, RMSprop and Adam add ε *outside* the square root, √r + ε (PyTorch); Adadelta
  adds it *inside*, √(r + ε), as its paper and PyTorch do.
- **Adam's bias correction** divides by 1 − βᵗ with t = 1, 2, … the step count (not by β).

Schedules are plain functions of the epoch counter ``t`` (the number of ``scheduler.step()``
calls in PyTorch) returning the learning rate to use in epoch ``t``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

State = dict[str, Any]
Cfg = dict[str, Any]

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
]


def _get(cfg: Cfg | None, key: str, default: float) -> float:
    return float((cfg or {}).get(key, default))


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


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """SGD with (heavy-ball) momentum, PyTorch's form: v ← μ·v + dw;  w ← w − lr·v.

    v starts at 0, so the first step is plain SGD. Equal to ``torch.optim.SGD(momentum=μ)``
    (dampening 0). The lecture's form v ← μv − lr·dw, w ← w + v has velocity lr times larger
    and the opposite sign; it is the same rule only while lr stays constant.

    Args:
        w, dw: (any shape) parameter and gradient.
        state: {"velocity": v (shape of w)}; ``{}``/None on the first call.
        cfg: {"lr": 1e-2, "momentum": μ = 0.9}.

    Returns:
        (new w, {"velocity": new v}).
    """
    lr, mu = _get(cfg, "lr", 1e-2), _get(cfg, "momentum", 0.9)
    v = (state or {}).get("velocity")
    v = dw.copy() if v is None else mu * v + dw
    return w - lr * v, {"velocity": v}


def nesterov(
    w: np.ndarray, dw: np.ndarray, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Nesterov momentum, PyTorch's form: v ← μ·v + dw;  w ← w − lr·(dw + μ·v).

    Sutskever's form evaluates the gradient at the look-ahead point θ + μ·v_S and steps
    v_S ← μ·v_S − lr·∇f(θ + μ·v_S), θ ← θ + v_S. Writing w = θ + μ·v_S (the look-ahead point
    itself) turns this into the rule above, in which the gradient dw is taken at the iterate
    w the optimizer holds: w *is* the look-ahead point. Equal to
    ``torch.optim.SGD(momentum=μ, nesterov=True)``.

    Args:
        w, dw: (any shape) parameter and the gradient at w.
        state: {"velocity": v (shape of w)}; ``{}``/None on the first call.
        cfg: {"lr": 1e-2, "momentum": μ = 0.9}.
    """
    lr, mu = _get(cfg, "lr", 1e-2), _get(cfg, "momentum", 0.9)
    v = (state or {}).get("velocity")
    v = dw.copy() if v is None else mu * v + dw
    return w - lr * (dw + mu * v), {"velocity": v}


def adagrad(
    w: np.ndarray, dw: np.ndarray, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Adagrad: r ← r + dw²;  w ← w − lr · dw / (√r + ε).

    r accumulates squared gradients forever, so every coordinate's step only shrinks.
    ε is outside the root, as in ``torch.optim.Adagrad`` (lr_decay 0, initial accumulator 0).

    Args:
        w, dw: (any shape) parameter and gradient.
        state: {"sum_sq": r (shape of w)}; ``{}``/None on the first call.
        cfg: {"lr": 1e-2, "eps": 1e-10}.
    """
    lr, eps = _get(cfg, "lr", 1e-2), _get(cfg, "eps", 1e-10)
    r = (state or {}).get("sum_sq")
    r = dw * dw if r is None else r + dw * dw
    return w - lr * dw / (np.sqrt(r) + eps), {"sum_sq": r}


def rmsprop(
    w: np.ndarray, dw: np.ndarray, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """RMSprop: r ← α·r + (1 − α)·dw²;  w ← w − lr · dw / (√r + ε).

    A leaky average of squared gradients instead of Adagrad's sum. ε is outside the root, as
    in ``torch.optim.RMSprop`` (the lecture writes √(r + γ): a different, also common, rule).

    Args:
        w, dw: (any shape) parameter and gradient.
        state: {"sq_avg": r (shape of w)}, starting at 0; ``{}``/None on the first call.
        cfg: {"lr": 1e-2, "alpha": α = 0.99, "eps": 1e-8}.
    """
    lr, alpha, eps = _get(cfg, "lr", 1e-2), _get(cfg, "alpha", 0.99), _get(cfg, "eps", 1e-8)
    r = (state or {}).get("sq_avg")
    r = (1 - alpha) * dw * dw if r is None else alpha * r + (1 - alpha) * dw * dw
    return w - lr * dw / (np.sqrt(r) + eps), {"sq_avg": r}


def adadelta(
    w: np.ndarray, dw: np.ndarray, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Adadelta: a step with the units of w, from two leaky averages.

        r ← ρ·r + (1 − ρ)·dw²
        Δ ← √(u + ε) / √(r + ε) · dw
        u ← ρ·u + (1 − ρ)·Δ²
        w ← w − lr·Δ

    ε is *inside* both roots (Zeiler's paper and ``torch.optim.Adadelta``); it also sets the
    size of the very first steps, since u starts at 0. lr = 1 is the paper's rule.

    Args:
        w, dw: (any shape) parameter and gradient.
        state: {"sq_avg": r, "delta_avg": u} (shape of w, starting at 0); ``{}``/None at first.
        cfg: {"lr": 1.0, "rho": ρ = 0.9, "eps": 1e-6}.
    """
    lr, rho, eps = _get(cfg, "lr", 1.0), _get(cfg, "rho", 0.9), _get(cfg, "eps", 1e-6)
    state = state or {}
    r = state.get("sq_avg", np.zeros_like(w))
    u = state.get("delta_avg", np.zeros_like(w))
    r = rho * r + (1 - rho) * dw * dw
    delta = np.sqrt(u + eps) / np.sqrt(r + eps) * dw
    u = rho * u + (1 - rho) * delta * delta
    return w - lr * delta, {"sq_avg": r, "delta_avg": u}


def adam(
    w: np.ndarray, dw: np.ndarray, state: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Adam: momentum on the gradient and RMSprop's scaling, both bias-corrected.

        t ← t + 1
        m ← β₁·m + (1 − β₁)·dw,      m̂ = m / (1 − β₁ᵗ)
        v ← β₂·v + (1 − β₂)·dw²,     v̂ = v / (1 − β₂ᵗ)
        w ← w − lr · m̂ / (√v̂ + ε)

    m and v start at 0, so early on they are biased towards 0 by the factors 1 − βᵗ; dividing
    by them removes the bias. (The lecture divides by β₁ and β₂ instead, which is wrong.)
    ε is outside the root, added to √v̂, as in ``torch.optim.Adam``.

    Args:
        w, dw: (any shape) parameter and gradient.
        state: {"m": m, "v": v (shape of w), "t": steps taken so far (int)}; ``{}``/None at first.
        cfg: {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}.
    """
    lr, eps = _get(cfg, "lr", 1e-3), _get(cfg, "eps", 1e-8)
    b1, b2 = _get(cfg, "beta1", 0.9), _get(cfg, "beta2", 0.999)
    state = state or {}
    t = int(state.get("t", 0)) + 1
    m = b1 * state.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * state.get("v", np.zeros_like(w)) + (1 - b2) * dw * dw
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}


# --------------------------------------------------------------------------- schedules


def step_decay(lr0: float, t: int, step_size: int, gamma: float = 0.1) -> float:
    """Step schedule: lr₀ · γ^⌊t / step_size⌋ (``torch.optim.lr_scheduler.StepLR``).

    Epochs 0 … step_size − 1 use lr₀; the first drop happens at epoch ``step_size``.
    """
    return float(lr0 * gamma ** (int(t) // int(step_size)))


def exponential_decay(lr0: float, t: int, gamma: float) -> float:
    """Exponential schedule: lr₀ · γᵗ (``torch.optim.lr_scheduler.ExponentialLR``)."""
    return float(lr0 * gamma ** int(t))


def cosine_annealing(lr0: float, t: int, t_max: int, lr_min: float = 0.0) -> float:
    """Cosine schedule: lr_min + ½(lr₀ − lr_min)(1 + cos(π·t / t_max)) (``CosineAnnealingLR``).

    Starts at lr₀, reaches lr_min at t = t_max; beyond t_max it rises again (the formula is
    periodic with period 2·t_max, as PyTorch's scheduler is).
    """
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * int(t) / int(t_max))))


# --------------------------------------------------------------------------- mini-batch training

LossFn = Callable[[dict[str, np.ndarray], np.ndarray, np.ndarray], tuple[float, dict[str, np.ndarray]]]


def train_minibatch(
    loss_fn: LossFn,
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr: float,
    batch_size: int,
    epochs: int,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Mini-batch SGD: every epoch, shuffle, cut into batches, one SGD step per batch.

    Each epoch draws ``perm = rng.permutation(N)`` and visits ``perm[0:B], perm[B:2B], …``; the
    last batch is smaller when B does not divide N (it is kept, not dropped). For each batch,
    ``loss, grads = loss_fn(params, X[idx], y[idx])`` and every parameter takes the step
    p ← p − lr·grads[p].

    Args:
        loss_fn: (params, X_batch (B, D), y_batch (B,)) -> (loss, grads with the keys of params).
        params: initial parameters; not modified (new arrays are returned).
        X: (N, D) inputs; y: (N,) labels.
        lr, batch_size, epochs: the step size, B and the number of passes over the data.
        rng: the generator that shuffles (one permutation per epoch).

    Returns:
        (final params, the loss of every batch in order, before its step: epochs·⌈N/B⌉ floats).
    """
    n = X.shape[0]
    params = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    losses: list[float] = []
    for _ in range(int(epochs)):
        perm = rng.permutation(n)
        for start in range(0, n, int(batch_size)):
            idx = perm[start : start + int(batch_size)]
            loss, grads = loss_fn(params, X[idx], y[idx])
            losses.append(float(loss))
            params = {k: sgd(p, grads[k], None, {"lr": lr})[0] for k, p in params.items()}
    return params, losses


def gradient_descent(
    loss_fn: Callable[[dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]],
    params: dict[str, np.ndarray],
    *,
    lr: float,
    steps: int,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Full-batch gradient descent: ``steps`` times, p ← p − lr·grads[p] for every parameter.

    Args:
        loss_fn: params -> (loss, grads with the keys of params), e.g.
            ``lambda p: two_layer_net(p, X, y, reg)`` (the whole data set every step).
        params: initial parameters; not modified (new arrays are returned).
        lr: the learning rate α; steps: the number of updates.

    Returns:
        (final params, the loss before each step: ``steps`` floats).
    """
    params = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    losses: list[float] = []
    for _ in range(int(steps)):
        loss, grads = loss_fn(params)
        losses.append(float(loss))
        params = {k: sgd(p, grads[k], None, {"lr": lr})[0] for k, p in params.items()}
    return params, losses
