"""Checks for lecture 13-reinforcement.

Each ``check_*`` takes the student's function and ``hidden``. Public cases are small and fixed;
hidden ones add the edge cases real code meets: γ = 0 and γ = 1, an episode of one step, integer
rewards and tables, a transposed (non-contiguous) batch, ε = 0 and ε = 1, all actions tied, a
single action, transitions that are both terminated and truncated, a self-loop (s' = s), batches
that are all terminal or all not, a batch of one, equal returns (the eps in the std). Expected
values come from :mod:`dlcourse.ref.rl`, computed after the student's call.

Known mistakes are offered as what the mistaken code returns on the same inputs (computed here
with one step changed); a hint is shown only when the answer matches it on every case
(:class:`~dlcourse.checks.compare.CheckRun`).

- ``check_epsilon_greedy`` draws thousands of actions with generators it seeds itself and compares
  the frequencies with ε-greedy's probabilities (tolerance: 5 standard errors; the seeds are
  fixed, so the verdict never changes between runs), then asks that two generators seeded alike
  give the same actions (all randomness from ``rng``).
- ``check_dqn_loss`` and ``check_reinforce_loss`` are PyTorch exercises: they hand in float64
  leaf tensors that require gradients (as network outputs would), call ``backward()`` on the
  loss, and compare the value and the gradient with the reference's; in the DQN loss no gradient
  may reach ``next_q_values`` (the target network). They import torch when they run
  (``import dlcourse.checks.rl`` does not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_equal, expect_float64_like, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.guard import call_student
from dlcourse.ref import rl as ref

__all__ = [
    "check_discounted_returns",
    "check_epsilon_greedy",
    "check_q_learning_update",
    "check_dqn_loss",
    "check_reinforce_loss",
]

SALT = 131_313  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng


def _returns_from(rewards: np.ndarray, gamma: float, last: np.ndarray, *, forward: bool = False,
                  absolute: bool = False, bootstrap: str = "discounted") -> np.ndarray:
    """Returns written with one of the classic mistakes (a loop over t, for the variants only).

    forward: accumulate from the start (G_t = Σ_{k ≤ t} γ^{t−k} r_k, the discount from the wrong end);
    absolute: the lecture's γ^k counted from the episode's start, not from t;
    bootstrap: "discounted" (right), "none" (last_value ignored), "undiscounted" (r_{T−1} + V).
    """
    r = np.asarray(rewards, dtype=np.float64)
    T = r.shape[-1]
    out = np.zeros_like(r)
    last = np.broadcast_to(np.asarray(last, dtype=np.float64), r.shape[:-1])
    for t in range(T):
        ks = range(t + 1) if forward else range(t, T)
        for k in ks:
            power = (t - k) if forward else (k if absolute else k - t)
            out[..., t] += gamma**power * r[..., k]
        if not forward:
            power = {"discounted": T - t, "undiscounted": T - 1 - t, "none": None}[bootstrap]
            if power is not None:
                out[..., t] += gamma ** (T if absolute else power) * last
    return out


# --------------------------------------------------------------------------- discounted returns


def _returns_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, float, Any]]:
    """(description, rewards, gamma, last_value or None for the default)."""
    rng = case_rng(hidden, SALT)
    yield "one episode of 5 steps, γ = 0.9, last_value left out", rng.standard_normal(5), 0.9, None
    yield ("a truncated episode of 4 steps, γ = 0.5, last_value = 2.0", np.round(rng.standard_normal(4), 2), 0.5,
           2.0)
    batch = rng.standard_normal((3, 6))
    yield "3 episodes of 6 steps (shape (3, 6)), γ = 0.8, last_value (3,)", batch, 0.8, rng.standard_normal(3)
    if hidden:
        yield "γ = 0 (only the immediate reward counts)", rng.standard_normal(4), 0.0, 1.5
        yield "γ = 1 (plain sums)", rng.standard_normal(5), 1.0, None
        yield "an episode of one step, last_value = 3.0", rng.standard_normal(1), 0.9, 3.0
        yield "integer rewards (int64)", rng.integers(-2, 3, size=7), 0.7, None
        t = int(rng.integers(3, 8))
        yield (f"2 episodes of {t} steps as a transposed (non-contiguous) view", rng.standard_normal((t, 2)).T,
               float(rng.uniform(0.3, 0.99)), np.array([0.0, 1.0]))


@exercise("discounted_returns")
def check_discounted_returns(discounted_returns: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``discounted_returns(rewards, gamma, last_value=0.0) -> returns``, (..., T) in and out."""
    run = CheckRun("discounted_returns", hidden)
    for case, rewards, gamma, last in run.cases(_returns_cases(hidden)):
        with run.case():
            kwargs = {} if last is None else {"last_value": last}
            got = call_student(discounted_returns, rewards, gamma, name="discounted_returns", **kwargs)
            value = 0.0 if last is None else last
            expected = ref.discounted_returns(rewards, gamma, value)
            lecture = _returns_from(rewards, gamma, value, absolute=True)
            expect_float64_like(got, expected, what="the returns", case=case)
            expect_array(got, expected, what="the returns", case=case, mistakes=[
                Mistake(lecture if gamma not in (0.0, 1.0) else None,
                        "discount by the distance from t: G_t = Σ_k γ^(k−t) r_k. The lecture's γ^k counts from the "
                        "episode's start, so later returns come out too small."),
                Mistake(_returns_from(rewards, gamma, value, forward=True),
                        "the discount is applied from the wrong end: G_t sums the rewards from t to the end "
                        "(G_t = r_t + γ G_(t+1)), so loop backwards from the last step."),
                Mistake(_returns_from(rewards, gamma, value, bootstrap="none") if np.any(value) else None,
                        "add the value of where the episode was cut: G_(T−1) = r_(T−1) + γ·last_value (a truncated "
                        "episode still has a future).", partial=True),
                Mistake(_returns_from(rewards, gamma, value, bootstrap="undiscounted") if np.any(value) else None,
                        "last_value is one step after the last reward: discount it too, G_(T−1) = r_(T−1) + γ·"
                        "last_value.", partial=True),
                Mistake(ref.discounted_returns(rewards, 1.0, value) if gamma != 1.0 else None,
                        "multiply by γ once per step: G_t = r_t + γ G_(t+1)."),
            ])
    run.passed()


