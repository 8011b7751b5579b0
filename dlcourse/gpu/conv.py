"""Convolution in PyTorch: the twin of :mod:`dlcourse.ref.conv`, by unfold + matmul.

The same names and signatures as the NumPy reference, on tensors of any device (outputs stay on
the input's device and dtype). ``im2col``/``col2im`` are ``F.unfold``/``F.fold``; the convolution
is one batched matrix product with the unfolded input, and :class:`Conv2d` wraps the written-out
forward and backward passes in a ``torch.autograd.Function``, so ``loss.backward()`` runs
:func:`conv_backward` — on the GPU when the tensors live there — and gives the same gradients
as ``F.conv2d``.
"""

from __future__ import annotations

from typing import Union

import torch
import torch.nn.functional as F

from dlcourse.ref.conv import conv_output_size, conv_param_count, same_output_size, same_padding

__all__ = [
    "conv_output_size",
    "same_output_size",
    "same_padding",
    "conv_param_count",
    "correlate2d",
    "convolve2d",
    "conv_forward_naive",
    "conv_matrix",
    "im2col",
    "col2im",
    "conv_forward",
    "conv_backward",
    "conv1x1_forward",
    "conv_transpose_forward",
    "conv_transpose_backward",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "Conv2d",
    "conv2d",
]

IntPair = Union[int, tuple[int, int]]
ConvCache = tuple[torch.Tensor, torch.Tensor, torch.Tensor, IntPair, IntPair, torch.Tensor]


def _pair(v: IntPair) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        a, b = v
        return int(a), int(b)
    return int(v), int(v)


def correlate2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Valid cross-correlation of a (H, W) image with a (kh, kw) kernel → (H − kh + 1, W − kw + 1)."""
    return F.conv2d(image[None, None], kernel.to(image.dtype)[None, None])[0, 0]


def convolve2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Valid true convolution: correlation with the kernel flipped in both axes."""
    return correlate2d(image, torch.flip(kernel, dims=(0, 1)))


