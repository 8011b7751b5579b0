"""Tests of dlcourse.widgets.uncertainty: the ensemble's spread and the reliability diagram, headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse.ref import uncertainty as U  # noqa: E402
from dlcourse.widgets import compat  # noqa: E402
from dlcourse.widgets import uncertainty as wu  # noqa: E402
from widget_tree import find, images_in  # noqa: E402


def fake_fit(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in for a trained ensemble: members agree near the data and fan out away from it.

    Member m predicts the true function plus m·(distance to the nearest training input), and a
    noise variance equal to the data's residual variance: no training, so the widget tests are fast.
    """
    g = grid[:, 0]
    distance = np.abs(g[:, None] - x[None, :, 0]).min(axis=1)
    offsets = np.arange(-2, 3)[:, None] * distance[None, :] * 0.3
    noise = float(np.var(y[:, 0] - np.sin(x[:, 0]) - 0.3 * x[:, 0]))
    return np.sin(g) + 0.3 * g + offsets, np.full((5, g.size), noise)


def logits_and_labels(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Over-confident logits: labels drawn at temperature 2.5, logits used at 1."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 4)) * 4
    y = np.array([rng.choice(4, p=row) for row in U.temperature_scale(z, 2.5)])
    return z, y


# ---------------------------------------------------------------- compute


def test_ensemble_bands_are_the_square_roots_of_the_reference_split() -> None:
    rng = np.random.default_rng(0)
    mu, var = rng.standard_normal((4, 9)), rng.random((4, 9))
    bands = wu.ensemble_bands(mu, var)
    mean, aleatoric, epistemic = U.ensemble_regression(mu, var)
    np.testing.assert_allclose(bands.mean, mean)
    np.testing.assert_allclose(bands.aleatoric**2, aleatoric)
    np.testing.assert_allclose(bands.total**2, aleatoric + epistemic)


def test_temperature_scaling_changes_calibration_but_not_accuracy() -> None:
    z, y = logits_and_labels()
    at_one, at_best = wu.calibration_at(z, y, 1.0), wu.calibration_at(z, y, U.fit_temperature(z, y))
    assert at_one.accuracy == at_best.accuracy
    assert at_best.ece < at_one.ece and at_best.nll < at_one.nll
    assert at_one.ece == pytest.approx(U.expected_calibration_error(U.temperature_scale(z, 1.0), y))


# ---------------------------------------------------------------- plotting


def test_plots_have_labelled_axes() -> None:
    from dlcourse.data.regression import gap_regression

    x, y = gap_regression(30, 0.2, 2.0)
    grid = np.linspace(-4, 4, 50)[:, None]
    ax = wu.plot_ensemble(None, x, y, grid, *fake_fit(x, y, grid), gap=2.0)
    assert ax.get_xlabel() == "input x" and ax.get_ylabel() == "output y"
    assert "epistemic" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    z, lab = logits_and_labels(100)
    ax = wu.plot_reliability(None, wu.calibration_at(z, lab, 1.0), fitted=2.0)
    assert "confidence" in ax.get_xlabel() and ax.get_ylabel() == "accuracy" and "ECE" in ax.get_title()


# ---------------------------------------------------------------- widgets, headless


def test_ensemble_explorer_builds_headless_trains_each_setting_once_and_reacts() -> None:
    assert compat.is_headless()
    calls: list[float] = []

    def fit(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(float(x.size))
        return fake_fit(x, y, grid)

    box = wu.ensemble_spread_explorer(fit, noise=0.2, gap=3.0, n=40)
    (out,) = find(box, "Output")
    (status,) = find(box, "HTML")
    assert images_in(out) == 1 and len(calls) == 1
    inside = float(status.value.split("epistemic <b>")[1].split("<")[0])
    outside = float(status.value.split("epistemic ")[-1])
    assert inside > outside  # the gap is where the members disagree
    (gap,) = find(box, "SelectionSlider", "gap width")
    (noise,) = find(box, "SelectionSlider", "noise σ")
    gap.value = 0.0
    noise.value = 0.4
    gap.value = 3.0
    assert len(calls) == 4 and images_in(out) == 1  # (0.2, 3) first, then (0.2, 0), (0.4, 0), (0.4, 3)
    noise.value = 0.2
    assert len(calls) == 4  # back to (0.2, 3), already trained: no new training
    with pytest.raises(ValueError, match="noise"):
        wu.ensemble_spread_explorer(fit, noise=0.3)


def test_ensemble_explorer_precomputes_every_setting() -> None:
    calls: list[int] = []
    wu.ensemble_spread_explorer(lambda x, y, g: calls.append(1) or fake_fit(x, y, g), n=20, precompute=True)
    assert len(calls) == len(wu.NOISES) * len(wu.GAPS)


def test_reliability_explorer_builds_headless_and_reacts() -> None:
    z, y = logits_and_labels()
    best = U.fit_temperature(z, y)
    box = wu.reliability_explorer(z, y, fitted=best)
    (out,) = find(box, "Output")
    (status,) = find(box, "HTML")
    assert images_in(out) == 1 and "over-confident" in status.value
    first = status.value
    (button,) = find(box, "Button")
    button.click()
    (temp,) = find(box, "FloatLogSlider", "temperature T")
    assert temp.value == pytest.approx(best) and status.value != first and images_in(out) == 1
    temp.value = 10.0
    assert "under-confident" in status.value


def test_widget_module_uses_only_portable_ipywidgets_names() -> None:
    source = open(wu.__file__, encoding="utf-8").read()
    assert not [name for name in compat.NOT_PORTABLE if name in source]


def test_import_stays_light() -> None:
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import dlcourse.widgets.uncertainty as wu
        wu.calibration_at(np.zeros((3, 2)), np.array([0, 1, 0]), 1.0)
        heavy = [m for m in ("torch", "matplotlib", "ipywidgets") if m in sys.modules]
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
