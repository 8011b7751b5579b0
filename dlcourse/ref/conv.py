"""Convolution, its matrix, im2col/col2im, pooling and transposed convolution in NumPy.

Every layer here computes what deep-learning libraries call convolution, which is the
*cross-correlation*

    out[n, f, i, j] = b[f] + Σ_{c, p, q} w[f, c, p, q] · x̂[n, c, i·s_h + p, j·s_w + q],

where x̂ is x zero-padded by ``pad`` on *both* sides. The textbook (and lecture 000) formula
S(i, j) = Σ_m Σ_n I(i − m, j − n) K(m, n) is the true convolution: the same sum with the kernel
flipped in both axes (:func:`convolve2d`). For a learned kernel the difference does not matter
(learning would just find the flipped kernel); for a fixed one (an edge detector) it flips the sign.

Shapes follow PyTorch: x (N, C, H, W), w (F, C, kh, kw), b (F,), out (N, F, OH, OW) with
OH = ⌊(H + 2·p_h − kh) / s_h⌋ + 1. ``stride`` and ``pad`` are an int or a pair (vertical,
horizontal). Caches keep ``stride`` and ``pad`` exactly as they were given.

The im2col path is written for speed with plain NumPy: the windows of x are a strided *view*
(no copy), turned into a (C·kh·kw, N·OH·OW) column matrix by a single copy, so the forward pass
and the two weight-side products of the backward pass are one GEMM each for the whole batch;
col2im adds kh·kw strided slices instead of scattering with ``np.add.at``. :func:`im2col` and
:func:`col2im` themselves use F.unfold's per-example layout (N, C·kh·kw, OH·OW).
"""

from __future__ import annotations

from typing import Union

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "conv_output_size", "same_output_size", "same_padding", "conv_param_count", "correlate2d", "convolve2d",
    "conv_forward_naive", "conv_matrix", "im2col", "col2im", "conv_forward", "conv_backward",
    "conv1x1_forward", "conv_transpose_forward", "conv_transpose_backward", "max_pool_forward",
    "max_pool_backward", "avg_pool_forward", "avg_pool_backward",
]

IntPair = Union[int, tuple[int, int]]
ConvCache = tuple[np.ndarray, np.ndarray, np.ndarray, IntPair, IntPair, np.ndarray]
PoolCache = tuple[np.ndarray, IntPair, Union[IntPair, None]]


def _pair(v: IntPair) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        a, b = v
        return int(a), int(b)
    return int(v), int(v)


# --------------------------------------------------------------------------- sizes and counts


