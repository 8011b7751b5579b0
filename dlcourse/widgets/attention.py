"""Lecture 11-attention: attention maps per head, the effect of the 1/√d scaling and of masks,
and the sinusoidal positional encoding.

Three layers, as every widget in the course:

- compute (NumPy only): :data:`MASKS`, :func:`demo_queries_keys` (per-head queries and keys of
  a short sequence), :func:`demo_mask`, :func:`head_weights` (the weights with scaling and a
  mask switched on or off), :func:`row_entropy` (how spread out each query's attention is);
- plotting (matplotlib's object-oriented API): :func:`plot_attention_heads`,
  :func:`plot_positional_encoding`;
- widgets (ipywidgets): :func:`attention_heatmap_viewer` (head, scaling on/off, mask, head
  size), :func:`model_attention_viewer` (the maps of a trained model, per example, layer and
  head), :func:`positional_encoding_viewer` (length, size, base, one frequency pair).

Every widget draws its first figure before it returns, so a notebook executed headless records
it. matplotlib and ipywidgets are imported inside the functions that need them. Masks follow
:mod:`dlcourse.ref.attention`: True = may attend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.attention import attention_weights, causal_mask, padding_mask, positional_encoding

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

__all__ = [
    "MASKS",
    "demo_queries_keys",
    "demo_mask",
    "head_weights",
    "row_entropy",
    "plot_attention_heads",
    "plot_positional_encoding",
    "attention_heatmap_viewer",
    "model_attention_viewer",
    "positional_encoding_viewer",
]

MASKS = ("none", "causal", "padding", "causal + padding")


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def demo_queries_keys(
    length: int = 8, num_heads: int = 4, d_head: int = 32, rng: np.random.Generator | int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Queries and keys of every head for a short sequence, as a layer would compute them.

    The inputs are sinusoidal positional encodings plus a random token embedding (E = 32),
    projected by random per-head matrices scaled so that every query and key entry has variance
    about 1. Their dot products then have variance about d_head: the situation the 1/√d
    scaling is for.

    Returns:
        q, k: (H, L, d_head) float64.
    """
    gen = np.random.default_rng(rng)
    e = 32
    x = positional_encoding(length, e) + gen.standard_normal((length, e))
    x /= np.sqrt((x**2).mean())
    wq = gen.standard_normal((num_heads, e, d_head)) / np.sqrt(e)
    wk = gen.standard_normal((num_heads, e, d_head)) / np.sqrt(e)
    return x @ wq, x @ wk


def demo_mask(kind: str, length: int, n_pad: int = 2) -> np.ndarray | None:
    """A (L, L) mask (True = may attend) of one of :data:`MASKS`; None for "none".

    "padding" treats the last ``n_pad`` positions as padding keys (no query may attend to them).
    """
    if kind not in MASKS:
        raise ValueError(f"unknown mask {kind!r}; choose one of {MASKS}")
    if kind == "none":
        return None
    keys = padding_mask(np.array([max(length - n_pad, 0)]), length)[0]  # (L,) real keys
    if kind == "padding":
        return np.broadcast_to(keys, (length, length)).copy()
    causal = causal_mask(length)
    return causal if kind == "causal" else causal & keys[None, :]


def head_weights(
    q: np.ndarray, k: np.ndarray, scaled: bool = True, mask: np.ndarray | None = None
) -> np.ndarray:
    """Attention weights of every head: softmax(q kᵀ / √d) (``scaled``) or softmax(q kᵀ).

    Args:
        q: (H, Lq, d); k: (H, Lk, d); mask: (Lq, Lk) bool or None.

    Returns:
        (H, Lq, Lk).
    """
    return attention_weights(q, k, mask, None if scaled else 1.0)


def row_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy −Σ_j p_j log p_j (nats) of every row: 0 for one-hot attention, log n for uniform over n keys.

    Args:
        weights: (…, Lq, Lk), rows summing to 1 (or all zero for a fully masked row, entropy 0).

    Returns:
        (…, Lq).
    """
    p = np.asarray(weights, dtype=np.float64)
    logp = np.log(np.where(p > 0, p, 1.0))  # 0·log 0 = 0
    return -(p * logp).sum(axis=-1)


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _figure(**kw: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kw)


def plot_attention_heads(
    weights: np.ndarray,
    mask: np.ndarray | None = None,
    query_labels: Sequence[str] | None = None,
    key_labels: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    fig: Figure | None = None,
) -> Figure:
    """One heat map per head: row = query, column = key, colour = weight in [0, 1].

    Args:
        weights: (H, Lq, Lk) or (Lq, Lk).
        mask: (Lq, Lk) bool (True = may attend) or None; masked cells are drawn grey.
        query_labels, key_labels: tick labels (e.g. the tokens); default positions.
        titles: one per head; default "head h" with the mean row entropy.
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w[None] if w.ndim == 2 else w
    if w.ndim != 3:
        raise ValueError(f"weights must be (H, Lq, Lk) or (Lq, Lk), got shape {np.shape(weights)}")
    h, lq, lk = w.shape
    cols = min(h, 4)
    rows = -(-h // cols)
    fig = fig or _figure(figsize=(3.2 * cols + 1.0, 3.0 * rows + 0.6))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="0.8")
    image = None
    for i, ax in enumerate(axes):
        if i >= h:
            ax.set_visible(False)
            continue
        shown = w[i] if mask is None else np.where(np.broadcast_to(mask, (lq, lk)), w[i], np.nan)
        image = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=1.0)
        title = titles[i] if titles is not None else f"head {i}: mean entropy {row_entropy(w[i]).mean():.2f}"
        ax.set(title=title, xlabel="key position (attended to)", ylabel="query position (attending)")
        ax.set_xticks(range(lk))
        ax.set_yticks(range(lq))
        ax.set_xticklabels(key_labels if key_labels is not None else range(lk), fontsize=7)
        ax.set_yticklabels(query_labels if query_labels is not None else range(lq), fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:h]), fraction=0.025, label="attention weight")
    return fig


