"""Toy sequence-to-sequence tasks on digit strings, generated with NumPy from an explicit seed.

Each example is a string of digits 0 … V−1 (V = ``n_digits``) and a target of the same length,
position by position, so an encoder with one classifier per position can learn it:

- ``"reverse"``: target[i] = x[ℓ − 1 − i] (ℓ the string's length): every output position
  must find one particular input position, so a trained model's attention maps show it.
- ``"sort"``: the digits in ascending order: every output needs counts over the whole string.

Strings shorter than ``length`` (when ``min_length`` < ``length``) are padded on the right with
the token :func:`pad_token` (= V) and their targets with :data:`IGNORE_INDEX` (−100, what
``nn.CrossEntropyLoss`` skips by default). Padding is the reason attention needs key masks:
``tokens != pad_token(V)`` is the mask of real keys. Same seed, same bytes.
"""

from __future__ import annotations

import numpy as np

from dlcourse.data.synthetic import RngLike, _check_positive_int, _generator

__all__ = [
    "TASKS",
    "IGNORE_INDEX",
    "pad_token",
    "digit_strings",
    "sequence_targets",
    "sequence_task",
    "train_test_sequences",
    "format_sequence",
]

TASKS = ("reverse", "sort")
IGNORE_INDEX = -100


def pad_token(n_digits: int = 10) -> int:
    """The padding token of a task over digits 0 … n_digits − 1: the next id, n_digits."""
    return _check_positive_int("n_digits", n_digits)


def _lengths(min_length: int | None, length: int) -> int:
    if min_length is None:
        return length
    min_length = _check_positive_int("min_length", min_length)
    if min_length > length:
        raise ValueError(f"min_length must be at most length = {length}, got {min_length}")
    return min_length


def digit_strings(
    n: int, length: int, n_digits: int = 10, min_length: int | None = None, rng: RngLike = 0
) -> np.ndarray:
    """n random digit strings, right-padded to ``length``.

    Args:
        n: number of strings.
        length: the padded length L (the longest string).
        n_digits: V, digits are 0 … V − 1 (uniform, independent).
        min_length: shortest string; lengths are uniform in min_length … length. None: all L.
        rng: a ``np.random.Generator`` or an int seed.

    Returns:
        (n, L) int64; entries past a string's end are :func:`pad_token` (V).
    """
    n, length = _check_positive_int("n", n), _check_positive_int("length", length)
    pad = pad_token(n_digits)
    lo = _lengths(min_length, length)
    gen = _generator(rng)
    x = gen.integers(0, n_digits, size=(n, length), dtype=np.int64)
    if lo < length:
        ell = gen.integers(lo, length + 1, size=n)
        x[np.arange(length)[None, :] >= ell[:, None]] = pad
    return x


def sequence_targets(task: str, tokens: np.ndarray, n_digits: int = 10) -> np.ndarray:
    """The target of every position for ``task``; padded positions get :data:`IGNORE_INDEX`.

    Args:
        task: one of :data:`TASKS`.
        tokens: (N, L) int, right-padded with :func:`pad_token` (``n_digits``).

    Returns:
        (N, L) int64.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    x = np.asarray(tokens)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"tokens must be a 2-D integer array (N, L), got shape {x.shape}, dtype {x.dtype}")
    pad = pad_token(n_digits)
    if x.size and (x.min() < 0 or x.max() > pad):
        raise ValueError(f"tokens must lie in 0 … {pad} (digits and the pad token {pad}), got {x.min()} … {x.max()}")
    real = x != pad
    ell = real.sum(axis=1)
    if np.any(real[:, 1:] & ~real[:, :-1]):
        raise ValueError("padding must come last: a digit follows a pad token")
    pos = np.arange(x.shape[1])[None, :]
    if task == "reverse":
        src = np.where(real, ell[:, None] - 1 - pos, 0)
        y = np.take_along_axis(x, src, axis=1)
    else:  # sort: the pad token is the largest id, so sorting moves it to the end
        y = np.sort(x, axis=1)
    return np.where(real, y, IGNORE_INDEX).astype(np.int64)


def sequence_task(
    task: str, n: int, length: int, n_digits: int = 10, min_length: int | None = None, rng: RngLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """n examples of ``task``: tokens X (n, L) and targets Y (n, L), both int64.

    See :func:`digit_strings` for the arguments and :func:`sequence_targets` for Y.
    """
    x = digit_strings(n, length, n_digits, min_length, rng)
    return x, sequence_targets(task, x, n_digits)


def train_test_sequences(
    task: str,
    n_train: int,
    n_test: int,
    length: int,
    n_digits: int = 10,
    min_length: int | None = None,
    rng: RngLike = 0,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A training set and a held-out test set with no input string in common.

    Strings are drawn as in :func:`digit_strings`, duplicates dropped (keeping the first
    draw), and the first n_test distinct ones become the test set: accuracy on it measures
    generalisation to strings never seen in training, not memorisation.

    Returns:
        ((X_train, Y_train), (X_test, Y_test)), shapes (n_train, L) and (n_test, L).

    Raises:
        ValueError: when there are fewer than n_train + n_test distinct strings to draw from.
    """
    n_train, n_test = _check_positive_int("n_train", n_train), _check_positive_int("n_test", n_test)
    length = _check_positive_int("length", length)
    lo = _lengths(min_length, length)
    n_digits = pad_token(n_digits)
    available = sum(n_digits**ell for ell in range(lo, length + 1))
    need = n_train + n_test
    if need > available:
        raise ValueError(
            f"only {available} distinct strings of length {lo}…{length} over {n_digits} digits; "
            f"cannot draw {need} distinct ones"
        )
    gen = _generator(rng)
    seen = np.empty((0, length), dtype=np.int64)
    while len(seen) < need:  # draw more until enough distinct strings (rarely more than once)
        extra = max(need - len(seen), 64) * 2
        seen = np.concatenate([seen, digit_strings(extra, length, n_digits, min_length, gen)])
        _, first = np.unique(seen, axis=0, return_index=True)
        seen = seen[np.sort(first)]
    test, train = seen[:n_test], seen[n_test:need]
    return (train, sequence_targets(task, train, n_digits)), (test, sequence_targets(task, test, n_digits))


def format_sequence(tokens: np.ndarray, n_digits: int = 10, pad: str = "·") -> str:
    """A digit string for printing: tokens (L,) → e.g. ``"3 1 4 · ·"``, pads shown as ``pad``.

    Targets work too: :data:`IGNORE_INDEX` entries are shown as ``pad`` as well.
    """
    t = np.asarray(tokens)
    if t.ndim != 1:
        raise ValueError(f"format_sequence expects one sequence (L,), got shape {t.shape}")
    p = pad_token(n_digits)
    return " ".join(pad if (v == p or v == IGNORE_INDEX) else str(int(v)) for v in t)