def conv_output_size(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """⌊(size + 2·pad − kernel) / stride⌋ + 1: positions of a kernel sliding over a padded axis.

    The ``+ 1`` counts the first position; the floor drops a last window that would stick out.
    Raises ValueError when the kernel is larger than the padded input.
    """
    span = size + 2 * pad - kernel
    if span < 0 or stride < 1:
        raise ValueError(f"kernel {kernel} does not fit an input of {size} padded by {pad} (stride {stride})")
    return span // stride + 1


def same_output_size(size: int, stride: int = 1) -> int:
    """TensorFlow's ``padding='SAME'``: ⌈size / stride⌉, whatever the kernel (it pads as needed)."""
    return -(-size // stride)


def same_padding(size: int, kernel: int, stride: int = 1) -> tuple[int, int]:
    """(before, after) zeros that ``SAME`` adds; the odd one goes after, as in TensorFlow."""
    total = max((same_output_size(size, stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_param_count(
    height: int,
    width: int,
    channels: int,
    n_filters: int,
    kernel: IntPair,
    stride: IntPair = 1,
    pad: IntPair | str = 0,
    shared: bool = True,
    bias: bool = True,
) -> int:
    """Learnable parameters of a convolutional layer on a (height, width, channels) input.

    shared=True: F · (kh·kw·C + 1), the weights reused at every position.
    shared=False: every output neuron (OH·OW·F of them) has its own kh·kw·C weights and bias
    (a "locally connected" layer), as in lecture 003's 756,560.
    ``pad``: zeros on each side (int or pair), or ``"same"`` for TensorFlow's SAME padding,
    whose output is ⌈size / stride⌉ per axis (:func:`same_output_size`).
    """
    kh, kw = _pair(kernel)
    per_filter = kh * kw * channels + int(bias)
    if shared:
        return n_filters * per_filter
    sh, sw = _pair(stride)
    if isinstance(pad, str):
        if pad.lower() != "same":
            raise ValueError(f"pad is an int, a pair or 'same', got {pad!r}")
        oh, ow = same_output_size(height, sh), same_output_size(width, sw)
    else:
        ph, pw = _pair(pad)
        oh, ow = conv_output_size(height, kh, sh, ph), conv_output_size(width, kw, sw, pw)
    return oh * ow * n_filters * per_filter


# --------------------------------------------------------------------------- single-channel 2-D


def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation of a (H, W) image with a (kh, kw) kernel → (H − kh + 1, W − kw + 1).

    out[i, j] = Σ_{p,q} image[i + p, j + q] · kernel[p, q]  (what a conv layer computes).
    """
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape
    oh, ow = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    s0, s1 = image.strides
    windows = as_strided(image, (oh, ow, kh, kw), (s0, s1, s0, s1), writeable=False)
    return np.einsum("ijpq,pq->ij", windows, kernel)


def convolve2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid true convolution S(i, j) = Σ_{m,n} I(i − m, j − n) K(m, n): correlation with K flipped."""
    return correlate2d(image, np.asarray(kernel)[::-1, ::-1])


# --------------------------------------------------------------------------- naive loops


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: IntPair = 1, pad: IntPair = 0
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, IntPair, IntPair]]:
    """Convolution (cross-correlation) by a loop over output positions.

    Args:
        x: (N, C, H, W) inputs; w: (F, C, kh, kw) filters; b: (F,) biases.
        stride, pad: int or (vertical, horizontal); zeros are added on both sides.

    Returns:
        out: (N, F, OH, OW); cache: (x, w, b, stride, pad).
    """
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.empty((n, f, oh, ow), dtype=np.result_type(x, w, b))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, C, kh, kw)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


# --------------------------------------------------------------------------- convolution as a matrix


def conv_matrix(kernel: np.ndarray, input_shape: tuple[int, ...], stride: IntPair = 1, pad: IntPair = 0) -> np.ndarray:
    """The matrix M with conv(x) = M · vec(x): a doubly block Toeplitz matrix (for stride 1).

    Args:
        kernel: (kh, kw) for one channel, or (F, C, kh, kw).
        input_shape: (H, W), or (C, H, W) for a 4-D kernel.
        stride, pad: as in :func:`conv_forward_naive`.

    Returns:
        (OH·OW, H·W) for a 2-D kernel, (F·OH·OW, C·H·W) for a 4-D one; rows and columns in
        C order (row r = (f, i, j), column = (c, y, x)). Zero padding adds no columns: a padded
        position multiplies a zero, so its weight simply does not appear.
    """
    k = np.asarray(kernel)
    k4 = k[None, None] if k.ndim == 2 else k
    f, c, kh, kw = k4.shape
    h, wd = input_shape[-2:]
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    rows = np.arange(oh)[:, None, None, None] * sh + np.arange(kh)[None, None, :, None] - ph
    cols = np.arange(ow)[None, :, None, None] * sw + np.arange(kw)[None, None, None, :] - pw
    rows, cols = np.broadcast_arrays(rows, cols)  # (OH, OW, kh, kw) input coordinates
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < wd)
    oi, oj, p, q = np.nonzero(inside)
    m = np.zeros((f, oh, ow, c, h, wd), dtype=np.result_type(k4, float))
    # Advanced indices separated by slices go first: the target is (L, F, C), one entry per tap.
    m[:, oi, oj, :, rows[inside], cols[inside]] = k4[:, :, p, q].transpose(2, 0, 1)
    m = m.reshape(f * oh * ow, c * h * wd)
    return m


# --------------------------------------------------------------------------- im2col / col2im


def _windows(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, oh: int, ow: int) -> np.ndarray:
    """(N, C, kh, kw, OH, OW) read-only view of the sliding windows of a padded (N, C, Hp, Wp) array."""
    n, c = xp.shape[:2]
    s_n, s_c, s_h, s_w = xp.strides
    return as_strided(xp, (n, c, kh, kw, oh, ow), (s_n, s_c, s_h, s_w, s_h * sh, s_w * sw), writeable=False)


def im2col(x: np.ndarray, kh: int, kw: int, stride: IntPair = 1, pad: IntPair = 0) -> np.ndarray:
    """Unfold every kh×kw window of x into a column, as ``torch.nn.functional.unfold``.

    Args:
        x: (N, C, H, W).

    Returns:
        cols: (N, C·kh·kw, OH·OW); row index (c, p, q) in C order, column index (i, j):
        cols[n, (c·kh + p)·kw + q, i·OW + j] = x̂[n, c, i·s_h + p, j·s_w + q].
    """
    n, c, h, wd = x.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else np.ascontiguousarray(x)
    return _windows(xp, kh, kw, sh, sw, oh, ow).reshape(n, c * kh * kw, oh * ow)  # the one copy


def col2im(
    cols: np.ndarray, x_shape: tuple[int, int, int, int], kh: int, kw: int, stride: IntPair = 1, pad: IntPair = 0
) -> np.ndarray:
    """Fold columns back into an image, *adding* the values that overlapping windows share.

    The adjoint of :func:`im2col` (``torch.nn.functional.fold``): for any x and y,
    ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩, which is why it is the backward pass of im2col.

    Args:
        cols: (N, C·kh·kw, OH·OW); x_shape: (N, C, H, W) of the unpadded image.

    Returns:
        (N, C, H, W); contributions that fall on the padding are dropped.
    """
    n, c, h, wd = x_shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    c6 = cols.reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=cols.dtype)
    # kh·kw strided slice additions: the slices of one offset never overlap each other, so a
    # plain `+=` is safe within an offset and the loop adds the overlaps between offsets.
    for p in range(kh):
        for q in range(kw):
            xp[:, :, p : p + sh * (oh - 1) + 1 : sh, q : q + sw * (ow - 1) + 1 : sw] += c6[:, :, p, q]
    if ph or pw:
        return xp[:, :, ph : ph + h, pw : pw + wd].copy()
    return xp


