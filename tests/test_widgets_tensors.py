"""dlcourse.widgets.tensors: the broadcasting explorer, headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dlcourse.widgets import compat  # noqa: E402
from dlcourse.widgets import tensors as tw  # noqa: E402

shapes = st.lists(st.integers(1, 4), max_size=4).map(tuple)


@settings(max_examples=25, deadline=None)
@given(a=shapes, b=shapes)
def test_broadcast_shape_agrees_with_numpy(a, b):
    try:
        expected = np.broadcast_shapes(a, b)
    except ValueError:
        expected = None
    assert tw.broadcast_shape(a, b) == expected
    text = tw.explain(a, b)
    assert ("cannot be broadcast" in text) == (expected is None)


def test_axis_rules_explain_each_axis():
    rules = tw.broadcast_axes((3, 1), (4,))
    assert [(r.size_a, r.size_b, r.size, r.outcome) for r in rules] == [(3, None, 3, "stretch B"), (1, 4, 4, "stretch A")]
    assert tw.broadcast_axes((2, 3), (2, 3))[0].outcome == "equal"
    assert tw.broadcast_axes((2, 3), (4, 3))[0].outcome == "incompatible"
    assert "A + B has shape (3, 4)" in tw.explain((3, 1), (4,))


def test_demo_arrays_show_their_origin():
    a, b = tw.demo_arrays((2, 1), (3,))
    assert a.tolist() == [[0], [1]] and b.tolist() == [10, 20, 30]


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_plot_broadcast_draws_stretched_copies_and_the_sum():
    before = plt.get_fignums()
    fig = tw.show_broadcast((3, 1), (4,))
    assert plt.get_fignums() == before  # closed in pyplot
    assert len(fig.axes) == 3
    sums = [t.get_text() for t in fig.axes[2].texts]
    assert len(sums) == 12 and "10" in sums and "42" in sums  # A[2, 0] + B[3] = 2 + 40
    faded = [p for p in fig.axes[0].patches if p.get_alpha() < 0.5]
    assert len(faded) == 3 * 3  # A's one column repeated three more times
    assert all(ax.get_xlabel() for ax in fig.axes)


def test_plot_broadcast_incompatible_and_rank_limit():
    fig = tw.plot_broadcast((2, 3), (4,))
    assert any("incompatible" in t for t in texts(fig))
    plt.close(fig)
    with pytest.raises(ValueError, match="rank"):
        tw.plot_broadcast((2, 2, 2), (2,))


def test_explorer_builds_headless_and_redraws():
    import ipywidgets

    assert compat.is_headless()
    before = plt.get_fignums()
    box = tw.broadcasting_explorer((3, 1), (4,))
    assert isinstance(box, ipywidgets.VBox)
    found = {}
    outs, htmls = [], []
    stack = [box]
    while stack:
        w = stack.pop()
        stack.extend(getattr(w, "children", ()))
        if isinstance(w, ipywidgets.IntSlider):
            found[w.description] = w
        elif isinstance(w, ipywidgets.Output):
            outs.append(w)
        elif isinstance(w, ipywidgets.HTML):
            htmls.append(w)
    assert set(found) == {"A rows", "A columns", "B rows", "B columns"}
    (out,) = outs
    assert len(out.outputs) == 1 and "image/png" in out.outputs[0]["data"]
    first = out.outputs[0]["data"]["image/png"]
    assert any("(3, 4)" in h.value for h in htmls)
    found["B rows"].value = 2  # B becomes (2, 4): incompatible with (3, 1)
    assert any("cannot be broadcast" in h.value for h in htmls)
    assert out.outputs[0]["data"]["image/png"] != first
    assert plt.get_fignums() == before


def test_import_stays_light():
    code = textwrap.dedent(
        """
        import sys
        from dlcourse.widgets import tensors
        assert tensors.broadcast_shape((3, 1), (4,)) == (3, 4)
        assert not [m for m in ("matplotlib", "ipywidgets", "torch") if m in sys.modules]
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
