"""Lecture 12-generative: a VAE's 2-D latent space (traversal, grid, interpolation), a GAN's training
snapshots (mode collapse against the learning-rate ratio), and latent size against reconstruction error.

Three layers, as every widget in the course:

- compute (NumPy only): :func:`latent_grid_points` (an n × n grid of latent points),
  :func:`interpolate` (points on the segment between two codes), :func:`class_means` (the mean code of
  each digit), :func:`decode_images` (a decoder's output as 8×8 images);
- plotting (matplotlib's object-oriented API): :func:`plot_latent_space`, :func:`plot_interpolation`,
  :func:`plot_gan_snapshot`, :func:`plot_latent_sizes`;
- widgets (ipywidgets): :func:`latent_space_viewer`, :func:`interpolation_viewer`,
  :func:`gan_snapshot_viewer`, :func:`latent_size_viewer`.

The models live in :mod:`dlcourse.gpu.generative`; widgets never import torch. They take a
``decode`` function from (M, 2) NumPy codes to (M, P) images in [0, 1] (the notebook wraps its VAE
in one) or precomputed results (a GAN run is anything with the fields of
``dlcourse.gpu.generative.GANRun``: ``steps``, ``samples``, ``coverage``, ``lr_d``, ``lr_g``), so
that every control redraws at once. Every widget draws its first figure before it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.generative import mode_coverage

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

__all__ = [
    "latent_grid_points",
    "interpolate",
    "class_means",
    "decode_images",
    "plot_latent_space",
    "plot_interpolation",
    "plot_gan_snapshot",
    "plot_latent_sizes",
    "latent_space_viewer",
    "interpolation_viewer",
    "gan_snapshot_viewer",
    "latent_size_viewer",
]

Decode = Callable[[np.ndarray], np.ndarray]  # (M, 2) codes -> (M, P) images in [0, 1]


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def latent_grid_points(n: int, lo: float = -2.5, hi: float = 2.5) -> np.ndarray:
    """(n·n, 2) points of an n × n grid over [lo, hi]², row by row from the top (z₂ = hi) down.

    The order is that of an image: row r, column c is point r·n + c, with z₁ growing to the right
    and z₂ growing upwards.
    """
    if n < 1:
        raise ValueError(f"latent_grid_points: n={n}; expected at least 1")
    ticks = np.linspace(lo, hi, n)
    z1, z2 = np.meshgrid(ticks, ticks[::-1], indexing="xy")
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points from z0 to z1 (both included) on the straight segment: (steps, D)."""
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"interpolate: z0 {z0.shape} and z1 {z1.shape}; expected two codes (D,) of one size")
    if steps < 2:
        raise ValueError(f"interpolate: steps={steps}; expected at least 2 (the two ends)")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * z0 + t * z1


