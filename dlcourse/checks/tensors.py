"""Checks for lecture 00-setup: tensor memory, one-hot labels, mini-batches, pairwise distances.

Each ``check_*`` takes the student's function and ``hidden``; public cases are small and fixed,
hidden ones add edge cases (scalars, empty arrays, a batch size larger than the data, other
dtypes, NumPy integers in a shape, strided and transposed arrays, a batch of one) and random
sizes, and check the output dtype and that results are new arrays. Expected values come from
:mod:`dlcourse.ref`.

``pairwise_distances`` must be loop-free. Two tests enforce it: a look at the source of the
student's function *and of every function of theirs it uses* (loops, comprehensions, ``map``,
``np.vectorize`` and kin, recursion), and, for code without source, a count of the Python lines
it runs: a loop-free function runs as many for 40 points as for 4.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import itertools
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
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
            (tuple(np.array([6, 7])), np.float64),  # sizes that are NumPy integers (read from an array)
            ((3, 5), np.dtype("float32")),  # a dtype object rather than a type or a name
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
            ("y = [2, 0, 1, 2] read with a stride (a non-contiguous view)", np.array([2, 9, 0, 9, 1, 9, 2])[::2], 3),
            ("a batch of one, y = [3], num_classes not given", np.array([3]), None),
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
            if got.dtype != np.float64:
                raise CheckFailure(
                    f"one_hot(y) has dtype {got.dtype}; return float64, e.g. np.zeros((N, C)), because one-hot "
                    f"rows are multiplied with probabilities and logs in a loss, where integers or booleans "
                    f"silently truncate or misbehave and float32 loses precision ({case})."
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


def _expect_new_rows(batches: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray, case: str) -> None:
    """Batches keep the data's dtype and are new arrays (not views that share the data's memory)."""
    for i, (xb, yb) in enumerate(batches):
        for what, got, full in (("X_batch", xb, X), ("y_batch", yb, y)):
            if got.dtype != full.dtype:
                raise CheckFailure(
                    f"{what} #{i} has dtype {got.dtype}, but the rows it comes from have dtype {full.dtype} ({case}). "
                    f"A batch is a selection of rows: index them (X[idx]) without converting."
                )
            if got.size and np.may_share_memory(got, full):
                raise CheckFailure(
                    f"{what} #{i} is a view into {'X' if what == 'X_batch' else 'y'} (it shares its memory) ({case}). "
                    f"Serve new arrays: index with an array of row numbers (X[idx] copies), not a slice "
                    f"X[start:stop], so that code that changes a batch in place (normalizing, augmenting) never "
                    f"changes the data set."
                )


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
    # (N, batch size, what X and y look like)
    sizes = [(10, 4, "rows"), (12, 3, "rows")]
    if hidden:
        sizes += [(12, 4, "rows"), (1, 5, "images"), (7, 1, "rows"), (9, 9, "images"), (6, 20, "rows"),
                  (int(case_rng(True, SALT).integers(20, 60)), 8, "images, 2-D targets"),
                  (11, 4, "integer rows"), (9, 2, "transposed rows")]
    run = CheckRun("minibatches", hidden)
    for i, (n, b, kind) in run.cases(enumerate(sizes)):
        with run.case():
            # Row k of X is (3k, 3k + 1, 3k + 2) and y[k] = k, so every row says where it came from.
            shape = (n, 2, 3) if kind.startswith("images") else (n, 3)
            X = np.arange(n * int(np.prod(shape[1:])), dtype=np.float64).reshape(shape)
            if kind == "integer rows":
                X = X.astype(np.int64)
            elif kind == "transposed rows":
                X = np.ascontiguousarray(X.T).T  # the same rows, stored column by column (non-contiguous)
            y = np.arange(n)
            if kind.endswith("2-D targets"):
                y = np.stack([np.arange(n), np.arange(n) % 3], axis=1)  # 2-D targets (label, extra)
            case = f"N = {n}, batch_size = {b}, X of shape {X.shape}" + (f" ({kind})" if kind != "rows" else "")
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
            unshuffled = _run_epoch(minibatches, X, y, b, np.random.default_rng(seed), case, shuffle=False)
            plain = _ids(unshuffled, X, y, case)
            if not np.array_equal(plain, np.arange(n)):
                raise CheckFailure(f"with shuffle=False the batches must come in the original order 0, 1, …, N−1 ({case}).")
            for served in (first, unshuffled):
                _expect_new_rows(served, X, y, case)
    run.passed()


# --------------------------------------------------------------------------- pairwise distances


_LOOP_NODES: dict[type, str] = {
    ast.For: "a for loop", ast.AsyncFor: "a for loop", ast.While: "a while loop",
    ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression",
}
# Functions that call Python code once per element: loops in disguise.
_LOOPING_FUNCTIONS: dict[int, str] = {id(f): name for f, name in [
    (map, "map()"), (filter, "filter()"), (np.vectorize, "np.vectorize"), (np.frompyfunc, "np.frompyfunc"),
    (np.apply_along_axis, "np.apply_along_axis"), (np.apply_over_axes, "np.apply_over_axes"),
    (np.fromiter, "np.fromiter"), (np.fromfunction, "np.fromfunction"), (functools.reduce, "functools.reduce"),
    (itertools.starmap, "itertools.starmap"), (itertools.accumulate, "itertools.accumulate"),
]}


def _source_tree(fn: types.FunctionType) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None


def _resolve(node: ast.expr, fn: types.FunctionType) -> Any:
    """What a name or dotted name in fn's code refers to (closure, globals, builtins), or None."""
    if isinstance(node, ast.Name):
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        if node.id in cells:
            try:
                return cells[node.id].cell_contents
            except ValueError:  # a cell not filled yet
                return None
        for scope in (fn.__globals__, vars(builtins)):
            if node.id in scope:
                return scope[node.id]
        return None
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, fn)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _python_loop(fn: Callable[..., Any]) -> str | None:
    """How fn loops in Python ("a for loop", "map()", "recursion: …"), looking into the functions of the
    student's own that it uses, or None. Code without source (built by exec) is left to
    :func:`_python_lines`."""
    root = inspect.unwrap(fn)
    if not isinstance(root, types.FunctionType):
        return None
    todo: list[tuple[types.FunctionType, tuple[types.FunctionType, ...]]] = [(root, ())]
    done: set[int] = set()
    while todo:
        f, callers = todo.pop()
        if id(f) in done:
            continue
        done.add(id(f))
        where = "" if f is root else f" in your function {f.__name__} (which {root.__name__} uses)"
        tree = _source_tree(f)
        if tree is None:
            continue
        for node in ast.walk(tree):
            label = next((text for kind, text in _LOOP_NODES.items() if isinstance(node, kind)), None)
            if label is not None:
                return label + where
            if not (isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load)):
                continue
            used = _resolve(node, f)
            if used is None:
                continue
            if id(used) in _LOOPING_FUNCTIONS:
                return _LOOPING_FUNCTIONS[id(used)] + where
            # the student's own functions: written in the same notebook (or file) as fn
            if isinstance(used, types.FunctionType) and (
                    used.__code__.co_filename == root.__code__.co_filename or used.__module__ == root.__module__):
                if used is f or used in callers:
                    return f"recursion ({used.__name__} calls itself{'' if used is f else ' through ' + f.__name__})"
                todo.append((used, callers + (f,)))
    return None


