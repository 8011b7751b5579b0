"""Tensors as data: memory footprint, one-hot labels, shuffled mini-batches, pairwise distances."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = [
    "tensor_bytes", "one_hot", "minibatches", "pairwise_distances",
]


def tensor_bytes(shape: tuple[int, ...], dtype: Any) -> int:
    """Bytes held by a dense tensor: (number of elements) × (bytes per element).

    Args:
        shape: the tensor's shape, e.g. (55000, 784); () is a scalar (one element).
        dtype: anything ``np.dtype`` accepts: ``np.float32``, ``"float64"``, ``np.int8`` …

    Returns:
        A Python int; 55000 × 784 float32 values take 55000 · 784 · 4 = 172,480,000 bytes.
    """
    count = 1
    for size in shape:  # Python ints never overflow (np.prod of int32 would, on some platforms)
        count *= int(size)
    return count * np.dtype(dtype).itemsize


def one_hot(y: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Rows of the identity picked by the labels: out[n, c] = 1 if y[n] == c else 0.

    Args:
        y: (N,) integer labels in [0, C).
        num_classes: C; ``max(y) + 1`` when None (give it explicitly when a batch may miss classes).

    Returns:
        (N, C) float64 (ready to be multiplied with probabilities in a loss).
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y has shape {y.shape}; expected (N,), one label per example")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    out = np.zeros((y.shape[0], int(num_classes)), dtype=np.float64)
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    rng: np.random.Generator | int | None,
    shuffle: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of mini-batches ``(X_batch, y_batch)`` in a fresh random order.

    Each call draws a new permutation from ``rng``, so calling it once per epoch with the same
    Generator reshuffles every epoch; two Generators with the same seed give the same epochs.
    Every example appears exactly once; the last batch is smaller when N is not a multiple
    of ``batch_size`` (it is kept, not dropped).

    Args:
        X: (N, ...) inputs.
        y: (N, ...) targets, aligned with X.
        batch_size: B ≥ 1.
        rng: a ``np.random.Generator`` (or a seed for a new one).
        shuffle: False yields the batches in the original order (for evaluation).

    Yields:
        X_batch (B, ...), y_batch (B, ...); the last pair has N mod B rows if that is not 0.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} examples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size}; it must be at least 1")
    order = np.random.default_rng(rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


def pairwise_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row of A and every row of B, without a Python loop.

    ``A[:, None, :] - B[None, :, :]`` broadcasts (N, 1, D) against (1, M, D) to (N, M, D): every
    difference at once. That needs N·M·D memory; the expansion ‖a‖² + ‖b‖² − 2 a·b needs only
    N·M but loses accuracy for nearby points (and can dip below 0 by rounding).

    Args:
        A: (N, D); B: (M, D).

    Returns:
        (N, M) float64 with out[i, j] = ‖A[i] − B[j]‖.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    diff = A[:, None, :] - B[None, :, :]
    return np.sqrt(np.sum(diff * diff, axis=-1))
