"""Lecture 05-optimization: optimizers racing on 2-D surfaces, learning-rate regimes, batch-size noise.

Three layers, as every widget in the course:

- compute (NumPy only): :data:`SURFACES`, :func:`run_optimizer`, :func:`race`, :func:`lr_regimes`,
  :func:`minibatch_paths`;
- plotting (matplotlib's object-oriented API): :func:`plot_race`, :func:`plot_lr_regimes`,
  :func:`plot_batch_noise`;
- widgets (ipywidgets): :func:`optimizer_race`, :func:`lr_explorer`, :func:`batch_noise_explorer`.
  Each renders once at creation, so a notebook executed headless records its figure.

Every optimizer is the reference rule of :mod:`dlcourse.ref.optim`; ``rules=`` lets a notebook
race the student's own functions instead. matplotlib and ipywidgets are imported inside the
functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref import adadelta, adagrad, adam, nesterov, rmsprop, sgd, sgd_momentum

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "Surface",
    "SURFACES",
    "OPTIMIZERS",
    "optimizer_cfg",
    "run_optimizer",
    "race",
    "lr_regimes",
    "minibatch_paths",
    "plot_race",
    "plot_lr_regimes",
    "plot_batch_noise",
    "optimizer_race",
    "lr_explorer",
    "batch_noise_explorer",
]

Rule = Callable[..., tuple[np.ndarray, dict[str, Any]]]

# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Surface:
    """A function of two variables to minimise, with what is needed to draw it.

    Attributes:
        name: title. f: f(x, y) on arrays of any (equal) shape. grad: ∇f at a point p (2,) -> (2,).
        start: default starting point (2,). xlim, ylim: the plotted box. minima: (K, 2) points
            marked with stars (the global minimum first). lr_sgd, lr_adaptive: learning rates that
            work for the SGD family and for the adaptive rules.
    """

    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    lr_sgd: float
    lr_adaptive: float

    def value(self, p: np.ndarray) -> np.ndarray:
        """f at points p (..., 2)."""
        p = np.asarray(p, dtype=np.float64)
        return self.f(p[..., 0], p[..., 1])


def _bowl_f(x, y):
    return 0.5 * (x**2 + 20.0 * y**2)


def _rosen_f(x, y):
    return (1 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _saddle_f(x, y):
    return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2


def _wells_f(x, y):
    return (0.05 * (x**2 + y**2) - np.exp(-((x - 1.5) ** 2 + (y - 1.0) ** 2))
            - 1.6 * np.exp(-((x + 1.5) ** 2 + (y + 1.0) ** 2) / 0.8))


def _wells_grad(p):
    x, y = p
    a = np.exp(-((x - 1.5) ** 2 + (y - 1.0) ** 2))
    b = 1.6 * np.exp(-((x + 1.5) ** 2 + (y + 1.0) ** 2) / 0.8)
    return np.array([0.1 * x + 2 * (x - 1.5) * a + 2 * (x + 1.5) / 0.8 * b,
                     0.1 * y + 2 * (y - 1.0) * a + 2 * (y + 1.0) / 0.8 * b])


SURFACES: dict[str, Surface] = {
    "ill-conditioned bowl": Surface(
        "ill-conditioned bowl  f = ½(x² + 20y²)", _bowl_f, lambda p: np.array([p[0], 20.0 * p[1]]),
        (-4.5, 1.5), (-5.0, 5.0), (-2.0, 2.0), ((0.0, 0.0),), 0.05, 0.3),
    "Rosenbrock": Surface(
        "Rosenbrock  f = (1 − x)² + 100(y − x²)²", _rosen_f,
        lambda p: np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2), 200 * (p[1] - p[0] ** 2)]),
        (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0), ((1.0, 1.0),), 1e-3, 0.1),
    "saddle": Surface(
        "saddle  f = ½x² + ¼y⁴ − ½y²", _saddle_f, lambda p: np.array([p[0], p[1] ** 3 - p[1]]),
        (-2.5, 1e-3), (-3.0, 3.0), (-1.8, 1.8), ((0.0, 1.0), (0.0, -1.0)), 0.1, 0.05),
    "several minima": Surface(
        "several minima (global one lower left)", _wells_f, _wells_grad,
        (3.0, 2.8), (-3.5, 3.5), (-3.0, 3.5), ((-1.463, -0.976), (1.428, 0.952)), 0.3, 0.1),
}

OPTIMIZERS: dict[str, Rule] = {
    "SGD": sgd, "momentum": sgd_momentum, "Nesterov": nesterov, "Adagrad": adagrad,
    "RMSprop": rmsprop, "Adadelta": adadelta, "Adam": adam,
}
ADAPTIVE = ("Adagrad", "RMSprop", "Adam")


def optimizer_cfg(name: str, *, lr_sgd: float, lr_adaptive: float, momentum: float, beta2: float) -> dict[str, Any]:
    """The cfg of optimizer ``name`` for the race's four knobs.

    The SGD family uses ``lr_sgd``; Adagrad, RMSprop and Adam use ``lr_adaptive`` (their steps
    have a different scale, roughly lr per coordinate); ``momentum`` is μ, and Adam's β₁;
    ``beta2`` is RMSprop's α, Adam's β₂ and Adadelta's ρ. Adadelta has no learning rate to tune
    (lr = 1) and a larger ε so that it moves at a visible pace.
    """
    if name in ("SGD",):
        return {"lr": lr_sgd}
    if name in ("momentum", "Nesterov"):
        return {"lr": lr_sgd, "momentum": momentum}
    if name == "Adagrad":
        return {"lr": lr_adaptive, "eps": 1e-10}
    if name == "RMSprop":
        return {"lr": lr_adaptive, "alpha": beta2, "eps": 1e-8}
    if name == "Adam":
        return {"lr": lr_adaptive, "beta1": momentum, "beta2": beta2, "eps": 1e-8}
    if name == "Adadelta":
        return {"lr": 1.0, "rho": beta2, "eps": 1e-3}
    raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(OPTIMIZERS)}")


def run_optimizer(
    surface: Surface,
    rule: Rule,
    cfg: dict[str, Any],
    *,
    steps: int = 200,
    start: Sequence[float] | None = None,
) -> np.ndarray:
    """Iterates of ``rule`` on ``surface`` from ``start``: (T + 1, 2), the start first.

    Stops early, returning fewer rows, when an iterate leaves a box 100 times the plotted
    one or stops being finite (divergence), so a too-large learning rate draws a short path.
    """
    p = np.array(surface.start if start is None else start, dtype=np.float64)
    bound = 100.0 * max(abs(v) for v in surface.xlim + surface.ylim)
    path, state = [p], {}
    with np.errstate(all="ignore"):
        for _ in range(int(steps)):
            p, state = rule(p, surface.grad(p), state, cfg)
            path.append(p)
            if not np.all(np.isfinite(p)) or np.abs(p).max() > bound:
                break
    return np.array(path)


def race(
    surface: Surface,
    names: Sequence[str] = tuple(OPTIMIZERS),
    *,
    lr_sgd: float | None = None,
    lr_adaptive: float | None = None,
    momentum: float = 0.9,
    beta2: float = 0.99,
    steps: int = 200,
    rules: dict[str, Rule] | None = None,
) -> dict[str, np.ndarray]:
    """{optimizer name: path (T + 1, 2)} for each of ``names`` on ``surface``, same start.

    ``lr_sgd``/``lr_adaptive`` default to the surface's own; ``rules`` overrides the rule used
    for a name (e.g. {"Adam": students_adam}).
    """
    lr_sgd = surface.lr_sgd if lr_sgd is None else lr_sgd
    lr_adaptive = surface.lr_adaptive if lr_adaptive is None else lr_adaptive
    table = dict(OPTIMIZERS, **(rules or {}))
    return {name: run_optimizer(surface, table[name], optimizer_cfg(
        name, lr_sgd=lr_sgd, lr_adaptive=lr_adaptive, momentum=momentum, beta2=beta2), steps=steps)
        for name in names}


def lr_regimes(
    lrs: Sequence[float] = (0.005, 0.09, 0.102),
    *,
    surface: Surface | None = None,
    steps: int = 60,
) -> dict[float, np.ndarray]:
    """{lr: plain gradient-descent path} on the ill-conditioned bowl (or ``surface``).

    On ½(x² + 20y²) GD is stable for lr < 2/20 = 0.1, and fastest overall at lr = 2/(1 + 20) ≈ 0.095,
    where the flat x direction and the steep y direction contract equally fast: the defaults are
    too small, about right, and just too large (y oscillates with growing amplitude).
    """
    surface = SURFACES["ill-conditioned bowl"] if surface is None else surface
    return {float(lr): run_optimizer(surface, sgd, {"lr": float(lr)}, steps=steps) for lr in lrs}


@dataclass(frozen=True, eq=False)
class BatchNoise:
    """Mini-batch SGD on a 2-weight linear regression (:func:`minibatch_paths`).

    Attributes:
        X: (N, 2) inputs; y: (N,) targets; w_star: (2,) the least-squares solution.
        paths: {batch size B: (steps + 1, 2) weights after each step}.
        losses: {B: (steps + 1,) full-data mean squared error ½·mean((Xw − y)²) along the path}.
    """

    X: np.ndarray
    y: np.ndarray
    w_star: np.ndarray
    paths: dict[int, np.ndarray]
    losses: dict[int, np.ndarray]

    def loss(self, w: np.ndarray) -> np.ndarray:
        """Full-data loss at weights w (..., 2)."""
        r = np.asarray(w) @ self.X.T - self.y
        return 0.5 * np.mean(r**2, axis=-1)


def minibatch_paths(
    batch_sizes: Sequence[int] = (1, 8, 64, 256),
    *,
    n: int = 256,
    lr: float = 0.2,
    steps: int = 120,
    seed: int = 0,
) -> BatchNoise:
    """SGD with each batch size from the same start on the same data; smaller batches, noisier paths.

    Batches are drawn by shuffling with ``np.random.default_rng(seed + B)`` (a new permutation
    every epoch); B = N is full-batch gradient descent, which is deterministic.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)) @ np.array([[1.0, 0.0], [0.6, 0.5]])
    y = X @ np.array([2.0, -1.0]) + 0.5 * rng.standard_normal(n)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    paths: dict[int, np.ndarray] = {}
    losses: dict[int, np.ndarray] = {}
    for b in batch_sizes:
        b = int(min(b, n))
        r = np.random.default_rng(seed + b)
        w = np.array([-1.0, 2.0])
        path = [w]
        perm, pos = r.permutation(n), 0
        for _ in range(steps):
            if pos >= n:
                perm, pos = r.permutation(n), 0
            idx = perm[pos:pos + b]
            pos += b
            g = X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
            w = w - lr * g
            path.append(w)
        paths[b] = np.array(path)
    noise = BatchNoise(X, y, w_star, paths, losses)
    for b, path in paths.items():
        losses[b] = noise.loss(path)  # fills the dict the (frozen) result holds
    return noise


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _new_figure(**kw: Any) -> Figure:
    import matplotlib.pyplot as plt

    return plt.figure(**kw)


