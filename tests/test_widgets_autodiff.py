"""dlcourse.widgets.autodiff: the computation-graph viewer, headless."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from dlcourse.widgets import autodiff as aw  # noqa: E402
from dlcourse.widgets import compat  # noqa: E402


@pytest.mark.parametrize("name", sorted(aw.PRESETS))
def test_presets_run_forward_and_backward(name):
    out, leaves = aw.build_preset(name)
    assert out.grad == 1.0
    assert set(leaves) == set(aw.PRESETS[name][1])
    nodes = aw.trace(out)
    assert nodes[-1].data == out.data and nodes[-1].grad == 1.0
    pos = aw.layered_layout(nodes)
    assert set(pos) == {n.key for n in nodes}
    for n in nodes:  # every edge goes left to right
        assert all(pos[k][0] < pos[n.key][0] for k in n.inputs)
    assert len(set(pos.values())) == len(pos)  # no two boxes on one spot


def test_neuron_values_and_gradients():
    out, leaves = aw.build_preset("neuron", {"b": 6.8813735870195432})
    assert out.data == pytest.approx(1 / math.sqrt(2))
    assert leaves["x1"].grad == pytest.approx(-1.5) and leaves["w2"].grad == pytest.approx(0.0)


def test_fan_out_gradient_is_the_sum_of_both_paths():
    out, leaves = aw.build_preset("fan-out", {"x": 2.0, "y": -3.0})
    assert leaves["x"].grad == pytest.approx(-3.0 + 1.0) and leaves["y"].grad == pytest.approx(2.0)


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset"):
        aw.build_preset("nope")


def test_plot_graph_shows_data_and_grad_on_every_node():
    before = plt.get_fignums()
    fig = aw.show_graph("two-layer")
    assert plt.get_fignums() == before
    (ax,) = fig.axes
    out, _ = aw.build_preset("two-layer")
    boxes = [t.get_text() for t in ax.texts if "data" in t.get_text()]
    assert len(boxes) == len(aw.trace(out))
    assert all("grad" in b for b in boxes)
    assert ax.get_xlabel()
    assert sum(1 for t in ax.texts if t.get_text() == "") >= 1  # arrows (annotations) are drawn


def test_viewer_builds_headless_and_recomputes_on_slider_change():
    import ipywidgets

    assert compat.is_headless()
    before = plt.get_fignums()
    box = aw.graph_viewer("fan-out")
    sliders, outs, htmls = {}, [], []
    stack = [box]
    while stack:
        w = stack.pop()
        stack.extend(getattr(w, "children", ()))
        if isinstance(w, ipywidgets.FloatSlider):
            sliders[w.description] = w
        elif isinstance(w, ipywidgets.Output):
            outs.append(w)
        elif isinstance(w, ipywidgets.HTML):
            htmls.append(w)
    assert set(sliders) == {"x", "y"}
    (out,) = outs
    (html,) = htmls
    assert len(out.outputs) == 1 and "image/png" in out.outputs[0]["data"]
    assert "∂/∂x = -2" in html.value
    first = out.outputs[0]["data"]["image/png"]
    sliders["y"].value = 1.0
    assert "∂/∂x = 2" in html.value and "= 4" in html.value
    assert out.outputs[0]["data"]["image/png"] != first
    assert plt.get_fignums() == before
    with pytest.raises(ValueError):
        aw.graph_viewer("nope")


def test_neuron_sliders_reach_what_the_notebook_asks_for():
    """01's text asks for b = 10 (z = 4, a saturated tanh) from the default 6.88."""
    import ipywidgets

    box = aw.graph_viewer("neuron")
    stack, sliders = [box], {}
    while stack:
        w = stack.pop()
        stack.extend(getattr(w, "children", ()))
        if isinstance(w, ipywidgets.FloatSlider):
            sliders[w.description] = w
    assert sliders["b"].min <= -10 and sliders["b"].max >= 10
    sliders["b"].value = 10.0
    assert sliders["b"].value == 10.0  # not clipped by the slider
    out, _ = aw.build_preset("neuron", {"b": 10.0})
    assert abs(out.data - math.tanh(4.0)) < 1e-12  # z = 2·(−3) + 0·1 + 10 = 4
    assert all(s.min <= -4 and s.max >= 4 for s in sliders.values())


def test_import_stays_light():
    code = textwrap.dedent(
        """
        import sys
        from dlcourse.widgets import autodiff
        out, _ = autodiff.build_preset("neuron")
        autodiff.layered_layout(autodiff.trace(out))
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