def conv_forward_naive(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, stride: IntPair = 1, pad: IntPair = 0
) -> tuple[torch.Tensor, tuple]:
    """Loop over output positions: x (N, C, H, W), w (F, C, kh, kw), b (F,) → (N, F, OH, OW)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = F.pad(x, (pw, pw, ph, ph))
    out = x.new_empty((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            out[:, :, i, j] = torch.tensordot(window, w, dims=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def conv_matrix(
    kernel: torch.Tensor, input_shape: tuple[int, ...], stride: IntPair = 1, pad: IntPair = 0
) -> torch.Tensor:
    """(OH·OW, H·W) for a (kh, kw) kernel, (F·OH·OW, C·H·W) for (F, C, kh, kw): conv(x) = M·vec(x).

    Built column by column: the image of every unit input vector under the convolution.
    """
    k4 = kernel[None, None] if kernel.dim() == 2 else kernel
    c = k4.shape[1]
    h, wd = input_shape[-2:]
    basis = torch.eye(c * h * wd, dtype=k4.dtype, device=k4.device).reshape(-1, c, h, wd)
    images = F.conv2d(basis, k4, stride=_pair(stride), padding=_pair(pad))  # (C·H·W, F, OH, OW)
    return images.reshape(c * h * wd, -1).T.contiguous()


def im2col(x: torch.Tensor, kh: int, kw: int, stride: IntPair = 1, pad: IntPair = 0) -> torch.Tensor:
    """``F.unfold``: x (N, C, H, W) → cols (N, C·kh·kw, OH·OW)."""
    return F.unfold(x, (kh, kw), padding=_pair(pad), stride=_pair(stride))


def col2im(
    cols: torch.Tensor, x_shape: tuple[int, int, int, int], kh: int, kw: int, stride: IntPair = 1, pad: IntPair = 0
) -> torch.Tensor:
    """``F.fold``: cols (N, C·kh·kw, OH·OW) → (N, C, H, W), overlaps added, padding dropped."""
    return F.fold(cols, tuple(x_shape[2:]), (kh, kw), padding=_pair(pad), stride=_pair(stride))


def conv_forward(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, stride: IntPair = 1, pad: IntPair = 0
) -> tuple[torch.Tensor, ConvCache]:
    """out = w̃ · unfold(x) + b: x (N, C, H, W), w (F, C, kh, kw), b (F,) → (N, F, OH, OW).

    cache: (x, w, b, stride, pad, cols) with cols = im2col(x) of shape (N, C·kh·kw, OH·OW).
    """
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    cols = im2col(x, kh, kw, stride, pad)
    out = torch.matmul(w.reshape(f, -1), cols) + b.reshape(f, 1)
    return out.reshape(n, f, oh, ow), (x, w, b, stride, pad, cols)


def conv_backward(dout: torch.Tensor, cache: ConvCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dx = fold(w̃ᵀ·dout) (N, C, H, W); dw = Σ_n dout_n·cols_nᵀ (F, C, kh, kw); db = Σ dout (F,)."""
    x, w, b, stride, pad, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[2:]
    d = dout.reshape(n, f, -1)
    db = dout.sum(dim=(0, 2, 3))
    dw = torch.matmul(d, cols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    dx = col2im(torch.matmul(w.reshape(f, -1).T, d), tuple(x.shape), kh, kw, stride, pad)
    return dx, dw, db


def conv1x1_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    """1×1 convolution: x (N, C, H, W), w (F, C, 1, 1) or (F, C), b (F,) → (N, F, H, W)."""
    w2 = w.reshape(w.shape[0], -1)
    n, c, h, wd = x.shape
    out = torch.matmul(w2, x.reshape(n, c, h * wd)) + b.reshape(-1, 1)
    return out.reshape(n, w2.shape[0], h, wd), (x, w, b)


def conv_transpose_forward(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, stride: IntPair = 1, pad: IntPair = 0
) -> tuple[torch.Tensor, ConvCache]:
    """``F.conv_transpose2d`` as fold(w̃ᵀ·x): x (N, C_in, H, W), w (C_in, C_out, kh, kw), b (C_out,)."""
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    ho, wo = (h - 1) * sh - 2 * ph + kh, (wd - 1) * sw - 2 * pw + kw
    x3 = x.reshape(n, cin, h * wd)
    cols = torch.matmul(w.reshape(cin, -1).T, x3)
    out = col2im(cols, (n, cout, ho, wo), kh, kw, stride, pad) + b.reshape(1, -1, 1, 1)
    return out, (x, w, b, stride, pad, x3)


def conv_transpose_backward(dout: torch.Tensor, cache: ConvCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of :func:`conv_transpose_forward`: dx (N, C_in, H, W), dw (C_in, C_out, kh, kw), db (C_out,)."""
    x, w, b, stride, pad, x3 = cache
    cin, cout, kh, kw = w.shape
    dcols = im2col(dout, kh, kw, stride, pad)
    dx = torch.matmul(w.reshape(cin, -1), dcols).reshape(x.shape)
    dw = torch.matmul(x3, dcols.transpose(1, 2)).sum(dim=0).reshape(w.shape)
    return dx, dw, dout.sum(dim=(0, 2, 3))


def _pool_args(pool: IntPair, stride: IntPair | None) -> tuple[tuple[int, int], tuple[int, int]]:
    return _pair(pool), _pair(pool if stride is None else stride)


def max_pool_forward(x: torch.Tensor, pool: IntPair = 2, stride: IntPair | None = None) -> tuple[torch.Tensor, tuple]:
    """Max pooling (no padding): x (N, C, H, W) → (N, C, OH, OW); cache (x, pool, stride)."""
    k, s = _pool_args(pool, stride)
    return F.max_pool2d(x, k, s), (x, pool, stride)


def max_pool_backward(dout: torch.Tensor, cache: tuple) -> torch.Tensor:
    """Gradient to the first maximum of every window (ties → first), overlaps added: dx (N, C, H, W)."""
    x, pool, stride = cache
    (kh, kw), (sh, sw) = _pool_args(pool, stride)
    n, c, h, wd = x.shape
    cols = im2col(x, kh, kw, (sh, sw)).reshape(n, c, kh * kw, -1)
    first = cols.argmax(dim=2, keepdim=True)  # torch.argmax returns the first maximal index
    routed = torch.zeros_like(cols).scatter_(2, first, dout.reshape(n, c, 1, -1))
    return col2im(routed.reshape(n, c * kh * kw, -1), (n, c, h, wd), kh, kw, (sh, sw))


def avg_pool_forward(x: torch.Tensor, pool: IntPair = 2, stride: IntPair | None = None) -> tuple[torch.Tensor, tuple]:
    """Average pooling (no padding): x (N, C, H, W) → (N, C, OH, OW); cache (x, pool, stride)."""
    k, s = _pool_args(pool, stride)
    return F.avg_pool2d(x, k, s), (x, pool, stride)


def avg_pool_backward(dout: torch.Tensor, cache: tuple) -> torch.Tensor:
    """dout / (kh·kw) to every input of its window, overlaps added: dx (N, C, H, W)."""
    x, pool, stride = cache
    (kh, kw), (sh, sw) = _pool_args(pool, stride)
    n, c, h, wd = x.shape
    share = (dout / (kh * kw)).reshape(n, c, 1, -1).expand(n, c, kh * kw, dout.shape[2] * dout.shape[3])
    return col2im(share.reshape(n, c * kh * kw, -1), (n, c, h, wd), kh, kw, (sh, sw))


class Conv2d(torch.autograd.Function):
    """``Conv2d.apply(x, w, b, stride, pad)`` = :func:`conv_forward`, differentiated by :func:`conv_backward`.

    Shapes: x (N, C, H, W), w (F, C, kh, kw), b (F,) → (N, F, OH, OW).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, stride: IntPair = 1, pad: IntPair = 0) -> torch.Tensor:  # type: ignore[override]
        out, (_, _, _, _, _, cols) = conv_forward(x, w, b, stride, pad)
        ctx.save_for_backward(x, w, b, cols)
        ctx.geometry = (stride, pad)
        return out

    @staticmethod
    def backward(ctx, dout: torch.Tensor):  # type: ignore[override]
        x, w, b, cols = ctx.saved_tensors
        stride, pad = ctx.geometry
        dx, dw, db = conv_backward(dout.contiguous(), (x, w, b, stride, pad, cols))
        return dx, dw, db, None, None


def conv2d(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, stride: IntPair = 1, pad: IntPair = 0) -> torch.Tensor:
    """The convolution with the written-out backward: x (N, C, H, W), w (F, C, kh, kw), b (F,) → (N, F, OH, OW)."""
    return Conv2d.apply(x, w, b, stride, pad)
