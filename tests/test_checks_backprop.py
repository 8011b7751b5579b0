"""Every 04-backprop check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import backprop as checks
from check_harness import check_tests
from impersonate import as_student
from mutants_backprop import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_guard_restores_a_previous_profiler():
    import sys

    calls = []

    def outer(frame, event, arg):
        calls.append(event)

    sys.setprofile(outer)
    try:
        checks.check_relu_backward(as_student(REFERENCE[checks.check_relu_backward]))
        assert sys.getprofile() is outer
    finally:
        sys.setprofile(None)


def test_not_a_function_is_explained():
    with pytest.raises(CheckFailure, match="should be a function"):
        checks.check_affine_forward(np.zeros(3))


def test_torch_tensor_answer_is_explained():
    torch = pytest.importorskip("torch")

    def affine_forward(x, w, b):
        out = torch.from_numpy(x.reshape(len(x), -1)) @ torch.from_numpy(w) + torch.from_numpy(b)
        return out, (x, w, b)

    with pytest.raises(CheckFailure, match="torch.Tensor"):
        checks.check_affine_forward(affine_forward)


def test_messages_name_shapes_and_cases():
    with pytest.raises(CheckFailure) as info:
        checks.check_affine_backward(MUTANTS[checks.check_affine_backward][0][0])
    message = str(info.value)
    assert re.search(r"shape \(2, 3\), expected \(3,\)", message), message
    assert "x of shape (2, 4)" in message