def _contours(ax: Axes, surface: Surface, resolution: int = 160) -> None:
    xs = np.linspace(*surface.xlim, resolution)
    ys = np.linspace(*surface.ylim, resolution)
    xx, yy = np.meshgrid(xs, ys)
    zz = surface.f(xx, yy)
    # Contours evenly spaced in log(f − min): the valley floor and the walls both show.
    z = zz - zz.min() + 1e-3
    levels = np.geomspace(z.min() * 1.5, z.max(), 18)
    ax.contour(xx, yy, z, levels=levels, colors="0.6", linewidths=0.7)
    minima = np.array(surface.minima)
    ax.scatter(minima[:, 0], minima[:, 1], marker="*", s=160, c="gold", edgecolors="k", zorder=5, label="minimum")
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def plot_race(
    surface: Surface, paths: dict[str, np.ndarray], fig: Figure | None = None, title: str = ""
) -> Figure:
    """1×2 figure: the paths on the contour plot (left), f − f_min against step (right, log scale)."""
    if fig is None:
        fig = _new_figure(figsize=(12, 4.6), layout="constrained")
    else:
        fig.clear()
    ax_map, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    _contours(ax_map, surface)
    f_min = float(surface.value(np.array(surface.minima[0])))
    p0 = np.asarray(next(iter(paths.values())))[0] if paths else np.array(surface.start)
    ax_map.plot(*p0, "ko", ms=6, label="start")
    for i, (name, path) in enumerate(paths.items()):
        color = f"C{i}"
        ax_map.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.6, label=name)
        ax_map.plot(path[-1, 0], path[-1, 1], "o", color=color, ms=5)
        with np.errstate(all="ignore"):
            gap = np.maximum(surface.value(path) - f_min, 1e-16)
        ax_loss.plot(np.arange(len(path)), gap, color=color, label=name)
    ax_map.legend(loc="upper right", fontsize=8)
    ax_map.set_title(surface.name)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("f(x, y) − f(global minimum)")
    ax_loss.set_title("distance to the best value")
    if title:
        fig.suptitle(title)
    return fig


