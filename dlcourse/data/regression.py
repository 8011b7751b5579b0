"""A 1-D regression set with noise and a gap: the two kinds of uncertainty side by side (14)."""

from __future__ import annotations

import numpy as np

from dlcourse.data.synthetic import RngLike, _check_noise, _check_positive_int, _generator

__all__ = ["gap_regression", "gap_target"]

#: The inputs lie in [−X_RANGE, X_RANGE].
X_RANGE = 3.0


def gap_target(x: np.ndarray) -> np.ndarray:
    """The noise-free function the data come from: f(x) = sin(x) + 0.3 x (any shape)."""
    return np.sin(x) + 0.3 * np.asarray(x, dtype=np.float64)


def gap_regression(n: int = 80, noise: float = 0.2, gap: float = 1.5, *, heteroscedastic: bool = True,
                   rng: RngLike = 0) -> tuple[np.ndarray, np.ndarray]:
    """n points y = f(x) + σ(x)·ε on [−3, 3] without any x in the gap (−gap/2, gap/2).

    Noise of standard deviation σ(x) (``noise`` · (0.5 + |x|/3) when ``heteroscedastic``, else
    ``noise``) is *aleatoric*: more data would not remove it. In the gap there is no data at
    all, so what a model predicts there is a guess: *epistemic* uncertainty, which more data
    (or a model that knows it is guessing) would reduce.

    Args:
        n: number of points; noise: σ scale (≥ 0); gap: width of the empty interval around 0
            (0 ≤ gap < 6); heteroscedastic: noise growing with |x|; rng: Generator or int seed.

    Returns:
        x: (n, 1) float64 sorted, y: (n, 1) float64.
    """
    n = _check_positive_int("n", n)
    noise = _check_noise(noise)
    gap = _check_noise(gap, "gap")
    if gap >= 2 * X_RANGE:
        raise ValueError(f"gap must be smaller than the input range {2 * X_RANGE}, got {gap}")
    gen = _generator(rng)
    half = gap / 2.0
    # uniform on [−3, −half] ∪ [half, 3]: draw a distance from the gap's edge and a side
    side = np.where(gen.random(n) < 0.5, -1.0, 1.0)
    x = np.sort(side * (half + gen.random(n) * (X_RANGE - half)))
    sigma = noise * (0.5 + np.abs(x) / X_RANGE) if heteroscedastic else np.full(n, noise)
    y = gap_target(x) + sigma * gen.standard_normal(n)
    return x[:, None], y[:, None]
