"""Lecture 10-rnns: how gradients flow back through time, and how temperature changes sampling.

Three layers, as every widget in the course:

- compute (NumPy only): :func:`recurrent_matrix` (a W_hh of a chosen spectral radius),
  :func:`gradient_norms` (‖∂L/∂h_t‖ for every step t, by backpropagation through the reference's
  step functions), :func:`regime`, :func:`next_char_table`;
- plotting (matplotlib's object-oriented API): :func:`plot_gradient_norms`, :func:`plot_next_char`;
- widgets (ipywidgets): :func:`gradient_flow_explorer` (spectral-radius slider: vanishing below
  1, exploding above, and what ReLU with identity initialisation and LSTM gates change) and
  :func:`temperature_sampler` (a trained character model's next-character distribution and a
  sample at the chosen temperature).

Every widget draws its first figure before it returns, so a notebook executed headless records
it. matplotlib and ipywidgets are imported inside the functions that need them; the temperature
widget drives a model it is handed, so this module never imports torch.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref.rnn import lstm_step_backward, lstm_step_forward, rnn_step_backward, rnn_step_forward
from dlcourse.widgets.losses import entropy, softmax_with_temperature

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CELLS",
    "INITS",
    "recurrent_matrix",
    "gradient_norms",
    "regime",
    "next_char_table",
    "char_label",
    "plot_gradient_norms",
    "plot_next_char",
    "gradient_flow_explorer",
    "temperature_sampler",
]

CELLS = {"linear": "linear RNN", "tanh": "tanh RNN", "relu": "ReLU RNN", "lstm": "LSTM"}
INITS = ("random", "orthogonal", "identity")


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


def recurrent_matrix(hidden: int, radius: float, init: str = "random", seed: int = 0) -> np.ndarray:
    """An (H, H) recurrent weight matrix whose spectral radius (largest |eigenvalue|) is ``radius``.

    init: "random" (Gaussian, rescaled), "orthogonal" (every eigenvalue on the circle of that
    radius: a rotation times ρ, so lengths scale by exactly ρ per step) or "identity" (ρ·I, the
    identity initialisation of ReLU RNNs when ρ = 1).
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if not radius >= 0:
        raise ValueError(f"radius must be ≥ 0, got {radius}")
    if init == "identity":
        return radius * np.eye(hidden)
    a = np.random.default_rng(seed).standard_normal((hidden, hidden))
    if init == "orthogonal":
        q, r = np.linalg.qr(a)
        return radius * q * np.sign(np.diag(r))
    return a * (radius / np.max(np.abs(np.linalg.eigvals(a))))


