"""Correct alternatives and known-wrong implementations (mutants) for the 00-setup checks.

``MUTANTS[check]`` lists ``(implementation, pattern, public, hint)`` entries, as ``check_harness``
describes.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import tensors as checks

Impl = Callable[..., Any]


# ----------------------------------------------------------------- tensor_bytes
def tensor_bytes_via_math_prod(shape, dtype):
    import math

    return math.prod(shape) * np.dtype(dtype).itemsize


def tensor_bytes_counts_elements(shape, dtype):
    return int(np.prod(shape))


def tensor_bytes_in_bits(shape, dtype):
    return int(np.prod(shape)) * np.dtype(dtype).itemsize * 8


def tensor_bytes_assumes_float32(shape, dtype):
    return int(np.prod(shape)) * 4


def tensor_bytes_sums_the_shape(shape, dtype):
    return sum(shape) * np.dtype(dtype).itemsize


def tensor_bytes_returns_float(shape, dtype):
    return float(np.prod(shape)) * np.dtype(dtype).itemsize


def tensor_bytes_scalar_is_empty(shape, dtype):
    if len(shape) == 0:
        return 0
    return int(np.prod(shape)) * np.dtype(dtype).itemsize


def tensor_bytes_python_ints_only(shape, dtype):
    """Validates its input too strictly: sizes read from an array are NumPy integers, not int."""
    if not all(type(size) is int for size in shape):
        raise TypeError("shape must hold ints")
    return int(np.prod(shape)) * np.dtype(dtype).itemsize


def tensor_bytes_itemsize_of_a_scalar(shape, dtype):
    """Makes a scalar of the dtype to read its itemsize: works for np.float32, not for "int64" or np.dtype(...)."""
    return int(np.prod(shape)) * dtype(0).itemsize


def tensor_bytes_calls_reference(shape, dtype):
    return ref.tensor_bytes(shape, dtype)


# ----------------------------------------------------------------- one_hot
def one_hot_eye_rows(y, num_classes=None):
    c = int(np.max(y)) + 1 if num_classes is None else num_classes
    return np.eye(c)[np.asarray(y, dtype=np.int64)].reshape(len(y), c)


def one_hot_integer_dtype(y, num_classes=None):
    c = int(np.max(y)) + 1 if num_classes is None else num_classes
    out = np.zeros((len(y), c), dtype=np.int64)
    out[np.arange(len(y)), y] = 1
    return out


def one_hot_boolean(y, num_classes=None):
    c = int(np.max(y)) + 1 if num_classes is None else num_classes
    return np.arange(c)[None, :] == np.asarray(y)[:, None]


def one_hot_transposed(y, num_classes=None):
    c = int(np.max(y)) + 1 if num_classes is None else num_classes
    out = np.zeros((c, len(y)))
    out[y, np.arange(len(y))] = 1
    return out


def one_hot_ignores_num_classes(y, num_classes=None):
    c = int(np.max(y)) + 1
    out = np.zeros((len(y), c))
    out[np.arange(len(y)), y] = 1
    return out


def one_hot_one_column_short(y, num_classes=None):
    c = int(np.max(y)) if num_classes is None else num_classes - 1
    out = np.zeros((len(y), c))
    out[np.arange(len(y)), np.minimum(y, c - 1)] = 1
    return out


def one_hot_off_by_one(y, num_classes=None):
    c = int(np.max(y)) + 1 if num_classes is None else num_classes
    out = np.zeros((len(y), c))
    out[np.arange(len(y)), np.asarray(y, dtype=np.int64) - 1] = 1  # label 0 wraps to the last column
    return out


def one_hot_float32(y, num_classes=None):
    c = int(np.max(y)) + 1 if num_classes is None else num_classes
    out = np.zeros((len(y), c), dtype=np.float32)
    out[np.arange(len(y)), y] = 1
    return out


def one_hot_classes_from_unique_labels(y, num_classes=None):
    """Counts the distinct labels: a batch of [1, 0, 3] has 3 distinct labels but needs 4 columns."""
    c = len(np.unique(y)) if num_classes is None else num_classes
    out = np.zeros((len(y), c))
    out[np.arange(len(y)), y] = 1
    return out


# ----------------------------------------------------------------- minibatches
def minibatches_permuted_indices(X, y, batch_size, *, rng, shuffle=True):
    n = len(X)
    idx = np.arange(n)
    if shuffle:
        idx = rng.permuted(idx)
    batches = []
    start = 0
    while start < n:
        take = idx[start:start + batch_size]
        batches.append((X[take], y[take]))
        start += batch_size
    return batches


def minibatches_drops_last_partial_batch(X, y, batch_size, *, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for k in range(len(X) // batch_size):
        idx = order[k * batch_size:(k + 1) * batch_size]
        yield X[idx], y[idx]


def minibatches_never_reshuffles(X, y, batch_size, *, rng, shuffle=True):
    fixed = np.random.default_rng(0)  # "reproducible": but every epoch is the same order
    order = fixed.permutation(len(X)) if shuffle else np.arange(len(X))
    for s in range(0, len(X), batch_size):
        yield X[order[s:s + batch_size]], y[order[s:s + batch_size]]


def minibatches_no_shuffle(X, y, batch_size, *, rng, shuffle=True):
    for s in range(0, len(X), batch_size):
        yield X[s:s + batch_size], y[s:s + batch_size]


def minibatches_shuffles_x_and_y_separately(X, y, batch_size, *, rng, shuffle=True):
    px = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    py = rng.permutation(len(y)) if shuffle else np.arange(len(y))
    for s in range(0, len(X), batch_size):
        yield X[px[s:s + batch_size]], y[py[s:s + batch_size]]


def minibatches_global_random_state(X, y, batch_size, *, rng, shuffle=True):
    order = np.random.permutation(len(X)) if shuffle else np.arange(len(X))
    for s in range(0, len(X), batch_size):
        yield X[order[s:s + batch_size]], y[order[s:s + batch_size]]


def minibatches_shuffles_in_place(X, y, batch_size, *, rng, shuffle=True):
    if shuffle:
        state = rng.bit_generator.state
        rng.shuffle(X)
        rng.bit_generator.state = state
        rng.shuffle(y)  # same permutation for both: aligned, but the caller's arrays are scrambled
    for s in range(0, len(X), batch_size):
        yield X[s:s + batch_size], y[s:s + batch_size]


def minibatches_empty_last_batch(X, y, batch_size, *, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for k in range(len(X) // batch_size + 1):
        idx = order[k * batch_size:(k + 1) * batch_size]
        yield X[idx], y[idx]


def minibatches_float32(X, y, batch_size, *, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    X32 = X.astype(np.float32)  # "to save memory": the batches no longer hold the data's values
    for s in range(0, len(X), batch_size):
        idx = order[s:s + batch_size]
        yield X32[idx], y[idx]


def minibatches_converts_to_float(X, y, batch_size, *, rng, shuffle=True):
    X = np.asarray(X, dtype=float)  # integer pixels become floats
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for s in range(0, len(X), batch_size):
        idx = order[s:s + batch_size]
        yield X[idx], y[idx]


def minibatches_slices_when_not_shuffling(X, y, batch_size, *, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else None
    for s in range(0, len(X), batch_size):
        if order is None:
            yield X[s:s + batch_size], y[s:s + batch_size]  # views into X and y
        else:
            yield X[order[s:s + batch_size]], y[order[s:s + batch_size]]


# ----------------------------------------------------------------- pairwise distances
def pairwise_distances_expansion(A, B):
    sq = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2 * A @ B.T
    return np.sqrt(np.clip(sq, 0, None))


def pairwise_distances_squared(A, B):
    d = A[:, None, :] - B[None, :, :]
    return (d**2).sum(axis=-1)


def pairwise_distances_transposed_broadcast(A, B):
    d = A[None, :, :] - B[:, None, :]  # loop-free, but (M, N): the axes are swapped
    return np.sqrt((d**2).sum(axis=-1))


def pairwise_distances_row_by_row(A, B):
    return np.sqrt(((A - B) ** 2).sum(axis=1))  # only pairs (A[i], B[i]); fails to broadcast if N ≠ M


def pairwise_distances_expansion_unclipped(A, B):
    sq = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2 * A @ B.T
    return np.sqrt(sq)


def pairwise_distances_manhattan(A, B):
    return np.abs(A[:, None, :] - B[None, :, :]).sum(axis=-1)


def pairwise_distances_plus_cross_term(A, B):
    sq = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] + 2 * A @ B.T
    return np.sqrt(sq)


def pairwise_distances_with_loops(A, B):
    out = np.zeros((len(A), len(B)))
    for i in range(len(A)):
        for j in range(len(B)):
            out[i, j] = np.sqrt(((A[i] - B[j]) ** 2).sum())
    return out


def pairwise_distances_wrong_sum_axis(A, B):
    d = A[:, None, :] - B[None, :, :]
    return np.sqrt((d**2).sum(axis=1))  # sums over B's points, not over coordinates


# ----------------------------------------------------------------- tables
def _row_distances(a, B):
    return [float(np.sqrt(((a - b) ** 2).sum())) for b in B]


def pairwise_distances_loop_in_a_helper(A, B):
    return np.array(_row_distances_all(A, B)).reshape(len(A), len(B))


def _row_distances_all(A, B):
    rows = []
    for a in A:
        rows.append(_row_distances(a, B))
    return rows


def pairwise_distances_map(A, B):
    return np.array(list(map(lambda a: np.sqrt(((a - B) ** 2).sum(axis=1)), A))).reshape(len(A), len(B))


def pairwise_distances_vectorize(A, B):
    dist = np.vectorize(lambda i, j: np.sqrt(((A[i] - B[j]) ** 2).sum()))
    return dist(*np.indices((len(A), len(B)))).astype(np.float64)


def pairwise_distances_recursive(A, B):
    if len(A) == 0:
        return np.zeros((0, len(B)))
    first = np.sqrt(((A[0] - B) ** 2).sum(axis=1))
    return np.vstack([first, pairwise_distances_recursive(A[1:], B)])


_namespace: dict = {"np": np}
exec(  # no source to read: only the count of lines run can tell that it loops
    "def pairwise_distances_loop_without_source(A, B):\n"
    "    out = np.empty((len(A), len(B)))\n"
    "    for i in range(len(A)):\n"
    "        out[i] = np.sqrt(((A[i] - B) ** 2).sum(axis=1))\n"
    "    return out\n", _namespace)
pairwise_distances_loop_without_source = _namespace["pairwise_distances_loop_without_source"]


def pairwise_distances_float32(A, B):
    d = A[:, None, :] - B[None, :, :]
    return np.sqrt((d**2).sum(axis=-1)).astype(np.float32)


def pairwise_distances_keeps_the_input_dtype(A, B):
    d = A[:, None, :] - B[None, :, :]
    return np.sqrt((d**2).sum(axis=-1)).astype(A.dtype)  # integer coordinates: distances rounded down


REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_tensor_bytes: ref.tensor_bytes,
    checks.check_one_hot: ref.one_hot,
    checks.check_minibatches: ref.minibatches,
    checks.check_pairwise_distances: ref.pairwise_distances,
}

CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_tensor_bytes: [tensor_bytes_via_math_prod],
    checks.check_one_hot: [one_hot_eye_rows],
    checks.check_minibatches: [minibatches_permuted_indices],
    checks.check_pairwise_distances: [pairwise_distances_expansion],
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_tensor_bytes: [
        (tensor_bytes_counts_elements, r"is 43,120,000, expected 172,480,000", True, r"number of elements"),
        (tensor_bytes_in_bits, "tensor_bytes is", True, "size in bits"),
        (tensor_bytes_assumes_float32, "tensor_bytes is", True, "counted as 4 bytes"),
        (tensor_bytes_sums_the_shape, "tensor_bytes is", True, "product"),
        (tensor_bytes_returns_float, "return an int", True, None),
        (tensor_bytes_scalar_is_empty, "tensor_bytes is", False, "scalar with one element"),
        (tensor_bytes_calls_reference, r"called dlcourse\.ref\.tensors\.tensor_bytes", True, None),
        (tensor_bytes_python_ints_only, None, False, None),
        (tensor_bytes_itemsize_of_a_scalar, None, False, None),
    ],
    checks.check_one_hot: [
        (one_hot_integer_dtype, "dtype int64; return float64", True, None),
        (one_hot_boolean, "dtype bool; return float64", True, None),
        (one_hot_float32, "dtype float32; return float64", True, None),
        (one_hot_classes_from_unique_labels, None, True, None),
        (one_hot_transposed, r"one_hot\(y\) has shape", True, "transposed"),
        (one_hot_ignores_num_classes, r"one_hot\(y\) has shape", False, "num_classes was ignored"),
        (one_hot_one_column_short, r"one_hot\(y\) has shape", True, "one column too few"),
        (one_hot_off_by_one, r"one_hot\(y\) has wrong values", True, "one column off"),
    ],
    checks.check_minibatches: [
        (minibatches_drops_last_partial_batch, "batch sizes are", True, r"last, smaller batch of 2 example\(s\) is missing"),
        (minibatches_never_reshuffles, "two epochs with the same generator came in the same order", True, "reshuffle every epoch"),
        (minibatches_no_shuffle, r"original order", True, r"shuffle: draw a permutation"),
        (minibatches_shuffles_x_and_y_separately, "do not belong together", True, "index X and y with the same permutation"),
        (minibatches_global_random_state, "same seed gave different batches", True, "take all randomness from the `rng` argument"),
        (minibatches_shuffles_in_place, "changed its argument #1 in place", True, None),
        (minibatches_empty_last_batch, "batch sizes are", True, "empty batch comes last"),
        (minibatches_float32, "X_batch #0 has dtype float32, but the rows it comes from have dtype float64", True, None),
        (minibatches_converts_to_float, "has dtype float64, but the rows it comes from have dtype int64", False, None),
        (minibatches_slices_when_not_shuffling, "X_batch #0 is a view into X", True, None),
    ],
    checks.check_pairwise_distances: [
        (pairwise_distances_squared, r"pairwise_distances\(A, B\) has wrong values", True, "squared distances"),
        (pairwise_distances_transposed_broadcast, r"pairwise_distances\(A, B\) has shape", True, "transposed"),
        (pairwise_distances_row_by_row, None, True, None),
        (pairwise_distances_expansion_unclipped, r"pairwise_distances\(A, B\) contains", False, "clip at 0"),
        (pairwise_distances_manhattan, r"pairwise_distances\(A, B\) has wrong values", True, r"L1 \(Manhattan\)"),
        (pairwise_distances_plus_cross_term, r"pairwise_distances\(A, B\) has wrong values", True, "cross term is subtracted"),
        (pairwise_distances_with_loops, "uses a for loop", True, r"A\[:, None, :\] has shape \(N, 1, D\) and B\[None, :, :\] has"),
        (pairwise_distances_wrong_sum_axis, r"shape \(2, 2\), expected \(2, 3\)", True, None),
        (pairwise_distances_loop_in_a_helper, r"uses a for loop in your function _row_distances_all", True, "A\\[:, None, :\\]"),
        (pairwise_distances_map, r"uses map\(\)", True, "A\\[:, None, :\\]"),
        (pairwise_distances_vectorize, r"uses np\.vectorize", True, "A\\[:, None, :\\]"),
        (pairwise_distances_recursive, r"uses recursion \(pairwise_distances_recursive calls itself\)", True, "A\\[:, None, :\\]"),
        (pairwise_distances_loop_without_source, r"uses a Python loop somewhere \(it ran \d+ lines of your code for 4 points", True, "A\\[:, None, :\\]"),
        (pairwise_distances_float32, r"the dtype of pairwise_distances\(A, B\) is float32, expected float64", True, "do not convert"),
        (pairwise_distances_keeps_the_input_dtype, r"pairwise_distances\(A, B\) has wrong values \(integer coordinates\)", False, "rounded to integers"),
    ],
}

