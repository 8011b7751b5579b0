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


def test_hidden_cases_hold_the_inputs_real_code_meets():
    """Defaults, integer and non-contiguous inputs for every layer; stride None and integer images for pooling."""
    for cases in (list(checks._conv_cases(hidden=True)), list(checks._transpose_cases(hidden=True))):
        assert any(c.defaults for c in cases)
        assert any(c.x.dtype.kind == "i" for c in cases)
        assert any(c.x.flags.f_contiguous and not c.x.flags.c_contiguous for c in cases)
        assert any(not c.x.flags.f_contiguous and not c.x.flags.c_contiguous for c in cases)
        assert any(c.x.shape[0] == 1 for c in cases)
    windows = list(checks._windows_cases(hidden=True))
    assert any(w.defaults for w in windows) and any(not w.x.flags.c_contiguous and w.pad == 0 for w in windows)
    pools = list(checks._pool_cases(hidden=True))
    assert any(p.stride is None for p in pools) and any(p.x.dtype.kind == "i" for p in pools)
    assert any(not p.x.flags.c_contiguous for p in pools)
    counts = checks._count_cases(hidden=True)
    assert any(c.stride is None and c.pad is None and c.shared is None for c in counts)
    assert any(c.pad == "same" and c.height % c.stride for c in counts) and any(c.height != c.width for c in counts)


def test_public_cases_are_unchanged_by_the_hidden_ones():
    """Students' visible feedback stays the same: the public cases are a prefix of the hidden ones' draws."""
    public = [c.case for c in checks._conv_cases(hidden=False)]
    assert public == ["x of shape (2, 3, 5, 5), w of shape (2, 3, 3, 3), stride=1, pad=2",
                      "x of shape (1, 2, 7, 6), w of shape (3, 2, 3, 2), stride=2, pad=1"]
    assert [c.case for c in checks._pool_cases(hidden=False)][0] == "x of shape (2, 2, 4, 4) with tied values, pool=2, stride=2"


def test_a_float32_answer_is_told_its_dtype():
    with pytest.raises(CheckFailure, match="has dtype float32, expected float64"):
        checks.check_col2im(lambda cols, *a, **k: ref_col2im(cols, *a, **k).astype(np.float32))


def ref_col2im(cols, x_shape, kh, kw, stride=1, pad=0):
    """A student's col2im (written out here: the guard rejects the reference itself)."""
    from mutants_conv import col2im_per_window

    return col2im_per_window(cols, x_shape, kh, kw, stride, pad)