def gradient_norms(radius: float, steps: int = 60, hidden: int = 32, cell: str = "tanh", init: str = "random",
                   forget_bias: float = 0.0, input_scale: float = 0.1, batch: int = 8, seed: int = 0) -> np.ndarray:
    """‖∂L/∂h_t‖ for t = 1 … T, L depending on the last state only: L = Σ_n ⟨g_n, h_T⟩ (‖g_n‖ = 1).

    The sequence is run forward with the reference's step functions and the gradient is carried
    back one ``*_step_backward`` at a time, so every intermediate ∂L/∂h_t is seen. For a linear RNN
    ∂L/∂h_{t−1} = W_hhᵀ ∂L/∂h_t, and the norm changes by about ρ per step back: ρ^{T−t} overall.

    Args:
        radius: spectral radius ρ of W_hh (of each of the LSTM's four blocks).
        steps: T. hidden: H. batch: N sequences of random inputs (D = 4); the norms are their mean.
        cell: "linear", "tanh", "relu" or "lstm" (see :data:`CELLS`).
        init: how W_hh is drawn (:func:`recurrent_matrix`).
        forget_bias: added to the LSTM's forget-gate bias (a positive value keeps f ≈ 1: memory).
        input_scale: standard deviation of the inputs' contribution; small inputs keep tanh
            units near their linear range, where the recurrence alone decides the gradient's fate.

    Returns:
        (T,) mean gradient norms, index t − 1 for h_t (the last entry is 1).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    rng = np.random.default_rng(seed)
    d = 4
    x = rng.standard_normal((steps, batch, d))
    g = rng.standard_normal((batch, hidden))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    norms = np.empty(steps)
    if cell == "lstm":
        w_hh = np.vstack([recurrent_matrix(hidden, radius, init, seed + k) for k in range(4)])
        w_ih = input_scale * rng.standard_normal((4 * hidden, d))
        b = np.zeros(4 * hidden)
        b[hidden : 2 * hidden] = forget_bias
        h, c, caches = np.zeros((batch, hidden)), np.zeros((batch, hidden)), []
        for t in range(steps):
            h, c, cache = lstm_step_forward(x[t], h, c, w_ih, w_hh, b, np.zeros_like(b))
            caches.append(cache)
        dh, dc = g, np.zeros_like(g)
        for t in reversed(range(steps)):
            norms[t] = np.linalg.norm(dh, axis=1).mean()
            _, dh, dc, *_ = lstm_step_backward(dh, dc, caches[t])
        return norms
    w_hh = recurrent_matrix(hidden, radius, init, seed)
    if cell == "linear":  # no nonlinearity: the backward step is the transpose alone
        dh = g
        for t in reversed(range(steps)):
            norms[t] = np.linalg.norm(dh, axis=1).mean()
            dh = dh @ w_hh
        return norms
    w_ih = input_scale * rng.standard_normal((hidden, d))
    # ReLU units start active (positive bias), as the identity-initialised IRNN assumes.
    b = np.full(hidden, 0.5 if cell == "relu" else 0.0)
    h, caches = np.zeros((batch, hidden)), []
    for t in range(steps):
        h, cache = rnn_step_forward(x[t], h, w_ih, w_hh, b, np.zeros(hidden), nonlinearity=cell)
        caches.append(cache)
    dh = g
    for t in reversed(range(steps)):
        norms[t] = np.linalg.norm(dh, axis=1).mean()
        dh = rnn_step_backward(dh, caches[t])[1]
    return norms


def regime(norms: np.ndarray, factor: float = 100.0) -> str:
    """"vanishing" if the first step's gradient is ``factor`` times smaller than the last's,
    "exploding" if ``factor`` times larger, else "stable"."""
    ratio = float(norms[0] / norms[-1]) if norms[-1] else float("inf")
    if not np.isfinite(ratio) or ratio > factor:
        return "exploding"
    return "vanishing" if ratio < 1 / factor else "stable"


def next_char_table(logits: np.ndarray, temperatures: list[float]) -> np.ndarray:
    """softmax(logits / T) for every T: logits (V,) → (len(temperatures), V)."""
    return np.stack([softmax_with_temperature(logits, t) for t in temperatures])


def char_label(ch: str) -> str:
    """A character as a bar label: visible stand-ins for space and newline."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(ch, ch)


# --------------------------------------------------------------------------------------------
# plotting
# --------------------------------------------------------------------------------------------


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_gradient_norms(ax: Axes | None, norms: np.ndarray, radius: float, label: str = "",
                        references: dict[str, np.ndarray] | None = None) -> Axes:
    """‖∂L/∂h_t‖ against t on a log scale, with the linear prediction ρ^{T−t} dashed.

    references: other curves {label: (T,) norms} drawn faintly for comparison.
    """
    ax = _new_axes(ax, (7, 3.8))
    steps = np.arange(1, len(norms) + 1)
    for name, ref in (references or {}).items():
        ax.semilogy(steps, np.maximum(ref, 1e-300), color="0.7", lw=1)
        ax.annotate(name, (steps[0], max(float(ref[0]), 1e-300)), fontsize=7, color="0.45", va="center")
    with np.errstate(over="ignore", under="ignore"):
        pred = np.power(float(radius), (len(norms) - steps).astype(float))
    ax.semilogy(steps, np.clip(pred, 1e-300, 1e300), ls="--", color="tab:gray", label=f"ρ^(T−t), ρ = {radius:.2f}")
    kind = regime(norms)
    color = {"vanishing": "tab:blue", "exploding": "tab:red", "stable": "tab:green"}[kind]
    ax.semilogy(steps, np.maximum(norms, 1e-300), color=color, lw=2.2, label=label or "‖∂L/∂h_t‖")
    finite = norms[np.isfinite(norms) & (norms > 0)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        ax.set_ylim(max(lo / 10, 1e-30), min(hi * 10, 1e30))
    ax.set(xlabel="time step t (the loss looks at h_T only)", ylabel="‖∂L/∂h_t‖ (log scale)",
           title=f"{kind}: ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = {norms[0] / norms[-1]:.3g}")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_next_char(ax: Axes | None, probs: np.ndarray, chars: str, temperature: float, top: int = 15,
                   prompt: str = "") -> Axes:
    """Bars of the ``top`` most likely next characters, with the distribution's entropy in bits."""
    ax = _new_axes(ax, (7, 3.4))
    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")[:top]
    ax.bar(np.arange(len(order)), probs[order], color="tab:blue")
    ax.set_xticks(np.arange(len(order)), [char_label(chars[i]) for i in order])
    h_bits = entropy(probs) / np.log(2)
    shown = prompt[-20:].replace("\n", "⏎")
    ax.set(xlabel=f"next character after “…{shown}”" if prompt else "next character", ylabel="probability",
           ylim=(0, 1.05), title=f"T = {temperature:.3g}: entropy {h_bits:.2f} bits (uniform: {np.log2(len(probs)):.2f})")
    return ax


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)  # a plain Figure, not registered with pyplot: nothing to close