# --------------------------------------------------------------------------- conv via im2col


def conv_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: IntPair = 1, pad: IntPair = 0
) -> tuple[np.ndarray, ConvCache]:
    """Convolution layer through im2col and one matrix product for the whole batch.

    Args:
        x: (N, C, H, W); w: (F, C, kh, kw); b: (F,); stride, pad: int or pair.

    Returns:
        out: (N, F, OH, OW) = w̃ · im2col(x) + b with w̃ = w reshaped to (F, C·kh·kw).
        cache: (x, w, b, stride, pad, cols), cols = im2col(x, kh, kw, stride, pad) of shape
        (N, C·kh·kw, OH·OW). It is stored as a transposed *view* of a (C·kh·kw, N·OH·OW)
        array: that layout makes the forward pass and both weight-side products of the backward
        pass one GEMM each over the whole batch, with no further copy of the columns.
    """
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else np.ascontiguousarray(x)
    s_n, s_c, s_h, s_w = xp.strides
    windows = as_strided(xp, (c, kh, kw, n, oh, ow), (s_c, s_h, s_w, s_n, s_h * sh, s_w * sw), writeable=False)
    dtype = np.result_type(x, w, b)
    cols_t = np.empty((c * kh * kw, n * oh * ow), dtype)
    np.copyto(cols_t.reshape(c, kh, kw, n, oh, ow), windows)  # the one copy: (K, N·P)
    out = w.reshape(f, -1).astype(dtype, copy=False) @ cols_t  # (F, N·P)
    # Adding the bias writes a new (N, F, P) array: the transpose to NCHW costs no extra pass.
    out = np.add(out.reshape(f, n, oh * ow).transpose(1, 0, 2), b.reshape(f, 1), out=np.empty((n, f, oh * ow), dtype))
    cols = cols_t.reshape(c * kh * kw, n, oh * ow).transpose(1, 0, 2)  # (N, K, P) view
    return out.reshape(n, f, oh, ow), (x, w, b, stride, pad, cols)


