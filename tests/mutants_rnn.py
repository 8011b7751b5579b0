"""Correct alternatives and known-wrong implementations (mutants) for the 10-rnns checks.

Each mutant is a mistake students make with recurrent layers, named after it. ``MUTANTS[check]``
lists ``(implementation, diagnosis pattern, caught by the public cases, hint pattern or None)``;
a diagnosis pattern of None means the student's own code crashes (its traceback is the feedback).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

import dlcourse.ref as ref
from dlcourse.checks import rnn as checks
from dlcourse.gpu.charlm import CharLM as ReferenceCharLM

Impl = Callable[..., Any]


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _phi(a, nonlinearity):
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


# ----------------------------------------------------------------- rnn_step_forward
def rnn_step_forward_stacked(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """[x h] [w_ih w_hh]ᵀ: one product over the concatenated input and state."""
    a = np.hstack([x, h_prev]) @ np.hstack([w_ih, w_hh]).T + (b_ih + b_hh)
    h_next = np.where(a > 0, a, 0.0) if nonlinearity == "relu" else np.tanh(a)
    return h_next, (x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_forward_one_bias(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_next = _phi(x @ w_ih.T + b_ih + h_prev @ w_hh.T, nonlinearity)
    return h_next, (x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_forward_no_recurrence(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_next = _phi(x @ w_ih.T + b_ih + b_hh, nonlinearity)
    return h_next, (x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_forward_no_nonlinearity(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_next = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
    return h_next, (x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_forward_column_vectors(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """The lecture's column-vector formula applied to a batch of rows: (H, N) out."""
    h_next = _phi(w_ih @ x.T + w_hh @ h_prev.T + (b_ih + b_hh)[:, None], nonlinearity)
    return h_next, (x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_forward_always_tanh(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_next = np.tanh(x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh)
    return h_next, (x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_forward_float32(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    a = (x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh).astype(np.float32)
    h_next = _phi(a, nonlinearity)
    return h_next, (x, h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_step_forward_caches_preactivation(x, h_prev, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    a = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
    return _phi(a, nonlinearity), (x, h_prev, w_ih, w_hh, a, nonlinearity)


# ----------------------------------------------------------------- rnn_forward
def rnn_forward_preallocated(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    n, t_len, _ = x.shape
    h = np.empty((n, t_len, h0.shape[1]))
    prev = h0
    for t in range(t_len):
        prev = _phi(x[:, t] @ w_ih.T + b_ih + prev @ w_hh.T + b_hh, nonlinearity)
        h[:, t] = prev
    return h, (np.ascontiguousarray(x.transpose(1, 0, 2)), h0, w_ih, w_hh,
               np.ascontiguousarray(h.transpose(1, 0, 2)), nonlinearity)


def _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, carry=True):
    states, prev = [], h0
    for t in range(x.shape[1]):
        new = _phi(x[:, t] @ w_ih.T + b_ih + prev @ w_hh.T + b_hh, nonlinearity)
        states.append(new)
        if carry:
            prev = new
    return np.stack(states)  # (T, N, H)


def rnn_forward_time_major_output(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_tm = _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    return h_tm, (x.transpose(1, 0, 2), h0, w_ih, w_hh, h_tm, nonlinearity)


def rnn_forward_last_state_only(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_tm = _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    return h_tm[-1], (x.transpose(1, 0, 2), h0, w_ih, w_hh, h_tm, nonlinearity)


def rnn_forward_includes_h0(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_tm = _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    return np.concatenate([h0[:, None], h_tm.transpose(1, 0, 2)], axis=1), \
        (x.transpose(1, 0, 2), h0, w_ih, w_hh, h_tm, nonlinearity)


def rnn_forward_state_not_carried(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_tm = _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, carry=False)
    return h_tm.transpose(1, 0, 2), (x.transpose(1, 0, 2), h0, w_ih, w_hh, h_tm, nonlinearity)


def rnn_forward_caches_batch_first_x(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_tm = _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    return h_tm.transpose(1, 0, 2), (x, h0, w_ih, w_hh, h_tm, nonlinearity)


def rnn_forward_caches_batch_first_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_tm = _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    return h_tm.transpose(1, 0, 2), (x.transpose(1, 0, 2), h0, w_ih, w_hh, h_tm.transpose(1, 0, 2), nonlinearity)


def rnn_forward_float32_buffer(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    h_tm = _rnn_states(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity).astype(np.float32)
    return h_tm.transpose(1, 0, 2), (x.transpose(1, 0, 2), h0, w_ih, w_hh, h_tm, nonlinearity)


# ----------------------------------------------------------------- rnn_step_backward
def rnn_step_backward_einsum(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    da = dh_next * ((1.0 - h_next * h_next) if nonlinearity == "tanh" else np.greater(h_next, 0))
    db = np.einsum("nh->h", da)
    return (np.einsum("nh,hd->nd", da, w_ih), np.einsum("nh,hk->nk", da, w_hh),
            np.einsum("nh,nd->hd", da, x), np.einsum("nh,nk->hk", da, h_prev), db, db)


def _rnn_step_grads(da, x, h_prev, w_ih, w_hh):
    return da @ w_ih, da @ w_hh, da.T @ x, da.T @ h_prev, da.sum(0), da.sum(0)


def _local(h_next, nonlinearity):
    return 1 - h_next**2 if nonlinearity == "tanh" else (h_next > 0)


def rnn_step_backward_tanh_applied_again(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    local = 1 - np.tanh(h_next) ** 2 if nonlinearity == "tanh" else (h_next > 0)
    return _rnn_step_grads(dh_next * local, x, h_prev, w_ih, w_hh)


def rnn_step_backward_not_squared(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    local = 1 - h_next if nonlinearity == "tanh" else (h_next > 0)
    return _rnn_step_grads(dh_next * local, x, h_prev, w_ih, w_hh)


def rnn_step_backward_relu_mask_ge(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    local = 1 - h_next**2 if nonlinearity == "tanh" else (h_next >= 0)
    return _rnn_step_grads(dh_next * local, x, h_prev, w_ih, w_hh)


def rnn_step_backward_no_local_derivative(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    return _rnn_step_grads(dh_next, x, h_prev, w_ih, w_hh)


def rnn_step_backward_dh_prev_transposed(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    da = dh_next * _local(h_next, nonlinearity)
    grads = list(_rnn_step_grads(da, x, h_prev, w_ih, w_hh))
    grads[1] = da @ w_hh.T
    return tuple(grads)


def rnn_step_backward_dw_hh_transposed(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    da = dh_next * _local(h_next, nonlinearity)
    grads = list(_rnn_step_grads(da, x, h_prev, w_ih, w_hh))
    grads[3] = h_prev.T @ da
    return tuple(grads)


def rnn_step_backward_bias_not_summed(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    da = dh_next * _local(h_next, nonlinearity)
    return (*_rnn_step_grads(da, x, h_prev, w_ih, w_hh)[:4], da, da)


def rnn_step_backward_second_bias_zero(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    da = dh_next * _local(h_next, nonlinearity)
    grads = _rnn_step_grads(da, x, h_prev, w_ih, w_hh)
    return (*grads[:5], np.zeros_like(grads[5]))


def rnn_step_backward_always_tanh(dh_next, cache):
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    return _rnn_step_grads(dh_next * (1 - h_next**2), x, h_prev, w_ih, w_hh)


# ----------------------------------------------------------------- rnn_backward
def rnn_backward_inline(dh, cache):
    """No step function: the whole recurrence written out, weight gradients by einsum at the end."""
    x_tm, h0, w_ih, w_hh, h_tm, nonlinearity = cache
    t_len = h_tm.shape[0]
    da = np.zeros(h_tm.shape)
    arriving = np.zeros(h0.shape)
    for t in range(t_len - 1, -1, -1):
        total = dh[:, t] + arriving
        da[t] = total * _local(h_tm[t], nonlinearity)
        arriving = da[t] @ w_hh
    h_prev = np.concatenate([h0[None], h_tm[:-1]])
    db = da.sum(axis=(0, 1))
    return (np.einsum("tnh,hd->ntd", da, w_ih), arriving, np.einsum("tnh,tnd->hd", da, x_tm),
            np.einsum("tnh,tnk->hk", da, h_prev), db, db.copy())


def _bptt(dh, cache, carry=True, backwards=True, shift=True, accumulate=True):
    x_tm, h0, w_ih, w_hh, h_tm, nonlinearity = cache
    t_len = h_tm.shape[0]
    dx = np.zeros((x_tm.shape[1], t_len, x_tm.shape[2]))
    dw_ih, dw_hh = np.zeros(w_ih.shape), np.zeros(w_hh.shape)
    db = np.zeros(w_hh.shape[0])
    arriving = np.zeros(h0.shape)
    for t in (range(t_len - 1, -1, -1) if backwards else range(t_len)):
        da = (dh[:, t] + (arriving if carry else 0)) * _local(h_tm[t], nonlinearity)
        prev = (h_tm[t - 1] if t > 0 else h0) if shift else h_tm[t]
        dx[:, t] = da @ w_ih
        arriving = da @ w_hh
        if accumulate:
            dw_ih, dw_hh, db = dw_ih + da.T @ x_tm[t], dw_hh + da.T @ prev, db + da.sum(0)
        else:
            dw_ih, dw_hh, db = da.T @ x_tm[t], da.T @ prev, da.sum(0)
    return dx, arriving, dw_ih, dw_hh, db, db.copy()


def rnn_backward_no_carry(dh, cache):
    return _bptt(dh, cache, carry=False)


def rnn_backward_forwards_in_time(dh, cache):
    return _bptt(dh, cache, backwards=False)


def rnn_backward_uses_h_t_as_input_state(dh, cache):
    return _bptt(dh, cache, shift=False)


def rnn_backward_weights_not_summed(dh, cache):
    return _bptt(dh, cache, accumulate=False)


def rnn_backward_dh0_zero(dh, cache):
    dx, dh0, *rest = _bptt(dh, cache)
    return (dx, np.zeros_like(dh0), *rest)


# ----------------------------------------------------------------- clip_grad_norm
def clip_grad_norm_concatenated(grads, max_norm, eps=1e-6):
    items = grads.items() if isinstance(grads, dict) else enumerate(grads)
    flat = np.concatenate([np.ravel(g).astype(np.float64) for _, g in items] or [np.zeros(0)])
    total = float(np.linalg.norm(flat))
    coef = max_norm / (total + eps)
    scale = coef if coef < 1 else 1.0
    if isinstance(grads, dict):
        return {k: np.multiply(g, scale) for k, g in grads.items()}, total
    return [np.multiply(g, scale) for g in grads], total


def _arrays(grads):
    return list(grads.values()) if isinstance(grads, dict) else list(grads)


def _pack(grads, arrays):
    return dict(zip(grads, arrays)) if isinstance(grads, dict) else arrays


def _global_norm(arrays):
    return float(np.sqrt(sum(float(np.sum(np.asarray(g, dtype=float) ** 2)) for g in arrays)))


def clip_grad_norm_per_parameter(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    clipped = [g * min(1.0, max_norm / (np.linalg.norm(g) + eps)) for g in arrays]
    return _pack(grads, clipped), _global_norm(arrays)


def clip_grad_norm_value_clipping(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    return _pack(grads, [np.clip(g, -max_norm, max_norm) for g in arrays]), _global_norm(arrays)


def clip_grad_norm_always_rescales(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    total = _global_norm(arrays)
    return _pack(grads, [g * (max_norm / (total + eps)) for g in arrays]), total


def clip_grad_norm_returns_norm_after(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    total = _global_norm(arrays)
    coef = min(1.0, max_norm / (total + eps))
    return _pack(grads, [g * coef for g in arrays]), total * coef


def clip_grad_norm_no_square_root(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    total = _global_norm(arrays)
    coef = min(1.0, max_norm / (total + eps))
    return _pack(grads, [g * coef for g in arrays]), total**2


def clip_grad_norm_in_place(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    total = _global_norm(arrays)
    coef = min(1.0, max_norm / (total + eps))
    for g in arrays:
        g *= coef  # the caller's arrays change
    return _pack(grads, arrays), total


def clip_grad_norm_returns_the_inputs_unclipped(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    total = _global_norm(arrays)
    coef = max_norm / (total + eps)
    return _pack(grads, [g * coef if coef < 1 else g for g in arrays]), total


def clip_grad_norm_ignores_eps(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    total = _global_norm(arrays)
    coef = min(1.0, max_norm / total) if total > 0 else 1.0
    return _pack(grads, [g * coef for g in arrays]), total


def clip_grad_norm_always_a_list(grads, max_norm, eps=1e-6):
    arrays = _arrays(grads)
    total = _global_norm(arrays)
    coef = min(1.0, max_norm / (total + eps))
    return [g * coef for g in arrays], total


# ----------------------------------------------------------------- lstm_step_forward
def lstm_step_forward_split(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh):
    a = np.concatenate([x, h_prev], axis=1) @ np.concatenate([w_ih, w_hh], axis=1).T + b_ih + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, o = (np.exp(-np.logaddexp(0.0, -z)) for z in (a_i, a_f, a_o))  # σ(z) = e^{−log(1 + e^{−z})}
    g = np.tanh(a_g)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x, h_prev, c_prev, w_ih, w_hh, np.hstack([i, f, g, o]), np.tanh(c_next))


def _lstm(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh, order="ifgo", g_act=np.tanh, squash=True, forget=True,
          both=True, cache_pre=False):
    hid = h_prev.shape[1]
    a = x @ w_ih.T + b_ih + h_prev @ w_hh.T + (b_hh if both else 0)
    blocks = {name: a[:, k * hid:(k + 1) * hid] for k, name in enumerate(order)}
    i, f, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"])
    g = g_act(blocks["g"])
    c_next = (f * c_prev if forget else c_prev) + i * g
    h_next = o * (np.tanh(c_next) if squash else c_next)
    gates = a if cache_pre else np.concatenate([i, f, g, o], axis=1)
    return h_next, c_next, (x, h_prev, c_prev, w_ih, w_hh, gates, np.tanh(c_next))


def lstm_step_forward_ifog_order(*args):
    return _lstm(*args, order="ifog")


def lstm_step_forward_sigmoid_candidate(*args):
    return _lstm(*args, g_act=_sigmoid)


def lstm_step_forward_cell_not_squashed(*args):
    return _lstm(*args, squash=False)


def lstm_step_forward_no_forget_gate(*args):
    return _lstm(*args, forget=False)


def lstm_step_forward_one_bias(*args):
    return _lstm(*args, both=False)


def lstm_step_forward_caches_preactivations(*args):
    return _lstm(*args, cache_pre=True)


# ----------------------------------------------------------------- lstm_step_backward
def lstm_step_backward_split(dh_next, dc_next, cache):
    x, h_prev, c_prev, w_ih, w_hh, gates, tanh_c = cache
    i, f, g, o = np.split(gates, 4, axis=1)
    d_c = dh_next * o * (1.0 - tanh_c * tanh_c) + dc_next
    local = np.hstack([i * (1 - i), f * (1 - f), 1 - g * g, o * (1 - o)])
    upstream = np.hstack([d_c * g, d_c * c_prev, d_c * i, dh_next * tanh_c])
    da = upstream * local
    db = np.add.reduce(da, axis=0)
    return da @ w_ih, da @ w_hh, d_c * f, np.dot(da.T, x), np.dot(da.T, h_prev), db, db.copy()


def _lstm_back(dh, dc_next, cache, use_dc=True, through_tanh=True, times_f=True, order="ifgo", reapply=False):
    x, h_prev, c_prev, w_ih, w_hh, gates, tanh_c = cache
    hid = h_prev.shape[1]
    i, f, g, o = (gates[:, k * hid:(k + 1) * hid] for k in range(4))
    dc = (dc_next if use_dc else 0) + dh * o * ((1 - tanh_c**2) if through_tanh else 1)
    if reapply:
        si, sf, so, tg = _sigmoid(i), _sigmoid(f), _sigmoid(o), np.tanh(g)
        d = {"i": dc * g * si * (1 - si), "f": dc * c_prev * sf * (1 - sf), "g": dc * i * (1 - tg**2),
             "o": dh * tanh_c * so * (1 - so)}
    else:
        d = {"i": dc * g * i * (1 - i), "f": dc * c_prev * f * (1 - f), "g": dc * i * (1 - g**2),
             "o": dh * tanh_c * o * (1 - o)}
    da = np.concatenate([d[name] for name in order], axis=1)
    return da @ w_ih, da @ w_hh, dc * f if times_f else dc, da.T @ x, da.T @ h_prev, da.sum(0), da.sum(0)


def lstm_step_backward_ignores_dc_next(dh_next, dc_next, cache):
    return _lstm_back(dh_next, dc_next, cache, use_dc=False)


def lstm_step_backward_skips_tanh_derivative(dh_next, dc_next, cache):
    return _lstm_back(dh_next, dc_next, cache, through_tanh=False)


def lstm_step_backward_dc_prev_not_gated(dh_next, dc_next, cache):
    return _lstm_back(dh_next, dc_next, cache, times_f=False)


def lstm_step_backward_activations_applied_again(dh_next, dc_next, cache):
    return _lstm_back(dh_next, dc_next, cache, reapply=True)


def lstm_step_backward_ifog_order(dh_next, dc_next, cache):
    return _lstm_back(dh_next, dc_next, cache, order="ifog")


# ----------------------------------------------------------------- gru_step_forward
def gru_step_forward_blocks(x, h_prev, w_ih, w_hh, b_ih, b_hh):
    (w_ir, w_iz, w_in), (w_hr, w_hz, w_hn) = np.split(w_ih, 3), np.split(w_hh, 3)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = np.split(b_ih, 3), np.split(b_hh, 3)
    r = _sigmoid(x @ w_ir.T + b_ir + h_prev @ w_hr.T + b_hr)
    z = _sigmoid(x @ w_iz.T + b_iz + h_prev @ w_hz.T + b_hz)
    n = np.tanh(x @ w_in.T + b_in + r * (h_prev @ w_hn.T + b_hn))
    return n + z * (h_prev - n), None


def _gru(x, h, w_ih, w_hh, b_ih, b_hh, reset_before=False, swap_z=False, b_hn_outside=False, order="rzn",
         no_reset=False):
    hid = h.shape[1]
    rows = {name: slice(k * hid, (k + 1) * hid) for k, name in enumerate(order)}
    r = _sigmoid(x @ w_ih[rows["r"]].T + b_ih[rows["r"]] + h @ w_hh[rows["r"]].T + b_hh[rows["r"]])
    z = _sigmoid(x @ w_ih[rows["z"]].T + b_ih[rows["z"]] + h @ w_hh[rows["z"]].T + b_hh[rows["z"]])
    i_n = x @ w_ih[rows["n"]].T + b_ih[rows["n"]]
    w_hn, b_hn = w_hh[rows["n"]], b_hh[rows["n"]]
    if reset_before:
        n = np.tanh(i_n + (r * h) @ w_hn.T + b_hn)
    elif b_hn_outside:
        n = np.tanh(i_n + r * (h @ w_hn.T) + b_hn)
    elif no_reset:
        n = np.tanh(i_n + h @ w_hn.T + b_hn)
    else:
        n = np.tanh(i_n + r * (h @ w_hn.T + b_hn))
    return (z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h), None


def gru_step_forward_reset_before_product(*args):
    return _gru(*args, reset_before=True)


def gru_step_forward_z_swapped(*args):
    return _gru(*args, swap_z=True)


def gru_step_forward_b_hn_outside_reset(*args):
    return _gru(*args, b_hn_outside=True)


def gru_step_forward_zrn_order(*args):
    return _gru(*args, order="zrn")


def gru_step_forward_no_reset_gate(*args):
    return _gru(*args, no_reset=True)


# ----------------------------------------------------------------- embedding_forward
def embedding_forward_one_hot(idx, w):
    idx = np.asarray(idx)
    return np.eye(w.shape[0])[idx] @ w, (idx, w.shape[0], w.dtype)


def embedding_forward_flattened(idx, w):
    idx = np.asarray(idx)
    return w[idx.ravel()], (idx, w.shape[0], w.dtype)


def embedding_forward_off_by_one(idx, w):
    idx = np.asarray(idx)
    return w[idx - 1], (idx, w.shape[0], w.dtype)


def embedding_forward_columns(idx, w):
    idx = np.asarray(idx)
    return w[:, idx], (idx, w.shape[0], w.dtype)  # IndexError: columns are features, not symbols


def embedding_forward_vocab_from_indices(idx, w):
    idx = np.asarray(idx)
    return w[idx], (idx, int(idx.max()) + 1, w.dtype)


def embedding_forward_returns_out_only(idx, w):
    return w[np.asarray(idx)]


# ----------------------------------------------------------------- embedding_backward
def embedding_backward_one_hot_product(dout, cache):
    idx, vocab, dtype = cache
    one_hot = np.eye(vocab)[idx.reshape(-1)]
    return one_hot.T @ dout.reshape(-1, dout.shape[-1])


def embedding_backward_fancy_index(dout, cache):
    idx, vocab, dtype = cache
    dw = np.zeros((vocab, dout.shape[-1]))
    dw[idx] += dout  # a repeated index is written once
    return dw


def embedding_backward_rows_up_to_max_index(dout, cache):
    idx, vocab, dtype = cache
    dw = np.zeros((int(idx.max()) + 1, dout.shape[-1]))
    np.add.at(dw, idx.ravel(), dout.reshape(-1, dout.shape[-1]))
    return dw


def embedding_backward_returns_dout(dout, cache):
    return dout


def embedding_backward_mean_over_occurrences(dout, cache):
    idx, vocab, dtype = cache
    dw = np.zeros((vocab, dout.shape[-1]))
    np.add.at(dw, idx.ravel(), dout.reshape(-1, dout.shape[-1]))
    counts = np.bincount(idx.ravel(), minlength=vocab)
    return dw / np.maximum(counts, 1)[:, None]


# ----------------------------------------------------------------- causal_conv1d_forward
def causal_conv1d_forward_per_step(x, w, b, dilation=1):
    """One output step at a time, reading the past directly (indices below 0 are skipped)."""
    n, _, t_len = x.shape
    f_out, _, k_size = w.shape
    out = np.empty((n, f_out, t_len))
    for t in range(t_len):
        acc = np.broadcast_to(b, (n, f_out)).astype(float)
        for k in range(k_size):
            s = t - (k_size - 1 - k) * dilation
            if s >= 0:
                acc = acc + x[:, :, s] @ w[:, :, k].T
        out[:, :, t] = acc
    return out, None


def _conv(x, w, b, d, left, right):
    xp = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (left, right)))
    k_size = w.shape[2]
    t_out = xp.shape[2] - (k_size - 1) * d
    out = np.zeros((x.shape[0], w.shape[0], max(t_out, 0))) + b[:, None]
    for k in range(k_size):
        out += np.einsum("fc,nct->nft", w[:, :, k], xp[:, :, k * d:k * d + t_out])
    return out, None


def causal_conv1d_forward_same_padding(x, w, b, dilation=1):
    span = (w.shape[2] - 1) * dilation
    return _conv(x, w, b, dilation, span // 2, span - span // 2)


def causal_conv1d_forward_right_padding(x, w, b, dilation=1):
    return _conv(x, w, b, dilation, 0, (w.shape[2] - 1) * dilation)


def causal_conv1d_forward_flipped_kernel(x, w, b, dilation=1):
    return _conv(x, w[:, :, ::-1], b, dilation, (w.shape[2] - 1) * dilation, 0)


def causal_conv1d_forward_ignores_dilation(x, w, b, dilation=1):
    return _conv(x, w, b, 1, w.shape[2] - 1, 0)


def causal_conv1d_forward_no_padding(x, w, b, dilation=1):
    return _conv(x, w, b, dilation, 0, 0)


def causal_conv1d_forward_default_dilation_2(x, w, b, dilation=2):
    return _conv(x, w, b, dilation, (w.shape[2] - 1) * dilation, 0)


# ----------------------------------------------------------------- unigram_cross_entropy
def unigram_cross_entropy_counter(train, val, vocab_size):
    counts = Counter(int(c) for c in train)
    total = len(train) + vocab_size
    return -sum(math.log((counts[int(c)] + 1) / total) for c in val) / len(val)


def _counts(train, vocab_size):
    return np.bincount(np.asarray(train), minlength=vocab_size).astype(float)


def unigram_cross_entropy_no_smoothing(train, val, vocab_size):
    counts = _counts(train, vocab_size)
    return float(-np.mean(np.log(counts / counts.sum())[np.asarray(val)]))


def unigram_cross_entropy_in_bits(train, val, vocab_size):
    counts = _counts(train, vocab_size) + 1
    return float(-np.mean(np.log2(counts / counts.sum())[np.asarray(val)]))


def unigram_cross_entropy_smoothed_over_length(train, val, vocab_size):
    counts = _counts(train, vocab_size)
    return float(-np.mean(np.log((counts + 1) / counts.sum())[np.asarray(val)]))


def unigram_cross_entropy_counts_val(train, val, vocab_size):
    counts = _counts(val, vocab_size) + 1
    return float(-np.mean(np.log(counts / counts.sum())[np.asarray(val)]))


def unigram_cross_entropy_summed(train, val, vocab_size):
    counts = _counts(train, vocab_size) + 1
    return float(-np.sum(np.log(counts / counts.sum())[np.asarray(val)]))


def unigram_cross_entropy_entropy_of_train(train, val, vocab_size):
    counts = _counts(train, vocab_size) + 1
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p)))


# ----------------------------------------------------------------- CharLM
class CharLMSequenceFirst(nn.Module):
    """Correct, written differently: the LSTM in its default (T, N, ·) layout, with transposes."""

    def __init__(self, vocab_size, embed_dim=32, hidden_size=128, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size, num_layers)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        h, (h_n, c_n) = self.rnn(self.embed(idx.T), state)
        return self.head(h).transpose(0, 1), (h_n, c_n)


class _LM(nn.Module):
    cell = nn.LSTM
    batch_first = True
    head_bias = True
    layers_from_argument = True

    def __init__(self, vocab_size, embed_dim=32, hidden_size=128, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        layers = num_layers if self.layers_from_argument else 1
        self.rnn = self.cell(embed_dim, hidden_size, num_layers=layers, batch_first=self.batch_first)
        self.head = nn.Linear(hidden_size, vocab_size, bias=self.head_bias)

    def forward(self, idx, state=None):
        h, state = self.rnn(self.embed(idx), state)
        return self.head(h), state


class CharLMNoBatchFirst(_LM):
    batch_first = False


class CharLMLastStepOnly(_LM):
    def forward(self, idx, state=None):
        h, state = self.rnn(self.embed(idx), state)
        return self.head(h[:, -1]), state


class CharLMSoftmaxOutput(_LM):
    def forward(self, idx, state=None):
        h, state = self.rnn(self.embed(idx), state)
        return torch.softmax(self.head(h), dim=-1), state


class CharLMIgnoresState(_LM):
    def forward(self, idx, state=None):
        h, state = self.rnn(self.embed(idx))
        return self.head(h), state


class CharLMWithGRU(_LM):
    cell = nn.GRU


class CharLMHeadWithoutBias(_LM):
    head_bias = False


class CharLMOneLayer(_LM):
    layers_from_argument = False


class CharLMOtherNames(nn.Module):
    def __init__(self, vocab_size, embed_dim=32, hidden_size=128, num_layers=1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        h, state = self.lstm(self.embedding(idx), state)
        return self.out(h), state


# ----------------------------------------------------------------- tables
REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_rnn_step_forward: ref.rnn_step_forward,
    checks.check_rnn_forward: ref.rnn_forward,
    checks.check_rnn_step_backward: ref.rnn_step_backward,
    checks.check_rnn_backward: ref.rnn_backward,
    checks.check_clip_grad_norm: ref.clip_grad_norm,
    checks.check_lstm_step_forward: ref.lstm_step_forward,
    checks.check_lstm_step_backward: ref.lstm_step_backward,
    checks.check_gru_step_forward: ref.gru_step_forward,
    checks.check_embedding_forward: ref.embedding_forward,
    checks.check_embedding_backward: ref.embedding_backward,
    checks.check_causal_conv1d_forward: ref.causal_conv1d_forward,
    checks.check_unigram_cross_entropy: ref.unigram_cross_entropy,
    checks.check_char_lm: ReferenceCharLM,
}

CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_rnn_step_forward: [rnn_step_forward_stacked],
    checks.check_rnn_forward: [rnn_forward_preallocated],
    checks.check_rnn_step_backward: [rnn_step_backward_einsum],
    checks.check_rnn_backward: [rnn_backward_inline],
    checks.check_clip_grad_norm: [clip_grad_norm_concatenated],
    checks.check_lstm_step_forward: [lstm_step_forward_split],
    checks.check_lstm_step_backward: [lstm_step_backward_split],
    checks.check_gru_step_forward: [gru_step_forward_blocks],
    checks.check_embedding_forward: [embedding_forward_one_hot],
    checks.check_embedding_backward: [embedding_backward_one_hot_product],
    checks.check_causal_conv1d_forward: [causal_conv1d_forward_per_step],
    checks.check_unigram_cross_entropy: [unigram_cross_entropy_counter],
    checks.check_char_lm: [CharLMSequenceFirst],
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_rnn_step_forward: [
        (rnn_step_forward_one_bias, "h_next has wrong values", True, "add both biases"),
        (rnn_step_forward_no_recurrence, "h_next has wrong values", True, "previous state is missing"),
        (rnn_step_forward_no_nonlinearity, "h_next has wrong values", True, "apply the nonlinearity"),
        (rnn_step_forward_column_vectors, "h_next has shape", True, "one row per example"),
        (rnn_step_forward_always_tanh, "h_next has wrong values", True, "nonlinearity='relu'"),
        (rnn_step_forward_float32, "h_next has dtype float32", True, None),
        (rnn_step_forward_caches_preactivation, "cache item `h_next`", True, None),
    ],
    checks.check_rnn_forward: [
        (rnn_forward_time_major_output, "h has (shape|wrong values)", True, "batch-first"),
        (rnn_forward_last_state_only, "h has shape", True, "every hidden state"),
        (rnn_forward_includes_h0, "h has shape", True, "h0 is not an output"),
        (rnn_forward_state_not_carried, "h has wrong values", True, "carry the state"),
        (rnn_forward_caches_batch_first_x, "cache item `x_tm`", True, "time-major"),
        (rnn_forward_caches_batch_first_states, "cache item `h_tm`", True, "time-major"),
        (rnn_forward_float32_buffer, "h has dtype float32", True, None),
    ],
    checks.check_rnn_step_backward: [
        (rnn_step_backward_tanh_applied_again, "dx has wrong values", True, "without applying tanh again"),
        (rnn_step_backward_not_squared, "dx has wrong values", True, "square the output"),
        (rnn_step_backward_relu_mask_ge, "dx has wrong values", True, "0 where the unit is off"),
        (rnn_step_backward_no_local_derivative, "dx has wrong values", True, r"multiply by φ'\(a\) first"),
        (rnn_step_backward_dh_prev_transposed, "dh_prev has wrong values", True, "dh_prev = δ W_hh"),
        (rnn_step_backward_dw_hh_transposed, "dw_hh has wrong values", True, "dw_hh is transposed"),
        (rnn_step_backward_bias_not_summed, "db_ih has shape", True, "sum the bias gradients"),
        (rnn_step_backward_second_bias_zero, "db_hh has wrong values", True, "both biases"),
        (rnn_step_backward_always_tanh, "dx has wrong values", True, None),
    ],
    checks.check_rnn_backward: [
        (rnn_backward_no_carry, "dx has wrong values", True, r"flows back from step t \+ 1"),
        (rnn_backward_forwards_in_time, "dx has wrong values", True, "backwards in time"),
        (rnn_backward_uses_h_t_as_input_state, "dw_hh has wrong values", True, "input state is h_{t−1}"),
        (rnn_backward_weights_not_summed, "dw_ih has wrong values", True, "shared by every step"),
        (rnn_backward_dh0_zero, "dh0 has wrong values", True, None),
    ],
    checks.check_clip_grad_norm: [
        (clip_grad_norm_per_parameter, r"clipped\['w_ih'\] has wrong values", True, "one global norm"),
        (clip_grad_norm_value_clipping, r"clipped\['w_ih'\] has wrong values", True, "value clipping"),
        (clip_grad_norm_always_rescales, r"clipped\[0\] has wrong values", True, "never lengthens"),
        (clip_grad_norm_returns_norm_after, "total_norm is", True, "before clipping"),
        (clip_grad_norm_no_square_root, "total_norm is", True, "square root"),
        (clip_grad_norm_in_place, "in place", True, None),
        (clip_grad_norm_returns_the_inputs_unclipped, "shares its memory", True, None),
        (clip_grad_norm_ignores_eps, r"clipped\['w'\] has wrong values", False, "denominator"),
        (clip_grad_norm_always_a_list, "should be a dict", True, None),
    ],
    checks.check_lstm_step_forward: [
        (lstm_step_forward_ifog_order, "h_next has wrong values", True, "i, f, g, o"),
        (lstm_step_forward_sigmoid_candidate, "h_next has wrong values", True, "candidate g uses tanh"),
        (lstm_step_forward_cell_not_squashed, "h_next has wrong values", True, "squash the cell state"),
        (lstm_step_forward_no_forget_gate, "h_next has wrong values", True, "forget gate scales"),
        (lstm_step_forward_one_bias, "h_next has wrong values", True, "add both biases"),
        (lstm_step_forward_caches_preactivations, "cache item `gates`", True, "not the pre-activations"),
    ],
    checks.check_lstm_step_backward: [
        (lstm_step_backward_ignores_dc_next, "dx has wrong values", True, "add dc_next"),
        (lstm_step_backward_skips_tanh_derivative, "dx has wrong values", True, "tanh's derivative"),
        (lstm_step_backward_dc_prev_not_gated, "dc_prev has wrong values", True, "scaled by the forget gate"),
        (lstm_step_backward_activations_applied_again, "dx has wrong values", True, "holds the activations already"),
        (lstm_step_backward_ifog_order, "dx has wrong values", True, "row order i, f, g, o"),
    ],
    checks.check_gru_step_forward: [
        (gru_step_forward_reset_before_product, "h_next has wrong values", True, "after the product"),
        (gru_step_forward_z_swapped, "h_next has wrong values", True, r"z ≈ 1 keeps the old state"),
        (gru_step_forward_b_hn_outside_reset, "h_next has wrong values", True, "b_hn belongs inside"),
        (gru_step_forward_zrn_order, "h_next has wrong values", True, "r, z, n"),
        (gru_step_forward_no_reset_gate, "h_next has wrong values", True, None),
    ],
    checks.check_embedding_forward: [
        (embedding_forward_flattened, "out has shape", True, "keep idx's shape"),
        (embedding_forward_off_by_one, "out has wrong values", True, "start at 0"),
        (embedding_forward_columns, None, True, None),
        (embedding_forward_vocab_from_indices, "cache item `V` is", True, "number of rows"),
        (embedding_forward_returns_out_only, "should return a tuple", True, None),
    ],
    checks.check_embedding_backward: [
        (embedding_backward_fancy_index, "dw has wrong values", True, r"np\.add\.at"),
        (embedding_backward_rows_up_to_max_index, "dw has shape", True, r"table's shape \(V, E\)"),
        (embedding_backward_returns_dout, "dw has shape", True, "gradient of the table"),
        (embedding_backward_mean_over_occurrences, "dw has wrong values", True, None),
    ],
    checks.check_causal_conv1d_forward: [
        (causal_conv1d_forward_same_padding, "out has wrong values", True, "pad on the left only"),
        (causal_conv1d_forward_right_padding, "out has wrong values", True, "zeros go on the left"),
        (causal_conv1d_forward_flipped_kernel, "out has wrong values", True, "kernel is flipped"),
        (causal_conv1d_forward_ignores_dilation, "out has wrong values", True, "d steps apart"),
        (causal_conv1d_forward_no_padding, "out has shape", True, "keeps the input's length"),
        (causal_conv1d_forward_default_dilation_2, "out has wrong values", True, None),
    ],
    checks.check_unigram_cross_entropy: [
        (unigram_cross_entropy_no_smoothing, "unigram_cross_entropy is", True, "Laplace smoothing"),
        (unigram_cross_entropy_in_bits, "unigram_cross_entropy is", True, "return nats"),
        (unigram_cross_entropy_smoothed_over_length, "unigram_cross_entropy is", True, r"L \+ V"),
        (unigram_cross_entropy_counts_val, "unigram_cross_entropy is", True, "training text"),
        (unigram_cross_entropy_summed, "unigram_cross_entropy is", True, "average over the validation"),
        (unigram_cross_entropy_entropy_of_train, "unigram_cross_entropy is", True, "score the validation text"),
    ],
    checks.check_char_lm: [
        (CharLMNoBatchFirst, "logits has wrong values", True, "batch_first=True"),
        (CharLMLastStepOnly, "logits has shape", True, "read out every step"),
        (CharLMSoftmaxOutput, "logits has wrong values", True, "raw scores"),
        (CharLMIgnoresState, "read with the state", True, "hand the state on"),
        (CharLMWithGRU, "the number of parameters is", True, "GRU"),
        (CharLMHeadWithoutBias, "the number of parameters is", True, "with its bias"),
        (CharLMOneLayer, "the number of parameters is", True, "num_layers"),
        (CharLMOtherNames, "should be named", True, r"self\.embed, self\.rnn and self\.head"),
    ],
}
