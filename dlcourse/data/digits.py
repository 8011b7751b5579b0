"""scikit-learn's bundled 8×8 handwritten digits: a real image data set that needs no download."""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits"]


def load_digits(*, flatten: bool = True, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8×8 grey-scale digits that ship inside scikit-learn (UCI optdigits test set).

    Pixels are counts 0..16 in the source; ``normalize`` divides by 16.

    Args:
        flatten: return one 64-vector per image instead of a 1-channel 8×8 image.
        normalize: scale pixels to [0, 1]; otherwise keep the raw counts 0..16 (still float64).

    Returns:
        X: (1797, 64) float64 if ``flatten``, else (1797, 1, 8, 8) (N, C, H, W, as conv layers expect).
        y: (1797,) int64 in 0..9.
    """
    # Imported here: scikit-learn takes ~0.5 s to import and most lectures never need it.
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float64)
    if normalize:
        X = X / 16.0
    if not flatten:
        X = X.reshape(-1, 1, 8, 8)
    y = np.asarray(bunch.target, dtype=np.int64)
    return X, y