def class_means(codes: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """{label: mean code of the examples with that label}, for every label present."""
    codes, labels = np.asarray(codes, dtype=np.float64), np.asarray(labels)
    if codes.ndim != 2 or labels.shape != (len(codes),):
        raise ValueError(f"class_means: codes {codes.shape} and labels {labels.shape}; expected (N, D) and (N,)")
    return {int(c): codes[labels == c].mean(axis=0) for c in np.unique(labels)}


def decode_images(decode: Decode, z: np.ndarray, side: int = 8) -> np.ndarray:
    """decode(z) reshaped to images: (M, side, side), values clipped to [0, 1]."""
    x = np.asarray(decode(np.asarray(z, dtype=np.float64)), dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(z) or x.shape[1] != side * side:
        raise ValueError(f"decode returned shape {x.shape}; expected (M, {side * side}) for M = {len(z)} codes")
    return np.clip(x, 0.0, 1.0).reshape(len(z), side, side)


def _tile(images: np.ndarray, rows: int, cols: int, gap: int = 1) -> np.ndarray:
    """(rows·cols, h, w) images as one mosaic, separated by ``gap`` pixels of NaN (drawn blank)."""
    h, w = images.shape[1:]
    mosaic = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for i, img in enumerate(images[: rows * cols]):
        r, c = divmod(i, cols)
        mosaic[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = img
    return mosaic


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _figure(**kw: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kw)


def plot_latent_space(decode: Decode, codes: np.ndarray | None = None, labels: np.ndarray | None = None,
                      point: Sequence[float] | None = None, n: int = 12, lo: float = -2.5, hi: float = 2.5,
                      fig: Figure | None = None) -> Figure:
    """Left: the codes of real digits (coloured by label) and ``point``; middle: the digit decoded at
    ``point``; right: the n × n grid of digits decoded over [lo, hi]²."""
    fig = fig or _figure(figsize=(13, 4.2))
    ax_map, ax_one, ax_grid = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.15, 0.6, 1]})
    if codes is not None:
        codes = np.asarray(codes)
        sc = ax_map.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
        if labels is not None:
            fig.colorbar(sc, ax=ax_map, fraction=0.046, ticks=range(10), label="digit")
    ax_map.add_patch(_rectangle(lo, hi))
    point = np.zeros(2) if point is None else np.asarray(point, dtype=np.float64)
    ax_map.plot(*point, "k*", ms=14, mec="w")
    ax_map.set(title="codes of real digits (μ)", xlabel="z₁", ylabel="z₂")
    ax_one.imshow(decode_images(decode, point[None])[0], cmap="gray_r", vmin=0, vmax=1)
    ax_one.set(title=f"decoded at ({point[0]:.2f}, {point[1]:.2f})", xticks=[], yticks=[])
    grid = decode_images(decode, latent_grid_points(n, lo, hi))
    ax_grid.imshow(_tile(grid, n, n), cmap="gray_r", vmin=0, vmax=1, extent=(lo, hi, lo, hi))
    ax_grid.set(title=f"decoded grid {n}×{n}", xlabel="z₁", ylabel="z₂")
    fig.tight_layout()
    return fig