def plot_lr_regimes(paths: dict[float, np.ndarray], surface: Surface | None = None,
                    fig: Figure | None = None) -> Figure:
    """One contour panel per learning rate with its GD path, and the losses together on a last panel."""
    surface = SURFACES["ill-conditioned bowl"] if surface is None else surface
    if fig is None:
        fig = _new_figure(figsize=(4.0 * (len(paths) + 1), 3.6), layout="constrained")
    else:
        fig.clear()
    axes = np.atleast_1d(fig.subplots(1, len(paths) + 1))
    f_min = float(surface.value(np.array(surface.minima[0])))
    for i, (ax, (lr, path)) in enumerate(zip(axes, paths.items())):
        _contours(ax, surface)
        ax.plot(path[:, 0], path[:, 1], ".-", color=f"C{i}", lw=1, ms=3)
        with np.errstate(all="ignore"):
            final = float(surface.value(path[-1]) - f_min)
        verdict = "diverges" if (len(path) and (not np.isfinite(final) or final > surface.value(path[0]))) else \
            f"f − f* = {final:.2g}"
        ax.set_title(f"lr = {lr:g}: {verdict}")
        with np.errstate(all="ignore"):
            axes[-1].plot(np.maximum(surface.value(path) - f_min, 1e-16), color=f"C{i}", label=f"lr = {lr:g}")
    axes[-1].set_yscale("log")
    axes[-1].set_ylim(1e-8, 1e4)
    axes[-1].set_xlabel("step")
    axes[-1].set_ylabel("f − f*")
    axes[-1].legend()
    axes[-1].set_title("loss against step")
    fig.suptitle("Gradient descent on ½(x² + 20y²): learning rate too small, about right, too large")
    return fig


