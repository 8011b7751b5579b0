"""Every 11-attention check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import attention as checks
from check_harness import check_tests
from mutants_attention import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


# --- lecture-specific: the edge-case classes the hidden cases must cover (issue 10, part 3) ---------------


def test_attention_hidden_cases_cover_the_edge_classes():
    public = list(checks._attention_cases(False))
    hidden = list(checks._attention_cases(True))
    assert hidden[: len(public)] and len(hidden) > len(public)

    def fully_masked(case):
        _, q, k, _, mask, _ = case
        return checks._fully_masked_rows(mask, q.shape[:-1] + k.shape[-2:-1])

    # the no-NaN contract is public: a student sees it before the grader does
    assert any(fully_masked(c) for c in public)
    assert any(c[4] is None and c[5] is None for c in hidden)  # the documented defaults
    assert any(c[1].dtype.kind == "i" for c in hidden)  # integer input
    assert any(not c[1].flags.c_contiguous for c in hidden)  # non-contiguous input
    assert any(c[1].shape[0] == 1 and c[1].ndim == 3 for c in hidden)  # a batch of one
    assert any(c[1].shape[-2] != c[2].shape[-2] for c in hidden)  # Lq ≠ Lk
    assert any(c[5] is not None for c in hidden)  # an explicit scale
    ints = next(c for c in hidden if c[1].dtype.kind == "i")
    scores = ints[1] @ np.swapaxes(ints[2], -1, -2)
    assert any(len(set(row)) < len(row) for row in scores.reshape(-1, scores.shape[-1]))  # tied scores


def test_masked_softmax_cases_cover_fully_masked_rows_defaults_and_extremes():
    public = list(checks._softmax_cases(False))
    hidden = list(checks._softmax_cases(True))
    assert any(checks._fully_masked_rows(m, np.shape(s)) for _, s, m in public)
    assert any(m is None for _, _, m in hidden)
    assert any(np.abs(s).max() >= 1000 for _, s, _ in hidden)
    assert any(np.asarray(s).dtype.kind == "i" for _, s, _ in hidden)
    assert any(not np.asarray(s).flags.c_contiguous for _, s, _ in hidden)


def test_split_and_merge_cases_cover_one_head_one_feature_and_integers():
    hidden = list(checks._split_cases(True))
    heads = [int(h) for _, _, h in hidden]
    features = [x.shape[-1] // int(h) for _, x, h in hidden]
    assert 1 in heads and 1 in features
    assert any(x.dtype.kind == "i" for _, x, _ in hidden)
    assert any(not x.flags.c_contiguous for _, x, _ in hidden)
    merged = [x for _, x in checks._merge_cases(True)]
    assert any(x.flags.c_contiguous for x in merged) and any(not x.flags.c_contiguous for x in merged)


def test_mha_hidden_cases_include_a_sequence_with_no_real_key():
    hidden = list(checks._mha_cases(True))
    assert any(kp is not None and not kp.any(axis=1).all() for *_, kp in hidden)
    assert any(h == 1 for *_, h, _, _ in hidden) and any(q.shape[-1] == h for _, q, _, _, _, h, _, _ in hidden)


# --- lecture-specific: messages -------------------------------------------------------------------------


def test_not_a_function_is_explained():
    with pytest.raises(CheckFailure, match="should be a function"):
        checks.check_attention_forward(np.zeros(3))


def test_torch_tensor_answer_is_explained():
    torch = pytest.importorskip("torch")

    def masked_softmax(scores, mask=None):
        s = torch.from_numpy(np.asarray(scores, dtype=np.float64))
        if mask is not None:
            s = s.masked_fill(~torch.from_numpy(np.broadcast_to(mask, s.shape).copy()), float("-inf"))
        return torch.nan_to_num(torch.softmax(s, dim=-1))

    with pytest.raises(CheckFailure, match="torch.Tensor"):
        checks.check_masked_softmax(masked_softmax)


def test_a_fully_masked_row_is_explained_in_the_public_cases():
    from mutants_attention import attention_nan_on_empty_rows

    with pytest.raises(CheckFailure) as info:
        checks.check_attention_forward(attention_nan_on_empty_rows)
    message = str(info.value)
    assert "fully masked row" in message and "0/0 = NaN" in message, message


def test_the_mha_check_accepts_the_pytorch_module_through_copied_weights():
    """nn.MultiheadAttention with the reference's weights, masks converted, equals the course's answer."""
    torch = pytest.importorskip("torch")

    def mha_forward(query, key, value, params, num_heads, mask=None, key_padding_mask=None):
        e = params["w_q"].shape[0]
        module = torch.nn.MultiheadAttention(e, num_heads, batch_first=True, dtype=torch.float64)
        state = {
            "in_proj_weight": np.concatenate([params["w_q"].T, params["w_k"].T, params["w_v"].T]),
            "in_proj_bias": np.concatenate([params["b_q"], params["b_k"], params["b_v"]]),
            "out_proj.weight": params["w_o"].T, "out_proj.bias": params["b_o"],
        }
        module.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in state.items()})
        t = [torch.tensor(np.asarray(a, dtype=np.float64)) for a in (query, key, value)]
        blocked = None if mask is None else torch.tensor(~mask)  # True = masked out, in PyTorch's module
        padded = None if key_padding_mask is None else torch.tensor(~key_padding_mask)
        with torch.no_grad():
            out, weights = module(*t, attn_mask=blocked, key_padding_mask=padded, average_attn_weights=False)
        return out.numpy(), (weights.numpy(),)

    from dlcourse.checks.guard import torch_as_oracle

    with torch_as_oracle():  # a NumPy exercise: the guard would refuse torch from a student
        checks.check_mha_forward(mha_forward)  # the public cases: every query sees at least one key
