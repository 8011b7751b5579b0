"""Synthetic images of circles, squares and triangles with their segmentation masks, and an
imbalanced split of a labelled set: the data of lecture 09 that needs no download.

Every image is grey (one channel) with a noisy background and one to ``max_shapes`` filled shapes
of random size, position and brightness; its mask labels each pixel with the class of the shape
drawn last over it (0 = background). Same ``rng`` seed, same bytes.
"""

from __future__ import annotations

import numpy as np

from dlcourse.data.synthetic import RngLike, _check_noise, _check_positive_int, _generator

__all__ = ["SHAPE_CLASSES", "shapes", "imbalanced_split"]

SHAPE_CLASSES = ("background", "circle", "square", "triangle")


def _shape_mask(kind: int, size: int, cy: float, cx: float, r: float) -> np.ndarray:
    """The (size, size) bool pixels of one shape centred at (cy, cx) with "radius" r."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    dy, dx = yy - cy, xx - cx
    if kind == 1:  # circle
        return dy * dy + dx * dx <= r * r
    if kind == 2:  # axis-aligned square of side 1.6 r (about the circle's area)
        return (np.abs(dy) <= 0.8 * r) & (np.abs(dx) <= 0.8 * r)
    # upward triangle with apex above the centre: inside the band and between the two slanted edges
    top, bottom = cy - r, cy + 0.8 * r
    half = (yy - top) / (bottom - top) * 1.1 * r
    return (yy >= top) & (yy <= bottom) & (np.abs(dx) <= half)


def shapes(n: int = 400, size: int = 16, max_shapes: int = 1, noise: float = 0.1,
           rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
    """Images with filled circles, squares and triangles, and their per-pixel class masks.

    Args:
        n: number of images.
        size: side of each square image (≥ 8).
        max_shapes: each image holds 1..max_shapes shapes (later ones drawn over earlier ones).
        noise: standard deviation of the Gaussian pixel noise.
        rng: seed or Generator.

    Returns:
        images: (n, 1, size, size) float32, roughly in [0, 1] (N, C, H, W).
        masks: (n, size, size) int64 in 0..3, indices into :data:`SHAPE_CLASSES`.
    """
    n, size, max_shapes = _check_positive_int("n", n), _check_positive_int("size", size), \
        _check_positive_int("max_shapes", max_shapes)
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    noise = _check_noise(noise)
    g = _generator(rng)
    images = np.zeros((n, 1, size, size), dtype=np.float64)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        canvas = np.full((size, size), 0.1 * g.random())
        for _ in range(int(g.integers(1, max_shapes + 1))):
            kind = int(g.integers(1, 4))
            r = g.uniform(0.2, 0.3) * size
            cy, cx = g.uniform(r, size - r, size=2)
            inside = _shape_mask(kind, size, cy, cx, r)
            canvas[inside] = g.uniform(0.5, 1.0)
            masks[i][inside] = kind
        images[i, 0] = canvas + noise * g.standard_normal((size, size))
    return images.astype(np.float32), masks


def imbalanced_split(y: np.ndarray, keep: dict[int, float], rng: RngLike = None) -> np.ndarray:
    """Indices of a subset of ``y`` in which class c keeps only the fraction ``keep[c]`` of its examples.

    Classes not named in ``keep`` keep all of theirs; each kept class keeps at least one example.
    Returns sorted int64 indices into y, e.g. ``idx = imbalanced_split(y, {3: 0.1, 8: 0.1}, rng=0)``
    makes 3s and 8s ten times rarer than the other digits.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y should be a 1-D array of labels, got shape {y.shape}")
    for c, fraction in keep.items():
        if not 0.0 < float(fraction) <= 1.0:
            raise ValueError(f"keep[{c}] should be a fraction in (0, 1], got {fraction!r}")
    g = _generator(rng)
    chosen = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        fraction = float(keep.get(int(c), 1.0))
        k = max(1, int(round(fraction * idx.size)))
        chosen.append(idx if k == idx.size else g.choice(idx, size=k, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)
