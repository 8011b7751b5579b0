"""Checks for lecture 00-setup: tensor memory, one-hot labels, mini-batches, pairwise distances.

Each ``check_*`` takes the student's function and ``hidden``; public cases are small and fixed,
hidden ones add edge cases (scalars, empty arrays, a batch size larger than the data, other
dtypes) and random sizes. Expected values come from :mod:`dlcourse.ref`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from dlcourse import ref
from dlcourse.checks.cases import case_rng
from dlcourse.checks.compare import CheckRun, Mistake, expect_array, expect_equal
from dlcourse.checks.errors import CheckFailure
from dlcourse.checks.exercise import exercise
from dlcourse.checks.guard import call_student, unpack

__all__ = ["check_tensor_bytes", "check_one_hot", "check_minibatches", "check_pairwise_distances"]

SALT = 20_000  # this lecture's hidden cases: see dlcourse.checks.cases.case_rng


# --------------------------------------------------------------------------- tensor bytes


@exercise("tensor_bytes")
def check_tensor_bytes(tensor_bytes: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``tensor_bytes(shape, dtype) -> int``: elements × bytes per element."""
    cases: list[tuple[tuple[int, ...], Any]] = [
        ((55000, 784), np.float32),  # the lecture's memory table
        ((55000, 10), np.float32),
        ((784, 10), np.float32),
        ((10,), np.float32),
        ((3, 4), np.float64),
    ]
    if hidden:
        rng = case_rng(hidden, SALT)
        cases += [
            ((), np.float64),  # a scalar: one element
            ((0, 5), np.float32),  # an empty tensor holds no bytes
            ((2, 3, 4), np.int8),
            ((64, 3, 32, 32), np.float16),
            ((7,), "int64"),
            ((100_000, 100_000, 3), np.float64),  # 240 GB: computed, never allocated
            (tuple(int(s) for s in rng.integers(1, 50, size=4)), np.complex128),
        ]
    run = CheckRun("tensor_bytes", hidden)
    for shape, dtype in run.cases(cases):
        with run.case():
            name = np.dtype(dtype).name
            case = f"shape {shape}, dtype {name}"
            got = call_student(tensor_bytes, shape, dtype, name="tensor_bytes")
            expected = ref.tensor_bytes(shape, dtype)
            if hasattr(got, "detach"):
                raise CheckFailure(f"tensor_bytes returned a torch.Tensor; return a Python int ({case}).")
            if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float, np.floating)):
                raise CheckFailure(f"tensor_bytes should return an int (a number of bytes), got a {type(got).__name__} ({case}).")
            if isinstance(got, (float, np.floating)):
                raise CheckFailure(
                    f"tensor_bytes returned the float {got!r}; a number of bytes is a whole number: return an int "
                    f"(e.g. `int(...)`) ({case})."
                )
            count = 1
            for s in shape:
                count *= s
            itemsize = np.dtype(dtype).itemsize
            expect_equal(int(got), expected, what="tensor_bytes", case=case, show="{:,}".format, mistakes=[
                Mistake(0 if shape == () else None,
                        "a shape () tensor is a scalar with one element: the product of no sizes is 1."),
                Mistake(count, "that is the number of elements; multiply by the bytes per element, "
                        "np.dtype(dtype).itemsize."),
                Mistake(count * itemsize * 8, "that is the size in bits; a byte has 8 bits, and itemsize is "
                        "already in bytes."),
                Mistake(count * 4, "every dtype was counted as 4 bytes; take the size from the dtype: "
                        "np.dtype(dtype).itemsize."),
                Mistake(count * 8, "every dtype was counted as 8 bytes; take the size from the dtype: "
                        "np.dtype(dtype).itemsize."),
                Mistake(sum(shape) * itemsize, "the sizes along the axes were added; the number of elements is "
                        "their product."),
            ])
    run.passed()


# --------------------------------------------------------------------------- one-hot


