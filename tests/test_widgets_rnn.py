"""Tests of dlcourse.widgets.rnn: gradient flow through time and sampling temperature, headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse.widgets import compat  # noqa: E402
from dlcourse.widgets import rnn as wr  # noqa: E402
from widget_tree import find, images_in, walk  # noqa: E402,F401




# ---------------------------------------------------------------- compute


@pytest.mark.parametrize("init", wr.INITS)
def test_recurrent_matrix_has_the_requested_spectral_radius(init: str) -> None:
    for radius in (0.5, 1.0, 1.7):
        w = wr.recurrent_matrix(24, radius, init, seed=3)
        assert w.shape == (24, 24)
        assert np.max(np.abs(np.linalg.eigvals(w))) == pytest.approx(radius, rel=1e-9)
    with pytest.raises(ValueError, match="init"):
        wr.recurrent_matrix(4, 1.0, "xavier")


def test_linear_rnn_gradients_scale_like_rho_to_the_distance() -> None:
    """For an orthogonal W_hh times ρ every backward step multiplies the norm by exactly ρ."""
    for radius in (0.8, 1.0, 1.25):
        norms = wr.gradient_norms(radius, steps=30, cell="linear", init="orthogonal")
        assert norms[-1] == pytest.approx(1.0)
        np.testing.assert_allclose(norms, radius ** (30 - np.arange(1, 31)), rtol=1e-9)
    assert wr.regime(wr.gradient_norms(0.5, cell="linear")) == "vanishing"
    assert wr.regime(wr.gradient_norms(1.5, cell="linear")) == "exploding"
    assert wr.regime(wr.gradient_norms(1.0, cell="linear", init="orthogonal")) == "stable"


def test_the_lectures_points_are_visible() -> None:
    # tanh: vanishing below ρ = 1; a large radius explodes despite saturation.
    assert wr.regime(wr.gradient_norms(0.9, cell="tanh")) == "vanishing"
    assert wr.regime(wr.gradient_norms(2.5, cell="tanh")) == "exploding"
    # ReLU with identity initialisation carries the gradient unchanged-ish over 60 steps.
    assert wr.regime(wr.gradient_norms(1.0, cell="relu", init="identity")) == "stable"
    assert wr.regime(wr.gradient_norms(1.0, cell="relu", init="random")) == "vanishing"
    # LSTM: a forget gate held open (positive bias) keeps the gradient alive at any radius.
    assert wr.regime(wr.gradient_norms(0.5, cell="lstm", forget_bias=0.0)) == "vanishing"
    for radius in (0.5, 1.0, 2.0):
        assert wr.regime(wr.gradient_norms(radius, cell="lstm", forget_bias=3.0)) == "stable"


def test_gradient_norms_match_the_sequence_backward_pass() -> None:
    """The step-by-step norms agree with the reference's whole-sequence BPTT at the first step."""
    from dlcourse.ref.rnn import rnn_backward, rnn_forward

    rng = np.random.default_rng(0)
    steps, hidden, batch, seed = 12, 8, 8, 0
    norms = wr.gradient_norms(1.1, steps=steps, hidden=hidden, cell="tanh", batch=batch, seed=seed)
    # Rebuild the same problem: same draws in the same order as gradient_norms.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, 4))
    g = rng.standard_normal((batch, hidden))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    w_hh = wr.recurrent_matrix(hidden, 1.1, "random", seed)
    w_ih = 0.1 * rng.standard_normal((hidden, 4))
    h, cache = rnn_forward(x.transpose(1, 0, 2), np.zeros((batch, hidden)), w_ih, w_hh, np.zeros(hidden),
                           np.zeros(hidden))
    dh = np.zeros_like(h)
    dh[:, -1] = g
    dx, dh0, *_ = rnn_backward(dh, cache)
    dh1 = dh0 @ np.linalg.inv(w_hh)  # ∂L/∂h_0 = ∂L/∂a_1 w_hh, so ∂L/∂a_1 = dh0 w_hh⁻¹
    h1 = h[:, 0]
    expected = np.linalg.norm(dh1 / (1 - h1 * h1), axis=1).mean()
    assert norms[0] == pytest.approx(expected, rel=1e-8)


