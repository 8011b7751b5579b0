"""Lecture 14's metrics against scikit-learn and PyTorch, and its training runs at the notebook's sizes.

Two tables, in one run:

- **metrics**: the NumPy AUROC (average ranks, ``dlcourse.ref.uncertainty.auroc``) against
  ``sklearn.metrics.roc_auc_score`` and the PyTorch twin (average ranks from ``torch.unique``), and
  the NumPy ECE against the PyTorch twin, on N scores with ties (best-of-repeats ms and the ratio
  NumPy / other: > 1 means NumPy is slower);
- **training**: the notebook's runs on the CPU with 1 and 2 torch threads: the random-label
  experiment (two MLPs on 600 digits), the dropout classifier and the deep ensemble, in seconds
  and ms per step, with the random-label run's final accuracies.

Nothing is asserted about speed; on a busy machine, run twice and trust what holds in both.

    python benchmarks/uncertainty.py [--quick] [--threads 1 2] [--repeats R]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conv import best_ms  # noqa: E402  (one timing loop for every benchmark)


def metrics(sizes: list[int], repeats: int, target: float) -> None:
    import torch
    from sklearn.metrics import roc_auc_score

    from dlcourse.gpu import uncertainty as G
    from dlcourse.ref import uncertainty as U

    print(f"\n{'N':>8} | {'auroc np':>9} {'sklearn':>9} {'ratio':>6} {'torch':>9} | {'ece np':>9} {'torch':>9} {'ratio':>6}")
    for n in sizes:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, n)
        scores = np.round(rng.random(n) + 0.3 * labels, 2)  # two decimals: many ties
        probs = rng.dirichlet(np.ones(10), size=n)
        y = rng.integers(0, 10, n)
        tl, ts, tp, ty = (torch.as_tensor(a) for a in (labels, scores, probs, y))
        fns = [lambda: U.auroc(labels, scores), lambda: roc_auc_score(labels, scores),
               lambda: U.expected_calibration_error(probs, y), lambda: G.expected_calibration_error(tp, ty),
               lambda: G.auroc(tl, ts)]
        ms = best_ms(fns, repeats, target)
        print(f"{n:8d} | {ms[0]:9.2f} {ms[1]:9.2f} {ms[0] / ms[1]:6.2f} {ms[4]:9.2f} | {ms[2]:9.2f} {ms[3]:9.2f} "
              f"{ms[2] / ms[3]:6.2f}")


def training(threads: int, quick: bool) -> None:
    import torch

    from dlcourse.data import load_digits
    from dlcourse.data.regression import gap_regression
    from dlcourse.gpu import uncertainty as G
    from dlcourse.ref.uncertainty import shuffle_labels

    torch.set_num_threads(threads)
    scale = G.experiment_scale("cpu")
    steps = 100 if quick else scale["steps"]
    x, y = load_digits()
    start = time.perf_counter()
    true_run, random_run = G.random_label_experiment(x, y, shuffle_labels, hidden=scale["hidden"], steps=steps,
                                                     eval_every=steps, device="cpu")
    labels_s = time.perf_counter() - start
    start = time.perf_counter()
    G.train_classifier(x[:500], y[:500], x[500:], y[500:], hidden=scale["hidden"], steps=steps, dropout=0.3,
                       eval_every=steps, device="cpu")
    classifier_s = time.perf_counter() - start
    ens_steps = 200 if quick else scale["ensemble_steps"]
    xr, yr = gap_regression(60, 0.2, 1.5)
    start = time.perf_counter()
    G.train_ensemble(xr, yr, n_members=scale["members"], steps=ens_steps, device="cpu")
    ensemble_s = time.perf_counter() - start
    print(f"{threads} thread{'s' if threads > 1 else ' '} | random labels {labels_s:6.2f} s ({labels_s / (2 * steps) * 1e3:5.1f} "
          f"ms/step; train {random_run.train_accuracy[-1]:.1%}, test {random_run.test_accuracy[-1]:.1%}; true labels "
          f"test {true_run.test_accuracy[-1]:.1%}) | classifier {classifier_s:5.2f} s | ensemble {ensemble_s:5.2f} s "
          f"({ensemble_s / ens_steps * 1e3:4.1f} ms/step)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and steps")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    metrics(sizes, 3 if args.quick else args.repeats, 0.05 if args.quick else 0.2)
    print()
    for threads in args.threads:
        training(threads, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
