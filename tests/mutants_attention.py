"""Correct alternatives and known-wrong implementations (mutants) for the 11-attention checks.

Each mutant is a mistake students really make, named after it. ``MUTANTS[check]`` lists
``(implementation, pattern, public, hint)`` entries, as ``check_harness`` describes. Everything
here is plain NumPy written as a student would write it: nothing calls ``dlcourse.ref``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import attention as checks

Impl = Callable[..., Any]


# ----------------------------------------------------------------- positional encoding
def pe_exp_log(length, d_model, base=10000.0):
    """Frequencies through exp/log, sin and cos written into strided column slices."""
    pos = np.arange(length)[:, None].astype(np.float64)
    rates = np.exp(-np.log(base) * np.arange(0, d_model, 2) / d_model)  # one per pair
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(pos * rates)
    pe[:, 1::2] = np.cos(pos * rates[: d_model // 2])
    return pe


def pe_loops(length, d_model, base=10000.0):
    pe = np.empty((length, d_model))
    for p in range(length):
        for j in range(d_model):
            angle = p / base ** (2 * (j // 2) / d_model)
            pe[p, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return pe


def _pe(length, d_model, base, rate, trig_even=np.sin, trig_odd=np.cos, start=0):
    j = np.arange(d_model)
    angle = (np.arange(length)[:, None] + start) * base ** (-rate(j) / d_model)
    return np.where(j % 2 == 0, trig_even(angle), trig_odd(angle))


def pe_two_halves(length, d_model, base=10000.0):
    i = np.arange(d_model // 2)
    angle = np.arange(length)[:, None] * base ** (-2 * i / d_model)
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


def pe_sin_cos_swapped(length, d_model, base=10000.0):
    return _pe(length, d_model, base, lambda j: 2 * (j // 2), np.cos, np.sin)


def pe_column_index_as_rate(length, d_model, base=10000.0):
    return _pe(length, d_model, base, lambda j: j)


def pe_exponent_without_two(length, d_model, base=10000.0):
    return _pe(length, d_model, base, lambda j: j // 2)


def pe_positive_exponent(length, d_model, base=10000.0):
    return _pe(length, d_model, base, lambda j: -2 * (j // 2))


def pe_positions_from_one(length, d_model, base=10000.0):
    return _pe(length, d_model, base, lambda j: 2 * (j // 2), start=1)


def pe_float32(length, d_model, base=10000.0):
    return _pe(length, d_model, base, lambda j: 2 * (j // 2)).astype(np.float32)


def pe_breaks_on_odd_size(length, d_model, base=10000.0):
    pos = np.arange(length)[:, None]
    rates = base ** (-np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(pos * rates)
    pe[:, 1::2] = np.cos(pos * rates)  # one column too many when d_model is odd
    return pe


# ----------------------------------------------------------------- causal mask
def _offset(length_q, length_k, align):
    return 0 if align == "top-left" else length_k - length_q


def causal_mask_tril(length_q, length_k=None, align="top-left"):
    length_k = length_q if length_k is None else length_k
    return np.tril(np.ones((length_q, length_k), dtype=bool), k=_offset(length_q, length_k, align))


def causal_mask_loops(length_q, length_k=None, align="top-left"):
    length_k = length_k or length_q
    shift = length_k - length_q if align == "bottom-right" else 0
    return np.array([[j <= i + shift for j in range(length_k)] for i in range(length_q)], dtype=bool)


def causal_mask_polarity_flipped(length_q, length_k=None, align="top-left"):
    return ~causal_mask_tril(length_q, length_k, align)  # nn.MultiheadAttention's convention


def causal_mask_without_diagonal(length_q, length_k=None, align="top-left"):
    length_k = length_q if length_k is None else length_k
    return np.tril(np.ones((length_q, length_k), dtype=bool), k=_offset(length_q, length_k, align) - 1)


def causal_mask_looks_ahead(length_q, length_k=None, align="top-left"):
    length_k = length_q if length_k is None else length_k
    return np.triu(np.ones((length_q, length_k), dtype=bool), k=_offset(length_q, length_k, align))


def causal_mask_ignores_align(length_q, length_k=None, align="top-left"):
    return causal_mask_tril(length_q, length_k)


def causal_mask_always_bottom_right(length_q, length_k=None, align="top-left"):
    return causal_mask_tril(length_q, length_k, "bottom-right")


def causal_mask_floats(length_q, length_k=None, align="top-left"):
    length_k = length_q if length_k is None else length_k
    return np.tril(np.ones((length_q, length_k)), k=_offset(length_q, length_k, align))


def causal_mask_square_only(length_q, length_k=None, align="top-left"):
    return np.tril(np.ones((length_q, length_q), dtype=bool))


# ----------------------------------------------------------------- masked softmax
def masked_softmax_where(scores, mask=None):
    """Forbidden scores → −∞, shift by the largest allowed score, zero rows where nothing is allowed."""
    scores = np.asarray(scores, dtype=np.float64)
    allowed = np.ones(scores.shape, bool) if mask is None else np.broadcast_to(mask, scores.shape)
    s = np.where(allowed, scores, -np.inf)
    top = s.max(axis=-1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    e = np.where(allowed, np.exp(s - top), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.maximum(total, np.finfo(float).tiny)


def _softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def masked_softmax_nan_on_empty_rows(scores, mask=None):
    s = np.asarray(scores, dtype=np.float64)
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    with np.errstate(invalid="ignore"):
        return _softmax(s)


def masked_softmax_big_negative_fill(scores, mask=None):
    s = np.asarray(scores, dtype=np.float64)
    return _softmax(s if mask is None else np.where(mask, s, -1e9))


def masked_softmax_polarity_flipped(scores, mask=None):
    return masked_softmax_where(scores, None if mask is None else ~np.asarray(mask))


def masked_softmax_mask_after_softmax(scores, mask=None):
    p = _softmax(np.asarray(scores, dtype=np.float64))
    return p if mask is None else p * mask


def masked_softmax_zeroes_scores(scores, mask=None):
    s = np.asarray(scores, dtype=np.float64)
    return _softmax(s if mask is None else s * mask)


def masked_softmax_over_queries(scores, mask=None):
    s = np.asarray(scores, dtype=np.float64)
    allowed = np.ones(s.shape, bool) if mask is None else np.broadcast_to(mask, s.shape)
    return np.swapaxes(masked_softmax_where(np.swapaxes(s, -1, -2), np.swapaxes(allowed, -1, -2)), -1, -2)


def masked_softmax_no_max_shift(scores, mask=None):
    s = np.asarray(scores, dtype=np.float64)
    allowed = np.ones(s.shape, bool) if mask is None else np.broadcast_to(mask, s.shape)
    e = np.where(allowed, np.exp(s), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


def masked_softmax_shift_by_global_max(scores, mask=None):
    s = np.asarray(scores, dtype=np.float64)
    allowed = np.ones(s.shape, bool) if mask is None else np.broadcast_to(mask, s.shape)
    e = np.where(allowed, np.exp(s - s.max(axis=-1, keepdims=True)), 0.0)  # the max of *all* scores
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


# ----------------------------------------------------------------- attention forward
def _attend(q, k, v, mask=None, scale=None, *, scale_of=None, axis=-1, polarity=True, use_mask=True,
            after=False, fill=-np.inf, values=True, cache="full"):
    """Attention written out, with switches for the mistakes below (plain NumPy)."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    d = q.shape[-1]
    s = (1 / np.sqrt(d) if scale_of is None else scale_of(q, v)) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * s
    m = None if mask is None or not use_mask else (np.asarray(mask) if polarity else ~np.asarray(mask))
    if m is None or after:
        p = _softmax(scores, axis)
        if m is not None:
            p = p * m
    elif fill == -np.inf and axis == -1:
        p = masked_softmax_where(scores, m)
    else:
        p = _softmax(np.where(m, scores, fill), axis)
    out = p @ (v if values else k)
    if cache == "no weights":
        return out, (q, k, v, s)
    if cache == "scores":
        return out, (q, k, v, scores, s)
    return out, (q, k, v, p, s)


