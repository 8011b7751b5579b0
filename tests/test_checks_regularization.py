"""Every 07-regularization check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

from dlcourse.checks import regularization as checks
from check_harness import check_tests
from mutants_regularization import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


import numpy as np
import pytest

from dlcourse.checks import CheckFailure


def test_gradients_that_share_memory_with_params_are_rejected():
    """A gradient that is a view of a parameter changes when the caller updates params in place."""
    params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    aliased = {"W": 0.1 * params["W"], "b": params["b"][...]}  # b's values are right (0), its memory is not new
    with pytest.raises(CheckFailure, match=r"grads\['b'\] shares memory with params\['b'\]"):
        checks._expect_new_gradients("l2_penalty", aliased, params, "W (2, 2), b (2,)")
    checks._expect_new_gradients("l2_penalty", {"W": 0.1 * params["W"], "b": np.zeros(2)}, params, "new arrays")


def test_hidden_cases_hold_the_inputs_real_code_meets():
    drops = checks._dropout_cases(hidden=True)
    assert {0.0, 1.0} <= {c.p for c in drops} and any(c.p is None for c in drops)
    assert {"int", "T", "S"} <= {c.layout for c in drops} and any(c.shape[0] == 1 for c in drops)
    connects = checks._dropconnect_cases(hidden=True)
    assert any(c.p == 0 for c in connects) and any(c.p is None for c in connects) and any(c.n == 1 for c in connects)
    assert {"int", "T", "S"} <= {c.layout for c in connects}
    splits = checks._split_cases(hidden=True)
    assert any(fv is None for _, _, fv, _ in splits)
    assert any(not set(np.unique(y)) <= set(range(len(np.unique(y)))) for _, y, _, _ in splits)  # labels skip values
    assert any(not y.flags.c_contiguous for _, y, _, _ in splits)
    params = [p for _, p, _ in checks._params_cases(hidden=True)]
    assert any(v.dtype.kind == "i" for p in params for v in p.values())
    assert any(not v.flags.c_contiguous for p in params for v in p.values())
    curves = checks._curves(hidden=True)
    assert any(c.patience is None for c in curves) and any(not c.inplace for c in curves)
