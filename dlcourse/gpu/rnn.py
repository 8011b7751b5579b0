"""Recurrent networks in PyTorch: the twin of :mod:`dlcourse.ref.rnn`, and modules equal to
``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``.

- The same names and signatures as the NumPy reference, on tensors of any device (outputs stay on
  the input's device and dtype), with the same conventions: batch-first sequences (N, T, D);
  w_ih (G·H, D), w_hh (G·H, H), two biases; LSTM gate rows i, f, g, o; GRU rows r, z, n with
  the reset gate applied to (W_hn h + b_hn). The caches are the reference's named tuples
  (time-major inside). The ``*_forward`` functions compute values only (under ``no_grad``): the
  gradients come from the matching ``*_backward``, written out as in the reference.
- ``torch.autograd.Function``s run those written-out backward passes under ``loss.backward()``:
  :class:`RNNFunction`, :class:`LSTMFunction`, :class:`GRUFunction`, :class:`EmbeddingFunction`,
  :class:`CausalConv1dFunction`, with one-call forms :func:`rnn_layer`, :func:`lstm_layer`, :func:`gru_layer`,
  :func:`embedding`, :func:`causal_conv1d`.
- :class:`RNN`, :class:`LSTM`, :class:`GRU`: ``nn.Module``s with the constructor, parameter
  names (``weight_ih_l0``, …), initialisation and ``forward(input, hx)`` of PyTorch's, stacked
  over ``num_layers``; ``m.load_state_dict(torch_lstm.state_dict())`` copies a PyTorch model's
  weights and then both compute the same outputs and gradients.

``receptive_field`` and the language-modelling helpers (``random_windows``,
``unigram_cross_entropy``, ``nats_to_bits``) are device-free: the reference's own functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import reduce
from typing import Any

import torch
from torch import nn

from dlcourse.ref import rnn as _ref
from dlcourse.ref.rnn import (
    CausalConvCache,
    EmbeddingCache,
    GRUCache,
    GRUStepCache,
    LSTMCache,
    LSTMStepCache,
    RNNCache,
    RNNStepCache,
    check_causal_conv_args,
    check_cell_shapes,
    check_clip_args,
    check_embedding_args,
    check_nonlinearity,
    check_shape,
    nats_to_bits,
    random_windows,
    receptive_field,
    unigram_cross_entropy,
)

__all__ = [
    *_ref.__all__,  # every name of the reference, as its twin
    "RNNFunction",
    "LSTMFunction",
    "GRUFunction",
    "EmbeddingFunction",
    "CausalConv1dFunction",
    "rnn_layer",
    "lstm_layer",
    "gru_layer",
    "embedding",
    "causal_conv1d",
    "RNN",
    "LSTM",
    "GRU",
]

Tensor = torch.Tensor


# --------------------------------------------------------------------------- shared pieces


def _cell_args(kind: str, gates: int, *tensors: Tensor, sequence: bool) -> tuple[Tensor, ...]:
    """(x, h, w_ih, w_hh, b_ih, b_hh) in one floating dtype (integers → float64), shapes checked."""
    check_cell_shapes(kind, gates, *tensors, sequence=sequence)
    dtype = reduce(torch.promote_types, [t.dtype for t in tensors])
    if not dtype.is_floating_point:
        dtype = torch.float64
    return tuple(t.to(dtype) for t in tensors)


def _weight_grads(da_x: Tensor, da_h: Tensor, x: Tensor, h_prev: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """dw_ih, dw_hh, db_ih, db_hh summed over every leading axis (examples, and steps): one product each."""
    gh = da_x.shape[-1]
    flat_x, flat_h = da_x.reshape(-1, gh), da_h.reshape(-1, gh)
    return (flat_x.T @ x.reshape(-1, x.shape[-1]), flat_h.T @ h_prev.reshape(-1, h_prev.shape[-1]),
            flat_x.sum(dim=0), flat_h.sum(dim=0))


def _time_major(x: Tensor) -> Tensor:
    return x.transpose(0, 1).contiguous()


def _input_side(x_tm: Tensor, w_ih: Tensor, bias: Tensor) -> Tensor:
    """x_t w_ihᵀ + bias for all steps: (T, N, D) → (T, N, G·H), one matrix product."""
    t_len, n, d = x_tm.shape
    return torch.addmm(bias, x_tm.reshape(t_len * n, d), w_ih.T).reshape(t_len, n, -1)


def _input_grad(da: Tensor, w_ih: Tensor) -> Tensor:
    """dx (N, T, D) from the time-major da (T, N, G·H)."""
    t_len, n, gh = da.shape
    return _time_major((da.reshape(t_len * n, gh) @ w_ih).reshape(t_len, n, -1))


def _shifted(h0: Tensor, h: Tensor) -> Tensor:
    """States entering each step, time-major: h0, h_1, …, h_{T−1}."""
    return torch.cat([h0[None], h[:-1]])


def _phi(a: Tensor, nonlinearity: str) -> Tensor:
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)


def _phi_backward(dh: Tensor, h: Tensor, nonlinearity: str) -> Tensor:
    return dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)


# --------------------------------------------------------------------------- RNN


@torch.no_grad()
def rnn_step_forward(x: Tensor, h_prev: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
                     nonlinearity: str = "tanh") -> tuple[Tensor, RNNStepCache]:
    """h' = φ(x w_ihᵀ + b_ih + h w_hhᵀ + b_hh): x (N, D), h_prev (N, H), w_ih (H, D), w_hh (H, H) → (N, H)."""
    check_nonlinearity(nonlinearity)
    x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_args("rnn_step_forward", 1, x, h_prev, w_ih, w_hh, b_ih, b_hh,
                                                   sequence=False)
    h_next = _phi(x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh, nonlinearity)
    return h_next, RNNStepCache(x, h_prev, w_ih, w_hh, h_next, nonlinearity)


