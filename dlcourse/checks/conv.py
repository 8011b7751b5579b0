"""Checks for lecture 08-convolution.

Each ``check_*`` takes the student's function and ``hidden``. Public cases are small and fixed
but already use padding, strides > 1 and non-square kernels; hidden ones add random shapes,
strides and paddings, non-square images and kernels, a batch of one, and (for the backward
passes) finite-difference gradient checks, plus the inputs real code meets: the documented
defaults (calls without stride, pad or pool), integer images (pixel values) and NumPy integers,
transposed and strided (non-contiguous) arrays, ties in pooling windows, float64 results for
float64 inputs, and the cache contract (what it holds: the input itself, not a padded copy).
Expected values come from :mod:`dlcourse.ref` at check time. Strides and paddings given to the
student's functions are plain ints (a pooling stride may be None: the window size).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import (
    CheckRun,
    Mistake,
    expect_array,
    expect_float64_like,
    expect_scalar,
    truncated_mistake,
)
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.gradients import (
    GRAD_TOL,
    expect_backward_matches_finite_differences,
    expect_matches_finite_differences,
)
from dlcourse.checks.guard import call_student, unpack

__all__ = [
    "check_conv_output_size",
    "check_conv_param_count",
    "check_conv_forward_naive",
    "check_conv_matrix",
    "check_im2col",
    "check_col2im",
    "check_conv_backward",
    "check_conv_transpose_forward",
    "check_max_pool_backward",
    "check_avg_pool_forward",
    "check_avg_pool_backward",
]

SALT = 80_808  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng

# Integer images are valid input: an output array made with np.zeros_like(x) (or dtype=x.dtype)
# is then an integer array, and the float results written into it are cut.
TRUNCATED = ("x holds integers here (pixel values), and your result looks cut to whole numbers: an array made with "
             "np.zeros_like(x) (or dtype=x.dtype) has x's integer dtype. Create float arrays (np.zeros(shape)).")
NOT_CONTIGUOUS = ("x is not C-contiguous here (a transposed or strided view): strides computed from the shape do not "
                  "describe it. Use the array's own x.strides, or np.ascontiguousarray(x) first.")




def _layout(a: np.ndarray, layout: str) -> np.ndarray:
    """``a``'s values as is ("C"), transposed in memory ("T", Fortran order), or a strided view ("S")."""
    if layout == "S":
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    return np.asfortranarray(a) if layout == "T" else a


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
    # (size, kernel, stride, pad); stride and pad None: called without them (their defaults, 1 and 0).
    # The first case tells the classic slips apart (each gives a different number); then the lecture's.
    cases: list[tuple[Any, Any, Any, Any]] = [
        (6, 3, 1, 2), (32, 8, 2, 1), (5, 3, 1, 0), (5, 3, 1, 1), (7, 3, 2, 0), (28, 5, 2, 0), (6, 3, 2, 1)]
    if hidden:
        cases += [(1, 1, 1, 0), (4, 4, 1, 0), (10, 3, 3, 0), (224, 7, 2, 3), (9, 2, 4, 2)]
        for _ in range(6):
            k, s, p = int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
            cases.append((int(rng.integers(max(k - 2 * p, 1), 40)), k, s, p))
        cases += [(7, 3, None, None), (12, 5, 3, None),  # the defaults
                  (np.int64(15), np.int64(4), np.int64(2), np.int64(1))]  # NumPy integers (from an array's shape)
    run = CheckRun("conv_output_size", hidden)
    for size, k, given_s, given_p in run.cases(cases):
        with run.case():
            s = 1 if given_s is None else given_s
            p = 0 if given_p is None else given_p
            args = tuple(a for a in (size, k, given_s, given_p) if a is not None)
            defaults = " and ".join(n for n, a in (("stride", given_s), ("pad", given_p)) if a is None)
            case = (f"size={size}, kernel={k}, stride={s}, pad={p}" if not defaults else
                    f"size={size}, kernel={k}" + (f", stride={s}" if given_s is not None else "")
                    + f", {defaults} left at the default")
            if isinstance(size, np.integer):
                case += " (NumPy int64 arguments)"
            got = call_student(conv_output_size, *args, name="conv_output_size")
            expected = ref.conv_output_size(int(size), int(k), int(s), int(p))
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
                Mistake((size - k) // s + 1 if p else None, "the padding is missing: use size + 2·pad − kernel."),
                Mistake(-(-span // s) + 1, "that rounds up; a window that would stick out is dropped, so round "
                        "down (floor division //). Rounding up is TensorFlow's SAME mode, a different rule."),
                Mistake(span * s + 1, "divide by the stride: each step moves the window stride pixels."),
                Mistake(span + 1, "divide by the stride: each step moves the window stride pixels."),
                Mistake(ref.conv_output_size(int(size), int(k), int(s), 1) if defaults == "pad" or
                        defaults == "stride and pad" else None, "pad defaults to 0 (no padding): keep the "
                        "signature's defaults, stride=1 and pad=0."),
            ])
    run.passed()


# --------------------------------------------------------------------------- parameter counts


