"""``dlcourse.gpu.rl``: the PyTorch twins of lecture 13's reference, and REINFORCE on CartPole.

- every name of ``dlcourse.ref.rl`` has a twin with the same parameters, computing the same values
  (float64: 1e-12, float32: 1e-5, relative to the largest entry) on every device (conftest's
  ``device`` fixture: ``cuda`` marked and skipped without a GPU);
- the loss twins' autograd gradients equal the reference's written-out gradients, and no gradient
  reaches the target network's values or the returns;
- a few REINFORCE updates on CartPole run, record one return per episode and change the policy
  (a full training run is measured by the notebook, not here: see the module docstring's numbers).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from dlcourse.ref import rl as R

torch = pytest.importorskip("torch")
G = pytest.importorskip("dlcourse.gpu.rl")

PRECISION = {"float64": (torch.float64, 1e-12), "float32": (torch.float32, 1e-5)}


@pytest.fixture(params=list(PRECISION))
def prec(request):
    return PRECISION[request.param]


def close(actual, expected, tol: float) -> None:
    a = actual.detach().cpu().double().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual, float)
    b = np.asarray(expected, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


def test_every_ref_name_has_a_twin_with_the_same_parameters() -> None:
    for name in R.__all__:
        assert name in G.__all__, f"dlcourse.gpu.rl lacks {name}"
        ref_params = list(inspect.signature(getattr(R, name)).parameters.values())
        gpu_params = list(inspect.signature(getattr(G, name)).parameters.values())
        assert [(p.name, p.default) for p in gpu_params] == [(p.name, p.default) for p in ref_params], name


def test_return_twins(device, prec) -> None:
    dtype, tol = prec
    rng = np.random.default_rng(0)
    r = rng.standard_normal((3, 7)).astype(np.float32).astype(np.float64)
    last = np.array([0.0, 1.5, -2.0])
    got = G.discounted_returns(torch.tensor(r, dtype=dtype, device=device), 0.9, torch.tensor(last, dtype=dtype,
                                                                                              device=device))
    assert got.device.type == device.type and got.dtype == dtype
    close(got, R.discounted_returns(r, 0.9, last), tol)
    close(G.discounted_returns(torch.tensor(r[0], dtype=dtype, device=device), 1.0), R.discounted_returns(r[0], 1.0), tol)
    close(G.normalize_returns(torch.tensor(r, dtype=dtype, device=device)), R.normalize_returns(r), 1e-4 if dtype
          == torch.float32 else tol)
    with pytest.raises(ValueError, match="gamma"):
        G.discounted_returns(torch.ones(3), 2.0)


def test_tabular_twins(device) -> None:
    q = np.array([[0.0, 2.0, 2.0], [1.0, -1.0, 0.5]])
    tq = torch.tensor(q, device=device)
    close(G.epsilon_greedy_probs(tq[0], 0.3), R.epsilon_greedy_probs(q[0], 0.3), 1e-12)
    a = [G.epsilon_greedy(tq[0], 0.4, rng) for rng in [np.random.default_rng(2)] for _ in range(20)]
    b = [R.epsilon_greedy(q[0], 0.4, rng) for rng in [np.random.default_rng(2)] for _ in range(20)]
    assert a == b
    for terminated, truncated in [(False, False), (True, False), (False, True)]:
        new = G.q_learning_update(tq, 0, 2, 0.5, 1, terminated, truncated, 0.3, 0.9)
        assert new.device.type == device.type
        close(new, R.q_learning_update(q, 0, 2, 0.5, 1, terminated, truncated, 0.3, 0.9), 1e-12)
    close(tq, q, 0.0)  # unchanged


def test_loss_twins_and_their_gradients(device, prec) -> None:
    dtype, tol = prec
    rng = np.random.default_rng(1)
    n, k = 8, 3
    q = rng.standard_normal((n, k)).astype(np.float32).astype(np.float64)
    nq = rng.standard_normal((n, k)).astype(np.float32).astype(np.float64)
    a, r, done = rng.integers(0, k, n), rng.standard_normal(n).astype(np.float32).astype(np.float64), rng.random(n) < 0.5
    tq = torch.tensor(q, dtype=dtype, device=device, requires_grad=True)
    tnq = torch.tensor(nq, dtype=dtype, device=device, requires_grad=True)
    close(G.dqn_targets(torch.tensor(r, dtype=dtype, device=device), tnq, torch.tensor(done, device=device), 0.9),
          R.dqn_targets(r, nq, done, 0.9), tol)
    loss = G.dqn_loss(tq, torch.tensor(a, device=device), torch.tensor(r, dtype=dtype, device=device), tnq,
                      torch.tensor(done, device=device), 0.9)
    assert loss.ndim == 0 and loss.dtype == dtype
    loss.backward()
    want, dq = R.dqn_loss(q, a, r, nq, done, 0.9)
    close(loss, want, tol)
    close(tq.grad, dq, tol)
    assert tnq.grad is None  # the target network gets no gradient

    lp = -rng.random((2, 6))
    g = rng.standard_normal((2, 6)) * 5
    tlp = torch.tensor(lp, dtype=dtype, device=device, requires_grad=True)
    tg = torch.tensor(g, dtype=dtype, device=device, requires_grad=True)
    loss = G.reinforce_loss(tlp, tg)
    loss.backward()
    want, dlp = R.reinforce_loss(lp, g)
    close(loss, want, 1e-4 if dtype == torch.float32 else tol)
    close(tlp.grad, dlp, 1e-4 if dtype == torch.float32 else tol)
    assert tg.grad is None  # the returns are constants


def test_reinforce_trains_a_few_updates_on_cartpole() -> None:
    torch.manual_seed(0)
    policy = G.PolicyNet(hidden=16)
    before = [p.detach().clone() for p in policy.parameters()]
    setup = G.reinforce_setup("cpu", max_episodes=6, episodes_per_update=3)
    history = G.train_reinforce(policy, setup, seed=1)
    assert len(history.returns) == 6 and len(history.losses) == 2
    assert all(r >= 1 for r in history.returns) and history.seconds > 0
    assert any(not torch.equal(p, b) for p, b in zip(policy.parameters(), before))
    scores = G.evaluate_policy(policy, episodes=3)
    assert scores.shape == (3,) and (scores >= 1).all() and (scores <= 500).all()
    # seeded: the same run twice gives the same returns
    torch.manual_seed(0)
    again = G.train_reinforce(G.PolicyNet(hidden=16), setup, seed=1)
    assert again.returns == history.returns


def test_reinforce_uses_the_loss_it_is_given() -> None:
    seen = []

    def loss_fn(log_probs, returns):
        seen.append((log_probs.shape, returns.shape))
        return G.reinforce_loss(log_probs, returns)

    torch.manual_seed(0)
    G.train_reinforce(G.PolicyNet(hidden=8), G.reinforce_setup("cpu", max_episodes=2, episodes_per_update=2), loss_fn=loss_fn)
    assert len(seen) == 1 and seen[0][0] == seen[0][1]


def test_reinforce_setup_scales_on_a_gpu() -> None:
    cpu, cuda = G.reinforce_setup("cpu"), G.reinforce_setup("cuda")
    assert cuda.time_budget >= cpu.time_budget and cuda.target >= cpu.target
    assert G.reinforce_setup("cpu", lr=0.5).lr == 0.5
    assert cpu.target >= G.CARTPOLE_THRESHOLD
