"""Lecture 09-cnns: what a trained CNN looks at, and where it goes wrong.

Three layers, as every widget in the course:

- compute: :func:`conv_layers` and :func:`feature_maps` (the filters and the activations of every
  convolution of a model, through forward hooks: the model is handed in, torch is imported only
  when one is), :func:`confusion_cells` (which examples fall in each cell of a confusion matrix),
  :func:`misclassified` (the wrong predictions, most confident first);
- plotting (matplotlib's object-oriented API): :func:`mosaic` (many small images as one),
  :func:`plot_filters`, :func:`plot_feature_maps`,
  :func:`plot_gallery`, :func:`plot_confusion`;
- widgets (ipywidgets): :func:`feature_map_viewer` (layer, channel and image selectors),
  :func:`misclassification_gallery` (filter by true or predicted class), and
  :func:`confusion_explorer` (a grid of buttons, one per cell of the confusion matrix: click a
  cell, see its examples).

Every widget draws its first figure before it returns, so a notebook executed headless records it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.cnns import confusion_matrix

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "conv_layers",
    "feature_maps",
    "confusion_cells",
    "misclassified",
    "mosaic",
    "plot_filters",
    "plot_feature_maps",
    "plot_gallery",
    "plot_confusion",
    "feature_map_viewer",
    "misclassification_gallery",
    "confusion_explorer",
]


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def conv_layers(model: Any) -> dict[str, np.ndarray]:
    """{name: weights (C_out, C_in, k, k)} of every ``nn.Conv2d`` in ``model``, in forward order."""
    import torch

    return {name: m.weight.detach().cpu().double().numpy() for name, m in model.named_modules()
            if isinstance(m, torch.nn.Conv2d)}


def feature_maps(model: Any, image: np.ndarray) -> dict[str, np.ndarray]:
    """{name: activations (C_out, H', W')} of every ``nn.Conv2d`` of ``model`` on one image (C, H, W).

    The model runs in eval mode without gradients; a forward hook on each convolution records its
    output (before the ReLU that follows it: negative values show what a filter argues against).
    """
    import torch

    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"image should be (C, H, W), got shape {image.shape}")
    maps: dict[str, np.ndarray] = {}
    hooks = [m.register_forward_hook(lambda _m, _i, out, name=name: maps.__setitem__(name, out[0].detach().cpu()
                                                                                         .double().numpy()))
             for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    was_training = model.training
    try:
        model.eval()
        param = next(model.parameters())
        with torch.no_grad():
            model(torch.as_tensor(image[None], dtype=param.dtype, device=param.device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return maps


def confusion_cells(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[tuple[int, int], np.ndarray]:
    """{(true i, predicted j): indices of those examples} for every non-empty cell of the confusion matrix."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    confusion_matrix(y_true, y_pred, n_classes)  # validates the labels
    cells: dict[tuple[int, int], np.ndarray] = {}
    for i, j in {(int(a), int(b)) for a, b in zip(y_true, y_pred)}:
        cells[(i, j)] = np.flatnonzero((y_true == i) & (y_pred == j))
    return cells


