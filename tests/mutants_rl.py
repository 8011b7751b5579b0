"""Correct alternatives and known-wrong implementations (mutants) for the 13-reinforcement checks.

Each mutant is a mistake students make in reinforcement learning, named after it. ``MUTANTS[check]``
lists ``(implementation, diagnosis pattern, caught by the public cases, hint pattern or None)``;
a diagnosis pattern of None means the student's own code crashes (its traceback is the feedback).
"""

from __future__ import annotations

import random
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from dlcourse.checks import rl as checks
from dlcourse.gpu import rl as gpu_rl
from dlcourse.ref import rl as ref_rl

Impl = Callable[..., Any]


# ----------------------------------------------------------------- discounted_returns
def discounted_returns_matrix(rewards, gamma, last_value=0.0):
    """G = r D with the upper-triangular discount matrix D[k, t] = γ^(k−t) for k ≥ t, plus γ^(T−t) V."""
    r = np.asarray(rewards, dtype=np.float64)
    T = r.shape[-1]
    k, t = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    powers = np.where(k >= t, np.float64(gamma) ** np.maximum(k - t, 0), 0.0)
    tail = np.float64(gamma) ** (T - np.arange(T))
    return r @ powers + np.asarray(last_value, dtype=np.float64)[..., None] * tail


def discounted_returns_reversed_cumsum(rewards, gamma, last_value=0.0):
    """Backwards recursion over a flipped copy."""
    r = np.asarray(rewards, dtype=np.float64)
    flipped = np.flip(r, axis=-1)
    out = np.zeros_like(flipped)
    running = np.asarray(last_value, dtype=np.float64) * np.ones(r.shape[:-1])
    for i in range(r.shape[-1]):
        running = flipped[..., i] + gamma * running
        out[..., i] = running
    return np.flip(out, axis=-1)


def _returns_loop(rewards, gamma, last_value, power, bootstrap_power):
    r = np.asarray(rewards, dtype=np.float64)
    T = r.shape[-1]
    out = np.zeros_like(r)
    for t in range(T):
        for k in range(t, T):
            out[..., t] += gamma ** power(k, t) * r[..., k]
        if bootstrap_power is not None:
            out[..., t] += gamma ** bootstrap_power(T, t) * np.asarray(last_value, dtype=np.float64)
    return out


def discounted_returns_lecture_exponent(rewards, gamma, last_value=0.0):
    """The lecture's R_t = Σ_{i ≥ t} γ^i r_i: the exponent counts from the episode's start."""
    return _returns_loop(rewards, gamma, last_value, lambda k, t: k, lambda T, t: T)


def discounted_returns_forward(rewards, gamma, last_value=0.0):
    """The discount from the wrong end: accumulates from the first step."""
    r = np.asarray(rewards, dtype=np.float64)
    out = np.zeros_like(r)
    running = np.zeros(r.shape[:-1])
    for t in range(r.shape[-1]):
        running = r[..., t] + gamma * running
        out[..., t] = running
    return out


def discounted_returns_ignores_last_value(rewards, gamma, last_value=0.0):
    return _returns_loop(rewards, gamma, last_value, lambda k, t: k - t, None)


def discounted_returns_undiscounted_bootstrap(rewards, gamma, last_value=0.0):
    return _returns_loop(rewards, gamma, last_value, lambda k, t: k - t, lambda T, t: T - 1 - t)


def discounted_returns_no_discount(rewards, gamma, last_value=0.0):
    r = np.asarray(rewards, dtype=np.float64)
    return np.flip(np.cumsum(np.flip(r, -1), -1), -1) + np.asarray(last_value, dtype=np.float64)[..., None]


def discounted_returns_first_only(rewards, gamma, last_value=0.0):
    """Only G_0, the return of the whole episode."""
    return discounted_returns_reversed_cumsum(rewards, gamma, last_value)[..., 0]


def discounted_returns_float32(rewards, gamma, last_value=0.0):
    return discounted_returns_reversed_cumsum(rewards, gamma, last_value).astype(np.float32)


def discounted_returns_1d_only(rewards, gamma, last_value=0.0):
    """Loops over len(rewards): fine for one episode, wrong for a batch (..., T)."""
    out = np.zeros(len(rewards))
    running = last_value
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


# ----------------------------------------------------------------- epsilon_greedy
def epsilon_greedy_masked(q_values, epsilon, rng):
    """Draw uniform noise, keep it only on the maxima, take the argmax (ties uniform in one line)."""
    q = np.asarray(q_values)
    if rng.random() < epsilon:
        return int(rng.integers(len(q)))
    return int(np.argmax(rng.random(len(q)) * (q == q.max())))


