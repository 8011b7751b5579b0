"""Tests of dlcourse.widgets.neurons: compute, plots, and the three widgets headless."""

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
from dlcourse.widgets import neurons as nw  # noqa: E402
from widget_tree import walk  # noqa: E402


def test_activation_curves_values_derivatives_and_saturation():
    z = np.array([-10.0, 0.0, 10.0])
    out, grad, sat = nw.activation_curves("sigmoid", z)
    np.testing.assert_allclose(grad, out * (1 - out))
    assert sat.tolist() == [True, False, True]
    out, grad, sat = nw.activation_curves("relu", z)
    assert grad.tolist() == [0.0, 0.0, 1.0] and sat.tolist() == [True, True, False]
    _, grad, _ = nw.activation_curves("leaky_relu", z, alpha=0.3)
    assert grad.tolist() == [0.3, 0.3, 1.0]
    _, grad, _ = nw.activation_curves("tanh", np.array([3.0]))
    assert grad[0] == pytest.approx(1 - np.tanh(3.0) ** 2)


def test_decision_line_lies_where_the_neuron_outputs_one_half():
    x1, x2 = nw.decision_line((3.0, -2.0), 1.0, (-3, 3))
    np.testing.assert_allclose(1.0 + 3.0 * x1 - 2.0 * x2, 0.0, atol=1e-12)
    x1, x2 = nw.decision_line((2.0, 0.0), 1.0, (-3, 3))
    assert x1.tolist() == [-0.5, -0.5]
    assert nw.decision_line((0.0, 0.0), 1.0, (-3, 3))[0].size == 0


def test_more_hidden_units_fit_better():
    errors = [nw.fit_one_hidden_layer("sin(3x)", h).mse for h in (1, 5, 20, 100)]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-4
    fit = nw.fit_one_hidden_layer("|x| − 0.5", 3, seed=1)
    assert fit.kinks.shape == (3,) and fit.prediction.shape == fit.grid.shape
    again = nw.fit_one_hidden_layer("|x| − 0.5", 3, seed=1)
    np.testing.assert_array_equal(fit.prediction, again.prediction)


def test_plots_have_labelled_axes():
    ax = nw.plot_activation(None, "elu", alpha=0.5)
    assert ax.get_xlabel() == "z" and len(ax.lines) >= 2
    ax2 = nw.plot_perceptron(None, (3.0, -2.0), 1.0, np.zeros((2, 2)), np.array([0, 1]))
    assert ax2.get_xlabel() == "x₁" and ax2.get_ylabel() == "x₂" and "w₀ = 1.00" in ax2.get_title()
    ax3 = nw.plot_approximation(None, nw.fit_one_hidden_layer(hidden=4))
    assert "4 ReLUs" in ax3.get_title() and ax3.get_ylabel() == "y"
    assert plt.get_fignums() == []  # plain Figures, nothing left open in pyplot




def control(widget, description):
    (found,) = [w for w in walk(widget) if getattr(w, "description", None) == description]
    return found


def output_png(widget):
    import ipywidgets

    (out,) = [w for w in walk(widget) if isinstance(w, ipywidgets.Output)]
    assert len(out.outputs) == 1
    return out.outputs[0]["data"]["image/png"]


@pytest.mark.parametrize(
    "make,changes",
    [
        (nw.activation_explorer, {"activation": "elu", "α": 1.5}),
        (nw.perceptron_explorer, {"w₀": -1.0, "w₁": 0.5, "w₂": 2.0}),
        (nw.approximation_explorer, {"hidden units": 40, "target": "step"}),
    ],
)
def test_widgets_render_headless_and_redraw_on_change(make, changes):
    assert compat.is_headless()
    before = plt.get_fignums()
    widget = make()
    png = output_png(widget)
    for description, value in changes.items():
        control(widget, description).value = value
        new = output_png(widget)
        assert new != png
        png = new
    assert plt.get_fignums() == before


IPYWIDGETS_77_TRAITS = {
    "IntSlider": "continuous_update description description_tooltip disabled layout max min orientation"
    " readout readout_format step style value",
    "FloatSlider": "continuous_update description description_tooltip disabled layout max min orientation"
    " readout readout_format step style value",
    "Dropdown": "description description_tooltip disabled index layout options style value",
    "Output": "layout msg_id outputs",
    "HBox": "box_style children layout",
    "VBox": "box_style children layout",
    "Layout": "min_height width",
    "SliderStyle": "description_width handle_color",
    "DescriptionStyle": "description_width",
}


@pytest.mark.parametrize("make", [nw.activation_explorer, nw.perceptron_explorer, nw.approximation_explorer])
def test_widgets_set_only_traits_that_exist_in_ipywidgets_7_7(make):
    widget = make()
    seen = []
    for w in walk(widget):
        seen.append(w)
        seen.extend(s for s in (getattr(w, "layout", None), getattr(w, "style", None)) if s is not None)
    for w in seen:
        state, default = w.get_state(), type(w)().get_state()
        changed = {k for k in state if not k.startswith("_") and k not in ("layout", "style", "children")}
        changed = {k for k in changed if state[k] != default[k]}
        name = type(w).__name__
        if changed:
            assert name in IPYWIDGETS_77_TRAITS, name
            assert not changed - set(IPYWIDGETS_77_TRAITS[name].split()), (name, changed)


def test_import_stays_light():
    code = textwrap.dedent(
        """
        import sys
        from dlcourse.widgets import neurons
        neurons.fit_one_hidden_layer(hidden=3); neurons.activation_curves("elu", [0.0, 1.0])
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