@torch.no_grad()
def rnn_step_backward(dh_next: Tensor, cache: RNNStepCache) -> tuple[Tensor, ...]:
    """dx (N, D), dh_prev (N, H), dw_ih (H, D), dw_hh (H, H), db_ih (H,), db_hh (H,)."""
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    da = _phi_backward(check_shape("rnn_step_backward", "dh_next", dh_next, h_next.shape), h_next, nonlinearity)
    return (da @ w_ih, da @ w_hh, *_weight_grads(da, da, x, h_prev))


@torch.no_grad()
def rnn_forward(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
                nonlinearity: str = "tanh") -> tuple[Tensor, RNNCache]:
    """The RNN over x (N, T, D) from h0 (N, H) → h (N, T, H); cache as :class:`RNNCache`."""
    check_nonlinearity(nonlinearity)
    x, h0, w_ih, w_hh, b_ih, b_hh = _cell_args("rnn_forward", 1, x, h0, w_ih, w_hh, b_ih, b_hh, sequence=True)
    x_tm = _time_major(x)
    h = _input_side(x_tm, w_ih, b_ih + b_hh)
    h_prev = h0
    for t in range(h.shape[0]):
        h[t] = _phi(torch.addmm(h[t], h_prev, w_hh.T), nonlinearity)
        h_prev = h[t]
    return _time_major(h), RNNCache(x_tm, h0, w_ih, w_hh, h, nonlinearity)


@torch.no_grad()
def rnn_backward(dh: Tensor, cache: RNNCache) -> tuple[Tensor, ...]:
    """BPTT: dh (N, T, H) → dx (N, T, D), dh0 (N, H), dw_ih, dw_hh, db_ih, db_hh."""
    x_tm, h0, w_ih, w_hh, h, nonlinearity = cache
    t_len, n, hid = h.shape
    dh = check_shape("rnn_backward", "dh", dh, (n, t_len, hid))
    da = torch.empty_like(h)
    carry = torch.zeros_like(h0)
    for t in reversed(range(t_len)):
        da[t] = _phi_backward(dh[:, t] + carry, h[t], nonlinearity)
        carry = da[t] @ w_hh
    return (_input_grad(da, w_ih), carry, *_weight_grads(da, da, x_tm, _shifted(h0, h)))


