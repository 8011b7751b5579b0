"""MNIST, Fashion-MNIST and CIFAR-10 as NumPy arrays, fetched into the cache on first use."""

from __future__ import annotations

import os

import numpy as np

from dlcourse.data.download import fetch
from dlcourse.data.errors import DatasetFormatError
from dlcourse.data.formats import read_cifar_batches, read_idx

__all__ = ["load_mnist", "load_fashion_mnist", "load_cifar10"]

# The same names in both sets: Fashion-MNIST is a drop-in replacement for MNIST.
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_CIFAR_BATCHES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
_CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
_N_CLASSES = 10


def _check_kind(kind: str) -> str:
    if kind not in ("train", "test"):
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    return kind


def _finish(images: np.ndarray, labels: np.ndarray, *, normalize: bool, flatten: bool, where: str) -> tuple[np.ndarray, np.ndarray]:
    if images.shape[0] != labels.shape[0]:
        raise DatasetFormatError(f"{where}: {images.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= _N_CLASSES):
        raise DatasetFormatError(f"{where}: labels outside 0..{_N_CLASSES - 1} (found {labels.min()}..{labels.max()})")
    X: np.ndarray = images
    if normalize:
        # float32: 60000 MNIST images are 188 MB in float32, twice that in float64, and no gradient
        # is checked on them.
        X = images.astype(np.float32) / np.float32(255.0)
    if flatten:
        X = X.reshape(X.shape[0], -1)
    return X, labels.astype(np.int64)


def _load_idx_set(
    name: str,
    kind: str,
    *,
    data_home: str | os.PathLike[str] | None,
    download: bool,
    normalize: bool,
    flatten: bool,
) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = _IDX_FILES[_check_kind(kind)]
    folder = fetch(name, data_home=data_home, download=download, files=(image_file, label_file))
    images = read_idx(folder / image_file, ndim=3)
    labels = read_idx(folder / label_file, ndim=1)
    if images.shape[1:] != (28, 28):
        raise DatasetFormatError(f"{folder / image_file}: images are {images.shape[1:]}, expected (28, 28)")
    return _finish(images[:, None], labels, normalize=normalize, flatten=flatten, where=str(folder))


def load_mnist(
    kind: str = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
    normalize: bool = True,
    flatten: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits (downloaded once, 11 MB, verified by MD5).

    Args:
        kind: "train" (60000 images) or "test" (10000).
        data_home: cache root; default ``$DLCOURSE_DATA`` or ``~/.cache/dlcourse``.
        download: fetch missing files; if False, a missing file raises DatasetUnavailableError.
        normalize: float32 pixels in [0, 1]; otherwise the raw uint8 0..255.
        flatten: (N, 784) rows instead of (N, 1, 28, 28) images.

    Returns:
        X: (N, 1, 28, 28) or (N, 784); float32 if ``normalize`` else uint8.
        y: (N,) int64 in 0..9.

    Offline, the error names ``dlcourse.data.load_digits()``, which needs no download.
    """
    return _load_idx_set(
        "mnist", kind, data_home=data_home, download=download, normalize=normalize, flatten=flatten
    )


def load_fashion_mnist(
    kind: str = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
    normalize: bool = True,
    flatten: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST clothing images (Zalando; 30 MB, verified by MD5), laid out exactly as MNIST.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
    8 Bag, 9 Ankle boot.

    Args:
        kind: "train" (60000 images) or "test" (10000).
        data_home: cache root; default ``$DLCOURSE_DATA`` or ``~/.cache/dlcourse``.
        download: fetch missing files; if False, a missing file raises DatasetUnavailableError.
        normalize: float32 pixels in [0, 1]; otherwise the raw uint8 0..255.
        flatten: (N, 784) rows instead of (N, 1, 28, 28) images.

    Returns:
        X: (N, 1, 28, 28) or (N, 784); float32 if ``normalize`` else uint8.
        y: (N,) int64 in 0..9.
    """
    return _load_idx_set(
        "fashion_mnist", kind, data_home=data_home, download=download, normalize=normalize, flatten=flatten
    )


def load_cifar10(
    kind: str = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
    normalize: bool = True,
    flatten: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 colour images (python version, 163 MB download, verified by MD5).

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.

    Args:
        kind: "train" (50000 images, data_batch_1..5) or "test" (10000, test_batch).
        data_home: cache root; default ``$DLCOURSE_DATA`` or ``~/.cache/dlcourse``.
        download: fetch the archive if missing; if False, a missing archive raises DatasetUnavailableError.
        normalize: float32 pixels in [0, 1]; otherwise the raw uint8 0..255.
        flatten: (N, 3072) rows (channel-major, as published) instead of (N, 3, 32, 32) images.

    Returns:
        X: (N, 3, 32, 32) or (N, 3072); float32 if ``normalize`` else uint8.
        y: (N,) int64 in 0..9.
    """
    batches = _CIFAR_BATCHES[_check_kind(kind)]
    folder = fetch("cifar10", data_home=data_home, download=download, files=(_CIFAR_ARCHIVE,))
    images, labels = read_cifar_batches(folder / _CIFAR_ARCHIVE, batches)
    return _finish(images, labels, normalize=normalize, flatten=flatten, where=str(folder / _CIFAR_ARCHIVE))