class _CountCase(NamedTuple):
    height: Any
    width: Any
    channels: Any
    filters: Any
    kernel: Any
    stride: Any  # None: not passed (default 1)
    pad: Any  # int, "same", or None: not passed (default 0)
    shared: bool | None  # None: not passed (default True)


def _count_cases(hidden: bool) -> list[_CountCase]:
    rng = case_rng(hidden, SALT)
    cases = [_CountCase(32, 32, 3, 20, 8, 2, 1, True), _CountCase(32, 32, 3, 20, 8, 2, 1, False),
             _CountCase(32, 32, 3, 20, 8, 2, "same", False), _CountCase(7, 5, 2, 4, 3, 1, 1, False)]
    if hidden:
        cases += [_CountCase(9, 9, 1, 1, 3, None, None, None),  # every default: a shared 3×3 filter
                  _CountCase(10, 6, 3, 2, 3, None, None, False),  # unshared, stride and pad at their defaults
                  _CountCase(7, 9, 3, 2, 2, 2, "same", False),  # SAME with a stride that divides neither side
                  _CountCase(6, 11, 2, 3, 2, 1, "same", False),  # SAME, even kernel: padding is uneven
                  _CountCase(5, 4, 2, 3, 5, 3, "same", True),  # sharing: the padding does not matter
                  _CountCase(8, 8, 4, 6, 8, 1, 0, False),  # the kernel covers the image: one position
                  _CountCase(*(np.int64(v) for v in (12, 10, 3, 4, 3, 2, 1)), False)]  # NumPy integers
        for _ in range(2):
            k = int(rng.integers(1, 6))
            cases.append(_CountCase(int(rng.integers(k, 30)), int(rng.integers(k, 30)), int(rng.integers(1, 8)),
                                    int(rng.integers(1, 30)), k, int(rng.integers(1, 4)), int(rng.integers(0, 3)), False))
    return cases


