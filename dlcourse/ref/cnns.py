"""CNN architectures in practice, the device-free half: parameter counts and classification metrics.

Parameter counts are written out by formula in plain Python, one function per layer kind and one
per network of lecture 09 (``dlcourse.gpu.cnns`` builds the same networks as ``nn.Module``s, and
the tests check every formula against ``sum(p.numel() for p in model.parameters())``):

- a convolution with C_in input and C_out output channels and a k×k kernel has
  C_out · (C_in · k² + 1) parameters (one bias per output channel);
- a dense layer n_in → n_out has n_out · (n_in + 1); a batch norm over C channels 2C (γ, β; its
  running statistics are buffers, not parameters); pooling has none.

The networks themselves are here too, in NumPy and in eval mode: ``*_shapes(...)`` lists a
network's state (parameters and batch-norm statistics) by the names ``dlcourse.gpu.cnns``'s module
gives them, and ``*_output(x, params, ...)`` computes its output from such a state with the
convolution and pooling of :mod:`dlcourse.ref.conv`. :func:`match_state` pairs the entries of two
states (by name, else by order and shape): how weights are copied into a student's module.

Metrics are NumPy: the confusion matrix ``C[i, j]`` counts the examples of *true* class i that
were *predicted* as j (rows: truth, as scikit-learn's ``confusion_matrix``), per-class accuracy
is its diagonal over its row sums (the recall of each class), and class weights are inverse to
the class frequencies, normalised so that the average weight of an example is 1:

    w_c = N / (K · n_c)      (N examples, K classes, n_c examples of class c)

(scikit-learn's "balanced" convention). With these weights every class contributes the same
total weight N/K to a weighted loss, however rare it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dlcourse.ref.conv import conv_forward, conv_transpose_forward, max_pool_forward

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
    "simple_cnn_shapes",
    "residual_block_shapes",
    "inception_shapes",
    "segmenter_shapes",
    "match_state",
    "simple_cnn_output",
    "residual_block_output",
    "inception_output",
    "segmenter_output",
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


# --------------------------------------------------------------------------- states and outputs (eval mode)

Shapes = dict[str, tuple[int, ...]]
Params = Mapping[str, np.ndarray]


def _conv(name: str, c_in: int, c_out: int, k: int, bias: bool = True) -> Shapes:
    return {f"{name}.weight": (c_out, c_in, k, k), **({f"{name}.bias": (c_out,)} if bias else {})}


def _bn(name: str, c: int) -> Shapes:
    return {f"{name}.{part}": (c,) for part in ("weight", "bias", "running_mean", "running_var")}


def simple_cnn_shapes(in_size: int = 8, in_channels: int = 1, n_classes: int = 10, hidden: int = 1024) -> Shapes:
    """{name: shape} of :class:`dlcourse.gpu.cnns.SimpleCNN`'s parameters, in definition order."""
    flat = simple_cnn_flat_features(in_size)
    return {**_conv("conv1", in_channels, 32, 3), **_conv("conv2", 32, 64, 3),
            "fc1.weight": (hidden, flat), "fc1.bias": (hidden,), "fc2.weight": (n_classes, hidden),
            "fc2.bias": (n_classes,)}


def residual_block_shapes(c_in: int, c_out: int, stride: int = 1) -> Shapes:
    """{name: shape} of :class:`dlcourse.gpu.cnns.ResidualBlock`'s parameters and batch-norm statistics."""
    shapes = {**_conv("conv1", c_in, c_out, 3, False), **_bn("bn1", c_out), **_conv("conv2", c_out, c_out, 3, False),
              **_bn("bn2", c_out)}
    if stride != 1 or c_in != c_out:
        shapes.update({**_conv("shortcut.0", c_in, c_out, 1, False), **_bn("shortcut.1", c_out)})
    return shapes


def inception_shapes(c_in: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int) -> Shapes:
    """{name: shape} of :class:`dlcourse.gpu.cnns.Inception`'s parameters, branch by branch."""
    return {**_conv("branch1.0", c_in, c1, 1), **_conv("branch3.0", c_in, c3_reduce, 1),
            **_conv("branch3.2", c3_reduce, c3, 3), **_conv("branch5.0", c_in, c5_reduce, 1),
            **_conv("branch5.2", c5_reduce, c5, 5), **_conv("branch_pool.1", c_in, pool_proj, 1)}


def segmenter_shapes(in_channels: int = 1, n_classes: int = 4, width: int = 16) -> Shapes:
    """{name: shape} of :class:`dlcourse.gpu.cnns.TinySegmenter`'s parameters (transposed weights are (C_in, C_out, k, k))."""
    w = width
    return {**_conv("down1", in_channels, w, 3), **_conv("down2", w, 2 * w, 3), **_conv("down3", 2 * w, 4 * w, 3),
            "up1.weight": (4 * w, 2 * w, 2, 2), "up1.bias": (2 * w,), "up2.weight": (2 * w, w, 2, 2), "up2.bias": (w,),
            **_conv("head", w, n_classes, 1)}


