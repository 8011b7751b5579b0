"""Tests of dlcourse.widgets.regularization: overfitting curves, dropout views, search coverage (headless)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlcourse.widgets import regularization as wr  # noqa: E402


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def control(root, description):
    return next(w for w in _walk(root) if getattr(w, "description", None) == description)


def output_of(root):
    import ipywidgets

    return next(w for w in _walk(root) if isinstance(w, ipywidgets.Output))


def test_capacity_and_lambda_curves_show_overfitting():
    data = wr.make_regression_data(n_train=15, noise=0.3, seed=0)
    degrees, train, val = wr.capacity_curves(data)
    assert degrees.tolist() == list(range(16))
    assert np.all(np.diff(train) <= 1e-9)  # more capacity never fits the training data worse
    assert train[-1] < 1e-6 and val[-1] > 10 * val.min()  # interpolation: zero train error, bad validation
    lams, train_l, val_l = wr.lambda_curves(data, degree=12)
    assert np.all(np.diff(train_l) >= -1e-9)  # more penalty never fits the training data better
    best = int(np.argmin(val_l))
    assert 0 < best < len(lams) - 1  # a U-shaped validation curve: λ in between is best
    coef = wr.fit_ridge(data["x_train"], data["y_train"], 3, 0.0)
    np.testing.assert_allclose(coef, np.polynomial.legendre.legfit(data["x_train"], data["y_train"], 3), atol=1e-8)


def test_dropout_views_are_inverted_dropout():
    image = np.ones((8, 8))
    views = wr.dropout_views(image, 0.25, n=3, seed=0)
    assert len(views) == 3 and all(set(np.unique(v)) <= {0.0, 1 / 0.75} for v in views)
    assert not np.array_equal(views[0], views[1])
    assert abs(np.mean(wr.dropout_views(image, 0.25, n=200, seed=1)) - 1.0) < 0.02


def test_random_search_covers_the_important_axis():
    res = wr.search_coverage(3, seed=0)
    assert res["grid"].shape == res["random"].shape == (9, 2)
    assert res["grid_distinct"] == 3 and res["random_distinct"] == 9
    assert res["random_best"] > res["grid_best"]
    assert np.allclose(wr.important_objective(np.array([0.73]), np.array([0.0])),
                       wr.important_objective(np.array([0.73]), np.array([1.0])))


def test_plots_and_widgets_headless():
    before = plt.get_fignums()
    data = wr.make_regression_data()
    fig = wr.plot_overfitting(data, 5, 1e-3)
    assert len(fig.axes) == 3 and all(ax.get_xlabel() for ax in fig.axes)
    plt.close(fig)
    fig = wr.plot_dropout_views(np.eye(6), 0.5, n=2)
    assert len(fig.axes) == 4
    plt.close(fig)
    fig = wr.plot_search_coverage(wr.search_coverage(2))
    assert "grid search" in fig.axes[0].get_title()
    plt.close(fig)
    box = wr.overfitting_explorer(degree=4)
    first = output_of(box).outputs[0]["data"]["image/png"]
    control(box, "degree").value = 9
    assert output_of(box).outputs[0]["data"]["image/png"] != first
    box = wr.dropout_viewer(np.eye(6), p=0.5, n=2)
    first = output_of(box).outputs[0]["data"]["image/png"]
    control(box, "new masks").click()
    assert output_of(box).outputs[0]["data"]["image/png"] != first
    box = wr.search_explorer(3)
    control(box, "grid size").value = 4
    control(box, "new random draw").click()
    assert len(output_of(box).outputs) == 1
    assert plt.get_fignums() == before


def test_import_stays_light():
    code = textwrap.dedent(
        """
        import sys
        from dlcourse.widgets import regularization as wr
        wr.capacity_curves(wr.make_regression_data(), range(3))
        wr.search_coverage(2)
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
