"""Every 00-setup check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import tensors as checks
from check_harness import check_tests
from mutants_tensors import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_unfinished_generator_stub_shows_the_students_own_error():
    def minibatches(X, y, batch_size, *, rng, shuffle=True):
        raise NotImplementedError("Replace this line with your solution.")
        yield  # a generator: the error appears only when it is iterated

    with pytest.raises(NotImplementedError, match="Replace this line"):
        checks.check_minibatches(minibatches)


def test_guard_catches_reference_inside_a_generator():
    from dlcourse.ref import tensors as hidden_alias

    def minibatches(X, y, batch_size, *, rng, shuffle=True):
        yield from getattr(hidden_alias, "mini" + "batches")(X, y, batch_size, rng=rng, shuffle=shuffle)

    with pytest.raises(CheckFailure, match="dlcourse.ref.tensors.minibatches"):
        checks.check_minibatches(minibatches)


def test_not_iterable_result_is_explained():
    def minibatches(X, y, batch_size, *, rng, shuffle=True):
        return len(X) // batch_size

    with pytest.raises(CheckFailure, match="should yield"):
        checks.check_minibatches(minibatches)


def test_torch_tensor_answer_is_explained():
    torch = pytest.importorskip("torch")

    def pairwise_distances(A, B):
        return torch.cdist(torch.from_numpy(A), torch.from_numpy(B))

    with pytest.raises(CheckFailure, match="torch.Tensor"):
        checks.check_pairwise_distances(pairwise_distances)


def test_loop_detection_needs_no_source():
    # A function without retrievable source (built by exec) is checked on its values only.
    namespace: dict = {"np": np}
    exec("def pairwise_distances(A, B):\n    d = A[:, None] - B[None]\n    return np.sqrt((d * d).sum(-1))", namespace)
    checks.check_pairwise_distances(namespace["pairwise_distances"], hidden=True)


def test_messages_name_the_lecture_numbers():
    with pytest.raises(CheckFailure) as info:
        checks.check_tensor_bytes(MUTANTS[checks.check_tensor_bytes][0][0])
    assert "shape (55000, 784), dtype float32" in str(info.value)


def _notebook_function(source: str, cell: str, namespace: dict):
    """Define a function as a notebook cell does: its own file name, registered in linecache, module __main__."""
    import linecache

    linecache.cache[cell] = (len(source), None, source.splitlines(True), cell)
    exec(compile(source, cell, "exec"), namespace)


def test_loop_ban_follows_a_helper_defined_in_another_notebook_cell():
    namespace = {"np": np, "__name__": "__main__"}
    _notebook_function("def all_rows(A, B):\n"
                       "    rows = []\n"
                       "    for a in A:\n"
                       "        rows.append(np.sqrt(((a - B) ** 2).sum(axis=1)))\n"
                       "    return rows\n", "<cell-1>", namespace)
    _notebook_function("def pairwise_distances(A, B):\n"
                       "    return np.array(all_rows(A, B)).reshape(len(A), len(B))\n", "<cell-2>", namespace)
    with pytest.raises(CheckFailure, match="uses a for loop in your function all_rows"):
        checks.check_pairwise_distances(namespace["pairwise_distances"])
    namespace2 = {"np": np, "__name__": "__main__"}
    _notebook_function("def helper(A, B):\n    return np.sqrt(((A[:, None] - B[None]) ** 2).sum(-1))\n", "<cell-3>",
                       namespace2)
    _notebook_function("def pairwise_distances(A, B):\n    return helper(A, B)\n", "<cell-4>", namespace2)
    checks.check_pairwise_distances(namespace2["pairwise_distances"], hidden=True)  # a loop-free helper is fine


def test_loop_ban_leaves_numpy_reductions_alone():
    def pairwise_distances(A, B):
        return np.sqrt(np.add.reduce((A[:, None, :] - B[None, :, :]) ** 2, axis=-1))

    checks.check_pairwise_distances(pairwise_distances, hidden=True)


def test_counting_lines_restores_the_callers_tracer():
    import sys

    def tracer(frame, event, arg):
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        checks.check_pairwise_distances(CORRECT[checks.check_pairwise_distances][0])
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)