def plot_batch_noise(noise: BatchNoise, fig: Figure | None = None) -> Figure:
    """Left: the SGD paths in weight space over the loss contours; right: the full-data loss per step."""
    if fig is None:
        fig = _new_figure(figsize=(11, 4.4), layout="constrained")
    else:
        fig.clear()
    ax_map, ax_loss = fig.subplots(1, 2)
    w1 = np.linspace(-1.5, 3.0, 120)
    w2 = np.linspace(-2.5, 2.5, 120)
    ww = np.stack(np.meshgrid(w1, w2), axis=-1)
    zz = noise.loss(ww)
    ax_map.contour(ww[..., 0], ww[..., 1], zz, levels=np.geomspace(zz.min() * 1.02, zz.max(), 15),
                   colors="0.6", linewidths=0.7)
    ax_map.plot(*noise.w_star, marker="*", ms=14, color="gold", mec="k", ls="none", label="least squares")
    floor = float(noise.loss(noise.w_star))
    for i, (b, path) in enumerate(noise.paths.items()):
        ax_map.plot(path[:, 0], path[:, 1], "-", color=f"C{i}", lw=1, label=f"batch size {b}")
        ax_loss.plot(noise.losses[b] - floor + 1e-12, color=f"C{i}", label=f"B = {b}")
    ax_map.set_xlabel("w₁")
    ax_map.set_ylabel("w₂")
    ax_map.legend(fontsize=8)
    ax_map.set_title("SGD paths in weight space")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step (one mini-batch each)")
    ax_loss.set_ylabel("full-data loss − minimum")
    ax_loss.legend(fontsize=8)
    ax_loss.set_title("smaller batches: cheaper, noisier steps")
    return fig


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    try:
        show_figure(out, fig)
    finally:
        plt.close(fig)


_STYLE = {"description_width": "110px"}