# --------------------------------------------------------------------------- LSTM


def _lstm_cell(a: Tensor, c_prev: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Pre-activations a (N, 4H) → (activations [i f g o], c, tanh c, h)."""
    i, f, g, o = a.chunk(4, dim=1)
    gates = torch.cat([torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)], dim=1)
    i, f, g, o = gates.chunk(4, dim=1)
    c = f * c_prev + i * g
    tanh_c = torch.tanh(c)
    return gates, c, tanh_c, o * tanh_c


def _lstm_cell_backward(dh: Tensor, dc: Tensor, gates: Tensor, c_prev: Tensor, tanh_c: Tensor) -> tuple[Tensor, Tensor]:
    """(∂L/∂a (N, 4H), ∂L/∂c_prev) from the gradients reaching h and c of one step."""
    i, f, g, o = gates.chunk(4, dim=1)
    dc = dc + dh * o * (1 - tanh_c * tanh_c)
    da = torch.cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                    dh * tanh_c * o * (1 - o)], dim=1)
    return da, dc * f


@torch.no_grad()
def lstm_step_forward(x: Tensor, h_prev: Tensor, c_prev: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
                      b_hh: Tensor) -> tuple[Tensor, Tensor, LSTMStepCache]:
    """One LSTM step, gates i, f, g, o: x (N, D), h_prev, c_prev (N, H), w_ih (4H, D), w_hh (4H, H) → h, c (N, H)."""
    x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_args("lstm_step_forward", 4, x, h_prev, w_ih, w_hh, b_ih, b_hh,
                                                   sequence=False)
    c_prev = check_shape("lstm_step_forward", "c_prev", c_prev, h_prev.shape).to(x.dtype)
    gates, c, tanh_c, h = _lstm_cell(x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh, c_prev)
    return h, c, LSTMStepCache(x, h_prev, c_prev, w_ih, w_hh, gates, tanh_c)


@torch.no_grad()
def lstm_step_backward(dh_next: Tensor, dc_next: Tensor, cache: LSTMStepCache) -> tuple[Tensor, ...]:
    """dx (N, D), dh_prev, dc_prev (N, H), dw_ih (4H, D), dw_hh (4H, H), db_ih, db_hh (4H,)."""
    x, h_prev, c_prev, w_ih, w_hh, gates, tanh_c = cache
    check_shape("lstm_step_backward", "dh_next", dh_next, h_prev.shape)
    check_shape("lstm_step_backward", "dc_next", dc_next, h_prev.shape)
    da, dc_prev = _lstm_cell_backward(dh_next, dc_next, gates, c_prev, tanh_c)
    return (da @ w_ih, da @ w_hh, dc_prev, *_weight_grads(da, da, x, h_prev))


@torch.no_grad()
def lstm_forward(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
                 b_hh: Tensor) -> tuple[Tensor, LSTMCache]:
    """An LSTM layer over x (N, T, D) from h0, c0 (N, H) → h (N, T, H); ``cache.c[-1]`` is c_n."""
    x, h0, w_ih, w_hh, b_ih, b_hh = _cell_args("lstm_forward", 4, x, h0, w_ih, w_hh, b_ih, b_hh, sequence=True)
    c0 = check_shape("lstm_forward", "c0", c0, h0.shape).to(x.dtype)
    x_tm = _time_major(x)
    gates = _input_side(x_tm, w_ih, b_ih + b_hh)
    c, tanh_c, h = (gates.new_empty((gates.shape[0], *h0.shape)) for _ in range(3))
    h_prev, c_prev = h0, c0
    for t in range(gates.shape[0]):
        gates[t], c[t], tanh_c[t], h[t] = _lstm_cell(torch.addmm(gates[t], h_prev, w_hh.T), c_prev)
        h_prev, c_prev = h[t], c[t]
    return _time_major(h), LSTMCache(x_tm, h0, c0, w_ih, w_hh, gates, c, tanh_c, h)


@torch.no_grad()
def lstm_backward(dh: Tensor, cache: LSTMCache, dc_last: Tensor | None = None) -> tuple[Tensor, ...]:
    """BPTT: dh (N, T, H) (and dc_last (N, H)) → dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh."""
    x_tm, h0, c0, w_ih, w_hh, gates, c, tanh_c, h = cache
    t_len, n, hid = h.shape
    dh = check_shape("lstm_backward", "dh", dh, (n, t_len, hid))
    da = torch.empty_like(gates)
    dh_carry = torch.zeros_like(h0)
    dc = torch.zeros_like(c0) if dc_last is None else check_shape("lstm_backward", "dc_last", dc_last, (n, hid))
    for t in reversed(range(t_len)):
        da[t], dc = _lstm_cell_backward(dh[:, t] + dh_carry, dc, gates[t], c[t - 1] if t else c0, tanh_c[t])
        dh_carry = da[t] @ w_hh
    return (_input_grad(da, w_ih), dh_carry, dc, *_weight_grads(da, da, x_tm, _shifted(h0, h)))


# --------------------------------------------------------------------------- GRU


def _gru_cell(gi: Tensor, gh: Tensor, h_prev: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """gi = x w_ihᵀ + b_ih, gh = h w_hhᵀ + b_hh (N, 3H) → (activations [r z n], W_hn h + b_hn, h')."""
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)  # the reset gate scales W_hn h + b_hn, after the product
    return torch.cat([r, z, n], dim=1), h_n, (1 - z) * n + z * h_prev


def _gru_cell_backward(dh: Tensor, gates: Tensor, hn: Tensor, h_prev: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(∂L/∂gi, ∂L/∂gh (N, 3H), the part of ∂L/∂h_prev through z ⊙ h_prev)."""
    r, z, n = gates.chunk(3, dim=1)
    dn = dh * (1 - z) * (1 - n * n)
    dz = dh * (h_prev - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    return torch.cat([dr, dz, dn], dim=1), torch.cat([dr, dz, dn * r], dim=1), dh * z


@torch.no_grad()
def gru_step_forward(x: Tensor, h_prev: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
                     b_hh: Tensor) -> tuple[Tensor, GRUStepCache]:
    """One GRU step, rows r, z, n: x (N, D), h_prev (N, H), w_ih (3H, D), w_hh (3H, H) → (N, H)."""
    x, h_prev, w_ih, w_hh, b_ih, b_hh = _cell_args("gru_step_forward", 3, x, h_prev, w_ih, w_hh, b_ih, b_hh,
                                                   sequence=False)
    gates, hn, h = _gru_cell(x @ w_ih.T + b_ih, h_prev @ w_hh.T + b_hh, h_prev)
    return h, GRUStepCache(x, h_prev, w_ih, w_hh, gates, hn)


@torch.no_grad()
def gru_step_backward(dh_next: Tensor, cache: GRUStepCache) -> tuple[Tensor, ...]:
    """dx (N, D), dh_prev (N, H), dw_ih (3H, D), dw_hh (3H, H), db_ih, db_hh (3H,)."""
    x, h_prev, w_ih, w_hh, gates, hn = cache
    dgi, dgh, direct = _gru_cell_backward(check_shape("gru_step_backward", "dh_next", dh_next, h_prev.shape),
                                          gates, hn, h_prev)
    return (dgi @ w_ih, dgh @ w_hh + direct, *_weight_grads(dgi, dgh, x, h_prev))


@torch.no_grad()
def gru_forward(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
                b_hh: Tensor) -> tuple[Tensor, GRUCache]:
    """A GRU layer over x (N, T, D) from h0 (N, H) → h (N, T, H); cache as :class:`GRUCache`."""
    x, h0, w_ih, w_hh, b_ih, b_hh = _cell_args("gru_forward", 3, x, h0, w_ih, w_hh, b_ih, b_hh, sequence=True)
    x_tm = _time_major(x)
    gates = _input_side(x_tm, w_ih, b_ih)
    hn, h = gates.new_empty((gates.shape[0], *h0.shape)), gates.new_empty((gates.shape[0], *h0.shape))
    h_prev = h0
    for t in range(gates.shape[0]):
        gates[t], hn[t], h[t] = _gru_cell(gates[t], torch.addmm(b_hh, h_prev, w_hh.T), h_prev)
        h_prev = h[t]
    return _time_major(h), GRUCache(x_tm, h0, w_ih, w_hh, gates, hn, h)


@torch.no_grad()
def gru_backward(dh: Tensor, cache: GRUCache) -> tuple[Tensor, ...]:
    """BPTT: dh (N, T, H) → dx (N, T, D), dh0 (N, H), dw_ih, dw_hh, db_ih, db_hh."""
    x_tm, h0, w_ih, w_hh, gates, hn, h = cache
    t_len, n, hid = h.shape
    dh = check_shape("gru_backward", "dh", dh, (n, t_len, hid))
    dgi, dgh = torch.empty_like(gates), torch.empty_like(gates)
    carry = torch.zeros_like(h0)
    for t in reversed(range(t_len)):
        dgi[t], dgh[t], direct = _gru_cell_backward(dh[:, t] + carry, gates[t], hn[t], h[t - 1] if t else h0)
        carry = direct + dgh[t] @ w_hh
    return (_input_grad(dgi, w_ih), carry, *_weight_grads(dgi, dgh, x_tm, _shifted(h0, h)))


# --------------------------------------------------------------------------- embeddings, clipping, causal conv


@torch.no_grad()
def embedding_forward(idx: Tensor, w: Tensor) -> tuple[Tensor, EmbeddingCache]:
    """w[idx]: idx integer (any shape) in [0, V), w (V, D) → idx.shape + (D,)."""
    check_embedding_args(idx, w, not (idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool))
    return w[idx], EmbeddingCache(idx, w.shape[0], w.dtype)


@torch.no_grad()
def embedding_backward(dout: Tensor, cache: EmbeddingCache) -> Tensor:
    """dw (V, D): the rows of dout added into the rows their indices name (``index_add_``, repeats accumulate)."""
    idx, vocab_size, dtype = cache
    if tuple(dout.shape[:-1]) != tuple(idx.shape) or dout.dim() != idx.dim() + 1:
        raise ValueError(f"embedding_backward: dout has shape {tuple(dout.shape)}; expected idx.shape + (D,) = "
                         f"{tuple(idx.shape)} + (D,)")
    dw = torch.zeros(vocab_size, dout.shape[-1], dtype=torch.promote_types(dout.dtype, dtype), device=dout.device)
    return dw.index_add_(0, idx.reshape(-1).long(), dout.reshape(-1, dout.shape[-1]).to(dw.dtype))


@torch.no_grad()
def clip_grad_norm(grads: Any, max_norm: float, norm_type: float = 2.0, eps: float = 1e-6) -> tuple[Any, float]:
    """All gradients scaled by min(1, max_norm / (‖g‖ + eps)), ‖g‖ their one global norm.

    grads: a dict of tensors or a sequence of tensors (not modified). Returns (the same kind of
    container with new tensors, the norm before clipping as a float).
    """
    check_clip_args(max_norm, norm_type)
    named = isinstance(grads, Mapping)
    tensors = list(grads.values() if named else grads)
    if not tensors:
        return ({} if named else []), 0.0
    norms = torch.stack([torch.linalg.vector_norm(g.double(), norm_type).cpu() for g in tensors])
    total = float(torch.linalg.vector_norm(norms, norm_type))
    coef = min(max_norm / (total + eps), 1.0)
    clipped = [g * coef for g in tensors]
    return (dict(zip(grads.keys(), clipped)) if named else clipped), total


@torch.no_grad()
def causal_conv1d_forward(x: Tensor, w: Tensor, b: Tensor, dilation: int = 1) -> tuple[Tensor, CausalConvCache]:
    """Causal dilated convolution, x (N, C, T), w (F, C, K), b (F,) → (N, F, T): zeros on the left only."""
    dilation = check_causal_conv_args(x, w, b, dilation)
    xp = nn.functional.pad(x, ((w.shape[2] - 1) * dilation, 0))
    return nn.functional.conv1d(xp, w, b, dilation=dilation), CausalConvCache(xp, w, dilation)


@torch.no_grad()
def causal_conv1d_backward(dout: Tensor, cache: CausalConvCache) -> tuple[Tensor, Tensor, Tensor]:
    """dx (N, C, T), dw (F, C, K), db (F,), one tap at a time as in the reference."""
    xp, w, dilation = cache
    f_out, _, k_size = w.shape
    t_len = xp.shape[2] - (k_size - 1) * dilation
    dout = check_shape("causal_conv1d_backward", "dout", dout, (xp.shape[0], f_out, t_len))
    dxp = torch.zeros_like(xp)
    dw = torch.empty_like(w)
    for k in range(k_size):
        window = slice(k * dilation, k * dilation + t_len)
        dxp[:, :, window] += torch.matmul(w[:, :, k].T, dout)
        dw[:, :, k] = torch.tensordot(dout, xp[:, :, window], dims=([0, 2], [0, 2]))
    return dxp[:, :, (k_size - 1) * dilation :], dw, dout.sum(dim=(0, 2))


# --------------------------------------------------------------------------- autograd Functions


class RNNFunction(torch.autograd.Function):
    """``RNNFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)`` → h (N, T, H), backward by :func:`rnn_backward`."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):  # type: ignore[override]
        h, cache = rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        ctx.cache = cache  # a named tuple of tensors and a string: kept whole for the backward
        return h

    @staticmethod
    def backward(ctx, dh):  # type: ignore[override]
        return (*rnn_backward(dh.contiguous(), ctx.cache), None)


class LSTMFunction(torch.autograd.Function):
    """``LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)`` → (h (N, T, H), c_n (N, H)), backward by :func:`lstm_backward`."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):  # type: ignore[override]
        h, cache = lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        ctx.cache = cache
        return h, cache.c[-1].clone()

    @staticmethod
    def backward(ctx, dh, dc_last):  # type: ignore[override]
        return lstm_backward(dh.contiguous(), ctx.cache, dc_last)


class GRUFunction(torch.autograd.Function):
    """``GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh)`` → h (N, T, H), backward by :func:`gru_backward`."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):  # type: ignore[override]
        h, cache = gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.cache = cache
        return h

    @staticmethod
    def backward(ctx, dh):  # type: ignore[override]
        return gru_backward(dh.contiguous(), ctx.cache)


