"""Lecture 09's two trainings at the notebook's sizes: time and result, per thread count.

- the lecture's CNN (``dlcourse.gpu.cnns.SimpleCNN(8)``, Dense(1024)) on scikit-learn's 8×8 digits,
  1400 for training and 397 held out (the notebook's split), Adam 1e-3, batch 64: seconds and
  held-out accuracy after each epoch;
- the tiny segmenter (width 16) on 400 synthetic 16×16 shapes (320 for training), Adam 3e-3,
  batch 16: seconds and held-out mean IoU after the notebook's 40 epochs.

Both run through ``dlcourse.gpu.cnns.fit`` with ``train_epoch``, as the notebook does, on the CPU
with ``torch.set_num_threads(t)`` for each thread count (``fit`` itself trains on one thread by
default: this script shows why). Nothing is asserted.

    python benchmarks/cnns.py [--threads 1 2] [--epochs 5] [--seg-epochs 40]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from dlcourse.data import load_digits, shapes
from dlcourse.gpu import cnns
from dlcourse.ref.cnns import mean_iou


def digits(epochs: int) -> None:
    X, y = load_digits(flatten=False)
    order = np.random.default_rng(0).permutation(len(y))
    tr, te = order[:1400], order[1400:]
    torch.manual_seed(0)
    model = cnns.SimpleCNN(8)
    h = cnns.fit(model, X[tr], y[tr], X[te], y[te], epochs=epochs, lr=1e-3, batch_size=64, device="cpu",
                 progress=False, cpu_threads=None)
    acc = " ".join(f"{a:.3f}" for a in h.val_accuracy)
    print(f"  SimpleCNN on digits: {epochs} epochs in {h.seconds:5.1f} s; held-out accuracy per epoch {acc}")


def segmenter(epochs: int) -> None:
    images, masks = shapes(400, 16, max_shapes=1, rng=0)
    torch.manual_seed(0)
    model = cnns.TinySegmenter(1, 4, 16)
    h = cnns.fit(model, images[:320], masks[:320], images[320:], masks[320:], epochs=epochs, lr=3e-3, batch_size=16,
                 device="cpu", progress=False, cpu_threads=None)
    miou, iou = mean_iou(cnns.predict(model, images[320:]), masks[320:], 4)
    print(f"  TinySegmenter on shapes: {epochs} epochs in {h.seconds:5.1f} s; held-out IoU per class "
          f"{np.round(iou, 2).tolist()}, mean {miou:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=5, help="digits epochs (the notebook's CPU setting: 5)")
    parser.add_argument("--seg-epochs", type=int, default=40, help="segmenter epochs (the notebook's: 40)")
    args = parser.parse_args()
    for t in args.threads:
        torch.set_num_threads(t)
        print(f"{t} thread{'s' if t > 1 else ''}")
        digits(args.epochs)
        segmenter(args.seg_epochs)


if __name__ == "__main__":
    main()
