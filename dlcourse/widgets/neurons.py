"""Lecture 02-neurons-mlp: activations, a single perceptron, and universal approximation.

Three layers, as every widget in the course:

- compute (NumPy only): :func:`activation_curves`, :func:`decision_line`, :func:`fit_one_hidden_layer`;
- plotting (matplotlib's object-oriented API): :func:`plot_activation`, :func:`plot_perceptron`,
  :func:`plot_approximation`;
- widgets (ipywidgets): :func:`activation_explorer`, :func:`perceptron_explorer`,
  :func:`approximation_explorer`. Each renders once on creation and again on every change.

matplotlib and ipywidgets are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from dlcourse.ref.activations import ACTIVATIONS, activation_backward, activation_forward, sigmoid

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "activation_curves",
    "decision_line",
    "ApproximationFit",
    "fit_one_hidden_layer",
    "plot_activation",
    "plot_perceptron",
    "plot_approximation",
    "activation_explorer",
    "perceptron_explorer",
    "approximation_explorer",
]

# Below this slope a unit is "saturated": it passes back less than 5 % of the gradient it gets.
SATURATION_SLOPE = 0.05


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def activation_curves(
    name: str, z: np.ndarray, alpha: float | None = None, threshold: float = SATURATION_SLOPE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """g(z), g′(z) and the saturation mask |g′(z)| < threshold, for the activation ``name``.

    Args:
        name: one of ``dlcourse.ref.activations.ACTIVATIONS``.
        z: (K,) points.
        alpha: the slope/scale of leaky ReLU and ELU (their defaults when None); ignored otherwise.

    Returns:
        (K,) values, (K,) derivatives, (K,) boolean mask of saturated points.
    """
    from dlcourse.ref import activations as act

    z = np.asarray(z, dtype=np.float64)
    if name in ("leaky_relu", "elu") and alpha is not None:
        out, cache = getattr(act, f"{name}_forward")(z, alpha)
        grad = getattr(act, f"{name}_backward")(np.ones_like(z), cache)
    else:
        out, cache = activation_forward(z, name)
        grad = activation_backward(np.ones_like(z), cache, name)
    return out, grad, np.abs(grad) < threshold


def decision_line(w: tuple[float, float], w0: float, xlim: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Two points of the line w₀ + w₁x₁ + w₂x₂ = 0 where σ = 0.5, spanning ``xlim``.

    Returns (x₁ (2,), x₂ (2,)); for w₂ = 0 the line is vertical at x₁ = −w₀/w₁; for w = 0 there
    is no line and both arrays are empty.
    """
    w1, w2 = float(w[0]), float(w[1])
    if w2 != 0:
        x1 = np.array(xlim, dtype=np.float64)
        return x1, -(w0 + w1 * x1) / w2
    if w1 != 0:
        return np.full(2, -w0 / w1), np.array(xlim, dtype=np.float64)
    return np.empty(0), np.empty(0)


@dataclass(frozen=True, eq=False)
class ApproximationFit:
    """A one-hidden-layer ReLU network fitted to samples of a 1-D function.

    Attributes:
        x, y: (N,) training points and targets.
        grid, prediction, target: (G,) a dense grid, the network on it, the true function on it.
        hidden: number of hidden units H.
        mse: mean squared error of the prediction on the grid.
        kinks: (H,) the hidden units' breakpoints −b/w (each ReLU bends the output once).
    """

    x: np.ndarray
    y: np.ndarray
    grid: np.ndarray
    prediction: np.ndarray
    target: np.ndarray
    hidden: int
    mse: float
    kinks: np.ndarray


TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin(3x)": lambda x: np.sin(3 * x),
    "|x| − 0.5": lambda x: np.abs(x) - 0.5,
    "step": lambda x: (x > 0.2).astype(np.float64),
    "x³ − x": lambda x: x**3 - x,
}