def epsilon_greedy_first_argmax(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))


def epsilon_greedy_explores_others(q_values, epsilon, rng):
    q = np.asarray(q_values)
    greedy = np.flatnonzero(q == q.max())
    others = np.flatnonzero(q != q.max())
    if len(others) and rng.random() < epsilon:
        return int(rng.choice(others))
    return int(rng.choice(greedy))


def epsilon_greedy_inverted(q_values, epsilon, rng):
    q = np.asarray(q_values)
    if rng.random() < 1 - epsilon:
        return int(rng.integers(len(q)))
    return int(rng.choice(np.flatnonzero(q == q.max())))


def epsilon_greedy_global_random(q_values, epsilon, rng):
    """Ignores the rng it is given: numpy's global generator is not reproducible from the argument."""
    q = np.asarray(q_values)
    if np.random.random() < epsilon:
        return int(np.random.randint(len(q)))
    return int(np.random.choice(np.flatnonzero(q == q.max())))


def epsilon_greedy_python_random(q_values, epsilon, rng):
    q = list(q_values)
    if random.random() < epsilon:
        return random.randrange(len(q))
    return random.choice([i for i, v in enumerate(q) if v == max(q)])


def epsilon_greedy_returns_array(q_values, epsilon, rng):
    q = np.asarray(q_values)
    if rng.random() < epsilon:
        return rng.integers(len(q), size=1)
    return rng.choice(np.flatnonzero(q == q.max()), size=1)


def epsilon_greedy_one_based(q_values, epsilon, rng):
    """Actions numbered 1..A."""
    q = np.asarray(q_values)
    if rng.random() < epsilon:
        return int(rng.integers(1, len(q) + 1))
    return int(rng.choice(np.flatnonzero(q == q.max()))) + 1


# ----------------------------------------------------------------- q_learning_update
def q_learning_update_td_error(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    """Through the TD error δ and a one-hot mask, without copying the row."""
    q = np.asarray(q, dtype=np.float64)
    future = 0.0 if terminated else gamma * np.max(q[next_state])
    delta = reward + future - q[state, action]
    mask = np.zeros_like(q)
    mask[state, action] = 1.0
    return q + alpha * delta * mask


def _q_update(q, s, a, r, s2, done, future_row, alpha, gamma, inplace=False):
    table = q if inplace else np.array(q, dtype=np.float64)
    future = 0.0 if done else gamma * future_row(table, s, a, s2)
    table[s, a] = table[s, a] + alpha * (r + future - table[s, a])
    return table


def q_learning_update_bootstraps_terminal(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    return _q_update(q, state, action, reward, next_state, False, lambda t, s, a, s2: t[s2].max(), alpha, gamma)


def q_learning_update_truncation_as_termination(q, state, action, reward, next_state, terminated, truncated, alpha,
                                                gamma):
    return _q_update(q, state, action, reward, next_state, terminated or truncated, lambda t, s, a, s2: t[s2].max(),
                     alpha, gamma)


def q_learning_update_max_of_current_state(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    return _q_update(q, state, action, reward, next_state, terminated, lambda t, s, a, s2: t[s].max(), alpha, gamma)


def q_learning_update_same_action(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    return _q_update(q, state, action, reward, next_state, terminated, lambda t, s, a, s2: t[s2, a], alpha, gamma)


def q_learning_update_replaces(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    return _q_update(q, state, action, reward, next_state, terminated, lambda t, s, a, s2: t[s2].max(), 1.0, gamma)


def q_learning_update_in_place(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    return _q_update(q, state, action, reward, next_state, terminated, lambda t, s, a, s2: t[s2].max(), alpha, gamma,
                     inplace=True)


def q_learning_update_sign_flipped(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    return _q_update(q, state, action, reward, next_state, terminated, lambda t, s, a, s2: t[s2].max(), -alpha, gamma)


def q_learning_update_keeps_int(q, state, action, reward, next_state, terminated, truncated, alpha, gamma):
    """Copies the table with its own dtype: an integer table truncates the update."""
    table = np.array(q)
    future = 0.0 if terminated else gamma * table[next_state].max()
    table[state, action] = table[state, action] + alpha * (reward + future - table[state, action])
    return table


# ----------------------------------------------------------------- dqn_loss
def dqn_loss_functional(q_values, actions, rewards, next_q_values, terminated, gamma):
    """F.mse_loss on the gathered values, the target built from a detached copy."""
    target = rewards + gamma * (1 - terminated) * next_q_values.detach().max(dim=1).values
    predicted = q_values[torch.arange(len(actions)), actions]
    return F.mse_loss(predicted, target)


def _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, *, mask=True, detach=True, source=None,
         predict_max=False, reduce="mean", huber=False, mask_reward=False):
    nq = next_q_values.detach() if detach else next_q_values
    values = (q_values.detach() if source == "online" else nq).max(dim=1).values
    cont = (1 - terminated) if mask else 1.0
    target = (rewards + gamma * values) * (1 - terminated) if mask_reward else rewards + gamma * cont * values
    predicted = q_values.max(dim=1).values if predict_max else q_values.gather(1, actions[:, None]).squeeze(1)
    if huber:
        return F.smooth_l1_loss(predicted, target)
    err = (predicted - target) ** 2
    return err.mean() if reduce == "mean" else err.sum()


def dqn_loss_bootstraps_terminal(q_values, actions, rewards, next_q_values, terminated, gamma):
    return _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, mask=False)


def dqn_loss_gradient_through_target(q_values, actions, rewards, next_q_values, terminated, gamma):
    return _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, detach=False)


def dqn_loss_online_target(q_values, actions, rewards, next_q_values, terminated, gamma):
    return _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, source="online")


def dqn_loss_max_prediction(q_values, actions, rewards, next_q_values, terminated, gamma):
    return _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, predict_max=True)


def dqn_loss_sum(q_values, actions, rewards, next_q_values, terminated, gamma):
    return _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, reduce="sum")


def dqn_loss_huber(q_values, actions, rewards, next_q_values, terminated, gamma):
    return _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, huber=True)


