"""Lecture 08-convolution: what a kernel does to an image, how the window slides, and the matrix.

Three layers, as every widget in the course:

- compute (NumPy only): :data:`PRESETS`, :func:`sample_image`, :func:`filter_image`,
  :func:`window_at` (where the window of one output cell sits, with stride and padding);
- plotting (matplotlib's object-oriented API): :func:`plot_filtered`, :func:`plot_window`,
  :func:`plot_conv_matrix`;
- widgets (ipywidgets): :func:`kernel_explorer` (presets and editable 3×3 weights),
  :func:`sliding_window_stepper` (stride, padding, step through the output cells),
  :func:`conv_matrix_viewer` (the convolution as a matrix, for any small input, kernel, stride
  and padding).

Every widget draws its first figure before it returns, so a notebook executed headless records
it. matplotlib and ipywidgets are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.conv import conv_matrix, conv_output_size, correlate2d

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

__all__ = [
    "PRESETS",
    "sample_image",
    "filter_image",
    "Window",
    "window_at",
    "plot_filtered",
    "plot_window",
    "plot_conv_matrix",
    "kernel_explorer",
    "sliding_window_stepper",
    "conv_matrix_viewer",
]

# 3×3 kernels as a conv layer applies them (cross-correlation: no flipping).
PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "edge (Laplacian)": np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=float),
    "vertical edges (Sobel x)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "horizontal edges (Sobel y)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "box blur": np.full((3, 3), 1 / 9),
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
}


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def sample_image(size: int = 64) -> np.ndarray:
    """A (size, size) grey image in [0, 1] with edges in every direction: a square, a disc, a ramp."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    img = 0.25 * x  # a gentle horizontal ramp: blurs keep it, edge filters remove it
    img = np.where((np.abs(x - 0.3) < 0.15) & (np.abs(y - 0.3) < 0.15), 1.0, img)
    img = np.where((x - 0.68) ** 2 + (y - 0.62) ** 2 < 0.2**2, 0.8, img)
    img = np.where((y > 0.85) & (np.floor(x * 12) % 2 == 0), 0.6, img)  # stripes
    return img


