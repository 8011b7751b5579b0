"""Every 06-init-normalization (initialization) check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import init as checks
from check_harness import check_tests
from mutants_init import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_messages_name_the_case():
    with pytest.raises(CheckFailure) as info:
        checks.check_fan_in_fan_out(MUTANTS[checks.check_fan_in_fan_out][0][0])
    assert "shape (40, 10) (dense: D_in, D_out)" in str(info.value)
