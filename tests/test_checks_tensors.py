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