# --------------------------------------------------------------------------- epsilon-greedy

_DRAWS = 2000


def _draw_actions(fn: Callable[..., Any], q: np.ndarray, epsilon: float, seed: int, n: int) -> list[Any]:
    """``n`` calls of the student's ε-greedy with one generator seeded ``seed`` (run inside the guard)."""
    rng = np.random.default_rng(seed)
    return [fn(q, epsilon, rng) for _ in range(n)]


def _greedy_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, float]]:
    rng = case_rng(hidden, SALT + 1)
    yield "Q = [1, 3, 3, 0] (two greedy actions tied), ε = 0.2", np.array([1.0, 3.0, 3.0, 0.0]), 0.2
    yield "Q = [0.5, -1, 0.2] (one greedy action), ε = 0.5", np.array([0.5, -1.0, 0.2]), 0.5
    if hidden:
        yield "ε = 0 with three actions tied", np.array([2.0, 2.0, -1.0, 2.0]), 0.0
        yield "ε = 1 (always random)", rng.standard_normal(5), 1.0
        yield "all actions tied (a fresh Q table of zeros), ε = 0.1", np.zeros(4), 0.1
        yield "integer Q values with a tie, ε = 0.3", np.array([3, 1, 3]), 0.3
        yield "a single action, ε = 0.5", np.array([0.7]), 0.5


