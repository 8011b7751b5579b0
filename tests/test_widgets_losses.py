"""Tests of dlcourse.widgets.losses: compute, plots, and the two widgets headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse.widgets import compat  # noqa: E402
from dlcourse.widgets import losses as lw  # noqa: E402
from widget_tree import walk  # noqa: E402


def test_temperature_sharpens_and_flattens():
    s = np.array([3.0, 1.0, 0.2])
    p1 = lw.softmax_with_temperature(s, 1.0)
    cold, hot = lw.softmax_with_temperature(s, 0.1), lw.softmax_with_temperature(s, 10.0)
    assert cold[0] > 0.9999 and lw.entropy(cold) < lw.entropy(p1) < lw.entropy(hot) < np.log(3)
    np.testing.assert_allclose(hot, 1 / 3, atol=0.07)
    np.testing.assert_allclose(lw.softmax_with_temperature(s * 10, 1.0), cold)  # ×10 logits = T of 0.1
    assert lw.entropy(np.array([0.5, 0.5, 0.0])) == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="temperature"):
        lw.softmax_with_temperature(s, 0.0)


def test_fit_line_l2_is_least_squares_and_l1_is_robust():
    x, y = lw.line_data(20, seed=0)
    a2, b2 = lw.fit_line(x, y, "l2")
    np.testing.assert_allclose([a2, b2], np.polyfit(x, y, 1), rtol=1e-10)
    a1, b1 = lw.fit_line(x, y, "l1")
    assert abs(a1 - 0.8) < 0.15 and abs(b1 - 1.0) < 0.6
    # The L1 line is optimal: no small perturbation lowers the mean absolute residual.
    best = np.mean(np.abs(y - a1 * x - b1))
    for da, db in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)]:
        assert np.mean(np.abs(y - (a1 + da) * x - (b1 + db))) >= best - 1e-12
    xo, yo = np.append(x, 8.0), np.append(y, 30.0)
    shift2 = abs(lw.fit_line(xo, yo, "l2")[0] - a2)
    shift1 = abs(lw.fit_line(xo, yo, "l1")[0] - a1)
    assert shift2 > 5 * shift1  # one outlier drags the L2 line, hardly the L1 line
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        lw.fit_line(x, y, "huber")


def test_plots_have_labelled_axes():
    ax = lw.plot_temperature(None, np.array([1.0, 2.0]), 0.5)
    assert ax.get_ylabel() == "probability" and "T = 0.5" in ax.get_title() and len(ax.patches) == 2
    x, y = lw.line_data(10)
    ax = lw.plot_line_fits(None, x, y, outlier=3)
    assert ax.get_xlabel() == "x" and len(ax.lines) == 2
    assert plt.get_fignums() == []




def output_png(widget):
    import ipywidgets

    (out,) = [w for w in walk(widget) if isinstance(w, ipywidgets.Output)]
    assert len(out.outputs) == 1
    return out.outputs[0]["data"]["image/png"]


@pytest.mark.parametrize(
    "make,changes",
    [(lw.temperature_explorer, {"temperature T": 0.1}), (lw.outlier_explorer, {"outlier y": -10.0, "outlier x": 2.0})],
)
def test_widgets_render_headless_and_redraw(make, changes):
    assert compat.is_headless()
    widget = make()
    png = output_png(widget)
    for description, value in changes.items():
        (w,) = [c for c in walk(widget) if getattr(c, "description", None) == description]
        w.value = value
        assert output_png(widget) != png
        png = output_png(widget)
    assert plt.get_fignums() == []


IPYWIDGETS_77_TRAITS = {
    "FloatSlider": "continuous_update description description_tooltip disabled layout max min orientation"
    " readout readout_format step style value",
    "FloatLogSlider": "base continuous_update description description_tooltip disabled layout max min"
    " orientation readout readout_format step style value",
    "Output": "layout msg_id outputs",
    "HBox": "box_style children layout",
    "VBox": "box_style children layout",
    "Layout": "min_height width",
    "SliderStyle": "description_width handle_color",
}


@pytest.mark.parametrize("make", [lw.temperature_explorer, lw.outlier_explorer])
def test_widgets_set_only_traits_that_exist_in_ipywidgets_7_7(make):
    seen = []
    for w in walk(make()):
        seen.append(w)
        seen.extend(s for s in (getattr(w, "layout", None), getattr(w, "style", None)) if s is not None)
    for w in seen:
        state, default = w.get_state(), type(w)().get_state()
        changed = {k for k in state if not k.startswith("_") and k not in ("layout", "style", "children")}
        changed = {k for k in changed if state[k] != default[k]}
        if changed:
            name = type(w).__name__
            assert name in IPYWIDGETS_77_TRAITS, name
            assert not changed - set(IPYWIDGETS_77_TRAITS[name].split()), (name, changed)


def test_import_stays_light():
    code = textwrap.dedent(
        """
        import sys
        from dlcourse.widgets import losses
        losses.fit_line(*losses.line_data(8), "l1"); losses.softmax_with_temperature([1.0, 2.0], 3.0)
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
