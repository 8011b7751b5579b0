"""Tests of dlcourse.widgets: the 04-backprop training dashboard and the ipywidgets 7.7/8.x compat layer.

Everything runs headless (Agg backend, no front end); one test executes a tiny notebook with
nbclient to prove that a headless execution records the dashboard's figure.
"""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

import dlcourse.ref as ref  # noqa: E402
from dlcourse.widgets import backprop as bp  # noqa: E402
from dlcourse.widgets import compat  # noqa: E402
from widget_tree import walk  # noqa: E402

WIDGETS_DIR = Path(bp.__file__).parent


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0):
    """CS231n-style spirals built here, so these tests do not depend on dlcourse.data.

    Returns X (n_classes·n_per_class, 2) float64 and y (same N,) int64.
    """
    rng = np.random.default_rng(seed)
    r = np.linspace(0.0, 1.0, n_per_class)
    X, y = [], []
    for c in range(n_classes):
        t = np.linspace(4.0 * c, 4.0 * (c + 1), n_per_class) + noise * rng.standard_normal(n_per_class)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, c))
    return np.concatenate(X), np.concatenate(y).astype(np.int64)


@pytest.fixture(scope="module")
def spirals():
    return make_spirals()


@pytest.fixture(scope="module")
def small():
    """Small data for widget tests, where only the plumbing matters."""
    return make_spirals(n_per_class=30)


@pytest.fixture(scope="module")
def full_run(spirals):
    X, y = spirals
    return bp.train_two_layer(X, y, hidden=100, lr=1.0, steps=1000, reg=1e-3, seed=0)


class CountingNet:
    """Delegates to the reference two_layer_net and counts loss and score calls."""

    def __init__(self, fail_when_hidden: int | None = None):
        self.loss_calls = 0
        self.score_calls = 0
        self.fail_when_hidden = fail_when_hidden

    def __call__(self, params, X, y=None, reg=0.0):
        if params["W1"].shape[1] == self.fail_when_hidden:
            raise ValueError("student bug")
        if y is None:
            self.score_calls += 1
        else:
            self.loss_calls += 1
        return ref.two_layer_net(params, X, y, reg=reg)


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def test_training_learns_spirals(full_run):
    run = full_run
    assert run.losses[-1] < 0.3 * run.losses[0]
    assert run.final_accuracy >= 0.9
    assert run.final_accuracy == pytest.approx(bp.accuracy(run.params, *make_spirals()))
    assert run.diverged_at is None
    # Speed is measured by benchmarks/, never asserted here (a loaded CI machine would flake).


def test_training_is_deterministic_per_seed(spirals):
    X, y = spirals
    a = bp.train_two_layer(X, y, hidden=20, steps=50, seed=3)
    b = bp.train_two_layer(X, y, hidden=20, steps=50, seed=3)
    c = bp.train_two_layer(X, y, hidden=20, steps=50, seed=4)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.accuracies, b.accuracies)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_recorded_arrays_and_snapshots(full_run, spirals):
    run = full_run
    np.testing.assert_array_equal(run.steps, np.arange(0, 1001, 10))
    assert run.steps.dtype == np.int64
    assert run.losses.shape == run.accuracies.shape == (101,)
    assert np.all(np.isfinite(run.losses))
    assert np.all((run.accuracies >= 0) & (run.accuracies <= 1))
    assert sorted(run.snapshots) == [0, 333, 667, 1000]
    shapes = {"W1": (2, 100), "b1": (100,), "W2": (100, 3), "b2": (3,)}
    for params in [run.params, *run.snapshots.values()]:
        assert {k: v.shape for k, v in params.items()} == shapes
    for k in run.params:
        np.testing.assert_array_equal(run.snapshots[1000][k], run.params[k])
    # The snapshot at step 0 is the initialization, not an alias of later parameters.
    init = ref.init_two_layer(2, 100, 3, rng=0)
    np.testing.assert_array_equal(run.snapshots[0]["W1"], init["W1"])
    # The recorded loss at step s is the loss of the parameters after s updates.
    X, y = spirals
    assert run.losses[0] == pytest.approx(ref.two_layer_net(init, X, y, reg=1e-3)[0])
    assert run.losses[-1] == pytest.approx(ref.two_layer_net(run.params, X, y, reg=1e-3)[0])

    odd = bp.train_two_layer(X, y, hidden=5, steps=20, record_every=7, num_snapshots=2)
    np.testing.assert_array_equal(odd.steps, [0, 7, 14, 20])
    assert sorted(odd.snapshots) == [0, 20]


