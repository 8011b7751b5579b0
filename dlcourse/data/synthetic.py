"""Toy 2-D classification data sets, generated with NumPy from an explicit seed.

Every generator returns ``X`` float64 of shape (N, 2) and ``y`` int64 of shape (N,),
rows grouped by class (shuffle before mini-batching). Same ``rng`` seed, same bytes.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

RngLike = np.random.Generator | int | None

__all__ = ["spirals", "xor", "moons", "circles"]


def _check_positive_int(name: str, value: object) -> int:
    # bool is an int subclass; spirals(True) is almost certainly a mistake, so refuse it.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_noise(value: object, name: str = "noise") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite float >= 0, got {value!r}")
    return float(value)


def _generator(rng: RngLike) -> np.random.Generator:
    if rng is not None and not isinstance(rng, (np.random.Generator, numbers.Integral)):
        raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
    # default_rng returns a Generator unchanged, so a caller's stream keeps advancing.
    return np.random.default_rng(rng)


def spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    rng: RngLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms (the CS231n toy set): not linearly separable.

    Arm k has radius r = linspace(0, 1) and angle θ = linspace(4k, 4(k+1)) + noise·ε, ε ~ N(0, 1),
    and point (r sin θ, r cos θ).

    Args:
        n_per_class: points per arm.
        n_classes: number of arms (classes), at least 1.
        noise: standard deviation of the Gaussian noise on the angle, in radians.
        rng: a ``np.random.Generator`` or an int seed.

    Returns:
        X: (n_per_class · n_classes, 2) float64, inside the unit disc.
        y: (n_per_class · n_classes,) int64 in 0..n_classes-1, class k in rows k·n_per_class….
    """
    n_per_class = _check_positive_int("n_per_class", n_per_class)
    n_classes = _check_positive_int("n_classes", n_classes)
    noise = _check_noise(noise)
    gen = _generator(rng)

    r = np.linspace(0.0, 1.0, n_per_class)
    X = np.empty((n_per_class * n_classes, 2), dtype=np.float64)
    for k in range(n_classes):
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), n_per_class) + noise * gen.standard_normal(n_per_class)
        rows = slice(k * n_per_class, (k + 1) * n_per_class)
        X[rows, 0] = r * np.sin(theta)
        X[rows, 1] = r * np.cos(theta)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    return X, y


def xor(n: int = 200, noise: float = 0.1, rng: RngLike = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussian blobs at (±1, ±1); the label is the XOR of the centre's signs.

    Blobs (1, 1) and (-1, -1) are class 0, (1, -1) and (-1, 1) class 1: no single line separates them.

    Args:
        n: total number of points, spread over the four blobs as evenly as possible.
        noise: standard deviation of each blob.
        rng: a ``np.random.Generator`` or an int seed.

    Returns:
        X: (n, 2) float64.
        y: (n,) int64 in {0, 1}.
    """
    n = _check_positive_int("n", n)
    noise = _check_noise(noise)
    gen = _generator(rng)

    centres = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    blob = np.sort(np.arange(n) % 4)  # sorted so the rows come grouped by class
    X = centres[blob] + noise * gen.standard_normal((n, 2))
    y = (np.sign(centres[blob, 0]) != np.sign(centres[blob, 1])).astype(np.int64)
    return X, y


def moons(n: int = 200, noise: float = 0.1, rng: RngLike = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``, without shuffling).

    Class 0: (cos t, sin t), class 1: (1 - cos t, 1/2 - sin t), t in [0, π], plus N(0, noise²) per coordinate.

    Args:
        n: total number of points; class 0 gets n // 2, class 1 the rest.
        noise: standard deviation of the Gaussian noise added to each coordinate.
        rng: a ``np.random.Generator`` or an int seed.

    Returns:
        X: (n, 2) float64.
        y: (n,) int64 in {0, 1}.
    """
    n = _check_positive_int("n", n)
    noise = _check_noise(noise)
    gen = _generator(rng)

    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    X = np.concatenate(
        [
            np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
            np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1),
        ]
    )
    X = X + noise * gen.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    return X, y


def circles(
    n: int = 200,
    noise: float = 0.05,
    factor: float = 0.5,
    rng: RngLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one (as scikit-learn's ``make_circles``, without shuffling).

    Class 0: unit circle, class 1: circle of radius ``factor``, plus N(0, noise²) per coordinate.

    Args:
        n: total number of points; class 0 gets n // 2, class 1 the rest.
        noise: standard deviation of the Gaussian noise added to each coordinate.
        factor: radius of the inner circle, in [0, 1).
        rng: a ``np.random.Generator`` or an int seed.

    Returns:
        X: (n, 2) float64.
        y: (n,) int64 in {0, 1}.
    """
    n = _check_positive_int("n", n)
    noise = _check_noise(noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0.0 <= factor < 1.0:
        raise ValueError(f"factor must be a float in [0, 1), got {factor!r}")
    gen = _generator(rng)

    n_outer = n // 2
    n_inner = n - n_outer
    # endpoint=False: 0 and 2π are the same point, which would otherwise appear twice.
    t_outer = np.linspace(0.0, 2.0 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * np.pi, n_inner, endpoint=False)
    X = np.concatenate(
        [
            np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
            float(factor) * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1),
        ]
    )
    X = X + noise * gen.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    return X, y
