"""``dlcourse.ref.rl``: returns, ε-greedy, tabular Q-learning, the DQN and REINFORCE losses (lecture 13).

- returns: against the definition G_t = Σ_k γ^{k−t} r_k written as a sum (hypothesis over lengths,
  γ including 0 and 1, and bootstrap values), batches of episodes, integer rewards, bad input;
- ε-greedy: the sampled frequencies match :func:`epsilon_greedy_probs` (ties uniform, ε = 0, 1),
  seeded sequences repeat;
- Q-learning: one update by hand, no bootstrap on termination, bootstrap through truncation, the
  input table untouched, and a run that converges to the gridworld's value-iteration table;
- the losses' gradients against central finite differences (float64, relative error < 1e-7) and
  their values and gradients against PyTorch built-ins (``F.mse_loss`` on a gathered, detached
  target; autograd through ``-(log_probs * adv).mean()``), tolerance 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.ref import rl as R
from dlcourse.ref.gradcheck import numerical_gradient_array, rel_error


def returns_by_definition(r: np.ndarray, gamma: float, last_value: float = 0.0) -> np.ndarray:
    """G_t = Σ_{k=t}^{T−1} γ^{k−t} r_k + γ^{T−t} V, a sum per t (written differently from the reference)."""
    T = len(r)
    return np.array([sum(gamma ** (k - t) * r[k] for k in range(t, T)) + gamma ** (T - t) * last_value
                     for t in range(T)])


# ---------------------------------------------------------------- returns


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 12), gamma=st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]), seed=st.integers(0, 10_000),
       last=st.sampled_from([0.0, 2.5]))
def test_discounted_returns_equal_the_definition(T: int, gamma: float, seed: int, last: float) -> None:
    r = np.random.default_rng(seed).standard_normal(T)
    np.testing.assert_allclose(R.discounted_returns(r, gamma, last), returns_by_definition(r, gamma, last),
                               rtol=1e-12, atol=1e-12)


def test_discounted_returns_small_example_and_edge_cases() -> None:
    r = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(R.discounted_returns(r, 0.5), [1.5, 1.0, 2.0])  # 1 + 0.25·2, 0 + 0.5·2, 2
    np.testing.assert_array_equal(R.discounted_returns(r, 0.0), r)  # γ = 0: only the immediate reward
    np.testing.assert_array_equal(R.discounted_returns(r, 1.0), [3.0, 2.0, 2.0])  # γ = 1: plain sums
    # integer rewards give floats; a batch of episodes works row by row
    ints = R.discounted_returns(np.array([1, 1, 1]), 0.5)
    assert ints.dtype == np.float64
    batch = np.random.default_rng(0).standard_normal((4, 6))
    values = np.arange(4.0)
    got = R.discounted_returns(batch, 0.9, values)
    for i in range(4):
        np.testing.assert_allclose(got[i], returns_by_definition(batch[i], 0.9, values[i]), rtol=1e-12)
    assert R.discounted_returns(np.zeros(0), 0.9).shape == (0,)


def test_discounted_returns_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="gamma"):
        R.discounted_returns(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="time axis"):
        R.discounted_returns(np.float64(1.0), 0.5)
    with pytest.raises(ValueError, match="numbers"):
        R.discounted_returns(np.array(["a"]), 0.5)
    with pytest.raises(ValueError, match="one value per episode"):
        R.discounted_returns(np.ones((3, 4)), 0.5, np.ones(4))


def test_normalize_returns() -> None:
    g = np.random.default_rng(1).standard_normal((3, 5)) * 4 + 7
    a = R.normalize_returns(g)
    assert a.shape == g.shape
    assert abs(a.mean()) < 1e-12 and a.std() == pytest.approx(1.0, abs=1e-7)  # over all entries, ddof = 0
    np.testing.assert_array_equal(R.normalize_returns(np.full(4, 3.0)), np.zeros(4))  # eps: no division by 0
    with pytest.raises(ValueError, match="empty"):
        R.normalize_returns(np.zeros(0))


# ---------------------------------------------------------------- epsilon-greedy


@pytest.mark.parametrize("q, eps", [([1.0, 3.0, 3.0, 0.0], 0.0), ([1.0, 3.0, 3.0, 0.0], 0.3),
                                    ([0.0, 0.0, 0.0], 0.0), ([2.0, -1.0], 1.0), ([5.0, 1.0, 2.0], 0.5)])
def test_epsilon_greedy_samples_its_distribution(q: list[float], eps: float) -> None:
    q = np.array(q)
    probs = R.epsilon_greedy_probs(q, eps)
    assert probs.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    n = 6000
    counts = np.bincount([R.epsilon_greedy(q, eps, rng) for _ in range(n)], minlength=q.size)
    # 5 standard errors of a frequency: a fixed seed, so this never flickers
    np.testing.assert_allclose(counts / n, probs, atol=5 * np.sqrt(0.25 / n))
    if eps == 0.0:
        assert set(np.flatnonzero(counts)) == set(np.flatnonzero(q == q.max()))


def test_epsilon_greedy_probabilities_by_hand_and_reproducibility() -> None:
    np.testing.assert_allclose(R.epsilon_greedy_probs(np.array([1.0, 3.0, 3.0, 0.0]), 0.2),
                               [0.05, 0.45, 0.45, 0.05])
    q = np.array([0.0, 1.0, 1.0])
    a = [R.epsilon_greedy(q, 0.5, np.random.default_rng(7)) for _ in range(3)]
    seq1 = [R.epsilon_greedy(q, 0.5, rng) for rng in [np.random.default_rng(3)] for _ in range(30)]
    seq2 = [R.epsilon_greedy(q, 0.5, rng) for rng in [np.random.default_rng(3)] for _ in range(30)]
    assert seq1 == seq2 and len(set(a)) == 1
    assert all(type(x) is int for x in seq1)
    with pytest.raises(ValueError, match="epsilon"):
        R.epsilon_greedy(q, -0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Generator"):
        R.epsilon_greedy(q, 0.1, 3)
    with pytest.raises(ValueError, match="1-D"):
        R.epsilon_greedy(np.zeros((2, 2)), 0.1, np.random.default_rng(0))


# ---------------------------------------------------------------- Q-learning


def test_q_learning_update_by_hand() -> None:
    q = np.arange(12.0).reshape(4, 3)
    before = q.copy()
    new = R.q_learning_update(q, 1, 2, 1.0, 3, False, False, 0.5, 0.9)
    np.testing.assert_array_equal(q, before)  # the input is not changed
    want = q.copy()
    want[1, 2] = 5.0 + 0.5 * (1.0 + 0.9 * 11.0 - 5.0)
    np.testing.assert_allclose(new, want)
    # terminated: no bootstrap; truncated: bootstrap as usual
    terminal = R.q_learning_update(q, 1, 2, 1.0, 3, True, False, 0.5, 0.9)
    assert terminal[1, 2] == pytest.approx(5.0 + 0.5 * (1.0 - 5.0))
    np.testing.assert_array_equal(R.q_learning_update(q, 1, 2, 1.0, 3, False, True, 0.5, 0.9), new)
    assert R.q_learning_update(np.zeros((2, 2), dtype=int), 0, 0, 1, 1, True, False, 1.0, 0.5).dtype == np.float64
    with pytest.raises(ValueError, match="outside"):
        R.q_learning_update(q, 4, 0, 0.0, 0, False, False, 0.5, 0.9)
    with pytest.raises(ValueError, match="2-D"):
        R.q_learning_update(np.zeros(3), 0, 0, 0.0, 0, False, False, 0.5, 0.9)


def test_q_learning_converges_to_value_iteration() -> None:
    """Sweeping every (s, a) of the gridworld's model with α = 1 is value iteration: the fixed point is Q*."""
    from dlcourse.envs.gridworld import GridWorld

    env = GridWorld()
    q = np.zeros((env.n_states, env.n_actions))
    live = np.flatnonzero(~(env.terminal | env.wall))
    for _ in range(30):
        for s in live:
            for a in range(env.n_actions):
                nxt = int(env.next_state[s, a])
                q = R.q_learning_update(q, s, a, env.reward[s, a], nxt, bool(env.terminal[nxt]), False, 1.0, 0.9)
    np.testing.assert_allclose(q, env.optimal_q(0.9), atol=1e-9)


