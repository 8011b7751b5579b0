"""Every 07-regularization check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import regularization as checks
from check_harness import check_tests
from mutants_regularization import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_guard_catches_the_reference():
    from dlcourse.ref import regularization as alias

    def l2_penalty(params, lam):
        return alias.l2_penalty(params, lam)

    with pytest.raises(CheckFailure, match="dlcourse.ref.regularization.l2_penalty"):
        checks.check_l2_penalty(l2_penalty)
    with pytest.raises(CheckFailure, match="dlcourse.ref.regularization"):
        checks.check_early_stopping(alias.EarlyStopping)