@exercise("conv_param_count")
def check_conv_param_count(conv_param_count: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``conv_param_count(height, width, channels, n_filters, kernel, stride=1, pad=0, shared=True) -> int``
    (``pad`` an int or "same")."""
    run = CheckRun("conv_param_count", hidden)
    for c in run.cases(_count_cases(hidden)):
        with run.case():
            h, w, ch, f, k = (int(v) for v in (c.height, c.width, c.channels, c.filters, c.kernel))
            s = 1 if c.stride is None else int(c.stride)
            pad = 0 if c.pad is None else (c.pad if isinstance(c.pad, str) else int(c.pad))
            shared = True if c.shared is None else c.shared
            kwargs = {name: v for name, v in (("stride", c.stride), ("pad", c.pad), ("shared", c.shared))
                      if v is not None}
            case = (f"height={c.height}, width={c.width}, channels={c.channels}, n_filters={c.filters}, "
                    f"kernel={c.kernel}, " + ", ".join(f"{n}={v!r}" for n, v in kwargs.items())
                    + (" (the other arguments at their defaults)" if len(kwargs) < 3 else "")
                    + (" (NumPy int64 arguments)" if isinstance(c.height, np.integer) else ""))
            got = call_student(conv_param_count, c.height, c.width, c.channels, c.filters, c.kernel,
                               name="conv_param_count", **kwargs)
            expected = ref.conv_param_count(h, w, ch, f, k, s, pad, shared=shared)
            if isinstance(got, (float, np.floating)) or not isinstance(got, (int, np.integer)) or isinstance(got, bool):
                raise CheckFailure(f"conv_param_count should return an int, got {type(got).__name__} {got!r} "
                                   f"({case}).\n  Hint: a count is a whole number: use // and integer arithmetic "
                                   f"(math.ceil of an int division, or -(-a // b), rather than np.ceil).")
            if pad == "same":
                oh, ow = -(-h // s), -(-w // s)
                valid = (ref.conv_output_size(h, k, s, 0) * ref.conv_output_size(w, k, s, 0)
                         if k <= min(h, w) else None)
                sym = (k - 1) // 2
                symmetric = (ref.conv_output_size(h, k, s, sym) * ref.conv_output_size(w, k, s, sym))
            else:
                oh, ow = ref.conv_output_size(h, k, s, pad), ref.conv_output_size(w, k, s, pad)
                valid = symmetric = None
            per = k * k * ch + 1
            positions = oh * ow
            square = (oh * oh) if h != w else None  # the height's output size used for both axes
            unshared = not shared
            expect_scalar(got, expected, what="conv_param_count", case=case, mistakes=[
                Mistake(f * (per - 1) * (positions if unshared else 1),
                        "the biases are missing: every filter (shared) or every output neuron (unshared) has one."),
                Mistake(f * (k * k + 1) * (positions if unshared else 1) if ch > 1 else None,
                        "a filter spans all input channels: it has kernel·kernel·channels weights."),
                Mistake(positions * f * (per - 1) + f if unshared else None, "a locally connected layer has its own "
                        "bias for every output neuron: OH·OW·F biases, not F."),
                Mistake(h * w * f * per if unshared and h * w != positions else None, "count the output positions "
                        "(OH·OW, from the output size), not the input pixels."),
                Mistake(per * (positions if unshared else 1) if f > 1 else None, "every filter has its own weights "
                        "(and, unshared, at every position): multiply by the number of filters too."),
                Mistake(valid * f * per if unshared and valid is not None and valid != positions else None,
                        "SAME padding keeps ⌈size/stride⌉ positions per axis whatever the kernel; that count has no "
                        "padding (VALID)."),
                Mistake(symmetric * f * per if unshared and symmetric is not None and symmetric != positions else None,
                        "SAME padding is not (kernel − 1)//2 zeros on each side: it pads as much as needed for "
                        "⌈size/stride⌉ positions, the odd zero after. Use the output size ⌈size/stride⌉ directly."),
                Mistake(square * f * per if unshared and square is not None and square != positions else None,
                        "the image is not square here: the output has OH·OW positions, with OH from the height and "
                        "OW from the width."),
                Mistake(f * per * positions if shared and positions > 1 else None, "with sharing, a filter's weights "
                        "are reused at every position: F·(kernel²·channels + 1), whatever the image size."),
            ])
    run.passed()


# --------------------------------------------------------------------------- naive forward


class _ConvCase(NamedTuple):
    case: str
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    stride: int
    pad: int
    defaults: bool = False  # called without stride and pad (their defaults, 1 and 0)


def _conv_cases(hidden: bool) -> Iterator[_ConvCase]:
    rng = case_rng(hidden, SALT)
    for n, c, h, w, f, kh, kw, s, p in _geometry(rng, hidden):
        x = rng.standard_normal((n, c, h, w))
        wt = rng.standard_normal((f, c, kh, kw))
        b = rng.standard_normal(f)
        yield _ConvCase(_describe(n, c, h, w, f, kh, kw, s, p), x, wt, b, s, p)
    if hidden:
        yield from _edge_cases(rng, [("defaults", (2, 2, 5, 6), (3, 2, 3, 3), 1, 0), ("int", (2, 3, 6, 6), (2, 3, 3, 3), 1, 1),
                                     ("T", (2, 3, 7, 5), (4, 3, 3, 2), 2, 0), ("S", (2, 3, 7, 5), (4, 3, 3, 2), 2, 0)],
                               bias_axis=0)


def _edge_cases(rng: np.random.Generator, specs: list[tuple[str, tuple[int, ...], tuple[int, ...], int, int]],
                bias_axis: int) -> Iterator[_ConvCase]:
    """A layer's hidden cases for the inputs real code meets, from (kind, x shape, w shape, stride, pad).

    kind: "defaults" (called without stride and pad), "int" (integer pixel values, small weights),
    "T" (x transposed in memory) or "S" (x a strided view). b has w.shape[bias_axis] entries.
    """
    what = {"int": "integer x (pixel values 0–255) of shape {}", "T": "x of shape {}, transposed in memory",
            "S": "x of shape {}, a strided view", "defaults": "x of shape {}"}
    for kind, xs, ws, s, p in specs:
        x = rng.integers(0, 256, xs) if kind == "int" else _layout(rng.standard_normal(xs), kind)
        w = rng.standard_normal(ws) * (0.01 if kind == "int" else 1.0)
        settings = "stride and pad left at their defaults" if kind == "defaults" else f"stride={s}, pad={p}"
        yield _ConvCase(f"{what[kind].format(xs)}, w of shape {ws}, {settings}", x, w,
                        rng.standard_normal(ws[bias_axis]), s, p, defaults=kind == "defaults")


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


def _expect_conv_cache(name: str, cache: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray, s: int, p: int,
                       case: str) -> None:
    """The cache holds (x, w, b, stride, pad): the input itself (not its padded copy) and the settings."""
    cx, cw, cb, cs, cp = unpack(cache, 5, name=f"{name}'s cache", names=("x", "w", "b", "stride", "pad"))[:5]
    for label, got, want in (("x", cx, x), ("w", cw, w), ("b", cb, b)):
        if not isinstance(got, np.ndarray) or got.shape != want.shape or not np.array_equal(got, want):
            shape = f" of shape {got.shape}" if isinstance(got, np.ndarray) else ""
            padded = " (the padded input?)" if label == "x" and isinstance(got, np.ndarray) and got.shape[2:] == \
                (x.shape[2] + 2 * p, x.shape[3] + 2 * p) and p else ""
            raise CheckFailure(f"the cache's {label}{shape} should be the {label} you were given{padded} ({case}).\n"
                               f"  Hint: cache (x, w, b, stride, pad) as they were passed: the backward pass pads x again.")
    if not (isinstance(cs, (int, np.integer)) and cs == s and isinstance(cp, (int, np.integer)) and cp == p):
        raise CheckFailure(f"the cache's stride and pad are {cs!r} and {cp!r}, expected {s} and {p} ({case}).")


@exercise("conv_forward_naive")
def check_conv_forward_naive(conv_forward_naive: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``conv_forward_naive(x, w, b, stride=1, pad=0) -> (out, cache)``, cache = (x, w, b, stride, pad)."""
    run = CheckRun("conv_forward_naive", hidden)
    for case, x, w, b, s, p, defaults in run.cases(_conv_cases(hidden)):
        with run.case():
            args = (x, w, b) if defaults else (x, w, b, s, p)
            result = call_student(conv_forward_naive, *args, name="conv_forward_naive")
            out, cache = unpack(result, 2, name="conv_forward_naive", names=("out", "cache"))
            expected, _ = ref.conv_forward(x, w, b, s, p)
            mistakes = _conv_mistakes(x, w, b, s, p, expected)
            if defaults:
                mistakes.append(Mistake(ref.conv_forward(x, w, b, 1, 1)[0], "called without stride and pad, the "
                                        "defaults are stride=1 and pad=0 (no padding)."))
            expect_float64_like(out, expected, what="conv_forward_naive's out", case=case)
            expect_array(out, expected, what="conv_forward_naive's out", case=case,
                         mistakes=[*mistakes, truncated_mistake(expected, x.dtype.kind in "iu", TRUNCATED)])
            _expect_conv_cache("conv_forward_naive", cache, x, w, b, s, p, case)
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
        cases += [(rng.standard_normal((2, 3)), (4, 5), None, None),  # stride and pad at their defaults
                  (np.array([[1, 2], [3, 4]]), (3, 3), 1, 0),  # the lecture's kernel, as integers
                  (_layout(rng.standard_normal((3, 2)), "T"), (5, 4), 2, 1),  # a transposed kernel
                  (_layout(rng.standard_normal((2, 2)), "S"), (4, 4), 1, 1)]  # a strided view
    run = CheckRun("conv_matrix", hidden)
    for kernel, shape, given_s, given_p in run.cases(cases):
        with run.case():
            s, p = (1, 0) if given_s is None else (given_s, given_p)
            case = (f"{'integer ' if kernel.dtype.kind in 'iu' else ''}kernel of shape {kernel.shape}"
                    f"{'' if kernel.flags.c_contiguous else ' (not C-contiguous)'}, input_shape={shape}, "
                    + ("stride and pad left at their defaults" if given_s is None else f"stride={s}, pad={p}"))
            args = (kernel, shape) if given_s is None else (kernel, shape, s, p)
            got = call_student(conv_matrix, *args, name="conv_matrix")
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
            if given_s is None:
                mistakes.append(Mistake(ref.conv_matrix(kernel, shape, 1, 1), "called without stride and pad, the "
                                        "defaults are stride=1 and pad=0 (no padding)."))
            if kernel.dtype.kind == "f":
                expect_float64_like(got, expected, what="conv_matrix", case=case)
            expect_array(got, expected, what="conv_matrix", case=case, mistakes=mistakes,
                         hint="" if kernel.flags.c_contiguous else "the kernel is not C-contiguous here (a transposed "
                         "or strided view): its memory order is not its index order. Read it as kernel[p, q] (or "
                         "ravel it in C order, the default).")
    run.passed()


# --------------------------------------------------------------------------- im2col / col2im


class _WindowCase(NamedTuple):
    case: str
    x: np.ndarray
    kh: int
    kw: int
    stride: int
    pad: int
    defaults: bool = False  # called without stride and pad (their defaults, 1 and 0)


def _windows_cases(hidden: bool) -> Iterator[_WindowCase]:
    rng = case_rng(hidden, SALT)
    for n, c, h, w, _, kh, kw, s, p in _geometry(rng, hidden):
        yield _WindowCase(f"x of shape {(n, c, h, w)}, kh={kh}, kw={kw}, stride={s}, pad={p}",
                          rng.standard_normal((n, c, h, w)), kh, kw, s, p)
    if hidden:
        yield _WindowCase("x of shape (2, 2, 5, 4), kh=3, kw=2, stride and pad left at their defaults",
                          rng.standard_normal((2, 2, 5, 4)), 3, 2, 1, 0, defaults=True)
        yield _WindowCase("integer x (pixel values 0–255) of shape (2, 3, 5, 5), kh=3, kw=3, stride=2, pad=1",
                          rng.integers(0, 256, (2, 3, 5, 5)), 3, 3, 2, 1)
        # Without padding nothing copies x: a window view must take x's own strides.
        for layout, what in (("T", "transposed in memory"), ("S", "a strided view")):
            yield _WindowCase(f"x of shape (2, 3, 6, 5), {what}, kh=2, kw=3, stride=1, pad=0",
                              _layout(rng.standard_normal((2, 3, 6, 5)), layout), 2, 3, 1, 0)


@exercise("im2col")
def check_im2col(im2col: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``im2col(x, kh, kw, stride=1, pad=0) -> cols`` of shape (N, C·kh·kw, OH·OW) (F.unfold's layout)."""
    run = CheckRun("im2col", hidden)
    for case, x, kh, kw, s, p, defaults in run.cases(_windows_cases(hidden)):
        with run.case():
            got = call_student(im2col, *((x, kh, kw) if defaults else (x, kh, kw, s, p)), name="im2col")
            expected = ref.im2col(x, kh, kw, s, p)
            n, c = x.shape[:2]
            pqc = expected.reshape(n, c, kh * kw, -1).transpose(0, 2, 1, 3).reshape(expected.shape)
            unstrided = ref.im2col(x, kh, kw, 1, p)
            oh, ow = ref.conv_output_size(x.shape[2], kh, s, p), ref.conv_output_size(x.shape[3], kw, s, p)
            oh1, ow1 = ref.conv_output_size(x.shape[2], kh, 1, p), ref.conv_output_size(x.shape[3], kw, 1, p)
            if x.dtype.kind == "f":
                expect_float64_like(got, expected, what="im2col", case=case)
            expect_array(got, expected, what="im2col", case=case, mistakes=[
                Mistake(expected.transpose(0, 2, 1), "each window is a *column*: cols has shape (N, C·kh·kw, OH·OW)."),
                Mistake(pqc, "the rows are in the wrong order: row (c·kh + p)·kw + q holds channel c, kernel row p, "
                        "kernel column q (channel first, as F.unfold and w.reshape(F, -1) order them)."),
                Mistake(ref.im2col(_pad_one_side(x, p), kh, kw, s, 0), "the zeros are added on one side only: "
                        "pad both sides of each axis."),
                Mistake(ref.im2col(x, kh, kw, s, 0), "the padding is missing: pad x with zeros first."),
                Mistake(unstrided.reshape(n, -1, oh1, ow1)[:, :, :oh, :ow].reshape(expected.shape),
                        "the stride is not applied to the input index: window (i, j) starts at (i·stride, j·stride)."),
                Mistake(ref.im2col(x, kh, kw, 1, 1) if defaults else None, "called without stride and pad, the "
                        "defaults are stride=1 and pad=0 (no padding)."),
            ], hint=NOT_CONTIGUOUS if not x.flags.c_contiguous else "")
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
                   mistakes: list[Mistake], hint: str = "", **tol: float) -> None:
    """expect_array, plus a diagnosis when only the pixels shared by several windows are wrong (else ``hint``)."""

    def overlaps_only(values: np.ndarray) -> str:
        with np.errstate(all="ignore"):
            wrong = ~np.isclose(values, expected, rtol=1e-6, atol=1e-9)
        if wrong.any() and (counts[wrong] > 1).all():
            return f"only pixels covered by several windows are wrong: {OVERLAP_HINT}"
        return hint

    expect_array(got, expected, what=what, case=case, mistakes=mistakes, hint=overlaps_only, **tol)


@exercise("col2im")
def check_col2im(col2im: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``col2im(cols, x_shape, kh, kw, stride=1, pad=0) -> x`` (F.fold: overlaps add, padding dropped)."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("col2im", hidden)
    for case, x, kh, kw, s, p, defaults in run.cases(_windows_cases(hidden)):
        with run.case():
            cols = rng.standard_normal(ref.im2col(x, kh, kw, s, p).shape)
            if not x.flags.c_contiguous:  # the layout of conv_forward's cached columns: a transposed view
                cols = np.ascontiguousarray(cols.transpose(0, 2, 1)).transpose(0, 2, 1)
                case = case.replace(", transposed in memory", "").replace(", a strided view", "") \
                    + ", cols a transposed (non-contiguous) view"
            elif x.dtype.kind in "iu":
                case = case.replace("integer x (pixel values 0–255)", "x_shape given as a list, x")
            shape = list(x.shape) if x.dtype.kind in "iu" else x.shape
            args = (cols, shape, kh, kw) if defaults else (cols, shape, kh, kw, s, p)
            got = call_student(col2im, *args, name="col2im")
            shape = x.shape
            expected = ref.col2im(cols, shape, kh, kw, s, p)
            counts = ref.col2im(np.ones_like(cols), shape, kh, kw, s, p)
            n, c, h, w = shape
            big = ref.col2im(cols, (n, c, h + 2 * p, w + 2 * p), kh, kw, s, 0)
            expect_float64_like(got, expected, what="col2im", case=case)
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
    for case, x, w, b, s, p, _ in run.cases(_conv_cases(hidden)):
        with run.case():
            out, cache = ref.conv_forward(x, w, b, s, p)
            dout = rng.standard_normal(out.shape)
            if not x.flags.c_contiguous:  # an upstream gradient in another memory layout
                dout = _layout(dout, "T" if x.flags.f_contiguous else "S")
                case += ", dout " + ("transposed in memory" if x.flags.f_contiguous else "a strided view")
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
            for label, got, want in (("db", db, edb), ("dw", dw, edw), ("dx", dx, edx)):
                expect_float64_like(got, want, what=label, case=case)
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
                truncated_mistake(edx, x.dtype.kind in "iu", TRUNCATED),
            ], **GRAD_TOL)
            if hidden and x.size * w.size < 4000:
                expect_backward_matches_finite_differences(
                    "conv_backward", lambda xx, ww, bb: ref.conv_forward(xx, ww, bb, s, p)[0],
                    (np.asarray(x, dtype=np.float64), w, b), dout, (dx, dw, db), ("dx", "dw", "db"), case=case)
    run.passed()


# --------------------------------------------------------------------------- transposed convolution


def _transpose_cases(hidden: bool) -> Iterator[_ConvCase]:
    """Inputs x (N, C_in, H, W), weights w (C_in, C_out, kh, kw) and b (C_out,) of a transposed convolution."""
    rng = case_rng(hidden, SALT)
    # (N, C_in, H, W, C_out, kh, kw, stride, pad)
    geoms = [(2, 3, 3, 4, 2, 3, 3, 1, 0), (1, 2, 3, 3, 3, 4, 4, 2, 1)]
    if hidden:
        geoms += [(1, 1, 2, 2, 1, 2, 2, 2, 0), (2, 2, 4, 3, 2, 3, 2, 3, 1), (3, 1, 5, 5, 2, 5, 5, 2, 2),
                  (2, 2, 3, 4, 2, 1, 3, 1, 0)]
        for _ in range(2):
            kh, kw, s = int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
            p = int(rng.integers(0, (min(kh, kw) + 1) // 2 + 1))
            geoms.append((int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(2, 6)),
                          int(rng.integers(2, 6)), int(rng.integers(1, 4)), kh, kw, s, p))
    for n, cin, h, w, cout, kh, kw, s, p in geoms:
        yield _ConvCase(f"x of shape {(n, cin, h, w)}, w of shape {(cin, cout, kh, kw)}, stride={s}, pad={p}",
                        rng.standard_normal((n, cin, h, w)), rng.standard_normal((cin, cout, kh, kw)),
                        rng.standard_normal(cout), s, p)
    if hidden:
        yield from _edge_cases(rng, [("defaults", (2, 2, 3, 3), (2, 3, 2, 2), 1, 0), ("int", (1, 2, 3, 3), (2, 2, 4, 4), 2, 1),
                                     ("T", (2, 3, 4, 3), (3, 2, 3, 3), 2, 1), ("S", (2, 3, 4, 3), (3, 2, 3, 3), 2, 1)],
                               bias_axis=1)


@exercise("conv_transpose_forward")
def check_conv_transpose_forward(conv_transpose_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``conv_transpose_forward(x, w, b, stride=1, pad=0) -> (out, cache)`` with w (C_in, C_out, kh, kw)
    and a cache that starts with (x, w, b, stride, pad)."""
    run = CheckRun("conv_transpose_forward", hidden)
    for case, x, w, b, s, p, defaults in run.cases(_transpose_cases(hidden)):
        with run.case():
            args = (x, w, b) if defaults else (x, w, b, s, p)
            result = call_student(conv_transpose_forward, *args, name="conv_transpose_forward")
            out, cache = unpack(result, 2, name="conv_transpose_forward", names=("out", "cache"))
            expected, _ = ref.conv_transpose_forward(x, w, b, s, p)
            n, cin, h, wd = x.shape
            _, cout, kh, kw = w.shape
            ho, wo = expected.shape[2:]
            xf = np.asarray(x, dtype=np.float64)
            cols = np.matmul(w.reshape(cin, -1).T, xf.reshape(n, cin, h * wd))
            uncropped = ref.col2im(cols, (n, cout, ho + 2 * p, wo + 2 * p), kh, kw, s, 0) + b.reshape(1, -1, 1, 1)
            mistakes = [
                Mistake(ref.conv_transpose_forward(x, w[:, :, ::-1, ::-1], b, s, p)[0], "the kernel is flipped: "
                        "input (i, j) adds x[n, c, i, j]·w[c, o, p, q] at output (i·S + p − P, j·S + q − P)."),
                Mistake(uncropped if p else None, "the padding is still there: crop P rows and columns from each side "
                        "of the output, H_out = (H − 1)·S − 2P + kh."),
                Mistake(uncropped[:, :, :ho, :wo] if p else None, "the padding is cropped from one side only: drop P "
                        "rows and columns at both ends."),
                Mistake(expected - b.reshape(1, -1, 1, 1), "the bias b[o] is missing."),
                Mistake(ref.conv_transpose_forward(x, w, b, 1, p)[0] if s > 1 else None, "the stride is ignored: "
                        "input (i, j) spreads its patch over the output window that starts at (i·S, j·S)."),
                Mistake(np.zeros((n, cout, h * s, wd * s)) if (h * s, wd * s) != (ho, wo) else None,
                        "the output size is (H − 1)·S − 2P + kh by (W − 1)·S − 2P + kw, not H·S by W·S.",
                        shape_only=True),
                *(Mistake(value + b.reshape(1, -1, 1, 1) if kh > s or kw > s else None, "where patches overlap, "
                          "their contributions must be *added* (+=), not overwritten: an output pixel covered by "
                          "several input positions sums them.", name="overwrite")
                  for value in (_col2im_overwrite(cols, (n, cout, ho, wo), kh, kw, s, p),  # per kernel offset
                                _patches_overwritten(xf, w, s, p, ho, wo))),  # per input position
                truncated_mistake(expected, x.dtype.kind in "iu", TRUNCATED),
            ]
            expect_float64_like(out, expected, what="conv_transpose_forward's out", case=case)
            expect_array(out, expected, what="conv_transpose_forward's out", case=case, mistakes=mistakes)
            if not isinstance(cache, (tuple, list)) or len(cache) < 5:
                raise CheckFailure(f"conv_transpose_forward's cache should be a tuple that starts with "
                                   f"(x, w, b, stride, pad) ({case}).")
            _expect_conv_cache("conv_transpose_forward", tuple(cache)[:5], x, w, b, s, p, case)
    run.passed()


def _patches_overwritten(x: np.ndarray, w: np.ndarray, s: int, p: int, ho: int, wo: int) -> np.ndarray:
    """A transposed convolution whose patches are written with ``=`` (the last input position wins)."""
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    big = np.zeros((n, w.shape[1], ho + 2 * p, wo + 2 * p))
    for i in range(h):
        for j in range(wd):
            big[:, :, i * s : i * s + kh, j * s : j * s + kw] = np.tensordot(x[:, :, i, j], w, axes=([1], [0]))
    return big[:, :, p : p + ho, p : p + wo]


# --------------------------------------------------------------------------- pooling


class _PoolCase(NamedTuple):
    case: str
    x: np.ndarray
    pool: int
    stride: int | None  # None: stride = pool, as max_pool_forward(x, pool) leaves it in its cache


def _pool_cases(hidden: bool) -> Iterator[_PoolCase]:
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
        yield _PoolCase(f"x of shape {shape} with tied values, pool={k}, stride={s}",
                        rng.integers(0, 3, shape).astype(float), k, s)
    if hidden:
        yield _PoolCase("x of shape (2, 2, 6, 6) with tied values, pool=2, stride None (= pool)",
                        rng.integers(0, 3, (2, 2, 6, 6)).astype(float), 2, None)
        yield _PoolCase("x of shape (1, 2, 7, 8) with tied values, pool=3, stride None (= pool)",
                        rng.integers(0, 3, (1, 2, 7, 8)).astype(float), 3, None)
        yield _PoolCase("integer x of shape (2, 3, 5, 5) with tied values, pool=2, stride=1",
                        rng.integers(0, 3, (2, 3, 5, 5)), 2, 1)
        for layout, what in (("T", "transposed in memory"), ("S", "a strided view")):
            yield _PoolCase(f"x of shape (2, 2, 6, 7), {what}, with tied values, pool=3, stride=2",
                            _layout(rng.integers(0, 3, (2, 2, 6, 7)).astype(float), layout), 3, 2)


def _route_to_all_maxima(x: np.ndarray, dout: np.ndarray, k: int, s: int) -> np.ndarray:
    cols = ref.im2col(x, k, k, s, 0).reshape(x.shape[0], x.shape[1], k * k, -1)
    mask = cols == cols.max(axis=2, keepdims=True)
    routed = mask * dout.reshape(x.shape[0], x.shape[1], 1, -1)
    return ref.col2im(routed.reshape(x.shape[0], -1, routed.shape[-1]), x.shape, k, k, s, 0)


def _pool_counts(x_shape: tuple[int, ...], k: int, s: int) -> np.ndarray:
    """How many windows cover each input pixel."""
    n, c, h, w = x_shape
    oh, ow = ref.conv_output_size(h, k, s), ref.conv_output_size(w, k, s)
    return ref.col2im(np.ones((n, c * k * k, oh * ow)), x_shape, k, k, s, 0)


@exercise("max_pool_backward")
def check_max_pool_backward(max_pool_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``max_pool_backward(dout, cache) -> dx`` with cache = (x, pool, stride), stride an int or None."""
    rng = case_rng(hidden, SALT)
    run = CheckRun("max_pool_backward", hidden)
    for case, x, k, given_s in run.cases(_pool_cases(hidden)):
        with run.case():
            s = k if given_s is None else given_s
            out, cache = ref.max_pool_forward(x, k, given_s)
            dout = rng.standard_normal(out.shape)
            got = call_student(max_pool_backward, dout, cache, name="max_pool_backward")
            expected = ref.max_pool_backward(dout, cache)
            counts = _pool_counts(x.shape, k, s)
            first = ref.im2col(x, k, k, s, 0).reshape(x.shape[0], x.shape[1], k * k, -1).argmax(axis=2)
            onehot = (np.arange(k * k)[None, None, :, None] == first[:, :, None, :]) * dout.reshape(
                x.shape[0], x.shape[1], 1, -1)
            is_first = (np.arange(k * k)[None, None, :, None] == first[:, :, None, :]).astype(float)
            mask_only = ref.col2im(is_first.reshape(x.shape[0], -1, is_first.shape[-1]), x.shape, k, k, s, 0)
            overwrite = _col2im_overwrite(onehot.reshape(x.shape[0], -1, onehot.shape[-1]), x.shape, k, k, s, 0)
            expect_float64_like(got, expected, what="max_pool_backward's dx", case=case)
            _expect_folded(got, expected, counts, "max_pool_backward's dx", case, mistakes=[
                Mistake(_route_to_all_maxima(x, dout, k, s),
                        "the gradient goes to every tied maximum of a window; only one input produced the max: "
                        "route it to the first maximum (np.argmax), as PyTorch does."),
                Mistake(overwrite, OVERLAP_HINT),
                Mistake(ref.avg_pool_backward(dout, cache), "that is average pooling's gradient; max pooling sends "
                        "each window's gradient to its maximum only."),
                Mistake(mask_only,
                        "multiply by dout: the mask of maxima only says where the gradient goes."),
                truncated_mistake(expected, x.dtype.kind in "iu", TRUNCATED),
            ], hint=NOT_CONTIGUOUS if not x.flags.c_contiguous else "", **GRAD_TOL)
    run.passed()


# --------------------------------------------------------------------------- average pooling


def _avg_pool_cases(hidden: bool) -> Iterator[tuple[_PoolCase, bool]]:
    """The pooling cases without ties' emphasis, and whether to call without pool and stride (the defaults)."""
    for c in _pool_cases(hidden):
        yield c._replace(case=c.case.replace(" with tied values", "")), False
    if hidden:
        x = case_rng(hidden, SALT + 1).standard_normal((2, 3, 6, 5))
        yield _PoolCase("x of shape (2, 3, 6, 5), pool and stride left at their defaults (2, None)", x, 2, None), True


@exercise("avg_pool_forward")
def check_avg_pool_forward(avg_pool_forward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``avg_pool_forward(x, pool=2, stride=None) -> (out, cache)`` with cache = (x, pool, stride)."""
    run = CheckRun("avg_pool_forward", hidden)
    for (case, x, k, given_s), defaults in run.cases(_avg_pool_cases(hidden)):
        with run.case():
            s = k if given_s is None else given_s
            args = (x,) if defaults else (x, k, given_s)
            result = call_student(avg_pool_forward, *args, name="avg_pool_forward")
            out, cache = unpack(result, 2, name="avg_pool_forward", names=("out", "cache"))
            expected, _ = ref.avg_pool_forward(x, k, given_s)
            xf = np.asarray(x, dtype=np.float64)
            expect_float64_like(out, expected, what="avg_pool_forward's out", case=case)
            expect_array(out, expected, what="avg_pool_forward's out", case=case, mistakes=[
                Mistake(expected * k * k, "that is the sum of each window; the average divides it by pool·pool."),
                Mistake(expected * k if k > 1 else None, "divide by the number of inputs in a window, pool·pool, "
                        "not by pool."),
                Mistake(ref.max_pool_forward(xf, k, s)[0] if k > 1 else None, "that is max pooling; average "
                        "pooling takes the mean of each window."),
                Mistake(ref.avg_pool_forward(xf, k, 1)[0] if given_s is None and k > 1 else None,
                        "stride None means stride = pool (windows side by side), not stride 1.", shape_only=True),
                truncated_mistake(expected, x.dtype.kind in "iu", TRUNCATED),
            ], hint=NOT_CONTIGUOUS if not x.flags.c_contiguous else "")
            cx, ck, cs = unpack(cache, 3, name="avg_pool_forward's cache", names=("x", "pool", "stride"))
            if not (isinstance(cx, np.ndarray) and cx.shape == x.shape and np.array_equal(cx, x)):
                raise CheckFailure(f"the cache's x should be the x you were given ({case}).")
            if ck != k or (s if cs is None else cs) != s:
                raise CheckFailure(f"the cache's pool and stride are {ck!r} and {cs!r}, expected {k} and {given_s!r} "
                                   f"({case}).")
    run.passed()


@exercise("avg_pool_backward")
def check_avg_pool_backward(avg_pool_backward: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``avg_pool_backward(dout, cache) -> dx`` with cache = (x, pool, stride), stride an int or None."""
    rng = case_rng(hidden, SALT + 2)
    run = CheckRun("avg_pool_backward", hidden)
    for (case, x, k, given_s), _ in run.cases(_avg_pool_cases(hidden)):
        with run.case():
            s = k if given_s is None else given_s
            out, cache = ref.avg_pool_forward(x, k, given_s)
            dout = rng.standard_normal(out.shape)
            if not x.flags.c_contiguous:
                dout = _layout(dout, "T" if x.flags.f_contiguous else "S")
                case += ", dout laid out the same way"
            got = call_student(avg_pool_backward, dout, cache, name="avg_pool_backward")
            expected = ref.avg_pool_backward(dout, cache)
            counts = _pool_counts(x.shape, k, s)
            share = dout / (k * k)
            expect_float64_like(got, expected, what="avg_pool_backward's dx", case=case)
            _expect_folded(got, expected, counts, "avg_pool_backward's dx", case, mistakes=[
                Mistake(expected * k * k, "each input of a window gets dout/(pool·pool), the derivative of the mean: "
                        "divide by pool·pool."),
                Mistake(expected * k if k > 1 else None, "divide by the number of inputs in a window, pool·pool, "
                        "not by pool."),
                Mistake(ref.max_pool_backward(dout, cache) if k > 1 else None, "that is max pooling's gradient; "
                        "average pooling shares each window's gradient equally among its inputs."),
                Mistake(_col2im_overwrite(np.repeat(share.reshape(x.shape[0], x.shape[1], 1, -1), k * k, axis=2)
                                          .reshape(x.shape[0], -1, out.shape[2] * out.shape[3]), x.shape, k, k, s, 0)
                        if k > s else None, OVERLAP_HINT),
                Mistake(expected / np.maximum(counts, 1) if k > s else None, "each window passes dout/(pool·pool) to "
                        "every input it covers; an input covered by several windows adds them, without averaging."),
            ], **GRAD_TOL)
            if hidden:
                numeric = ref.numerical_gradient_array(lambda z: ref.avg_pool_forward(z, k, given_s)[0],
                                                       np.array(x, dtype=np.float64), dout)
                expect_matches_finite_differences(got, numeric, what="avg_pool_backward's dx", case=case,
                                                  of="the reference forward pass")
    run.passed()