def test_next_char_table_and_labels() -> None:
    logits = np.array([2.0, 0.0, -1.0])
    table = wr.next_char_table(logits, [0.5, 1.0, 4.0])
    assert table.shape == (3, 3) and np.allclose(table.sum(axis=1), 1)
    assert table[0, 0] > table[1, 0] > table[2, 0] > 1 / 3
    assert wr.char_label(" ") == "␣" and wr.char_label("\n") == "⏎" and wr.char_label("a") == "a"


# ---------------------------------------------------------------- plots


def test_plots_have_labelled_axes() -> None:
    norms = wr.gradient_norms(1.5, cell="linear")
    ax = wr.plot_gradient_norms(None, norms, 1.5, "linear RNN", {"ρ=1": wr.gradient_norms(1.0, cell="linear")})
    assert ax.get_xlabel().startswith("time step") and "log" in ax.get_ylabel()
    assert ax.get_title().startswith("exploding") and ax.get_yscale() == "log"
    assert len(ax.lines) == 3  # reference, prediction ρ^(T−t), the curve
    ax = wr.plot_next_char(None, np.array([0.5, 0.3, 0.2]), "ab ", 0.7, prompt="Shall I")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "␣"]
    assert ax.get_ylabel() == "probability" and "Shall I" in ax.get_xlabel() and "bits" in ax.get_title()


# ---------------------------------------------------------------- widgets, headless


def test_gradient_flow_explorer_builds_headless_and_reacts() -> None:
    assert compat.is_headless()
    box = wr.gradient_flow_explorer(radius=0.5, steps=30, hidden=16)
    (out,) = find(box, "Output")
    (status,) = find(box, "HTML")
    assert images_in(out) == 1 and "vanishing" in status.value
    (radius,) = find(box, "FloatSlider", "radius ρ")
    (cell,) = find(box, "Dropdown", "cell")
    (forget,) = find(box, "FloatSlider", "forget bias")
    assert forget.disabled
    cell.value = "linear"
    radius.value = 1.6
    assert "exploding" in status.value and images_in(out) == 1
    cell.value = "lstm"
    assert not forget.disabled
    forget.value = 3.0
    assert "stable" in status.value


def test_temperature_sampler_builds_headless_and_reacts() -> None:
    torch = pytest.importorskip("torch")
    from dlcourse.data.text import char_corpus
    from dlcourse.gpu.charlm import CharLM, LMConfig, LMResult

    torch.manual_seed(0)
    corpus = char_corpus()
    lm = LMResult(CharLM(len(corpus.vocab), 8, 16), corpus.vocab, LMConfig(), torch.device("cpu"))
    box = wr.temperature_sampler(lm, prompt="Shall I", length=30)
    (out,) = find(box, "Output")
    (text,) = find(box, "HTML")
    assert images_in(out) == 1 and "<b>Shall I</b>" in text.value
    first = text.value
    (seed,) = find(box, "IntSlider", "seed")
    (button,) = find(box, "Button")
    button.click()
    assert seed.value == 1 and text.value != first
    (temp,) = find(box, "FloatLogSlider", "temperature T")
    warm = text.value
    temp.value = 0.05
    assert text.value != warm and images_in(out) == 1  # the same seed, another temperature: another sample


def test_widget_module_uses_only_portable_ipywidgets_names() -> None:
    source = open(wr.__file__, encoding="utf-8").read()
    assert not [name for name in compat.NOT_PORTABLE if name in source]


def test_import_stays_light() -> None:
    code = textwrap.dedent("""
        import sys
        import dlcourse.widgets.rnn as wr
        wr.gradient_norms(1.0, steps=5)
        heavy = [m for m in ("torch", "matplotlib", "ipywidgets") if m in sys.modules]
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
