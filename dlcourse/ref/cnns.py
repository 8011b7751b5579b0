"""CNN architectures in practice, the device-free half: parameter counts and classification metrics.

Parameter counts are written out by formula in plain Python, one function per layer kind and one
per network of lecture 09 (``dlcourse.gpu.cnns`` builds the same networks as ``nn.Module``s, and
the tests check every formula against ``sum(p.numel() for p in model.parameters())``):

- a convolution with C_in input and C_out output channels and a k×k kernel has
  C_out · (C_in · k² + 1) parameters (one bias per output channel);
- a dense layer n_in → n_out has n_out · (n_in + 1); a batch norm over C channels 2C (γ, β; its
  running statistics are buffers, not parameters); pooling has none.

Metrics are NumPy: the confusion matrix ``C[i, j]`` counts the examples of *true* class i that
were *predicted* as j (rows: truth, as scikit-learn's ``confusion_matrix``), per-class accuracy
is its diagonal over its row sums (the recall of each class), and class weights are inverse to
the class frequencies, normalised so that the average weight of an example is 1:

    w_c = N / (K · n_c)      (N examples, K classes, n_c examples of class c)

(scikit-learn's "balanced" convention). With these weights every class contributes the same
total weight N/K to a weighted loss, however rare it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "conv2d_params",
    "conv_transpose2d_params",
    "linear_params",
    "batchnorm2d_params",
    "simple_cnn_flat_features",
    "simple_cnn_params",
    "residual_block_params",
    "inception_params",
    "segmenter_params",
    "confusion_matrix",
    "per_class_accuracy",
    "class_weights",
    "mean_iou",
]


# --------------------------------------------------------------------------- parameter counts


def _positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def conv2d_params(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    """Parameters of ``nn.Conv2d(c_in, c_out, k, bias=bias)``: c_out · (c_in · k² + [bias]).

    The weight tensor is (c_out, c_in, k, k); stride and padding change the output size, never
    the count (the same kernel slides everywhere).
    """
    _positive(c_in=c_in, c_out=c_out, k=k)
    return c_out * (c_in * k * k + int(bias))


def conv_transpose2d_params(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    """Parameters of ``nn.ConvTranspose2d(c_in, c_out, k, bias=bias)``: the weight is (c_in, c_out, k, k)
    and the bias (c_out,), so the count is the convolution's with the roles of the channels swapped."""
    _positive(c_in=c_in, c_out=c_out, k=k)
    return c_in * c_out * k * k + int(bias) * c_out


def linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of ``nn.Linear(n_in, n_out, bias=bias)``: n_out · (n_in + [bias])."""
    _positive(n_in=n_in, n_out=n_out)
    return n_out * (n_in + int(bias))


def batchnorm2d_params(channels: int) -> int:
    """Learnable parameters of ``nn.BatchNorm2d(channels)``: γ and β, one each per channel."""
    _positive(channels=channels)
    return 2 * channels


def simple_cnn_flat_features(in_size: int = 8) -> int:
    """Length of the flattened feature vector of :func:`simple_cnn_params`'s network.

    Both convolutions are 3×3 with padding 1 ("same": the size is kept), each 2×2 max-pool floors
    the size by half: in_size → ⌊⌊in_size/2⌋/2⌋, times the 64 channels. 8×8 digits give 64·2·2 = 256,
    28×28 images 64·7·7 = 3136.
    """
    _positive(in_size=in_size)
    side = in_size // 2 // 2
    if side < 1:
        raise ValueError(f"in_size must be at least 4 (two 2×2 poolings), got {in_size}")
    return 64 * side * side


def simple_cnn_params(in_size: int = 8, in_channels: int = 1, n_classes: int = 10, hidden: int = 1024) -> int:
    """Parameters of lecture 004's network: Conv(32) → pool → Conv(64) → pool → flatten → Dense(hidden) → Dense(n_classes).

    3×3 convolutions with padding 1 and 2×2 max-pooling; for 8×8 digits this is
    320 + 18,496 + 263,168 + 10,250 = 292,234, nine tenths of it in the first dense layer.
    """
    _positive(in_channels=in_channels, n_classes=n_classes, hidden=hidden)
    return (conv2d_params(in_channels, 32, 3) + conv2d_params(32, 64, 3)
            + linear_params(simple_cnn_flat_features(in_size), hidden) + linear_params(hidden, n_classes))


def residual_block_params(c_in: int, c_out: int, stride: int = 1) -> int:
    """Parameters of a basic residual block: two 3×3 convolutions (no bias: batch norm follows each)
    with their batch norms, plus a 1×1 convolution and batch norm on the shortcut when the block
    changes the shape (``stride != 1`` or ``c_in != c_out``); an identity shortcut has none.
    """
    _positive(c_in=c_in, c_out=c_out, stride=stride)
    main = conv2d_params(c_in, c_out, 3, bias=False) + conv2d_params(c_out, c_out, 3, bias=False)
    main += 2 * batchnorm2d_params(c_out)
    projection = stride != 1 or c_in != c_out
    return main + (conv2d_params(c_in, c_out, 1, bias=False) + batchnorm2d_params(c_out) if projection else 0)


def inception_params(c_in: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int) -> int:
    """Parameters of an inception module (GoogLeNet's, with biases): four branches side by side,

    1×1 (c1) | 1×1 (c3_reduce) → 3×3 (c3) | 1×1 (c5_reduce) → 5×5 (c5) | 3×3 max-pool → 1×1 (pool_proj),

    concatenated into c1 + c3 + c5 + pool_proj channels. The 1×1 reductions are what keep it
    cheap: a 5×5 convolution reading c5_reduce channels instead of c_in.
    """
    return (conv2d_params(c_in, c1, 1)
            + conv2d_params(c_in, c3_reduce, 1) + conv2d_params(c3_reduce, c3, 3)
            + conv2d_params(c_in, c5_reduce, 1) + conv2d_params(c5_reduce, c5, 5)
            + conv2d_params(c_in, pool_proj, 1))


def segmenter_params(in_channels: int = 1, n_classes: int = 4, width: int = 16) -> int:
    """Parameters of the tiny fully convolutional segmenter: three 3×3 convolutions (width, 2·width,
    4·width channels; the last two with stride 2), two 2×2 transposed convolutions with stride 2
    back up (4·width → 2·width → width) and a 1×1 convolution to one score per class and pixel."""
    return (conv2d_params(in_channels, width, 3) + conv2d_params(width, 2 * width, 3)
            + conv2d_params(2 * width, 4 * width, 3)
            + conv_transpose2d_params(4 * width, 2 * width, 2) + conv_transpose2d_params(2 * width, width, 2)
            + conv2d_params(width, n_classes, 1))


# --------------------------------------------------------------------------- metrics


def _labels(y: Sequence[int] | np.ndarray, what: str, n_classes: int) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{what} should be a 1-D array of class labels, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.equal(np.mod(a, 1), 0)):
            raise ValueError(f"{what} should hold integer class labels, got dtype {a.dtype}")
        a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= n_classes):
        raise ValueError(f"{what} has labels outside 0..{n_classes - 1}: min {a.min()}, max {a.max()}")
    return a.astype(np.int64, copy=False)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts C (n_classes, n_classes) int64 with C[i, j] = #{examples of true class i predicted as j}.

    y_true, y_pred: (N,) integer labels in 0..n_classes−1. Rows are the truth and columns the
    prediction; a class without examples has a row of zeros (which is why n_classes is given and
    not guessed from the labels).
    """
    _positive(n_classes=n_classes)
    t, p = _labels(y_true, "y_true", n_classes), _labels(y_pred, "y_pred", n_classes)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred should have the same length, got {t.shape[0]} and {p.shape[0]}")
    # one bincount over the pair index i·K + j: every pair lands in its own cell
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Accuracy on each true class, (K,) float64: C[i, i] / Σ_j C[i, j] (the recall of class i).

    cm: (K, K) confusion matrix, rows = truth. A class without examples has no accuracy: NaN
    (a 0 would claim the model got all of its examples wrong).
    """
    c = np.asarray(cm)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"cm should be a square (K, K) confusion matrix, got shape {c.shape}")
    totals = c.sum(axis=1).astype(np.float64)
    out = np.full(c.shape[0], np.nan)
    seen = totals > 0
    out[seen] = np.diagonal(c)[seen] / totals[seen]
    return out


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Weights (K,) float64 inverse to the class frequencies: w_c = N / (K · n_c).

    y: (N,) integer labels in 0..K−1. The average weight over the N examples is 1 (Σ_c n_c w_c = N),
    so the loss keeps its scale. A class without examples gets weight 0 (there is nothing to weigh).
    Pass the result as ``nn.CrossEntropyLoss(weight=torch.as_tensor(w))``.
    """
    _positive(n_classes=n_classes)
    labels = _labels(y, "y", n_classes)
    if labels.size == 0:
        raise ValueError("y is empty: class weights need at least one labelled example")
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    w = np.zeros(n_classes)
    seen = counts > 0
    w[seen] = labels.size / (n_classes * counts[seen])
    return w


def mean_iou(pred: np.ndarray, target: np.ndarray, n_classes: int) -> tuple[float, np.ndarray]:
    """Intersection over union per class and its mean over the classes that occur.

    pred, target: integer label maps of the same shape, e.g. (N, H, W). IoU_c = |P_c ∩ T_c| / |P_c ∪ T_c|
    where P_c, T_c are the pixels predicted / labelled c; NaN when class c is in neither (it is left
    out of the mean). Returns (mean IoU, (K,) per-class IoU).
    """
    p, t = np.asarray(pred), np.asarray(target)
    if p.shape != t.shape:
        raise ValueError(f"pred and target should have the same shape, got {p.shape} and {t.shape}")
    cm = confusion_matrix(t.reshape(-1), p.reshape(-1), n_classes).astype(np.float64)
    inter = np.diagonal(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - inter
    iou = np.full(n_classes, np.nan)
    iou[union > 0] = inter[union > 0] / union[union > 0]
    return float(np.nanmean(iou)) if np.any(union > 0) else float("nan"), iou
