"""Lecture 01-autodiff: a computation-graph viewer with forward values and gradients on every node.

Three layers, as every widget in the course:

- compute (pure Python, on :class:`dlcourse.ref.Value`): :func:`build_preset` builds one of the
  :data:`PRESETS` expressions, :func:`trace` lists its nodes and edges, :func:`layered_layout`
  places them in columns by depth (inputs on the left, output on the right);
- plotting (matplotlib's object-oriented API, no graphviz): :func:`plot_graph`;
- the widget (ipywidgets): :func:`graph_viewer`, one slider per input; every change reruns the
  forward and the backward pass and redraws.

matplotlib and ipywidgets are imported inside the functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dlcourse.ref.autodiff import Value, topological_order

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PRESETS", "GraphNode", "build_preset", "trace", "layered_layout", "plot_graph", "show_graph",
           "slider_limit", "graph_viewer"]


def _neuron(v: dict[str, Value]) -> Value:
    """The lecture's h = tanh(Wx + b) for one unit with two inputs."""
    x1w1 = v["x1"] * v["w1"]
    x1w1.label = "x1·w1"
    x2w2 = v["x2"] * v["w2"]
    x2w2.label = "x2·w2"
    s = x1w1 + x2w2
    s.label = "x1w1 + x2w2"
    z = s + v["b"]
    z.label = "z"
    h = z.tanh()
    h.label = "h"
    return h


def _fan_out(v: dict[str, Value]) -> Value:
    """x is used twice: its gradient is the sum of two paths."""
    p = v["x"] * v["y"]
    p.label = "x·y"
    f = p + v["x"]
    f.label = "f"
    return f


def _two_layer(v: dict[str, Value]) -> Value:
    """y = v1·tanh(w1·x + b1) + v2·tanh(w2·x + b2) + a: the lecture's two-layer graph with scalars."""
    h1 = (v["w1"] * v["x"] + v["b1"]).tanh()
    h1.label = "h1"
    h2 = (v["w2"] * v["x"] + v["b2"]).tanh()
    h2.label = "h2"
    y = v["v1"] * h1 + v["v2"] * h2 + v["a"]
    y.label = "y"
    return y


#: name -> (builder, {input: default value}, one-line description)
PRESETS: dict[str, tuple[Callable[[dict[str, Value]], Value], dict[str, float], str]] = {
    "neuron": (_neuron, {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.88}, "h = tanh(x1·w1 + x2·w2 + b)"),
    "fan-out": (_fan_out, {"x": 2.0, "y": -3.0}, "f = x·y + x  (x used twice)"),
    "two-layer": (_two_layer, {"x": 0.5, "w1": 1.0, "b1": 0.0, "w2": -2.0, "b2": 0.5, "v1": 1.5, "v2": 1.0,
                               "a": 0.1}, "y = v1·tanh(w1·x + b1) + v2·tanh(w2·x + b2) + a"),
}


