"""Lecture 14-limits-uncertainty: an ensemble's spread on 1-D data, and a reliability diagram.

Three layers, as every widget in the course:

- compute (NumPy only): :func:`ensemble_bands` (an ensemble's mean with its aleatoric and
  epistemic standard deviations, from :func:`dlcourse.ref.uncertainty.ensemble_regression`),
  :func:`calibration_at` (reliability bins, ECE and NLL of softmax(logits / T));
- plotting (matplotlib's object-oriented API): :func:`plot_ensemble`, :func:`plot_reliability`;
- widgets (ipywidgets): :func:`ensemble_spread_explorer` (noise and gap sliders over data from
  :func:`dlcourse.data.regression.gap_regression`: the noise widens the aleatoric band
  everywhere, the gap widens the epistemic one inside it) and :func:`reliability_explorer`
  (a temperature slider over a reliability diagram: temperature scaling).

The ensemble widget trains through a function it is handed (the notebook passes one built on
:func:`dlcourse.gpu.uncertainty.train_ensemble`), so this module never imports torch; it keeps
every trained setting, and can train them all up front (``precompute=True``) so that the sliders
answer at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from dlcourse.data.regression import X_RANGE, gap_regression, gap_target
from dlcourse.ref.losses import log_softmax
from dlcourse.ref.uncertainty import (
    ReliabilityBins,
    ensemble_regression,
    expected_calibration_error,
    reliability_diagram,
    temperature_scale,
)

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "NOISES",
    "GAPS",
    "Bands",
    "ensemble_bands",
    "Calibration",
    "calibration_at",
    "plot_ensemble",
    "plot_reliability",
    "ensemble_spread_explorer",
    "reliability_explorer",
]

#: The slider positions of :func:`ensemble_spread_explorer` (few, so that all can be trained ahead).
NOISES = (0.05, 0.2, 0.4)
GAPS = (0.0, 1.5, 3.0)

#: fit(x (N, 1), y (N, 1), grid (G, 1)) -> (means (M, G), variances (M, G)): a trained ensemble on the grid.
Fit = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


class Bands(NamedTuple):
    """An ensemble's prediction on a grid: mean and the two standard deviations, all (G,)."""

    mean: np.ndarray
    aleatoric: np.ndarray  # √ mean_m σ²_m: the noise the members agree on
    epistemic: np.ndarray  # √ var_m μ_m: how much the members disagree

    @property
    def total(self) -> np.ndarray:
        """√(aleatoric² + epistemic²): the standard deviation of the ensemble's mixture."""
        return np.sqrt(self.aleatoric**2 + self.epistemic**2)


def ensemble_bands(means: np.ndarray, variances: np.ndarray | None = None) -> Bands:
    """The mean and aleatoric/epistemic standard deviations of members' (M, G) predictions."""
    mean, aleatoric, epistemic = ensemble_regression(means, variances)
    return Bands(mean, np.sqrt(aleatoric), np.sqrt(epistemic))


class Calibration(NamedTuple):
    """How calibrated softmax(logits / T) is: reliability bins, ECE, mean NLL, accuracy."""

    temperature: float
    bins: ReliabilityBins
    ece: float
    nll: float
    accuracy: float