def plot_positional_encoding(
    length: int = 64, d_model: int = 64, base: float = 10000.0, pair: int = 0, fig: Figure | None = None
) -> Figure:
    """Three panels: the (L, D) encoding, the sin/cos of one frequency pair, and PE·PEᵀ.

    The last panel shows that the similarity of two positions' encodings depends on their
    distance only (constant along diagonals) and falls off with it.
    """
    pe = positional_encoding(length, d_model, base)
    pair = int(np.clip(pair, 0, (d_model - 1) // 2))
    fig = fig or _figure(figsize=(13, 3.8))
    ax_pe, ax_pair, ax_sim = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1, 1]})
    m = ax_pe.imshow(pe, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    fig.colorbar(m, ax=ax_pe, fraction=0.046)
    ax_pe.axvline(2 * pair - 0.5, color="k", lw=0.8)
    ax_pe.axvline(2 * pair + 1.5, color="k", lw=0.8)
    ax_pe.set(title=f"positional encoding ({length}×{d_model})", xlabel="dimension j", ylabel="position p")
    omega = base ** (-2.0 * pair / d_model)
    pos = np.arange(length)
    ax_pair.plot(pos, pe[:, 2 * pair], ".-", label=f"sin (dim {2 * pair})")
    if 2 * pair + 1 < d_model:
        ax_pair.plot(pos, pe[:, 2 * pair + 1], ".-", label=f"cos (dim {2 * pair + 1})")
    ax_pair.set(title=f"pair {pair}: ω = {omega:.3g} rad/position, period {2 * np.pi / omega:.3g}",
                xlabel="position p", ylabel="value", ylim=(-1.1, 1.1))
    ax_pair.legend(loc="lower right", fontsize=8)
    sim = pe @ pe.T
    m = ax_sim.imshow(sim, cmap="magma")
    fig.colorbar(m, ax=ax_sim, fraction=0.046)
    ax_sim.set(title="similarity PE[p]·PE[q]", xlabel="position q", ylabel="position p")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)


def attention_heatmap_viewer(
    q: np.ndarray | None = None,
    k: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    length: int = 8,
    num_heads: int = 4,
    d_head: int = 32,
) -> ipywidgets.VBox:
    """Heat maps of every head's attention, with the 1/√d scaling and a mask switched on and off.

    Without ``q``/``k`` it uses :func:`demo_queries_keys` and adds a "d per head" slider: with
    the scaling off, larger d makes the softmax saturate (one-hot rows, entropy → 0), which the
    status line reports. With ``q`` (H, L, d) and ``k`` (H, L, d) it shows those.

    Returns a VBox; controls: Dropdown "head" ("all", 0 … H−1), Checkbox "scale by 1/√d",
    Dropdown "mask" (:data:`MASKS`), IntSlider "d per head" (demo only).
    """
    import ipywidgets as widgets

    given = q is not None
    if given:
        if k is None:
            raise ValueError("give both q and k, or neither")
        q, k = np.asarray(q, dtype=np.float64), np.asarray(k, dtype=np.float64)
        if q.ndim != 3 or k.ndim != 3 or q.shape != k.shape:
            raise ValueError(f"q and k must both be (H, L, d) of the same shape, got {q.shape} and {k.shape}")
        num_heads, length, d_head = q.shape
    style = {"description_width": "90px"}
    w_head = widgets.Dropdown(options=["all"] + list(range(num_heads)), value="all", description="head", style=style)
    w_scale = widgets.Checkbox(value=True, description="scale by 1/√d")
    w_mask = widgets.Dropdown(options=list(MASKS), value="none", description="mask", style=style)
    w_d = widgets.IntSlider(value=d_head, min=2, max=128, step=2, description="d per head", style=style,
                            continuous_update=False)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def redraw(_: Any = None) -> None:
        qq, kk = (q, k) if given else demo_queries_keys(length, num_heads, w_d.value, rng=0)
        mask = demo_mask(w_mask.value, length)
        w = head_weights(qq, kk, w_scale.value, mask)
        heads = list(range(num_heads)) if w_head.value == "all" else [int(w_head.value)]
        ent = row_entropy(w[heads])
        status.value = (f"d = {qq.shape[-1]}, scores {'÷ √d' if w_scale.value else 'unscaled'}: "
                        f"mean row entropy {ent.mean():.2f} nats (uniform over {length} keys: {np.log(length):.2f}), "
                        f"largest weight {w[heads].max():.2f}")
        titles = [f"head {i}: entropy {row_entropy(w[i]).mean():.2f}" for i in heads]
        _render(out, plot_attention_heads(w[heads], mask, labels, labels, titles))

    for c in (w_head, w_scale, w_mask, w_d):
        c.observe(redraw, names="value")
    redraw()
    controls = [w_head, w_mask, w_scale] + ([] if given else [w_d])
    return widgets.VBox([widgets.HBox(controls[:2]), widgets.HBox(controls[2:]), status, out])