def misclassified(y_true: np.ndarray, y_pred: np.ndarray, confidence: np.ndarray | None = None) -> np.ndarray:
    """Indices of the wrong predictions; with ``confidence`` (N,) the most confident mistakes first."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred should have the same shape, got {y_true.shape} and {y_pred.shape}")
    wrong = np.flatnonzero(y_true != y_pred)
    if confidence is not None:
        wrong = wrong[np.argsort(-np.asarray(confidence)[wrong], kind="stable")]
    return wrong


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _figure(figsize: tuple[float, float], constrained: bool = True) -> Figure:
    from matplotlib.figure import Figure

    # Grids of many small images skip the constrained layout: solving it for 30+ axes takes seconds.
    return Figure(figsize=figsize, layout="constrained" if constrained else None)


def _grid(fig: Figure, n: int, cols: int) -> list[Axes]:
    rows = max(1, -(-n // cols))
    return [fig.add_subplot(rows, cols, k + 1) for k in range(n)]


def mosaic(tiles: np.ndarray, cols: int) -> np.ndarray:
    """Tiles (n, h, w) laid out row by row, ``cols`` per row, one NaN pixel between them: (rows·(h+1)−1, cols·(w+1)−1).

    One image instead of n small axes: a figure of dozens of subplots takes a second to draw.
    """
    tiles = np.asarray(tiles, dtype=np.float64)
    n, h, w = tiles.shape
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = tiles[k]
    return out


def plot_filters(fig: Figure | None, weights: np.ndarray, channel: int = 0, title: str = "", cols: int = 16) -> Figure:
    """Every filter (C_out, C_in, k, k) of a layer as a k×k tile of its input channel ``channel``, in one mosaic."""
    weights = np.asarray(weights)
    fig = fig or _figure((7, 2.4))
    ax = fig.add_subplot()
    lim = float(np.abs(weights[:, channel]).max()) or 1.0
    image = ax.imshow(mosaic(weights[:, channel], cols), cmap="RdBu_r", vmin=-lim, vmax=lim)
    k = weights.shape[-1]
    ax.set_xticks([]), ax.set_yticks([])
    ax.set(xlabel=f"filters 0–{weights.shape[0] - 1}, {min(cols, weights.shape[0])} per row, each {k}×{k}",
           title=title or f"filters on input channel {channel}")
    fig.colorbar(image, ax=ax, label="weight", shrink=0.8)
    return fig


def plot_feature_maps(fig: Figure | None, image: np.ndarray, maps: np.ndarray, name: str, channel: int | None = None,
                      cols: int = 8) -> Figure:
    """The input image beside the layer's feature maps (C, H', W'): one channel, or all of them in a mosaic."""
    fig = fig or _figure((7, 3.2))
    maps = np.asarray(maps)
    ax_in, ax_maps = fig.subplots(1, 2, width_ratios=[1, 3])
    ax_in.imshow(np.asarray(image)[0], cmap="gray")
    ax_in.set(title="input", xlabel="x (pixels)", ylabel="y (pixels)")
    if channel is not None:
        shown = ax_maps.imshow(maps[channel], cmap="viridis")
        ax_maps.set(title=f"{name}[{channel}]", xlabel=f"x ({maps.shape[2]} positions)",
                    ylabel=f"y ({maps.shape[1]} positions)")
    else:
        shown = ax_maps.imshow(mosaic(maps, cols), cmap="viridis")
        ax_maps.set_xticks([]), ax_maps.set_yticks([])
        ax_maps.set(title=f"{name}: all {maps.shape[0]} channels", xlabel=f"channels 0–{maps.shape[0] - 1}, "
                    f"{min(cols, maps.shape[0])} per row, each {maps.shape[1]}×{maps.shape[2]}")
    fig.colorbar(shown, ax=ax_maps, label="activation (before the ReLU)", shrink=0.8)
    return fig


def plot_gallery(fig: Figure | None, images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, idx: np.ndarray,
                 class_names: list[str] | None = None, cols: int = 8, title: str = "") -> Figure:
    """The images ``idx`` (N, C, H, W) with "true → predicted" under each (wrong ones in red)."""
    fig = fig or _figure((7, 2.4), constrained=False)
    names = class_names or [str(c) for c in range(int(max(np.max(y_true), np.max(y_pred))) + 1)]
    idx = np.asarray(idx)
    if idx.size == 0:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no examples", ha="center", va="center")
        ax.set_axis_off()
    for ax, k in zip(_grid(fig, idx.size, cols), idx):
        ax.imshow(np.asarray(images[k])[0], cmap="gray")
        ax.set_xticks([]), ax.set_yticks([])
        wrong = y_true[k] != y_pred[k]
        ax.set_xlabel(f"{names[y_true[k]]} → {names[y_pred[k]]}", fontsize=7, color="tab:red" if wrong else "black")
    fig.suptitle(title or "true → predicted", fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.1, top=0.85, hspace=0.5)
    return fig


def plot_confusion(ax: Axes | None, cm: np.ndarray, class_names: list[str] | None = None,
                   selected: tuple[int, int] | None = None) -> Axes:
    """The confusion matrix as an image with its counts, rows = true class, columns = prediction."""
    if ax is None:
        ax = _figure((4.6, 4.2)).add_subplot()
    cm = np.asarray(cm)
    k = cm.shape[0]
    names = class_names or [str(c) for c in range(k)]
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    if selected is not None:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((selected[1] - 0.5, selected[0] - 0.5), 1, 1, fill=False, color="tab:red", lw=2))
    ax.set_xticks(range(k), names, fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
    ax.set(xlabel="predicted class", ylabel="true class", title="confusion matrix (rows: truth)")
    return ax


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)


