"""Tests of dlcourse.widgets.optimization: surfaces, races, learning-rate regimes, batch noise, widgets.

Everything runs headless (Agg backend, no front end).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse import ref  # noqa: E402
from dlcourse.widgets import compat  # noqa: E402
from dlcourse.widgets import optimization as op  # noqa: E402
from widget_tree import walk  # noqa: E402




def control(root, description):
    (found,) = [w for w in walk(root) if getattr(w, "description", None) == description]
    return found


def output_of(root):
    import ipywidgets

    (out,) = [w for w in walk(root) if isinstance(w, ipywidgets.Output)]
    return out


# ----------------------------------------------------------------- compute


@pytest.mark.parametrize("name", list(op.SURFACES))
def test_surface_gradients_match_finite_differences(name):
    s = op.SURFACES[name]
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = np.array([rng.uniform(*s.xlim), rng.uniform(*s.ylim)])
        numeric = ref.numerical_gradient(lambda q: float(s.value(q)), p.copy())
        np.testing.assert_allclose(s.grad(p), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(op.SURFACES))
def test_marked_minima_are_stationary_and_the_first_is_lowest(name):
    s = op.SURFACES[name]
    values = [float(s.value(np.array(m))) for m in s.minima]
    assert values[0] == min(values)
    for m in s.minima:
        assert np.abs(s.grad(np.array(m))).max() < 5e-3, m


def test_race_paths_start_together_and_default_settings_converge_on_the_bowl():
    s = op.SURFACES["ill-conditioned bowl"]
    paths = op.race(s, steps=150)
    assert set(paths) == set(op.OPTIMIZERS)
    for name, path in paths.items():
        assert path.shape == (151, 2), name
        np.testing.assert_array_equal(path[0], s.start)
    for name in ("SGD", "momentum", "Nesterov", "RMSprop", "Adam"):
        assert float(s.value(paths[name][-1])) < 1e-3, name


def test_race_uses_the_reference_rules_and_accepts_a_students():
    s = op.SURFACES["Rosenbrock"]
    cfg = op.optimizer_cfg("Adam", lr_sgd=1e-3, lr_adaptive=0.1, momentum=0.9, beta2=0.99)
    w, state, expected = np.array(s.start), {}, [np.array(s.start)]
    for _ in range(20):
        w, state = ref.adam(w, s.grad(w), state, cfg)
        expected.append(w)
    np.testing.assert_allclose(op.race(s, ["Adam"], steps=20)["Adam"], np.array(expected))
    calls = []

    def students_adam(w, dw, state, cfg):
        calls.append(1)
        return ref.adam(w, dw, state, cfg)

    op.race(s, ["Adam"], steps=5, rules={"Adam": students_adam})
    assert len(calls) == 5


def test_momentum_escapes_the_local_minimum_that_gd_falls_into():
    paths = op.race(op.SURFACES["several minima"], ["SGD", "momentum"], steps=150)
    local, best = np.array(op.SURFACES["several minima"].minima[1]), np.array(op.SURFACES["several minima"].minima[0])
    assert np.linalg.norm(paths["SGD"][-1] - local) < 0.05
    assert np.linalg.norm(paths["momentum"][-1] - best) < 0.05


def test_gd_leaves_the_saddle_only_slowly():
    path = op.race(op.SURFACES["saddle"], ["SGD"], steps=150)["SGD"]
    near = np.linalg.norm(path, axis=1) < 0.2
    assert near.sum() >= 10  # many steps spent near the saddle point at the origin


def test_lr_regimes_and_divergence_stop_early_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = op.lr_regimes((0.005, 0.09, 0.102, 0.5), steps=60)
    s = op.SURFACES["ill-conditioned bowl"]
    small, right, large, huge = (float(s.value(p[-1])) for p in paths.values())
    assert right < 1e-3 < small < s.value(np.array(s.start))
    assert large > s.value(np.array(s.start))  # just above 2/20: the y coordinate blows up
    assert len(paths[0.5]) < 61  # stopped once it left the box


def test_unknown_names_are_explained():
    with pytest.raises(ValueError, match="unknown optimizer"):
        op.optimizer_cfg("LBFGS", lr_sgd=0.1, lr_adaptive=0.1, momentum=0.9, beta2=0.9)
    with pytest.raises(ValueError, match="unknown surface"):
        op.optimizer_race("moon")


def test_smaller_batches_give_noisier_paths():
    noise = op.minibatch_paths((1, 16, 256), steps=100)
    assert set(noise.paths) == {1, 16, 256}
    for b, path in noise.paths.items():
        assert path.shape == (101, 2)
        assert noise.losses[b].shape == (101,)
        np.testing.assert_allclose(noise.losses[b], noise.loss(path))
    wiggle = {b: np.abs(np.diff(noise.losses[b][50:])).sum() for b in noise.paths}
    assert wiggle[1] > wiggle[16] > wiggle[256]
    again = op.minibatch_paths((1, 16, 256), steps=100)
    np.testing.assert_array_equal(again.paths[1], noise.paths[1])  # deterministic per seed


# ----------------------------------------------------------------- plots


def test_plots_have_labelled_axes_and_close_cleanly():
    before = plt.get_fignums()
    figs = [
        op.plot_race(op.SURFACES["saddle"], op.race(op.SURFACES["saddle"], steps=30)),
        op.plot_lr_regimes(op.lr_regimes(steps=20)),
        op.plot_batch_noise(op.minibatch_paths((1, 256), steps=20)),
    ]
    for fig in figs:
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
        plt.close(fig)
    assert plt.get_fignums() == before


# ----------------------------------------------------------------- widgets


def test_optimizer_race_renders_headless_and_recomputes():
    import ipywidgets

    assert compat.is_headless()
    before = plt.get_fignums()
    w = op.optimizer_race("saddle", steps=50)
    assert isinstance(w, ipywidgets.Widget)
    out = output_of(w)
    assert len(out.outputs) == 1 and "image/png" in out.outputs[0]["data"]
    first = out.outputs[0]["data"]["image/png"]
    control(w, "momentum / β₁").value = 0.5
    assert out.outputs[0]["data"]["image/png"] != first
    control(w, "surface").value = "Rosenbrock"
    assert control(w, "lr (SGD family)").value == pytest.approx(op.SURFACES["Rosenbrock"].lr_sgd)
    control(w, "lr (SGD family)").value = 0.9  # diverges: said in the status line
    status = [x for x in walk(w) if isinstance(x, ipywidgets.HTML)]
    assert any("diverged" in x.value for x in status)
    assert plt.get_fignums() == before


@pytest.mark.parametrize("factory,description,value", [
    (op.lr_explorer, "your lr", 0.02),
    (op.batch_noise_explorer, "batch size", 32),
])
def test_small_explorers_render_and_react(factory, description, value):
    before = plt.get_fignums()
    w = factory()
    out = output_of(w)
    first = out.outputs[0]["data"]["image/png"]
    control(w, description).value = value
    assert out.outputs[0]["data"]["image/png"] != first
    assert plt.get_fignums() == before


IPYWIDGETS_77_TRAITS = {
    "IntSlider": "continuous_update description description_tooltip disabled layout max min orientation"
    " readout readout_format step style value",
    "FloatSlider": "continuous_update description description_tooltip disabled layout max min orientation"
    " readout readout_format step style value",
    "FloatLogSlider": "base continuous_update description description_tooltip disabled layout max min"
    " orientation readout readout_format step style value",
    "Dropdown": "_options_labels description description_tooltip disabled index layout style",
    "Output": "layout msg_id outputs",
    "HTML": "description description_tooltip layout placeholder style value",
    "HBox": "box_style children layout",
    "VBox": "box_style children layout",
    "Layout": "align_content align_items align_self bottom display flex flex_flow grid_area height"
    " justify_content justify_items left margin max_height max_width min_height min_width order padding"
    " right top visibility width",
    "SliderStyle": "description_width handle_color",
    "DescriptionStyle": "description_width",
}


@pytest.mark.parametrize("factory", [op.optimizer_race, op.lr_explorer, op.batch_noise_explorer])
def test_widgets_set_only_traits_that_exist_in_ipywidgets_7_7(factory):
    import ipywidgets

    root = factory()
    seen = []
    for w in walk(root):
        seen.append(w)
        seen.extend(s for s in (getattr(w, "layout", None), getattr(w, "style", None)) if s is not None)
    for w in seen:
        state, default = w.get_state(), type(w)().get_state()
        changed = {k for k in state if not k.startswith("_") or k == "_options_labels"}
        changed = {k for k in changed if k not in ("layout", "style", "children") and state[k] != default.get(k)}
        if not changed:
            continue
        name = type(w).__name__
        assert name in IPYWIDGETS_77_TRAITS, f"{name} is not a class the 7.7 check knows"
        missing = changed - set(IPYWIDGETS_77_TRAITS[name].split())
        assert not missing, f"{name} sets {sorted(missing)}, which ipywidgets 7.7 lacks"
    assert isinstance(root, ipywidgets.VBox)


def test_importing_the_module_stays_light():
    code = textwrap.dedent(
        """
        import sys
        from dlcourse.widgets import optimization as op
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        op.race(op.SURFACES["saddle"], steps=5); op.minibatch_paths((1, 4), steps=3)
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
