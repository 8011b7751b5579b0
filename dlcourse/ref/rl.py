"""Reinforcement learning in NumPy: returns, ε-greedy, tabular Q-learning, the DQN and REINFORCE losses.

Conventions (gymnasium's): an episode ends when ``terminated`` (a terminal state: nothing follows,
its future is worth 0) or ``truncated`` (a time limit cut it: the state still has a future). So

- the **return** from step t is G_t = Σ_{k ≥ t} γ^{k−t} r_k (the exponent counts steps *from t*);
  a truncated episode adds γ^{T−t} V(s_T), the estimated value of where it was cut
  (``last_value``); a terminated one adds nothing;
- the **Q-learning target** is r + γ max_a' Q(s', a') unless s' is terminal (then just r);
  truncation does not change the target;
- the **DQN loss** is the mean squared error (the lecture's choice; the Huber loss is a common
  alternative) between Q(s, a) and the target r + γ (1 − terminated) max_a' Q_target(s', a'),
  where the target network's values are constants (no gradient flows into them);
- the **REINFORCE loss** is −mean_t log π(a_t | s_t) Â_t with Â = (G − mean G) / (std G + eps):
  the returns normalised over all time steps of the batch (population std, ddof = 0). Its minus
  sign makes gradient *descent* raise the log-probability of actions followed by high returns.

The two losses follow :mod:`dlcourse.ref.losses`' contract: ``(loss, gradient)``. Their twins in
:mod:`dlcourse.gpu.rl` return the loss tensor and let autograd find the gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "discounted_returns",
    "normalize_returns",
    "epsilon_greedy",
    "epsilon_greedy_probs",
    "q_learning_update",
    "dqn_targets",
    "dqn_loss",
    "reinforce_loss",
]


def _check_gamma(gamma: float) -> float:
    if not np.isscalar(gamma) or not 0.0 <= float(gamma) <= 1.0:
        raise ValueError(f"gamma must be a number in [0, 1]; got {gamma!r}")
    return float(gamma)


def _float_array(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers; got dtype {a.dtype}")
    return a.astype(np.result_type(a.dtype, np.float64) if a.dtype.kind != "f" else a.dtype)


def discounted_returns(rewards: np.ndarray, gamma: float, last_value: float | np.ndarray = 0.0) -> np.ndarray:
    """Rewards-to-go G_t = r_t + γ r_{t+1} + … + γ^{T−1−t} r_{T−1} + γ^{T−t} · last_value.

    Args:
        rewards: (..., T) rewards of one episode along the last axis (leading axes: several
            episodes of equal length).
        gamma: discount factor in [0, 1].
        last_value: (...) or a number: the value of the state after the last step, 0 for a
            terminated episode (the default), an estimate V(s_T) for a truncated one.

    Returns:
        (..., T) float returns, computed backwards: G_t = r_t + γ G_{t+1}, G_T = last_value.
    """
    gamma = _check_gamma(gamma)
    r = _float_array(rewards, "rewards")
    if r.ndim == 0:
        raise ValueError("rewards must have a time axis (..., T); got a scalar")
    v = np.asarray(last_value, dtype=r.dtype)
    try:
        running = np.broadcast_to(v, r.shape[:-1])
    except ValueError:
        raise ValueError(f"last_value has shape {v.shape}; expected a number or one value per episode, "
                         f"{r.shape[:-1]}") from None
    out = np.empty_like(r)
    for t in range(r.shape[-1] - 1, -1, -1):
        running = r[..., t] + gamma * running
        out[..., t] = running
    return out


def normalize_returns(returns: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """(G − mean G) / (std G + eps) over *all* entries (every time step of every episode in the batch).

    The std is the population one (ddof = 0); eps keeps a batch of equal returns finite (it maps
    to zeros). Shape (...) in, the same shape out.
    """
    g = _float_array(returns, "returns")
    if g.size == 0:
        raise ValueError("returns is empty: normalising needs at least one time step")
    return (g - g.mean()) / (g.std() + eps)


def epsilon_greedy_probs(q_values: np.ndarray, epsilon: float) -> np.ndarray:
    """The probability that ε-greedy picks each action: ε/A + (1 − ε) [a greedy] / #greedy.

    Args:
        q_values: (A,) action values of one state.
        epsilon: exploration rate in [0, 1].

    Returns:
        (A,) probabilities (ties among the greedy actions share the greedy mass equally).
    """
    q = _q_row(q_values)
    eps = _check_epsilon(epsilon)
    greedy = q == q.max()
    return eps / q.size + (1.0 - eps) * greedy / greedy.sum()


def _q_row(q_values: Any) -> np.ndarray:
    q = np.asarray(q_values)
    if q.ndim != 1 or q.size == 0 or q.dtype.kind not in "biuf":
        raise ValueError(f"q_values must be a non-empty 1-D array of numbers (A,); got shape {q.shape}, dtype {q.dtype}")
    return q


def _check_epsilon(epsilon: float) -> float:
    if not np.isscalar(epsilon) or not 0.0 <= float(epsilon) <= 1.0:
        raise ValueError(f"epsilon must be a number in [0, 1]; got {epsilon!r}")
    return float(epsilon)


def epsilon_greedy(q_values: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """One ε-greedy action: with probability ε a uniformly random action, otherwise a greedy one.

    Ties among the greedy actions are broken uniformly at random (``argmax`` would always pick the
    first, and an agent that starts with Q = 0 would never try the others). All randomness comes
    from ``rng``, so a seeded generator gives a reproducible sequence.

    Args:
        q_values: (A,) action values of one state.
        epsilon: exploration rate in [0, 1] (0: always greedy; 1: uniformly random).
        rng: a ``np.random.Generator``.

    Returns:
        The action, a Python int in 0..A−1.
    """
    q = _q_row(q_values)
    eps = _check_epsilon(epsilon)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a np.random.Generator (np.random.default_rng(seed)); got {type(rng).__name__}")
    if rng.random() < eps:
        return int(rng.integers(q.size))
    return int(rng.choice(np.flatnonzero(q == q.max())))


def q_learning_update(q: np.ndarray, state: int, action: int, reward: float, next_state: int,
                      terminated: bool, truncated: bool, alpha: float, gamma: float) -> np.ndarray:
    """One tabular Q-learning step, returning a new table (``q`` is left unchanged).

    Q(s, a) ← Q(s, a) + α (y − Q(s, a)),  y = r + γ max_a' Q(s', a')  (y = r when ``terminated``).

    ``truncated`` is accepted on purpose and changes nothing: a time limit cutting the episode at
    s' says nothing about s' (its future is still worth max Q(s', ·)).

    Args:
        q: (S, A) action values.
        state, action, reward, next_state, terminated, truncated: one transition as gymnasium gives it.
        alpha: learning rate in (0, 1].
        gamma: discount factor in [0, 1].

    Returns:
        (S, A) float table equal to ``q`` except at (state, action).
    """
    table = np.asarray(q)
    if table.ndim != 2:
        raise ValueError(f"q must be a 2-D table (S, A); got shape {table.shape}")
    gamma = _check_gamma(gamma)
    for name, idx, size in (("state", state, table.shape[0]), ("next_state", next_state, table.shape[0]),
                            ("action", action, table.shape[1])):
        if not 0 <= int(idx) < size:
            raise ValueError(f"{name} = {idx} is outside the table of shape {table.shape}")
    new = table.astype(np.float64 if table.dtype.kind != "f" else table.dtype, copy=True)
    target = float(reward) + (0.0 if terminated else gamma * new[next_state].max())
    new[state, action] += alpha * (target - new[state, action])
    return new


def _batch(q_values: Any, actions: Any, rewards: Any, next_q_values: Any, terminated: Any) -> tuple[np.ndarray, ...]:
    q, nq = _float_array(q_values, "q_values"), _float_array(next_q_values, "next_q_values")
    a, r, done = np.asarray(actions), _float_array(rewards, "rewards"), np.asarray(terminated)
    if q.ndim != 2 or nq.shape != q.shape:
        raise ValueError(f"q_values and next_q_values must both be (N, A); got {q.shape} and {nq.shape}")
    n = q.shape[0]
    for name, x in (("actions", a), ("rewards", r), ("terminated", done)):
        if x.shape != (n,):
            raise ValueError(f"{name} must have shape (N,) = ({n},); got {x.shape}")
    if a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() >= q.shape[1])):
        raise ValueError(f"actions must be integers in 0..{q.shape[1] - 1}")
    return q, a, r, nq, done.astype(bool)


def dqn_targets(rewards: np.ndarray, next_q_values: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    """y = r + γ (1 − terminated) max_a' Q_target(s', a'), shape (N,).

    Args:
        rewards: (N,) rewards.
        next_q_values: (N, A) the *target* network's values of the next states.
        terminated: (N,) bool: s' is terminal, so nothing is bootstrapped (truncation is not termination).
        gamma: discount factor in [0, 1].
    """
    gamma = _check_gamma(gamma)
    r, nq = _float_array(rewards, "rewards"), _float_array(next_q_values, "next_q_values")
    if nq.ndim != 2 or r.shape != nq.shape[:1] or np.shape(terminated) != r.shape:
        raise ValueError(f"rewards (N,), next_q_values (N, A) and terminated (N,) disagree: {r.shape}, "
                         f"{nq.shape}, {np.shape(terminated)}")
    return r + gamma * (1.0 - np.asarray(terminated, dtype=float)) * nq.max(axis=1)


def dqn_loss(q_values: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_q_values: np.ndarray,
             terminated: np.ndarray, gamma: float) -> tuple[float, np.ndarray]:
    """The DQN loss L = mean_n (Q(s_n, a_n) − y_n)² with the targets y of :func:`dqn_targets`.

    Args:
        q_values: (N, A) the online network's values of the states.
        actions: (N,) int actions taken.
        rewards: (N,), next_q_values: (N, A) (target network), terminated: (N,) bool, gamma: see
            :func:`dqn_targets`.

    Returns:
        (loss, dq_values): the loss and its gradient with respect to ``q_values``, (N, A), non-zero
        only at the actions taken; the targets are constants (no gradient to ``next_q_values``).
    """
    q, a, r, nq, done = _batch(q_values, actions, rewards, next_q_values, terminated)
    y = dqn_targets(r, nq, done, gamma)
    n = q.shape[0]
    chosen = q[np.arange(n), a]
    dq = np.zeros_like(q)
    dq[np.arange(n), a] = 2.0 * (chosen - y) / n
    return float(np.mean((chosen - y) ** 2)), dq


def reinforce_loss(log_probs: np.ndarray, returns: np.ndarray, eps: float = 1e-8) -> tuple[float, np.ndarray]:
    """The REINFORCE loss −mean(log π(a_t|s_t) · Â_t), Â = :func:`normalize_returns` (returns, eps).

    Args:
        log_probs: (...) log-probabilities of the actions taken (any shape: all time steps of a batch).
        returns: the same shape: the returns G_t that followed each action (constants).
        eps: added to the std when normalising.

    Returns:
        (loss, dlog_probs): the loss and its gradient −Â / n with respect to ``log_probs``.
    """
    lp, g = _float_array(log_probs, "log_probs"), _float_array(returns, "returns")
    if lp.shape != g.shape:
        raise ValueError(f"log_probs and returns must have one shape; got {lp.shape} and {g.shape}")
    adv = normalize_returns(g, eps)
    return float(-np.mean(lp * adv)), -adv / adv.size
