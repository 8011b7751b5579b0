"""Lecture 07-regularization: overfitting, dropout masks, grid vs random search.

- compute (NumPy only): :func:`make_regression_data`, :func:`fit_ridge`, :func:`predict`, :func:`mse`,
  :func:`capacity_curves`, :func:`lambda_curves`, :func:`dropout_views`, :func:`important_objective`,
  :func:`search_coverage`;
- plotting: :func:`plot_overfitting`, :func:`plot_dropout_views`, :func:`plot_search_coverage`;
- widgets: :func:`overfitting_explorer` (polynomial degree = capacity, λ = L2 strength; train vs
  validation error), :func:`dropout_viewer`, :func:`search_explorer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.regularization import dropout_forward, grid_search_points, random_search_points

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

__all__ = [
    "make_regression_data", "fit_ridge", "predict", "mse", "capacity_curves", "lambda_curves",
    "plot_overfitting", "overfitting_explorer", "dropout_views", "plot_dropout_views", "dropout_viewer",
    "important_objective", "search_coverage", "plot_search_coverage", "search_explorer",
]

Data = dict[str, np.ndarray]


# --------------------------------------------------------------------------------------------
# overfitting: polynomial ridge regression
# --------------------------------------------------------------------------------------------


def make_regression_data(n_train: int = 15, n_val: int = 100, noise: float = 0.3, seed: int = 0) -> Data:
    """y = sin(πx) + N(0, noise²) at x ~ U(−1, 1): {"x_train", "y_train", "x_val", "y_val"}, 1-D arrays."""
    rng = np.random.default_rng(seed)
    x_tr, x_va = rng.uniform(-1, 1, n_train), rng.uniform(-1, 1, n_val)
    return {"x_train": x_tr, "y_train": np.sin(np.pi * x_tr) + noise * rng.standard_normal(n_train),
            "x_val": x_va, "y_val": np.sin(np.pi * x_va) + noise * rng.standard_normal(n_val)}


def _features(x: np.ndarray, degree: int) -> np.ndarray:
    # Legendre polynomials are orthogonal on [−1, 1]: far better conditioned than powers x^k.
    return np.polynomial.legendre.legvander(np.asarray(x, dtype=np.float64), degree)


def fit_ridge(x: np.ndarray, y: np.ndarray, degree: int, lam: float) -> np.ndarray:
    """Coefficients c (degree + 1,) minimizing mean (Φc − y)² + λ Σ_{k≥1} c_k² (the constant term is a
    bias: not penalized). Φ: Legendre features of x up to ``degree``."""
    phi = _features(x, degree)
    penalty = lam * np.eye(degree + 1)
    penalty[0, 0] = 0.0
    a = phi.T @ phi / len(x) + penalty
    return np.linalg.lstsq(a, phi.T @ y / len(x), rcond=None)[0]


def predict(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Φ(x) c for x (N,): (N,)."""
    return _features(x, len(coef) - 1) @ coef


