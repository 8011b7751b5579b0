"""Every 10-rnns check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import rnn as checks
from check_harness import check_tests
from mutants_rnn import CORRECT, MUTANTS, REFERENCE, CharLMSequenceFirst, rnn_step_forward_stacked

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_importing_the_checks_does_not_import_torch():
    code = "import sys, dlcourse.checks.rnn; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_torch_answer_to_a_numpy_exercise_is_explained():
    import torch

    def rnn_step_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
        h, cache = rnn_step_forward_stacked(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        return torch.from_numpy(h), cache

    with pytest.raises(CheckFailure, match="torch.Tensor"):
        checks.check_rnn_step_forward(rnn_step_forward)


def test_char_lm_that_returns_numpy_logits_is_explained():
    class CharLM(CharLMSequenceFirst):
        def forward(self, idx, state=None):
            logits, state = super().forward(idx, state)
            return logits.detach().numpy(), state

    with pytest.raises(CheckFailure, match="logits should be a torch.Tensor"):
        checks.check_char_lm(CharLM)


def test_a_class_that_is_not_a_module_is_explained():
    class CharLM:
        def __init__(self, *sizes):
            self.sizes = sizes

    with pytest.raises(CheckFailure, match="should build a torch.nn.Module"):
        checks.check_char_lm(CharLM)


def test_messages_name_the_case():
    with pytest.raises(CheckFailure) as info:
        checks.check_rnn_step_forward(MUTANTS[checks.check_rnn_step_forward][0][0])
    message = str(info.value)
    assert "x of shape (3, 4) (float64), h_prev of shape (3, 5), nonlinearity default (tanh)" in message, message


def test_hidden_relu_cases_put_a_unit_exactly_at_the_kink():
    """The tie class: some pre-activation is exactly 0, where ReLU's derivative is a convention."""
    ties = [case for case, args, nonlinearity in checks._rnn_step_cases(True) if "kink" in case]
    assert len(ties) >= 2
    for case, (x, h_prev, w_ih, w_hh, b_ih, b_hh), _ in checks._rnn_step_cases(True):
        if "kink" in case:
            a = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
            assert np.all(a[:, 0] == 0.0)


def test_hidden_cases_cover_the_edge_classes():
    """Defaults, integer and non-contiguous input, a batch of one and one time step appear in the hidden cases."""
    step = [case for case, _, _ in checks._rnn_step_cases(True)]
    assert any("default" in c for c in step) and any("int64" in c for c in step)
    assert any("non-contiguous" in c for c in step) and any("shape (1, " in c for c in step)
    seq = list(checks._rnn_sequence_cases(True))
    assert any(args[0].shape[1] == 1 for _, args, _ in seq)  # T = 1
    assert any(not args[0].flags.c_contiguous for _, args, _ in seq)
    conv = [case for case, _, _ in checks._causal_conv_cases(True)]
    assert any("default dilation" in c for c in conv) and any("integers" in c for c in conv)
