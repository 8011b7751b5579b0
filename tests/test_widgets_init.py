"""Tests of dlcourse.widgets.init: depth statistics, the symmetry demo and their widgets (headless)."""

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
from dlcourse.widgets import init as wi  # noqa: E402


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def control(root, description):
    return next(w for w in _walk(root) if getattr(w, "description", None) == description)


def output_of(root):
    import ipywidgets

    return next(w for w in _walk(root) if isinstance(w, ipywidgets.Output))


def test_depth_statistics_shapes_and_the_lessons():
    s = wi.depth_statistics(depth=6, width=64, n=50, init="he", activation="relu")
    assert len(s.activations) == len(s.gradients) == 6
    assert all(a.shape == (50, 64) for a in s.activations + s.gradients)
    assert s.activation_std.shape == s.gradient_std.shape == (6,)
    small = wi.depth_statistics(depth=10, width=64, n=50, init="small N(0, 0.01²)", activation="tanh")
    assert small.activation_std[-1] < 1e-10  # vanishing signal
    large = wi.depth_statistics(depth=10, width=64, n=50, init="large N(0, 1)", activation="tanh")
    assert np.mean(np.abs(large.activations[-1]) > 0.99) > 0.5  # saturated tanh units
    he = wi.depth_statistics(depth=10, width=128, n=100, init="he", activation="relu")
    assert 0.2 < he.activation_std[-1] / he.activation_std[0] < 5  # He keeps the ReLU signal
    zero = wi.depth_statistics(depth=3, width=8, n=5, init="zero", activation="tanh")
    assert not zero.activations[-1].any()
    assert wi.depth_statistics(depth=3, width=8, n=5, seed=1).activations[0].sum() == pytest.approx(
        wi.depth_statistics(depth=3, width=8, n=5, seed=1).activations[0].sum())
    with pytest.raises(ValueError):
        wi.depth_statistics(depth=0)
    with pytest.raises(ValueError):
        wi.init_weights((2, 2), "orthogonal", np.random.default_rng(0))


def test_symmetry_run_shows_that_equal_weights_stay_equal():
    runs = {k: wi.symmetry_run(k, steps=60, hidden=5) for k in ("zero", "constant", "random")}
    assert runs["zero"]["distinct"] == 1 and not runs["zero"]["W1"].any()  # no gradient reaches W1 at all
    assert runs["constant"]["distinct"] == 1
    assert runs["random"]["distinct"] == 5
    assert runs["random"]["losses"][-1] < runs["constant"]["losses"][-1]
    with pytest.raises(ValueError):
        wi.symmetry_run("ones")


def test_plots_have_labelled_axes_and_leave_no_figure_open():
    before = plt.get_fignums()
    s = wi.depth_statistics(depth=7, width=32, n=20, init="large N(0, 1)", activation="relu")
    fig = wi.plot_depth_histograms(s)
    axes = fig.axes
    assert len(axes) == 2 * 5 and all(ax.get_xlabel() for ax in axes)
    assert "layer 1" in axes[0].get_title()
    plt.close(fig)
    ax = wi.plot_std_through_depth(None, s)
    assert ax.get_xlabel() == "layer" and ax.get_yscale() == "log"
    plt.close(ax.figure)
    zero = wi.depth_statistics(depth=2, width=8, n=4, init="zero")
    plt.close(wi.plot_depth_histograms(zero))  # constant values: no histogram, no error
    fig = wi.plot_symmetry({k: wi.symmetry_run(k, steps=5) for k in ("zero", "random")})
    assert "distinct" in fig.axes[0].get_title()
    plt.close(fig)
    assert plt.get_fignums() == before


def test_explorer_builds_headless_and_redraws_on_change():
    import ipywidgets

    assert compat.is_headless()
    before = plt.get_fignums()
    box = wi.init_explorer(depth=4, init="xavier", activation="tanh", width=32)
    assert isinstance(box, ipywidgets.VBox)
    out = output_of(box)
    first = out.outputs[0]["data"]["image/png"]
    control(box, "init").value = "he"
    control(box, "activation").value = "relu"
    control(box, "depth").value = 6
    assert out.outputs[0]["data"]["image/png"] != first
    assert plt.get_fignums() == before


def test_symmetry_demo_builds_headless():
    box = wi.symmetry_demo(steps=20, hidden=4)
    out = output_of(box)
    assert "image/png" in out.outputs[0]["data"]
    control(box, "steps").value = 50
    assert len(out.outputs) == 1


def test_import_stays_light():
    code = textwrap.dedent(
        """
        import sys
        from dlcourse.widgets import init
        init.depth_statistics(depth=2, width=4, n=3)
        init.symmetry_run("random", steps=2)
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