def mse(coef: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of the fit on (x, y)."""
    return float(np.mean((predict(coef, x) - y) ** 2))


def capacity_curves(data: Data, degrees: Any = range(0, 16), lam: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(degrees, train MSE, validation MSE) for every degree at fixed λ."""
    d = np.asarray(list(degrees))
    fits = [fit_ridge(data["x_train"], data["y_train"], int(k), lam) for k in d]
    return (d, np.array([mse(c, data["x_train"], data["y_train"]) for c in fits]),
            np.array([mse(c, data["x_val"], data["y_val"]) for c in fits]))


def lambda_curves(data: Data, degree: int = 12, lams: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(λ values, train MSE, validation MSE) at fixed degree; λ from 1e-8 to 10 by default."""
    lams = np.logspace(-8, 1, 28) if lams is None else np.asarray(lams, dtype=np.float64)
    fits = [fit_ridge(data["x_train"], data["y_train"], degree, float(l)) for l in lams]
    return (lams, np.array([mse(c, data["x_train"], data["y_train"]) for c in fits]),
            np.array([mse(c, data["x_val"], data["y_val"]) for c in fits]))


def _new_figure(**kw: Any) -> Figure:
    import matplotlib.pyplot as plt

    return plt.figure(**kw)


def plot_overfitting(data: Data, degree: int, lam: float, fig: Figure | None = None) -> Figure:
    """Fit (left), train/val error vs degree at this λ (middle), vs λ at this degree (right)."""
    if fig is None:
        fig = _new_figure(figsize=(13, 3.8), layout="constrained")
    else:
        fig.clear()
    ax_fit, ax_deg, ax_lam = fig.subplots(1, 3)
    coef = fit_ridge(data["x_train"], data["y_train"], degree, lam)
    grid = np.linspace(-1, 1, 300)
    ax_fit.scatter(data["x_val"], data["y_val"], s=8, color="0.7", label="validation")
    ax_fit.scatter(data["x_train"], data["y_train"], s=25, color="C0", edgecolors="k", label="train")
    ax_fit.plot(grid, np.sin(np.pi * grid), "k--", lw=1, label="truth sin(πx)")
    ax_fit.plot(grid, predict(coef, grid), "C3", lw=2, label="fit")
    ax_fit.set(xlabel="x", ylabel="y", ylim=(-2.5, 2.5),
               title=f"degree {degree}, λ = {lam:.1e}: train {mse(coef, data['x_train'], data['y_train']):.3f}, "
                     f"val {mse(coef, data['x_val'], data['y_val']):.3f}")
    ax_fit.title.set_fontsize(9)
    ax_fit.legend(fontsize=7, loc="lower right")
    for ax, (xs, tr, va), current, xlabel in (
        (ax_deg, capacity_curves(data, range(0, 16), lam), degree, "polynomial degree (capacity)"),
        (ax_lam, lambda_curves(data, degree), lam, "λ (L2 strength)"),
    ):
        ax.plot(xs, tr, "o-", ms=3, label="train")
        ax.plot(xs, va, "o-", ms=3, label="validation")
        ax.axvline(current, color="0.5", ls=":")
        ax.set(xlabel=xlabel, ylabel="mean squared error", yscale="log")
        ax.legend(fontsize=8)
    ax_lam.set_xscale("log")
    ax_deg.set_title(f"error vs capacity at λ = {lam:.1e}", fontsize=9)
    ax_lam.set_title(f"error vs λ at degree {degree}", fontsize=9)
    return fig


def overfitting_explorer(degree: int = 12, lam: float = 1e-8, n_train: int = 15, noise: float = 0.3,
                         seed: int = 0) -> ipywidgets.VBox:
    """Sliders for polynomial degree and λ; redraws the fit and the train/validation curves."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    data = make_regression_data(n_train, 100, noise, seed)
    style = {"description_width": "80px"}
    w_deg = widgets.IntSlider(value=degree, min=0, max=15, step=1, description="degree", continuous_update=False,
                              style=style)
    w_lam = widgets.FloatLogSlider(value=max(lam, 1e-8), base=10, min=-8, max=1, step=0.25, description="λ (L2)",
                                   readout_format=".1e", continuous_update=False, style=style)
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def draw(_: Any = None) -> None:
        fig = plot_overfitting(data, int(w_deg.value), float(w_lam.value))
        try:
            show_figure(out, fig)
        finally:
            plt.close(fig)

    w_deg.observe(draw, names="value")
    w_lam.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([w_deg, w_lam]), out])


# --------------------------------------------------------------------------------------------
# dropout masks
# --------------------------------------------------------------------------------------------


def dropout_views(image: np.ndarray, p: float, n: int = 4, seed: int = 0) -> list[np.ndarray]:
    """n independent inverted-dropout versions of ``image`` (any 2-D array): kept pixels × 1/(1 − p)."""
    rng = np.random.default_rng(seed)
    return [dropout_forward(np.asarray(image, dtype=np.float64), p, True, rng)[0] for _ in range(n)]


def plot_dropout_views(image: np.ndarray, p: float, n: int = 4, seed: int = 0, fig: Figure | None = None) -> Figure:
    """The image, n dropout views, and their average (which approaches the image: E[out] = x)."""
    views = dropout_views(image, p, n, seed)
    many = dropout_views(image, p, 200, seed + 1)
    if fig is None:
        fig = _new_figure(figsize=(2.0 * (n + 2), 2.4), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(1, n + 2)
    vmax = float(np.max(image)) / max(1 - p, 1e-12) if p < 1 else 1.0
    ink = np.asarray(image) != 0  # zero pixels look the same kept or dropped: count the others
    panels = [(image, "input")] + [(v, f"mask {i + 1}: {np.mean(v[ink] != 0) if ink.any() else 0:.0%} of ink kept")
                                   for i, v in enumerate(views)]
    panels.append((np.mean(many, axis=0), "mean of 200 masks"))
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=max(vmax, 1e-12) if "mask" in title and "mean" not in title
                  else float(np.max(image)) or 1.0)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("pixel column", fontsize=7)
    axes[0].set_ylabel("pixel row", fontsize=7)
    fig.suptitle(f"inverted dropout, p = {p:.2f}: kept pixels scaled by 1/(1 − p) = "
                 + (f"{1 / (1 - p):.2f}" if p < 1 else "∞"), fontsize=10)
    return fig


