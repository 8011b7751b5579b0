"""2-D mixtures of Gaussians (a ring or a grid of modes): the data set on which a GAN's mode collapse
can be seen. Seeded, no files."""

from __future__ import annotations

from typing import Union

import numpy as np

__all__ = ["mixture_centers", "mixture_of_gaussians"]

LAYOUTS = ("ring", "grid")


def mixture_centers(layout: str = "ring", n_modes: int = 8, scale: float = 2.0) -> np.ndarray:
    """The modes' centres, (K, 2) float64.

    Args:
        layout: "ring" (K equally spaced points on a circle of radius ``scale``, the first at angle 0)
            or "grid" (a √K × √K square grid spanning [−scale, scale] on both axes; K a square).
        n_modes: K ≥ 1.
        scale: the ring's radius or the grid's half-width.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"mixture_centers: layout={layout!r}; expected one of {LAYOUTS}")
    if int(n_modes) != n_modes or n_modes < 1:
        raise ValueError(f"mixture_centers: n_modes={n_modes!r}; expected a positive integer")
    n_modes = int(n_modes)
    if layout == "ring":
        angle = 2 * np.pi * np.arange(n_modes) / n_modes
        return scale * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    side = int(round(np.sqrt(n_modes)))
    if side * side != n_modes:
        raise ValueError(f"mixture_centers: a grid needs a square number of modes; got n_modes={n_modes}")
    ticks = np.linspace(-scale, scale, side) if side > 1 else np.zeros(1)
    gx, gy = np.meshgrid(ticks, ticks, indexing="xy")
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def mixture_of_gaussians(n: int, layout: str = "ring", n_modes: int = 8, std: float = 0.05, scale: float = 2.0,
                         rng: Union[int, np.random.Generator, None] = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points from an equal-weight mixture of isotropic Gaussians at :func:`mixture_centers`.

    Args:
        n: number of samples.
        layout, n_modes, scale: as in :func:`mixture_centers`.
        std: each component's standard deviation (small against the spacing of the modes, so that
            they are separate).
        rng: a generator or a seed.

    Returns:
        x (n, 2) float64, labels (n,) int64 (the component of each point), centers (K, 2).
    """
    if int(n) != n or n < 0:
        raise ValueError(f"mixture_of_gaussians: n={n!r}; expected a non-negative integer")
    if std < 0:
        raise ValueError(f"mixture_of_gaussians: std={std}; expected ≥ 0")
    centers = mixture_centers(layout, n_modes, scale)
    rng = np.random.default_rng(rng)
    labels = rng.integers(0, len(centers), int(n))
    x = centers[labels] + std * rng.standard_normal((int(n), 2))
    return x, labels.astype(np.int64), centers