def filter_image(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlate a (H, W) image with a (k, k) kernel (odd k), zero-padded to keep (H, W)."""
    kernel = np.asarray(kernel, dtype=float)
    ph, pw = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = np.pad(np.asarray(image, dtype=float), ((ph, ph), (pw, pw)))
    return correlate2d(padded, kernel)


@dataclass(frozen=True)
class Window:
    """Where output cell (i, j) reads from, for an input of (H, W) padded by ``pad``.

    Attributes:
        out_shape: (OH, OW).
        top, left: the window's first row and column in *padded* coordinates (i·stride, j·stride).
        rows, cols: the input rows/columns it covers (unpadded coordinates, possibly < 0 or ≥ H/W
            where the window lies on the padding).
    """

    i: int
    j: int
    out_shape: tuple[int, int]
    top: int
    left: int
    rows: range
    cols: range


def window_at(h: int, w: int, k: int, stride: int, pad: int, step: int) -> Window:
    """The window of the ``step``-th output cell (row-major, wrapping around) of a k×k convolution."""
    oh, ow = conv_output_size(h, k, stride, pad), conv_output_size(w, k, stride, pad)
    i, j = divmod(step % (oh * ow), ow)
    top, left = i * stride, j * stride
    return Window(i, j, (oh, ow), top, left, range(top - pad, top - pad + k), range(left - pad, left - pad + k))


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _figure(**kw: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kw)


def plot_filtered(image: np.ndarray, kernel: np.ndarray, fig: Figure | None = None) -> Figure:
    """Three panels: the image, the kernel with its weights, and the filtered image."""
    fig = fig or _figure(figsize=(10, 3.4))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.6, 1]})
    out = filter_image(image, kernel)
    axes[0].imshow(image, cmap="gray", vmin=0, vmax=1)
    axes[0].set(title="input image", xlabel="column", ylabel="row")
    lim = max(float(np.abs(kernel).max()), 1e-12)
    axes[1].imshow(kernel, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for (r, c), v in np.ndenumerate(kernel):
        axes[1].text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=10)
    axes[1].set(title="kernel w", xticks=range(kernel.shape[1]), yticks=range(kernel.shape[0]), xlabel="q", ylabel="p")
    m = axes[2].imshow(out, cmap="gray")
    fig.colorbar(m, ax=axes[2], fraction=0.046)
    axes[2].set(title=f"output (range {out.min():.2f} … {out.max():.2f})", xlabel="column", ylabel="row")
    fig.tight_layout()
    return fig


def plot_window(x: np.ndarray, kernel: np.ndarray, stride: int, pad: int, step: int, fig: Figure | None = None) -> Figure:
    """The padded input with the current window (receptive field) and the output being filled in.

    Args:
        x: (H, W) input values; kernel: (k, k); step: which output cell (row-major).
    """
    from matplotlib.patches import Rectangle

    k = kernel.shape[0]
    h, w = x.shape
    win = window_at(h, w, k, stride, pad, step)
    oh, ow = win.out_shape
    xp = np.pad(x, pad)
    out = correlate2d(xp, kernel)[::stride, ::stride][:oh, :ow]
    fig = fig or _figure(figsize=(10, 4))
    ax_in, ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [xp.shape[1], max(ow, 3)]})
    shade = np.where(np.pad(np.ones_like(x), pad) > 0, 0.0, 1.0)  # 1 on the padding
    ax_in.imshow(shade, cmap="Greys", vmin=0, vmax=4)
    for (r, c), v in np.ndenumerate(xp):
        inside = win.top <= r < win.top + k and win.left <= c < win.left + k
        label = f"{v:g}" + (f"\n×{kernel[r - win.top, c - win.left]:g}" if inside else "")
        ax_in.text(c, r, label, ha="center", va="center", fontsize=8, color="C3" if inside else "k")
    ax_in.add_patch(Rectangle((win.left - 0.5, win.top - 0.5), k, k, fill=False, lw=2.5, ec="C3"))
    ax_in.set(title=f"padded input ({h}×{w} + pad {pad}), stride {stride}", xlabel="column (padded)", ylabel="row (padded)",
              xlim=(-0.5, xp.shape[1] - 0.5), ylim=(xp.shape[0] - 0.5, -0.5))
    shown = np.full((oh, ow), np.nan)
    flat = shown.reshape(-1)
    flat[: win.i * ow + win.j + 1] = out.reshape(-1)[: win.i * ow + win.j + 1]
    ax_out.imshow(np.isnan(shown), cmap="Greys", vmin=0, vmax=4)
    for (r, c), v in np.ndenumerate(shown):
        if not np.isnan(v):
            ax_out.text(c, r, f"{v:g}", ha="center", va="center", fontsize=9, color="C3" if (r, c) == (win.i, win.j) else "k")
    ax_out.add_patch(Rectangle((win.j - 0.5, win.i - 0.5), 1, 1, fill=False, lw=2.5, ec="C3"))
    ax_out.set(title=f"output {oh}×{ow}: cell ({win.i}, {win.j})", xlabel="j", ylabel="i",
               xticks=range(ow), yticks=range(oh),
               xlim=(-0.5, ow - 0.5), ylim=(oh - 0.5, -0.5))
    rows = f"{win.rows.start}…{win.rows.stop - 1}"
    cols = f"{win.cols.start}…{win.cols.stop - 1}"
    fig.suptitle(f"out[{win.i}, {win.j}] = Σ window ⊙ kernel = {out[win.i, win.j]:g};  receptive field: "
                 f"input rows {rows}, columns {cols} (negative or ≥ size = padding)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_conv_matrix(kernel: np.ndarray, input_shape: tuple[int, int], stride: int = 1, pad: int = 0,
                     fig: Figure | None = None) -> Figure:
    """The (OH·OW, H·W) matrix of a single-channel convolution, each entry labelled with its weight."""
    m = conv_matrix(kernel, input_shape, stride, pad)
    names = {float(v): f"w{p}{q}" for (p, q), v in np.ndenumerate(kernel)}
    fig = fig or _figure(figsize=(min(max(6.0, 1.0 + 0.45 * m.shape[1]), 14), min(2.0 + 0.45 * m.shape[0], 9)))
    ax = fig.subplots()
    lim = max(float(np.abs(m).max()), 1e-12)
    ax.imshow(np.where(m == 0, np.nan, m), cmap="RdBu_r", vmin=-lim, vmax=lim)
    if m.size <= 600:
        for (r, c), v in np.ndenumerate(m):
            if v != 0:
                ax.text(c, r, names.get(float(v), f"{v:g}"), ha="center", va="center", fontsize=7,
                        color="w" if abs(v) > 0.6 * lim else "k")
    for boundary in np.arange(input_shape[1], m.shape[1], input_shape[1]) - 0.5:
        ax.axvline(boundary, color="0.6", lw=0.8)
    ax.set_xticks(range(0, m.shape[1], max(1, m.shape[1] // 12)))
    ax.set_yticks(range(0, m.shape[0], max(1, m.shape[0] // 12)))
    ax.set(title=f"{m.shape[0]}×{m.shape[1]} convolution matrix\ninput {input_shape[0]}×{input_shape[1]}, "
                 f"kernel {kernel.shape[0]}×{kernel.shape[1]}, stride {stride}, pad {pad}",
           xlabel="input pixel (row-major; lines separate image rows)", ylabel="output pixel")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)  # a matplotlib.figure.Figure outside pyplot: nothing to close


def kernel_explorer(image: np.ndarray | None = None, preset: str = "edge (Laplacian)") -> ipywidgets.VBox:
    """A preset menu and nine editable weights; the filtered image updates on every change.

    Returns a VBox; the controls are a Dropdown "preset" and FloatTexts "w00" … "w22".
    """
    import ipywidgets as widgets

    image = sample_image() if image is None else np.asarray(image, dtype=float)
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    menu = widgets.Dropdown(options=list(PRESETS), value=preset, description="preset")
    boxes = [widgets.FloatText(value=float(PRESETS[preset][p, q]), step=0.1, description=f"w{p}{q}",
                               style={"description_width": "30px"}, layout=widgets.Layout(width="120px"))
             for p in range(3) for q in range(3)]
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))
    busy = [False]

    def kernel() -> np.ndarray:
        return np.array([b.value for b in boxes], dtype=float).reshape(3, 3)

    def redraw(_: Any = None) -> None:
        if not busy[0]:
            _render(out, plot_filtered(image, kernel()))

    def on_preset(_: Any) -> None:
        busy[0] = True  # setting nine boxes would redraw nine times
        try:
            for b, v in zip(boxes, PRESETS[menu.value].ravel()):
                b.value = float(v)
        finally:
            busy[0] = False
        redraw()

    menu.observe(on_preset, names="value")
    for b in boxes:
        b.observe(redraw, names="value")
    redraw()
    grid = widgets.VBox([widgets.HBox(boxes[3 * r : 3 * r + 3]) for r in range(3)])
    return widgets.VBox([widgets.HBox([menu, grid]), out])


def sliding_window_stepper(x: np.ndarray | None = None, kernel: np.ndarray | None = None, stride: int = 1,
                           pad: int = 0) -> ipywidgets.VBox:
    """Sliders for stride, padding and the output cell; the window and the output fill in step by step.

    Defaults to the lecture's 5×5 binary image and 3×3 kernel (first output 4).
    """
    import ipywidgets as widgets

    if x is None:
        x = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], dtype=float)
    if kernel is None:
        kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float)
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    style = {"description_width": "70px"}
    w_stride = widgets.IntSlider(value=stride, min=1, max=3, description="stride", style=style, continuous_update=False)
    w_pad = widgets.IntSlider(value=pad, min=0, max=2, description="padding", style=style, continuous_update=False)
    w_step = widgets.IntSlider(value=0, min=0, max=0, description="output cell", style=style, continuous_update=False)
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def geometry_changed(_: Any = None) -> None:
        oh = conv_output_size(x.shape[0], kernel.shape[0], w_stride.value, w_pad.value)
        ow = conv_output_size(x.shape[1], kernel.shape[1], w_stride.value, w_pad.value)
        w_step.max = oh * ow - 1
        if w_step.value > w_step.max:
            w_step.value = w_step.max  # triggers redraw
        else:
            redraw()

    def redraw(_: Any = None) -> None:
        _render(out, plot_window(x, kernel, w_stride.value, w_pad.value, w_step.value))

    w_stride.observe(geometry_changed, names="value")
    w_pad.observe(geometry_changed, names="value")
    w_step.observe(redraw, names="value")
    geometry_changed()
    return widgets.VBox([widgets.HBox([w_stride, w_pad, w_step]), out])


def conv_matrix_viewer(size: int = 3, k: int = 2, stride: int = 1, pad: int = 0) -> ipywidgets.VBox:
    """Sliders for the input size, kernel size, stride and padding; shows the convolution matrix.

    The kernel's weights are 1, 2, …, k² (labelled w_pq), so each one can be followed along the
    diagonals. The defaults give the lecture's 4×9 matrix.
    """
    import ipywidgets as widgets

    style = {"description_width": "70px"}
    w_size = widgets.IntSlider(value=size, min=2, max=6, description="input H=W", style=style, continuous_update=False)
    w_k = widgets.IntSlider(value=k, min=1, max=4, description="kernel", style=style, continuous_update=False)
    w_stride = widgets.IntSlider(value=stride, min=1, max=3, description="stride", style=style, continuous_update=False)
    w_pad = widgets.IntSlider(value=pad, min=0, max=2, description="padding", style=style, continuous_update=False)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="260px"))

    def redraw(_: Any = None) -> None:
        kk = w_k.value
        if kk > w_size.value + 2 * w_pad.value:
            status.value = "the kernel is larger than the padded input: no output"
            return
        kernel = np.arange(1.0, kk * kk + 1).reshape(kk, kk)
        fig = plot_conv_matrix(kernel, (w_size.value, w_size.value), w_stride.value, w_pad.value)
        m = conv_matrix(kernel, (w_size.value, w_size.value), w_stride.value, w_pad.value)
        status.value = f"{m.shape[0]}×{m.shape[1]} matrix, {np.count_nonzero(m)} non-zero of {m.size} ({np.count_nonzero(m) / m.size:.0%})"
        _render(out, fig)

    for w in (w_size, w_k, w_stride, w_pad):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_size, w_k]), widgets.HBox([w_stride, w_pad]), status, out])