def _rectangle(lo: float, hi: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((lo, lo), hi - lo, hi - lo, fill=False, ls="--", lw=0.8, ec="grey")


def plot_interpolation(decode: Decode, z0: np.ndarray, z1: np.ndarray, steps: int = 10,
                       titles: tuple[str, str] = ("start", "end"), fig: Figure | None = None) -> Figure:
    """The digits decoded at ``steps`` evenly spaced points from z0 to z1, in one row."""
    path = interpolate(z0, z1, steps)
    images = decode_images(decode, path)
    fig = fig or _figure(figsize=(min(1.1 * steps, 14), 1.9))
    ax = fig.subplots()
    ax.imshow(_tile(images, 1, steps), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([3.5 + 9 * i for i in range(steps)])
    ax.set_xticklabels([f"{t:.2f}" for t in np.linspace(0, 1, steps)], fontsize=7)
    ax.set_yticks([])
    ax.set(xlabel="t  (z = (1 − t)·z₀ + t·z₁)", title=f"{titles[0]} → {titles[1]}")
    fig.tight_layout()
    return fig


def plot_gan_snapshot(run: Any, index: int, data: np.ndarray, centers: np.ndarray, radius: float = 0.25,
                      min_fraction: float = 0.01, others: Sequence[Any] = (), fig: Figure | None = None) -> Figure:
    """Left: the data, snapshot ``index`` of ``run``'s samples, and the modes (green: hit, red: missed);
    right: mode coverage against training step for ``run`` and ``others``."""
    samples = np.asarray(run.samples[index])
    coverage, counts = mode_coverage(samples, centers, radius, min_fraction)
    hit = counts >= min_fraction * len(samples)
    fig = fig or _figure(figsize=(11, 4.4))
    ax, ax_cov = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
    data = np.asarray(data)
    ax.scatter(data[:, 0], data[:, 1], s=2, c="0.75", label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=4, c="tab:blue", alpha=0.6, label="generated")
    for c, h in zip(np.asarray(centers), hit):
        ax.add_patch(_circle(c, radius, "tab:green" if h else "tab:red"))
    lim = 1.25 * float(np.abs(centers).max()) + radius
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="x₁", ylabel="x₂",
           title=f"step {run.steps[index]}: {int(hit.sum())}/{len(centers)} modes hit")
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    for other in [run, *[o for o in others if o is not run]]:
        ratio = other.lr_g / other.lr_d
        style = dict(lw=2.5) if other is run else dict(lw=1, alpha=0.6)
        ax_cov.plot(other.steps, other.coverage, ".-", label=f"lr_G/lr_D = {ratio:g}", **style)
    ax_cov.plot(run.steps[index], coverage, "ko", ms=8)
    ax_cov.set(xlabel="training step", ylabel="mode coverage (modes hit / modes)", ylim=(-0.05, 1.05),
               title=f"a mode is hit by ≥ {min_fraction:.0%} of samples within {radius:g}")
    ax_cov.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _circle(center: np.ndarray, radius: float, color: str) -> Any:
    from matplotlib.patches import Circle

    return Circle(tuple(center), radius, fill=False, ec=color, lw=1.5)


def plot_latent_sizes(sizes: Sequence[int], errors: Sequence[float], originals: np.ndarray,
                      reconstructions: np.ndarray | None = None, selected: int | None = None,
                      fig: Figure | None = None) -> Figure:
    """Left: reconstruction error against latent size (log scale); right: originals above their
    reconstructions with the ``selected`` size. reconstructions: (S, M, P) for the S sizes, originals (M, P)."""
    sizes, errors = list(sizes), list(errors)
    if len(sizes) != len(errors) or not sizes:
        raise ValueError(f"plot_latent_sizes: {len(sizes)} sizes and {len(errors)} errors; expected one error per size")
    originals = np.asarray(originals)
    fig = fig or _figure(figsize=(12, 3.8))
    ax, ax_img = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    ax.plot(sizes, errors, "o-")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.set(xlabel="latent size (numbers per image)", ylabel="squared error per image (held out)",
           title="a wider bottleneck keeps more detail")
    s = 0 if selected is None else sizes.index(selected)
    ax.plot(sizes[s], errors[s], "ko", ms=10, mfc="none")
    m = len(originals)
    rows = [originals.reshape(m, 8, 8)]
    if reconstructions is not None:
        rows.append(np.asarray(reconstructions)[s].reshape(m, 8, 8))
    ax_img.imshow(_tile(np.concatenate(rows), len(rows), m), cmap="gray_r", vmin=0, vmax=1)
    ax_img.set(xticks=[], yticks=[], title=f"held-out digits (top) and reconstructions with latent size {sizes[s]}")
    ax_img.set_ylabel("original / recon.")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)


def latent_space_viewer(decode: Decode, codes: np.ndarray | None = None, labels: np.ndarray | None = None,
                        lo: float = -2.5, hi: float = 2.5) -> ipywidgets.VBox:
    """Latent traversal: move a point through a 2-D latent space and see what the decoder makes of it.

    Returns a VBox; controls: FloatSliders "z₁", "z₂" (the point), IntSlider "grid" (grid size).
    """
    import ipywidgets as widgets

    style = {"description_width": "40px"}
    w_z1 = widgets.FloatSlider(value=0.0, min=lo, max=hi, step=0.05, description="z₁", style=style,
                               continuous_update=False)
    w_z2 = widgets.FloatSlider(value=0.0, min=lo, max=hi, step=0.05, description="z₂", style=style,
                               continuous_update=False)
    w_n = widgets.IntSlider(value=12, min=3, max=20, description="grid", style=style, continuous_update=False)
    out = widgets.Output(layout=widgets.Layout(min_height="330px"))

    def redraw(_: Any = None) -> None:
        _render(out, plot_latent_space(decode, codes, labels, (w_z1.value, w_z2.value), w_n.value, lo, hi))

    for c in (w_z1, w_z2, w_n):
        c.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_z1, w_z2, w_n]), out])