def fit_one_hidden_layer(
    target: str | Callable[[np.ndarray], np.ndarray] = "sin(3x)",
    hidden: int = 10,
    n_points: int = 200,
    seed: int = 0,
    xlim: tuple[float, float] = (-2.0, 2.0),
) -> ApproximationFit:
    """Fit ŷ(x) = Σ_h v_h · ReLU(w_h x + b_h) + c with H = ``hidden`` units.

    The hidden weights are random (breakpoints spread evenly over ``xlim``, random slopes ±1) and
    only the output layer (v, c) is fitted, by least squares. That makes the fit instant and
    deterministic, and shows the theorem's point: with enough units, a single hidden layer can
    follow any continuous function on an interval; more units, more bends, smaller error.
    """
    f = TARGETS[target] if isinstance(target, str) else target
    rng = np.random.default_rng(seed)
    x = np.linspace(*xlim, n_points)
    y = f(x)
    kinks = np.sort(rng.uniform(*xlim, size=hidden))
    w = rng.choice([-1.0, 1.0], size=hidden)
    b = -w * kinks

    def features(t: np.ndarray) -> np.ndarray:
        return np.hstack([np.maximum(np.outer(t, w) + b, 0.0), np.ones((t.size, 1))])

    coef, *_ = np.linalg.lstsq(features(x), y, rcond=None)
    grid = np.linspace(*xlim, 600)
    prediction = features(grid) @ coef
    truth = f(grid)
    return ApproximationFit(x=x, y=y, grid=grid, prediction=prediction, target=truth, hidden=int(hidden),
                            mse=float(np.mean((prediction - truth) ** 2)), kinks=kinks)


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_activation(ax: Axes | None, name: str, alpha: float | None = None, zlim: float = 8.0) -> Axes:
    """g(z) and g′(z) of one activation, with the saturated regions (|g′| < 0.05) shaded."""
    ax = _new_axes(ax, (6, 3.6))
    z = np.linspace(-zlim, zlim, 801)
    out, grad, sat = activation_curves(name, z, alpha)
    ax.plot(z, out, lw=2, label=f"{name}(z)")
    ax.plot(z, grad, lw=2, ls="--", label=f"{name}′(z)")
    ax.fill_between(z, 0, 1, where=sat, transform=ax.get_xaxis_transform(), color="tab:red", alpha=0.12,
                    label=f"saturated: |g′| < {SATURATION_SLOPE}")
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set(xlabel="z", ylabel="g(z), g′(z)", ylim=(-2, 3), title=f"{name}: value and derivative")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_perceptron(
    ax: Axes | None, w: tuple[float, float], w0: float, X: np.ndarray | None = None, y: np.ndarray | None = None,
    lim: float = 3.0,
) -> Axes:
    """σ(w₀ + w·x) as a colour map over the plane, its 0.5 line, and optional labelled points."""
    ax = _new_axes(ax, (4.6, 4.2))
    g = np.linspace(-lim, lim, 201)
    g1, g2 = np.meshgrid(g, g)
    p = sigmoid(w0 + w[0] * g1 + w[1] * g2)
    mesh = ax.pcolormesh(g1, g2, p, cmap="RdBu_r", vmin=0, vmax=1, shading="auto")
    ax.figure.colorbar(mesh, ax=ax, label="ŷ = σ(w₀ + w·x)")
    x1, x2 = decision_line(w, w0, (-lim, lim))
    if x1.size:
        ax.plot(x1, x2, "k-", lw=2, label="ŷ = 0.5")
    if X is not None:
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", vmin=0, vmax=1, edgecolors="k", s=40, zorder=3)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="x₁", ylabel="x₂", aspect="equal",
           title=f"w₀ = {w0:.2f}, w = [{w[0]:.2f}, {w[1]:.2f}]")
    if x1.size:
        ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_approximation(ax: Axes | None, fit: ApproximationFit) -> Axes:
    """The target, the network's fit and the hidden units' breakpoints."""
    ax = _new_axes(ax, (6.5, 3.6))
    ax.plot(fit.grid, fit.target, color="gray", lw=3, alpha=0.6, label="target f(x)")
    ax.plot(fit.grid, fit.prediction, color="tab:blue", lw=1.5, label=f"network, H = {fit.hidden}")
    ax.plot(fit.kinks, np.interp(fit.kinks, fit.grid, fit.prediction), "|", color="tab:red", ms=10,
            label="ReLU breakpoints")
    ax.set(xlabel="x", ylabel="y", title=f"One hidden layer with {fit.hidden} ReLUs: MSE {fit.mse:.2e}")
    ax.legend(loc="best", fontsize=8)
    return ax


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, draw: Callable[[], Figure]) -> None:
    from dlcourse.widgets.compat import show_figure

    # A plain matplotlib Figure, never registered with pyplot: nothing to close, nothing leaks.
    show_figure(out, draw())