def test_training_uses_the_given_net(spirals):
    X, y = spirals
    net = CountingNet()
    run = bp.train_two_layer(X, y, hidden=10, steps=30, record_every=10, net=net)
    assert net.loss_calls == 31  # one per update plus the final evaluation
    assert net.score_calls == len(run.steps) == 4  # one forward pass per recorded accuracy
    assert run.net is net
    reference = bp.train_two_layer(X, y, hidden=10, steps=30, record_every=10)
    np.testing.assert_allclose(run.losses, reference.losses)

    before = net.score_calls
    bp.decision_grid(run.params, X, resolution=10, net=net)
    bp.accuracy(run.params, X, y, net=net)
    assert net.score_calls == before + 2


def test_divergence_stops_training_without_warnings(spirals):
    X, y = spirals

    def exploding(params, X, y=None, reg=0.0):
        out = ref.two_layer_net(params, X, y, reg=reg)
        if y is None:
            return out
        exploding.calls += 1
        loss, grads = out
        return (np.inf if exploding.calls > 5 else loss), grads

    exploding.calls = 0
    run = bp.train_two_layer(X, y, hidden=10, steps=100, record_every=1, net=exploding)
    assert run.diverged_at == 5
    np.testing.assert_array_equal(run.steps, np.arange(5))
    fig = bp.plot_dashboard(run, X, y)
    assert "diverged at step 5" in fig._suptitle.get_text()
    plt.close(fig)


def test_decision_grid_and_accuracy(full_run, spirals):
    X, y = spirals
    xx, yy, labels = bp.decision_grid(full_run.params, X, resolution=37, margin=0.5)
    assert xx.shape == yy.shape == labels.shape == (37, 37)
    assert labels.dtype == np.int64
    assert set(np.unique(labels)) == {0, 1, 2}
    assert xx.min() == pytest.approx(X[:, 0].min() - 0.5)
    assert yy.max() == pytest.approx(X[:, 1].max() + 0.5)
    assert np.all(np.diff(xx, axis=1) > 0) and np.all(np.diff(yy, axis=0) > 0)
    scores = ref.two_layer_net(full_run.params, X)
    assert bp.accuracy(full_run.params, X, y) == pytest.approx(np.mean(scores.argmax(1) == y))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        bp.decision_grid(full_run.params, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="one label per row"):
        bp.train_two_layer(X, y[:-1])


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def test_plot_decision_boundary(full_run, spirals):
    X, y = spirals
    ax = bp.plot_decision_boundary(None, full_run.params, X, y, resolution=50)
    assert ax.get_xlabel() == "x₁" and ax.get_ylabel() == "x₂"
    assert f"{full_run.final_accuracy:.1%}" in ax.get_title()
    contours = [c for c in ax.collections if isinstance(c, ContourSet)]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection) and not isinstance(c, ContourSet)]
    assert len(contours) == 1 and len(scatters) == 1
    assert scatters[0].get_offsets().shape == (len(X), 2)
    plt.close(ax.figure)


