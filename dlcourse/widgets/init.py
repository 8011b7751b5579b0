"""Lecture 06-init-normalization: what initialization does to signals and gradients through depth.

- compute (NumPy only): :func:`init_weights`, :func:`depth_statistics`, :func:`symmetry_run`;
- plotting (matplotlib's object-oriented API): :func:`plot_depth_histograms`, :func:`plot_std_through_depth`,
  :func:`plot_symmetry`;
- widgets (ipywidgets): :func:`init_explorer` (depth × init × activation, per-layer histograms of
  activations and gradients) and :func:`symmetry_demo` (zero/constant vs random initialization).

matplotlib and ipywidgets are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.init import kaiming_normal, propagate_through_depth, xavier_normal
from dlcourse.ref.networks import two_layer_net
from dlcourse.ref.optim import sgd

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "INITS", "ACTIVATIONS", "DepthStats", "init_weights", "depth_statistics", "symmetry_run",
    "plot_depth_histograms", "plot_std_through_depth", "plot_symmetry", "init_explorer", "symmetry_demo",
]

INITS = ("zero", "small N(0, 0.01²)", "large N(0, 1)", "xavier", "he")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def init_weights(shape: tuple[int, int], init: str, rng: np.random.Generator) -> np.ndarray:
    """One (D_in, D_out) weight matrix drawn by the named scheme (one of :data:`INITS`)."""
    if init == "zero":
        return np.zeros(shape)
    if init.startswith("small"):
        return 0.01 * rng.standard_normal(shape)
    if init.startswith("large"):
        return rng.standard_normal(shape)
    if init == "xavier":
        return xavier_normal(shape, rng=rng)
    if init == "he":
        return kaiming_normal(shape, nonlinearity="relu", rng=rng)
    raise ValueError(f"unknown init {init!r}; choose one of {INITS}")


@dataclass(frozen=True, eq=False)
class DepthStats:
    """Per-layer activations h_l (N, width) and gradients ∂L/∂h_l (N, width), l = 1…depth."""

    activations: list[np.ndarray]
    gradients: list[np.ndarray]
    init: str
    activation: str

    @property
    def activation_std(self) -> np.ndarray:
        """(depth,) standard deviation of each layer's activations."""
        return np.array([a.std() for a in self.activations])

    @property
    def gradient_std(self) -> np.ndarray:
        """(depth,) standard deviation of the gradient arriving at each layer."""
        return np.array([g.std() for g in self.gradients])


def depth_statistics(depth: int = 10, width: int = 256, n: int = 300, init: str = "xavier",
                     activation: str = "tanh", seed: int = 0) -> DepthStats:
    """Push N(0, 1) inputs (n, width) through ``depth`` bias-free layers and a N(0, 1) gradient back."""
    if depth < 1 or width < 1 or n < 1:
        raise ValueError("need depth ≥ 1, width ≥ 1 and n ≥ 1")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, width))
    weights = [init_weights((width, width), init, rng) for _ in range(depth)]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        acts, grads = propagate_through_depth(x, weights, activation, rng.standard_normal((n, width)))
    return DepthStats(acts, grads, init, activation)