def _figure(figsize: tuple[float, float]) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def activation_explorer(name: str = "sigmoid", alpha: float = 0.1) -> ipywidgets.VBox:
    """A dropdown of activations and an α slider (used by leaky ReLU and ELU); shows g, g′ and saturation.

    Controls by description: "activation", "α".
    """
    import ipywidgets as widgets

    style = {"description_width": "80px"}
    w_name = widgets.Dropdown(options=list(ACTIVATIONS[1:]), value=name, description="activation", style=style)
    w_alpha = widgets.FloatSlider(value=alpha, min=0.0, max=2.0, step=0.05, description="α",
                                  continuous_update=False, style=style)
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def draw() -> Figure:
        fig = _figure((6, 3.6))
        a = float(w_alpha.value) if w_name.value in ("leaky_relu", "elu") else None
        plot_activation(fig.add_subplot(), str(w_name.value), a)
        return fig

    def update(_: Any = None) -> None:
        _render(out, draw)

    w_name.observe(update, names="value")
    w_alpha.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([w_name, w_alpha]), out])


def perceptron_explorer(
    X: np.ndarray | None = None, y: np.ndarray | None = None, w: tuple[float, float] = (3.0, -2.0), w0: float = 1.0
) -> ipywidgets.VBox:
    """Sliders for w₀, w₁, w₂ of one sigmoid neuron; shows ŷ over the plane and the line ŷ = 0.5.

    Controls by description: "w₀", "w₁", "w₂". Starts at the lecture's neuron (w₀ = 1, w = [3, −2]).
    """
    import ipywidgets as widgets

    style = {"description_width": "40px"}
    sliders = [widgets.FloatSlider(value=v, min=-5.0, max=5.0, step=0.1, description=d, continuous_update=False,
                                   style=style) for v, d in ((w0, "w₀"), (w[0], "w₁"), (w[1], "w₂"))]
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def draw() -> Figure:
        fig = _figure((5, 4.2))
        b, a1, a2 = (float(s.value) for s in sliders)
        plot_perceptron(fig.add_subplot(), (a1, a2), b, X, y)
        return fig

    def update(_: Any = None) -> None:
        _render(out, draw)

    for s in sliders:
        s.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox(sliders), out])


def approximation_explorer(target: str = "sin(3x)", hidden: int = 5) -> ipywidgets.VBox:
    """A target dropdown and a hidden-units slider; refits and redraws on every change.

    Controls by description: "target", "hidden units".
    """
    import ipywidgets as widgets

    style = {"description_width": "90px"}
    w_target = widgets.Dropdown(options=list(TARGETS), value=target, description="target", style=style)
    w_hidden = widgets.IntSlider(value=hidden, min=1, max=max(100, hidden), step=1, description="hidden units",
                                 continuous_update=False, style=style)
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def draw() -> Figure:
        fig = _figure((6.5, 3.6))
        plot_approximation(fig.add_subplot(), fit_one_hidden_layer(str(w_target.value), int(w_hidden.value)))
        return fig

    def update(_: Any = None) -> None:
        _render(out, draw)

    w_target.observe(update, names="value")
    w_hidden.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([w_target, w_hidden]), out])
