"""Lecture 03-losses: softmax temperature, and fitting a line under L1 vs L2 with an outlier.

Three layers, as every widget in the course:

- compute (NumPy only): :func:`softmax_with_temperature`, :func:`entropy`, :func:`line_data`,
  :func:`fit_line`;
- plotting (matplotlib's object-oriented API): :func:`plot_temperature`, :func:`plot_line_fits`;
- widgets (ipywidgets): :func:`temperature_explorer`, :func:`outlier_explorer`, each rendered once
  on creation and again on every change.

matplotlib and ipywidgets are imported inside the functions that need them.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.losses import softmax

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "softmax_with_temperature",
    "entropy",
    "line_data",
    "fit_line",
    "plot_temperature",
    "plot_line_fits",
    "temperature_explorer",
    "outlier_explorer",
]

DEFAULT_LOGITS = np.array([3.0, 1.0, 0.2, -1.0, 2.0])


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) along the last axis: T < 1 sharpens, T > 1 flattens. Shape as logits."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1)


def entropy(p: np.ndarray) -> float:
    """H(p) = −Σ p log p in nats (0·log 0 = 0) of one distribution p (C,); at most log C."""
    p = np.asarray(p, dtype=np.float64)
    nz = p > 0
    return float(-np.sum(p[nz] * np.log(p[nz])))


def line_data(n: int = 20, seed: int = 0, slope: float = 0.8, intercept: float = 1.0,
              noise: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """n points (x (n,), y (n,)) near the line y = slope·x + intercept, x spread over [0, 10]."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 10, n))
    return x, slope * x + intercept + noise * rng.standard_normal(n)


def fit_line(x: np.ndarray, y: np.ndarray, loss: str = "l2") -> tuple[float, float]:
    """(slope, intercept) minimizing the mean squared ("l2") or absolute ("l1") residual.

    L2 is ordinary least squares. L1 has no closed form, but one of its minimizers passes
    through two of the data points, so trying every pair is exact (fine for the few dozen points
    a widget shows; it costs O(n³)).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if loss == "l2":
        A = np.column_stack([x, np.ones_like(x)])
        (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
        return float(a), float(b)
    if loss != "l1":
        raise ValueError(f"loss must be 'l1' or 'l2', got {loss!r}")
    best, best_err = (0.0, float(np.median(y))), float(np.mean(np.abs(y - np.median(y))))
    for i, j in combinations(range(len(x)), 2):
        if x[i] == x[j]:
            continue
        a = (y[j] - y[i]) / (x[j] - x[i])
        b = y[i] - a * x[i]
        err = float(np.mean(np.abs(y - a * x - b)))
        if err < best_err - 1e-12:
            best, best_err = (float(a), float(b)), err
    return best


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_temperature(ax: Axes | None, logits: np.ndarray, temperature: float) -> Axes:
    """Bars of softmax(logits / T), with the entropy against its maximum log C in the title."""
    ax = _new_axes(ax, (6, 3.4))
    p = softmax_with_temperature(logits, temperature)
    classes = np.arange(len(p))
    ax.bar(classes, p, color="tab:blue")
    ax.axhline(1 / len(p), color="gray", ls=":", label="uniform 1/C")
    for c, v in zip(classes, p):
        ax.text(c, v + 0.02, f"{v:.3f}", ha="center", fontsize=8)
    ax.set(xticks=classes, xticklabels=[f"{c}\n(s={s:g})" for c, s in zip(classes, logits)], ylim=(0, 1.1),
           xlabel="class (logit)", ylabel="probability",
           title=f"softmax(s / T), T = {temperature:.3g}: entropy {entropy(p):.3f} of max {np.log(len(p)):.3f} nats")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_line_fits(ax: Axes | None, x: np.ndarray, y: np.ndarray, outlier: int | None = None) -> Axes:
    """The points, the L2 and L1 lines through them, and the outlier (index ``outlier``) marked."""
    ax = _new_axes(ax, (6, 4))
    ax.scatter(x, y, color="k", s=18, zorder=3, label="data")
    if outlier is not None:
        ax.scatter([x[outlier]], [y[outlier]], color="tab:red", s=90, marker="*", zorder=4, label="outlier")
    grid = np.array([min(x.min(), 0.0), max(x.max(), 10.0)])
    for loss, color in (("l2", "tab:orange"), ("l1", "tab:blue")):
        a, b = fit_line(x, y, loss)
        name = "L2 (squared)" if loss == "l2" else "L1 (absolute)"
        ax.plot(grid, a * grid + b, color=color, lw=2, label=f"{name}: y = {a:.2f}x + {b:.2f}")
    ax.set(xlabel="x", ylabel="y", title="Line fits under L2 and L1")
    ax.legend(loc="upper left", fontsize=8)
    return ax


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)  # a plain Figure, not registered with pyplot: nothing to close


def temperature_explorer(logits: np.ndarray | None = None, temperature: float = 1.0) -> ipywidgets.VBox:
    """A logarithmic temperature slider (0.01 … 100) over the softmax of fixed logits.

    Control by description: "temperature T".
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    s = DEFAULT_LOGITS if logits is None else np.asarray(logits, dtype=np.float64)
    w_t = widgets.FloatLogSlider(value=temperature, base=10, min=-2, max=2, step=0.05, description="temperature T",
                                 readout_format=".3g", continuous_update=False, style={"description_width": "100px"})
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def update(_: Any = None) -> None:
        fig = Figure(figsize=(6, 3.4), layout="constrained")
        plot_temperature(fig.add_subplot(), s, float(w_t.value))
        _render(out, fig)

    w_t.observe(update, names="value")
    update()
    return widgets.VBox([w_t, out])


def outlier_explorer(n: int = 20, seed: int = 0, outlier: tuple[float, float] = (8.0, 20.0)) -> ipywidgets.VBox:
    """Sliders that move one point; the L2 line chases it, the L1 line barely moves.

    Controls by description: "outlier x", "outlier y".
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    x0, y0 = line_data(n, seed)
    style = {"description_width": "70px"}
    w_x = widgets.FloatSlider(value=outlier[0], min=0.0, max=10.0, step=0.5, description="outlier x",
                              continuous_update=False, style=style)
    w_y = widgets.FloatSlider(value=outlier[1], min=-20.0, max=40.0, step=1.0, description="outlier y",
                              continuous_update=False, style=style)
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def update(_: Any = None) -> None:
        x = np.append(x0, float(w_x.value))
        y = np.append(y0, float(w_y.value))
        fig = Figure(figsize=(6, 4), layout="constrained")
        plot_line_fits(fig.add_subplot(), x, y, outlier=len(x) - 1)
        _render(out, fig)

    w_x.observe(update, names="value")
    w_y.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([w_x, w_y]), out])