def test_plot_loss_curve(full_run):
    fig = plt.figure()
    ax, ax_acc = bp.plot_loss_curve(fig.add_subplot(), full_run)
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "training loss"
    assert ax_acc.get_ylabel() == "train accuracy"
    assert len(ax.lines) == 1 and len(ax_acc.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), full_run.steps)
    assert ax.get_yscale() == "linear"  # 1.33 → 0.24 spans less than a factor of 10
    plt.close(fig)

    steep = bp.TrainingRun(
        params={}, steps=np.array([0, 1, 2]), losses=np.array([10.0, 1.0, 0.01]),
        accuracies=np.array([0.3, 0.8, 1.0]), snapshots={}, hidden=2, lr=1.0, reg=0.0, seed=0, num_steps=2,
    )
    ax, _ = bp.plot_loss_curve(None, steep)
    assert ax.get_yscale() == "log"
    plt.close(ax.figure)


def test_plot_dashboard_and_show_training(full_run, spirals):
    X, y = spirals
    fig = bp.plot_dashboard(full_run, X, y)
    assert len(fig.axes) == 3  # boundary, loss, and the loss plot's accuracy twin
    title = fig._suptitle.get_text()
    for part in ("hidden 100", "learning rate 1", "1000 steps", f"final loss {full_run.final_loss:.3f}"):
        assert part in title
    assert fig.axes[0].get_xlabel() == "x₁" and fig.axes[1].get_ylabel() == "training loss"
    plt.close(fig)

    before = plt.get_fignums()
    fig = bp.show_training(X, y, hidden=8, steps=100)
    assert "hidden 8" in fig._suptitle.get_text()
    assert plt.get_fignums() == before, "show_training must close its figure (shown once, no leak)"
    fig.savefig(io.BytesIO(), format="png")  # a closed figure still renders

    snaps = bp.plot_snapshots(full_run, X, y)
    assert len(snaps.axes) == 4 and snaps.axes[-1].get_title().startswith("step 1000")
    plt.close(snaps)


# --------------------------------------------------------------------------------------------
# the widget, headless
# --------------------------------------------------------------------------------------------




def control(dash, description):
    found = [w for w in walk(dash) if getattr(w, "description", None) == description]
    assert len(found) == 1, f"expected one control described {description!r}, found {len(found)}"
    return found[0]


def output_of(dash):
    import ipywidgets

    (out,) = [w for w in walk(dash) if isinstance(w, ipywidgets.Output)]
    return out


def test_dashboard_builds_headless_and_retrains_on_click(small):
    import ipywidgets

    X, y = small
    assert compat.is_headless()
    runs = []
    figures_before = plt.get_fignums()
    dash = bp.training_dashboard(X, y, hidden=12, steps=200, on_train=runs.append)
    assert isinstance(dash, ipywidgets.Widget)

    hidden, lr, steps, reg = (control(dash, d) for d in ("hidden units", "learning rate", "steps", "reg (L2)"))
    button = control(dash, "Train")
    assert isinstance(hidden, ipywidgets.IntSlider) and isinstance(steps, ipywidgets.IntSlider)
    assert isinstance(lr, ipywidgets.FloatLogSlider) and isinstance(reg, ipywidgets.FloatLogSlider)
    assert isinstance(button, ipywidgets.Button)
    assert (hidden.min, hidden.max, steps.min, steps.max, steps.step) == (2, 200, 100, 5000, 100)
    assert lr.min == -3 and lr.max == 1 and lr.value == pytest.approx(1.0)
    assert not any(s.continuous_update for s in (hidden, lr, steps, reg))

    # The initial figure is rendered on creation, and no pyplot figure is left open.
    out = output_of(dash)
    assert len(runs) == 1 and runs[0].hidden == 12 and runs[0].num_steps == 200
    assert len(out.outputs) == 1 and "image/png" in out.outputs[0]["data"]
    first_png = out.outputs[0]["data"]["image/png"]
    assert plt.get_fignums() == figures_before

    # Moving sliders does not train; clicking trains with the new values and re-renders.
    hidden.value, steps.value, lr.value = 7, 300, 0.5
    assert len(runs) == 1
    button.click()
    assert len(runs) == 2
    assert (runs[1].hidden, runs[1].num_steps, runs[1].lr) == (7, 300, pytest.approx(0.5))
    assert len(out.outputs) == 1 and out.outputs[0]["data"]["image/png"] != first_png
    assert not button.disabled
    assert plt.get_fignums() == figures_before
    status = [w for w in walk(dash) if isinstance(w, ipywidgets.HTML)]
    assert any("trained in" in w.value for w in status)


