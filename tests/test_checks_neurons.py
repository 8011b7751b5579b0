"""Every 02-neurons-mlp check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import neurons as checks
from check_harness import check_tests
from mutants_neurons import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_messages_name_the_case():
    from mutants_neurons import perceptron_no_bias

    with pytest.raises(CheckFailure) as info:
        checks.check_perceptron(perceptron_no_bias)
    assert "lecture's example" in str(info.value)


def test_sigmoid_check_leaves_numpy_error_state_alone():
    before = np.geterr()
    with pytest.raises(CheckFailure):
        from mutants_neurons import sigmoid_naive
        checks.check_sigmoid(sigmoid_naive)
    assert np.geterr() == before
