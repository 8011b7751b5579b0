"""Every 08-convolution check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import conv as checks
from check_harness import check_tests
from mutants_conv import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_not_a_function_is_explained():
    with pytest.raises(CheckFailure, match="should be a function"):
        checks.check_conv_forward_naive(np.zeros(3))


def test_torch_tensor_answer_is_explained():
    torch = pytest.importorskip("torch")

    def im2col(x, kh, kw, stride=1, pad=0):
        xt = torch.from_numpy(x)
        return torch.nn.functional.unfold(xt, (kh, kw), padding=pad, stride=stride)

    with pytest.raises(CheckFailure, match="torch.Tensor"):
        checks.check_im2col(im2col)


def test_messages_name_shapes_and_cases():
    from mutants_conv import im2col_no_padding

    with pytest.raises(CheckFailure) as info:
        checks.check_im2col(im2col_no_padding)
    message = str(info.value)
    assert re.search(r"shape \(2, 27, 9\), expected \(2, 27, 49\)", message), message
    assert "stride=1, pad=2" in message


def test_hidden_mode_covers_batch_of_one_non_square_kernels_strides_and_paddings():
    geoms = checks._geometry(checks.case_rng(True, checks.SALT), hidden=True)
    assert any(g[0] == 1 for g in geoms)
    assert any(g[5] != g[6] for g in geoms)
    assert {g[7] for g in geoms} >= {1, 2, 3} and {g[8] for g in geoms} >= {0, 1, 2}
    assert any(g[2] != g[3] for g in geoms)


def test_max_pool_cases_contain_ties():
    for case, x, k, s in checks._pool_cases(hidden=False):
        cols = x.reshape(-1)
        assert len(np.unique(cols)) < cols.size, case