def feature_map_viewer(model: Any, images: np.ndarray, labels: np.ndarray | None = None) -> ipywidgets.VBox:
    """Pick an image, a convolution layer and a channel ("all" or one): its filters and feature maps.

    Controls by description: "image", "layer", "channel".
    """
    import ipywidgets as widgets

    layers = conv_layers(model)
    if not layers:
        raise ValueError("the model has no nn.Conv2d layer to show")
    style = {"description_width": "60px"}
    w_image = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image", continuous_update=False,
                                style=style)
    w_layer = widgets.Dropdown(options=list(layers), value=next(iter(layers)), description="layer", style=style)
    w_channel = widgets.Dropdown(options=[("all", -1)], value=-1, description="channel", style=style)
    status = widgets.HTML()
    out_filters = widgets.Output()
    out_maps = widgets.Output()

    busy = [False]  # set while the channel list is rebuilt, so that its own events draw nothing

    def set_channels(_: Any = None) -> None:
        busy[0] = True
        try:
            n = layers[w_layer.value].shape[0]
            w_channel.options = [("all", -1)] + [(str(c), c) for c in range(n)]
            w_channel.value = -1
        finally:
            busy[0] = False
        update()

    def update(_: Any = None) -> None:
        if busy[0]:
            return
        image = np.asarray(images[w_image.value])
        maps = feature_maps(model, image)[w_layer.value]
        channel = None if w_channel.value == -1 else int(w_channel.value)
        weights = layers[w_layer.value]
        _render(out_filters, plot_filters(None, weights, 0, f"{w_layer.value}: {weights.shape[0]} filters of "
                                          f"{weights.shape[2]}×{weights.shape[3]} (input channel 0; red > 0, blue < 0)"))
        _render(out_maps, plot_feature_maps(None, image, maps, w_layer.value, channel))
        label = "" if labels is None else f", label {labels[w_image.value]}"
        status.value = f"image {w_image.value}{label}; {w_layer.value} gives {maps.shape[0]} maps of {maps.shape[1]}×{maps.shape[2]}"

    w_layer.observe(set_channels, names="value")
    for w in (w_image, w_channel):
        w.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([w_image, w_layer, w_channel]), status, out_filters, out_maps])


def misclassification_gallery(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                              class_names: list[str] | None = None, confidence: np.ndarray | None = None,
                              limit: int = 24) -> ipywidgets.VBox:
    """The wrong predictions (most confident first when ``confidence`` is given), filtered by class.

    Controls by description: "true class", "predicted" (each "any" or one class).
    """
    import ipywidgets as widgets

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k = int(max(y_true.max(), y_pred.max())) + 1
    names = class_names or [str(c) for c in range(k)]
    options = [("any", -1)] + [(n, c) for c, n in enumerate(names)]
    w_true = widgets.Dropdown(options=options, value=-1, description="true class")
    w_pred = widgets.Dropdown(options=options, value=-1, description="predicted")
    status = widgets.HTML()
    out = widgets.Output()
    wrong = misclassified(y_true, y_pred, confidence)

    def update(_: Any = None) -> None:
        keep = wrong
        if w_true.value != -1:
            keep = keep[y_true[keep] == w_true.value]
        if w_pred.value != -1:
            keep = keep[y_pred[keep] == w_pred.value]
        status.value = f"{keep.size} of {y_true.size} examples misclassified here (showing {min(limit, keep.size)})"
        _render(out, plot_gallery(None, images, y_true, y_pred, keep[:limit], names,
                                  title="misclassified: true → predicted"))

    for w in (w_true, w_pred):
        w.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([w_true, w_pred]), status, out])


def confusion_explorer(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_classes: int,
                       class_names: list[str] | None = None, limit: int = 16) -> ipywidgets.VBox:
    """A K×K grid of buttons showing the confusion matrix; clicking cell (i, j) shows its examples.

    Each button reads its count; the first off-diagonal cell with the most examples is shown first.
    Button descriptions are the counts; each button's ``tooltip``-free name is kept in ``cell_of``.
    """
    import ipywidgets as widgets

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = confusion_matrix(y_true, y_pred, n_classes)
    cells = confusion_cells(y_true, y_pred, n_classes)
    names = class_names or [str(c) for c in range(n_classes)]
    status = widgets.HTML()
    out_cm = widgets.Output()
    out = widgets.Output()
    buttons: list[Any] = []

    def show(i: int, j: int) -> None:
        idx = cells.get((i, j), np.zeros(0, dtype=int))
        status.value = (f"true <b>{names[i]}</b>, predicted <b>{names[j]}</b>: {idx.size} examples"
                        f"{' (correct)' if i == j else ''}")
        for b in buttons:
            b.button_style = "danger" if b.cell == (i, j) else ("info" if b.cell[0] == b.cell[1] else "")
        fig = _figure((3.8, 3.4))
        plot_confusion(fig.add_subplot(), cm, names, (i, j))
        _render(out_cm, fig)
        _render(out, plot_gallery(None, images, y_true, y_pred, idx[:limit], names,
                                  title=f"true {names[i]}, predicted {names[j]}"))

    header = [widgets.Label("true \\ pred")] + [widgets.Label(n) for n in names]
    grid: list[Any] = list(header)
    for i in range(n_classes):
        grid.append(widgets.Label(names[i]))
        for j in range(n_classes):
            b = widgets.Button(description=str(int(cm[i, j])), layout=widgets.Layout(width="42px"))
            b.cell = (i, j)
            b.on_click(lambda _b, i=i, j=j: show(i, j))
            buttons.append(b)
            grid.append(b)
    box = widgets.GridBox(grid, layout=widgets.Layout(grid_template_columns=f"80px repeat({n_classes}, 46px)"))
    off = cm.copy()
    np.fill_diagonal(off, -1)
    i0, j0 = np.unravel_index(int(np.argmax(off)), off.shape)
    show(int(i0), int(j0))
    return widgets.VBox([widgets.HBox([box, out_cm]), status, out])