def model_attention_viewer(
    maps: Sequence[np.ndarray], tokens: np.ndarray, n_digits: int = 10, targets: np.ndarray | None = None
) -> ipywidgets.VBox:
    """The attention maps a trained model computed, per example, layer and head.

    Args:
        maps: one (N, H, L, L) array per layer (e.g. ``SequenceTransformer(..., need_weights=True)``
            converted with ``to_numpy``).
        tokens: (N, L) input tokens (digits, pad token = n_digits), used as tick labels.
        targets: (N, L) targets, shown in the status line.

    Returns a VBox; controls: IntSlider "example", Dropdown "layer", Dropdown "head" ("all", 0 … H−1).
    """
    import ipywidgets as widgets

    from dlcourse.data.sequences import format_sequence, pad_token

    maps = [np.asarray(m, dtype=np.float64) for m in maps]
    tokens = np.asarray(tokens)
    if not maps or any(m.ndim != 4 or m.shape != maps[0].shape for m in maps):
        raise ValueError("maps must be a non-empty list of (N, H, L, L) arrays of one shape")
    n, h, length, _ = maps[0].shape
    if tokens.shape != (n, length):
        raise ValueError(f"tokens must be (N, L) = {(n, length)}, got shape {tokens.shape}")
    pad = pad_token(n_digits)
    style = {"description_width": "70px"}
    w_ex = widgets.IntSlider(value=0, min=0, max=n - 1, description="example", style=style, continuous_update=False)
    w_layer = widgets.Dropdown(options=list(range(len(maps))), value=0, description="layer", style=style)
    w_head = widgets.Dropdown(options=["all"] + list(range(h)), value="all", description="head", style=style)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    def redraw(_: Any = None) -> None:
        i = w_ex.value
        labels = ["·" if t == pad else str(int(t)) for t in tokens[i]]
        w = maps[w_layer.value][i]
        heads = list(range(h)) if w_head.value == "all" else [int(w_head.value)]
        real = tokens[i] != pad
        mask = np.broadcast_to(real, (length, length))
        text = f"input {format_sequence(tokens[i], n_digits)}"
        if targets is not None:
            text += f" → target {format_sequence(np.asarray(targets)[i], n_digits)}"
        status.value = text
        titles = [f"layer {w_layer.value}, head {j}" for j in heads]
        _render(out, plot_attention_heads(w[heads], mask, labels, labels, titles))

    for c in (w_ex, w_layer, w_head):
        c.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_ex, w_layer, w_head]), status, out])


def positional_encoding_viewer(length: int = 64, d_model: int = 64, base: float = 10000.0) -> ipywidgets.VBox:
    """Sliders for the number of positions, the encoding size, the base and one frequency pair.

    Returns a VBox; controls: IntSliders "positions", "d_model", "pair i", FloatLogSlider "base".
    """
    import ipywidgets as widgets

    style = {"description_width": "70px"}
    w_len = widgets.IntSlider(value=length, min=4, max=256, description="positions", style=style, continuous_update=False)
    w_d = widgets.IntSlider(value=d_model, min=2, max=256, step=2, description="d_model", style=style,
                            continuous_update=False)
    w_pair = widgets.IntSlider(value=0, min=0, max=d_model // 2 - 1, description="pair i", style=style,
                               continuous_update=False)
    w_base = widgets.FloatLogSlider(value=base, base=10, min=1, max=6, description="base", style=style,
                                    continuous_update=False, readout_format=".3g")
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def redraw(_: Any = None) -> None:
        w_pair.max = max(w_d.value // 2 - 1, 0)  # may clamp pair's value, which redraws again: harmless
        _render(out, plot_positional_encoding(w_len.value, w_d.value, w_base.value, w_pair.value))

    for c in (w_len, w_d, w_pair, w_base):
        c.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_len, w_d]), widgets.HBox([w_pair, w_base]), out])
