"""Every 06-init-normalization (batch norm, standardization) check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import norm as checks
from impersonate import as_student
from mutants_norm import CORRECT, MUTANTS, REFERENCE

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
        with np.errstate(all="ignore"):  # the mutants' own overflow warnings are not under test
            if pattern is None:
                with pytest.raises(Exception) as info:
                    check(mutant, hidden=hidden)
                assert not isinstance(info.value, CheckFailure), "expected the student's code itself to fail"
            else:
                with pytest.raises(CheckFailure, match=pattern):
                    check(mutant, hidden=hidden)


def test_every_check_has_at_least_four_mutants():
    for check in CHECKS:
        assert len(MUTANTS[check]) >= 4, check.__name__


def test_every_public_check_function_is_covered():
    assert set(CHECKS) == {getattr(checks, name) for name in checks.__all__}


def test_unfinished_stub_shows_the_students_own_error():
    def affine_forward(x, w, b):
        raise NotImplementedError("Replace this line with your solution.")


def test_unfinished_stub_shows_the_students_own_error():
    def batchnorm_forward(x, gamma, beta, state, cfg):
        raise NotImplementedError("Replace this line with your solution.")

    with pytest.raises(NotImplementedError, match="Replace this line"):
        checks.check_batchnorm_forward(batchnorm_forward)


def test_guard_catches_the_reference():
    from dlcourse.ref import norm as alias

    def standardize(X_train, X_test):
        return alias.standardize(X_train, X_test)

    with pytest.raises(CheckFailure, match="dlcourse.ref.norm.standardize"):
        checks.check_standardize(standardize)
