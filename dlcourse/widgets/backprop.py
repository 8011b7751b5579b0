"""Lecture 04-backprop: train a two-layer network on 2-D data and watch it learn.

Three layers, as every widget in the course:

- compute (NumPy only): :func:`train_two_layer`, :func:`decision_grid`, :func:`accuracy`;
- plotting (matplotlib's object-oriented API): :func:`plot_decision_boundary`,
  :func:`plot_loss_curve`, :func:`plot_dashboard`, :func:`plot_snapshots`;
- the widget (ipywidgets): :func:`training_dashboard`, and :func:`show_training` for a plain figure.

The network is ``dlcourse.ref.two_layer_net`` unless a notebook passes ``net=`` (the student's
own ``two_layer_net(params, X, y=None, reg=0.0)``), so a student can train what they wrote.
matplotlib and ipywidgets are imported inside the functions that need them, so the compute
functions work (and import fast) without either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from dlcourse.ref import init_two_layer, sgd, two_layer_net

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "TrainingRun",
    "train_two_layer",
    "decision_grid",
    "accuracy",
    "plot_decision_boundary",
    "plot_loss_curve",
    "plot_dashboard",
    "plot_snapshots",
    "training_dashboard",
    "show_training",
]

Params = dict[str, np.ndarray]
# Same signature as dlcourse.ref.two_layer_net: net(params, X) -> scores (N, C);
# net(params, X, y, reg=reg) -> (loss, grads).
Net = Callable[..., Any]


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarray fields with == is ambiguous
class TrainingRun:
    """The result of :func:`train_two_layer`.

    Attributes:
        params: final parameters W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
        steps: (R,) int64 step indices at which loss and accuracy were recorded: 0, record_every,
            2·record_every, …, and always the last step. Step s means "after s updates".
        losses: (R,) training loss (data loss + L2 penalty) at those steps.
        accuracies: (R,) training accuracy in [0, 1] at those steps.
        snapshots: {step: params} at a few evenly spaced steps (first and last included), for a
            decision-boundary-through-time view (:func:`plot_snapshots`).
        hidden, lr, reg, seed, num_steps: the settings of the run (num_steps as requested).
        diverged_at: the step whose loss was not finite (training stopped there), else None.
        seconds: wall-clock training time.
        net: the network function used (None for the reference), so plots use the same one.
    """

    params: Params
    steps: np.ndarray
    losses: np.ndarray
    accuracies: np.ndarray
    snapshots: dict[int, Params]
    hidden: int
    lr: float
    reg: float
    seed: int
    num_steps: int
    diverged_at: int | None = None
    seconds: float = 0.0
    net: Net | None = field(default=None, repr=False)

    @property
    def final_loss(self) -> float:
        """Loss at the last recorded step (after ``num_steps`` updates unless training diverged)."""
        return float(self.losses[-1]) if len(self.losses) else float("nan")

    @property
    def final_accuracy(self) -> float:
        """Training accuracy of :attr:`params`."""
        return float(self.accuracies[-1]) if len(self.accuracies) else float("nan")


def _as_data(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X as (N, D) float64 and y as (N,) int64, with messages a student can act on."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X has shape {X.shape}; expected (N, D), one row per example")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y has shape {y.shape}; expected ({X.shape[0]},), one label per row of X")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(y == np.round(y)):
            raise ValueError("y must hold integer class labels 0, 1, …, C−1")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError("y must hold class labels 0, 1, …, C−1; found a negative label")
    return X, y


def _predict(params: Params, X: np.ndarray, net: Net | None) -> np.ndarray:
    """Predicted class (N,) = argmax of the scores (N, C)."""
    scores = (two_layer_net if net is None else net)(params, X)
    return np.argmax(np.asarray(scores), axis=1)


def accuracy(params: Params, X: np.ndarray, y: np.ndarray, net: Net | None = None) -> float:
    """Fraction of rows of X (N, D) whose predicted class equals y (N,)."""
    X, y = _as_data(X, y)
    with np.errstate(over="ignore", invalid="ignore"):  # params of a diverged run are inf/nan
        return float(np.mean(_predict(params, X, net) == y))


def train_two_layer(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: int = 50,
    lr: float = 1.0,
    steps: int = 1000,
    reg: float = 1e-3,
    seed: int = 0,
    record_every: int = 10,
    num_snapshots: int = 4,
    net: Net | None = None,
) -> TrainingRun:
    """Full-batch gradient descent on a two-layer net:  θ ← θ − lr · ∇θ L(θ; X, y).

    Args:
        X: (N, D) inputs; y: (N,) integer labels 0…C−1 (C = max(y) + 1).
        hidden: H, the number of hidden units.
        lr: learning rate of :func:`dlcourse.ref.sgd`.
        steps: number of updates.
        reg: L2 strength passed to the network (loss += ½·reg·(‖W1‖² + ‖W2‖²)).
        seed: seeds :func:`dlcourse.ref.init_two_layer`; the run is a deterministic function of it.
        record_every: record loss and training accuracy every this many steps (and at the end).
        num_snapshots: how many parameter snapshots to keep, evenly spaced over [0, steps].
        net: a ``two_layer_net``-compatible function; the reference when None.

    Returns:
        A :class:`TrainingRun`. If the loss stops being finite (learning rate too large),
        training stops there and ``diverged_at`` says when: the dashboard shows it rather than
        a wall of overflow warnings.
    """
    X, y = _as_data(X, y)
    if hidden < 1 or steps < 0 or record_every < 1 or num_snapshots < 0:
        raise ValueError("need hidden ≥ 1, steps ≥ 0, record_every ≥ 1 and num_snapshots ≥ 0")
    f = two_layer_net if net is None else net
    params = init_two_layer(X.shape[1], int(hidden), int(y.max()) + 1, rng=seed)
    cfg = {"lr": float(lr)}
    snapshot_steps = set(np.linspace(0, steps, num_snapshots).round().astype(int).tolist())

    recorded: list[int] = []
    losses: list[float] = []
    accuracies: list[float] = []
    snapshots: dict[int, Params] = {}
    diverged_at: int | None = None
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected below, not warned
        # steps + 1 evaluations: the last one only measures the final parameters (no update).
        for step in range(steps + 1):
            loss, grads = f(params, X, y, reg=reg)
            loss = float(loss)
            if not np.isfinite(loss):
                diverged_at = step
                break
            if step in snapshot_steps:
                snapshots[step] = {k: np.array(v, copy=True) for k, v in params.items()}
            if step % record_every == 0 or step == steps:
                recorded.append(step)
                losses.append(loss)
                # The only extra work per record: one forward pass, no backward.
                accuracies.append(float(np.mean(_predict(params, X, net) == y)))
            if step == steps:
                break
            # sgd returns new arrays, so the snapshot copies above are never aliased.
            params = {k: sgd(params[k], grads[k], None, cfg)[0] for k in params}
    seconds = time.perf_counter() - start

    return TrainingRun(
        params=params,
        steps=np.asarray(recorded, dtype=np.int64),
        losses=np.asarray(losses, dtype=np.float64),
        accuracies=np.asarray(accuracies, dtype=np.float64),
        snapshots=snapshots,
        hidden=int(hidden),
        lr=float(lr),
        reg=float(reg),
        seed=int(seed),
        num_steps=int(steps),
        diverged_at=diverged_at,
        seconds=seconds,
        net=net,
    )


def decision_grid(
    params: Params,
    X: np.ndarray,
    *,
    resolution: int = 200,
    margin: float = 0.25,
    net: Net | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted class on a regular grid over X's bounding box.

    Args:
        params: two-layer parameters with D = 2 inputs.
        X: (N, 2) points whose bounding box, widened by ``margin`` (in data units) on every
            side, the grid covers.
        resolution: R, grid points per axis.

    Returns:
        xx, yy: (R, R) grid coordinates (``np.meshgrid``, so xx varies along axis 1).
        labels: (R, R) int64 predicted class at each grid point.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X has shape {X.shape}; a decision grid needs 2-D points, shape (N, 2)")
    lo = X.min(axis=0) - margin
    hi = X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])  # (R², 2)
    with np.errstate(over="ignore", invalid="ignore"):
        labels = _predict(params, grid, net).reshape(xx.shape).astype(np.int64)
    return xx, yy, labels


# --------------------------------------------------------------------------------------------
# plotting (object-oriented matplotlib; pyplot only to create a figure when none is given)
# --------------------------------------------------------------------------------------------


def _new_figure(**kw: Any) -> Figure:
    # pyplot (not Figure()) so that a kernel's inline backend registers how to display figures;
    # callers that only show a figure once close it right after.
    import matplotlib.pyplot as plt

    return plt.figure(**kw)


def _class_cmap(num_classes: int) -> Any:
    """A qualitative colormap with one colour per class, shared by regions and points."""
    import matplotlib
    from matplotlib.colors import ListedColormap

    base = matplotlib.colormaps["tab10" if num_classes <= 10 else "tab20"]
    return ListedColormap([base(i % base.N) for i in range(num_classes)])


def plot_decision_boundary(
    ax: Axes | None,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    net: Net | None = None,
    resolution: int = 200,
) -> Axes:
    """Filled predicted-class regions and the data coloured by class, on ``ax``.

    Args:
        ax: axes to draw on; a new figure is created when None.
        params: two-layer parameters with D = 2; X: (N, 2); y: (N,) labels.

    Returns:
        ``ax``, titled with the training accuracy, axes labelled x₁ and x₂.
    """
    X, y = _as_data(X, y)
    if ax is None:
        ax = _new_figure().add_subplot()
    xx, yy, labels = decision_grid(params, X, resolution=resolution, net=net)
    num_classes = int(max(y.max(), labels.max())) + 1
    cmap = _class_cmap(num_classes)
    # Levels halfway between class indices give one filled band per class.
    bounds = np.arange(num_classes + 1) - 0.5
    ax.contourf(xx, yy, labels, levels=bounds, cmap=cmap, alpha=0.3)
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=bounds[0], vmax=bounds[-1], s=14, edgecolors="k", linewidths=0.4
    )
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_aspect("equal", adjustable="box")
    ax.set_title(f"decision regions — train accuracy {accuracy(params, X, y, net):.1%}")
    return ax


def plot_loss_curve(ax: Axes | None, run: TrainingRun) -> tuple[Axes, Axes]:
    """Training loss against step on ``ax`` and training accuracy on a twin y-axis.

    The loss axis is logarithmic when the loss spans more than a factor of 10, where a linear
    axis would flatten everything after the first drop.

    Returns:
        (loss axes, accuracy axes).
    """
    if ax is None:
        ax = _new_figure().add_subplot()
    (loss_line,) = ax.plot(run.steps, run.losses, color="C0", label="training loss")
    finite = run.losses[np.isfinite(run.losses)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 10:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss", color="C0")
    ax.set_xlim(0, max(run.num_steps, 1))

    ax_acc = ax.twinx()
    (acc_line,) = ax_acc.plot(run.steps, run.accuracies, color="C1", label="train accuracy")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_ylabel("train accuracy", color="C1")
    ax.legend(handles=[loss_line, acc_line], loc="center right")
    if run.diverged_at is not None:
        ax.axvline(run.diverged_at, color="C3", linestyle="--")
        ax.set_title(f"diverged at step {run.diverged_at}: lower the learning rate", color="C3")
    else:
        ax.set_title("loss and accuracy during training")
    return ax, ax_acc


def _settings(run: TrainingRun) -> str:
    return f"hidden {run.hidden}, learning rate {run.lr:.3g}, {run.num_steps} steps, reg {run.reg:.2g}"


def plot_dashboard(run: TrainingRun, X: np.ndarray, y: np.ndarray, fig: Figure | None = None) -> Figure:
    """1×2 figure: decision regions of ``run.params`` (left) and the training curves (right).

    Args:
        run: from :func:`train_two_layer` on (X, y).
        X: (N, 2) inputs; y: (N,) labels.
        fig: figure to draw into (cleared first); a new 11×4.4 in figure when None.

    Returns:
        The figure, its suptitle giving hidden size, learning rate, steps and the final loss.
    """
    if fig is None:
        fig = _new_figure(figsize=(11, 4.4), layout="constrained")
    else:
        fig.clear()
    ax_boundary, ax_loss = fig.subplots(1, 2)
    plot_decision_boundary(ax_boundary, run.params, X, y, net=run.net)
    plot_loss_curve(ax_loss, run)
    if run.diverged_at is None:
        outcome = f"final loss {run.final_loss:.3f}"
    else:
        outcome = f"diverged at step {run.diverged_at}"
    fig.suptitle(f"Two-layer net: {_settings(run)} — {outcome}")
    return fig


def plot_snapshots(run: TrainingRun, X: np.ndarray, y: np.ndarray, fig: Figure | None = None) -> Figure:
    """One decision-region panel per snapshot of ``run``: how the boundary forms over training."""
    if fig is None:
        fig = _new_figure(figsize=(3.2 * max(len(run.snapshots), 1), 3.4), layout="constrained")
    else:
        fig.clear()
    axes = np.atleast_1d(fig.subplots(1, max(len(run.snapshots), 1)))
    for ax, (step, params) in zip(axes, sorted(run.snapshots.items())):
        plot_decision_boundary(ax, params, X, y, net=run.net, resolution=120)
        ax.set_title(f"step {step}: accuracy {accuracy(params, X, y, run.net):.0%}")
    fig.suptitle(f"Decision regions during training ({_settings(run)})")
    return fig


def show_training(X: np.ndarray, y: np.ndarray, **kw: Any) -> Figure:
    """Train with :func:`train_two_layer` (``**kw`` go to it) and return the dashboard figure.

    The figure is closed in pyplot before it is returned, so a notebook shows it exactly once:
    leave it as the cell's last expression, or pass it to ``display``.
    """
    import matplotlib.pyplot as plt

    run = train_two_layer(X, y, **kw)
    fig = plot_dashboard(run, X, y)
    plt.close(fig)
    return fig


# --------------------------------------------------------------------------------------------
# the widget
# --------------------------------------------------------------------------------------------


def training_dashboard(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: int = 50,
    lr: float = 1.0,
    steps: int = 1000,
    reg: float = 1e-3,
    seed: int = 0,
    net: Net | None = None,
    on_train: Callable[[TrainingRun], None] | None = None,
) -> ipywidgets.VBox:
    """Sliders for hidden size, learning rate, steps and L2 strength, a Train button and the figure.

    Trains once with the given settings before returning, so the figure is already there when
    the cell's output appears (also in a notebook executed headless). Moving a slider does not
    retrain: a run takes up to a few seconds, so training waits for the button.

    Args:
        X: (N, 2) inputs; y: (N,) labels.
        hidden, lr, steps, reg, seed, net: initial settings, as for :func:`train_two_layer`.
            A ``reg`` below the slider's minimum 1e-6 (e.g. 0) starts at 1e-6, where the penalty
            is negligible; ranges widen to include values outside the defaults.
        on_train: called with every new :class:`TrainingRun` (the initial one included).

    Returns:
        An ``ipywidgets.VBox``; the controls are found by their ``description``:
        "hidden units", "learning rate", "steps", "reg (L2)" and the "Train" button.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    X, y = _as_data(X, y)
    # A fixed description width (a style key both 7.7 and 8.x know) keeps "learning rate" from
    # being cut off and lines the sliders up in columns.
    style = {"description_width": "95px"}
    width = widgets.Layout(width="330px")
    if lr <= 0:
        raise ValueError(f"lr = {lr}: the learning-rate slider is logarithmic, so lr must be > 0")
    # Log-slider ranges are exponents of 10, widened to include the initial values.
    lr_lo, lr_hi = min(-3.0, float(np.floor(np.log10(lr)))), max(1.0, float(np.ceil(np.log10(lr))))
    reg_lo = -6.0
    reg_hi = max(0.0, float(np.ceil(np.log10(max(reg, 10**reg_lo)))))
    w_hidden = widgets.IntSlider(
        value=hidden, min=min(2, hidden), max=max(200, hidden), step=1, description="hidden units",
        continuous_update=False, style=style, layout=width,
    )
    w_lr = widgets.FloatLogSlider(
        value=lr, base=10, min=lr_lo, max=lr_hi, step=0.1, description="learning rate",
        readout_format=".3g", continuous_update=False, style=style, layout=width,
    )
    w_steps = widgets.IntSlider(
        value=steps, min=min(100, steps), max=max(5000, steps), step=100, description="steps",
        continuous_update=False, style=style, layout=width,
    )
    w_reg = widgets.FloatLogSlider(
        value=max(reg, 10**reg_lo), base=10, min=reg_lo, max=reg_hi, step=0.5, description="reg (L2)",
        readout_format=".1e", continuous_update=False, style=style, layout=width,
    )
    button = widgets.Button(
        description="Train", button_style="primary", icon="play", tooltip="train a new network with these settings"
    )
    status = widgets.HTML()
    # min_height keeps the page from jumping while clear_output(wait=True) swaps the image.
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def train() -> None:
        button.disabled = True  # a second click while training would queue a second run
        status.value = "training…"
        try:
            run = train_two_layer(
                X, y, hidden=int(w_hidden.value), lr=float(w_lr.value), steps=int(w_steps.value),
                reg=float(w_reg.value), seed=seed, net=net,
            )
            fig = plot_dashboard(run, X, y)
            try:
                show_figure(out, fig)
            finally:
                plt.close(fig)  # every retrain makes a new figure; closing keeps memory flat
            if run.diverged_at is None:
                status.value = (
                    f"trained in {run.seconds:.2f} s: final loss {run.final_loss:.3f}, "
                    f"train accuracy {run.final_accuracy:.1%}"
                )
            else:
                status.value = f"<b>diverged</b> at step {run.diverged_at}: try a smaller learning rate"
            if on_train is not None:
                on_train(run)
        except BaseException:
            status.value = "<b>training failed</b>: see the traceback below"
            raise
        finally:
            button.disabled = False

    def on_click(_: Any) -> None:
        # Inside a kernel, `with out:` shows a failure's traceback in the widget; otherwise the
        # exception would only reach the kernel log, out of the student's sight.
        with out:
            train()

    def on_change(_: Any) -> None:
        status.value = "settings changed: press <b>Train</b>"

    button.on_click(on_click)
    for w in (w_hidden, w_lr, w_steps, w_reg):
        w.observe(on_change, names="value")

    train()  # the initial figure: a headless execution records it, errors surface in the cell
    wrap = widgets.Layout(flex_flow="row wrap")
    return widgets.VBox(
        [
            widgets.HBox([w_hidden, w_lr], layout=wrap),
            widgets.HBox([w_steps, w_reg], layout=wrap),
            widgets.HBox([button, status]),
            out,
        ]
    )