def build_preset(name: str, values: dict[str, float] | None = None) -> tuple[Value, dict[str, Value]]:
    """Build preset ``name`` with the given input values (defaults for the rest), run backward.

    Returns:
        (output node, {input name: leaf node}); every node's ``grad`` holds ∂output/∂node.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    builder, defaults, _ = PRESETS[name]
    inputs = {k: Value((values or {}).get(k, d), label=k) for k, d in defaults.items()}
    out = builder(inputs)
    out.backward()
    return out, inputs


@dataclass(frozen=True)
class GraphNode:
    """One node for drawing: ``key`` is unique; ``inputs`` are the keys of the nodes it reads."""

    key: int
    label: str
    op: str
    data: float
    grad: float
    inputs: tuple[int, ...]


def trace(root: Value) -> list[GraphNode]:
    """Every node ``root`` depends on, inputs first (a topological order), as :class:`GraphNode`s.

    Unlabelled leaves are constants (the 2 in ``2 * x``); they are labelled by their value.
    """
    order = topological_order(root)
    key = {id(n): i for i, n in enumerate(order)}
    nodes = []
    for n in order:
        label = n.label or (f"{n.data:g}" if not n._prev else "")
        nodes.append(GraphNode(key[id(n)], label, n._op, n.data, n.grad, tuple(key[id(c)] for c in n._prev)))
    return nodes


def layered_layout(nodes: list[GraphNode]) -> dict[int, tuple[float, float]]:
    """Positions (column, row) for :func:`trace`'s nodes; every edge points to a later column.

    An operation's column is one more than its latest input's; an input (leaf) sits one column
    before its earliest consumer, so a bias appears next to the addition that uses it instead of
    piling up with every other input in the first column. Each column is centred on row 0.
    """
    depth: dict[int, int] = {}
    for n in nodes:  # inputs come first, so their depths are known
        depth[n.key] = 0 if not n.inputs else 1 + max(depth[k] for k in n.inputs)
    consumers: dict[int, list[int]] = {}
    for n in nodes:
        for k in n.inputs:
            consumers.setdefault(k, []).append(n.key)
    for n in reversed(nodes):  # consumers come later, so walk backwards
        if not n.inputs and n.key in consumers:
            depth[n.key] = min(depth[c] for c in consumers[n.key]) - 1
    columns: dict[int, list[int]] = {}
    for n in nodes:
        columns.setdefault(depth[n.key], []).append(n.key)
    pos = {}
    for col, keys in columns.items():
        for row, k in enumerate(keys):
            pos[k] = (float(col), (len(keys) - 1) / 2 - row)
    return pos


def _figure_size(root: Value) -> tuple[float, float]:
    """Wide enough for the columns, tall enough for the fullest column (boxes of three lines)."""
    pos = layered_layout(trace(root))
    cols = max(p[0] for p in pos.values()) + 1
    rows = max(sum(1 for q in pos.values() if q[0] == p[0]) for p in pos.values())
    return (max(7.0, 1.7 * cols), max(3.2, 1.0 * rows + 1.0))


def plot_graph(root: Value, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw the graph of ``root``: one box per node with its label/operation, value and gradient.

    Boxes of inputs are blue, of operations orange; arrows follow the forward pass (left to right).
    "grad" is what the backward pass sent back to the node: ∂output/∂node.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=_figure_size(root), layout="constrained").add_subplot()
    nodes = trace(root)
    pos = layered_layout(nodes)
    for n in nodes:
        for k in n.inputs:
            (x0, y0), (x1, y1) = pos[k], pos[n.key]
            ax.annotate("", xy=(x1 - 0.3, y1), xytext=(x0 + 0.3, y0),
                        arrowprops={"arrowstyle": "->", "color": "0.5", "lw": 1.0})
    for n in nodes:
        x, y = pos[n.key]
        head = n.label if not n.op else (f"{n.op}  {n.label}".strip())
        face = "#cfe2f3" if not n.inputs else "#fde5c8"
        ax.text(x, y, f"{head}\ndata {n.data:.4g}\ngrad {n.grad:.4g}", ha="center", va="center", fontsize=8.5,
                bbox={"boxstyle": "round,pad=0.35", "facecolor": face, "edgecolor": "0.3"})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_xlabel("depth: forward pass →   (backward pass ←)")
    ax.set_yticks([])
    ax.set_xticks(sorted(set(xs)))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"output {root.data:.4g}; grad = ∂output/∂node", fontsize=10)
    return ax


def show_graph(name: str = "neuron", values: dict[str, float] | None = None) -> Figure:
    """Build a preset and return its graph figure, closed in pyplot (a notebook shows it once)."""
    import matplotlib.pyplot as plt

    out, _ = build_preset(name, values)
    fig = plt.figure(figsize=_figure_size(out), layout="constrained")
    plot_graph(out, fig.add_subplot(), title=PRESETS[name][2])
    plt.close(fig)
    return fig


def slider_limit(value: float) -> float:
    """The range ±limit of an input's slider: at least ±4, and half as far again as its default.

    The headroom is what the notebook's "try this" suggestions need: the neuron's b starts at
    6.88 and the text asks for b = 10 (z = 4, a saturated tanh).
    """
    return max(4.0, float(math.ceil(1.5 * abs(float(value)))))


def graph_viewer(name: str = "neuron", values: dict[str, float] | None = None) -> ipywidgets.VBox:
    """One slider per input of preset ``name``; every change reruns forward and backward and redraws.

    Renders at creation. Returns an ``ipywidgets.VBox`` whose sliders are described by the input
    names and whose ``HTML`` line states the output and the input gradients.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets.compat import show_figure

    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    _, defaults, description = PRESETS[name]
    start = {**defaults, **(values or {})}
    style = {"description_width": "40px"}
    sliders = {
        k: widgets.FloatSlider(value=float(v), min=-slider_limit(v), max=slider_limit(v), step=0.01,
                               description=k, continuous_update=False, readout_format=".2f", style=style,
                               layout=widgets.Layout(width="240px"))
        for k, v in start.items()
    }
    text = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def redraw(_: Any = None) -> None:
        current = {k: float(s.value) for k, s in sliders.items()}
        root, leaves = build_preset(name, current)
        grads = ", ".join(f"∂/∂{k} = {leaf.grad:.4g}" for k, leaf in leaves.items())
        text.value = f"<b>{description}</b> = {root.data:.4g}; &nbsp; {grads}"
        fig = plt.figure(figsize=_figure_size(root), layout="constrained")
        try:
            plot_graph(root, fig.add_subplot(), title=description)
            show_figure(out, fig)
        finally:
            plt.close(fig)

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    rows = list(sliders.values())
    boxes = [widgets.HBox(rows[i:i + 4]) for i in range(0, len(rows), 4)]
    return widgets.VBox([*boxes, text, out])
