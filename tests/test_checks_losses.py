"""Every 03-losses check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import losses as checks
from check_harness import check_tests
from mutants_losses import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_messages_name_the_lecture_case():
    from mutants_losses import bce_ignores_base

    with pytest.raises(CheckFailure) as info:
        checks.check_bce(bce_ignores_base)
    assert "lecture's table, base 10" in str(info.value) and "expected 0.316902" in str(info.value)


def test_checks_leave_numpy_error_state_alone():
    from mutants_losses import softmax_no_max

    before = np.geterr()
    with pytest.raises(CheckFailure):
        checks.check_softmax(softmax_no_max)
    assert np.geterr() == before
