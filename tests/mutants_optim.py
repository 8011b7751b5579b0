"""Correct alternatives and known-wrong implementations (mutants) for the 05-optimization checks.

Each mutant is a mistake students really make, named after it. ``MUTANTS[check]`` lists
``(implementation, pattern, public, hint)`` entries, as ``check_harness`` describes.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import optim as checks

Impl = Callable[..., Any]


# ----------------------------------------------------------------- momentum
def sgd_momentum_inplace_on_a_copy(w, dw, state, cfg):
    v = state.get("velocity")
    v = np.zeros(w.shape) if v is None else v.copy()  # float zeros, whatever w's dtype
    v *= cfg.get("momentum", 0.9)
    v += dw
    return w - cfg.get("lr", 1e-2) * v, {"velocity": v}


def sgd_momentum_wrong_sign(w, dw, state, cfg):
    v = cfg["momentum"] * state.get("v", 0.0) - dw
    return w - cfg["lr"] * v, {"v": v}


def sgd_momentum_lecture_form(w, dw, state, cfg):
    v = cfg["momentum"] * state.get("v", 0.0) - cfg["lr"] * dw
    return w + v, {"v": v}


def sgd_momentum_dampened(w, dw, state, cfg):
    v = cfg["momentum"] * state.get("v", 0.0) + (1 - cfg["momentum"]) * dw
    return w - cfg["lr"] * v, {"v": v}


def sgd_momentum_steps_with_old_velocity(w, dw, state, cfg):
    v = state.get("v", np.zeros_like(w))
    return w - cfg["lr"] * v, {"v": cfg["momentum"] * v + dw}


def sgd_momentum_mutates_state(w, dw, state, cfg):
    if "v" not in state:
        state["v"] = np.zeros_like(w)
    state["v"] *= cfg["momentum"]  # edits the caller's array
    state["v"] += dw
    return w - cfg["lr"] * state["v"], state


def sgd_momentum_returns_w_only(w, dw, state, cfg):
    v = cfg["momentum"] * state.get("v", 0.0) + dw
    return w - cfg["lr"] * v


# ----------------------------------------------------------------- nesterov
def nesterov_expanded(w, dw, state, cfg):
    mu, lr = cfg.get("momentum", 0.9), cfg.get("lr", 1e-2)
    old = state.get("velocity", np.zeros_like(w))
    # dw + μ(μ·old + dw) = (1 + μ)·dw + μ²·old
    return w - lr * ((1 + mu) * dw + mu * mu * old), {"velocity": mu * old + dw}


def nesterov_plain_momentum(w, dw, state, cfg):
    v = cfg["momentum"] * state.get("v", 0.0) + dw
    return w - cfg["lr"] * v, {"v": v}


def nesterov_look_ahead_with_old_velocity(w, dw, state, cfg):
    old = state.get("v", 0.0)
    return w - cfg["lr"] * (dw + cfg["momentum"] * old), {"v": cfg["momentum"] * old + dw}


def nesterov_lecture_order(w, dw, state, cfg):
    v = state.get("v", 0.0)
    w = w + v  # "update weights", then compute the new velocity from this step's gradient
    return w, {"v": cfg["momentum"] * v - cfg["lr"] * dw}


def nesterov_cs231n_form(w, dw, state, cfg):
    old = state.get("v", 0.0)
    v = cfg["momentum"] * old - cfg["lr"] * dw
    return w - cfg["momentum"] * old + (1 + cfg["momentum"]) * v, {"v": v}


def nesterov_look_ahead_sign_flipped(w, dw, state, cfg):
    v = cfg["momentum"] * state.get("v", 0.0) + dw
    return w - cfg["lr"] * (dw - cfg["momentum"] * v), {"v": v}


def nesterov_calls_reference(w, dw, state, cfg):
    return ref.nesterov(w, dw, state, cfg)


# ----------------------------------------------------------------- adagrad
def adagrad_with_numpy_ufuncs(w, dw, state, cfg):
    g2 = np.add(state.get("G", 0.0), np.square(dw))
    return np.subtract(w, cfg.get("lr", 1e-2) * np.divide(dw, np.power(g2, 0.5) + cfg.get("eps", 1e-10))), {"G": g2}


def adagrad_forgets_to_accumulate(w, dw, state, cfg):
    r = dw * dw
    return w - cfg["lr"] * dw / (np.sqrt(r) + cfg["eps"]), {"r": r}


def adagrad_eps_inside_root(w, dw, state, cfg):
    r = state.get("r", 0.0) + dw * dw
    return w - cfg["lr"] * dw / np.sqrt(r + cfg["eps"]), {"r": r}


def adagrad_no_square_root(w, dw, state, cfg):
    r = state.get("r", 0.0) + dw * dw
    return w - cfg["lr"] * dw / (r + cfg["eps"]), {"r": r}


def adagrad_divides_by_old_sum(w, dw, state, cfg):
    r = state.get("r", np.zeros_like(w))
    return w - cfg["lr"] * dw / (np.sqrt(r) + cfg["eps"]), {"r": r + dw * dw}


def adagrad_sums_gradients_not_squares(w, dw, state, cfg):
    r = state.get("r", 0.0) + dw
    with np.errstate(invalid="ignore"):
        return w - cfg["lr"] * dw / (np.sqrt(np.abs(r)) + cfg["eps"]), {"r": r}


# ----------------------------------------------------------------- rmsprop
def rmsprop_lerp_form(w, dw, state, cfg):
    r = state.get("square_avg", np.zeros_like(w))
    r = r + (1 - cfg.get("alpha", 0.99)) * (dw**2 - r)  # move a fraction 1 − α of the way towards dw²
    return w - cfg.get("lr", 1e-2) * dw / (r**0.5 + cfg.get("eps", 1e-8)), {"square_avg": r}


def rmsprop_eps_inside_root(w, dw, state, cfg):
    r = cfg["alpha"] * state.get("r", 0.0) + (1 - cfg["alpha"]) * dw * dw
    return w - cfg["lr"] * dw / np.sqrt(r + cfg["eps"]), {"r": r}


def rmsprop_alpha_swapped(w, dw, state, cfg):
    r = (1 - cfg["alpha"]) * state.get("r", 0.0) + cfg["alpha"] * dw * dw
    return w - cfg["lr"] * dw / (np.sqrt(r) + cfg["eps"]), {"r": r}


def rmsprop_sums_like_adagrad(w, dw, state, cfg):
    r = state.get("r", 0.0) + dw * dw
    return w - cfg["lr"] * dw / (np.sqrt(r) + cfg["eps"]), {"r": r}


def rmsprop_no_square_root(w, dw, state, cfg):
    r = cfg["alpha"] * state.get("r", 0.0) + (1 - cfg["alpha"]) * dw * dw
    return w - cfg["lr"] * dw / (r + cfg["eps"]), {"r": r}


def rmsprop_initialises_with_first_square(w, dw, state, cfg):
    r = dw * dw if "r" not in state else cfg["alpha"] * state["r"] + (1 - cfg["alpha"]) * dw * dw
    return w - cfg["lr"] * dw / (np.sqrt(r) + cfg["eps"]), {"r": r}


# ----------------------------------------------------------------- adadelta
def adadelta_ratio_under_one_root(w, dw, state, cfg):
    rho, eps = cfg.get("rho", 0.9), cfg.get("eps", 1e-6)
    r = rho * state.get("E_g2", 0.0) + (1 - rho) * dw * dw
    u = state.get("E_dx2", 0.0)
    step = np.sqrt((u + eps) / (r + eps)) * dw
    return w - cfg.get("lr", 1.0) * step, {"E_g2": r, "E_dx2": rho * u + (1 - rho) * step * step}


def adadelta_eps_outside_roots(w, dw, state, cfg):
    rho, eps = cfg["rho"], cfg["eps"]
    r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
    u = state.get("u", 0.0)
    d = (np.sqrt(u) + eps) / (np.sqrt(r) + eps) * dw
    return w - cfg["lr"] * d, {"r": r, "u": rho * u + (1 - rho) * d * d}


def adadelta_averages_gradients_into_u(w, dw, state, cfg):
    rho, eps = cfg["rho"], cfg["eps"]
    r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
    u = rho * state.get("u", 0.0) + (1 - rho) * dw * dw
    d = np.sqrt(u + eps) / np.sqrt(r + eps) * dw
    return w - cfg["lr"] * d, {"r": r, "u": u}


def adadelta_ratio_upside_down(w, dw, state, cfg):
    rho, eps = cfg["rho"], cfg["eps"]
    r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
    u = state.get("u", 0.0)
    d = np.sqrt(r + eps) / np.sqrt(u + eps) * dw
    return w - cfg["lr"] * d, {"r": r, "u": rho * u + (1 - rho) * d * d}


def adadelta_ignores_lr(w, dw, state, cfg):
    rho, eps = cfg["rho"], cfg["eps"]
    r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
    u = state.get("u", 0.0)
    d = np.sqrt(u + eps) / np.sqrt(r + eps) * dw
    return w - d, {"r": r, "u": rho * u + (1 - rho) * d * d}


def adadelta_no_square_roots(w, dw, state, cfg):
    rho, eps = cfg["rho"], cfg["eps"]
    r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
    u = state.get("u", 0.0)
    d = (u + eps) / (r + eps) * dw
    return w - cfg["lr"] * d, {"r": r, "u": rho * u + (1 - rho) * d * d}


# ----------------------------------------------------------------- adam
def adam_step_size_form(w, dw, state, cfg):
    b1, b2, eps = cfg.get("beta1", 0.9), cfg.get("beta2", 0.999), cfg.get("eps", 1e-8)
    t = state.get("step", 0) + 1
    m = b1 * state.get("m", 0.0) + (1 - b1) * dw
    v = b2 * state.get("v", 0.0) + (1 - b2) * dw * dw
    c2 = math.sqrt(1 - b2**t)
    step = cfg.get("lr", 1e-3) * c2 / (1 - b1**t)  # the paper's "efficient" ordering, ε rescaled to match
    return w - step * m / (np.sqrt(v) + eps * c2), {"step": t, "m": m, "v": v}


def _moments(state, dw, cfg):
    t = state.get("t", 0) + 1
    m = cfg["beta1"] * state.get("m", 0.0) + (1 - cfg["beta1"]) * dw
    v = cfg["beta2"] * state.get("v", 0.0) + (1 - cfg["beta2"]) * dw * dw
    return t, m, v, {"t": t, "m": m, "v": v}


def adam_without_bias_correction(w, dw, state, cfg):
    t, m, v, s = _moments(state, dw, cfg)
    return w - cfg["lr"] * m / (np.sqrt(v) + cfg["eps"]), s


def adam_lecture_divides_by_beta(w, dw, state, cfg):
    t, m, v, s = _moments(state, dw, cfg)
    return w - cfg["lr"] * (m / cfg["beta1"]) / (np.sqrt(v / cfg["beta2"]) + cfg["eps"]), s


def adam_counts_from_zero(w, dw, state, cfg):
    t, m, v, s = _moments(state, dw, cfg)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = m / (1 - cfg["beta1"] ** (t - 1))
        v_hat = v / (1 - cfg["beta2"] ** (t - 1))
        return w - cfg["lr"] * m_hat / (np.sqrt(v_hat) + cfg["eps"]), s


def adam_never_increments_t(w, dw, state, cfg):
    t, m, v, s = _moments(state, dw, cfg)
    s["t"] = 0  # forgets to keep the count
    return w - cfg["lr"] * (m / (1 - cfg["beta1"])) / (np.sqrt(v / (1 - cfg["beta2"])) + cfg["eps"]), s


def adam_eps_inside_root(w, dw, state, cfg):
    t, m, v, s = _moments(state, dw, cfg)
    return w - cfg["lr"] * (m / (1 - cfg["beta1"] ** t)) / np.sqrt(v / (1 - cfg["beta2"] ** t) + cfg["eps"]), s


def adam_corrects_first_moment_only(w, dw, state, cfg):
    t, m, v, s = _moments(state, dw, cfg)
    return w - cfg["lr"] * (m / (1 - cfg["beta1"] ** t)) / (np.sqrt(v) + cfg["eps"]), s


# ----------------------------------------------------------------- step decay
def step_decay_loop(lr0, t, step_size, gamma=0.1):
    lr = lr0
    for epoch in range(1, t + 1):
        if epoch % step_size == 0:  # a drop at the start of epochs step_size, 2·step_size, …
            lr *= gamma
    return lr


def step_decay_off_by_one(lr0, t, step_size, gamma=0.1):
    return lr0 * gamma ** ((t + 1) // step_size)


def step_decay_ceiling(lr0, t, step_size, gamma=0.1):
    return lr0 * gamma ** math.ceil(t / step_size)


def step_decay_no_floor(lr0, t, step_size, gamma=0.1):
    return lr0 * gamma ** (t / step_size)


def step_decay_every_epoch(lr0, t, step_size, gamma=0.1):
    return lr0 * gamma**t


def step_decay_multiplies(lr0, t, step_size, gamma=0.1):
    return lr0 * gamma * (t // step_size)


def step_decay_wrong_default_gamma(lr0, t, step_size, gamma=0.5):
    return lr0 * gamma ** (t // step_size)


def step_decay_returns_a_list(lr0, t, step_size, gamma=0.1):
    return [lr0 * gamma ** (t // step_size)]


# ----------------------------------------------------------------- mini-batch training
def train_minibatch_while_loop(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    params = {name: np.array(value, dtype=float) for name, value in params.items()}
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        while order.size:
            idx, order = order[:batch_size], order[batch_size:]
            loss, grads = loss_fn(params, X[idx], y[idx])
            history.append(loss)
            params = {name: value - lr * grads[name] for name, value in params.items()}
    return params, history


def _loop(loss_fn, params, X, y, lr, b, epochs, orders, *, drop_last=False, scale=1.0):
    params = dict(params)
    losses = []
    for e in range(epochs):
        order = orders(e)
        stop = len(X) - len(X) % b if drop_last else len(X)
        for start in range(0, stop, b):
            idx = order[start:start + b]
            loss, g = loss_fn(params, X[idx], y[idx])
            params = {k: p - lr * scale * g[k] for k, p in params.items()}
            losses.append(loss)
    return params, losses


def train_minibatch_no_shuffle(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    return _loop(loss_fn, params, X, y, lr, batch_size, epochs, lambda e: np.arange(len(X)))


def train_minibatch_shuffles_once(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    perm = rng.permutation(len(X))
    return _loop(loss_fn, params, X, y, lr, batch_size, epochs, lambda e: perm)


def train_minibatch_drops_last_batch(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    return _loop(loss_fn, params, X, y, lr, batch_size, epochs, lambda e: rng.permutation(len(X)), drop_last=True)


def train_minibatch_one_loss_per_epoch(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    params, losses = _loop(loss_fn, params, X, y, lr, batch_size, epochs, lambda e: rng.permutation(len(X)))
    per_epoch = len(losses) // epochs
    return params, [float(np.mean(losses[e * per_epoch:(e + 1) * per_epoch])) for e in range(epochs)]


def train_minibatch_divides_by_batch_size(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    return _loop(loss_fn, params, X, y, lr, batch_size, epochs, lambda e: rng.permutation(len(X)),
                 scale=1.0 / batch_size)


def train_minibatch_global_random(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    global_rng = np.random.default_rng(12345)  # not the generator it was given
    return _loop(loss_fn, params, X, y, lr, batch_size, epochs, lambda e: global_rng.permutation(len(X)))


def train_minibatch_full_batch(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    return _loop(loss_fn, params, X, y, lr, len(X), epochs, lambda e: rng.permutation(len(X)))


def train_minibatch_updates_in_place(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss, g = loss_fn(params, X[idx], y[idx])
            for k in params:
                params[k] -= lr * g[k]  # edits the caller's arrays
            losses.append(loss)
    return params, losses


# ----------------------------------------------------------------- the state contract and cfg defaults
def sgd_momentum_scales_the_old_velocity_in_place(w, dw, state, cfg):
    v = state.get("v")
    if v is None:
        v = np.zeros_like(w)
    v *= cfg["momentum"]  # the array in the state it was given
    v += dw
    return w - cfg["lr"] * v, {"v": v}


def sgd_momentum_velocity_aliases_dw(w, dw, state, cfg):
    v = dw if "v" not in state else cfg.get("momentum", 0.9) * state["v"] + dw  # v = 0·μ + dw on step 1
    return w - cfg.get("lr", 1e-2) * v, {"v": v}


def sgd_momentum_requires_every_key(w, dw, state, cfg):
    v = cfg["momentum"] * state.get("v", 0.0) + dw  # KeyError when cfg leaves momentum to its default
    return w - cfg["lr"] * v, {"v": v}


def nesterov_steps_in_place_on_a_copy(w, dw, state, cfg):
    mu = cfg.get("momentum", 0.9)
    v = mu * state.get("v", 0.0) + dw
    new = w.copy()  # keeps an integer w's dtype
    new -= cfg.get("lr", 1e-2) * (dw + mu * v)
    return new, {"v": v}


def rmsprop_default_alpha_hinton(w, dw, state, cfg):
    alpha = cfg.get("alpha", 0.9)  # Hinton's lecture uses 0.9; PyTorch's default is 0.99
    r = alpha * state.get("r", 0.0) + (1 - alpha) * dw * dw
    return w - cfg.get("lr", 1e-2) * dw / (np.sqrt(r) + cfg.get("eps", 1e-8)), {"r": r}


def adagrad_default_eps_too_large(w, dw, state, cfg):
    r = state.get("r", 0.0) + dw * dw
    return w - cfg.get("lr", 1e-2) * dw / (np.sqrt(r) + cfg.get("eps", 1e-8)), {"r": r}


def adadelta_accumulates_in_the_given_state(w, dw, state, cfg):
    rho, eps = cfg.get("rho", 0.9), cfg.get("eps", 1e-6)
    r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
    u = state.get("u", 0.0)
    d = np.sqrt(u + eps) / np.sqrt(r + eps) * dw
    state.update(r=r, u=rho * u + (1 - rho) * d * d)  # adds to (then replaces in) the caller's dict
    return w - cfg.get("lr", 1.0) * d, state


def adam_lecture_recursion_literally(w, dw, state, cfg):
    b1, b2 = cfg["beta1"], cfg["beta2"]
    m = (b1 * state.get("m", 0.0) + (1 - b1) * dw) / b1  # the divided value is what the state keeps
    v = (b2 * state.get("v", 0.0) + (1 - b2) * dw * dw) / b2
    return w - cfg["lr"] * m / (np.sqrt(v) + cfg["eps"]), {"m": m, "v": v}


def adam_skips_the_state_when_lr_is_zero(w, dw, state, cfg):
    if cfg.get("lr", 1e-3) == 0:
        return w.copy(), dict(state)  # a "free" step: but the moments and t must still advance
    return ref_adam(w, dw, state, cfg)


def ref_adam(w, dw, state, cfg):
    t = state.get("t", 0) + 1
    b1, b2, eps = cfg.get("beta1", 0.9), cfg.get("beta2", 0.999), cfg.get("eps", 1e-8)
    m = b1 * state.get("m", 0.0) + (1 - b1) * dw
    v = b2 * state.get("v", 0.0) + (1 - b2) * dw * dw
    return w - cfg.get("lr", 1e-3) * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), {"t": t, "m": m, "v": v}


# ----------------------------------------------------------------- exponential and cosine schedules
def exponential_decay_loop(lr0, t, gamma):
    lr = float(lr0)
    for _ in range(t):
        lr *= gamma
    return lr


def exponential_decay_off_by_one(lr0, t, gamma):
    return lr0 * gamma ** (t + 1)


def exponential_decay_keeps_one_minus_gamma(lr0, t, gamma):
    return lr0 * (1 - gamma) ** t


def exponential_decay_natural_exponent(lr0, t, gamma):
    return lr0 * math.exp(-gamma * t)


def exponential_decay_linear(lr0, t, gamma):
    return lr0 * gamma * t


def exponential_decay_inverse_time(lr0, t, gamma):
    return lr0 / (1 + gamma * t)


def exponential_decay_returns_an_array(lr0, t, gamma):
    return np.array([lr0 * gamma**t])


def cosine_annealing_squared_cosine(lr0, t, t_max, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * math.cos(math.pi * t / (2 * t_max)) ** 2


def cosine_annealing_no_half(lr0, t, t_max, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / t_max))


def cosine_annealing_no_pi(lr0, t, t_max, lr_min=0.0):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(t / t_max))


def cosine_annealing_ignores_lr_min(lr0, t, t_max, lr_min=0.0):
    return 0.5 * lr0 * (1 + math.cos(math.pi * t / t_max))


def cosine_annealing_rises(lr0, t, t_max, lr_min=0.0):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 - math.cos(math.pi * t / t_max))


def cosine_annealing_full_period(lr0, t, t_max, lr_min=0.0):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(2 * math.pi * t / t_max))


def cosine_annealing_no_default_lr_min(lr0, t, t_max, lr_min):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * t / t_max))


# ----------------------------------------------------------------- mini-batch training: edge cases
def train_minibatch_returns_the_callers_arrays(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    params, losses = dict(params), []  # a new dict holding the caller's arrays until the first step
    for _ in range(epochs):
        perm = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = perm[start:start + batch_size]
            loss, g = loss_fn(params, X[idx], y[idx])
            losses.append(loss)
            params = {k: p - lr * g[k] for k, p in params.items()}
    return params, losses


def train_minibatch_steps_in_place_on_copies(loss_fn, params, X, y, *, lr, batch_size, epochs, rng):
    params, losses = {k: v.copy() for k, v in params.items()}, []  # copies keep an integer dtype
    for _ in range(epochs):
        perm = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = perm[start:start + batch_size]
            loss, g = loss_fn(params, X[idx], y[idx])
            losses.append(loss)
            for k in params:
                params[k] -= lr * g[k]
    return params, losses


# ----------------------------------------------------------------- tables
CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_sgd_momentum: [sgd_momentum_inplace_on_a_copy],
    checks.check_nesterov: [nesterov_expanded],
    checks.check_adagrad: [adagrad_with_numpy_ufuncs],
    checks.check_rmsprop: [rmsprop_lerp_form],
    checks.check_adadelta: [adadelta_ratio_under_one_root],
    checks.check_adam: [adam_step_size_form],
    checks.check_step_decay: [step_decay_loop],
    checks.check_exponential_decay: [exponential_decay_loop],
    checks.check_cosine_annealing: [cosine_annealing_squared_cosine],
    checks.check_train_minibatch: [train_minibatch_while_loop],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_sgd_momentum: ref.sgd_momentum,
    checks.check_nesterov: ref.nesterov,
    checks.check_adagrad: ref.adagrad,
    checks.check_rmsprop: ref.rmsprop,
    checks.check_adadelta: ref.adadelta,
    checks.check_adam: ref.adam,
    checks.check_step_decay: ref.step_decay,
    checks.check_exponential_decay: ref.exponential_decay,
    checks.check_cosine_annealing: ref.cosine_annealing,
    checks.check_train_minibatch: ref.train_minibatch,
}

# (mutant, pattern the failure message must match, fails already in the public cases?)
MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_sgd_momentum: [
        (sgd_momentum_wrong_sign, "w after step 1 has wrong values", True, "wrong sign"),
        (sgd_momentum_lecture_form, "w after step 4 has wrong values", True, "once lr changes"),
        (sgd_momentum_dampened, "w after step 1 has wrong values", True, "no dampening"),
        (sgd_momentum_steps_with_old_velocity, "w after step 1 has wrong values", True, "update the velocity first"),
        (sgd_momentum_mutates_state, "returned the state dict it was given", True, None),
        (sgd_momentum_scales_the_old_velocity_in_place, "in place", True, None),
        (sgd_momentum_velocity_aliases_dw, r"new state\['v'\] is the array dw", True, None),
        (sgd_momentum_requires_every_key, None, False, None),
        (sgd_momentum_returns_w_only, "should return a tuple", True, None),
    ],
    checks.check_nesterov: [
        (nesterov_plain_momentum, "w after step 1 has wrong values", True, "plain momentum"),
        (nesterov_look_ahead_with_old_velocity, "w after step 1 has wrong values", True, "plain momentum"),
        (nesterov_lecture_order, "w after step 1 has wrong values", True, "lecture's order"),
        (nesterov_cs231n_form, "w after step 4 has wrong values", True, "once lr changes"),
        (nesterov_look_ahead_sign_flipped, "w after step 1 has wrong values", True, "wrong sign"),
        (nesterov_calls_reference, "called dlcourse.ref", True, None),
        (nesterov_steps_in_place_on_a_copy, None, False, None),
    ],
    checks.check_adagrad: [
        (adagrad_forgets_to_accumulate, "w after step 2 has wrong values", True, "must accumulate"),
        (adagrad_eps_inside_root, "w after step 1 has wrong values", True, "outside the square root"),
        (adagrad_no_square_root, "w after step 1 has wrong values", True, "square root"),
        (adagrad_divides_by_old_sum, "w after step 1 has wrong values", True, "before dividing"),
        (adagrad_sums_gradients_not_squares, "wrong values", True, None),
        (adagrad_default_eps_too_large, "wrong values", False, None),
    ],
    checks.check_rmsprop: [
        (rmsprop_eps_inside_root, "w after step 1 has wrong values", True, "outside the square root"),
        (rmsprop_alpha_swapped, "w after step 1 has wrong values", True, "swapped"),
        (rmsprop_sums_like_adagrad, "w after step 1 has wrong values", True, "Adagrad's sum"),
        (rmsprop_no_square_root, "w after step 1 has wrong values", True, "square root of the average"),
        (rmsprop_initialises_with_first_square, "w after step 1 has wrong values", True, "r starts at 0"),
        (rmsprop_default_alpha_hinton, "w after step 1 has wrong values", False, None),
    ],
    checks.check_adadelta: [
        (adadelta_eps_outside_roots, "w after step 1 has wrong values", True, "inside both square roots"),
        (adadelta_averages_gradients_into_u, "w after step 1 has wrong values", True, r"squared \*steps\*"),
        (adadelta_ratio_upside_down, "w after step 1 has wrong values", True, "upside down"),
        (adadelta_ignores_lr, "w after step 4 has wrong values", True, "multiply the step by lr"),
        (adadelta_no_square_roots, "w after step 1 has wrong values", True, "take square roots"),
        (adadelta_accumulates_in_the_given_state, "returned the state dict it was given", True, None),
    ],
    checks.check_adam: [
        (adam_without_bias_correction, "w after step 1 has wrong values", True, "biased towards 0"),
        (adam_lecture_divides_by_beta, "w after step 1 has wrong values", True, "not by β"),
        (adam_counts_from_zero, "w after step 1 contains", True, "t = 1"),
        (adam_never_increments_t, "w after step 2 has wrong values", True, "t must count"),
        (adam_eps_inside_root, "w after step 1 has wrong values", True, "outside the square root"),
        (adam_corrects_first_moment_only, "w after step 1 has wrong values", True, "correct both moments"),
        (adam_lecture_recursion_literally, "w after step 1 has wrong values", True, "taken literally"),
        (adam_skips_the_state_when_lr_is_zero, "w after step 4 has wrong values", False, None),
    ],
    checks.check_step_decay: [
        (step_decay_off_by_one, "the schedule has wrong values", True, "off by one"),
        (step_decay_ceiling, "the schedule has wrong values", True, "not the ceiling"),
        (step_decay_no_floor, "the schedule has wrong values", True, "drops in steps"),
        (step_decay_every_epoch, "the schedule has wrong values", True, "decays every epoch"),
        (step_decay_multiplies, "the schedule has wrong values", True, "don't multiply"),
        (step_decay_wrong_default_gamma, "gamma left at its default", True, None),
        (step_decay_returns_a_list, "one number", True, None),
    ],
    checks.check_exponential_decay: [
        (exponential_decay_off_by_one, "the schedule has wrong values", True, "off by one"),
        (exponential_decay_keeps_one_minus_gamma, "the schedule has wrong values", True, "factor kept"),
        (exponential_decay_natural_exponent, "the schedule has wrong values", True, "decay rate"),
        (exponential_decay_linear, "the schedule has wrong values", True, "power t"),
        (exponential_decay_inverse_time, "the schedule has wrong values", True, "inverse-time"),
        (exponential_decay_returns_an_array, "one number", True, None),
    ],
    checks.check_cosine_annealing: [
        (cosine_annealing_no_half, "the schedule has wrong values", True, "multiply by ½"),
        (cosine_annealing_no_pi, "the schedule has wrong values", True, "π·t/T"),
        (cosine_annealing_ignores_lr_min, "the schedule has wrong values", True, "ends at lr_min"),
        (cosine_annealing_rises, "the schedule has wrong values", True, "starts at lr0 and falls"),
        (cosine_annealing_full_period, "the schedule has wrong values", True, "half a period"),
        (cosine_annealing_no_default_lr_min, None, True, None),
    ],
    checks.check_train_minibatch: [
        (train_minibatch_no_shuffle, "losses has wrong values", True, "not shuffled"),
        (train_minibatch_shuffles_once, "losses has wrong values", True, "every epoch, not once"),
        (train_minibatch_drops_last_batch, "keeping the last, smaller batch", True, None),
        (train_minibatch_one_loss_per_epoch, "losses has shape", True, "not one per epoch"),
        (train_minibatch_divides_by_batch_size, "losses has wrong values", True, "don't divide by B"),
        (train_minibatch_global_random, "losses has wrong values", True, "generator you are given"),
        (train_minibatch_full_batch, "batches of sizes", True, None),
        (train_minibatch_updates_in_place, "in place", True, None),
        (train_minibatch_returns_the_callers_arrays, "caller's own array", False, None),
        (train_minibatch_steps_in_place_on_copies, None, False, None),
    ],
}