def test_dashboard_click_failure_reenables_button(small):
    import ipywidgets

    X, y = small
    dash = bp.training_dashboard(X, y, hidden=5, steps=100, net=CountingNet(fail_when_hidden=3))
    control(dash, "hidden units").value = 3
    button = control(dash, "Train")
    button.click()  # the error goes to the callback's log; the widget must stay usable
    assert not button.disabled
    assert any("failed" in w.value for w in walk(dash) if isinstance(w, ipywidgets.HTML))


def test_dashboard_clamps_out_of_range_settings(small):
    X, y = small
    runs = []
    dash = bp.training_dashboard(X, y, hidden=300, lr=20.0, steps=50, reg=0.0, on_train=runs.append)
    assert control(dash, "hidden units").value == 300 and control(dash, "steps").value == 50
    assert control(dash, "learning rate").value == pytest.approx(20.0)
    assert runs[0].reg == pytest.approx(1e-6)  # reg 0 starts at the log slider's minimum


# --------------------------------------------------------------------------------------------
# imports and ipywidgets 7.7 compatibility
# --------------------------------------------------------------------------------------------


def test_imports_stay_light():
    code = textwrap.dedent(
        """
        import sys
        heavy = ("matplotlib", "ipywidgets")
        import dlcourse
        assert not [m for m in heavy if m in sys.modules], "import dlcourse"
        import dlcourse.widgets
        import dlcourse.widgets.compat
        from dlcourse.widgets import backprop
        assert not [m for m in heavy if m in sys.modules], "import dlcourse.widgets.backprop"
        import numpy as np
        X = np.array([[0.0, 0.0], [1.0, 1.0]]); y = np.array([0, 1])
        backprop.train_two_layer(X, y, hidden=3, steps=2)  # compute needs neither
        assert not [m for m in heavy if m in sys.modules], "train_two_layer"
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# Public traits of the classes the dashboard uses, as ipywidgets 7.7.5 defines them
# (taken from `sorted(k for k in Cls().keys if not k.startswith("_"))` under 7.7.5).
IPYWIDGETS_77_TRAITS = {
    "IntSlider": "continuous_update description description_tooltip disabled layout max min orientation"
    " readout readout_format step style value",
    "FloatLogSlider": "base continuous_update description description_tooltip disabled layout max min"
    " orientation readout readout_format step style value",
    "Button": "button_style description disabled icon layout style tooltip",
    "Output": "layout msg_id outputs",
    "HTML": "description description_tooltip layout placeholder style value",
    "HBox": "box_style children layout",
    "VBox": "box_style children layout",
    "Layout": "align_content align_items align_self border bottom display flex flex_flow grid_area"
    " grid_auto_columns grid_auto_flow grid_auto_rows grid_column grid_gap grid_row grid_template_areas"
    " grid_template_columns grid_template_rows height justify_content justify_items left margin max_height"
    " max_width min_height min_width object_fit object_position order overflow overflow_x overflow_y"
    " padding right top visibility width",
    "SliderStyle": "description_width handle_color",
    "ButtonStyle": "button_color font_weight",
    "DescriptionStyle": "description_width",
}


def test_dashboard_sets_only_traits_that_exist_in_ipywidgets_7_7(small):
    """Every trait the dashboard changes from its default is one that 7.7 has, on a 7.7 class."""
    import ipywidgets

    X, y = small
    dash = bp.training_dashboard(X, y, hidden=4, steps=100)
    seen: list[ipywidgets.Widget] = []
    for w in walk(dash):
        seen.append(w)
        seen.extend(s for s in (getattr(w, "layout", None), getattr(w, "style", None)) if s is not None)
    for w in seen:
        state, default = w.get_state(), type(w)().get_state()
        changed = {k for k in state if not k.startswith("_") and k not in ("layout", "style", "children")}
        changed = {k for k in changed if state[k] != default[k]}
        if not changed:
            continue
        name = type(w).__name__
        assert name in IPYWIDGETS_77_TRAITS, f"{name} is not a class the 7.7 check knows"
        missing = changed - set(IPYWIDGETS_77_TRAITS[name].split())
        assert not missing, f"{name} sets {sorted(missing)}, which ipywidgets 7.7 lacks"


def _names_used(tree: ast.AST) -> set[str]:
    """Attribute names, keyword arguments, plain names and string dict keys in a module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add(node.name.split(".")[-1])
        elif isinstance(node, ast.Dict):
            names.update(k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return names


@pytest.mark.parametrize(
    "module", sorted(p.name for p in WIDGETS_DIR.glob("*.py") if p.name not in ("__init__.py", "compat.py"))
)
def test_widget_modules_avoid_version_specific_ipywidgets_api(module):
    used = _names_used(ast.parse((WIDGETS_DIR / module).read_text(encoding="utf-8")))
    bad = sorted(used & compat.NOT_PORTABLE)
    assert not bad, f"{module} uses {bad}, which ipywidgets 7.7 and 8.x do not share (see compat.py)"


# --------------------------------------------------------------------------------------------
# a notebook executed headless
# --------------------------------------------------------------------------------------------


def test_notebook_executed_headless_shows_the_dashboard(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    # A kernel spec for this very interpreter, so a machine-wide "python3" spec cannot swap it.
    spec_dir = tmp_path / "jupyter" / "kernels" / "dlcourse-test"
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    setup = textwrap.dedent(
        """
        import numpy as np
        from dlcourse.widgets.backprop import training_dashboard
        rng = np.random.default_rng(0)
        n = 30
        t = [np.linspace(4 * c, 4 * c + 4, n) + 0.2 * rng.standard_normal(n) for c in range(3)]
        r = np.linspace(0, 1, n)
        X = np.concatenate([np.column_stack([r * np.sin(tc), r * np.cos(tc)]) for tc in t])
        y = np.repeat(np.arange(3), n)
        runs = []
        dash = training_dashboard(X, y, hidden=10, steps=200, on_train=runs.append)
        dash
        """
    )
    click = textwrap.dedent(
        """
        [w for w in dash.children[0].children if w.description == "hidden units"][0].value = 6
        dash.children[2].children[0].click()
        print("runs", len(runs), "hidden", runs[-1].hidden)
        """
    )
    failing = textwrap.dedent(
        """
        def broken(params, X, y=None, reg=0.0):
            if params["W1"].shape[1] == 3:
                raise ValueError("student bug")
            from dlcourse.ref import two_layer_net
            return two_layer_net(params, X, y, reg=reg)
        bad = training_dashboard(X, y, hidden=4, steps=100, net=broken)
        bad.children[0].children[0].value = 3
        bad.children[2].children[0].click()
        print("still running")
        """
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (setup, click, failing)])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="dlcourse-test").execute()

    outputs = [o for cell in nb.cells for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    views = [o for o in nb.cells[0].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1
    assert "runs 2 hidden 6" in "".join(o.text for o in nb.cells[1].outputs if o.output_type == "stream")
    assert "still running" in "".join(o.text for o in nb.cells[2].outputs if o.output_type == "stream")

    # The figure lives inside the Output widget's saved state, as a front end would show it;
    # the failed click of the third cell left a traceback there instead of crashing the cell.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    output_models = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert len(output_models) == 2
    failed = [outs for outs in output_models if any(o["output_type"] == "error" for o in outs)]
    assert len(failed) == 1
    assert any(o["output_type"] == "error" and o["ename"] == "ValueError" for o in failed[0])
    (good,) = [outs for outs in output_models if outs is not failed[0]]
    assert len(good) == 1 and "image/png" in good[0]["data"]