def interpolation_viewer(decode: Decode, codes: np.ndarray, labels: np.ndarray, steps: int = 10) -> ipywidgets.VBox:
    """Walk the straight line between the mean codes of two digits and decode the points on it.

    Returns a VBox; controls: Dropdowns "from", "to" (digits), IntSlider "steps".
    """
    import ipywidgets as widgets

    means = class_means(codes, labels)
    digits = sorted(means)
    if len(digits) < 2:
        raise ValueError("interpolation_viewer: expected codes of at least two different labels")
    style = {"description_width": "45px"}
    w_from = widgets.Dropdown(options=digits, value=digits[0], description="from", style=style)
    w_to = widgets.Dropdown(options=digits, value=digits[1], description="to", style=style)
    w_steps = widgets.IntSlider(value=steps, min=2, max=16, description="steps", style=style, continuous_update=False)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="150px"))

    def redraw(_: Any = None) -> None:
        z0, z1 = means[w_from.value], means[w_to.value]
        status.value = (f"z₀ = mean code of the {w_from.value}s ({z0[0]:.2f}, {z0[1]:.2f}), "
                        f"z₁ = mean code of the {w_to.value}s ({z1[0]:.2f}, {z1[1]:.2f})")
        _render(out, plot_interpolation(decode, z0, z1, w_steps.value, (f"digit {w_from.value}", f"digit {w_to.value}")))

    for c in (w_from, w_to, w_steps):
        c.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_from, w_to, w_steps]), status, out])


def gan_snapshot_viewer(runs: Sequence[Any], data: np.ndarray, centers: np.ndarray, radius: float = 0.25,
                        min_fraction: float = 0.01) -> ipywidgets.VBox:
    """GAN training snapshots for a few learning-rate ratios, precomputed (``train_gan`` runs).

    Returns a VBox; controls: SelectionSlider "lr ratio" (one option per run, lr_G/lr_D), IntSlider
    "snapshot".
    """
    import ipywidgets as widgets

    runs = list(runs)
    if not runs or any(len(r.samples) != len(runs[0].samples) or not r.samples for r in runs):
        raise ValueError("gan_snapshot_viewer: expected at least one run, all with the same number of snapshots")
    options = [f"{r.lr_g / r.lr_d:g}" for r in runs]  # labels; the run is the selected index
    style = {"description_width": "70px"}
    w_run = widgets.SelectionSlider(options=options, value=options[0], description="lr ratio", style=style,
                                    continuous_update=False)
    last = len(runs[0].samples) - 1
    w_snap = widgets.IntSlider(value=last, min=0, max=last, description="snapshot", style=style,
                               continuous_update=False)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="340px"))

    def redraw(_: Any = None) -> None:
        run = runs[w_run.index]
        status.value = (f"lr_D = {run.lr_d:g}, lr_G = {run.lr_g:g}; step {run.steps[w_snap.value]}: "
                        f"mode coverage {run.coverage[w_snap.value]:.2f}")
        _render(out, plot_gan_snapshot(run, w_snap.value, data, centers, radius, min_fraction, runs))

    for c in (w_run, w_snap):
        c.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_run, w_snap]), status, out])


def latent_size_viewer(sizes: Sequence[int], errors: Sequence[float], originals: np.ndarray,
                       reconstructions: np.ndarray) -> ipywidgets.VBox:
    """Reconstruction error against latent size, and the reconstructions of the size picked.

    Returns a VBox; control: SelectionSlider "latent size".
    """
    import ipywidgets as widgets

    sizes = [int(s) for s in sizes]
    w_size = widgets.SelectionSlider(options=sizes, value=sizes[0], description="latent size",
                                     style={"description_width": "80px"}, continuous_update=False)
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def redraw(_: Any = None) -> None:
        _render(out, plot_latent_sizes(sizes, errors, originals, reconstructions, w_size.value))

    w_size.observe(redraw, names="value")
    redraw()
    return widgets.VBox([w_size, out])
