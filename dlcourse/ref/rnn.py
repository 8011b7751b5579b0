"""Recurrent networks in NumPy: RNN, LSTM and GRU cells unrolled through time (BPTT), embeddings,
gradient-norm clipping, causal (dilated) 1-D convolution, and the arithmetic of character-level
language modelling (training windows, the unigram baseline, nats and bits).

Conventions are PyTorch's, so weights copy straight into ``nn.RNN``/``nn.LSTM``/``nn.GRU``:

- Sequences are batch-first: x (N, T, D), hidden states (N, T, H) (``batch_first=True``).
- A cell with G gate blocks has w_ih (G·H, D), w_hh (G·H, H) and *two* biases b_ih, b_hh (G·H,)
  (they always appear as a sum, so their gradients are equal). G = 1 for the RNN, 4 for the LSTM,
  3 for the GRU; blocks are stacked along the rows, block k being rows k·H … (k+1)·H − 1.
- RNN:  h' = φ(x w_ihᵀ + b_ih + h w_hhᵀ + b_hh), φ = tanh (or ReLU).
- LSTM, gate rows **i, f, g, o**:  a = x w_ihᵀ + b_ih + h w_hhᵀ + b_hh = [a_i a_f a_g a_o],
  i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o);  c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c').
- GRU, gate rows **r, z, n**:  r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h.
  The reset gate multiplies W_hn h + b_hn, *after* the product (d2l and the original paper apply
  it to h before the product; the two are different functions).
- Causal convolution uses ``F.conv1d``'s layout: x (N, C, T), w (F, C, K), b (F,).

Every layer follows the forward/backward contract ``out, cache = f_forward(...)``,
``grads = f_backward(dout, cache)``; the step functions are the lesson, the sequence functions
are written for speed with the same cell code (see :func:`lstm_forward`) and keep their caches
time-major, (T, N, ·). Float32 inputs stay float32; integer inputs are promoted to float64.
The ``check_*`` helpers (not exported) validate shapes for this module and its PyTorch twin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Union

import numpy as np

__all__ = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "embedding_forward",
    "embedding_backward",
    "clip_grad_norm",
    "causal_conv1d_forward",
    "causal_conv1d_backward",
    "receptive_field",
    "random_windows",
    "unigram_cross_entropy",
    "nats_to_bits",
]

NONLINEARITIES = ("tanh", "relu")
Grads = Union[Mapping[str, np.ndarray], Sequence[np.ndarray]]
Shaped = Any  # an ndarray or a torch.Tensor: the check_* helpers read .shape, .ndim, .dtype only


# --------------------------------------------------------------------------- input checks


def _float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The float dtype of a computation on these arrays: float32 stays float32, ints → float64."""
    return np.result_type(*arrays, np.float32)


def check_cell_shapes(kind: str, gates: int, x: Shaped, h: Shaped, w_ih: Shaped, w_hh: Shaped, b_ih: Shaped,
                      b_hh: Shaped, sequence: bool) -> None:
    """Raise a ValueError naming the argument whose shape is wrong (arrays or tensors alike).

    x is (N, D) for a step and (N, T, D) for a sequence; h is (N, H); the weights are as in the
    module docstring, with G = ``gates`` blocks of H rows. ``dlcourse.gpu.rnn`` uses it too.
    """
    x_form = "(N, T, D)" if sequence else "(N, D)"
    if x.ndim != (3 if sequence else 2):
        raise ValueError(f"{kind}: x has shape {tuple(x.shape)}; expected {x_form}")
    if sequence and x.shape[1] < 1:
        raise ValueError(f"{kind}: x has shape {tuple(x.shape)}: a sequence needs at least one time step")
    if h.ndim != 2 or h.shape[0] != x.shape[0]:
        raise ValueError(f"{kind}: the hidden state has shape {tuple(h.shape)}; expected (N, H) with N = {x.shape[0]} as in x")
    d, hid = x.shape[-1], h.shape[1]
    g = f"{gates}·H" if gates > 1 else "H"
    expected = {"w_ih": (w_ih, (gates * hid, d), f"({g}, D)"), "w_hh": (w_hh, (gates * hid, hid), f"({g}, H)"),
                "b_ih": (b_ih, (gates * hid,), f"({g},)"), "b_hh": (b_hh, (gates * hid,), f"({g},)")}
    for name, (a, shape, form) in expected.items():
        if tuple(a.shape) != shape:
            raise ValueError(f"{kind}: {name} has shape {tuple(a.shape)}; expected {form} = {shape} "
                             f"for D = {d} inputs and H = {hid} hidden units")


def check_shape(kind: str, name: str, a: Shaped, shape: tuple[int, ...]) -> Shaped:
    """``a`` itself if its shape is ``shape``, else a ValueError saying both."""
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{kind}: {name} has shape {tuple(a.shape)}; expected {tuple(shape)}")
    return a


def _cell_args(kind: str, gates: int, *arrays: np.ndarray, sequence: bool) -> tuple[np.ndarray, ...]:
    """(x, h, w_ih, w_hh, b_ih, b_hh) as arrays of one float dtype, their shapes checked."""
    arrays = [np.asarray(a) for a in arrays]
    dtype = _float_dtype(*arrays)
    check_cell_shapes(kind, gates, *arrays, sequence=sequence)
    return tuple(a.astype(dtype, copy=False) for a in arrays)