def attention_einsum(q, k, v, mask=None, scale=None):
    """Additive mask of 0/−∞ and a softmax that zeroes rows with no finite score."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    s = 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = np.einsum("...id,...jd->...ij", q, k) * s
    if mask is not None:
        scores = scores + np.where(mask, 0.0, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    top = np.where(np.isneginf(top), 0.0, top)
    e = np.exp(scores - top)
    z = e.sum(axis=-1, keepdims=True)
    p = e / np.where(z == 0, 1.0, z)
    return np.einsum("...ij,...jd->...id", p, v), (q, k, v, p, s)


def attention_unscaled(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, 1.0 if scale is None else scale)


def attention_scaled_by_d(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, scale_of=lambda q, v: 1 / q.shape[-1])


def attention_scale_from_values(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, scale_of=lambda q, v: 1 / np.sqrt(v.shape[-1]))


def attention_ignores_scale_argument(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask)


def attention_softmax_over_queries(q, k, v, mask=None, scale=None):
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    s = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    p = masked_softmax_over_queries(q @ np.swapaxes(k, -1, -2) * s, mask)
    return p @ v, (q, k, v, p, s)


def attention_polarity_flipped(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, polarity=False)


def attention_ignores_mask(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, use_mask=False)


def attention_mask_after_softmax(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, after=True)


def attention_big_negative_fill(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, fill=-1e9)


def attention_nan_on_empty_rows(q, k, v, mask=None, scale=None):
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    s = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * s
    with np.errstate(invalid="ignore"):
        p = _softmax(scores if mask is None else np.where(mask, scores, -np.inf))
    return p @ v, (q, k, v, p, s)


def attention_weights_times_keys(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, values=False)


def attention_cache_without_weights(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, cache="no weights")


def attention_caches_scores(q, k, v, mask=None, scale=None):
    return _attend(q, k, v, mask, scale, cache="scores")


def attention_transposes_every_axis(q, k, v, mask=None, scale=None):
    s = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    p = masked_softmax_where(q @ k.T * s, mask)  # .T reverses *all* axes of a batch
    return p @ v, (q, k, v, p, s)


# ----------------------------------------------------------------- attention backward
def attention_backward_einsum(dout, cache):
    q, k, v, p, s = cache
    dv = np.einsum("...ij,...id->...jd", p, dout)
    dp = np.einsum("...id,...jd->...ij", dout, v)
    row = np.einsum("...ij,...ij->...i", dp, p)[..., None]
    ds = p * (dp - row) * s
    return np.einsum("...ij,...jd->...id", ds, k), np.einsum("...ij,...id->...jd", ds, q), dv


def _backward(dout, cache, *, scale_grads=True, softmax="full", dv_scaled=False, swap=False):
    q, k, v, p, s = cache
    dv = np.swapaxes(p, -1, -2) @ dout
    dp = dout @ np.swapaxes(v, -1, -2)
    if softmax == "full":
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    elif softmax == "no row sum":
        ds = p * dp
    else:
        ds = dp
    if scale_grads:
        ds = ds * s
    dq, dk = ds @ k, np.swapaxes(ds, -1, -2) @ q
    if swap:
        dq, dk = dk, dq
    return dq, dk, dv * s if dv_scaled else dv


def attention_backward_forgets_scale(dout, cache):
    return _backward(dout, cache, scale_grads=False)


def attention_backward_softmax_without_row_sum(dout, cache):
    return _backward(dout, cache, softmax="no row sum")


def attention_backward_skips_softmax(dout, cache):
    return _backward(dout, cache, softmax="none")


def attention_backward_scales_dv(dout, cache):
    return _backward(dout, cache, dv_scaled=True)


def attention_backward_dq_dk_swapped(dout, cache):
    return _backward(dout, cache, swap=True)


def attention_backward_edits_cache(dout, cache):
    q, k, v, p, s = cache
    p *= s  # reuses the cached weights as scratch space
    dq, dk, dv = _backward(dout, (q, k, v, p / s, s))
    return dq, dk, dv


def attention_backward_transposes_every_axis(dout, cache):
    q, k, v, p, s = cache
    dp = dout @ v.T
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * s
    return ds @ k, ds.T @ q, p.T @ dout


# ----------------------------------------------------------------- split and merge heads
def split_heads_reshape_transpose(x, num_heads):
    n, length, e = x.shape
    return x.reshape(n, length, num_heads, e // num_heads).transpose(0, 2, 1, 3)


def split_heads_slices(x, num_heads):
    d = x.shape[-1] // num_heads
    return np.stack([x[:, :, h * d:(h + 1) * d] for h in range(num_heads)], axis=1)


def split_heads_reshape_only(x, num_heads):
    n, length, e = x.shape
    return x.reshape(n, num_heads, length, e // num_heads)


def split_heads_interleaved(x, num_heads):
    n, length, e = x.shape
    return x.reshape(n, length, e // num_heads, num_heads).transpose(0, 3, 1, 2)


def split_heads_no_transpose(x, num_heads):
    n, length, e = x.shape
    return x.reshape(n, length, num_heads, e // num_heads)


def split_heads_casts_to_float(x, num_heads):
    n, length, e = x.shape
    return x.astype(np.float64).reshape(n, length, num_heads, e // num_heads).transpose(0, 2, 1, 3)


def split_heads_wrong_axis_order(x, num_heads):
    n, length, e = x.shape
    return x.reshape(n, length, num_heads, e // num_heads).transpose(0, 2, 3, 1)


def merge_heads_concatenate(x):
    return np.concatenate([x[:, h] for h in range(x.shape[1])], axis=-1)


def merge_heads_reshape_only(x):
    n, h, length, d = x.shape
    return x.reshape(n, length, h * d)


def merge_heads_interleaved(x):
    n, h, length, d = x.shape
    return x.transpose(0, 2, 3, 1).reshape(n, length, h * d)


def merge_heads_sum(x):
    return x.sum(axis=1)


def merge_heads_mean(x):
    return x.mean(axis=1)


def merge_heads_casts_to_float(x):
    n, h, length, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, length, h * d).astype(np.float64)


# ----------------------------------------------------------------- multi-head attention
def mha_loop_over_heads(query, key, value, params, num_heads, mask=None, key_padding_mask=None):
    """One head at a time, each with its own slice of the projections."""
    e = params["w_q"].shape[0]
    d = e // num_heads
    n, lq, lk = query.shape[0], query.shape[1], key.shape[1]
    allowed = np.ones((n, lq, lk), bool)
    if mask is not None:
        allowed = allowed & mask
    if key_padding_mask is not None:
        allowed = allowed & key_padding_mask[:, None, :]
    outs, maps = [], []
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        qh = query @ params["w_q"][:, cols] + params["b_q"][cols]
        kh = key @ params["w_k"][:, cols] + params["b_k"][cols]
        vh = value @ params["w_v"][:, cols] + params["b_v"][cols]
        o, cache = attention_einsum(qh, kh, vh, allowed)
        outs.append(o)
        maps.append(cache[3])
    out = np.concatenate(outs, axis=-1) @ params["w_o"] + params["b_o"]
    return out, (np.stack(maps, axis=1),)


def _mha(query, key, value, params, num_heads, mask=None, key_padding_mask=None, *, scale_dim="head",
         interleaved=False, out_proj=True, out_bias=True, in_bias=True, transposed=False, mask_polarity=True,
         use_padding=True, padding_polarity=True, average=False):
    """Multi-head attention written out, with switches for the mistakes below (plain NumPy)."""
    p = {k: (v.T if transposed and k.startswith("w") else v) for k, v in params.items()}
    e = p["w_q"].shape[0]
    split, merge = (split_heads_interleaved, merge_heads_interleaved) if interleaved else (
        split_heads_reshape_transpose, merge_heads_concatenate)
    zero = np.zeros(e)
    qh = split(query @ p["w_q"] + (p["b_q"] if in_bias else zero), num_heads)
    kh = split(key @ p["w_k"] + (p["b_k"] if in_bias else zero), num_heads)
    vh = split(value @ p["w_v"] + (p["b_v"] if in_bias else zero), num_heads)
    n, _, lq, d = qh.shape
    lk = kh.shape[2]
    allowed = np.ones((n, 1, lq, lk), bool)
    if mask is not None:
        allowed = allowed & (mask if mask_polarity else ~mask)
    if key_padding_mask is not None and use_padding:
        kp = key_padding_mask if padding_polarity else ~key_padding_mask
        allowed = allowed & kp[:, None, None, :]
    scale = {"head": 1 / np.sqrt(d), "embed": 1 / np.sqrt(e), "none": 1.0}[scale_dim]
    o, cache = attention_einsum(qh, kh, vh, allowed, scale)
    heads = merge(o)
    out = heads @ p["w_o"] + (p["b_o"] if out_bias else zero) if out_proj else heads
    weights = cache[3].mean(axis=1) if average else cache[3]
    return out, (qh, kh, vh, weights)


def mha_split_attend_merge(query, key, value, params, num_heads, mask=None, key_padding_mask=None):
    return _mha(query, key, value, params, num_heads, mask, key_padding_mask)


def mha_scale_by_embed_dim(*args, **kwargs):
    return _mha(*args, **kwargs, scale_dim="embed")


def mha_unscaled(*args, **kwargs):
    return _mha(*args, **kwargs, scale_dim="none")


def mha_interleaved_heads(*args, **kwargs):
    return _mha(*args, **kwargs, interleaved=True)


def mha_no_output_projection(*args, **kwargs):
    return _mha(*args, **kwargs, out_proj=False)


def mha_no_output_bias(*args, **kwargs):
    return _mha(*args, **kwargs, out_bias=False)


def mha_no_input_biases(*args, **kwargs):
    return _mha(*args, **kwargs, in_bias=False)


def mha_transposed_weights(*args, **kwargs):
    return _mha(*args, **kwargs, transposed=True)


def mha_mask_polarity_flipped(*args, **kwargs):
    return _mha(*args, **kwargs, mask_polarity=False)


def mha_ignores_key_padding(*args, **kwargs):
    return _mha(*args, **kwargs, use_padding=False)


def mha_key_padding_polarity_flipped(*args, **kwargs):
    return _mha(*args, **kwargs, padding_polarity=False)


def mha_averages_head_weights(*args, **kwargs):
    return _mha(*args, **kwargs, average=True)


def mha_returns_weights_as_cache(*args, **kwargs):
    out, cache = _mha(*args, **kwargs)
    return out, cache[-1]


# ----------------------------------------------------------------- PyTorch's layout
def to_torch_vstack(params):
    return {
        "in_proj_weight": np.vstack([params["w_q"].T, params["w_k"].T, params["w_v"].T]),
        "in_proj_bias": np.hstack([params["b_q"], params["b_k"], params["b_v"]]),
        "out_proj.weight": np.array(params["w_o"].T),
        "out_proj.bias": np.array(params["b_o"]),
    }


def _to_torch(params, *, order="qkv", transpose=True, axis=0, out_transpose=True, bias_order="qkv"):
    w = [params[f"w_{n}"].T if transpose else params[f"w_{n}"] for n in order]
    return {
        "in_proj_weight": np.concatenate(w, axis=axis),
        "in_proj_bias": np.concatenate([params[f"b_{n}"] for n in bias_order]),
        "out_proj.weight": params["w_o"].T if out_transpose else params["w_o"],
        "out_proj.bias": params["b_o"],
    }


def to_torch_not_transposed(params):
    return _to_torch(params, transpose=False)


def to_torch_keys_first(params):
    return _to_torch(params, order="kqv", bias_order="kqv")


def to_torch_values_first(params):
    return _to_torch(params, order="vkq", bias_order="vkq")


def to_torch_side_by_side(params):
    return _to_torch(params, transpose=False, axis=1)


def to_torch_out_proj_not_transposed(params):
    return _to_torch(params, out_transpose=False)


def to_torch_bias_order(params):
    return _to_torch(params, bias_order="qvk")


def to_torch_wrong_key_names(params):
    state = _to_torch(params)
    return {name.replace(".", "_"): value for name, value in state.items()}


# ----------------------------------------------------------------- tables
REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_positional_encoding: ref.positional_encoding,
    checks.check_causal_mask: ref.causal_mask,
    checks.check_masked_softmax: ref.masked_softmax,
    checks.check_attention_forward: ref.attention_forward,
    checks.check_attention_backward: ref.attention_backward,
    checks.check_split_heads: ref.split_heads,
    checks.check_merge_heads: ref.merge_heads,
    checks.check_mha_forward: ref.mha_forward,
    checks.check_mha_params_to_torch: ref.mha_params_to_torch,
}

CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_positional_encoding: [pe_exp_log, pe_loops],
    checks.check_causal_mask: [causal_mask_tril, causal_mask_loops],
    checks.check_masked_softmax: [masked_softmax_where],
    checks.check_attention_forward: [attention_einsum],
    checks.check_attention_backward: [attention_backward_einsum],
    checks.check_split_heads: [split_heads_slices, split_heads_reshape_transpose],
    checks.check_merge_heads: [merge_heads_concatenate],
    checks.check_mha_forward: [mha_loop_over_heads, mha_split_attend_merge],
    checks.check_mha_params_to_torch: [to_torch_vstack],
}

NAN = r"contains nan"
FULL = "nothing to attend to"
POLARITY = "mask is inverted"
AXIS = "normalize over the keys"

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_positional_encoding: [
        (pe_two_halves, "has wrong values", True, "must alternate"),
        (pe_sin_cos_swapped, "has wrong values", True, "swapped"),
        (pe_column_index_as_rate, "has wrong values", True, "share one frequency"),
        (pe_exponent_without_two, "has wrong values", True, "exponent is 2i/D"),
        (pe_positive_exponent, "has wrong values", True, "must fall along the columns"),
        (pe_positions_from_one, "has wrong values", True, "start at 0"),
        (pe_float32, "dtype float32, expected float64", True, None),
        (pe_breaks_on_odd_size, None, False, None),
    ],
    checks.check_causal_mask: [
        (causal_mask_polarity_flipped, "causal_mask has wrong values", True, POLARITY),
        (causal_mask_without_diagonal, "causal_mask has wrong values", True, "keep the diagonal"),
        (causal_mask_looks_ahead, "causal_mask has wrong values", True, "may look back, not ahead"),
        (causal_mask_ignores_align, "causal_mask has wrong values", True, "alignment decides"),
        (causal_mask_always_bottom_right, "causal_mask has wrong values", True, "alignment decides"),
        (causal_mask_floats, "dtype float64, expected bool", True, None),
        (causal_mask_square_only, r"causal_mask has shape \(3, 3\), expected \(3, 5\)", True, None),
    ],
    checks.check_masked_softmax: [
        (masked_softmax_nan_on_empty_rows, NAN, True, FULL),
        (masked_softmax_big_negative_fill, "has wrong values", True, "large negative fill"),
        (masked_softmax_polarity_flipped, "has wrong values", True, POLARITY),
        (masked_softmax_mask_after_softmax, "has wrong values", True, "before the softmax"),
        (masked_softmax_zeroes_scores, "has wrong values", True, "masked score of 0"),
        (masked_softmax_over_queries, "has wrong values", True, AXIS),
        (masked_softmax_no_max_shift, NAN, False, "overflows"),
        (masked_softmax_shift_by_global_max, "has wrong values", False, r"largest \*allowed\* score"),
    ],
    checks.check_attention_forward: [
        (attention_unscaled, "out has wrong values", True, "not scaled"),
        (attention_scaled_by_d, "out has wrong values", True, "not 1/d"),
        (attention_scale_from_values, "out has wrong values", True, "not of the values"),
        (attention_ignores_scale_argument, "out has wrong values", False, "use the given scale"),
        (attention_softmax_over_queries, "out has wrong values", True, AXIS),
        (attention_polarity_flipped, "out has wrong values", True, POLARITY),
        (attention_ignores_mask, "out has wrong values", True, "mask is ignored"),
        (attention_mask_after_softmax, "out has wrong values", True, "before the softmax"),
        (attention_big_negative_fill, "out has wrong values", True, "large negative fill"),
        (attention_nan_on_empty_rows, NAN, True, FULL),
        (attention_weights_times_keys, r"out has shape \(3, 4\), expected \(3, 2\)", True, "weights @ v"),
        (attention_cache_without_weights, "cache should be the tuple", True, None),
        (attention_caches_scores, "item `P` should be the attention weights", True, None),
        (attention_transposes_every_axis, None, True, None),
    ],
    checks.check_attention_backward: [
        (attention_backward_forgets_scale, "dq has wrong values", True, "carry the factor s"),
        (attention_backward_softmax_without_row_sum, "dq has wrong values", True, "forgets that every weight"),
        (attention_backward_skips_softmax, "dq has wrong values", True, "backpropagate through the softmax"),
        (attention_backward_scales_dv, "dv has wrong values", True, "no factor s"),
        (attention_backward_dq_dk_swapped, r"dq has shape \(5, 4\), expected \(3, 4\)", True, None),
        (attention_backward_edits_cache, "in place", True, None),
        (attention_backward_transposes_every_axis, None, True, None),
    ],
    checks.check_split_heads: [
        (split_heads_reshape_only, "has wrong values", True, "a reshape alone"),
        (split_heads_interleaved, "has wrong values", True, "consecutive features"),
        (split_heads_no_transpose, r"has shape \(2, 3, 2, 4\), expected \(2, 2, 3, 4\)", True, "head axis in front"),
        (split_heads_casts_to_float, "changed the dtype from int64 to float64", False, None),
        (split_heads_wrong_axis_order, "has shape", True, None),
    ],
    checks.check_merge_heads: [
        (merge_heads_reshape_only, "has wrong values", True, "a reshape alone"),
        (merge_heads_interleaved, "has wrong values", True, "side by side"),
        (merge_heads_sum, "has shape", True, "don't add them up"),
        (merge_heads_mean, "has shape", True, "don't average them"),
        (merge_heads_casts_to_float, "changed the dtype from int64 to float64", False, None),
    ],
    checks.check_mha_forward: [
        (mha_scale_by_embed_dim, "out has wrong values", True, "not 1/√E"),
        (mha_unscaled, "out has wrong values", True, r"scale every head's scores by 1/√d"),
        (mha_interleaved_heads, "out has wrong values", True, "consecutive features"),
        (mha_no_output_projection, "out has wrong values", True, "output projection"),
        (mha_no_output_bias, "out has wrong values", True, "output bias"),
        (mha_no_input_biases, "out has wrong values", True, "projections have biases"),
        (mha_transposed_weights, "out has wrong values", True, "multiply from the right"),
        (mha_mask_polarity_flipped, "out has wrong values", True, POLARITY),
        (mha_ignores_key_padding, "out has wrong values", True, "key_padding_mask is ignored"),
        (mha_key_padding_polarity_flipped, "out has wrong values", True, POLARITY),
        (mha_averages_head_weights, r"cache\[-1\] \(the attention weights\) has shape", True, "one map per head"),
        (mha_returns_weights_as_cache, "cache should be a tuple", True, None),
    ],
    checks.check_mha_params_to_torch: [
        (to_torch_not_transposed, "in_proj_weight has wrong values", True, r"x Wᵀ \+ b"),
        (to_torch_keys_first, "in_proj_weight has wrong values", True, r"\[W_q; W_k; W_v\]"),
        (to_torch_values_first, "in_proj_weight has wrong values", True, r"\[W_q; W_k; W_v\]"),
        (to_torch_side_by_side, "in_proj_weight has shape", True, "on top of each other"),
        (to_torch_out_proj_not_transposed, "out_proj.weight has wrong values", True, "transpose w_o too"),
        (to_torch_bias_order, "in_proj_bias has wrong values", True, r"\[b_q; b_k; b_v\]"),
        (to_torch_wrong_key_names, "expected exactly", True, None),
    ],
}
