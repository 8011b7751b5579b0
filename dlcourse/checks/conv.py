"""Checks for lecture 08-convolution.

Each ``check_*`` takes the student's function and ``hidden``. Public cases are small and fixed
but already use padding, strides > 1 and non-square kernels; hidden ones add random shapes,
strides and paddings, non-square images and kernels, a batch of one, and (for the backward
passes) finite-difference gradient checks. Expected values come from :mod:`dlcourse.ref` at
check time. Strides and paddings given to the student's functions are plain ints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_scalar
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import GRAD_TOL, expect_backward_matches_finite_differences
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_conv_output_size",
    "check_conv_forward_naive",
    "check_conv_matrix",
    "check_im2col",
    "check_col2im",
    "check_conv_backward",
    "check_max_pool_backward",
]

SALT = 80_808  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng


def _geometry(rng: np.random.Generator, hidden: bool) -> list[tuple[int, int, int, int, int, int, int, int, int]]:
    """(N, C, H, W, F, kh, kw, stride, pad) cases: public ones fixed, hidden ones drawn."""
    cases = [
        (2, 3, 5, 5, 2, 3, 3, 1, 2),  # padding 2, overlapping windows
        (1, 2, 7, 6, 3, 3, 2, 2, 1),  # stride 2, non-square kernel and image
    ]
    if hidden:
        cases += [
            (1, 1, 4, 4, 1, 2, 2, 2, 0),  # windows that tile the image exactly
            (3, 2, 6, 9, 2, 1, 4, 1, 2),  # wide kernel, padding 2
            (2, 1, 8, 5, 4, 3, 3, 3, 1),  # stride 3: a last partial window is dropped
        ]
        for _ in range(3):
            kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
            s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
            h = int(rng.integers(max(kh, 2), 10))
            w = int(rng.integers(max(kw, 2), 10))
            cases.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), h, w, int(rng.integers(1, 4)), kh, kw, s, p))
    return cases


def _describe(n: int, c: int, h: int, w: int, f: int, kh: int, kw: int, s: int, p: int) -> str:
    return f"x of shape {(n, c, h, w)}, w of shape {(f, c, kh, kw)}, stride={s}, pad={p}"


def _pad_one_side(x: np.ndarray, p: int) -> np.ndarray:
    """The classic slip: zeros only before (top/left) instead of on both sides."""
    return np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0)))


# --------------------------------------------------------------------------- output size


@exercise("conv_output_size")
def check_conv_output_size(conv_output_size: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``conv_output_size(size, kernel, stride=1, pad=0) -> int``."""
    rng = case_rng(hidden, SALT)
    # The first case tells the classic slips apart (each gives a different number); then the lecture's.
    cases = [(6, 3, 1, 2), (32, 8, 2, 1), (5, 3, 1, 0), (5, 3, 1, 1), (7, 3, 2, 0), (28, 5, 2, 0), (6, 3, 2, 1)]
    if hidden:
        cases += [(1, 1, 1, 0), (4, 4, 1, 0), (10, 3, 3, 0), (224, 7, 2, 3), (9, 2, 4, 2)]
        for _ in range(6):
            k, s, p = int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
            cases.append((int(rng.integers(max(k - 2 * p, 1), 40)), k, s, p))
    run = CheckRun("conv_output_size", hidden)
    for size, k, s, p in run.cases(cases):
        with run.case():
            case = f"size={size}, kernel={k}, stride={s}, pad={p}"
            got = call_student(conv_output_size, size, k, s, p, name="conv_output_size")
            expected = ref.conv_output_size(size, k, s, p)
            span = size + 2 * p - k
            if isinstance(got, float) and got == expected:
                raise CheckFailure(f"conv_output_size returned the float {got!r} ({case}): a size is an int; "
                                   f"use integer division //.")
            if isinstance(got, (float, np.floating)) and not float(got).is_integer():
                raise CheckFailure(f"conv_output_size returned {got!r}, not a whole number ({case}). When the stride "
                                   f"does not divide (size + 2·pad − kernel), the last partial window is dropped: "
                                   f"use floor division //.")
            if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
                raise CheckFailure(f"conv_output_size should return an int, got {type(got).__name__} ({case}).")
            expect_scalar(got, expected, what="conv_output_size", case=case, mistakes=[
                Mistake(span // s, "you forgot the + 1: a kernel as large as the padded input still fits once."),
                Mistake((size + p - k) // s + 1, "padding adds pad zeros on *both* sides: use size + 2·pad."),
                Mistake((size - k) // s + 1, "the padding is missing: use size + 2·pad − kernel."),
                Mistake(-(-span // s) + 1, "that rounds up; a window that would stick out is dropped, so round "
                        "down (floor division //). Rounding up is TensorFlow's SAME mode, a different rule."),
                Mistake(span * s + 1, "divide by the stride: each step moves the window stride pixels."),
                Mistake(span + 1, "divide by the stride: each step moves the window stride pixels."),
            ])
    run.passed()


# --------------------------------------------------------------------------- naive forward


def _conv_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray, int, int]]:
    rng = case_rng(hidden, SALT)
    for n, c, h, w, f, kh, kw, s, p in _geometry(rng, hidden):
        x = rng.standard_normal((n, c, h, w))
        wt = rng.standard_normal((f, c, kh, kw))
        b = rng.standard_normal(f)
        yield _describe(n, c, h, w, f, kh, kw, s, p), x, wt, b, s, p


def _conv_mistakes(x: np.ndarray, w: np.ndarray, b: np.ndarray, s: int, p: int, expected: np.ndarray) -> list[Mistake]:
    oh, ow = expected.shape[2:]
    unstrided = ref.conv_forward(x, w, b, 1, p)[0]
    return [
        Mistake(ref.conv_forward(x, w[:, :, ::-1, ::-1], b, s, p)[0],
                "the kernel is flipped: that is the lecture's true convolution I(i − m, j − n). Conv layers "
                "compute the cross-correlation Σ x̂[c, i·s + p, j·s + q] · w[f, c, p, q], kernel unflipped."),
        Mistake(ref.conv_forward(_pad_one_side(x, p), w, b, s, 0)[0],
                "the zeros are added on one side only: pad top and bottom, left and right, "
                "e.g. np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."),
        Mistake(unstrided[:, :, :oh, :ow],
                "the output has the right size but the stride is not applied to the input index: the "
                "window of output (i, j) starts at row i·stride and column j·stride of the padded input."),
        Mistake(unstrided[:, :, ::s, ::s] if s > 1 else None,
                "the output size ignores the stride: OH = (H + 2·pad − kh) // stride + 1."),
        Mistake(ref.conv_forward(x, w, np.zeros_like(b), s, p)[0], "the bias b[f] is missing."),
        Mistake(ref.conv_forward(x, w, b, s, 0)[0], "the padding is missing: pad x with zeros first."),
        Mistake(expected[..., :-1, :-1] if min(oh, ow) > 1 else None,
                "the output is one row and column short: OH = (H + 2·pad − kh) // stride + 1, with the + 1."),
    ]


@exercise("conv_forward_naive")
def check_conv_forward_naive(conv_forward_naive: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``conv_forward_naive(x, w, b, stride=1, pad=0) -> (out, cache)``, cache = (x, w, b, stride, pad)."""
    run = CheckRun("conv_forward_naive", hidden)
    for case, x, w, b, s, p in run.cases(_conv_cases(hidden)):
        with run.case():
            result = call_student(conv_forward_naive, x, w, b, s, p, name="conv_forward_naive")
            out, cache = unpack(result, 2, name="conv_forward_naive", names=("out", "cache"))
            expected, _ = ref.conv_forward(x, w, b, s, p)
            expect_array(out, expected, what="conv_forward_naive's out", case=case,
                         mistakes=_conv_mistakes(x, w, b, s, p, expected))
    run.passed()


# --------------------------------------------------------------------------- convolution matrix


@exercise("conv_matrix")
def check_conv_matrix(conv_matrix: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``conv_matrix(kernel, input_shape, stride=1, pad=0) -> M`` of shape (OH·OW, H·W)."""
    rng = case_rng(hidden, SALT)
    cases = [(np.array([[1.0, 2.0], [3.0, 4.0]]), (3, 3), 1, 0), (rng.standard_normal((3, 2)), (4, 5), 2, 1)]
    if hidden:
        cases += [(rng.standard_normal((1, 1)), (2, 3), 1, 0), (rng.standard_normal((3, 3)), (5, 5), 1, 1),
                  (rng.standard_normal((2, 4)), (6, 7), 3, 2)]
        for _ in range(2):
            kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            cases.append((rng.standard_normal((kh, kw)), (int(rng.integers(kh, 7)), int(rng.integers(kw, 7))),
                          int(rng.integers(1, 3)), int(rng.integers(0, 2))))
    run = CheckRun("conv_matrix", hidden)
    for kernel, shape, s, p in run.cases(cases):
        with run.case():
            case = f"kernel of shape {kernel.shape}, input_shape={shape}, stride={s}, pad={p}"
            got = call_student(conv_matrix, kernel, shape, s, p, name="conv_matrix")
            expected = ref.conv_matrix(kernel, shape, s, p)
            h, w = shape
            padded = ref.conv_matrix(kernel, (h + 2 * p, w + 2 * p), s, 0)
            mistakes = [
                Mistake(expected.T, "the matrix is transposed: one row per output pixel (OH·OW rows), "
                        "one column per input pixel (H·W columns)."),
                Mistake(ref.conv_matrix(kernel[::-1, ::-1], shape, s, p),
                        "the kernel is flipped: row (i, j) holds kernel[p, q] in the column of input pixel "
                        "(i·stride + p − pad, j·stride + q − pad)."),
                Mistake(padded, "padding adds no columns: a padded position multiplies a zero, so leave its "
                        "weight out (the matrix has H·W columns)."),
                Mistake(ref.conv_matrix(kernel, shape, 1, p), "the stride is ignored: row (i, j) starts at input "
                        "pixel (i·stride − pad, j·stride − pad)."),
            ]
            if p:
                one_side = ref.conv_matrix(kernel, (h + p, w + p), s, 0).reshape(-1, h + p, w + p)[:, p:, p:]
                mistakes.append(Mistake(one_side.reshape(len(one_side), -1),
                                        "the zeros are on one side only: pad both sides of each axis."))
            expect_array(got, expected, what="conv_matrix", case=case, mistakes=mistakes)
    run.passed()


# --------------------------------------------------------------------------- im2col / col2im


def _windows_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, int, int, int, int]]:
    rng = case_rng(hidden, SALT)
    for n, c, h, w, _, kh, kw, s, p in _geometry(rng, hidden):
        yield (f"x of shape {(n, c, h, w)}, kh={kh}, kw={kw}, stride={s}, pad={p}",
               rng.standard_normal((n, c, h, w)), kh, kw, s, p)


@exercise("im2col")
def check_im2col(im2col: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``im2col(x, kh, kw, stride=1, pad=0) -> cols`` of shape (N, C·kh·kw, OH·OW) (F.unfold's layout)."""
    run = CheckRun("im2col", hidden)
    for case, x, kh, kw, s, p in run.cases(_windows_cases(hidden)):
        with run.case():
            got = call_student(im2col, x, kh, kw, s, p, name="im2col")
            expected = ref.im2col(x, kh, kw, s, p)
            n, c = x.shape[:2]
            pqc = expected.reshape(n, c, kh * kw, -1).transpose(0, 2, 1, 3).reshape(expected.shape)
            unstrided = ref.im2col(x, kh, kw, 1, p)
            oh, ow = ref.conv_output_size(x.shape[2], kh, s, p), ref.conv_output_size(x.shape[3], kw, s, p)
            oh1, ow1 = ref.conv_output_size(x.shape[2], kh, 1, p), ref.conv_output_size(x.shape[3], kw, 1, p)
            expect_array(got, expected, what="im2col", case=case, mistakes=[
                Mistake(expected.transpose(0, 2, 1), "each window is a *column*: cols has shape (N, C·kh·kw, OH·OW)."),
                Mistake(pqc, "the rows are in the wrong order: row (c·kh + p)·kw + q holds channel c, kernel row p, "
                        "kernel column q (channel first, as F.unfold and w.reshape(F, -1) order them)."),
                Mistake(ref.im2col(_pad_one_side(x, p), kh, kw, s, 0), "the zeros are added on one side only: "
                        "pad both sides of each axis."),
                Mistake(ref.im2col(x, kh, kw, s, 0), "the padding is missing: pad x with zeros first."),
                Mistake(unstrided.reshape(n, -1, oh1, ow1)[:, :, :oh, :ow].reshape(expected.shape),
                        "the stride is not applied to the input index: window (i, j) starts at (i·stride, j·stride)."),
            ])
    run.passed()


def _col2im_overwrite(cols: np.ndarray, x_shape: tuple[int, ...], kh: int, kw: int, s: int, p: int) -> np.ndarray:
    n, c, h, w = x_shape
    oh, ow = ref.conv_output_size(h, kh, s, p), ref.conv_output_size(w, kw, s, p)
    c6 = cols.reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + 2 * p, w + 2 * p))
    for a in range(kh):
        for b in range(kw):
            xp[:, :, a : a + s * (oh - 1) + 1 : s, b : b + s * (ow - 1) + 1 : s] = c6[:, :, a, b]
    return xp[:, :, p : p + h, p : p + w]


OVERLAP_HINT = ("where windows overlap, their values must be *added* (+=), not overwritten: col2im is the "
                "backward pass of im2col, and an input pixel read by several windows collects the gradient "
                "of each.")


def _expect_folded(got: Any, expected: np.ndarray, counts: np.ndarray, what: str, case: str,
                   mistakes: list[Mistake], **tol: float) -> None:
    """expect_array, plus a diagnosis when only the pixels shared by several windows are wrong."""

    def overlaps_only(values: np.ndarray) -> str:
        with np.errstate(all="ignore"):
            wrong = ~np.isclose(values, expected, rtol=1e-6, atol=1e-9)
        if wrong.any() and (counts[wrong] > 1).all():
            return f"only pixels covered by several windows are wrong: {OVERLAP_HINT}"
        return ""

    expect_array(got, expected, what=what, case=case, mistakes=mistakes, hint=overlaps_only, **tol)


@exercise("col2im")
def check_col2im(col2im: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``col2im(cols, x_shape, kh, kw, stride=1, pad=0) -> x`` (F.fold: overlaps add, padding dropped)."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("col2im", hidden)
    for case, x, kh, kw, s, p in run.cases(_windows_cases(hidden)):
        with run.case():
            cols = rng.standard_normal(ref.im2col(x, kh, kw, s, p).shape)
            shape = x.shape
            got = call_student(col2im, cols, shape, kh, kw, s, p, name="col2im")
            expected = ref.col2im(cols, shape, kh, kw, s, p)
            counts = ref.col2im(np.ones_like(cols), shape, kh, kw, s, p)
            n, c, h, w = shape
            big = ref.col2im(cols, (n, c, h + 2 * p, w + 2 * p), kh, kw, s, 0)
            _expect_folded(got, expected, counts, "col2im", f"cols of shape {cols.shape}, " + case, mistakes=[
                Mistake(_col2im_overwrite(cols, shape, kh, kw, s, p), OVERLAP_HINT),
                Mistake(big, "the padding is still there: return the inner (H, W) part of the padded image."),
                Mistake(big[:, :, :h, :w], "the padding is cropped from one side only: drop pad rows/columns at "
                        "both ends, xp[:, :, pad:pad + H, pad:pad + W]."),
                Mistake(expected / np.maximum(counts, 1), "overlaps are averaged; col2im adds them (it is the "
                        "adjoint of im2col, not its inverse)."),
            ])
    run.passed()


# --------------------------------------------------------------------------- conv backward


@exercise("conv_backward")
def check_conv_backward(conv_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``conv_backward(dout, cache) -> (dx, dw, db)`` with cache = (x, w, b, stride, pad, cols)."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("conv_backward", hidden)
    for case, x, w, b, s, p in run.cases(_conv_cases(hidden)):
        with run.case():
            out, cache = ref.conv_forward(x, w, b, s, p)
            dout = rng.standard_normal(out.shape)
            result = call_student(conv_backward, dout, cache, name="conv_backward")
            dx, dw, db = unpack(result, 3, name="conv_backward", names=("dx", "dw", "db"))
            edx, edw, edb = ref.conv_backward(dout, cache)
            n, f = dout.shape[:2]
            kh, kw = w.shape[2:]
            cols = cache[5]
            dcols = np.matmul(w.reshape(f, -1).T, dout.reshape(n, f, -1))
            counts = ref.col2im(np.ones_like(cols), x.shape, kh, kw, s, p)
            nh, nw = x.shape[2] + 2 * p, x.shape[3] + 2 * p
            per_example = np.matmul(dout.reshape(n, f, -1), cols.transpose(0, 2, 1)).reshape((n,) + w.shape)
            # db first: the simplest gradient, and its mistakes are unambiguous.
            expect_array(db, edb, what="db", case=case, **GRAD_TOL, mistakes=[
                Mistake(dout.sum(axis=(2, 3)), "db must be summed over the batch too: Σ over n, i and j."),
                Mistake(dout.sum(axis=(0, 2, 3)) / n, "db is divided by N; sum, the 1/N is already in dout."),
                Mistake(dout.mean(axis=(0, 2, 3)), "db is averaged; sum dout over n, i and j."),
                Mistake(dout.sum(axis=(0, 1)), "db is summed over the wrong axes: keep axis 1 (the filters)."),
            ])
            expect_array(dw, edw, what="dw", case=case, **GRAD_TOL, mistakes=[
                Mistake(per_example, "dw must be summed over the batch: every example uses the same filters."),
                Mistake(edw / n, "dw is divided by N; the 1/N is already in dout."),
                Mistake(edw[:, :, ::-1, ::-1], "dw is flipped: dw[f, c, p, q] = Σ dout[n, f, i, j] · "
                        "x̂[n, c, i·s + p, j·s + q], the same (unflipped) indexing as the forward pass."),
            ])
            _expect_folded(dx, edx, counts, "dx", case, mistakes=[
                Mistake(_col2im_overwrite(dcols, x.shape, kh, kw, s, p), OVERLAP_HINT),
                Mistake(ref.col2im(dcols, (n, x.shape[1], nh, nw), kh, kw, s, 0),
                        "dx still includes the padding: crop it to x's shape (H, W)."),
                Mistake(dcols, "dx is still in column form: fold it back with col2im."),
                Mistake(ref.col2im(np.matmul(w[:, :, ::-1, ::-1].reshape(f, -1).T, dout.reshape(n, f, -1)),
                                   x.shape, kh, kw, s, p),
                        "dx used a flipped kernel; with im2col, dx = col2im(w̃ᵀ · dout), w̃ = w.reshape(F, −1)."),
            ], **GRAD_TOL)
            if hidden and x.size * w.size < 4000:
                expect_backward_matches_finite_differences(
                    "conv_backward", lambda xx, ww, bb: ref.conv_forward(xx, ww, bb, s, p)[0],
                    (x, w, b), dout, (dx, dw, db), ("dx", "dw", "db"), case=case)
    run.passed()


# --------------------------------------------------------------------------- max pooling backward


def _pool_cases(hidden: bool) -> Iterator[tuple[str, np.ndarray, int, int]]:
    rng = case_rng(hidden, SALT)
    # Small integers make ties (several maxima in one window) common, as after a ReLU.
    geoms = [((2, 2, 4, 4), 2, 2), ((1, 2, 5, 6), 3, 1), ((2, 1, 6, 5), 2, 1)]
    if hidden:
        geoms += [((1, 1, 2, 2), 2, 2), ((3, 2, 7, 7), 3, 2), ((1, 3, 9, 4), 2, 3)]
        for _ in range(2):
            k, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            geoms.append(((int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(k, 9)),
                           int(rng.integers(k, 9))), k, s))
    for shape, k, s in geoms:
        yield f"x of shape {shape} with tied values, pool={k}, stride={s}", rng.integers(0, 3, shape).astype(float), k, s


def _route_to_all_maxima(x: np.ndarray, dout: np.ndarray, k: int, s: int) -> np.ndarray:
    cols = ref.im2col(x, k, k, s, 0).reshape(x.shape[0], x.shape[1], k * k, -1)
    mask = cols == cols.max(axis=2, keepdims=True)
    routed = mask * dout.reshape(x.shape[0], x.shape[1], 1, -1)
    return ref.col2im(routed.reshape(x.shape[0], -1, routed.shape[-1]), x.shape, k, k, s, 0)


@exercise("max_pool_backward")
def check_max_pool_backward(max_pool_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``max_pool_backward(dout, cache) -> dx`` with cache = (x, pool, stride)."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("max_pool_backward", hidden)
    for case, x, k, s in run.cases(_pool_cases(hidden)):
        with run.case():
            out, cache = ref.max_pool_forward(x, k, s)
            dout = rng.standard_normal(out.shape)
            got = call_student(max_pool_backward, dout, cache, name="max_pool_backward")
            expected = ref.max_pool_backward(dout, cache)
            counts = ref.col2im(np.ones((x.shape[0], x.shape[1] * k * k, out.shape[2] * out.shape[3])),
                                x.shape, k, k, s, 0)
            first = ref.im2col(x, k, k, s, 0).reshape(x.shape[0], x.shape[1], k * k, -1).argmax(axis=2)
            onehot = (np.arange(k * k)[None, None, :, None] == first[:, :, None, :]) * dout.reshape(
                x.shape[0], x.shape[1], 1, -1)
            is_first = (np.arange(k * k)[None, None, :, None] == first[:, :, None, :]).astype(float)
            mask_only = ref.col2im(is_first.reshape(x.shape[0], -1, is_first.shape[-1]), x.shape, k, k, s, 0)
            overwrite = _col2im_overwrite(onehot.reshape(x.shape[0], -1, onehot.shape[-1]), x.shape, k, k, s, 0)
            _expect_folded(got, expected, counts, "max_pool_backward's dx", case, mistakes=[
                Mistake(_route_to_all_maxima(x, dout, k, s),
                        "the gradient goes to every tied maximum of a window; only one input produced the max: "
                        "route it to the first maximum (np.argmax), as PyTorch does."),
                Mistake(overwrite, OVERLAP_HINT),
                Mistake(ref.avg_pool_backward(dout, cache), "that is average pooling's gradient; max pooling sends "
                        "each window's gradient to its maximum only."),
                Mistake(mask_only,
                        "multiply by dout: the mask of maxima only says where the gradient goes."),
            ], **GRAD_TOL)
    run.passed()
