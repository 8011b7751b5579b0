"""Every 05-optimization check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import optim as checks
from check_harness import check_tests
from mutants_optim import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_state_must_be_a_dict():
    def sgd_momentum(w, dw, state, cfg):
        return w - cfg["lr"] * dw, None

    with pytest.raises(CheckFailure, match="state as a dict"):
        checks.check_sgd_momentum(sgd_momentum)


def test_messages_name_the_step_and_the_case():
    with pytest.raises(CheckFailure) as info:
        checks.check_adam(MUTANTS[checks.check_adam][0][0])
    message = str(info.value)
    assert "w after step 1" in message and "w of shape (3, 4)" in message, message


def test_torch_tensor_answer_is_explained():
    torch = pytest.importorskip("torch")

    def sgd_momentum(w, dw, state, cfg):
        return torch.as_tensor(w - cfg["lr"] * dw), {}

    with pytest.raises(CheckFailure, match="torch.Tensor"):
        checks.check_sgd_momentum(sgd_momentum)