# ---------------------------------------------------------------- DQN


def dqn_batch(seed: int, n: int = 6, a: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    done = rng.random(n) < 0.4
    done[0], done[-1] = True, False
    return (rng.standard_normal((n, a)), rng.integers(0, a, n), rng.standard_normal(n), rng.standard_normal((n, a)),
            done)


def test_dqn_targets_mask_terminal_states() -> None:
    q, a, r, nq, done = dqn_batch(0)
    y = R.dqn_targets(r, nq, done, 0.9)
    np.testing.assert_allclose(y[done], r[done])
    np.testing.assert_allclose(y[~done], r[~done] + 0.9 * nq[~done].max(axis=1))


def test_dqn_loss_gradient_against_finite_differences() -> None:
    q, a, r, nq, done = dqn_batch(1)
    loss, dq = R.dqn_loss(q, a, r, nq, done, 0.9)
    num = numerical_gradient_array(lambda x: np.array(R.dqn_loss(x, a, r, nq, done, 0.9)[0]), q.copy(), np.array(1.0))
    assert rel_error(dq, num) < 1e-7
    assert np.count_nonzero(dq) <= len(a)  # only the actions taken


def test_dqn_loss_rejects_bad_shapes() -> None:
    q, a, r, nq, done = dqn_batch(2)
    with pytest.raises(ValueError, match="actions"):
        R.dqn_loss(q, a[:-1], r, nq, done, 0.9)
    with pytest.raises(ValueError, match="integers"):
        R.dqn_loss(q, a + 3, r, nq, done, 0.9)
    with pytest.raises(ValueError, match=r"\(N, A\)"):
        R.dqn_loss(q, a, r, nq[:, :2], done, 0.9)


# ---------------------------------------------------------------- REINFORCE


def test_reinforce_loss_gradient_and_sign() -> None:
    rng = np.random.default_rng(3)
    lp, g = -rng.random((2, 5)), rng.standard_normal((2, 5)) * 3 + 10
    loss, dlp = R.reinforce_loss(lp, g)
    num = numerical_gradient_array(lambda x: np.array(R.reinforce_loss(x, g)[0]), lp.copy(), np.array(1.0))
    assert rel_error(dlp, num) < 1e-7
    # descending the loss raises the log-probability of the action with the best return
    best = np.unravel_index(np.argmax(g), g.shape)
    assert dlp[best] < 0
    with pytest.raises(ValueError, match="one shape"):
        R.reinforce_loss(lp, g[0])


# ---------------------------------------------------------------- against PyTorch


def test_losses_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    q, a, r, nq, done = dqn_batch(4, n=7, a=4)
    tq = torch.tensor(q, requires_grad=True)
    tnq = torch.tensor(nq, requires_grad=True)  # as a target network's output would
    with torch.no_grad():
        y = torch.tensor(r) + 0.95 * (1 - torch.tensor(done, dtype=torch.float64)) * tnq.max(1).values
    want = F.mse_loss(tq.gather(1, torch.tensor(a)[:, None]).squeeze(1), y)
    want.backward()
    loss, dq = R.dqn_loss(q, a, r, nq, done, 0.95)
    assert loss == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(dq, tq.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert tnq.grad is None

    rng = np.random.default_rng(5)
    logits = torch.tensor(rng.standard_normal((9, 2)), requires_grad=True)
    actions = torch.tensor(rng.integers(0, 2, 9))
    log_probs = torch.log_softmax(logits, 1).gather(1, actions[:, None]).squeeze(1)
    g = torch.tensor(rng.standard_normal(9))
    adv = (g - g.mean()) / (g.std(correction=0) + 1e-8)
    torch_loss = -(log_probs * adv).mean()
    lp = log_probs.detach().numpy().copy()
    loss, dlp = R.reinforce_loss(lp, g.numpy())
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    (grad,) = torch.autograd.grad(torch_loss, log_probs)
    np.testing.assert_allclose(dlp, grad.numpy(), rtol=1e-12, atol=1e-15)
