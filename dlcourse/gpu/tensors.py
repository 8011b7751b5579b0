"""Tensors as data in PyTorch: the twin of :mod:`dlcourse.ref.tensors`.

Outputs stay on the input's device. :func:`minibatches` draws its permutation from the same
NumPy ``rng`` as the reference, so both twins yield the same batches for the same seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

__all__ = [
    "tensor_bytes", "one_hot", "minibatches", "pairwise_distances",
]


def tensor_bytes(shape: tuple[int, ...], dtype: Any) -> int:
    """Bytes of a dense tensor: (number of elements) × (bytes per element).

    ``dtype`` is a ``torch.dtype`` (``torch.float32``) or anything ``np.dtype`` accepts.
    """
    count = 1
    for size in shape:
        count *= int(size)
    if isinstance(dtype, torch.dtype):
        itemsize = torch.empty((), dtype=dtype).element_size()
    else:
        itemsize = np.dtype(dtype).itemsize
    return count * itemsize


def one_hot(y: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """(N,) integer labels → (N, C) float64 one-hot rows, on y's device (C = max(y) + 1 if None)."""
    y = torch.as_tensor(y)
    if y.ndim != 1:
        raise ValueError(f"y has shape {tuple(y.shape)}; expected (N,), one label per example")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.numel() else 0
    out = torch.zeros((y.shape[0], int(num_classes)), dtype=torch.float64, device=y.device)
    out[torch.arange(y.shape[0], device=y.device), y.long()] = 1.0
    return out


def minibatches(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    rng: np.random.Generator | int | None,
    shuffle: bool = True,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of mini-batches (X_batch (B, ...), y_batch (B, ...)); the last may be smaller.

    The permutation comes from the NumPy ``rng`` (a fresh one each call, hence each epoch), so
    the batches equal :func:`dlcourse.ref.minibatches`' for the same generator state.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} examples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size}; it must be at least 1")
    order = np.random.default_rng(rng).permutation(n) if shuffle else np.arange(n)
    index = torch.as_tensor(order, device=X.device)
    for start in range(0, n, batch_size):
        idx = index[start : start + batch_size]
        yield X[idx], y[idx.to(y.device)]


def pairwise_distances(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """(N, D), (M, D) → (N, M) Euclidean distances by broadcasting (N, 1, D) − (1, M, D)."""
    diff = A[:, None, :] - B[None, :, :]
    return torch.sqrt((diff * diff).sum(dim=-1))
