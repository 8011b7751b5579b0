"""Every 13-reinforcement check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import rl as checks
from check_harness import check_tests
from mutants_rl import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


def test_importing_the_checks_does_not_import_torch_or_gymnasium():
    code = "import sys, dlcourse.checks.rl; print('torch' in sys.modules, 'gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_hidden_cases_cover_the_edge_classes():
    returns = [(case, r, g) for case, r, g, _ in checks._returns_cases(True)]
    assert {0.0, 1.0} <= {g for _, _, g in returns}
    assert any(r.shape[-1] == 1 for _, r, _ in returns) and any(r.dtype.kind == "i" for _, r, _ in returns)
    assert any(not r.flags.c_contiguous for _, r, _ in returns)
    greedy = list(checks._greedy_cases(True))
    assert {0.0, 1.0} <= {eps for _, _, eps in greedy} and any(q.size == 1 for _, q, _ in greedy)
    assert any((q == q.max()).all() for _, q, _ in greedy)
    updates = [args for _, args in checks._q_cases(True)]
    assert any(a[5] and a[6] for a in updates) and any(a[1] == a[4] for a in updates)
    assert any(np.asarray(a[0]).dtype.kind == "i" for a in updates)
    dqn = [(b, g) for _, b, g in checks._dqn_cases(True)]
    assert any(b[4].all() for b, _ in dqn) and any(not b[4].any() for b, _ in dqn) and any(len(b[1]) == 1 for b, _ in dqn)
    reinforce = list(checks._reinforce_cases(True))
    assert any(g.std() == 0 for _, _, g, _ in reinforce) and any(g.ndim == 2 for _, _, g, _ in reinforce)


def test_the_lecture_exponent_is_named():
    """The lecture writes R_t = Σ γ^i r_i; the check names the exponent when a student copies it."""
    from mutants_rl import discounted_returns_lecture_exponent

    with pytest.raises(CheckFailure, match=r"lecture's γ\^k counts from the episode's start"):
        checks.check_discounted_returns(discounted_returns_lecture_exponent)


def test_a_numpy_dqn_loss_is_explained():
    def dqn_loss(q_values, actions, rewards, next_q_values, terminated, gamma):
        return 0.5

    with pytest.raises(CheckFailure, match="should be a torch.Tensor"):
        checks.check_dqn_loss(dqn_loss)
