"""Lecture 00-setup: a broadcasting explorer.

Three layers, as every widget in the course:

- compute (pure Python/NumPy): :func:`broadcast_axes` explains NumPy's rule axis by axis,
  :func:`broadcast_shape` gives the result shape (or None), :func:`demo_arrays` makes small
  arrays whose entries show where they came from;
- plotting (matplotlib's object-oriented API): :func:`plot_broadcast` draws A and B stretched
  to the result shape (copies faded) and A + B;
- the widget (ipywidgets): :func:`broadcasting_explorer`, sliders for the two shapes.

matplotlib and ipywidgets are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "AxisRule",
    "broadcast_axes",
    "broadcast_shape",
    "demo_arrays",
    "explain",
    "plot_broadcast",
    "show_broadcast",
    "broadcasting_explorer",
]


@dataclass(frozen=True)
class AxisRule:
    """One aligned axis (counted from the right, as NumPy aligns shapes).

    Attributes:
        axis: position in the result, 0-based from the left.
        size_a, size_b: the sizes of A and B on this axis; None where the array has fewer axes
            (a missing axis behaves like size 1).
        size: the result's size, or None when the sizes are incompatible.
        outcome: "equal", "stretch A", "stretch B", "stretch both" (both missing/1) or "incompatible".
    """

    axis: int
    size_a: int | None
    size_b: int | None
    size: int | None
    outcome: str


def broadcast_axes(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> list[AxisRule]:
    """NumPy's broadcasting rule, axis by axis: shapes are aligned on the right; on each axis the
    sizes must be equal, or one of them 1 (or missing), which is then stretched to the other."""
    rank = max(len(shape_a), len(shape_b))
    pa = (None,) * (rank - len(shape_a)) + tuple(shape_a)
    pb = (None,) * (rank - len(shape_b)) + tuple(shape_b)
    rules = []
    for axis, (a, b) in enumerate(zip(pa, pb)):
        ea, eb = 1 if a is None else a, 1 if b is None else b
        if ea == eb:
            outcome = "equal" if (a is not None and b is not None) else (
                "stretch A" if a is None else "stretch B")
            if a is None and b is None:
                outcome = "stretch both"
            size: int | None = ea
        elif ea == 1:
            outcome, size = "stretch A", eb
        elif eb == 1:
            outcome, size = "stretch B", ea
        else:
            outcome, size = "incompatible", None
        rules.append(AxisRule(axis, a, b, size, outcome))
    return rules


def broadcast_shape(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape of A + B, or None if the shapes cannot be broadcast (same answer as np.broadcast_shapes)."""
    rules = broadcast_axes(shape_a, shape_b)
    if any(r.size is None for r in rules):
        return None
    return tuple(int(r.size) for r in rules)  # type: ignore[arg-type]


