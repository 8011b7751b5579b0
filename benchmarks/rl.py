"""Lecture 13's numbers: the NumPy losses against PyTorch, and REINFORCE on CartPole to its threshold.

1. **Losses** (CPU, float64, best-of-repeats ms and the ratio numpy / torch, > 1: NumPy is slower):
   ``dlcourse.ref.rl.dqn_loss`` (loss and gradient written out) against ``F.mse_loss`` on gathered
   values + autograd, and ``dlcourse.ref.rl.reinforce_loss`` against ``-(log_probs * adv).mean()`` +
   autograd, at a replay batch (N = 256, A = 4) and a CartPole batch of episodes (N = 2000);
   ``discounted_returns`` of 4 episodes × 500 steps, NumPy against its torch twin. The target is a
   ratio ≤ 2: the lesson's NumPy must not be the bottleneck of a notebook.
2. **Training** (``--train``): the notebook's REINFORCE run (``reinforce_setup("cpu")``, one torch
   thread) for each seed: training episodes, wall and CPU seconds until the last 20 training
   episodes average the setup's target, and the mean/min greedy return over 20 fresh episodes
   against ``CARTPOLE_THRESHOLD``. On a busy machine the CPU seconds are the better estimate of an
   idle core's wall time.

Nothing is asserted.

    python benchmarks/rl.py [--quick] [--repeats R] [--train] [--seeds 0 1 2 ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conv import best_ms, geomean  # noqa: E402  (one timing loop for every benchmark)


def losses(repeats: int, target: float) -> None:
    import torch
    import torch.nn.functional as F

    from dlcourse.gpu import rl as G
    from dlcourse.ref import rl as R

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{'what':>34} | {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}")
    ratios = []
    for n, a in ((256, 4), (2000, 2)):
        q, nq = rng.standard_normal((n, a)), rng.standard_normal((n, a))
        acts, r, done = rng.integers(0, a, n), rng.standard_normal(n), (rng.random(n) < 0.1).astype(float)
        tq, tnq = torch.tensor(q, requires_grad=True), torch.tensor(nq)
        ta, tr, tdone = torch.tensor(acts), torch.tensor(r), torch.tensor(done)

        def np_dqn() -> object:
            return R.dqn_loss(q, acts, r, nq, done, 0.99)

        def pt_dqn() -> object:
            with torch.no_grad():
                y = tr + 0.99 * (1 - tdone) * tnq.max(1).values
            loss = F.mse_loss(tq.gather(1, ta[:, None]).squeeze(1), y)
            return torch.autograd.grad(loss, tq)

        lp, g = np.log(rng.uniform(0.05, 0.95, n)), rng.standard_normal(n) * 50 + 100
        tlp, tg = torch.tensor(lp, requires_grad=True), torch.tensor(g)

        def np_pg() -> object:
            return R.reinforce_loss(lp, g)

        def pt_pg() -> object:
            adv = (tg - tg.mean()) / (tg.std(correction=0) + 1e-8)
            return torch.autograd.grad(-(tlp * adv).mean(), tlp)

        for name, fa, fb in ((f"dqn_loss + grad, N={n}, A={a}", np_dqn, pt_dqn),
                             (f"reinforce_loss + grad, N={n}", np_pg, pt_pg)):
            ms_np, ms_pt = best_ms([fa, fb], repeats, target)
            ratios.append(ms_np / ms_pt)
            print(f"{name:>34} | {ms_np:9.4f} {ms_pt:9.4f} {ms_np / ms_pt:6.2f}")
    rewards = np.ones((4, 500))
    trew = torch.tensor(rewards)
    ms_np, ms_pt = best_ms([lambda: R.discounted_returns(rewards, 0.99), lambda: G.discounted_returns(trew, 0.99)],
                           repeats, target)
    ratios.append(ms_np / ms_pt)
    print(f"{'discounted_returns 4 x 500':>34} | {ms_np:9.4f} {ms_pt:9.4f} {ms_np / ms_pt:6.2f}")
    print(f"geometric mean of the ratios: {geomean(ratios):.2f} (target ≤ 2)")


def train(seeds: list[int]) -> None:
    import torch

    from dlcourse.gpu.rl import CARTPOLE_THRESHOLD, PolicyNet, evaluate_policy, reinforce_setup, train_reinforce

    setup = reinforce_setup("cpu")
    print(f"\nREINFORCE on CartPole-v1, {setup.episodes_per_update} episodes per update, target {setup.target:g} "
          f"(last 20 training episodes), threshold {CARTPOLE_THRESHOLD:g} (mean of 20 greedy episodes), 1 thread")
    print(f"{'seed':>4} | {'episodes':>8} {'wall s':>7} {'cpu s':>6} | {'eval mean':>9} {'eval min':>8} {'solved':>6}")
    torch.set_num_threads(1)
    walls, means = [], []
    for seed in seeds:
        torch.manual_seed(seed)
        policy = PolicyNet(hidden=setup.hidden)
        cpu0 = time.process_time()
        history = train_reinforce(policy, setup, seed=seed)
        cpu = time.process_time() - cpu0
        scores = evaluate_policy(policy, episodes=20)
        walls.append(history.seconds)
        means.append(scores.mean())
        print(f"{seed:4d} | {len(history.returns):8d} {history.seconds:7.1f} {cpu:6.1f} | {scores.mean():9.1f} "
              f"{scores.min():8.0f} {'yes' if scores.mean() >= CARTPOLE_THRESHOLD else 'NO':>6}")
    print(f"training wall s: {min(walls):.1f}–{max(walls):.1f}; greedy mean return: {min(means):.1f}–{max(means):.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 3 seeds")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--train", action="store_true", help="also time the notebook's REINFORCE run")
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    losses(repeats, 0.02 if args.quick else 0.1)
    if args.train:
        train(args.seeds or (list(range(3)) if args.quick else list(range(10))))


if __name__ == "__main__":
    main()
