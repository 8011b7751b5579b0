"""Correct alternatives and known-wrong implementations (mutants) for the 08-convolution checks.

Each mutant is a mistake students really make, named after it. ``MUTANTS[check]`` lists
``(implementation, pattern, public, hint)`` entries, as ``check_harness`` describes.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import conv as checks

Impl = Callable[..., Any]


# ----------------------------------------------------------------- output size
def out_size_formula(size, kernel, stride=1, pad=0):
    return int(math.floor((size - kernel + 2 * pad) / stride)) + 1


def out_size_by_sliding(size, kernel, stride=1, pad=0):
    n, start = 0, 0
    while start + kernel <= size + 2 * pad:
        n += 1
        start += stride
    return n


def out_size_no_plus_one(size, kernel, stride=1, pad=0):
    return (size + 2 * pad - kernel) // stride


def out_size_pad_one_side(size, kernel, stride=1, pad=0):
    return (size + pad - kernel) // stride + 1


def out_size_ceil(size, kernel, stride=1, pad=0):
    return math.ceil((size + 2 * pad - kernel) / stride) + 1


def out_size_true_division(size, kernel, stride=1, pad=0):
    return (size + 2 * pad - kernel) / stride + 1


def out_size_no_padding(size, kernel, stride=1, pad=0):
    return (size - kernel) // stride + 1


def out_size_times_stride(size, kernel, stride=1, pad=0):
    return (size + 2 * pad - kernel) * stride + 1


def out_size_default_pad_one(size, kernel, stride=1, pad=1):
    return (size + 2 * pad - kernel) // stride + 1


def out_size_np_floor(size, kernel, stride=1, pad=0):
    return np.floor((size + 2 * pad - kernel) / stride) + 1  # a NumPy float


# ----------------------------------------------------------------- parameter counts
def param_count_by_enumeration(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    per_filter = kernel * kernel * channels + 1
    if shared:
        return n_filters * per_filter
    if pad == "same":
        rows, cols = len(range(0, height, stride)), len(range(0, width, stride))
    else:
        rows = len(range(0, height + 2 * pad - kernel + 1, stride))
        cols = len(range(0, width + 2 * pad - kernel + 1, stride))
    return rows * cols * n_filters * per_filter


def _count(height, width, channels, n_filters, kernel, stride, pad, shared, *, bias=1, channels_used=True,
           bias_per_filter=False, input_positions=False, filters_used=True, same="ceil", square=False,
           positions_when_shared=False):
    c = channels if channels_used else 1
    weights = kernel * kernel * c
    if same == "valid" and pad == "same":
        pad = 0
    if same == "symmetric" and pad == "same":
        pad = (kernel - 1) // 2
    if pad == "same":
        oh, ow = -(-height // stride), -(-width // stride)
    else:
        oh = (height + 2 * pad - kernel) // stride + 1
        ow = (width + 2 * pad - kernel) // stride + 1
    if square:
        ow = oh
    positions = height * width if input_positions else oh * ow
    f = n_filters if filters_used else 1
    if shared and not positions_when_shared:
        return f * (weights + bias)
    if bias_per_filter:
        return positions * f * weights + n_filters
    return positions * f * (weights + bias)


def param_count_no_bias(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, bias=0)


def param_count_channels_ignored(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, channels_used=False)


def param_count_one_bias_per_filter(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, bias_per_filter=True)


def param_count_input_positions(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, input_positions=True)


def param_count_filters_forgotten(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, filters_used=False)


def param_count_same_as_valid(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, same="valid")


def param_count_same_symmetric_padding(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, same="symmetric")


def param_count_square_image(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, square=True)


def param_count_positions_when_shared(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    return _count(height, width, channels, n_filters, kernel, stride, pad, shared, positions_when_shared=True)


def param_count_np_ceil(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True):
    if shared:
        return n_filters * (kernel * kernel * channels + 1)
    if pad == "same":
        oh, ow = np.ceil(height / stride), np.ceil(width / stride)  # NumPy floats
    else:
        oh, ow = (height + 2 * pad - kernel) // stride + 1, (width + 2 * pad - kernel) // stride + 1
    return oh * ow * n_filters * (kernel * kernel * channels + 1)


# ----------------------------------------------------------------- naive forward
def _pad(x, pad, one_side=False):
    return np.pad(x, ((0, 0), (0, 0), (pad, 0 if one_side else pad), (pad, 0 if one_side else pad)))


def _naive(x, w, b, stride, pad, *, flip=False, one_side=False, input_stride=True, out_stride=True,
           bias=True, plus_one=True):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = _pad(x, pad, one_side)
    oh = (xp.shape[2] - kh) // (stride if out_stride else 1) + int(plus_one)
    ow = (xp.shape[3] - kw) // (stride if out_stride else 1) + int(plus_one)
    k = w[:, :, ::-1, ::-1] if flip else w
    out = np.zeros((n, f, oh, ow))
    step = stride if input_stride else 1
    for i in range(n):
        for j in range(f):
            for r in range(oh):
                for s in range(ow):
                    win = xp[i, :, r * step : r * step + kh, s * step : s * step + kw]
                    out[i, j, r, s] = np.sum(win * k[j]) + (b[j] if bias else 0.0)
    return out, (x, w, b, stride, pad)


def conv_naive_four_loops(x, w, b, stride=1, pad=0):
    return _naive(x, w, b, stride, pad)


def conv_naive_einsum_windows(x, w, b, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    f, c, kh, kw = w.shape
    oh, ow = (xp.shape[2] - kh) // stride + 1, (xp.shape[3] - kw) // stride + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    return np.einsum("ncijpq,fcpq->nfij", win, w) + b[None, :, None, None], (x, w, b, stride, pad)


def conv_naive_kernel_flipped(x, w, b, stride=1, pad=0):
    return _naive(x, w, b, stride, pad, flip=True)


def conv_naive_pad_one_side(x, w, b, stride=1, pad=0):
    return _naive(x, w, b, stride, pad, one_side=True)


def conv_naive_stride_not_on_input_index(x, w, b, stride=1, pad=0):
    return _naive(x, w, b, stride, pad, input_stride=False)


def conv_naive_no_bias(x, w, b, stride=1, pad=0):
    return _naive(x, w, b, stride, pad, bias=False)


def conv_naive_output_size_without_plus_one(x, w, b, stride=1, pad=0):
    return _naive(x, w, b, stride, pad, plus_one=False)


def conv_naive_stride_only_on_input_index(x, w, b, stride=1, pad=0):
    # The output is sized as for stride 1 while the windows step by stride: they run off the image.
    return _naive(x, w, b, stride, pad, out_stride=False)


def conv_naive_output_dtype_of_x(x, w, b, stride=1, pad=0):
    out, cache = _naive(x, w, b, stride, pad)
    return out.astype(x.dtype), cache  # like np.zeros(..., dtype=x.dtype): integer images cut the output


def conv_naive_float32(x, w, b, stride=1, pad=0):
    out, cache = _naive(x, w, b, stride, pad)
    return out.astype(np.float32), cache


def conv_naive_caches_padded_x(x, w, b, stride=1, pad=0):
    out, _ = _naive(x, w, b, stride, pad)
    return out, (_pad(x, pad), w, b, stride, pad)


def conv_naive_default_pad_one(x, w, b, stride=1, pad=1):
    return _naive(x, w, b, stride, pad)


def conv_naive_calls_reference(x, w, b, stride=1, pad=0):
    return ref.conv_forward_naive(x, w, b, stride, pad)


# ----------------------------------------------------------------- conv matrix
def conv_matrix_by_unit_vectors(kernel, input_shape, stride=1, pad=0):
    h, w = input_shape
    cols = []
    for k in range(h * w):
        e = np.zeros((1, 1, h, w))
        e.flat[k] = 1.0
        cols.append(conv_naive_four_loops(e, kernel[None, None], np.zeros(1), stride, pad)[0].ravel())
    return np.stack(cols, axis=1)


def _matrix(kernel, input_shape, stride, pad, *, flip=False, transpose=False, keep_pad=False, no_stride=False):
    kh, kw = kernel.shape
    h, w = input_shape
    s = 1 if no_stride else stride
    oh, ow = (h + 2 * pad - kh) // s + 1, (w + 2 * pad - kw) // s + 1
    k = kernel[::-1, ::-1] if flip else kernel
    hp, wp = h + 2 * pad, w + 2 * pad
    m = np.zeros((oh * ow, hp * wp if keep_pad else h * w))
    for i in range(oh):
        for j in range(ow):
            for p in range(kh):
                for q in range(kw):
                    r, c = i * s + p, j * s + q
                    if keep_pad:
                        m[i * ow + j, r * wp + c] = k[p, q]
                    elif pad <= r < pad + h and pad <= c < pad + w:
                        m[i * ow + j, (r - pad) * w + (c - pad)] = k[p, q]
    return m.T if transpose else m


def conv_matrix_loops(kernel, input_shape, stride=1, pad=0):
    return _matrix(kernel, input_shape, stride, pad)


def conv_matrix_transposed(kernel, input_shape, stride=1, pad=0):
    return _matrix(kernel, input_shape, stride, pad, transpose=True)


def conv_matrix_kernel_flipped(kernel, input_shape, stride=1, pad=0):
    return _matrix(kernel, input_shape, stride, pad, flip=True)


def conv_matrix_padding_columns(kernel, input_shape, stride=1, pad=0):
    return _matrix(kernel, input_shape, stride, pad, keep_pad=True)


def conv_matrix_stride_ignored(kernel, input_shape, stride=1, pad=0):
    return _matrix(kernel, input_shape, stride, pad, no_stride=True)


def conv_matrix_float32(kernel, input_shape, stride=1, pad=0):
    return _matrix(kernel, input_shape, stride, pad).astype(np.float32)


def conv_matrix_memory_order(kernel, input_shape, stride=1, pad=0):
    kh, kw = kernel.shape
    flat = kernel.ravel(order="K")  # memory order: the index order only for a C-contiguous kernel
    return _matrix(flat.reshape(kh, kw), input_shape, stride, pad)


def conv_matrix_default_pad_one(kernel, input_shape, stride=1, pad=1):
    return _matrix(kernel, input_shape, stride, pad)


# ----------------------------------------------------------------- im2col
def im2col_loops(x, kh, kw, stride=1, pad=0):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    cols = np.zeros((n, c * kh * kw, oh * ow))
    for i in range(oh):
        for j in range(ow):
            cols[:, :, i * ow + j] = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw].reshape(n, -1)
    return cols


def im2col_sliding_window_view(x, kh, kw, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = win.shape[:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def _im2col(x, kh, kw, stride, pad, *, order="cpq", one_side=False, transposed=False, input_stride=True, use_pad=True):
    n, c, h, w = x.shape
    pad_eff = pad if use_pad else 0
    xp = _pad(x, pad_eff, one_side)
    oh, ow = (xp.shape[2] - kh) // stride + 1, (xp.shape[3] - kw) // stride + 1
    step = stride if input_stride else 1
    cols = np.zeros((n, c * kh * kw, oh * ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * step : i * step + kh, j * step : j * step + kw]
            if order == "pqc":
                win = win.transpose(0, 2, 3, 1)
            cols[:, :, i * ow + j] = win.reshape(n, -1)
    return cols.transpose(0, 2, 1) if transposed else cols


def im2col_rows_kernel_first(x, kh, kw, stride=1, pad=0):
    return _im2col(x, kh, kw, stride, pad, order="pqc")


def im2col_windows_as_rows(x, kh, kw, stride=1, pad=0):
    return _im2col(x, kh, kw, stride, pad, transposed=True)


def im2col_pad_one_side(x, kh, kw, stride=1, pad=0):
    return _im2col(x, kh, kw, stride, pad, one_side=True)


def im2col_no_padding(x, kh, kw, stride=1, pad=0):
    return _im2col(x, kh, kw, stride, pad, use_pad=False)


def im2col_stride_not_on_input_index(x, kh, kw, stride=1, pad=0):
    return _im2col(x, kh, kw, stride, pad, input_stride=False)


def im2col_as_strided_from_shape(x, kh, kw, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    n, c, h, w = xp.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    e = xp.itemsize  # strides worked out from the shape: right for C-contiguous arrays only
    view = np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, oh, ow), (c * h * w * e, h * w * e, w * e, e, stride * w * e, stride * e))
    return view.reshape(n, c * kh * kw, oh * ow).copy()


def im2col_default_pad_one(x, kh, kw, stride=1, pad=1):
    return im2col_loops(x, kh, kw, stride, pad)


def im2col_float32(x, kh, kw, stride=1, pad=0):
    return im2col_loops(x, kh, kw, stride, pad).astype(np.float32)


def im2col_in_place_padding(x, kh, kw, stride=1, pad=0):
    x[:, :, :pad, :] = 0  # "pads" by zeroing the caller's border
    return _im2col(x, kh, kw, stride, pad)


# ----------------------------------------------------------------- col2im
def col2im_add_at(cols, x_shape, kh, kw, stride=1, pad=0):
    n, c, h, w = x_shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    ci, pi, qi = np.unravel_index(np.arange(c * kh * kw), (c, kh, kw))
    ii, jj = np.unravel_index(np.arange(oh * ow), (oh, ow))
    rows = pi[:, None] + stride * ii[None, :]
    colsx = qi[:, None] + stride * jj[None, :]
    chans = np.broadcast_to(ci[:, None], rows.shape)
    for k in range(n):
        np.add.at(xp[k], (chans, rows, colsx), cols[k])
    return xp[:, :, pad : pad + h, pad : pad + w]


def col2im_per_window(cols, x_shape, kh, kw, stride=1, pad=0):
    n, c, h, w = x_shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    for i in range(oh):
        for j in range(ow):
            xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] += cols[:, :, i * ow + j].reshape(n, c, kh, kw)
    return xp[:, :, pad : pad + h, pad : pad + w]


def _col2im(cols, x_shape, kh, kw, stride, pad, *, overwrite=False, crop="both", average=False):
    n, c, h, w = x_shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    hits = np.zeros_like(xp)
    c6 = cols.reshape(n, c, kh, kw, oh, ow)
    for p in range(kh):
        for q in range(kw):
            sl = (slice(None), slice(None), slice(p, p + stride * (oh - 1) + 1, stride),
                  slice(q, q + stride * (ow - 1) + 1, stride))
            if overwrite:
                xp[sl] = c6[:, :, p, q]
            else:
                xp[sl] += c6[:, :, p, q]
            hits[sl] += 1
    if average:
        xp = xp / np.maximum(hits, 1)
    if crop == "none":
        return xp
    if crop == "one side":
        return xp[:, :, :h, :w]
    return xp[:, :, pad : pad + h, pad : pad + w]


def col2im_overwrites(cols, x_shape, kh, kw, stride=1, pad=0):
    return _col2im(cols, x_shape, kh, kw, stride, pad, overwrite=True)


def col2im_keeps_padding(cols, x_shape, kh, kw, stride=1, pad=0):
    return _col2im(cols, x_shape, kh, kw, stride, pad, crop="none")


def col2im_crops_one_side(cols, x_shape, kh, kw, stride=1, pad=0):
    return _col2im(cols, x_shape, kh, kw, stride, pad, crop="one side")


def col2im_averages_overlaps(cols, x_shape, kh, kw, stride=1, pad=0):
    return _col2im(cols, x_shape, kh, kw, stride, pad, average=True)


def col2im_overwrites_per_window(cols, x_shape, kh, kw, stride=1, pad=0):
    n, c, h, w = x_shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    for i in range(oh):
        for j in range(ow):
            xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] = cols[:, :, i * ow + j].reshape(n, c, kh, kw)
    return xp[:, :, pad : pad + h, pad : pad + w]


def col2im_float32(cols, x_shape, kh, kw, stride=1, pad=0):
    return col2im_per_window(cols, x_shape, kh, kw, stride, pad).astype(np.float32)


# ----------------------------------------------------------------- conv backward
def conv_backward_loops(dout, cache):
    x, w, b, stride, pad, cols = cache
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    n, f, oh, ow = dout.shape
    kh, kw = w.shape[2:]
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            g = dout[:, :, i, j]  # (N, F)
            dw += np.tensordot(g, win, axes=([0], [0]))
            dxp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] += np.tensordot(g, w, axes=([1], [0]))
    dx = dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def _conv_backward(dout, cache, *, col2im=None, db_axes=(0, 2, 3), sum_dw=True, dw_scale=1.0, flip_dw=False):
    x, w, b, stride, pad, cols = cache
    n, f = dout.shape[:2]
    kh, kw = w.shape[2:]
    d = dout.reshape(n, f, -1)
    db = dout.sum(axis=db_axes)
    dw_n = np.matmul(d, cols.transpose(0, 2, 1)).reshape((n,) + w.shape)
    dw = dw_n.sum(axis=0) * dw_scale if sum_dw else dw_n
    if flip_dw:
        dw = dw[:, :, ::-1, ::-1]
    dcols = np.matmul(w.reshape(f, -1).T, d)
    dx = (col2im or col2im_add_at)(dcols, x.shape, kh, kw, stride, pad)
    return dx, dw, db


def conv_backward_col2im_add_at(dout, cache):
    return _conv_backward(dout, cache)


def conv_backward_db_not_summed_over_batch(dout, cache):
    return _conv_backward(dout, cache, db_axes=(2, 3))


def conv_backward_dw_not_summed_over_batch(dout, cache):
    return _conv_backward(dout, cache, sum_dw=False)


def conv_backward_dw_divided_by_n(dout, cache):
    return _conv_backward(dout, cache, dw_scale=1.0 / dout.shape[0])


def conv_backward_dw_flipped(dout, cache):
    return _conv_backward(dout, cache, flip_dw=True)


def conv_backward_col2im_overwrites(dout, cache):
    return _conv_backward(dout, cache, col2im=col2im_overwrites)


def conv_backward_dx_keeps_padding(dout, cache):
    return _conv_backward(dout, cache, col2im=col2im_keeps_padding)


def conv_backward_dx_overwrites_per_window(dout, cache):
    return _conv_backward(dout, cache, col2im=col2im_overwrites_per_window)


def conv_backward_dx_zeros_like_x(dout, cache):
    x, w, b, stride, pad, cols = cache
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)  # integer images give an integer gradient array
    n, f, oh, ow = dout.shape
    kh, kw = w.shape[2:]
    for i in range(oh):
        for j in range(ow):
            dxp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] += np.tensordot(
                dout[:, :, i, j], w, axes=([1], [0])).astype(dxp.dtype)
    _, dw, db = _conv_backward(dout, cache)
    return dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]], dw, db


def conv_backward_float32(dout, cache):
    return tuple(g.astype(np.float32) for g in _conv_backward(dout, cache))


# ----------------------------------------------------------------- transposed convolution
def conv_transpose_loops(x, w, b, stride=1, pad=0):
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    ho, wo = (h - 1) * stride - 2 * pad + kh, (wd - 1) * stride - 2 * pad + kw
    big = np.zeros((n, cout, ho + 2 * pad, wo + 2 * pad))
    for i in range(h):
        for j in range(wd):
            big[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] += np.tensordot(
                x[:, :, i, j], w, axes=([1], [0]))
    return big[:, :, pad : pad + ho, pad : pad + wo] + b[None, :, None, None], (x, w, b, stride, pad)


def conv_transpose_through_conv_matrix(x, w, b, stride=1, pad=0):
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    ho, wo = (h - 1) * stride - 2 * pad + kh, (wd - 1) * stride - 2 * pad + kw
    out = np.zeros((n, cout, ho, wo))
    for c in range(cin):
        for o in range(cout):
            m = conv_matrix_loops(w[c, o], (ho, wo), stride, pad)  # (H·W, H_out·W_out)
            out[:, o] += (x[:, c].reshape(n, -1) @ m).reshape(n, ho, wo)
    return out + b[None, :, None, None], (x, w, b, stride, pad, "anything else")


def _transpose(x, w, b, stride, pad, *, flip=False, swap=False, crop="both", bias=True, use_stride=True,
               overwrite=False):
    k = w[:, :, ::-1, ::-1] if flip else w
    if swap:
        k = k.transpose(1, 0, 2, 3)
    s = stride if use_stride else 1
    n, cin, h, wd = x.shape
    _, cout, kh, kw = k.shape
    ho, wo = (h - 1) * s - 2 * pad + kh, (wd - 1) * s - 2 * pad + kw
    big = np.zeros((n, cout, ho + 2 * pad, wo + 2 * pad))
    for i in range(h):
        for j in range(wd):
            patch = np.tensordot(x[:, :, i, j], k, axes=([1], [0]))
            region = (slice(None), slice(None), slice(i * s, i * s + kh), slice(j * s, j * s + kw))
            if overwrite:
                big[region] = patch
            else:
                big[region] += patch
    out = {"both": big[:, :, pad : pad + ho, pad : pad + wo], "none": big, "one side": big[:, :, :ho, :wo]}[crop]
    return out + (b[None, :, None, None] if bias else 0.0), (x, w, b, stride, pad)


def conv_transpose_kernel_flipped(x, w, b, stride=1, pad=0):
    return _transpose(x, w, b, stride, pad, flip=True)


def conv_transpose_channels_swapped(x, w, b, stride=1, pad=0):
    return _transpose(x, w, b, stride, pad, swap=True)


def conv_transpose_keeps_padding(x, w, b, stride=1, pad=0):
    return _transpose(x, w, b, stride, pad, crop="none")


def conv_transpose_crops_one_side(x, w, b, stride=1, pad=0):
    return _transpose(x, w, b, stride, pad, crop="one side")


def conv_transpose_no_bias(x, w, b, stride=1, pad=0):
    return _transpose(x, w, b, stride, pad, bias=False)


def conv_transpose_stride_ignored(x, w, b, stride=1, pad=0):
    return _transpose(x, w, b, stride, pad, use_stride=False)


def conv_transpose_overwrites(x, w, b, stride=1, pad=0):
    return _transpose(x, w, b, stride, pad, overwrite=True)


def conv_transpose_size_h_times_stride(x, w, b, stride=1, pad=0):
    out, cache = _transpose(x, w, b, stride, pad)
    n, c = out.shape[:2]
    full = np.zeros((n, c, x.shape[2] * stride, x.shape[3] * stride))  # "upsampling by S"
    h, wd = min(full.shape[2], out.shape[2]), min(full.shape[3], out.shape[3])
    full[:, :, :h, :wd] = out[:, :, :h, :wd]
    return full, cache


def conv_transpose_no_cache(x, w, b, stride=1, pad=0):
    out, _ = _transpose(x, w, b, stride, pad)
    return out, None


# ----------------------------------------------------------------- max pool backward
def max_pool_backward_loops(dout, cache):
    x, pool, stride = cache
    stride = stride or pool
    dx = np.zeros(x.shape)
    n, c, oh, ow = dout.shape
    for a in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = x[a, ch, i * stride : i * stride + pool, j * stride : j * stride + pool]
                    r, s = np.unravel_index(np.argmax(win), win.shape)
                    dx[a, ch, i * stride + r, j * stride + s] += dout[a, ch, i, j]
    return dx


def max_pool_backward_vectorized(dout, cache):
    x, pool, stride = cache
    stride = pool if stride is None else stride
    n, c, oh, ow = dout.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    first = win.reshape(n, c, oh, ow, -1).argmax(axis=-1)
    r, q = np.divmod(first, pool)
    rows = np.arange(oh)[:, None] * stride + r
    cols = np.arange(ow)[None, :] * stride + q
    dx = np.zeros(x.shape)
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    np.add.at(dx, (nn[..., None, None], cc[..., None, None], rows, cols), dout)
    return dx


def _max_pool_backward(dout, cache, *, all_ties=False, overwrite=False, no_dout=False):
    x, pool, stride = cache
    stride = pool if stride is None else stride
    dx = np.zeros(x.shape)
    n, c, oh, ow = dout.shape
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool]
            flat = win.reshape(n, c, -1)
            if all_ties:
                mask = (flat == flat.max(axis=2, keepdims=True)).reshape(win.shape)
            else:
                mask = (np.arange(pool * pool) == flat.argmax(axis=2)[..., None]).reshape(win.shape)
            g = mask * (1.0 if no_dout else dout[:, :, i, j][:, :, None, None])
            region = dx[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool]
            if overwrite:
                region[mask] = g[mask]
            else:
                region += g
    return dx


def max_pool_backward_all_ties(dout, cache):
    return _max_pool_backward(dout, cache, all_ties=True)


def max_pool_backward_overwrites(dout, cache):
    return _max_pool_backward(dout, cache, overwrite=True)


def max_pool_backward_no_dout(dout, cache):
    return _max_pool_backward(dout, cache, no_dout=True)


def max_pool_backward_average(dout, cache):
    x, pool, stride = cache
    stride = pool if stride is None else stride
    dx = np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool] += dout[:, :, i, j][:, :, None, None] / pool**2
    return dx


def max_pool_backward_zeros_like_x(dout, cache):
    x, pool, stride = cache
    dx = np.zeros_like(x)  # integer images give an integer gradient array
    dx[...] = max_pool_backward_loops(dout, cache)
    return dx


def max_pool_backward_stride_required(dout, cache):
    x, pool, stride = cache
    n, c, oh, ow = dout.shape
    dx = np.zeros(x.shape)
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool]  # None: TypeError
            mask = (np.arange(pool * pool) == win.reshape(n, c, -1).argmax(axis=2)[..., None]).reshape(win.shape)
            dx[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool] += mask * dout[:, :, i, j, None, None]
    return dx


def max_pool_backward_as_strided_from_shape(dout, cache):
    x, pool, stride = cache
    stride = pool if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = dout.shape[2:]
    e = x.itemsize  # strides worked out from the shape: right for C-contiguous arrays only
    win = np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, pool, pool), (c * h * w * e, h * w * e, stride * w * e, stride * e, w * e, e))
    first = win.reshape(n, c, oh, ow, -1).argmax(axis=-1)
    r, q = np.divmod(first, pool)
    dx = np.zeros(x.shape)
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    rows = np.arange(oh)[:, None] * stride + r
    cols = np.arange(ow)[None, :] * stride + q
    np.add.at(dx, (nn[..., None, None], cc[..., None, None], rows, cols), dout)
    return dx


# ----------------------------------------------------------------- average pooling
def avg_pool_forward_einsum(x, pool=2, stride=None):
    s = stride or pool
    win = np.lib.stride_tricks.sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::s, ::s]
    return np.einsum("nchwpq->nchw", win) / pool**2, (x, pool, stride)


def _avg(x, pool, stride, *, scale=None, reduce="mean", stride_none=None):
    s = (stride_none if stride is None else stride) if stride_none is not None else (pool if stride is None else stride)
    n, c, h, w = x.shape
    oh, ow = (h - pool) // s + 1, (w - pool) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * s : i * s + pool, j * s : j * s + pool]
            out[:, :, i, j] = win.max(axis=(2, 3)) if reduce == "max" else win.sum(axis=(2, 3))
    if reduce == "mean":
        out = out / (pool * pool if scale is None else scale)
    return out, (x, pool, stride)


def avg_pool_forward_sum(x, pool=2, stride=None):
    return _avg(x, pool, stride, scale=1)


def avg_pool_forward_divides_by_pool(x, pool=2, stride=None):
    return _avg(x, pool, stride, scale=pool)


def avg_pool_forward_max(x, pool=2, stride=None):
    return _avg(x, pool, stride, reduce="max")


def avg_pool_forward_stride_none_is_one(x, pool=2, stride=None):
    return _avg(x, pool, stride, stride_none=1)


def avg_pool_forward_zeros_like_x(x, pool=2, stride=None):
    out, cache = _avg(x, pool, stride)
    cut = np.zeros_like(x, shape=out.shape)  # integer images give an integer output
    cut[...] = out
    return cut, cache


def avg_pool_forward_caches_output(x, pool=2, stride=None):
    out, _ = _avg(x, pool, stride)
    return out, (out, pool, stride)


def avg_pool_backward_loops(dout, cache):
    x, pool, stride = cache
    s = pool if stride is None else stride
    dx = np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * s : i * s + pool, j * s : j * s + pool] += dout[:, :, i, j, None, None] / pool**2
    return dx


def _avg_backward(dout, cache, *, scale=None, overwrite=False, average_overlaps=False):
    x, pool, stride = cache
    s = pool if stride is None else stride
    dx, hits = np.zeros(x.shape), np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            region = (slice(None), slice(None), slice(i * s, i * s + pool), slice(j * s, j * s + pool))
            g = dout[:, :, i, j, None, None] / (pool * pool if scale is None else scale)
            if overwrite:
                dx[region] = np.broadcast_to(g, dx[region].shape)
            else:
                dx[region] += g
            hits[region] += 1
    return dx / np.maximum(hits, 1) if average_overlaps else dx


def avg_pool_backward_no_division(dout, cache):
    return _avg_backward(dout, cache, scale=1)


def avg_pool_backward_divides_by_pool(dout, cache):
    return _avg_backward(dout, cache, scale=cache[1])


def avg_pool_backward_overwrites(dout, cache):
    return _avg_backward(dout, cache, overwrite=True)


def avg_pool_backward_averages_overlaps(dout, cache):
    return _avg_backward(dout, cache, average_overlaps=True)


def avg_pool_backward_stride_required(dout, cache):
    x, pool, stride = cache
    dx = np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):  # stride None (the forward's default): TypeError
            dx[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool] += dout[:, :, i, j, None, None] / pool**2
    return dx


def avg_pool_backward_max_pool_gradient(dout, cache):
    return max_pool_backward_loops(dout, cache)


def max_pool_backward_in_place(dout, cache):
    x, pool, stride = cache
    x[...] = 0  # scribbles over the cached input
    return max_pool_backward_loops(dout, (x, pool, stride))


CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_conv_output_size: [out_size_formula, out_size_by_sliding],
    checks.check_conv_param_count: [param_count_by_enumeration],
    checks.check_conv_forward_naive: [conv_naive_four_loops, conv_naive_einsum_windows],
    checks.check_conv_matrix: [conv_matrix_by_unit_vectors, conv_matrix_loops],
    checks.check_im2col: [im2col_loops, im2col_sliding_window_view],
    checks.check_col2im: [col2im_add_at, col2im_per_window],
    checks.check_conv_backward: [conv_backward_loops, conv_backward_col2im_add_at],
    checks.check_conv_transpose_forward: [conv_transpose_loops, conv_transpose_through_conv_matrix],
    checks.check_max_pool_backward: [max_pool_backward_loops, max_pool_backward_vectorized],
    checks.check_avg_pool_forward: [avg_pool_forward_einsum],
    checks.check_avg_pool_backward: [avg_pool_backward_loops],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_conv_output_size: ref.conv_output_size,
    checks.check_conv_param_count: ref.conv_param_count,
    checks.check_conv_forward_naive: ref.conv_forward_naive,
    checks.check_conv_matrix: ref.conv_matrix,
    checks.check_im2col: ref.im2col,
    checks.check_col2im: ref.col2im,
    checks.check_conv_backward: ref.conv_backward,
    checks.check_conv_transpose_forward: ref.conv_transpose_forward,
    checks.check_max_pool_backward: ref.max_pool_backward,
    checks.check_avg_pool_forward: ref.avg_pool_forward,
    checks.check_avg_pool_backward: ref.avg_pool_backward,
}

# (mutant, pattern the failure message must match, fails already in the public cases?)
MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_conv_output_size: [
        (out_size_no_plus_one, "conv_output_size is", True, r"forgot the \+ 1"),
        (out_size_pad_one_side, "conv_output_size is", True, r"both\* sides"),
        (out_size_ceil, "conv_output_size is", True, "rounds up"),
        (out_size_true_division, "not a whole number|integer division", True, None),
        (out_size_no_padding, "conv_output_size is", True, "padding is missing"),
        (out_size_times_stride, "conv_output_size is", True, "divide by the stride"),
        (out_size_default_pad_one, "conv_output_size is", False, "pad defaults to 0"),
        (out_size_np_floor, "returned the float", True, None),
    ],
    checks.check_conv_param_count: [
        (param_count_no_bias, "conv_param_count is", True, "biases are missing"),
        (param_count_channels_ignored, "conv_param_count is", True, "spans all input channels"),
        (param_count_one_bias_per_filter, "conv_param_count is", True, "own bias for every output neuron"),
        (param_count_input_positions, "conv_param_count is", True, "output positions"),
        (param_count_filters_forgotten, "conv_param_count is", True, "number of filters"),
        (param_count_same_as_valid, "conv_param_count is", True, "that count has no padding"),
        (param_count_same_symmetric_padding, "conv_param_count is", False, r"not \(kernel − 1\)//2"),
        (param_count_square_image, "conv_param_count is", True, "not square"),
        (param_count_positions_when_shared, "conv_param_count is", True, "reused at every position"),
        (param_count_np_ceil, "should return an int, got float64", True, "whole number"),
    ],
    checks.check_conv_forward_naive: [
        (conv_naive_kernel_flipped, "conv_forward_naive's out has wrong values", True, "kernel is flipped"),
        (conv_naive_pad_one_side, "conv_forward_naive's out has shape", True, "one side only"),
        (conv_naive_stride_not_on_input_index, "conv_forward_naive's out has wrong values", True, "stride is not applied to the input index"),
        (conv_naive_no_bias, "conv_forward_naive's out has wrong values", True, r"bias b\[f\] is missing"),
        (conv_naive_output_size_without_plus_one, "conv_forward_naive's out has shape", True, "one row and column short"),
        (conv_naive_stride_only_on_input_index, None, True, None),
        (conv_naive_calls_reference, "called dlcourse.ref", True, None),
        (conv_naive_output_dtype_of_x, "out has wrong values \\(integer x", False, "cut to whole numbers"),
        (conv_naive_float32, "out has dtype float32", True, "float32"),
        (conv_naive_caches_padded_x, r"the cache's x of shape .*\(the padded input\?\)", True, "as they were passed"),
        (conv_naive_default_pad_one, "out has shape", False, "defaults are stride=1 and pad=0"),
    ],
    checks.check_conv_matrix: [
        (conv_matrix_transposed, "conv_matrix has shape", True, "transposed"),
        (conv_matrix_kernel_flipped, "conv_matrix has wrong values", True, "kernel is flipped"),
        (conv_matrix_padding_columns, "conv_matrix has shape", True, "padding adds no columns"),
        (conv_matrix_stride_ignored, "conv_matrix has shape", True, "stride is ignored"),
        (conv_matrix_float32, "conv_matrix has dtype float32", True, "float32"),
        (conv_matrix_memory_order, r"conv_matrix has wrong values \(kernel of shape \(3, 2\) \(not C-contiguous\)",
         False, "memory order is not its index order"),
        (conv_matrix_default_pad_one, "conv_matrix has shape", False, "defaults are stride=1 and pad=0"),
    ],
    checks.check_im2col: [
        (im2col_rows_kernel_first, "im2col has wrong values", True, "wrong order"),
        (im2col_windows_as_rows, "im2col has shape", True, r"\*column\*"),
        (im2col_pad_one_side, "im2col has shape", True, "one side only"),
        (im2col_no_padding, "im2col has shape", True, "padding is missing"),
        (im2col_stride_not_on_input_index, "im2col has wrong values", True, "stride is not applied"),
        (im2col_in_place_padding, "in place", True, None),
        (im2col_as_strided_from_shape, "im2col has wrong values \\(x of shape \\(2, 3, 6, 5\\), transposed", False,
         "not C-contiguous"),
        (im2col_default_pad_one, "im2col has shape", False, "defaults are stride=1 and pad=0"),
        (im2col_float32, "im2col has dtype float32", True, "float32"),
    ],
    checks.check_col2im: [
        (col2im_overwrites, "col2im has wrong values", True, r"\*added\*"),
        (col2im_overwrites_per_window, "col2im has wrong values", True, r"\*added\*"),
        (col2im_keeps_padding, "col2im has shape", True, "padding is still there"),
        (col2im_crops_one_side, "col2im has wrong values", True, "one side only"),
        (col2im_averages_overlaps, "col2im has wrong values", True, "averaged"),
        (col2im_float32, "col2im has dtype float32", True, "float32"),
    ],
    checks.check_conv_backward: [
        (conv_backward_db_not_summed_over_batch, "db has shape", True, "summed over the batch too"),
        (conv_backward_dw_not_summed_over_batch, "dw has shape", True, "dw must be summed over the batch"),
        (conv_backward_dw_divided_by_n, "dw has wrong values", True, "dw is divided by N"),
        (conv_backward_dw_flipped, "dw has wrong values", True, "dw is flipped"),
        (conv_backward_col2im_overwrites, "dx has wrong values", True, r"\*added\*"),
        (conv_backward_dx_overwrites_per_window, "dx has wrong values", True, r"\*added\*"),
        (conv_backward_dx_keeps_padding, "dx has shape", True, "still includes the padding"),
        (conv_backward_dx_zeros_like_x, "dx has wrong values \\(integer x", False, "cut to whole numbers"),
        (conv_backward_float32, "db has dtype float32", True, "float32"),
    ],
    checks.check_conv_transpose_forward: [
        (conv_transpose_kernel_flipped, "conv_transpose_forward's out has wrong values", True, "kernel is flipped"),
        (conv_transpose_channels_swapped, None, True, None),
        (conv_transpose_keeps_padding, "out has shape", True, "padding is still there"),
        (conv_transpose_crops_one_side, "out has wrong values", True, "one side only"),
        (conv_transpose_no_bias, "out has wrong values", True, r"bias b\[o\] is missing"),
        (conv_transpose_stride_ignored, "out has shape", True, "stride is ignored"),
        (conv_transpose_overwrites, "out has wrong values", True, r"\*added\*"),
        (conv_transpose_size_h_times_stride, "out has shape", True, r"not H·S by W·S"),
        (conv_transpose_no_cache, "should be a tuple that starts with", True, None),
    ],
    checks.check_max_pool_backward: [
        (max_pool_backward_all_ties, "max_pool_backward's dx has wrong values", True, "every tied maximum"),
        (max_pool_backward_overwrites, "max_pool_backward's dx has wrong values", True, r"\*added\*"),
        (max_pool_backward_average, "max_pool_backward's dx has wrong values", True, "average pooling"),
        (max_pool_backward_no_dout, "max_pool_backward's dx has wrong values", True, "multiply by dout"),
        (max_pool_backward_in_place, "in place", True, None),
        (max_pool_backward_zeros_like_x, "dx has wrong values \\(integer x", False, "cut to whole numbers"),
        (max_pool_backward_stride_required, None, False, None),
        (max_pool_backward_as_strided_from_shape, "dx has wrong values \\(x of shape \\(2, 2, 6, 7\\), transposed",
         False, "not C-contiguous"),
    ],
    checks.check_avg_pool_forward: [
        (avg_pool_forward_sum, "avg_pool_forward's out has wrong values", True, "sum of each window"),
        (avg_pool_forward_divides_by_pool, "out has wrong values", True, "not by pool"),
        (avg_pool_forward_max, "out has wrong values", True, "that is max pooling"),
        (avg_pool_forward_stride_none_is_one, "out has shape", False, "stride None means stride = pool"),
        (avg_pool_forward_zeros_like_x, "out has wrong values \\(integer x", False, "cut to whole numbers"),
        (avg_pool_forward_caches_output, "the cache's x should be the x you were given", True, None),
    ],
    checks.check_avg_pool_backward: [
        (avg_pool_backward_no_division, "avg_pool_backward's dx has wrong values", True, "divide by pool·pool"),
        (avg_pool_backward_divides_by_pool, "dx has wrong values", True, "not by pool"),
        (avg_pool_backward_overwrites, "dx has wrong values", True, r"\*added\*"),
        (avg_pool_backward_averages_overlaps, "dx has wrong values", True, "without averaging"),
        (avg_pool_backward_max_pool_gradient, "dx has wrong values", True, "max pooling's gradient"),
        (avg_pool_backward_stride_required, None, False, None),
    ],
}