def dqn_loss_masks_reward(q_values, actions, rewards, next_q_values, terminated, gamma):
    return _dqn(q_values, actions, rewards, next_q_values, terminated, gamma, mask_reward=True)


def dqn_loss_item(q_values, actions, rewards, next_q_values, terminated, gamma):
    return float(dqn_loss_functional(q_values, actions, rewards, next_q_values, terminated, gamma).detach())


def dqn_loss_no_graph(q_values, actions, rewards, next_q_values, terminated, gamma):
    with torch.no_grad():
        return dqn_loss_functional(q_values, actions, rewards, next_q_values, terminated, gamma)


def dqn_loss_per_sample(q_values, actions, rewards, next_q_values, terminated, gamma):
    target = rewards + gamma * (1 - terminated) * next_q_values.detach().max(dim=1).values
    return (q_values.gather(1, actions[:, None]).squeeze(1) - target) ** 2


# ----------------------------------------------------------------- reinforce_loss
def reinforce_loss_manual(log_probs, returns, eps=1e-8):
    """Mean and population std written out, the advantage made a constant with .detach()."""
    g = returns.detach().double()
    n = g.numel()
    mean = g.sum() / n
    std = torch.sqrt(((g - mean) ** 2).sum() / n)
    adv = (g - mean) / (std + eps)
    return -(log_probs * adv.to(log_probs.dtype)).sum() / n


def _pg(log_probs, returns, eps=1e-8, *, sign=-1.0, normalise="all", reduce="mean"):
    g = returns.double()
    if normalise == "all":
        adv = (g - g.mean()) / (g.std(correction=0) + eps)
    elif normalise == "none":
        adv = g
    elif normalise == "unbiased":
        adv = (g - g.mean()) / (g.std() + eps)
    elif normalise == "center":
        adv = g - g.mean()
    elif normalise == "no_eps":
        adv = (g - g.mean()) / g.std(correction=0)
    else:  # an axis
        dim = int(normalise)
        adv = (g - g.mean(dim=dim, keepdim=True)) / (g.std(dim=dim, keepdim=True, correction=0) + eps)
    out = log_probs * adv
    return sign * (out.mean() if reduce == "mean" else out.sum())


def reinforce_loss_wrong_sign(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, eps, sign=1.0)


def reinforce_loss_unnormalised(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, eps, normalise="none")


def reinforce_loss_unbiased_std(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, eps, normalise="unbiased")


def reinforce_loss_centred_only(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, eps, normalise="center")


def reinforce_loss_sum(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, eps, reduce="sum")


def reinforce_loss_per_row(log_probs, returns, eps=1e-8):
    """Normalises each episode (row) on its own: the batch's returns are not on one scale."""
    return _pg(log_probs, returns, eps, normalise="-1")


def reinforce_loss_per_column(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, eps, normalise="0")


def reinforce_loss_no_eps(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, eps, normalise="no_eps")