def explain(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> str:
    """A one-paragraph plain-text explanation of broadcasting shape_a with shape_b."""
    parts = []
    for r in broadcast_axes(shape_a, shape_b):
        a = "–" if r.size_a is None else str(r.size_a)
        b = "–" if r.size_b is None else str(r.size_b)
        parts.append(f"axis {r.axis}: {a} vs {b} → {r.outcome}" + ("" if r.size is None else f" ({r.size})"))
    result = broadcast_shape(shape_a, shape_b)
    verdict = f"A + B has shape {result}" if result is not None else "error: the shapes cannot be broadcast"
    return f"A {tuple(shape_a)} + B {tuple(shape_b)}: " + "; ".join(parts) + f". {verdict}."


def demo_arrays(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A = 0, 1, 2, … and B = 10, 20, 30, … in the given shapes, so a sum shows both origins."""
    a = np.arange(int(np.prod(shape_a)), dtype=np.int64).reshape(shape_a)
    b = 10 * (1 + np.arange(int(np.prod(shape_b)), dtype=np.int64)).reshape(shape_b)
    return a, b


def _as_grid(x: np.ndarray) -> np.ndarray:
    return x.reshape(1, -1) if x.ndim < 2 else x


def _draw_grid(ax: Axes, values: np.ndarray, original: np.ndarray | None, color: str, title: str) -> None:
    """Cells with their values; cells that are stretched copies (original False) are faded."""
    from matplotlib.patches import Rectangle

    grid = _as_grid(values)
    rows, cols = grid.shape
    orig = np.ones_like(grid, dtype=bool) if original is None else _as_grid(original)
    for i in range(rows):
        for j in range(cols):
            own = bool(orig[i, j])
            ax.add_patch(Rectangle((j, rows - 1 - i), 1, 1, facecolor=color, alpha=0.55 if own else 0.15,
                                   edgecolor="black", linewidth=1.2 if own else 0.5,
                                   linestyle="-" if own else "--"))
            ax.text(j + 0.5, rows - 1 - i + 0.5, str(grid[i, j]), ha="center", va="center",
                    fontsize=10, color="black" if own else "0.45")
    ax.set_xlim(-0.1, max(cols, 1) + 0.1)
    ax.set_ylim(-0.1, max(rows, 1) + 0.1)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols) + 0.5, [str(j) for j in range(cols)])
    ax.set_yticks(np.arange(rows) + 0.5, [str(rows - 1 - i) for i in range(rows)])
    ax.set_xlabel("column index (last axis)")
    ax.set_ylabel("row index" if values.ndim >= 2 else "")
    ax.set_title(title, fontsize=10)


def plot_broadcast(shape_a: tuple[int, ...], shape_b: tuple[int, ...], fig: Figure | None = None) -> Figure:
    """A, B and A + B as grids for shapes of rank ≤ 2; copies made by broadcasting are faded.

    Returns the figure (three panels, or two and a message when the shapes are incompatible).
    """
    if len(shape_a) > 2 or len(shape_b) > 2:
        raise ValueError("the explorer draws shapes of rank ≤ 2; use explain() for higher ranks")
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(10, 3.4), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(1, 3)
    a, b = demo_arrays(shape_a, shape_b)
    result = broadcast_shape(shape_a, shape_b)
    if result is None:
        _draw_grid(axes[0], a, None, "C0", f"A, shape {shape_a}")
        _draw_grid(axes[1], b, None, "C1", f"B, shape {shape_b}")
        axes[2].axis("off")
        axes[2].text(0.5, 0.5, "incompatible shapes:\nsizes differ and neither is 1\n(NumPy raises ValueError)",
                     ha="center", va="center", color="C3", fontsize=11, transform=axes[2].transAxes)
    else:
        # Which cells of the stretched arrays are the originals: index 0 along every stretched axis.
        own_a = np.zeros(result, dtype=bool)
        own_b = np.zeros(result, dtype=bool)
        own_a[tuple(slice(None) if s != 1 or t == 1 else slice(0, 1)
                    for s, t in zip((1,) * (len(result) - len(shape_a)) + tuple(shape_a), result))] = True
        own_b[tuple(slice(None) if s != 1 or t == 1 else slice(0, 1)
                    for s, t in zip((1,) * (len(result) - len(shape_b)) + tuple(shape_b), result))] = True
        _draw_grid(axes[0], np.broadcast_to(a, result), own_a, "C0", f"A {shape_a} stretched to {result}")
        _draw_grid(axes[1], np.broadcast_to(b, result), own_b, "C1", f"B {shape_b} stretched to {result}")
        _draw_grid(axes[2], a + b, None, "C2", f"A + B, shape {result}")
    fig.suptitle("Broadcasting: shapes align on the right; size-1 (or missing) axes are repeated", fontsize=11)
    return fig


def show_broadcast(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> Figure:
    """:func:`plot_broadcast`, closed in pyplot so a notebook shows it exactly once."""
    import matplotlib.pyplot as plt

    fig = plot_broadcast(shape_a, shape_b)
    plt.close(fig)
    return fig


def broadcasting_explorer(shape_a: tuple[int, ...] = (3, 1), shape_b: tuple[int, ...] = (4,)) -> ipywidgets.VBox:
    """Sliders for the shapes of A (rows, columns) and B (rows, 0 = a 1-D B; columns), the rule
    written out axis by axis, and the figure of :func:`plot_broadcast`. Renders at creation.

    Returns:
        An ``ipywidgets.VBox``; sliders are found by their descriptions "A rows", "A columns",
        "B rows", "B columns"; the explanation is an ``HTML`` widget.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    def two_d(shape: tuple[int, ...]) -> tuple[int, int]:
        if len(shape) == 1:
            return 0, shape[0]
        if len(shape) == 2:
            return shape[0], shape[1]
        raise ValueError(f"shape {shape}: the explorer takes shapes of rank 1 or 2")

    ra, ca = two_d(shape_a)
    rb, cb = two_d(shape_b)
    style = {"description_width": "80px"}
    layout = widgets.Layout(width="260px")

    def slider(value: int, lo: int, description: str) -> Any:
        return widgets.IntSlider(value=value, min=lo, max=max(5, value), step=1, description=description,
                                 continuous_update=False, style=style, layout=layout)

    w_ra, w_ca = slider(max(ra, 1), 1, "A rows"), slider(ca, 1, "A columns")
    w_rb, w_cb = slider(rb, 0, "B rows"), slider(cb, 1, "B columns")
    text = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="260px"))

    def shapes() -> tuple[tuple[int, ...], tuple[int, ...]]:
        a = (int(w_ra.value), int(w_ca.value))
        b = (int(w_cb.value),) if int(w_rb.value) == 0 else (int(w_rb.value), int(w_cb.value))
        return a, b

    def redraw(_: Any = None) -> None:
        a, b = shapes()
        text.value = "<code>" + explain(a, b) + "</code>"
        fig = plot_broadcast(a, b)
        try:
            show_figure(out, fig)
        finally:
            plt.close(fig)

    for w in (w_ra, w_ca, w_rb, w_cb):
        w.observe(redraw, names="value")
    redraw()
    note = widgets.HTML("B rows = 0 makes B one-dimensional, shape (columns,).")
    return widgets.VBox([widgets.HBox([w_ra, w_ca]), widgets.HBox([w_rb, w_cb]), note, text, out])
