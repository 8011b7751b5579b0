"""Tests of dlcourse.widgets.generative: compute functions, figures, and the four widgets, headless.

The decoder is a NumPy stand-in (no torch): it draws a bar whose position follows z₁ and whose
brightness follows z₂, so that what a figure shows can be checked.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse.data.mixtures import mixture_of_gaussians  # noqa: E402
from dlcourse.widgets import generative as wg  # noqa: E402
from widget_tree import find, images_in  # noqa: E402


def decode(z: np.ndarray) -> np.ndarray:
    """(M, 2) → (M, 64): column ⌊(z₁ + 3)·8/6⌋ lit with intensity σ(z₂)."""
    images = np.zeros((len(z), 8, 8))
    cols = np.clip(((z[:, 0] + 3) * 8 / 6).astype(int), 0, 7)
    images[np.arange(len(z)), :, cols] = (1 / (1 + np.exp(-z[:, 1])))[:, None]
    return images.reshape(len(z), 64)


def codes_and_labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    return rng.standard_normal((60, 2)) + labels[:, None], labels


def fake_run(ratio: float, snapshots: int = 3, n: int = 200, collapse: bool = False) -> SimpleNamespace:
    """A GANRun-like record: samples on all 8 modes, or on one (collapse)."""
    samples, coverage = [], []
    for i in range(snapshots):
        x, labels, centers = mixture_of_gaussians(n, std=0.05, rng=i)
        s = x[labels == 0] if collapse else x
        samples.append(s)
        coverage.append(1 / 8 if collapse else 1.0)
    return SimpleNamespace(steps=[0, 50, 100][:snapshots], samples=samples, coverage=coverage, lr_d=1e-3,
                           lr_g=1e-3 * ratio)


# ---------------------------------------------------------------- compute


def test_latent_grid_points_are_in_image_order() -> None:
    pts = wg.latent_grid_points(3, -1, 1)
    assert pts.shape == (9, 2)
    np.testing.assert_allclose(pts[0], [-1, 1])  # top left: smallest z₁, largest z₂
    np.testing.assert_allclose(pts[2], [1, 1])
    np.testing.assert_allclose(pts[-1], [1, -1])
    with pytest.raises(ValueError, match="at least 1"):
        wg.latent_grid_points(0)


def test_interpolate_and_class_means() -> None:
    path = wg.interpolate(np.array([0.0, 0.0]), np.array([2.0, -4.0]), 5)
    np.testing.assert_allclose(path[[0, 2, 4]], [[0, 0], [1, -2], [2, -4]])
    with pytest.raises(ValueError, match="at least 2"):
        wg.interpolate(np.zeros(2), np.ones(2), 1)
    with pytest.raises(ValueError, match="two codes"):
        wg.interpolate(np.zeros(2), np.ones(3), 4)
    codes, labels = codes_and_labels()
    means = wg.class_means(codes, labels)
    assert sorted(means) == [0, 1, 2]
    np.testing.assert_allclose(means[2], codes[labels == 2].mean(axis=0))
    with pytest.raises(ValueError, match=r"\(N, D\) and \(N,\)"):
        wg.class_means(codes, labels[:3])


def test_decode_images_checks_the_decoder_output() -> None:
    imgs = wg.decode_images(decode, np.array([[-3.0, 50.0], [3.0, -50.0]]))
    assert imgs.shape == (2, 8, 8) and imgs[0, :, 0].min() == pytest.approx(1.0) and imgs[1].max() < 1e-6
    with pytest.raises(ValueError, match=r"expected \(M, 64\)"):
        wg.decode_images(lambda z: np.zeros((len(z), 10)), np.zeros((2, 2)))


# ---------------------------------------------------------------- plotting


def test_plot_latent_space_axes_and_point() -> None:
    codes, labels = codes_and_labels()
    fig = wg.plot_latent_space(decode, codes, labels, point=(2.5, 0.0), n=4)
    ax_map, ax_one, ax_grid = fig.axes[:3]
    assert (ax_map.get_xlabel(), ax_map.get_ylabel()) == ("z₁", "z₂")
    assert (ax_grid.get_xlabel(), ax_grid.get_ylabel()) == ("z₁", "z₂") and "4×4" in ax_grid.get_title()
    one = np.asarray(ax_one.get_images()[0].get_array())
    assert one[:, 7].min() == pytest.approx(0.5) and one[:, :7].max() == 0.0  # z₁ = 2.5 lights the last column
    assert "(2.50, 0.00)" in ax_one.get_title()
    mosaic = ax_grid.get_images()[0].get_array()
    assert mosaic.shape == (4 * 9 - 1, 4 * 9 - 1)


def test_plot_interpolation_and_latent_sizes() -> None:
    fig = wg.plot_interpolation(decode, np.array([-3.0, 0.0]), np.array([3.0, 0.0]), 6, ("a", "b"))
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("t") and ax.get_title() == "a → b"
    assert len(ax.get_xticklabels()) == 6
    originals = np.random.default_rng(0).random((5, 64))
    fig = wg.plot_latent_sizes([1, 2, 4], [6.0, 4.0, 2.0], originals, np.stack([originals] * 3), selected=2)
    ax, ax_img = fig.axes[:2]
    assert ax.get_xlabel().startswith("latent size") and ax.get_ylabel().startswith("squared error")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [6, 4, 2])
    assert "latent size 2" in ax_img.get_title()
    with pytest.raises(ValueError, match="one error per size"):
        wg.plot_latent_sizes([1, 2], [1.0], originals)


def test_plot_gan_snapshot_marks_hit_and_missed_modes() -> None:
    x, _, centers = mixture_of_gaussians(500, rng=3)
    collapsed, full = fake_run(5.0, collapse=True), fake_run(1.0)
    fig = wg.plot_gan_snapshot(collapsed, 1, x, centers, others=[full, collapsed])
    ax, ax_cov = fig.axes[:2]
    assert "1/8 modes hit" in ax.get_title() and ax.get_xlabel() == "x₁"
    colors = [p.get_edgecolor()[:3] for p in ax.patches]
    assert len(colors) == 8 and sum(c[1] > c[0] for c in colors) == 1  # one green circle, seven red
    assert ax_cov.get_xlabel() == "training step" and ax_cov.get_ylabel().startswith("mode coverage")
    assert len([line for line in ax_cov.lines if len(line.get_xdata()) == 3]) == 2  # both runs' curves


# ---------------------------------------------------------------- widgets


def test_latent_space_viewer_reacts() -> None:
    codes, labels = codes_and_labels()
    box = wg.latent_space_viewer(decode, codes, labels)
    (out,) = find(box, "Output")
    assert images_in(out) == 1
    (z1,) = find(box, "FloatSlider", "z₁")
    z1.value = 1.0
    find(box, "IntSlider", "grid")[0].value = 5
    assert images_in(out) == 1


def test_interpolation_viewer_reacts() -> None:
    codes, labels = codes_and_labels()
    box = wg.interpolation_viewer(decode, codes, labels, steps=4)
    (status,) = find(box, "HTML")
    assert "0s" in status.value and "1s" in status.value
    find(box, "Dropdown", "to")[0].value = 2
    assert "2s" in status.value
    assert images_in(find(box, "Output")[0]) == 1
    with pytest.raises(ValueError, match="two different labels"):
        wg.interpolation_viewer(decode, codes[:5], labels[:5])


def test_gan_snapshot_viewer_switches_runs_and_snapshots() -> None:
    x, _, centers = mixture_of_gaussians(300, rng=0)
    runs = [fake_run(1.0), fake_run(5.0, collapse=True)]
    box = wg.gan_snapshot_viewer(runs, x, centers)
    (status,) = find(box, "HTML")
    (ratio,) = find(box, "SelectionSlider", "lr ratio")
    (snap,) = find(box, "IntSlider", "snapshot")
    assert snap.value == snap.max == 2 and "coverage 1.00" in status.value
    assert ratio.options == ("1", "5") and ratio.value == "1"
    ratio.value = "5"
    assert "coverage 0.12" in status.value and "lr_G = 0.005" in status.value
    snap.value = 0
    assert "step 0" in status.value and images_in(find(box, "Output")[0]) == 1
    with pytest.raises(ValueError, match="at least one run"):
        wg.gan_snapshot_viewer([], x, centers)


def test_latent_size_viewer() -> None:
    originals = np.random.default_rng(1).random((4, 64))
    box = wg.latent_size_viewer([2, 8], [3.0, 1.0], originals, np.stack([originals, originals]))
    (size,) = find(box, "SelectionSlider", "latent size")
    size.value = 8
    assert images_in(find(box, "Output")[0]) == 1


def test_import_stays_light() -> None:
    code = textwrap.dedent("""
        import sys
        import dlcourse.widgets.generative as wg
        wg.interpolate(wg.latent_grid_points(3)[0], wg.latent_grid_points(3)[1], 4)
        heavy = [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        assert not heavy, heavy
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
