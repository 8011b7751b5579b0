"""Every 12-generative check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import generative as checks
from check_harness import check_tests
from mutants_generative import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


# --- lecture-specific: the edge-case classes the hidden cases must cover ------------------------------


def test_gaussian_hidden_cases_cover_the_edge_classes():
    public, hidden = list(checks._gauss_cases(False)), list(checks._gauss_cases(True))
    assert hidden[: len(public)] and len(hidden) > len(public)
    assert any(mu.shape == (1, 1) for _, mu, _ in hidden)  # batch of one, one latent dimension
    assert any(np.asarray(mu).dtype.kind == "i" for _, mu, _ in hidden)
    assert any(not mu.flags.c_contiguous for _, mu, _ in hidden)
    assert any(np.abs(lv).max() >= 10 for _, _, lv in hidden)  # extreme log-variances
    assert any(not np.any(mu) and not np.any(lv) for _, mu, lv in hidden)  # the prior: KL = 0


def test_vae_and_gan_hidden_cases_cover_defaults_extremes_and_shapes():
    vae = list(checks._vae_cases(True))
    assert any(beta is None for *_, beta in vae) and any(beta == 0.0 for *_, beta in vae)
    assert any(x.shape[0] == 1 for _, x, *_ in vae) and any(np.abs(lg).max() >= 800 for _, _, lg, *_ in vae)
    assert any(np.asarray(x).dtype.kind == "i" for _, x, *_ in vae)
    assert any(not lg.flags.c_contiguous for _, _, lg, *_ in vae)
    logits = list(checks._logit_cases(True))
    assert any(r.size == 1 and f.size == 1 for _, r, f in logits)
    assert any(np.abs(r).max() >= 800 for _, r, _ in logits)
    assert any(r.ndim == 2 for _, r, _ in logits) and any(r.dtype.kind == "i" for _, r, _ in logits)
    assert any(r.size != f.size for _, r, f in checks._logit_cases(False))  # separate means show in public
    assert any(m == 1 for _, _, m, _, _ in checks._gan_cases(True))


def test_a_torch_answer_to_a_numpy_exercise_is_explained():
    torch = pytest.importorskip("torch")

    def gaussian_kl(mu, logvar):
        m, lv = torch.as_tensor(mu, dtype=torch.float64), torch.as_tensor(logvar, dtype=torch.float64)
        return (0.5 * (lv.exp() + m**2 - 1 - lv).sum(1)).numpy()

    with pytest.raises(CheckFailure, match="this exercise is NumPy"):
        checks.check_gaussian_kl(gaussian_kl)


def test_the_guard_rejects_the_pytorch_reference_as_the_answer():
    """REFERENCE[check_gan_losses] is student-style code (dlcourse.gpu.gan_losses calls other gpu
    functions, which a copy would still reach); handing in the package's own is caught."""
    pytest.importorskip("torch")
    from dlcourse.gpu.generative import gan_losses

    with pytest.raises(CheckFailure, match="called dlcourse.gpu.generative.gan_losses"):
        checks.check_gan_losses(gan_losses)
