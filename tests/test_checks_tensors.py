"""Every 00-setup check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import tensors as checks
from impersonate import as_student
from mutants_tensors import CORRECT, MUTANTS, REFERENCE

CHECKS = list(REFERENCE)


def _id(obj) -> str:
    return getattr(obj, "__name__", str(obj))


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
@pytest.mark.parametrize("check", CHECKS, ids=_id)
def test_reference_passes(check, hidden, capfd):
    check(as_student(REFERENCE[check]), hidden=hidden)
    out, err = capfd.readouterr()
    assert "passed" in out and err == "", "a passing check prints to stdout only"


@pytest.mark.parametrize("hidden", [False, True], ids=["public", "hidden"])
@pytest.mark.parametrize(
    "check,impl", [(c, i) for c, impls in CORRECT.items() for i in impls], ids=lambda o: _id(o)
)
def test_alternative_correct_implementation_passes(check, impl, hidden):
    check(impl, hidden=hidden)


MUTANT_CASES = [(c, m, pattern, public) for c, ms in MUTANTS.items() for m, pattern, public in ms]


@pytest.mark.parametrize("check,mutant,pattern,public", MUTANT_CASES, ids=lambda o: _id(o) if callable(o) else "")
def test_mutant_is_rejected_with_its_diagnosis(check, mutant, pattern, public):
    modes = [False, True] if public else [True]
    for hidden in modes:
        with np.errstate(all="ignore"):  # the mutants' own warnings (sqrt of a negative) are not under test
            if pattern is None:
                with pytest.raises(Exception) as info:
                    check(mutant, hidden=hidden)
                assert not isinstance(info.value, CheckFailure), "expected the student's code itself to fail"
            else:
                with pytest.raises(CheckFailure, match=pattern):
                    check(mutant, hidden=hidden)


@pytest.mark.parametrize("check,mutant,pattern,public", [c for c in MUTANT_CASES if not c[3]],
                         ids=lambda o: _id(o) if callable(o) else "")
def test_hidden_only_mutants_pass_the_public_cases(check, mutant, pattern, public):
    """The table says honestly which mistakes only the hidden cases catch."""
    check(mutant, hidden=False)


def test_every_check_has_at_least_four_mutants():
    for check in CHECKS:
        assert len(MUTANTS[check]) >= 4, check.__name__


def test_every_public_check_function_is_covered():
    assert set(CHECKS) == {getattr(checks, name) for name in checks.__all__}


def test_unfinished_stub_shows_the_students_own_error():
    def one_hot(y, num_classes=None):
        raise NotImplementedError("Replace this line with your solution.")

    with pytest.raises(NotImplementedError, match="Replace this line"):
        checks.check_one_hot(one_hot)


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