def symmetry_run(init: str = "constant", steps: int = 200, hidden: int = 6, lr: float = 0.5,
                 seed: int = 0) -> dict[str, Any]:
    """Train a 2-input, ``hidden``-unit, 2-class net on XOR-like data from one initialization.

    init: "zero" (all weights 0), "constant" (all weights 0.5) or "random" (He normal).

    Returns:
        {"W1": (2, hidden) first-layer weights after training, "distinct": the number of different
        hidden units (columns of W1 that differ by more than 1e-9), "losses": (steps,)}.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    if init == "zero":
        params = {"W1": np.zeros((2, hidden)), "W2": np.zeros((hidden, 2))}
    elif init == "constant":
        params = {"W1": np.full((2, hidden), 0.5), "W2": np.full((hidden, 2), 0.5)}
    elif init == "random":
        params = {"W1": kaiming_normal((2, hidden), nonlinearity="relu", rng=rng),
                  "W2": kaiming_normal((hidden, 2), nonlinearity="relu", rng=rng)}
    else:
        raise ValueError(f"init must be 'zero', 'constant' or 'random', got {init!r}")
    params.update(b1=np.zeros(hidden), b2=np.zeros(2))
    losses = []
    for _ in range(steps):
        loss, grads = two_layer_net(params, X, y)
        losses.append(float(loss))
        params = {k: sgd(params[k], grads[k], None, {"lr": lr})[0] for k in params}
    W1 = params["W1"]
    distinct = len({tuple(np.round(col / 1e-9)) for col in W1.T})
    return {"W1": W1, "distinct": distinct, "losses": np.asarray(losses)}


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _new_figure(**kw: Any) -> Figure:
    import matplotlib.pyplot as plt

    return plt.figure(**kw)


def _layers_to_show(depth: int, k: int = 5) -> list[int]:
    return sorted(set(np.linspace(0, depth - 1, min(k, depth)).round().astype(int).tolist()))


def plot_depth_histograms(stats: DepthStats, fig: Figure | None = None) -> Figure:
    """Histograms of activations (top row) and gradients (bottom row) for up to 5 layers."""
    layers = _layers_to_show(len(stats.activations))
    if fig is None:
        fig = _new_figure(figsize=(2.4 * len(layers), 4.6), layout="constrained")
    else:
        fig.clear()
    axes = np.asarray(fig.subplots(2, len(layers), squeeze=False))
    for row, (arrays, label, color) in enumerate(((stats.activations, "activation", "C0"),
                                                  (stats.gradients, "gradient", "C3"))):
        for col, l in enumerate(layers):
            ax = axes[row, col]
            values = arrays[l].ravel()
            values = values[np.isfinite(values)]
            std = float(values.std()) if values.size else float("nan")
            if values.size and np.ptp(values) > 0:
                ax.hist(values, bins=50, color=color)
            else:
                ax.axvline(float(values[0]) if values.size else 0.0, color=color)
            ax.set_title(f"layer {l + 1}: std {std:.2g}", fontsize=9)
            ax.set_xlabel(label)
            ax.set_yticks([])
        axes[row, 0].set_ylabel(f"count of {label}s")
    fig.suptitle(f"{stats.activation} network, init = {stats.init}, depth {len(stats.activations)}")
    return fig


def plot_std_through_depth(ax: Axes | None, stats: DepthStats) -> Axes:
    """Standard deviation of activations and gradients against layer index (log scale)."""
    if ax is None:
        ax = _new_figure().add_subplot()
    layers = np.arange(1, len(stats.activations) + 1)
    with np.errstate(divide="ignore"):
        for values, label, color in ((stats.activation_std, "activations", "C0"), (stats.gradient_std, "gradients", "C3")):
            ok = np.isfinite(values) & (values > 0)
            ax.plot(layers[ok], values[ok], "o-", color=color, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("standard deviation")
    ax.set_title(f"{stats.activation}, init = {stats.init}")
    ax.legend()
    return ax


def plot_symmetry(runs: dict[str, dict[str, Any]], fig: Figure | None = None) -> Figure:
    """One heat map of W1 (2 × hidden) per initialization, titled with its number of distinct units."""
    if fig is None:
        fig = _new_figure(figsize=(3.6 * len(runs), 2.6), layout="constrained")
    else:
        fig.clear()
    axes = np.atleast_1d(fig.subplots(1, len(runs)))
    for ax, (name, run) in zip(axes, runs.items()):
        W1 = run["W1"]
        lim = max(float(np.abs(W1).max()), 1e-12)
        im = ax.imshow(W1, cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_xlabel("hidden unit")
        ax.set_ylabel("input")
        ax.set_yticks([0, 1])
        ax.set_title(f"{name}: {run['distinct']} distinct unit(s), loss {run['losses'][-1]:.2f}", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle("First-layer weights after training")
    return fig


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def init_explorer(depth: int = 10, init: str = "xavier", activation: str = "tanh", width: int = 256,
                  seed: int = 0) -> ipywidgets.VBox:
    """Dropdowns for init and activation, a depth slider, and the histograms (redrawn on change).

    Draws once before returning, so a notebook executed headless records the figure.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    style = {"description_width": "80px"}
    w_init = widgets.Dropdown(options=list(INITS), value=init, description="init", style=style)
    w_act = widgets.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation", style=style)
    w_depth = widgets.IntSlider(value=depth, min=1, max=max(30, depth), step=1, description="depth",
                                continuous_update=False, style=style)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="360px"))

    def draw(_: Any = None) -> None:
        stats = depth_statistics(int(w_depth.value), width, 300, str(w_init.value), str(w_act.value), seed)
        fig = plot_depth_histograms(stats)
        try:
            show_figure(out, fig)
        finally:
            plt.close(fig)
        a, g = stats.activation_std, stats.gradient_std
        status.value = (f"activation std: layer 1 {a[0]:.2g} → layer {len(a)} {a[-1]:.2g}; "
                        f"gradient std: layer 1 {g[0]:.2g} ← layer {len(g)} {g[-1]:.2g}")

    for w in (w_init, w_act, w_depth):
        w.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([w_init, w_act, w_depth]), status, out])


def symmetry_demo(steps: int = 200, hidden: int = 6, seed: int = 0) -> ipywidgets.VBox:
    """Trains the same small net from zero, constant and random weights; a steps slider retrains."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    w_steps = widgets.IntSlider(value=steps, min=0, max=max(1000, steps), step=50, description="steps",
                                continuous_update=False)
    out = widgets.Output(layout=widgets.Layout(min_height="260px"))

    def draw(_: Any = None) -> None:
        runs = {name: symmetry_run(name, int(w_steps.value), hidden, seed=seed) for name in ("zero", "constant", "random")}
        fig = plot_symmetry(runs)
        try:
            show_figure(out, fig)
        finally:
            plt.close(fig)

    w_steps.observe(draw, names="value")
    draw()
    return widgets.VBox([w_steps, out])