def dropout_viewer(image: np.ndarray, p: float = 0.5, n: int = 4) -> ipywidgets.VBox:
    """A p slider and a "new masks" button over :func:`plot_dropout_views`."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    w_p = widgets.FloatSlider(value=p, min=0.0, max=0.95, step=0.05, description="p (drop)", continuous_update=False)
    button = widgets.Button(description="new masks")
    out = widgets.Output(layout=widgets.Layout(min_height="200px"))
    seed = {"value": 0}

    def draw(_: Any = None) -> None:
        fig = plot_dropout_views(image, float(w_p.value), n, seed["value"])
        try:
            show_figure(out, fig)
        finally:
            plt.close(fig)

    def resample(_: Any) -> None:
        seed["value"] += 1
        with out:
            draw()

    w_p.observe(draw, names="value")
    button.on_click(resample)
    draw()
    return widgets.VBox([widgets.HBox([w_p, button]), out])


# --------------------------------------------------------------------------------------------
# grid vs random search
# --------------------------------------------------------------------------------------------


def important_objective(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A validation score on [0, 1]² that depends on hyper-parameter a only (b is irrelevant), peak at a = 0.73."""
    return np.exp(-((np.asarray(a) - 0.73) ** 2) / (2 * 0.08**2)) + 0.0 * np.asarray(b)


def search_coverage(n_per_axis: int = 3, seed: int = 0) -> dict[str, Any]:
    """A grid of n_per_axis² points (cell centres) vs as many uniform random points on [0, 1]².

    Returns {"grid": (n², 2), "random": (n², 2), "grid_best", "random_best" (best objective found),
    "grid_distinct", "random_distinct" (distinct values of the important parameter a tried)}.
    """
    # The grid's points sit at the centres of n × n equal cells, as a careful grid would.
    half = 0.5 / n_per_axis
    grid = grid_search_points([(half, 1 - half)] * 2, n_per_axis)
    rand = random_search_points([(0.0, 1.0)] * 2, n_per_axis**2, rng=seed)
    res: dict[str, Any] = {"grid": grid, "random": rand}
    for name, pts in (("grid", grid), ("random", rand)):
        res[f"{name}_best"] = float(important_objective(pts[:, 0], pts[:, 1]).max())
        res[f"{name}_distinct"] = int(len(np.unique(np.round(pts[:, 0], 12))))
    return res


def plot_search_coverage(res: dict[str, Any], fig: Figure | None = None) -> Figure:
    """Two panels: the objective as a background, the tried points, and a rug of the a-values tried."""
    if fig is None:
        fig = _new_figure(figsize=(9, 4), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(1, 2, sharey=True)
    aa, bb = np.meshgrid(np.linspace(0, 1, 200), np.linspace(0, 1, 200))
    for ax, name in zip(axes, ("grid", "random")):
        pts = res[name]
        ax.contourf(aa, bb, important_objective(aa, bb), levels=20, cmap="Greens")
        ax.scatter(pts[:, 0], pts[:, 1], color="C3", edgecolors="k", zorder=3)
        for a in pts[:, 0]:
            ax.axvline(a, ymax=0.04, color="C3", lw=2)
        ax.set(xlabel="a (important hyper-parameter)", xlim=(0, 1), ylim=(0, 1),
               title=f"{name} search, {len(pts)} runs: {res[name + '_distinct']} values of a, "
                     f"best score {res[name + '_best']:.2f}")
        ax.title.set_fontsize(9)
    axes[0].set_ylabel("b (irrelevant hyper-parameter)")
    return fig


def search_explorer(n_per_axis: int = 3) -> ipywidgets.VBox:
    """A slider for the grid size (the random search gets as many runs) and a "new random draw" button."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    w_n = widgets.IntSlider(value=n_per_axis, min=2, max=8, step=1, description="grid size",
                            continuous_update=False)
    button = widgets.Button(description="new random draw")
    out = widgets.Output(layout=widgets.Layout(min_height="280px"))
    seed = {"value": 0}

    def draw(_: Any = None) -> None:
        fig = plot_search_coverage(search_coverage(int(w_n.value), seed["value"]))
        try:
            show_figure(out, fig)
        finally:
            plt.close(fig)

    def resample(_: Any) -> None:
        seed["value"] += 1
        with out:
            draw()

    w_n.observe(draw, names="value")
    button.on_click(resample)
    draw()
    return widgets.VBox([widgets.HBox([w_n, button]), out])