@exercise("epsilon_greedy")
def check_epsilon_greedy(epsilon_greedy: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``epsilon_greedy(q_values, epsilon, rng) -> action`` by the frequencies of its actions."""
    run = CheckRun("epsilon_greedy", hidden)
    for k, (case, q, eps) in enumerate(run.cases(_greedy_cases(hidden))):
        with run.case():
            seed = 1000 * int(hidden) + k
            first = call_student(epsilon_greedy, q, eps, np.random.default_rng(seed), name="epsilon_greedy")
            if isinstance(first, (bool, np.bool_)) or not isinstance(first, (int, np.integer)):
                shown = f"an array of shape {first.shape}" if isinstance(first, np.ndarray) else repr(first)
                raise CheckFailure(f"epsilon_greedy should return one action, an int in 0..{q.size - 1}; got "
                                   f"{shown} ({case}).\n  Hint: return int(action) (gymnasium's env.step takes an "
                                   f"int).")
            actions = call_student(_draw_actions, epsilon_greedy, q, eps, seed, _DRAWS, name="epsilon_greedy")
            bad = [a for a in actions if not isinstance(a, (int, np.integer)) or not 0 <= int(a) < q.size]
            if bad:
                raise CheckFailure(f"epsilon_greedy returned {bad[0]!r}; actions are ints in 0..{q.size - 1} "
                                   f"({case}).")
            freq = np.bincount(np.asarray(actions, dtype=np.int64), minlength=q.size) / _DRAWS
            expected = ref.epsilon_greedy_probs(q, eps)
            greedy = q == q.max()
            first_only = np.zeros(q.size)
            first_only[np.argmax(q)] = 1.0
            others = ~greedy
            explore_others = (1 - eps) * greedy / greedy.sum() + (eps * others / others.sum() if others.any() else 0)
            tol = 5 * np.sqrt(0.25 / _DRAWS)
            expect_array(freq, expected, what=f"the frequencies of the actions in {_DRAWS} draws", case=case,
                         rtol=0.0, atol=tol, mistakes=[
                             Mistake(eps / q.size + (1 - eps) * first_only if greedy.sum() > 1 else None,
                                     "break ties among the greedy actions at random (e.g. rng.choice over "
                                     "np.flatnonzero(q == q.max())): np.argmax always picks the first, so the "
                                     "other tied actions are never tried greedily."),
                             Mistake(explore_others if others.any() and 0 < eps else None,
                                     "exploring picks uniformly among *all* actions, the greedy ones included "
                                     "(probability ε/A each)."),
                             Mistake(ref.epsilon_greedy_probs(q, 1 - eps) if eps != 0.5 else None,
                                     "explore with probability ε (rng.random() < ε), exploit otherwise: ε is the "
                                     "exploration rate."),
                         ])
            again = call_student(_draw_actions, epsilon_greedy, q, eps, seed, 50, name="epsilon_greedy")
            random_here = eps > 0 or greedy.sum() > 1  # otherwise every draw is the one greedy action
            if random_here and [int(a) for a in again] != [int(a) for a in actions[:50]]:
                raise CheckFailure(
                    f"two generators seeded alike gave different actions ({case}).\n  Hint: draw every random "
                    f"number from the rng argument (rng.random(), rng.integers(), rng.choice()), not from np.random "
                    f"or the random module: then a seeded run is reproducible.")
    run.passed()


# --------------------------------------------------------------------------- Q-learning update


def _q_cases(hidden: bool) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(description, (q, state, action, reward, next_state, terminated, truncated, alpha, gamma))."""
    rng = case_rng(hidden, SALT + 2)

    def table(s: int, a: int) -> np.ndarray:
        return np.round(rng.standard_normal((s, a)) * 2, 3)

    yield "a step inside the episode (s=1, a=2, s'=3), α = 0.5, γ = 0.9", (table(5, 3), 1, 2, 1.0, 3, False, False,
                                                                           0.5, 0.9)
    yield "a step into a terminal state (terminated=True)", (table(5, 3), 0, 1, -1.0, 4, True, False, 0.1, 0.9)
    yield "a step cut by the time limit (truncated=True, not terminated)", (table(4, 2), 2, 0, 0.5, 1, False, True,
                                                                            0.3, 0.95)
    if hidden:
        yield "terminated and truncated at once", (table(4, 3), 3, 2, 2.0, 0, True, True, 0.5, 0.9)
        yield "a self-loop (s' = s)", (table(3, 4), 1, 3, 0.0, 1, False, False, 0.5, 0.9)
        yield "α = 1 and γ = 0", (table(4, 4), 2, 1, 3.0, 0, False, False, 1.0, 0.0)
        yield "an integer Q table (int64) and an integer reward", (rng.integers(-3, 4, size=(4, 3)), 0, 0, 1, 2,
                                                                   False, False, 0.5, 0.9)
        s, a = int(rng.integers(3, 8)), int(rng.integers(2, 5))
        yield (f"a random table of shape ({s}, {a}), γ = 1", (table(s, a), int(rng.integers(s)), int(rng.integers(a)),
               float(rng.standard_normal()), int(rng.integers(s)), False, bool(rng.integers(2)), 0.2, 1.0))


def _q_variant(args: tuple[Any, ...], *, bootstrap: str = "right", target_row: str = "next",
               alpha: float | None = None) -> np.ndarray:
    q, s, a, r, s2, term, trunc, al, gamma = args
    new = np.asarray(q, dtype=np.float64).copy()
    done = {"right": term, "always": False, "either": term or trunc}[bootstrap]
    future = {"next": new[s2].max(), "same": new[s].max(), "action": new[s2, a]}[target_row]
    target = float(r) + (0.0 if done else gamma * future)
    new[s, a] += (al if alpha is None else alpha) * (target - new[s, a])
    return new


@exercise("q_learning_update")
def check_q_learning_update(q_learning_update: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``q_learning_update(q, state, action, reward, next_state, terminated, truncated, alpha, gamma) -> q_new``."""
    run = CheckRun("q_learning_update", hidden)
    for case, args in run.cases(_q_cases(hidden)):
        with run.case():
            got = call_student(q_learning_update, *args, name="q_learning_update")
            expected = ref.q_learning_update(*args)
            q, s, a, r, s2, term, trunc, al, gamma = args
            differs = not np.isclose(np.asarray(q)[s2].max(), np.asarray(q)[s2, a])
            expect_float64_like(got, expected, what="the new Q table", case=case)
            expect_array(got, expected, what="the new Q table", case=case, mistakes=[
                Mistake(_q_variant(args, bootstrap="always") if term else None,
                        "no bootstrap on a terminal state: when terminated, the target is just r (nothing follows "
                        "a terminal state).", partial=True),
                Mistake(_q_variant(args, bootstrap="either") if trunc and not term else None,
                        "truncation is not termination: an episode cut by the time limit still bootstraps, "
                        "y = r + γ max_a' Q(s', a'); only `terminated` stops it.", partial=True),
                Mistake(_q_variant(args, target_row="same") if not term and s != s2 else None,
                        "the target looks ahead: max over Q[next_state], not Q[state].", partial=True),
                Mistake(_q_variant(args, target_row="action") if not term and differs else None,
                        "Q-learning bootstraps with the best next action, max_a' Q(s', a'), not Q(s', a) (that "
                        "would follow the action just taken).", partial=True),
                Mistake(_q_variant(args, alpha=1.0) if al != 1.0 else None,
                        "move Q(s, a) a step α towards the target, Q + α (y − Q), rather than replacing it by y."),
            ])
    run.passed()


# --------------------------------------------------------------------------- DQN loss (PyTorch)


def _dqn_cases(hidden: bool) -> Iterator[tuple[str, tuple[np.ndarray, ...], float]]:
    """(description, (q, actions, rewards, next_q, terminated), gamma)."""
    rng = case_rng(hidden, SALT + 3)

    def batch(n: int, k: int, done: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        d = rng.random(n) < 0.4 if done is None else done
        return (rng.standard_normal((n, k)), rng.integers(0, k, n), np.round(rng.standard_normal(n), 2),
                rng.standard_normal((n, k)), d)

    mixed = np.array([True, False, False, True, False, False])
    yield "a batch of 6 transitions (2 terminal), 3 actions, γ = 0.9", batch(6, 3, mixed), 0.9
    yield "a batch of 5, 2 actions, γ = 0.5", batch(5, 2, np.array([False, True, False, False, False])), 0.5
    if hidden:
        yield "every transition terminal", batch(4, 3, np.ones(4, bool)), 0.9
        yield "no transition terminal, γ = 1", batch(4, 2, np.zeros(4, bool)), 1.0
        yield "a batch of one", batch(1, 4, np.zeros(1, bool)), 0.99
        tie = batch(5, 3, np.array([False, False, True, False, True]))
        tie[3][:, :2] = 1.5  # the target network's best actions tied
        yield "tied maxima in next_q_values", tie, 0.9
        n = int(rng.integers(3, 9))
        yield f"a random batch of {n}, γ = 0", batch(n, 3), 0.0


def _torch_loss(value: Any, what: str, case: str) -> Any:
    import torch

    if not isinstance(value, torch.Tensor):
        raise CheckFailure(f"{what} should be a torch.Tensor (the loss you call .backward() on), got "
                           f"{type(value).__name__} ({case}).\n  Hint: keep it a tensor: no .item() or float().")
    if value.numel() != 1:
        raise CheckFailure(f"{what} should be a single number (a 0-dim tensor), got shape {tuple(value.shape)} "
                           f"({case}).\n  Hint: average over the batch with .mean().")
    if not value.requires_grad:
        raise CheckFailure(f"{what} does not depend on the inputs' gradients: it has no graph ({case}).\n  Hint: "
                           f"compute it from q_values (log_probs) with torch operations, not under torch.no_grad() "
                           f"and not through NumPy.")
    return value


def _grad(t: Any) -> np.ndarray:
    return np.zeros(tuple(t.shape)) if t.grad is None else t.grad.detach().cpu().numpy()


@exercise("dqn_loss")
def check_dqn_loss(dqn_loss: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``dqn_loss(q_values, actions, rewards, next_q_values, terminated, gamma) -> loss`` (PyTorch).

    The MSE between Q(s, a) and y = r + γ (1 − terminated) max_a' Q_target(s', a'), with no
    gradient reaching ``next_q_values``.
    """
    import torch

    run = CheckRun("dqn_loss", hidden)
    for case, (q, a, r, nq, done), gamma in run.cases(_dqn_cases(hidden)):
        with run.case():
            tq = torch.tensor(q, requires_grad=True)
            tnq = torch.tensor(nq, requires_grad=True)  # as the target network's output, with a graph
            # terminated as 0/1 floats, as a replay buffer stores it (1 − terminated is then plain arithmetic)
            loss = call_student(dqn_loss, tq, torch.tensor(a), torch.tensor(r), tnq, torch.tensor(done, dtype=torch.float64),
                                gamma, name="dqn_loss")
            loss = _torch_loss(loss, "dqn_loss's result", case)
            expected, dq = ref.dqn_loss(q, a, r, nq, done, gamma)
            n = len(a)
            chosen = q[np.arange(n), a]

            def mse(y: np.ndarray, pred: np.ndarray = chosen) -> float:
                return float(np.mean((pred - y) ** 2))

            y = ref.dqn_targets(r, nq, done, gamma)
            diff = chosen - y
            huber = float(np.mean(np.where(np.abs(diff) < 1, 0.5 * diff**2, np.abs(diff) - 0.5)))
            expect_scalar(float(loss.detach()), expected, what="the loss", case=case, mistakes=[
                Mistake(mse(r + gamma * nq.max(axis=1)) if done.any() and gamma > 0 else None,
                        "no bootstrap on terminal states: multiply the future term by (1 − terminated), "
                        "y = r + γ (1 − terminated) max_a' Q_target(s', a').", partial=True),
                Mistake(mse(ref.dqn_targets(r, q, done, gamma)) if gamma > 0 and (~done).any() else None,
                        "the target uses the target network's values of the *next* states, next_q_values, not "
                        "q_values.", partial=True),
                Mistake(mse(y, q.max(axis=1)) if not np.allclose(q.max(axis=1), chosen) else None,
                        "predict Q(s, a) for the action taken: q_values.gather(1, actions[:, None]), not the "
                        "maximum over actions.", partial=True),
                Mistake(float(np.sum(diff**2)) if n > 1 else None,
                        "average over the batch (mean), not the sum."),
                Mistake(huber if np.abs(diff).max() > 1 else None,
                        "this exercise uses the squared error (the lecture's loss), not the Huber loss.",
                        partial=True),
                Mistake(mse((r + gamma * nq.max(axis=1)) * (1 - done)) if done.any() and r[done].any() else None,
                        "the reward of a terminal step still counts: only the bootstrap term is masked, "
                        "y = r + γ (1 − terminated) max Q_target.", partial=True),
            ])
            loss.backward()
            expect_array(_grad(tq), dq, what="the gradient of the loss with respect to q_values", case=case,
                         rtol=1e-7, atol=1e-10)
            leaked = _grad(tnq)
            if np.any(leaked != 0):
                raise CheckFailure(
                    f"the loss sends gradients into next_q_values (the target network): |grad| up to "
                    f"{np.abs(leaked).max():.3g} ({case}).\n  Hint: the target is a constant: compute it under "
                    f"torch.no_grad() or .detach() next_q_values, so that only Q(s, a) is trained.")
    run.passed()


# --------------------------------------------------------------------------- REINFORCE loss (PyTorch)


def _reinforce_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, float | None]]:
    """(description, log_probs, returns, eps or None for the default)."""
    rng = case_rng(hidden, SALT + 4)

    def log_probs(*shape: int) -> np.ndarray:
        return np.log(rng.uniform(0.05, 0.95, size=shape))

    yield "one episode of 6 steps", log_probs(6), rng.standard_normal(6) * 3 + 5, None
    yield "a batch of 3 episodes of 4 steps, shape (3, 4)", log_probs(3, 4), rng.standard_normal((3, 4)) * 10, None
    if hidden:
        yield "equal returns (std 0: the eps keeps it finite)", log_probs(5), np.full(5, 7.0), None
        yield "a batch of shape (2, 5), eps = 0.1", log_probs(2, 5), rng.standard_normal((2, 5)) + 20, 0.1
        yield "two time steps", log_probs(2), np.array([1.0, 3.0]), None
        t = int(rng.integers(10, 40))
        yield f"a CartPole-like episode of {t} steps", log_probs(t), ref.discounted_returns(np.ones(t), 0.99), None