def match_state(student: Mapping[str, tuple[int, ...]], reference: Mapping[str, tuple[int, ...]]) -> list[tuple[str, str]]:
    """Pairs (student name, reference name) along which a state is copied.

    By name when both have the same names; else by order (the order the layers were assigned in
    ``__init__``). Raises ValueError naming the first difference when the entries' number or
    shapes disagree (a different architecture).
    """
    def show(shapes: Mapping[str, tuple[int, ...]]) -> str:
        return ", ".join(f"{k} {tuple(v)}" for k, v in shapes.items())

    if set(student) == set(reference):
        pairs = [(name, name) for name in reference]
    elif len(student) != len(reference):
        raise ValueError(f"the modules hold different numbers of tensors ({len(student)} vs the reference's "
                         f"{len(reference)}): got [{show(student)}], expected [{show(reference)}]")
    else:
        pairs = list(zip(student, reference))
    for mine, theirs in pairs:
        if tuple(student[mine]) != tuple(reference[theirs]):
            raise ValueError(f"{mine} has shape {tuple(student[mine])} where the reference's {theirs} has "
                             f"{tuple(reference[theirs])}: define the layers in the reference's order and sizes "
                             f"(expected [{show(reference)}])")
    return pairs


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _conv_out(x: np.ndarray, p: Params, name: str, stride: int = 1, pad: int = 0) -> np.ndarray:
    w = p[f"{name}.weight"]
    b = p.get(f"{name}.bias")
    return conv_forward(x, w, np.zeros(w.shape[0]) if b is None else b, stride, pad)[0]


def _bn_eval(x: np.ndarray, p: Params, name: str, eps: float = 1e-5) -> np.ndarray:
    """Batch norm in eval mode: the running statistics, not the batch's."""
    scale = p[f"{name}.weight"] / np.sqrt(p[f"{name}.running_var"] + eps)
    shift = p[f"{name}.bias"] - p[f"{name}.running_mean"] * scale
    return x * scale[:, None, None] + shift[:, None, None]


def _max_pool_same(x: np.ndarray) -> np.ndarray:
    """3×3 max-pool, stride 1, padding 1 (padded with −∞, so a border never wins)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    return max_pool_forward(padded, 3, 1)[0]


def simple_cnn_output(x: np.ndarray, params: Params) -> np.ndarray:
    """Logits (N, K) of the lecture's CNN on x (N, C, S, S), params as :func:`simple_cnn_shapes` names them."""
    h = max_pool_forward(_relu(_conv_out(x, params, "conv1", pad=1)), 2)[0]
    h = max_pool_forward(_relu(_conv_out(h, params, "conv2", pad=1)), 2)[0]
    h = _relu(h.reshape(h.shape[0], -1) @ params["fc1.weight"].T + params["fc1.bias"])
    return h @ params["fc2.weight"].T + params["fc2.bias"]


def residual_block_output(x: np.ndarray, params: Params, stride: int = 1) -> np.ndarray:
    """ReLU(F(x) + S(x)) in eval mode, x (N, C_in, H, W) → (N, C_out, ⌈H/s⌉, ⌈W/s⌉)."""
    f = _relu(_bn_eval(_conv_out(x, params, "conv1", stride, 1), params, "bn1"))
    f = _bn_eval(_conv_out(f, params, "conv2", 1, 1), params, "bn2")
    s = x if "shortcut.0.weight" not in params else _bn_eval(_conv_out(x, params, "shortcut.0", stride), params,
                                                                 "shortcut.1")
    return _relu(f + s)


def inception_output(x: np.ndarray, params: Params) -> np.ndarray:
    """The four branches' outputs concatenated along the channels: (N, c1 + c3 + c5 + pool_proj, H, W)."""
    b1 = _relu(_conv_out(x, params, "branch1.0"))
    b3 = _relu(_conv_out(_relu(_conv_out(x, params, "branch3.0")), params, "branch3.2", pad=1))
    b5 = _relu(_conv_out(_relu(_conv_out(x, params, "branch5.0")), params, "branch5.2", pad=2))
    bp = _relu(_conv_out(_max_pool_same(x), params, "branch_pool.1"))
    return np.concatenate([b1, b3, b5, bp], axis=1)


def segmenter_output(x: np.ndarray, params: Params) -> np.ndarray:
    """Per-pixel class scores (N, K, H, W) of the tiny segmenter on x (N, C, H, W), H and W multiples of 4."""
    h = _relu(_conv_out(x, params, "down1", 1, 1))
    h = _relu(_conv_out(h, params, "down2", 2, 1))
    h = _relu(_conv_out(h, params, "down3", 2, 1))
    for name in ("up1", "up2"):
        h = _relu(conv_transpose_forward(h, params[f"{name}.weight"], params[f"{name}.bias"], 2, 0)[0])
    return _conv_out(h, params, "head")


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