def optimizer_race(
    surface: str = "ill-conditioned bowl",
    *,
    names: Sequence[str] = tuple(OPTIMIZERS),
    momentum: float = 0.9,
    beta2: float = 0.99,
    steps: int = 150,
    rules: dict[str, Rule] | None = None,
) -> ipywidgets.VBox:
    """Race the optimizers on a surface, with sliders for the learning rates, μ/β₁, β₂ and steps.

    Recomputes on every change (a race takes milliseconds). Choosing a surface resets the
    learning-rate sliders to that surface's defaults.

    Returns:
        An ``ipywidgets.VBox``; controls by ``description``: "surface", "lr (SGD family)",
        "lr (adaptive)", "momentum / β₁", "β₂ / α / ρ", "steps".
    """
    import ipywidgets as widgets

    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; choose from {sorted(SURFACES)}")
    s0 = SURFACES[surface]
    layout = widgets.Layout(width="340px")
    w_surface = widgets.Dropdown(options=list(SURFACES), value=surface, description="surface",
                                 style=_STYLE, layout=layout)
    w_lr = widgets.FloatLogSlider(value=s0.lr_sgd, base=10, min=-4, max=0, step=0.05,
                                  description="lr (SGD family)", readout_format=".2g",
                                  continuous_update=False, style=_STYLE, layout=layout)
    w_lra = widgets.FloatLogSlider(value=s0.lr_adaptive, base=10, min=-3, max=0, step=0.05,
                                   description="lr (adaptive)", readout_format=".2g",
                                   continuous_update=False, style=_STYLE, layout=layout)
    w_mu = widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum / β₁",
                               continuous_update=False, style=_STYLE, layout=layout)
    w_b2 = widgets.FloatSlider(value=beta2, min=0.5, max=0.999, step=0.001, description="β₂ / α / ρ",
                               readout_format=".3f", continuous_update=False, style=_STYLE, layout=layout)
    w_steps = widgets.IntSlider(value=steps, min=10, max=1000, step=10, description="steps",
                                continuous_update=False, style=_STYLE, layout=layout)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="360px"))
    busy = [False]

    def draw(*_: Any) -> None:
        if busy[0]:
            return
        surf = SURFACES[w_surface.value]
        paths = race(surf, names, lr_sgd=float(w_lr.value), lr_adaptive=float(w_lra.value),
                     momentum=float(w_mu.value), beta2=float(w_b2.value), steps=int(w_steps.value), rules=rules)
        diverged = [n for n, p in paths.items() if len(p) < int(w_steps.value) + 1]
        status.value = ("<b>diverged:</b> " + ", ".join(diverged) + " (lower the learning rate)") if diverged else ""
        _render(out, plot_race(surf, paths))

    def on_surface(change: Any) -> None:
        busy[0] = True  # set both sliders, then draw once
        surf = SURFACES[change["new"]]
        w_lr.value, w_lra.value = surf.lr_sgd, surf.lr_adaptive
        busy[0] = False
        draw()

    w_surface.observe(on_surface, names="value")
    for w in (w_lr, w_lra, w_mu, w_b2, w_steps):
        w.observe(draw, names="value")
    draw()
    wrap = widgets.Layout(flex_flow="row wrap")
    return widgets.VBox([widgets.HBox([w_surface, w_steps], layout=wrap), widgets.HBox([w_lr, w_lra], layout=wrap),
                         widgets.HBox([w_mu, w_b2], layout=wrap), status, out])


def lr_explorer(lr: float = 0.09, steps: int = 60) -> ipywidgets.VBox:
    """GD on the ill-conditioned bowl at a learning rate you choose, beside a too small and a too large one.

    Returns:
        An ``ipywidgets.VBox`` with the slider "your lr" and the figure.
    """
    import ipywidgets as widgets

    w_lr = widgets.FloatLogSlider(value=lr, base=10, min=-3, max=-0.7, step=0.01, description="your lr",
                                  readout_format=".3g", continuous_update=False, style=_STYLE,
                                  layout=widgets.Layout(width="420px"))
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def draw(*_: Any) -> None:
        _render(out, plot_lr_regimes(lr_regimes((0.005, float(w_lr.value), 0.102), steps=steps)))

    w_lr.observe(draw, names="value")
    draw()
    return widgets.VBox([w_lr, out])


def batch_noise_explorer(batch_size: int = 8, lr: float = 0.2, steps: int = 120) -> ipywidgets.VBox:
    """Mini-batch SGD paths for a batch size you choose, against B = 1 and full batch (B = N = 256).

    Returns:
        An ``ipywidgets.VBox`` with the sliders "batch size" and "learning rate" and the figure.
    """
    import ipywidgets as widgets

    w_b = widgets.IntSlider(value=batch_size, min=1, max=256, step=1, description="batch size",
                            continuous_update=False, style=_STYLE, layout=widgets.Layout(width="340px"))
    w_lr = widgets.FloatLogSlider(value=lr, base=10, min=-2.5, max=-0.3, step=0.05, description="learning rate",
                                  readout_format=".3g", continuous_update=False, style=_STYLE,
                                  layout=widgets.Layout(width="340px"))
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def draw(*_: Any) -> None:
        sizes = sorted({1, int(w_b.value), 256})
        _render(out, plot_batch_noise(minibatch_paths(sizes, lr=float(w_lr.value), steps=steps)))

    for w in (w_b, w_lr):
        w.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([w_b, w_lr]), out])