@exercise("reinforce_loss")
def check_reinforce_loss(reinforce_loss: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``reinforce_loss(log_probs, returns, eps=1e-8) -> loss`` (PyTorch): −mean(log π · normalised G)."""
    import torch

    run = CheckRun("reinforce_loss", hidden)
    for case, lp, g, eps in run.cases(_reinforce_cases(hidden)):
        with run.case():
            tlp = torch.tensor(lp, requires_grad=True)
            kwargs = {} if eps is None else {"eps": eps}
            loss = call_student(reinforce_loss, tlp, torch.tensor(g), name="reinforce_loss", **kwargs)
            loss = _torch_loss(loss, "reinforce_loss's result", case)
            e = 1e-8 if eps is None else eps
            expected, dlp = ref.reinforce_loss(lp, g, e)
            adv = ref.normalize_returns(g, e)

            def pg(a: np.ndarray, sign: float = -1.0) -> float:
                return float(sign * np.mean(lp * a))

            spread = g.std() > 0
            axis_variants = [
                (g - g.mean(axis=ax, keepdims=True)) / (g.std(axis=ax, keepdims=True) + e) for ax in (0, 1)
            ] if g.ndim == 2 else []
            expect_scalar(float(loss.detach()), expected, what="the loss", case=case, rtol=1e-6, atol=1e-9, mistakes=[
                Mistake(pg(adv, +1.0) if expected != 0 else None,
                        "mind the sign: the loss is −mean(log π(a|s) · Â). Gradient *descent* on it raises the "
                        "log-probability of actions followed by high returns."),
                Mistake(pg(g) if spread else None,
                        "normalise the returns first: Â = (G − mean G) / (std G + eps)."),
                Mistake(pg((g - g.mean()) / (g.std(ddof=1) + e)) if spread and g.size > 1 else None,
                        "use the population std (ddof = 0): torch's .std() divides by n − 1 by default, so write "
                        ".std(correction=0) (or unbiased=False)."),
                Mistake(pg(g - g.mean()) if spread else None,
                        "divide by the std as well: Â = (G − mean G) / (std G + eps)."),
                Mistake(float(-np.sum(lp * adv)) if g.size > 1 else None,
                        "average over the time steps (mean), not the sum."),
                *[Mistake(pg(v), "normalise over all time steps of the batch at once (mean and std of every entry), "
                          "not per row or per column.", name="axis") for v in axis_variants],
            ], nonfinite_hint="add eps to the std: equal returns have std 0.")
            loss.backward()
            expect_array(_grad(tlp), dlp, what="the gradient of the loss with respect to log_probs", case=case,
                         rtol=1e-6, atol=1e-10)
    run.passed()
