"""Tests of dlcourse.widgets.conv: compute functions, figures, and the three widgets, headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse.ref import conv as C  # noqa: E402
from dlcourse.widgets import conv as wc  # noqa: E402
from widget_tree import find, images_in, walk  # noqa: E402,F401




def test_presets_and_filter_image():
    img = wc.sample_image(32)
    assert img.shape == (32, 32) and 0 <= img.min() and img.max() <= 1
    assert np.allclose(wc.filter_image(img, wc.PRESETS["identity"]), img)
    for name, k in wc.PRESETS.items():
        assert k.shape == (3, 3), name
    # Blurs keep a constant image constant inside (weights sum to 1); edge filters map it to 0.
    const = np.ones((10, 10))
    assert np.allclose(wc.filter_image(const, wc.PRESETS["box blur"])[1:-1, 1:-1], 1)
    assert np.allclose(wc.filter_image(const, wc.PRESETS["edge (Laplacian)"])[1:-1, 1:-1], 0)
    # Cross-correlation, not convolution: Sobel x is positive where brightness grows to the right.
    ramp = np.tile(np.arange(8.0), (8, 1))
    assert (wc.filter_image(ramp, wc.PRESETS["vertical edges (Sobel x)"])[1:-1, 1:-1] > 0).all()


def test_window_at_follows_stride_and_padding():
    w = wc.window_at(5, 5, 3, 2, 1, 0)
    assert w.out_shape == (3, 3) and (w.i, w.j) == (0, 0) and list(w.rows) == [-1, 0, 1]
    w = wc.window_at(5, 5, 3, 2, 1, 4)
    assert (w.i, w.j) == (1, 1) and (w.top, w.left) == (2, 2) and list(w.cols) == [1, 2, 3]
    assert wc.window_at(5, 5, 3, 1, 0, 9).i == 0  # wraps around after the last cell


def test_plots_have_labelled_axes():
    img = wc.sample_image(16)
    fig = wc.plot_filtered(img, wc.PRESETS["sharpen"])
    assert all(ax.get_title() for ax in fig.axes[:3]) and fig.axes[0].get_xlabel()
    lecture_x = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float)
    fig = wc.plot_window(lecture_x, np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float), 1, 0, 0)
    assert "= 4" in fig._suptitle.get_text()
    fig = wc.plot_conv_matrix(np.array([[1.0, 2.0], [3.0, 4.0]]), (3, 3))
    assert fig.axes[0].get_title().startswith("4×9")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert texts == {"w00", "w01", "w10", "w11"}


def test_kernel_explorer_builds_headless_and_reacts():
    box = wc.kernel_explorer(wc.sample_image(16))
    (out,) = find(box, "Output")
    assert images_in(out) == 1
    (menu,) = find(box, "Dropdown")
    menu.value = "box blur"
    weights = [b.value for b in find(box, "FloatText")]
    assert np.allclose(weights, 1 / 9)
    (w11,) = find(box, "FloatText", "w11")
    w11.value = 2.0
    assert images_in(out) == 1
    with pytest.raises(ValueError):
        wc.kernel_explorer(preset="nope")


def test_sliding_window_stepper_limits_the_step():
    box = wc.sliding_window_stepper()
    (step,) = find(box, "IntSlider", "output cell")
    (stride,) = find(box, "IntSlider", "stride")
    (pad,) = find(box, "IntSlider", "padding")
    assert step.max == 8  # 3×3 output
    step.value = 8
    stride.value = 2
    assert step.max == 3 and step.value == 3  # 2×2 output
    pad.value = 1
    assert step.max == 8
    (out,) = find(box, "Output")
    assert images_in(out) == 1


def test_conv_matrix_viewer_defaults_to_the_lecture_matrix():
    box = wc.conv_matrix_viewer()
    (status,) = find(box, "HTML")
    assert status.value.startswith("4×9 matrix, 16 non-zero")
    (k,) = find(box, "IntSlider", "kernel")
    (size,) = find(box, "IntSlider", "input H=W")
    size.value = 2
    k.value = 4
    assert "larger than the padded input" in status.value
    k.value = 2
    assert status.value.startswith("1×4")
    assert C.conv_matrix(np.ones((2, 2)), (2, 2)).shape == (1, 4)


def test_import_stays_light():
    code = textwrap.dedent("""
        import sys
        import dlcourse.widgets.conv as wc
        wc.filter_image(wc.sample_image(8), wc.PRESETS["sharpen"])
        wc.window_at(5, 5, 3, 1, 0, 0)
        heavy = [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        assert not heavy, heavy
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
