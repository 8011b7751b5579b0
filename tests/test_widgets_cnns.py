"""Tests of dlcourse.widgets.cnns: filters and feature maps, misclassifications, confusion explorer, headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

torch = pytest.importorskip("torch")

from dlcourse.gpu.cnns import SimpleCNN  # noqa: E402
from dlcourse.ref.cnns import confusion_matrix  # noqa: E402
from dlcourse.widgets import cnns as wc  # noqa: E402
from dlcourse.widgets import compat  # noqa: E402
from widget_tree import find, images_in  # noqa: E402


@pytest.fixture(scope="module")
def model() -> SimpleCNN:
    torch.manual_seed(0)
    return SimpleCNN(8, hidden=8)


@pytest.fixture(scope="module")
def predictions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.random((30, 1, 8, 8))
    y_true = rng.integers(0, 3, 30)
    y_pred = np.where(rng.random(30) < 0.6, y_true, (y_true + 1) % 3)
    return images, y_true, y_pred


# ---------------------------------------------------------------- compute


def test_feature_maps_are_the_convolutions_outputs(model) -> None:
    image = np.random.default_rng(1).random((1, 8, 8))
    maps = wc.feature_maps(model, image)
    assert list(maps) == ["conv1", "conv2"] == list(wc.conv_layers(model))
    assert maps["conv1"].shape == (32, 8, 8) and maps["conv2"].shape == (64, 4, 4)
    with torch.no_grad():
        expected = model.conv1(torch.as_tensor(image[None], dtype=torch.float32))[0].double().numpy()
    np.testing.assert_allclose(maps["conv1"], expected, rtol=1e-6)
    assert wc.conv_layers(model)["conv2"].shape == (64, 32, 3, 3)
    assert model.training  # the probe restores the mode it found
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        wc.feature_maps(model, image[0])


def test_confusion_cells_partition_the_examples(predictions) -> None:
    _, y_true, y_pred = predictions
    cells = wc.confusion_cells(y_true, y_pred, 3)
    cm = confusion_matrix(y_true, y_pred, 3)
    assert all(len(idx) == cm[i, j] for (i, j), idx in cells.items())
    assert sorted(np.concatenate(list(cells.values())).tolist()) == list(range(30))


def test_misclassified_most_confident_first(predictions) -> None:
    _, y_true, y_pred = predictions
    confidence = np.linspace(0, 1, 30)
    wrong = wc.misclassified(y_true, y_pred, confidence)
    assert set(wrong) == set(np.flatnonzero(y_true != y_pred))
    assert np.all(np.diff(confidence[wrong]) <= 0)


# ---------------------------------------------------------------- plots


def test_plots_have_labelled_axes(predictions) -> None:
    images, y_true, y_pred = predictions
    ax = wc.plot_confusion(None, confusion_matrix(y_true, y_pred, 3), ["a", "b", "c"], (0, 1))
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    fig = wc.plot_gallery(None, images, y_true, y_pred, np.arange(5))
    assert "→" in fig.axes[0].get_xlabel() and len(fig.axes) == 5
    fig = wc.plot_feature_maps(None, images[0], np.random.rand(4, 3, 3), "conv", channel=2)
    assert fig.axes[0].get_xlabel() == "x (pixels)" and fig.axes[1].get_title() == "conv[2]"
    fig = wc.plot_feature_maps(None, images[0], np.random.rand(4, 3, 3), "conv")
    assert "all 4 channels" in fig.axes[1].get_title() and "3×3" in fig.axes[1].get_xlabel()
    fig = wc.plot_filters(None, np.random.rand(5, 2, 3, 3), channel=1)
    assert "filters 0–4" in fig.axes[0].get_xlabel()


def test_mosaic_lays_tiles_out_row_by_row() -> None:
    tiles = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    m = wc.mosaic(tiles, 2)
    assert m.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(m[0:2, 4:7], tiles[1])
    np.testing.assert_array_equal(m[6:8, 0:3], tiles[4])
    assert np.isnan(m[2]).all() and np.isnan(m[6:8, 4:7]).all()  # separators and the empty last slot


# ---------------------------------------------------------------- widgets, headless


def test_feature_map_viewer_builds_headless_and_reacts(model, predictions) -> None:
    assert compat.is_headless()
    images, y_true, _ = predictions
    box = wc.feature_map_viewer(model, images, y_true)
    outs = find(box, "Output")
    (status,) = find(box, "HTML")
    assert [images_in(o) for o in outs] == [1, 1] and "32 maps of 8×8" in status.value
    (layer,) = find(box, "Dropdown", "layer")
    (channel,) = find(box, "Dropdown", "channel")
    layer.value = "conv2"
    assert "64 maps of 4×4" in status.value and len(channel.options) == 65
    channel.value = 5
    assert [images_in(o) for o in outs] == [1, 1]


def test_misclassification_gallery_filters(predictions) -> None:
    images, y_true, y_pred = predictions
    box = wc.misclassification_gallery(images, y_true, y_pred, ["a", "b", "c"])
    (status,) = find(box, "HTML")
    (out,) = find(box, "Output")
    n_wrong = int(np.sum(y_true != y_pred))
    assert status.value.startswith(f"{n_wrong} of 30") and images_in(out) == 1
    (true_class,) = find(box, "Dropdown", "true class")
    true_class.value = 0
    assert status.value.startswith(f"{int(np.sum((y_true != y_pred) & (y_true == 0)))} of 30")


def test_confusion_explorer_shows_the_clicked_cell(predictions) -> None:
    images, y_true, y_pred = predictions
    box = wc.confusion_explorer(images, y_true, y_pred, 3, ["a", "b", "c"])
    buttons = find(box, "Button")
    cm = confusion_matrix(y_true, y_pred, 3)
    assert [b.description for b in buttons] == [str(v) for v in cm.ravel()]
    (status,) = find(box, "HTML")
    outs = find(box, "Output")
    assert all(images_in(o) == 1 for o in outs)
    buttons[4].click()  # cell (1, 1)
    assert f"{cm[1, 1]} examples (correct)" in status.value and buttons[4].button_style == "danger"


def test_widget_module_uses_only_portable_ipywidgets_names() -> None:
    source = open(wc.__file__, encoding="utf-8").read()
    assert not [name for name in compat.NOT_PORTABLE if name in source]


def test_import_stays_light() -> None:
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import dlcourse.widgets.cnns as wc
        wc.confusion_cells(np.array([0, 1]), np.array([1, 1]), 2)
        heavy = [m for m in ("torch", "matplotlib", "ipywidgets") if m in sys.modules]
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