def _same_shape(kind: str, name: str, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return check_shape(kind, name, np.asarray(a), shape)


# --------------------------------------------------------------------------- shared cell arithmetic


def _sigmoid_into(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """σ(a) = ½ + ½·tanh(a/2), written into ``out`` (may be ``a``).

    The tanh form never overflows (e^{−a} does, for a < −709 in float64, −88 in float32) and
    needs no temporary array, which matters inside a loop over time steps.
    """
    np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    np.multiply(out, 0.5, out=out)
    np.add(out, 0.5, out=out)
    return out


class _GateForm(NamedTuple):
    """Per-column constants (G·H,) that let one tanh pass activate a block of σ and tanh gates.

    σ(a) = ½·tanh(a/2) + ½ and tanh(a) = 1·tanh(1·a) + 0, so act = tanh(a ⊙ pre) ⊙ scale + offset.
    Their derivatives, in terms of the activation: σ' = σ(1 − σ), tanh' = 1 − tanh², i.e.
    act' = act ⊙ (slope − act) + offset', with slope = 1, offset' = 0 for σ and 0, 1 for tanh.
    """

    pre: np.ndarray
    scale: np.ndarray
    offset: np.ndarray
    slope: np.ndarray
    dconst: np.ndarray

    @classmethod
    def of(cls, blocks: str, hid: int, dtype: np.dtype) -> _GateForm:
        """blocks: one letter per gate block, "s" for σ and "t" for tanh (the LSTM's i f g o is "ssts")."""
        sig = np.repeat([b == "s" for b in blocks], hid)
        pick = lambda s, t: np.where(sig, s, t).astype(dtype)  # noqa: E731
        return cls(pick(0.5, 1.0), pick(0.5, 1.0), pick(0.5, 0.0), pick(1.0, 0.0), pick(0.0, 1.0))

    def activate(self, a: np.ndarray) -> None:
        """Pre-activations → activations, in place."""
        a *= self.pre
        np.tanh(a, out=a)
        a *= self.scale
        a += self.offset

    def backward(self, dact: np.ndarray, act: np.ndarray, scratch: np.ndarray) -> None:
        """∂L/∂act → ∂L/∂a, in place, using the activations only (scratch: same shape)."""
        np.subtract(self.slope, act, out=scratch)
        scratch *= act
        scratch += self.dconst
        dact *= scratch


def _weight_grads(
    da_x: np.ndarray, da_h: np.ndarray, x: np.ndarray, h_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weight gradients of a = x w_ihᵀ + b_ih (+) h_prev w_hhᵀ + b_hh, for a step or a sequence.

    da_x (…, G·H) is ∂L/∂a on the input side, da_h on the hidden side (the same array for RNN
    and LSTM; the GRU's reset gate makes them differ in the n block); x (…, D) and h_prev (…, H)
    have the same leading axes in the same order. The weights are shared by every example and
    every time step, so their gradients sum over all leading axes: one matrix product each,
    never a loop over steps.

    Returns dw_ih (G·H, D), dw_hh (G·H, H), db_ih (G·H,), db_hh (G·H,).
    """
    gh = da_x.shape[-1]
    flat_x, flat_h = da_x.reshape(-1, gh), da_h.reshape(-1, gh)
    dw_ih = flat_x.T @ x.reshape(-1, x.shape[-1])
    dw_hh = flat_h.T @ h_prev.reshape(-1, h_prev.shape[-1])
    return dw_ih, dw_hh, flat_x.sum(axis=0), flat_h.sum(axis=0)


# Sequence layers store what the loop over time touches *time-major*, (T, N, ·): the slice of one
# step is then a contiguous block, which NumPy's element-wise loops run through fastest.


def _time_major(x: np.ndarray) -> np.ndarray:
    """(N, T, ·) → a contiguous (T, N, ·) copy."""
    return np.ascontiguousarray(x.transpose(1, 0, 2))


def _batch_first(a: np.ndarray) -> np.ndarray:
    """(T, N, ·) → a contiguous (N, T, ·) copy."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def _input_side(x_tm: np.ndarray, w_ih: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x_t w_ihᵀ + bias for every step at once: x_tm (T, N, D) → (T, N, G·H), one matrix product."""
    t_len, n, d = x_tm.shape
    out = x_tm.reshape(t_len * n, d) @ w_ih.T
    out += bias
    return out.reshape(t_len, n, -1)


def _input_grad(da_x: np.ndarray, w_ih: np.ndarray) -> np.ndarray:
    """∂L/∂x = da_x w_ih for every step at once: da_x (T, N, G·H) → dx (N, T, D), batch-first."""
    t_len, n, gh = da_x.shape
    return _batch_first((da_x.reshape(t_len * n, gh) @ w_ih).reshape(t_len, n, -1))


def _shifted(h0: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The states *entering* each step, time-major (T, N, H): h0, h_1, …, h_{T−1}."""
    prev = np.empty_like(h)
    prev[0] = h0
    prev[1:] = h[:-1]
    return prev


# --------------------------------------------------------------------------- vanilla RNN


class RNNStepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    w_ih: np.ndarray
    w_hh: np.ndarray
    h_next: np.ndarray  # (N, H), φ(a): the derivative of tanh and ReLU is a function of it
    nonlinearity: str


class RNNCache(NamedTuple):
    x: np.ndarray  # (T, N, D) time-major copy of the input
    h0: np.ndarray  # (N, H)
    w_ih: np.ndarray
    w_hh: np.ndarray
    h: np.ndarray  # (T, N, H) time-major hidden states h_1 … h_T
    nonlinearity: str


def _phi_into(a: np.ndarray, nonlinearity: str) -> np.ndarray:
    if nonlinearity == "tanh":
        return np.tanh(a, out=a)
    return np.maximum(a, 0, out=a)


def _phi_backward(dh: np.ndarray, h: np.ndarray, nonlinearity: str) -> np.ndarray:
    """∂L/∂a from ∂L/∂h with h = φ(a): tanh' = 1 − h², ReLU' = [h > 0] (0 at the kink, as PyTorch)."""
    if nonlinearity == "tanh":
        return dh * (1 - h * h)
    return dh * (h > 0)


def check_nonlinearity(nonlinearity: str) -> None:
    """ValueError unless ``nonlinearity`` is one of :data:`NONLINEARITIES`."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


def rnn_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, RNNStepCache]:
    """One step of a vanilla RNN:  h' = φ(x w_ihᵀ + b_ih + h w_hhᵀ + b_hh)  (``nn.RNNCell``).

    Args:
        x: (N, D) inputs at this time step.
        h_prev: (N, H) previous hidden state.
        w_ih: (H, D); w_hh: (H, H); b_ih, b_hh: (H,).
        nonlinearity: "tanh" (default) or "relu".

    Returns:
        h_next: (N, H).
        cache: :class:`RNNStepCache` (x, h_prev, w_ih, w_hh, h_next, nonlinearity).
    """
    check_nonlinearity(nonlinearity)
    x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_args("rnn_step_forward", 1, x, h_prev, w_ih, w_hh, b_ih, b_hh, sequence=False)
    h_next = _phi_into(x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh, nonlinearity)
    return h_next, RNNStepCache(x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_backward(dh_next: np.ndarray, cache: RNNStepCache) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`rnn_step_forward`.

    Args:
        dh_next: (N, H) ∂L/∂h_next.

    Returns:
        dx (N, D), dh_prev (N, H), dw_ih (H, D), dw_hh (H, H), db_ih (H,), db_hh (H,)
        (db_ih = db_hh: the two biases are added together).
    """
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    da = _phi_backward(_same_shape("rnn_step_backward", "dh_next", dh_next, h_next.shape), h_next, nonlinearity)
    return (da @ w_ih, da @ w_hh, *_weight_grads(da, da, x, h_prev))


def rnn_forward(
    x: np.ndarray,
    h0: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, RNNCache]:
    """The RNN unrolled over a sequence: one shared cell, h_t = φ(x_t w_ihᵀ + b_ih + h_{t−1} w_hhᵀ + b_hh).

    Args:
        x: (N, T, D) input sequences.
        h0: (N, H) initial hidden state.
        w_ih: (H, D); w_hh: (H, H); b_ih, b_hh: (H,); nonlinearity: "tanh" or "relu".

    Returns:
        h: (N, T, H) every hidden state h_1 … h_T (h[:, -1] is the final one, ``nn.RNN``'s h_n).
        cache: :class:`RNNCache`.
    """
    check_nonlinearity(nonlinearity)
    x, h0, w_ih, w_hh, b_ih, b_hh = _cell_args("rnn_forward", 1, x, h0, w_ih, w_hh, b_ih, b_hh, sequence=True)
    x_tm = _time_major(x)
    # The input side of every step in one matrix product; only h w_hhᵀ is left inside the loop.
    h = _input_side(x_tm, w_ih, b_ih + b_hh)
    h_prev = h0
    for t in range(h.shape[0]):
        h[t] += h_prev @ w_hh.T
        h_prev = _phi_into(h[t], nonlinearity)
    return _batch_first(h), RNNCache(x_tm, h0, w_ih, w_hh, h, nonlinearity)


def rnn_backward(dh: np.ndarray, cache: RNNCache) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`rnn_forward`.

    The gradient reaching h_t is the loss's own dh[:, t] plus what flows back from step t + 1;
    the weights are shared, so their gradients are sums over all steps.

    Args:
        dh: (N, T, H) ∂L/∂h_t for every step (zeros where the loss does not look).

    Returns:
        dx (N, T, D), dh0 (N, H), dw_ih (H, D), dw_hh (H, H), db_ih (H,), db_hh (H,).
    """
    x_tm, h0, w_ih, w_hh, h, nonlinearity = cache
    t_len, n, hid = h.shape
    dh = _same_shape("rnn_backward", "dh", dh, (n, t_len, hid))
    da = np.empty(h.shape, dtype=np.result_type(dh, h))
    carry = np.zeros_like(h0, dtype=da.dtype)  # ∂L/∂h_t arriving from step t + 1
    for t in reversed(range(t_len)):
        da[t] = _phi_backward(dh[:, t] + carry, h[t], nonlinearity)
        carry = da[t] @ w_hh
    return (_input_grad(da, w_ih), carry, *_weight_grads(da, da, x_tm, _shifted(h0, h)))


# --------------------------------------------------------------------------- LSTM


class LSTMStepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    w_ih: np.ndarray
    w_hh: np.ndarray
    gates: np.ndarray  # (N, 4H) activations [i f g o]
    tanh_c: np.ndarray  # (N, H) tanh(c_next)


class LSTMCache(NamedTuple):
    x: np.ndarray  # (T, N, D) time-major copy of the input
    h0: np.ndarray  # (N, H)
    c0: np.ndarray  # (N, H)
    w_ih: np.ndarray
    w_hh: np.ndarray
    gates: np.ndarray  # (T, N, 4H) activations [i f g o] of every step
    c: np.ndarray  # (T, N, H) cell states c_1 … c_T (c[-1] is nn.LSTM's c_n)
    tanh_c: np.ndarray  # (T, N, H)
    h: np.ndarray  # (T, N, H)


def _lstm_cell(a: np.ndarray, c_prev: np.ndarray, c: np.ndarray, tanh_c: np.ndarray, h: np.ndarray,
               form: _GateForm) -> None:
    """The LSTM's element-wise part, in place: the pre-activations a (N, 4H) become [i f g o],
    and c = f ⊙ c_prev + i ⊙ g, tanh_c = tanh(c), h = o ⊙ tanh_c are written out (N, H)."""
    hid = c_prev.shape[-1]
    form.activate(a)  # σ on the i, f, o blocks and tanh on g, in one tanh pass
    i, f, g, o = a[:, :hid], a[:, hid : 2 * hid], a[:, 2 * hid : 3 * hid], a[:, 3 * hid :]
    np.multiply(f, c_prev, out=c)
    np.multiply(i, g, out=h)  # h is free until the last line: scratch
    c += h
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)


def _lstm_cell_backward(dh: np.ndarray, dc: np.ndarray, gates: np.ndarray, c_prev: np.ndarray,
                        tanh_c: np.ndarray, da: np.ndarray, form: _GateForm, scratch: np.ndarray) -> None:
    """Back through :func:`_lstm_cell`: writes ∂L/∂a (N, 4H) into ``da``, and *overwrites* dc with
    ∂L/∂c_prev.

    dh, dc: (N, H) everything that reaches h and c of this step from later (dc: not via h).
    scratch: (N, 4H) work space.
    """
    hid = c_prev.shape[-1]
    i, f, g, o = gates[:, :hid], gates[:, hid : 2 * hid], gates[:, 2 * hid : 3 * hid], gates[:, 3 * hid :]
    di, df, dg, do = da[:, :hid], da[:, hid : 2 * hid], da[:, 2 * hid : 3 * hid], da[:, 3 * hid :]
    np.multiply(dh, tanh_c, out=do)  # h = o ⊙ tanh(c)
    # ∂L/∂c = dc + dh ⊙ o ⊙ (1 − tanh²(c)), built in dg's slot (dg is written last)
    np.multiply(tanh_c, tanh_c, out=dg)
    np.subtract(1, dg, out=dg)
    dg *= o
    dg *= dh
    dg += dc
    np.multiply(dg, c_prev, out=df)  # c = f ⊙ c_prev + i ⊙ g
    np.multiply(dg, f, out=dc)
    np.multiply(dg, g, out=di)
    dg *= i
    form.backward(da, gates, scratch)  # through σ and tanh, all four blocks at once


def lstm_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
    """One LSTM step (``nn.LSTMCell``), gate rows i, f, g, o:

        [a_i a_f a_g a_o] = x w_ihᵀ + b_ih + h w_hhᵀ + b_hh
        c' = σ(a_f) ⊙ c + σ(a_i) ⊙ tanh(a_g),   h' = σ(a_o) ⊙ tanh(c')

    Args:
        x: (N, D); h_prev, c_prev: (N, H).
        w_ih: (4H, D); w_hh: (4H, H); b_ih, b_hh: (4H,).

    Returns:
        h_next: (N, H); c_next: (N, H); cache: :class:`LSTMStepCache`.
    """
    x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_args("lstm_step_forward", 4, x, h_prev, w_ih, w_hh, b_ih, b_hh, sequence=False)
    c_prev = _same_shape("lstm_step_forward", "c_prev", c_prev, h_prev.shape).astype(x.dtype, copy=False)
    gates = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
    c_next, tanh_c, h_next = (np.empty_like(h_prev) for _ in range(3))
    _lstm_cell(gates, c_prev, c_next, tanh_c, h_next, _GateForm.of("ssts", h_prev.shape[1], x.dtype))
    return h_next, c_next, LSTMStepCache(x, h_prev, c_prev, w_ih, w_hh, gates, tanh_c)


def lstm_step_backward(dh_next: np.ndarray, dc_next: np.ndarray, cache: LSTMStepCache) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`lstm_step_forward`.

    Args:
        dh_next, dc_next: (N, H) ∂L/∂h_next and ∂L/∂c_next (the part not passing through h_next).

    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dw_ih (4H, D), dw_hh (4H, H), db_ih (4H,), db_hh (4H,).
    """
    x, h_prev, c_prev, w_ih, w_hh, gates, tanh_c = cache
    dh_next = _same_shape("lstm_step_backward", "dh_next", dh_next, h_prev.shape)
    dtype = np.result_type(dh_next, dc_next, gates)
    dc = _same_shape("lstm_step_backward", "dc_next", dc_next, h_prev.shape).astype(dtype)  # a copy: overwritten
    da, scratch = np.empty(gates.shape, dtype=dtype), np.empty(gates.shape, dtype=dtype)
    _lstm_cell_backward(dh_next, dc, gates, c_prev, tanh_c, da, _GateForm.of("ssts", h_prev.shape[1], dtype), scratch)
    return (da @ w_ih, da @ w_hh, dc, *_weight_grads(da, da, x, h_prev))


def lstm_forward(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, LSTMCache]:
    """An LSTM layer over whole sequences (``nn.LSTM(D, H, batch_first=True)``).

    The same arithmetic as :func:`lstm_step_forward`, arranged for speed: the input side
    x_t w_ihᵀ + b of all T steps is one matrix product, every array the loop writes is allocated
    once (time-major, so a step's slice is contiguous), and the element-wise work happens in place,
    so each step costs one (N, H)·(H, 4H) product and about ten ufunc calls.

    Args:
        x: (N, T, D); h0, c0: (N, H) initial states.
        w_ih: (4H, D); w_hh: (4H, H); b_ih, b_hh: (4H,), gate rows i, f, g, o.

    Returns:
        h: (N, T, H) hidden states h_1 … h_T (``nn.LSTM``'s output; h_n = h[:, -1]).
        cache: :class:`LSTMCache`; ``cache.c[-1]`` is the final cell state c_n.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = _cell_args("lstm_forward", 4, x, h0, w_ih, w_hh, b_ih, b_hh, sequence=True)
    c0 = _same_shape("lstm_forward", "c0", c0, h0.shape).astype(x.dtype, copy=False)
    x_tm = _time_major(x)
    gates = _input_side(x_tm, w_ih, b_ih + b_hh)  # (T, N, 4H)
    t_len, n, hid = gates.shape[0], h0.shape[0], h0.shape[1]
    c, tanh_c, h = (np.empty((t_len, n, hid), dtype=x.dtype) for _ in range(3))
    w_hh_t = np.ascontiguousarray(w_hh.T)
    rec = np.empty((n, 4 * hid), dtype=x.dtype)
    form = _GateForm.of("ssts", hid, x.dtype)
    h_prev, c_prev = h0, c0
    for t in range(t_len):
        np.matmul(h_prev, w_hh_t, out=rec)
        gates[t] += rec
        _lstm_cell(gates[t], c_prev, c[t], tanh_c[t], h[t], form)
        h_prev, c_prev = h[t], c[t]
    return _batch_first(h), LSTMCache(x_tm, h0, c0, w_ih, w_hh, gates, c, tanh_c, h)


def lstm_backward(
    dh: np.ndarray, cache: LSTMCache, dc_last: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dh: (N, T, H) ∂L/∂h_t for every step.
        cache: from :func:`lstm_forward`.
        dc_last: (N, H) ∂L/∂c_T when the loss also uses the final cell state (a stateful model
            passing it on); None means zero.

    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), dw_ih (4H, D), dw_hh (4H, H), db_ih (4H,), db_hh (4H,).
    """
    x_tm, h0, c0, w_ih, w_hh, gates, c, tanh_c, h = cache
    t_len, n, hid = h.shape
    dh = _same_shape("lstm_backward", "dh", dh, (n, t_len, hid))
    dtype = np.result_type(dh, gates)
    da, scratch = np.empty(gates.shape, dtype=dtype), np.empty((n, 4 * hid), dtype=dtype)
    dh_carry, dh_total, dc = (np.zeros((n, hid), dtype=dtype) for _ in range(3))
    if dc_last is not None:
        dc += _same_shape("lstm_backward", "dc_last", dc_last, (n, hid))
    form = _GateForm.of("ssts", hid, dtype)
    for t in reversed(range(t_len)):
        np.add(dh[:, t], dh_carry, out=dh_total)
        _lstm_cell_backward(dh_total, dc, gates[t], c[t - 1] if t else c0, tanh_c[t], da[t], form, scratch)
        np.matmul(da[t], w_hh, out=dh_carry)
    return (_input_grad(da, w_ih), dh_carry, dc, *_weight_grads(da, da, x_tm, _shifted(h0, h)))


# --------------------------------------------------------------------------- GRU


class GRUStepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    w_ih: np.ndarray
    w_hh: np.ndarray
    gates: np.ndarray  # (N, 3H) activations [r z n]
    hn: np.ndarray  # (N, H) W_hn h + b_hn, the term the reset gate scales


class GRUCache(NamedTuple):
    x: np.ndarray  # (T, N, D) time-major copy of the input
    h0: np.ndarray  # (N, H)
    w_ih: np.ndarray
    w_hh: np.ndarray
    gates: np.ndarray  # (T, N, 3H) activations [r z n]
    hn: np.ndarray  # (T, N, H)
    h: np.ndarray  # (T, N, H)


def _gru_cell(gi: np.ndarray, gh: np.ndarray, h_prev: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The GRU's element-wise part. gi = x w_ihᵀ + b_ih, gh = h_prev w_hhᵀ + b_hh, both (N, 3H).

    Overwrites gi with the activations [r z n] and writes h; returns the n block of gh, W_hn h + b_hn.
    """
    hid = h_prev.shape[-1]
    rz = gi[:, : 2 * hid]
    rz += gh[:, : 2 * hid]
    _sigmoid_into(rz, rz)
    r, z, n = gi[:, :hid], gi[:, hid : 2 * hid], gi[:, 2 * hid :]
    hn = gh[:, 2 * hid :]
    n += r * hn  # the reset gate scales W_hn h + b_hn, after the product
    np.tanh(n, out=n)
    np.subtract(h_prev, n, out=h)
    h *= z
    h += n  # h' = n + z ⊙ (h − n) = (1 − z) ⊙ n + z ⊙ h
    return hn


def _gru_cell_backward(
    dh: np.ndarray, gates: np.ndarray, hn: np.ndarray, h_prev: np.ndarray, dgi: np.ndarray, dgh: np.ndarray
) -> np.ndarray:
    """Back through :func:`_gru_cell`: writes ∂L/∂gi and ∂L/∂gh (N, 3H); returns the part of
    ∂L/∂h_prev that flows through z ⊙ h (the rest goes through gh, i.e. dgh w_hh)."""
    hid = h_prev.shape[-1]
    r, z, n = gates[:, :hid], gates[:, hid : 2 * hid], gates[:, 2 * hid :]
    dr, dz, dn = dgi[:, :hid], dgi[:, hid : 2 * hid], dgi[:, 2 * hid :]
    np.multiply(dh, 1 - z, out=dn)
    dn *= 1 - n * n  # through tanh: now ∂L/∂(pre-activation of n)
    np.multiply(dh, h_prev - n, out=dz)
    dz *= z * (1 - z)
    np.multiply(dn, hn, out=dr)
    dr *= r * (1 - r)
    dgh[:, : 2 * hid] = dgi[:, : 2 * hid]
    np.multiply(dn, r, out=dgh[:, 2 * hid :])
    return dh * z


def gru_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, GRUStepCache]:
    """One GRU step (``nn.GRUCell``), gate rows r, z, n:

        r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h

    Args:
        x: (N, D); h_prev: (N, H); w_ih: (3H, D); w_hh: (3H, H); b_ih, b_hh: (3H,).

    Returns:
        h_next: (N, H); cache: :class:`GRUStepCache`.
    """
    x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_args("gru_step_forward", 3, x, h_prev, w_ih, w_hh, b_ih, b_hh, sequence=False)
    gates = x @ w_ih.T + b_ih
    h_next = np.empty_like(h_prev)
    hn = _gru_cell(gates, h_prev @ w_hh.T + b_hh, h_prev, h_next)
    return h_next, GRUStepCache(x, h_prev, w_ih, w_hh, gates, hn)


def gru_step_backward(dh_next: np.ndarray, cache: GRUStepCache) -> tuple[np.ndarray, ...]:
    """Gradients of :func:`gru_step_forward`.

    Args:
        dh_next: (N, H).

    Returns:
        dx (N, D), dh_prev (N, H), dw_ih (3H, D), dw_hh (3H, H), db_ih (3H,), db_hh (3H,)
        (unlike the RNN's and LSTM's, db_ih ≠ db_hh: r scales only the hidden side of n).
    """
    x, h_prev, w_ih, w_hh, gates, hn = cache
    dh_next = _same_shape("gru_step_backward", "dh_next", dh_next, h_prev.shape)
    dtype = np.result_type(dh_next, gates)
    dgi, dgh = np.empty(gates.shape, dtype=dtype), np.empty(gates.shape, dtype=dtype)
    dh_direct = _gru_cell_backward(dh_next, gates, hn, h_prev, dgi, dgh)
    return (dgi @ w_ih, dgh @ w_hh + dh_direct, *_weight_grads(dgi, dgh, x, h_prev))


def gru_forward(
    x: np.ndarray,
    h0: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, GRUCache]:
    """A GRU layer over whole sequences (``nn.GRU(D, H, batch_first=True)``).

    Args:
        x: (N, T, D); h0: (N, H); w_ih: (3H, D); w_hh: (3H, H); b_ih, b_hh: (3H,), rows r, z, n.

    Returns:
        h: (N, T, H) hidden states h_1 … h_T; cache: :class:`GRUCache`.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = _cell_args("gru_forward", 3, x, h0, w_ih, w_hh, b_ih, b_hh, sequence=True)
    x_tm = _time_major(x)
    gates = _input_side(x_tm, w_ih, b_ih)  # (T, N, 3H): the input side of every step
    t_len, n, hid = gates.shape[0], h0.shape[0], h0.shape[1]
    hn, h = np.empty((t_len, n, hid), dtype=x.dtype), np.empty((t_len, n, hid), dtype=x.dtype)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    gh = np.empty((n, 3 * hid), dtype=x.dtype)
    h_prev = h0
    for t in range(t_len):
        np.matmul(h_prev, w_hh_t, out=gh)
        gh += b_hh
        hn[t] = _gru_cell(gates[t], gh, h_prev, h[t])
        h_prev = h[t]
    return _batch_first(h), GRUCache(x_tm, h0, w_ih, w_hh, gates, hn, h)


def gru_backward(dh: np.ndarray, cache: GRUCache) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`gru_forward`.

    Args:
        dh: (N, T, H) ∂L/∂h_t for every step.

    Returns:
        dx (N, T, D), dh0 (N, H), dw_ih (3H, D), dw_hh (3H, H), db_ih (3H,), db_hh (3H,).
    """
    x_tm, h0, w_ih, w_hh, gates, hn, h = cache
    t_len, n, hid = h.shape
    dh = _same_shape("gru_backward", "dh", dh, (n, t_len, hid))
    dtype = np.result_type(dh, gates)
    dgi, dgh = np.empty(gates.shape, dtype=dtype), np.empty(gates.shape, dtype=dtype)
    carry = np.zeros((n, hid), dtype=dtype)
    for t in reversed(range(t_len)):
        direct = _gru_cell_backward(dh[:, t] + carry, gates[t], hn[t], h[t - 1] if t else h0, dgi[t], dgh[t])
        carry = direct + dgh[t] @ w_hh
    return (_input_grad(dgi, w_ih), carry, *_weight_grads(dgi, dgh, x_tm, _shifted(h0, h)))


# --------------------------------------------------------------------------- embeddings


class EmbeddingCache(NamedTuple):
    idx: np.ndarray  # integer indices, any shape
    vocab_size: int
    dtype: np.dtype


def check_embedding_args(idx: Shaped, w: Shaped, integer: bool) -> None:
    """ValueError unless w is (V, D) and idx holds integers in [0, V) (arrays or tensors)."""
    if w.ndim != 2:
        raise ValueError(f"embedding_forward: w has shape {tuple(w.shape)}; expected (V, D), one row per token")
    if not integer:
        raise ValueError(f"embedding_forward: idx must hold integer token indices, got dtype {idx.dtype}")
    if idx.numel() if hasattr(idx, "numel") else idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= w.shape[0]:
            raise ValueError(f"embedding_forward: indices must lie in [0, {w.shape[0]}) for a table of "
                             f"{w.shape[0]} rows; found {lo} … {hi}")


def embedding_forward(idx: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, EmbeddingCache]:
    """Look up rows of an embedding table: out[..., :] = w[idx[...]]  (``nn.Embedding``).

    Equal to one_hot(idx) @ w, without building the one-hot matrix.

    Args:
        idx: integer indices in [0, V), any shape (typically (N, T)).
        w: (V, D) the embedding table, one row per token.

    Returns:
        out: idx.shape + (D,).
        cache: :class:`EmbeddingCache` (idx, V, dtype of w).
    """
    idx, w = np.asarray(idx), np.asarray(w)
    check_embedding_args(idx, w, np.issubdtype(idx.dtype, np.integer))
    return w[idx], EmbeddingCache(idx, w.shape[0], w.dtype)


def embedding_backward(dout: np.ndarray, cache: EmbeddingCache) -> np.ndarray:
    """Gradient of :func:`embedding_forward` with respect to the table.

    Row v of dw is the sum of dout over every position where idx == v: a token that occurs
    twice gets both gradients. ``dw[idx] += dout`` would keep only one of them (fancy-index
    assignment does not accumulate), so the scatter-add is ``np.add.at``.

    Args:
        dout: idx.shape + (D,).

    Returns:
        dw: (V, D), zero in the rows of tokens that do not occur.
    """
    idx, vocab_size, dtype = cache
    dout = np.asarray(dout)
    if dout.shape[:-1] != idx.shape or dout.ndim != idx.ndim + 1:
        raise ValueError(f"embedding_backward: dout has shape {dout.shape}; expected idx.shape + (D,) = {idx.shape} + (D,)")
    dw = np.zeros((vocab_size, dout.shape[-1]), dtype=np.result_type(dout, dtype))
    np.add.at(dw, idx.reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dw


# --------------------------------------------------------------------------- gradient clipping


def check_clip_args(max_norm: float, norm_type: float) -> None:
    """ValueError unless max_norm > 0 and norm_type is ≥ 1 or inf."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    if not (norm_type == float("inf") or norm_type >= 1):
        raise ValueError(f"norm_type must be ≥ 1 or inf, got {norm_type}")


def clip_grad_norm(
    grads: Grads, max_norm: float, norm_type: float = 2.0, eps: float = 1e-6
) -> tuple[Grads, float]:
    """Rescale all gradients together when their global norm exceeds ``max_norm``.

    The norm is taken over every parameter at once, as if all gradients were one long vector:
    ‖g‖ = (Σ_p ‖g_p‖²)^{1/2}. With coef = max_norm / (‖g‖ + eps), every g_p is multiplied by
    min(coef, 1): the direction of the update is kept, only its length is capped. This is
    ``torch.nn.utils.clip_grad_norm_`` (same eps), without modifying its input.

    Args:
        grads: a dict {name: array} or a sequence of arrays, any shapes.
        max_norm: the largest global norm allowed (> 0).
        norm_type: 2 (default), any p ≥ 1, or ``inf`` (largest absolute entry).
        eps: added to the norm, as PyTorch does, so a zero gradient divides safely.

    Returns:
        clipped: the same kind of container (dict → dict, else list), new arrays.
        total_norm: the global norm *before* clipping (a float).
    """
    check_clip_args(max_norm, norm_type)
    named = isinstance(grads, Mapping)
    arrays = [np.asarray(g) for g in (grads.values() if named else grads)]
    if not arrays:
        return ({} if named else []), 0.0
    if norm_type == float("inf"):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in arrays)
    else:
        total = float(sum(np.sum(np.abs(g, dtype=np.float64) ** norm_type) for g in arrays) ** (1.0 / norm_type))
    coef = min(max_norm / (total + eps), 1.0)
    clipped = [g * np.asarray(coef, dtype=g.dtype if np.issubdtype(g.dtype, np.floating) else np.float64)
               for g in arrays]
    if named:
        return dict(zip(grads.keys(), clipped)), total
    return clipped, total


# --------------------------------------------------------------------------- causal 1-D convolution


class CausalConvCache(NamedTuple):
    xp: np.ndarray  # (N, C, (K − 1)·d + T) x with (K − 1)·d zeros on the left
    w: np.ndarray  # (F, C, K)
    dilation: int


def check_causal_conv_args(x: Shaped, w: Shaped, b: Shaped, dilation: int) -> int:
    """The dilation as an int, or a ValueError naming the argument with the wrong shape or value."""
    if x.ndim != 3:
        raise ValueError(f"causal_conv1d_forward: x has shape {tuple(x.shape)}; expected (N, C, T)")
    if w.ndim != 3 or w.shape[1] != x.shape[1]:
        raise ValueError(f"causal_conv1d_forward: w has shape {tuple(w.shape)}; expected (F, C, K) with C = {x.shape[1]} as in x")
    if tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"causal_conv1d_forward: b has shape {tuple(b.shape)}; expected ({w.shape[0]},), one per filter")
    if isinstance(dilation, bool) or int(dilation) != dilation or dilation < 1:
        raise ValueError(f"causal_conv1d_forward: dilation must be an integer ≥ 1, got {dilation}")
    return int(dilation)


def causal_conv1d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int = 1
) -> tuple[np.ndarray, CausalConvCache]:
    """A convolution over time that never looks ahead: out[t] depends on x[t], x[t − d], … only.

        out[n, f, t] = b[f] + Σ_{c, k} w[f, c, k] · x[n, c, t − (K − 1 − k)·d],   x[…, < 0] = 0

    Tap k = K − 1 reads the present; tap k reads (K − 1 − k)·d steps into the past. The sequence
    keeps its length T because the (K − 1)·d zeros are added on the left only (a centred
    ``padding='same'`` would let out[t] see x[t + 1]). Equal to
    ``F.conv1d(F.pad(x, ((K − 1)·d, 0)), w, b, dilation=d)``; stacking such layers with d = 1, 2,
    4, … gives a temporal convolutional network (TCN) whose receptive field doubles per layer.

    Args:
        x: (N, C, T); w: (F, C, K); b: (F,); dilation: d ≥ 1, the spacing between taps.

    Returns:
        out: (N, F, T); cache: :class:`CausalConvCache`.
    """
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    dilation = check_causal_conv_args(x, w, b, dilation)
    dtype = _float_dtype(x, w, b)
    n, _, t_len = x.shape
    k_size = w.shape[2]
    pad = (k_size - 1) * dilation
    xp = np.zeros((n, x.shape[1], pad + t_len), dtype=dtype)
    xp[:, :, pad:] = x
    w = w.astype(dtype, copy=False)
    out = np.zeros((n, w.shape[0], t_len), dtype=dtype)
    for k in range(k_size):
        out += np.matmul(w[:, :, k], xp[:, :, k * dilation : k * dilation + t_len])  # (F, C) @ (N, C, T)
    out += b.astype(dtype, copy=False)[:, None]
    return out, CausalConvCache(xp, w, dilation)


def causal_conv1d_backward(dout: np.ndarray, cache: CausalConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`causal_conv1d_forward`.

    Args:
        dout: (N, F, T).

    Returns:
        dx (N, C, T), dw (F, C, K), db (F,).
    """
    xp, w, dilation = cache
    f_out, _, k_size = w.shape
    t_len = xp.shape[2] - (k_size - 1) * dilation
    dout = _same_shape("causal_conv1d_backward", "dout", dout, (xp.shape[0], f_out, t_len))
    dxp = np.zeros(xp.shape, dtype=np.result_type(dout, xp))
    dw = np.empty(w.shape, dtype=dxp.dtype)
    for k in range(k_size):
        window = slice(k * dilation, k * dilation + t_len)
        dxp[:, :, window] += np.matmul(w[:, :, k].T, dout)
        dw[:, :, k] = np.tensordot(dout, xp[:, :, window], axes=([0, 2], [0, 2]))
    return dxp[:, :, (k_size - 1) * dilation :], dw, dout.sum(axis=(0, 2))


def receptive_field(kernel_size: int, dilations: Iterable[int]) -> int:
    """How many input steps one output of a stack of causal convolutions sees: 1 + Σ_l (K − 1)·d_l.

    With K = 2 and dilations 1, 2, 4, …, 2^{L−1} that is 2^L: exponential in the depth.
    """
    return 1 + sum((kernel_size - 1) * int(d) for d in dilations)


# --------------------------------------------------------------------------- character-level language modelling


def random_windows(
    ids: np.ndarray, seq_len: int, batch_size: int, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` random windows of a 1-D id sequence, each with its next-character targets
    (teacher forcing: the model reads the text and is scored on the text shifted by one).

    Args:
        ids: (L,) int ids, L ≥ seq_len + 1.
        seq_len: T, characters per window.
        rng: a Generator (advanced), an int seed, or None.

    Returns:
        x: (B, T) int64, x[b] = ids[s_b : s_b + T]; y: (B, T), y[b] = ids[s_b + 1 : s_b + T + 1].
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < seq_len + 1:
        raise ValueError(f"need a 1-D sequence of at least seq_len + 1 = {seq_len + 1} ids, got shape {ids.shape}")
    starts = np.random.default_rng(rng).integers(0, len(ids) - seq_len, size=batch_size)
    offsets = starts[:, None] + np.arange(seq_len + 1)
    windows = ids[offsets]
    return windows[:, :-1].astype(np.int64), windows[:, 1:].astype(np.int64)


def unigram_cross_entropy(train: np.ndarray, val: np.ndarray, vocab_size: int) -> float:
    """−(1/|val|) Σ_t log p(val_t), p the training set's character frequencies, in nats per character.

    What a model scores that knows how often each character occurs but ignores all context.
    Counts get add-one (Laplace) smoothing, so a character missing from the training part costs
    a finite amount.
    """
    counts = np.bincount(np.asarray(train), minlength=vocab_size).astype(np.float64) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-log_p[np.asarray(val)].mean())


def nats_to_bits(nats: float) -> float:
    """nats → bits: divide by ln 2 (a character coded with 1 nat costs 1.44 bits)."""
    return nats / math.log(2)