def gradient_flow_explorer(radius: float = 0.9, cell: str = "tanh", init: str = "random", steps: int = 60,
                           hidden: int = 32, forget_bias: float = 0.0) -> ipywidgets.VBox:
    """A spectral-radius slider over the gradient norms through time of a recurrent cell.

    Controls by description: "radius ρ", "cell", "W_hh init", "forget bias" (LSTM only). Faint
    curves show ρ = 0.5, 1 and 1.5 for the same cell, so the current one has a scale.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    style = {"description_width": "80px"}
    w_radius = widgets.FloatSlider(value=radius, min=0.1, max=2.5, step=0.05, description="radius ρ",
                                   readout_format=".2f", continuous_update=False, style=style)
    w_cell = widgets.Dropdown(options=[(v, k) for k, v in CELLS.items()], value=cell, description="cell", style=style)
    w_init = widgets.Dropdown(options=list(INITS), value=init, description="W_hh init", style=style)
    w_forget = widgets.FloatSlider(value=forget_bias, min=-2.0, max=5.0, step=0.5, description="forget bias",
                                   continuous_update=False, style=style)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="320px"))

    references: dict[tuple, dict[str, np.ndarray]] = {}  # the faint curves depend on the cell, not on ρ

    def update(_: Any = None) -> None:
        w_forget.disabled = w_cell.value != "lstm"
        kw = dict(steps=steps, hidden=hidden, cell=w_cell.value, init=w_init.value, forget_bias=float(w_forget.value))
        norms = gradient_norms(float(w_radius.value), **kw)
        key = tuple(kw.values())
        if key not in references:
            references[key] = {f"ρ={r:g}": gradient_norms(r, **kw) for r in (0.5, 1.0, 1.5)}
        refs = references[key]
        fig = Figure(figsize=(7, 3.8), layout="constrained")
        plot_gradient_norms(fig.add_subplot(), norms, float(w_radius.value), CELLS[w_cell.value], refs)
        status.value = (f"{CELLS[w_cell.value]}, ρ = {w_radius.value:.2f}: <b>{regime(norms)}</b>; the gradient "
                        f"reaching h_1 is {norms[0]:.3g} (it is 1 at h_T)")
        _render(out, fig)

    for w in (w_radius, w_cell, w_init, w_forget):
        w.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([w_radius, w_cell]), widgets.HBox([w_init, w_forget]), status, out])


def temperature_sampler(lm: Any, prompt: str = "Shall I compare thee", length: int = 200, temperature: float = 1.0,
                        seed: int = 0, top: int = 15) -> ipywidgets.VBox:
    """A temperature slider over a character model: the next-character distribution after
    ``prompt`` and a ``length``-character sample at that temperature.

    lm: a trained model with its vocabulary, as :func:`dlcourse.gpu.charlm.train_char_lm` returns
    it (any object with ``.vocab.chars``, ``.next_char_probs(prompt, T)`` and
    ``.sample(prompt, length, T, seed)``). Controls by description: "temperature T"
    (logarithmic, 0.05 … 5), "seed"; the button "sample again" draws with the next seed.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    style = {"description_width": "100px"}
    w_t = widgets.FloatLogSlider(value=temperature, base=10, min=np.log10(0.05), max=np.log10(5.0), step=0.05,
                                 description="temperature T", readout_format=".3g", continuous_update=False,
                                 style=style)
    w_seed = widgets.IntSlider(value=seed, min=0, max=99, description="seed", continuous_update=False, style=style)
    again = widgets.Button(description="sample again", icon="refresh")
    text = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))

    def update(_: Any = None) -> None:
        t = float(w_t.value)
        probs = lm.next_char_probs(prompt, t)
        fig = Figure(figsize=(7, 3.4), layout="constrained")
        plot_next_char(fig.add_subplot(), probs, lm.vocab.chars, t, top, prompt)
        drawn = lm.sample(prompt, length, t, int(w_seed.value))
        text.value = (f"<pre style='white-space: pre-wrap'><b>{html.escape(prompt)}</b>"
                      f"{html.escape(drawn[len(prompt):])}</pre>")
        _render(out, fig)

    def next_seed(_: Any) -> None:
        w_seed.value = (w_seed.value + 1) % (w_seed.max + 1)  # triggers update

    w_t.observe(update, names="value")
    w_seed.observe(update, names="value")
    again.on_click(next_seed)
    update()
    return widgets.VBox([widgets.HBox([w_t, w_seed, again]), out, text])