@exercise("one_hot")
def check_one_hot(one_hot: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``one_hot(y, num_classes=None) -> (N, C) float`` array."""
    cases: list[tuple[str, np.ndarray, int | None]] = [
        ("y = [0, 2, 1, 2], num_classes = 3", np.array([0, 2, 1, 2]), 3),
        ("y = [1, 0, 3], num_classes not given", np.array([1, 0, 3]), None),
    ]
    if hidden:
        rng = case_rng(hidden, SALT)
        cases += [
            ("a single label, y = [0], num_classes = 1", np.array([0]), 1),
            ("labels 2 and 1 only, num_classes = 5 (classes missing from the batch)", np.array([2, 1, 2]), 5),
            ("y of dtype uint8", np.array([3, 0, 1], dtype=np.uint8), 4),
            ("y of dtype int32, num_classes not given", np.array([0, 4, 4, 2], dtype=np.int32), None),
            ("empty y, num_classes = 3", np.zeros(0, dtype=np.int64), 3),
            ("N = 50, C = 10", rng.integers(0, 10, size=50), 10),
        ]
    run = CheckRun("one_hot", hidden)
    for case, y, c in run.cases(cases):
        with run.case():
            args: tuple[Any, ...] = (y,) if c is None else (y, c)
            got = call_student(one_hot, *args, name="one_hot")
            expected = ref.one_hot(y, c)
            n, k = expected.shape
            mistakes = [
                Mistake(expected.T, f"the result is transposed: one row per label, shape (N, C) = {(n, k)}.",
                        name="transposed"),
                Mistake(ref.one_hot(y), "num_classes was ignored: the number of columns is num_classes when it is given."),
            ]
            if k > 1:
                mistakes.append(Mistake(np.zeros((n, k - 1)), shape_only=True,
                                        hint="one column too few: labels run from 0 to C − 1, so there are C columns."))
            if k > 0:
                mistakes.append(Mistake(ref.one_hot((y.astype(np.int64) - 1) % k, k),
                                        "the ones are one column off: label c goes into column c (labels start at 0)."))
            expect_array(got, expected, what="one_hot(y)", case=case, rtol=0, atol=0, mistakes=mistakes)
            if got.dtype.kind != "f":
                raise CheckFailure(
                    f"one_hot(y) has dtype {got.dtype}; return floats (float64), e.g. np.zeros((N, C)), because one-hot "
                    f"rows are multiplied with probabilities and logs in a loss, where integers or booleans "
                    f"silently truncate or misbehave ({case})."
                )
    run.passed()


# --------------------------------------------------------------------------- mini-batches


def _epoch(minibatches: Callable[..., Any], X: np.ndarray, y: np.ndarray, batch_size: int,
           rng: np.random.Generator, shuffle: bool | None) -> list[Any]:
    """One epoch, consumed inside the guard (a generator runs only when iterated)."""
    kwargs: dict[str, Any] = {"rng": rng}
    if shuffle is not None:
        kwargs["shuffle"] = shuffle
    result = minibatches(X, y, batch_size, **kwargs)
    try:
        return list(result)
    except TypeError:
        raise CheckFailure(
            f"minibatches should yield (X_batch, y_batch) pairs (write it as a generator with `yield`, "
            f"or return a list); got a {type(result).__name__}."
        ) from None


def _run_epoch(minibatches: Callable[..., Any], X: np.ndarray, y: np.ndarray, batch_size: int,
               rng: np.random.Generator, case: str, shuffle: bool | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    # partial: the student's own arguments come first, so "argument #1" in a message means X.
    batches = call_student(functools.partial(_epoch, minibatches), X, y, batch_size, rng, shuffle, name="minibatches")
    out = []
    for i, item in enumerate(batches):
        xb, yb = unpack(item, 2, name=f"minibatches (batch {i})", names=("X_batch", "y_batch"))
        for what, got, full in (("X_batch", xb, X), ("y_batch", yb, y)):
            if hasattr(got, "detach"):
                raise CheckFailure(f"{what} #{i} is a torch.Tensor; this exercise is NumPy ({case}).")
            if not isinstance(got, np.ndarray):
                raise CheckFailure(f"{what} #{i} should be a NumPy array, got a {type(got).__name__} ({case}).")
            if got.shape[1:] != full.shape[1:] or got.ndim != full.ndim:
                raise CheckFailure(
                    f"{what} #{i} has shape {got.shape}; rows of the input have shape {full.shape[1:]}, so a batch "
                    f"of B rows has shape (B, {', '.join(map(str, full.shape[1:]))}) ({case}). Index the rows: X[idx]."
                )
        if len(xb) != len(yb):
            raise CheckFailure(f"batch {i} has {len(xb)} inputs but {len(yb)} targets ({case}).")
        out.append((xb, yb))
    return out


def _ids(batches: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray, case: str) -> np.ndarray:
    """The example index of every row served, in order; checks X and y rows belong together."""
    order = []
    for i, (xb, yb) in enumerate(batches):
        ids = np.asarray(yb)[:, 0] if yb.ndim > 1 else np.asarray(yb)
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(X)) or not np.array_equal(yb, y[ids]):
            raise CheckFailure(f"y_batch #{i} holds values that are not rows of y ({case}).")
        if not np.array_equal(xb, X[ids]):
            raise CheckFailure(
                f"in batch {i} the rows of X_batch and y_batch do not belong together ({case}). "
                f"\n  Hint: index X and y with the same permutation (one `idx`, then X[idx] and y[idx]); "
                f"shuffling them separately destroys the pairing of inputs and labels."
            )
        order.append(ids)
    return np.concatenate(order) if order else np.zeros(0, dtype=np.int64)


@exercise("minibatches")
def check_minibatches(minibatches: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``minibatches(X, y, batch_size, *, rng, shuffle=True)``: one shuffled epoch per call."""
    sizes = [(10, 4), (12, 3)]
    if hidden:
        sizes += [(12, 4), (1, 5), (7, 1), (9, 9), (6, 20), (int(case_rng(True, SALT).integers(20, 60)), 8)]
    run = CheckRun("minibatches", hidden)
    for i, (n, b) in run.cases(enumerate(sizes)):
        with run.case():
            # Row k of X is (3k, 3k + 1, 3k + 2) and y[k] = k, so every row says where it came from.
            shape = (n, 2, 3) if hidden and i % 2 else (n, 3)
            X = np.arange(n * int(np.prod(shape[1:])), dtype=np.float64).reshape(shape)
            y = np.arange(n)
            if hidden and i == len(sizes) - 1:
                y = np.stack([np.arange(n), np.arange(n) % 3], axis=1)  # 2-D targets (label, extra)
            case = f"N = {n}, batch_size = {b}, X of shape {X.shape}"
            expected_sizes = [min(b, n - s) for s in range(0, n, b)]
            seed = 1000 + i

            gen = np.random.default_rng(seed)
            first = _run_epoch(minibatches, X, y, b, gen, case)
            got_sizes = [len(xb) for xb, _ in first]
            overlap = "more rows than examples were served: consecutive batches must not overlap."
            expect_equal(got_sizes, expected_sizes, what="batch sizes", verb="are", case=case,
                         hint=lambda got: overlap if sum(got) > n else "", mistakes=[
                Mistake(expected_sizes[:-1] if n % b else None, name="drops the last batch",
                        hint=f"the last, smaller batch of {n % b} example(s) is missing: keep it, or those "
                             f"examples are never trained on (a different subset each epoch)."),
                # range(N // B + 1) batches: an empty one at the end when B divides N
                Mistake([min(b, n - k * b) for k in range(n // b + 1)],
                        "an empty batch comes last: stop when every example has been served."),
            ])
            order = _ids(first, X, y, case)
            if sorted(order.tolist()) != list(range(n)):
                raise CheckFailure(f"an epoch must serve every example exactly once; the rows served were "
                                   f"{order.tolist()} ({case}).")
            if n >= 7 and np.array_equal(order, np.arange(n)):
                raise CheckFailure(
                    f"the batches come in the original order ({case}).\n  Hint: shuffle: draw a permutation "
                    f"with rng.permutation(N) and serve the rows in that order."
                )
            second = _ids(_run_epoch(minibatches, X, y, b, gen, case), X, y, case)
            if n >= 7 and np.array_equal(order, second):
                raise CheckFailure(
                    f"two epochs with the same generator came in the same order ({case}).\n  Hint: reshuffle every "
                    f"epoch: draw a new permutation from `rng` on every call (do not create a generator with a fixed "
                    f"seed inside the function, and do not keep one permutation for all epochs)."
                )
            again = _ids(_run_epoch(minibatches, X, y, b, np.random.default_rng(seed), case), X, y, case)
            if not np.array_equal(order, again):
                raise CheckFailure(
                    f"two generators with the same seed gave different batches ({case}).\n  Hint: take all randomness "
                    f"from the `rng` argument (rng.permutation), not from np.random.* or the time, so that a run can "
                    f"be reproduced."
                )
            plain = _ids(_run_epoch(minibatches, X, y, b, np.random.default_rng(seed), case, shuffle=False), X, y, case)
            if not np.array_equal(plain, np.arange(n)):
                raise CheckFailure(f"with shuffle=False the batches must come in the original order 0, 1, …, N−1 ({case}).")
    run.passed()


# --------------------------------------------------------------------------- pairwise distances


def _python_loop(fn: Callable[..., Any]) -> str | None:
    """The kind of Python loop in fn's source ("for loop", …), or None (also when no source)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    kinds = {ast.For: "a for loop", ast.While: "a while loop", ast.ListComp: "a list comprehension",
             ast.GeneratorExp: "a generator expression", ast.SetComp: "a set comprehension",
             ast.DictComp: "a dict comprehension", ast.AsyncFor: "a for loop"}
    for node in ast.walk(tree):
        for kind, label in kinds.items():
            if isinstance(node, kind):
                return label
    return None


@exercise("pairwise_distances")
def check_pairwise_distances(pairwise_distances: Callable[..., Any], hidden: bool = False) -> None:
    """Check ``pairwise_distances(A, B) -> (N, M)`` Euclidean distances, computed without Python loops."""
    rng = case_rng(hidden, SALT)
    cases: list[tuple[str, np.ndarray, np.ndarray]] = [
        ("A = [[0, 0], [3, 4]], B = [[0, 0], [6, 8], [3, 0]]",
         np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [6.0, 8.0], [3.0, 0.0]])),
        ("A of shape (4, 3), B of shape (5, 3)", rng.standard_normal((4, 3)), rng.standard_normal((5, 3))),
    ]
    if hidden:
        same = rng.standard_normal((6, 4)) * 3
        cases += [
            ("one point each, D = 1", np.array([[2.0]]), np.array([[-1.5]])),
            ("B equal to A (distances of points to themselves are 0)", same, same.copy()),
            ("integer coordinates", rng.integers(-5, 6, size=(3, 2)), rng.integers(-5, 6, size=(4, 2))),
            ("A of shape (30, 10), B of shape (20, 10)", rng.standard_normal((30, 10)), rng.standard_normal((20, 10))),
            ("A of shape (5, 7), B of shape (1, 7)", rng.standard_normal((5, 7)), rng.standard_normal((1, 7))),
        ]
    loop = _python_loop(pairwise_distances)
    if loop is not None:
        raise CheckFailure(
            f"pairwise_distances uses {loop}; this exercise is to compute all distances at once with "
            f"broadcasting.\n  Hint: A[:, None, :] has shape (N, 1, D) and B[None, :, :] has shape (1, M, D); "
            f"their difference has shape (N, M, D)."
        )
    run = CheckRun("pairwise_distances", hidden)
    for case, A, B in run.cases(cases):
        with run.case():
            got = call_student(pairwise_distances, A, B, name="pairwise_distances")
            Af, Bf = A.astype(np.float64), B.astype(np.float64)
            expected = ref.pairwise_distances(Af, Bf)
            diff = Af[:, None, :] - Bf[None, :, :]
            sq = np.sum(diff**2, axis=-1)
            scale = max(1.0, float(np.abs(expected).max()))
            expect_array(got, expected, what="pairwise_distances(A, B)", case=case, rtol=1e-6, atol=1e-6 * scale,
                         nonfinite_hint="with ‖a‖² + ‖b‖² − 2a·b, rounding can give tiny negative squares for equal "
                                        "points, and the square root of a negative number is nan: clip at 0 "
                                        "(np.maximum(sq, 0)) before np.sqrt.",
                         mistakes=[
                Mistake(sq, "these are squared distances: take the square root."),
                Mistake(expected.T, "the result is transposed: row i holds the distances from A[i], shape (N, M)."),
                Mistake(np.sum(np.abs(diff), axis=-1), "that is the L1 (Manhattan) distance; the Euclidean distance "
                        "is the square root of the sum of squared differences."),
                Mistake(np.sqrt(np.abs(np.sum(Af**2, 1)[:, None] + np.sum(Bf**2, 1)[None, :] + 2 * Af @ Bf.T)),
                        "‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b: the cross term is subtracted."),
            ])
    run.passed()
