"""Data for the lectures: synthetic 2-D sets, scikit-learn's bundled digits, and downloadable image sets.

- Synthetic (no files, seeded): :func:`spirals`, :func:`xor`, :func:`moons`, :func:`circles`.
- Embedded (ships with scikit-learn, no network): :func:`load_digits`.
- Lecture 09 (seeded): :func:`shapes` (circles, squares, triangles with masks), :func:`imbalanced_split`.
- Downloaded once into :func:`data_home` (``$DLCOURSE_DATA`` or ``~/.cache/dlcourse``) and verified by
  the published checksums in :data:`REGISTRY`: :func:`load_mnist`, :func:`load_fashion_mnist`,
  :func:`load_cifar10`, or just the files with :func:`fetch`.

Importing this package imports NumPy and the standard library only.
"""

from __future__ import annotations

from dlcourse.data.digits import load_digits
from dlcourse.data.download import data_home, fetch
from dlcourse.data.errors import ChecksumMismatchError, DatasetFormatError, DatasetUnavailableError
from dlcourse.data.formats import read_cifar_batches, read_idx
from dlcourse.data.loaders import load_cifar10, load_fashion_mnist, load_mnist
from dlcourse.data.registry import REGISTRY, DatasetSpec, RemoteFile
from dlcourse.data.shapes import SHAPE_CLASSES, imbalanced_split, shapes
from dlcourse.data.synthetic import circles, moons, spirals, xor

__all__ = [
    "spirals",
    "xor",
    "moons",
    "circles",
    "load_digits",
    "shapes",
    "SHAPE_CLASSES",
    "imbalanced_split",
    "load_mnist",
    "load_fashion_mnist",
    "load_cifar10",
    "data_home",
    "fetch",
    "read_idx",
    "read_cifar_batches",
    "REGISTRY",
    "DatasetSpec",
    "RemoteFile",
    "DatasetUnavailableError",
    "ChecksumMismatchError",
    "DatasetFormatError",
]