def calibration_at(logits: np.ndarray, labels: np.ndarray, temperature: float, n_bins: int = 10) -> Calibration:
    """Reliability data of softmax(logits / T) for labels (N,): the ECE falls as T nears the best one."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    probs = temperature_scale(z, temperature)
    bins = reliability_diagram(probs, y, n_bins)
    ece = expected_calibration_error(probs, y, n_bins)
    nll = float(-log_softmax(z / temperature, -1)[np.arange(len(y)), y].mean())
    return Calibration(float(temperature), bins, ece, nll, float((probs.argmax(1) == y).mean()))


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_ensemble(ax: Axes | None, x: np.ndarray, y: np.ndarray, grid: np.ndarray, means: np.ndarray,
                  variances: np.ndarray | None = None, gap: float = 0.0, title: str = "") -> Axes:
    """Data, the true function, each member's mean, and ±2σ bands: total (light) and epistemic (dark).

    Args:
        x, y: (N, 1) training data; grid: (G, 1) inputs the members were evaluated on;
        means, variances: (M, G) the members' predictions; gap: width of the data gap to shade.
    """
    ax = _new_axes(ax, (7, 3.8))
    g = np.ravel(grid)
    bands = ensemble_bands(means, variances)
    if gap > 0:
        ax.axvspan(-gap / 2, gap / 2, color="0.93", label="no data (gap)")
    ax.fill_between(g, bands.mean - 2 * bands.total, bands.mean + 2 * bands.total, color="tab:orange",
                    alpha=0.25, label="±2σ total (aleatoric + epistemic)")
    ax.fill_between(g, bands.mean - 2 * bands.epistemic, bands.mean + 2 * bands.epistemic, color="tab:red",
                    alpha=0.35, label="±2σ epistemic (members disagree)")
    for m in np.asarray(means):
        ax.plot(g, m, color="tab:red", lw=0.6, alpha=0.5)
    ax.plot(g, gap_target(g), "k--", lw=1, label="true f(x)")
    ax.plot(g, bands.mean, color="tab:red", lw=2, label="ensemble mean")
    ax.scatter(np.ravel(x), np.ravel(y), s=10, color="tab:blue", zorder=3, label="training data")
    ax.set(xlabel="input x", ylabel="output y", title=title or f"deep ensemble of {len(means)} members")
    ax.legend(loc="upper left", fontsize=7)
    return ax


def plot_reliability(ax: Axes | None, cal: Calibration, fitted: float | None = None) -> Axes:
    """Accuracy per confidence bin (bars) against the diagonal of perfect calibration, gaps in red."""
    ax = _new_axes(ax, (5, 4.6))
    bins = cal.bins
    width = np.diff(bins.edges)
    left = bins.edges[:-1]
    filled = bins.counts > 0
    ax.bar(left[filled], bins.accuracy[filled], width=width[filled], align="edge", color="tab:blue",
           edgecolor="white", label="accuracy in bin")
    lo = np.minimum(bins.accuracy, bins.confidence)[filled]
    ax.bar(left[filled], np.abs(bins.accuracy - bins.confidence)[filled], bottom=lo, width=width[filled],
           align="edge", color="tab:red", alpha=0.35, label="gap to mean confidence")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    note = "" if fitted is None else f" (fitted T = {fitted:.2f})"
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (max probability)", ylabel="accuracy",
           title=f"T = {cal.temperature:.2f}{note}: ECE = {cal.ece:.3f}, NLL = {cal.nll:.3f}")
    ax.legend(loc="upper left", fontsize=8)
    return ax


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)  # a plain Figure, not registered with pyplot: nothing to close


def ensemble_spread_explorer(fit: Fit, noise: float = 0.2, gap: float = 1.5, n: int = 60,
                             noises: Sequence[float] = NOISES, gaps: Sequence[float] = GAPS,
                             precompute: bool = False, seed: int = 0) -> ipywidgets.VBox:
    """Noise and gap sliders over a deep ensemble trained on :func:`gap_regression` data.

    Controls by description: "noise σ", "gap width" (selection sliders over ``noises`` and
    ``gaps``). Each setting is trained once by ``fit`` and kept; ``precompute`` trains them all
    before the widget appears.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    if noise not in noises or gap not in gaps:
        raise ValueError(f"noise must be one of {tuple(noises)} and gap one of {tuple(gaps)}")
    grid = np.linspace(-X_RANGE - 1.0, X_RANGE + 1.0, 200)[:, None]
    trained: dict[tuple[float, float], tuple[np.ndarray, ...]] = {}

    def result(s: float, w: float) -> tuple[np.ndarray, ...]:
        if (s, w) not in trained:
            x, y = gap_regression(n, s, w, rng=seed)
            trained[(s, w)] = (x, y, *fit(x, y, grid))
        return trained[(s, w)]

    if precompute:
        for s in noises:
            for w in gaps:
                result(s, w)
    style = {"description_width": "80px"}
    w_noise = widgets.SelectionSlider(options=list(noises), value=noise, description="noise σ",
                                      continuous_update=False, style=style)
    w_gap = widgets.SelectionSlider(options=list(gaps), value=gap, description="gap width",
                                    continuous_update=False, style=style)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def update(_: Any = None) -> None:
        s, w = float(w_noise.value), float(w_gap.value)
        x, y, means, variances = result(s, w)
        bands = ensemble_bands(means, variances)
        fig = Figure(figsize=(7, 3.8), layout="constrained")
        plot_ensemble(fig.add_subplot(), x, y, grid, means, variances, gap=w,
                      title=f"σ = {s:g}, gap = {w:g}: {len(means)} members")
        inside = np.abs(grid[:, 0]) < max(w / 2, 0.25)
        outside = (np.abs(grid[:, 0]) > max(w / 2, 0.25) + 0.25) & (np.abs(grid[:, 0]) < X_RANGE)
        status.value = (f"mean σ in the middle: aleatoric {bands.aleatoric[inside].mean():.3f}, "
                        f"epistemic <b>{bands.epistemic[inside].mean():.3f}</b>; where there is data: aleatoric "
                        f"<b>{bands.aleatoric[outside].mean():.3f}</b>, epistemic {bands.epistemic[outside].mean():.3f}")
        _render(out, fig)

    w_noise.observe(update, names="value")
    w_gap.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([w_noise, w_gap]), status, out])


def reliability_explorer(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0, n_bins: int = 10,
                         fitted: float | None = None) -> ipywidgets.VBox:
    """A temperature slider over the reliability diagram of softmax(logits / T) on labelled data.

    Controls by description: "temperature T" (logarithmic, 0.1 … 10) and the button "use fitted T"
    (shown when ``fitted``, e.g. from :func:`dlcourse.ref.uncertainty.fit_temperature`, is given).
    The accuracy never changes with T (the arg max stays): only the confidences move.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    style = {"description_width": "100px"}
    w_t = widgets.FloatLogSlider(value=temperature, base=10, min=-1.0, max=1.0, step=0.02,
                                 description="temperature T", readout_format=".2f", continuous_update=False,
                                 style=style)
    use = widgets.Button(description="use fitted T", disabled=fitted is None)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="340px"))

    def update(_: Any = None) -> None:
        cal = calibration_at(logits, labels, float(w_t.value), n_bins)
        fig = Figure(figsize=(5.2, 4.6), layout="constrained")
        plot_reliability(fig.add_subplot(), cal, fitted)
        mean_conf = float(np.nansum(cal.bins.confidence * cal.bins.counts) / cal.bins.counts.sum())
        status.value = (f"accuracy {cal.accuracy:.3f}, mean confidence {mean_conf:.3f}: "
                        + ("over-confident" if mean_conf > cal.accuracy else "under-confident")
                        + f"; ECE {cal.ece:.3f}")
        _render(out, fig)

    def to_fitted(_: Any) -> None:
        if fitted is not None:
            w_t.value = float(np.clip(fitted, 0.1, 10.0))

    w_t.observe(update, names="value")
    use.on_click(to_fitted)
    update()
    return widgets.VBox([widgets.HBox([w_t, use]), status, out])