def reinforce_loss_ignores_eps(log_probs, returns, eps=1e-8):
    return _pg(log_probs, returns, 1e-8)


REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_discounted_returns: ref_rl.discounted_returns,
    checks.check_epsilon_greedy: ref_rl.epsilon_greedy,
    checks.check_q_learning_update: ref_rl.q_learning_update,
    checks.check_dqn_loss: gpu_rl.dqn_loss,
    checks.check_reinforce_loss: gpu_rl.reinforce_loss,
}

CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_discounted_returns: [discounted_returns_matrix, discounted_returns_reversed_cumsum],
    checks.check_epsilon_greedy: [epsilon_greedy_masked],
    checks.check_q_learning_update: [q_learning_update_td_error],
    checks.check_dqn_loss: [dqn_loss_functional],
    checks.check_reinforce_loss: [reinforce_loss_manual],
}

VALUES = "the returns (has wrong values|is )"
MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_discounted_returns: [
        (discounted_returns_lecture_exponent, VALUES, True, r"γ\^\(k−t\)"),
        (discounted_returns_forward, VALUES, True, "wrong end"),
        (discounted_returns_ignores_last_value, VALUES, True, "value of where the episode was cut"),
        (discounted_returns_undiscounted_bootstrap, VALUES, True, "discount it too"),
        (discounted_returns_no_discount, VALUES, True, "once per step"),
        (discounted_returns_first_only, "the returns has shape", True, None),
        (discounted_returns_float32, "dtype float32", True, "keep that precision"),
        (discounted_returns_1d_only, None, True, None),
    ],
    checks.check_epsilon_greedy: [
        (epsilon_greedy_first_argmax, "frequencies", True, "ties"),
        (epsilon_greedy_explores_others, "frequencies", True, "among \\*all\\* actions"),
        (epsilon_greedy_inverted, "frequencies", True, "exploration rate"),
        (epsilon_greedy_global_random, "seeded alike", True, "rng argument"),
        (epsilon_greedy_python_random, "seeded alike", True, "rng argument"),
        (epsilon_greedy_returns_array, "one action", True, "int\\(action\\)"),
        (epsilon_greedy_one_based, r"returned \d+; actions are ints", True, None),
    ],
    checks.check_q_learning_update: [
        (q_learning_update_bootstraps_terminal, "Q table has wrong values", True, "no bootstrap on a terminal"),
        (q_learning_update_truncation_as_termination, "Q table has wrong values", True, "truncation is not"),
        (q_learning_update_max_of_current_state, "Q table has wrong values", True, "looks ahead"),
        (q_learning_update_same_action, "Q table has wrong values", True, "best next action"),
        (q_learning_update_replaces, "Q table has wrong values", True, "step α"),
        (q_learning_update_in_place, "in place", True, None),
        (q_learning_update_sign_flipped, "Q table has wrong values", True, None),
        (q_learning_update_keeps_int, "Q table", False, None),
    ],
    checks.check_dqn_loss: [
        (dqn_loss_bootstraps_terminal, "the loss is", True, "no bootstrap on terminal"),
        (dqn_loss_gradient_through_target, "gradients into next_q_values", True, "no_grad"),
        (dqn_loss_online_target, "the loss is", True, r"\*next\* states"),
        (dqn_loss_max_prediction, "the loss is", True, "action taken"),
        (dqn_loss_sum, "the loss is", True, "mean"),
        (dqn_loss_huber, "the loss is", True, "Huber"),
        (dqn_loss_masks_reward, "the loss is", True, "reward of a terminal step"),
        (dqn_loss_item, "should be a torch.Tensor", True, "no .item"),
        (dqn_loss_no_graph, "no graph", True, "no_grad"),
        (dqn_loss_per_sample, "single number", True, "mean"),
    ],
    checks.check_reinforce_loss: [
        (reinforce_loss_wrong_sign, "the loss is", True, "sign"),
        (reinforce_loss_unnormalised, "the loss is", True, "normalise the returns first"),
        (reinforce_loss_unbiased_std, "the loss is", True, "population std"),
        (reinforce_loss_centred_only, "the loss is", True, "divide by the std"),
        (reinforce_loss_sum, "the loss is", True, "not the sum"),
        (reinforce_loss_per_row, "the loss is", True, "all time steps of the batch"),
        (reinforce_loss_per_column, "the loss is", True, "all time steps of the batch"),
        (reinforce_loss_no_eps, "the loss is nan", False, "eps"),
        (reinforce_loss_ignores_eps, "the loss is", False, None),
    ],
}