_LIBRARY = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(ref.__file__).resolve().parents[1])})


def _python_lines(fn: Callable[..., Any], *args: Any, name: str) -> int:
    """The number of Python lines (and calls) that ``fn(*args)`` runs outside libraries and dlcourse.

    A loop-free function runs the same number whatever the size of its input; a loop, however it
    is hidden (a helper without source, map over a lambda, recursion), runs more for more data.
    """
    count = 0

    def in_student_code(frame: types.FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return in_student_code

    def on_call(frame: types.FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        filename = frame.f_code.co_filename
        if filename.startswith(_LIBRARY) or filename.startswith("<frozen"):
            return None
        count += 1
        return in_student_code

    def traced() -> None:
        previous = sys.gettrace()
        sys.settrace(on_call)
        try:
            with np.errstate(all="ignore"):  # a warning here would reach stderr; the cases report values
                fn(*args)
        finally:
            sys.settrace(previous)

    call_student(traced, name=name)
    return count


def _loop_failure(how: str) -> CheckFailure:
    return CheckFailure(
        f"pairwise_distances uses {how}; this exercise is to compute all distances at once with "
        f"broadcasting.\n  Hint: A[:, None, :] has shape (N, 1, D) and B[None, :, :] has shape (1, M, D); "
        f"their difference has shape (N, M, D)."
    )


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
            ("A transposed (a (3, 4) array's .T), B a strided view", rng.standard_normal((3, 4)).T,
             rng.standard_normal((10, 3))[::2]),
            ("a batch of one: A and B of shape (1, 3)", rng.standard_normal((1, 3)), rng.standard_normal((1, 3))),
        ]
    loop = _python_loop(pairwise_distances)
    if loop is not None:
        raise _loop_failure(loop)
    sizes = (4, 40)
    lines = [_python_lines(pairwise_distances, np.ones((n, 3)), np.ones((n // 2, 3)), name="pairwise_distances")
             for n in sizes]
    if lines[1] > lines[0] + (sizes[1] - sizes[0]) // 2:
        raise _loop_failure(f"a Python loop somewhere (it ran {lines[0]} lines of your code for {sizes[0]} points "
                            f"and {lines[1]} for {sizes[1]}; a loop-free function runs as many for any size)")
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
                Mistake(expected.astype(A.dtype) if A.dtype.kind in "iu" else None,
                        "the distances were rounded to integers: for integer coordinates the differences are whole "
                        "numbers but their Euclidean norms are not; compute in floats (e.g. np.sqrt returns float64)."),
            ])
            expect_equal(got.dtype, expected.dtype, what="the dtype of pairwise_distances(A, B)", case=case,
                         show=str, hint="distances are float64 numbers for float64 or integer coordinates; "
                                        "do not convert the result (e.g. to float32 or to the input's dtype).")
    run.passed()
