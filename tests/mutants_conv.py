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


# ----------------------------------------------------------------- conv backward
def conv_backward_loops(dout, cache):
    x, w, b, stride, pad, cols = cache
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
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


# ----------------------------------------------------------------- max pool backward
def max_pool_backward_loops(dout, cache):
    x, pool, stride = cache
    dx = np.zeros_like(x)
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
    n, c, oh, ow = dout.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :oh, :ow]
    first = win.reshape(n, c, oh, ow, -1).argmax(axis=-1)
    r, q = np.divmod(first, pool)
    rows = np.arange(oh)[:, None] * stride + r
    cols = np.arange(ow)[None, :] * stride + q
    dx = np.zeros_like(x)
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    np.add.at(dx, (nn[..., None, None], cc[..., None, None], rows, cols), dout)
    return dx


def _max_pool_backward(dout, cache, *, all_ties=False, overwrite=False, no_dout=False):
    x, pool, stride = cache
    dx = np.zeros_like(x)
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
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool] += dout[:, :, i, j][:, :, None, None] / pool**2
    return dx


def max_pool_backward_in_place(dout, cache):
    x, pool, stride = cache
    x[...] = 0  # scribbles over the cached input
    return max_pool_backward_loops(dout, (x, pool, stride))


CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_conv_output_size: [out_size_formula, out_size_by_sliding],
    checks.check_conv_forward_naive: [conv_naive_four_loops, conv_naive_einsum_windows],
    checks.check_conv_matrix: [conv_matrix_by_unit_vectors, conv_matrix_loops],
    checks.check_im2col: [im2col_loops, im2col_sliding_window_view],
    checks.check_col2im: [col2im_add_at, col2im_per_window],
    checks.check_conv_backward: [conv_backward_loops, conv_backward_col2im_add_at],
    checks.check_max_pool_backward: [max_pool_backward_loops, max_pool_backward_vectorized],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_conv_output_size: ref.conv_output_size,
    checks.check_conv_forward_naive: ref.conv_forward_naive,
    checks.check_conv_matrix: ref.conv_matrix,
    checks.check_im2col: ref.im2col,
    checks.check_col2im: ref.col2im,
    checks.check_conv_backward: ref.conv_backward,
    checks.check_max_pool_backward: ref.max_pool_backward,
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
    ],
    checks.check_conv_forward_naive: [
        (conv_naive_kernel_flipped, "conv_forward_naive's out has wrong values", True, "kernel is flipped"),
        (conv_naive_pad_one_side, "conv_forward_naive's out has shape", True, "one side only"),
        (conv_naive_stride_not_on_input_index, "conv_forward_naive's out has wrong values", True, "stride is not applied to the input index"),
        (conv_naive_no_bias, "conv_forward_naive's out has wrong values", True, r"bias b\[f\] is missing"),
        (conv_naive_output_size_without_plus_one, "conv_forward_naive's out has shape", True, "one row and column short"),
        (conv_naive_stride_only_on_input_index, None, True, None),
        (conv_naive_calls_reference, "called dlcourse.ref", True, None),
    ],
    checks.check_conv_matrix: [
        (conv_matrix_transposed, "conv_matrix has shape", True, "transposed"),
        (conv_matrix_kernel_flipped, "conv_matrix has wrong values", True, "kernel is flipped"),
        (conv_matrix_padding_columns, "conv_matrix has shape", True, "padding adds no columns"),
        (conv_matrix_stride_ignored, "conv_matrix has shape", True, "stride is ignored"),
    ],
    checks.check_im2col: [
        (im2col_rows_kernel_first, "im2col has wrong values", True, "wrong order"),
        (im2col_windows_as_rows, "im2col has shape", True, r"\*column\*"),
        (im2col_pad_one_side, "im2col has shape", True, "one side only"),
        (im2col_no_padding, "im2col has shape", True, "padding is missing"),
        (im2col_stride_not_on_input_index, "im2col has wrong values", True, "stride is not applied"),
        (im2col_in_place_padding, "in place", True, None),
    ],
    checks.check_col2im: [
        (col2im_overwrites, "col2im has wrong values", True, r"\*added\*"),
        (col2im_overwrites_per_window, "col2im has wrong values", True, r"\*added\*"),
        (col2im_keeps_padding, "col2im has shape", True, "padding is still there"),
        (col2im_crops_one_side, "col2im has wrong values", True, "one side only"),
        (col2im_averages_overlaps, "col2im has wrong values", True, "averaged"),
    ],
    checks.check_conv_backward: [
        (conv_backward_db_not_summed_over_batch, "db has shape", True, "summed over the batch too"),
        (conv_backward_dw_not_summed_over_batch, "dw has shape", True, "dw must be summed over the batch"),
        (conv_backward_dw_divided_by_n, "dw has wrong values", True, "dw is divided by N"),
        (conv_backward_dw_flipped, "dw has wrong values", True, "dw is flipped"),
        (conv_backward_col2im_overwrites, "dx has wrong values", True, r"\*added\*"),
        (conv_backward_dx_overwrites_per_window, "dx has wrong values", True, r"\*added\*"),
        (conv_backward_dx_keeps_padding, "dx has shape", True, "still includes the padding"),
    ],
    checks.check_max_pool_backward: [
        (max_pool_backward_all_ties, "max_pool_backward's dx has wrong values", True, "every tied maximum"),
        (max_pool_backward_overwrites, "max_pool_backward's dx has wrong values", True, r"\*added\*"),
        (max_pool_backward_average, "max_pool_backward's dx has wrong values", True, "average pooling"),
        (max_pool_backward_no_dout, "max_pool_backward's dx has wrong values", True, "multiply by dout"),
        (max_pool_backward_in_place, "in place", True, None),
    ],
}