class EmbeddingFunction(torch.autograd.Function):
    """``EmbeddingFunction.apply(idx, w)`` → w[idx], backward by :func:`embedding_backward`."""

    @staticmethod
    def forward(ctx, idx, w):  # type: ignore[override]
        out, cache = embedding_forward(idx, w)
        ctx.cache = cache
        return out

    @staticmethod
    def backward(ctx, dout):  # type: ignore[override]
        return None, embedding_backward(dout, ctx.cache)


class CausalConv1dFunction(torch.autograd.Function):
    """``CausalConv1dFunction.apply(x, w, b, dilation)`` → (N, F, T), backward by :func:`causal_conv1d_backward`."""

    @staticmethod
    def forward(ctx, x, w, b, dilation=1):  # type: ignore[override]
        out, cache = causal_conv1d_forward(x, w, b, dilation)
        ctx.cache = cache
        return out

    @staticmethod
    def backward(ctx, dout):  # type: ignore[override]
        return (*causal_conv1d_backward(dout.contiguous(), ctx.cache), None)


def rnn_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
        nonlinearity: str = "tanh") -> Tensor:
    """The RNN layer with its written-out BPTT: x (N, T, D), h0 (N, H) → h (N, T, H)."""
    return RNNFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
         b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM layer with its written-out BPTT: x (N, T, D), h0, c0 (N, H) → (h (N, T, H), c_n (N, H))."""
    return LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)


def gru_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """The GRU layer with its written-out BPTT: x (N, T, D), h0 (N, H) → h (N, T, H)."""
    return GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh)


def embedding(idx: Tensor, w: Tensor) -> Tensor:
    """w[idx] with the scatter-add backward: idx (…) integer, w (V, D) → (…, D)."""
    return EmbeddingFunction.apply(idx, w)


def causal_conv1d(x: Tensor, w: Tensor, b: Tensor, dilation: int = 1) -> Tensor:
    """The causal dilated convolution with its written-out backward: x (N, C, T) → (N, F, T)."""
    return CausalConv1dFunction.apply(x, w, b, dilation)


# --------------------------------------------------------------------------- modules like nn.RNN / nn.LSTM / nn.GRU


class _Recurrent(nn.Module):
    """Stacked layers of one cell kind, with PyTorch's constructor, parameter names and initialisation."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, batch_first: bool = False) -> None:
        super().__init__()
        if min(input_size, hidden_size, num_layers) < 1:
            raise ValueError(f"input_size, hidden_size and num_layers must be ≥ 1, got "
                             f"{input_size}, {hidden_size}, {num_layers}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first = batch_first
        g = self.gates * hidden_size
        for k in range(num_layers):
            d = input_size if k == 0 else hidden_size
            for name, shape in (("weight_ih", (g, d)), ("weight_hh", (g, hidden_size)), ("bias_ih", (g,)),
                                ("bias_hh", (g,))):
                self.register_parameter(f"{name}_l{k}", nn.Parameter(torch.empty(shape)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(−1/√H, 1/√H), as PyTorch initialises its recurrent layers."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def layer_params(self, k: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(w_ih, w_hh, b_ih, b_hh) of layer k."""
        return tuple(getattr(self, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _inputs(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor]:
        if input.dim() != 3:
            raise ValueError(f"{type(self).__name__} expects a 3-D input "
                             f"{'(N, T, D)' if self.batch_first else '(T, N, D)'}, got shape {tuple(input.shape)}")
        x = input if self.batch_first else input.transpose(0, 1)
        shape = (self.num_layers, x.shape[0], self.hidden_size)
        if hx is None:
            return x, x.new_zeros(shape)
        return x, check_shape(type(self).__name__, "the initial state", hx, shape)

    def _output(self, x: Tensor) -> Tensor:
        return x if self.batch_first else x.transpose(0, 1)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}")


class RNN(_Recurrent):
    """``nn.RNN`` with the written-out BPTT of :func:`rnn_backward` (tanh or ReLU, stacked, no dropout).

    forward(input, hx=None): input (T, N, D), or (N, T, D) with ``batch_first``; hx (L, N, H).
    Returns (output (…, H) of the last layer, h_n (L, N, H)).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 batch_first: bool = False) -> None:
        check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, batch_first)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, h0 = self._inputs(input, hx)
        finals = []
        for k in range(self.num_layers):
            x = rnn_layer(x, h0[k], *self.layer_params(k), self.nonlinearity)
            finals.append(x[:, -1])
        return self._output(x), torch.stack(finals)


class LSTM(_Recurrent):
    """``nn.LSTM`` (gate rows i, f, g, o) with the written-out BPTT of :func:`lstm_backward`.

    forward(input, hx=None): hx = (h0, c0), each (L, N, H). Returns (output, (h_n, c_n)).
    """

    gates = 4

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        x, h0 = self._inputs(input, None if hx is None else hx[0])
        c0 = torch.zeros_like(h0) if hx is None else check_shape("LSTM", "c0", hx[1], h0.shape)
        hs, cs = [], []
        for k in range(self.num_layers):
            x, c_n = lstm_layer(x, h0[k], c0[k], *self.layer_params(k))
            hs.append(x[:, -1])
            cs.append(c_n)
        return self._output(x), (torch.stack(hs), torch.stack(cs))


class GRU(_Recurrent):
    """``nn.GRU`` (rows r, z, n; reset gate on W_hn h + b_hn) with the written-out BPTT of :func:`gru_backward`.

    forward(input, hx=None): hx (L, N, H). Returns (output, h_n (L, N, H)).
    """

    gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, h0 = self._inputs(input, hx)
        finals = []
        for k in range(self.num_layers):
            x = gru_layer(x, h0[k], *self.layer_params(k))
            finals.append(x[:, -1])
        return self._output(x), torch.stack(finals)
