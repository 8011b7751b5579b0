"""Every 06-init-normalization (batch norm, standardization) check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import norm as checks
from check_harness import check_tests
from mutants_norm import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_guard_catches_the_reference():
    from dlcourse.ref import norm as alias

    def standardize(X_train, X_test):
        return alias.standardize(X_train, X_test)

    with pytest.raises(CheckFailure, match="dlcourse.ref.norm.standardize"):
        checks.check_standardize(standardize)