def conv_backward(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv_forward`.

    Args:
        dout: (N, F, OH, OW); cache: (x, w, b, stride, pad, cols), cols (N, C·kh·kw, OH·OW) in
            any memory layout.

    Returns:
        dx: (N, C, H, W) = col2im(w̃ᵀ · dout); dw: (F, C, kh, kw) = Σ_n dout_n · cols_nᵀ;
        db: (F,) = Σ_{n,i,j} dout.

    With the batch folded into the columns (G = dout as (F, N·P), cols as (K, N·P)), dw = G·colsᵀ
    and w̃ᵀ·G are single GEMMs, and col2im adds kh·kw strided slices.
    """
    x, w, b, stride, pad, cols = cache
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = dout.shape[2:]
    k = c * kh * kw
    cols_t = cols.transpose(1, 0, 2)
    if not cols_t.flags.c_contiguous:  # a cache built elsewhere (e.g. F.unfold's layout): one copy
        cols_t = np.ascontiguousarray(cols_t)
    cols_t = cols_t.reshape(k, n * oh * ow)
    dtype = np.result_type(dout, w, cols_t)
    g = np.ascontiguousarray(dout.transpose(1, 0, 2, 3), dtype=dtype).reshape(f, n * oh * ow)  # (F, N·P)
    db = g.sum(axis=1)
    dw = (g @ cols_t.T).reshape(w.shape)  # the transposed view goes to BLAS as a flag
    dcols = (w.reshape(f, k).T.astype(dtype, copy=False) @ g).reshape(c, kh, kw, n, oh, ow)
    # col2im in (C, N, ·, ·) order, the order dcols is in, then one transpose to (N, C, H, W).
    dxp = np.zeros((c, n, h + 2 * ph, wd + 2 * pw), dtype)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p : p + sh * (oh - 1) + 1 : sh, q : q + sw * (ow - 1) + 1 : sw] += dcols[:, p, q]
    dx = np.ascontiguousarray(dxp[:, :, ph : ph + h, pw : pw + wd].transpose(1, 0, 2, 3))
    return dx, dw, db


def conv1x1_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A 1×1 convolution: the same (F, C) matrix applied to every pixel's channel vector.

    Args:
        x: (N, C, H, W); w: (F, C, 1, 1) or (F, C); b: (F,).

    Returns:
        out: (N, F, H, W); cache: (x, w, b).
    """
    w2 = w.reshape(w.shape[0], -1)
    n, c, h, wd = x.shape
    out = np.matmul(w2, x.reshape(n, c, h * wd)) + b.reshape(-1, 1)
    return out.reshape(n, w2.shape[0], h, wd), (x, w, b)


# --------------------------------------------------------------------------- transposed convolution


def conv_transpose_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: IntPair = 1, pad: IntPair = 0
) -> tuple[np.ndarray, ConvCache]:
    """Transposed convolution (``F.conv_transpose2d``): multiply by the transpose of the conv matrix.

    With M the matrix of a convolution from (C_out, H_out, W_out) to (C_in, H, W) using the same
    w, stride and pad, out = Mᵀ · vec(x) + b. Computed without M as col2im(w̃ᵀ · x).

    Args:
        x: (N, C_in, H, W); w: (C_in, C_out, kh, kw) (PyTorch's layout); b: (C_out,).

    Returns:
        out: (N, C_out, H_out, W_out), H_out = (H − 1)·s_h − 2·p_h + kh;
        cache: (x, w, b, stride, pad, x reshaped to (N, C_in, H·W)).
    """
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    ho, wo = (h - 1) * sh - 2 * ph + kh, (wd - 1) * sw - 2 * pw + kw
    x3 = x.reshape(n, cin, h * wd)
    cols = np.matmul(w.reshape(cin, -1).T, x3)  # (N, C_out·kh·kw, H·W)
    out = col2im(cols, (n, cout, ho, wo), kh, kw, stride, pad) + b.reshape(1, -1, 1, 1)
    return out, (x, w, b, stride, pad, x3)


def conv_transpose_backward(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv_transpose_forward`: its backward is an ordinary convolution.

    Returns dx (N, C_in, H, W), dw (C_in, C_out, kh, kw), db (C_out,).
    """
    x, w, b, stride, pad, x3 = cache
    cin, cout, kh, kw = w.shape
    dcols = im2col(dout, kh, kw, stride, pad)  # (N, C_out·kh·kw, H·W)
    dx = np.matmul(w.reshape(cin, -1), dcols).reshape(x.shape)
    dw = np.matmul(x3, dcols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db


# --------------------------------------------------------------------------- pooling


def _pool_geometry(x_shape: tuple[int, ...], pool: IntPair, stride: IntPair | None) -> tuple[int, ...]:
    kh, kw = _pair(pool)
    sh, sw = _pair(pool if stride is None else stride)
    oh, ow = conv_output_size(x_shape[2], kh, sh), conv_output_size(x_shape[3], kw, sw)
    return kh, kw, sh, sw, oh, ow


def max_pool_forward(x: np.ndarray, pool: IntPair = 2, stride: IntPair | None = None) -> tuple[np.ndarray, PoolCache]:
    """Max over every pool window of every channel (no padding); stride defaults to the pool size.

    Args:
        x: (N, C, H, W).

    Returns:
        out: (N, C, OH, OW) with OH = ⌊(H − kh) / s⌋ + 1; cache: (x, pool, stride).
    """
    kh, kw, sh, sw, oh, ow = _pool_geometry(x.shape, pool, stride)
    win = _windows(np.ascontiguousarray(x), kh, kw, sh, sw, oh, ow)  # (N, C, kh, kw, OH, OW)
    return win.max(axis=(2, 3)), (x, pool, stride)


def max_pool_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Route each window's gradient to its maximum; on ties to the *first* maximum (as PyTorch).

    Overlapping windows (stride < pool) can pick the same input, whose gradients then add up.

    Args:
        dout: (N, C, OH, OW); cache: (x, pool, stride).

    Returns:
        dx: (N, C, H, W).
    """
    x, pool, stride = cache
    kh, kw, sh, sw, oh, ow = _pool_geometry(x.shape, pool, stride)
    n, c = x.shape[:2]
    win = _windows(np.ascontiguousarray(x), kh, kw, sh, sw, oh, ow).reshape(n, c, kh * kw, oh, ow)
    first = np.argmax(win, axis=2)  # (N, C, OH, OW): argmax returns the first of equal maxima
    dx = np.zeros(x.shape, dtype=np.result_type(dout, float))
    for k in range(kh * kw):
        p, q = divmod(k, kw)
        dx[:, :, p : p + sh * (oh - 1) + 1 : sh, q : q + sw * (ow - 1) + 1 : sw] += np.where(first == k, dout, 0)
    return dx


def avg_pool_forward(x: np.ndarray, pool: IntPair = 2, stride: IntPair | None = None) -> tuple[np.ndarray, PoolCache]:
    """Mean over every pool window (no padding). x (N, C, H, W) → out (N, C, OH, OW); cache (x, pool, stride)."""
    kh, kw, sh, sw, oh, ow = _pool_geometry(x.shape, pool, stride)
    win = _windows(np.ascontiguousarray(x), kh, kw, sh, sw, oh, ow)
    return win.mean(axis=(2, 3)), (x, pool, stride)


def avg_pool_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Every input of a window gets dout / (kh·kw); overlaps add. Returns dx (N, C, H, W)."""
    x, pool, stride = cache
    kh, kw, sh, sw, oh, ow = _pool_geometry(x.shape, pool, stride)
    dx = np.zeros(x.shape, dtype=np.result_type(dout, float))
    share = dout / (kh * kw)
    for p in range(kh):
        for q in range(kw):
            dx[:, :, p : p + sh * (oh - 1) + 1 : sh, q : q + sw * (ow - 1) + 1 : sw] += share
    return dx
