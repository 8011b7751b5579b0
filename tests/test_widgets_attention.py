"""Tests of dlcourse.widgets.attention: compute functions, figures, and the three widgets, headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcourse.ref import attention as A  # noqa: E402
from dlcourse.widgets import attention as wa  # noqa: E402
from widget_tree import find, images_in, walk  # noqa: E402,F401




# ---------------------------------------------------------------- compute


def test_demo_queries_keys_have_unit_scale_entries() -> None:
    q, k = wa.demo_queries_keys(length=6, num_heads=3, d_head=64, rng=1)
    assert q.shape == k.shape == (3, 6, 64)
    assert 0.6 < q.std() < 1.6 and 0.6 < k.std() < 1.6
    again, _ = wa.demo_queries_keys(length=6, num_heads=3, d_head=64, rng=1)
    assert (again == q).all()


def test_demo_masks() -> None:
    assert wa.demo_mask("none", 5) is None
    causal = wa.demo_mask("causal", 5)
    assert (causal == A.causal_mask(5)).all()
    pad = wa.demo_mask("padding", 5, n_pad=2)
    assert pad.shape == (5, 5) and pad[:, :3].all() and not pad[:, 3:].any()
    both = wa.demo_mask("causal + padding", 5, n_pad=2)
    assert (both == (causal & pad)).all()
    with pytest.raises(ValueError, match="unknown mask"):
        wa.demo_mask("diagonal", 5)


def test_head_weights_scaling_and_masks() -> None:
    q, k = wa.demo_queries_keys(length=8, num_heads=4, d_head=64)
    scaled, raw = wa.head_weights(q, k, True), wa.head_weights(q, k, False)
    assert scaled.shape == raw.shape == (4, 8, 8)
    assert np.allclose(scaled, A.attention_weights(q, k)) and np.allclose(raw, A.attention_weights(q, k, scale=1.0))
    # without 1/√d the rows are much closer to one-hot: lower entropy, larger maxima
    assert wa.row_entropy(raw).mean() < 0.6 * wa.row_entropy(scaled).mean()
    assert raw.max(axis=-1).mean() > scaled.max(axis=-1).mean()
    m = wa.demo_mask("causal + padding", 8)
    w = wa.head_weights(q, k, True, m)
    assert (w[:, ~m] == 0).all()


def test_row_entropy() -> None:
    p = np.array([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 0.0]])
    assert np.allclose(wa.row_entropy(p), [0.0, np.log(4), 0.0])


# ---------------------------------------------------------------- plotting


def test_plot_attention_heads_labels_axes_and_greys_masked_cells() -> None:
    q, k = wa.demo_queries_keys(length=5, num_heads=3, d_head=8)
    m = wa.demo_mask("causal", 5)
    fig = wa.plot_attention_heads(wa.head_weights(q, k, True, m), m, list("abcde"), list("abcde"))
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_images()]
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_xlabel().startswith("key") and ax.get_ylabel().startswith("query") and ax.get_title()
        assert [t.get_text() for t in ax.get_xticklabels()] == list("abcde")
        shown = ax.get_images()[0].get_array()
        assert np.ma.getmaskarray(shown)[~m].all() or np.isnan(np.asarray(shown.filled(np.nan))[~m]).all()
    assert any(ax.get_ylabel() == "attention weight" for ax in fig.axes)  # the colour bar
    single = wa.plot_attention_heads(np.eye(3))
    assert len([ax for ax in single.axes if ax.get_visible() and ax.get_images()]) == 1
    with pytest.raises(ValueError, match=r"\(H, Lq, Lk\)"):
        wa.plot_attention_heads(np.zeros(3))


def test_plot_positional_encoding() -> None:
    fig = wa.plot_positional_encoding(20, 16, pair=2)
    pe_ax, pair_ax, sim_ax = fig.axes[:3]  # the colour bars come after the panels
    assert np.allclose(pe_ax.get_images()[0].get_array(), A.positional_encoding(20, 16))
    assert pe_ax.get_xlabel() == "dimension j" and pe_ax.get_ylabel() == "position p"
    assert pair_ax.get_xlabel() == "position p" and "pair 2" in pair_ax.get_title()
    assert np.allclose(pair_ax.lines[0].get_ydata(), A.positional_encoding(20, 16)[:, 4])
    assert sim_ax.get_title().startswith("similarity")
    assert "pair 1" in wa.plot_positional_encoding(5, 3, pair=9).axes[1].get_title()  # pair clamped to the last


# ---------------------------------------------------------------- widgets


def test_attention_heatmap_viewer_builds_headless_and_reacts() -> None:
    box = wa.attention_heatmap_viewer(length=6, num_heads=2, d_head=16)
    (out,) = find(box, "Output")
    (status,) = find(box, "HTML")
    assert images_in(out) == 1 and "÷ √d" in status.value
    (scale,) = find(box, "Checkbox", "scale by 1/√d")
    (d,) = find(box, "IntSlider", "d per head")
    before = status.value
    scale.value = False
    assert "unscaled" in status.value and status.value != before
    d.value = 128
    assert "d = 128" in status.value
    (mask,) = find(box, "Dropdown", "mask")
    mask.value = "causal"
    (head,) = find(box, "Dropdown", "head")
    head.value = 1
    assert images_in(out) == 1


def test_attention_heatmap_viewer_with_given_queries() -> None:
    q, k = wa.demo_queries_keys(length=4, num_heads=3, d_head=5)
    box = wa.attention_heatmap_viewer(q, k, labels=list("wxyz"))
    assert not find(box, "IntSlider", "d per head")
    assert "d = 5" in find(box, "HTML")[0].value
    with pytest.raises(ValueError, match="both q and k"):
        wa.attention_heatmap_viewer(q)
    with pytest.raises(ValueError, match=r"\(H, L, d\)"):
        wa.attention_heatmap_viewer(q, k[:, :2])


def test_model_attention_viewer() -> None:
    rng = np.random.default_rng(0)
    maps = [rng.dirichlet(np.ones(5), size=(3, 2, 5)) for _ in range(2)]
    tokens = np.array([[1, 2, 3, 10, 10], [4, 5, 6, 7, 8], [0, 0, 10, 10, 10]])
    targets = np.array([[3, 2, 1, -100, -100], [8, 7, 6, 5, 4], [0, 0, -100, -100, -100]])
    box = wa.model_attention_viewer(maps, tokens, targets=targets)
    (out,) = find(box, "Output")
    (status,) = find(box, "HTML")
    assert images_in(out) == 1 and status.value == "input 1 2 3 · · → target 3 2 1 · ·"
    (ex,) = find(box, "IntSlider", "example")
    assert ex.max == 2
    ex.value = 1
    assert status.value.startswith("input 4 5 6 7 8")
    find(box, "Dropdown", "layer")[0].value = 1
    find(box, "Dropdown", "head")[0].value = 0
    assert images_in(out) == 1
    with pytest.raises(ValueError, match=r"tokens must be \(N, L\)"):
        wa.model_attention_viewer(maps, tokens[:2])
    with pytest.raises(ValueError, match="non-empty list"):
        wa.model_attention_viewer([], tokens)


def test_positional_encoding_viewer_limits_the_pair() -> None:
    box = wa.positional_encoding_viewer(length=16, d_model=8)
    (pair,) = find(box, "IntSlider", "pair i")
    (d,) = find(box, "IntSlider", "d_model")
    assert pair.max == 3
    pair.value = 3
    d.value = 4
    assert pair.max == 1 and pair.value == 1
    (out,) = find(box, "Output")
    assert images_in(out) == 1
    find(box, "FloatLogSlider", "base")[0].value = 100.0
    assert images_in(out) == 1


def test_import_stays_light() -> None:
    code = textwrap.dedent("""
        import sys
        import dlcourse.widgets.attention as wa
        q, k = wa.demo_queries_keys()
        wa.row_entropy(wa.head_weights(q, k, False, wa.demo_mask("causal", 8)))
        heavy = [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        assert not heavy, heavy
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
