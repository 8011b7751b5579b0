"""Attention in PyTorch: the twin of :mod:`dlcourse.ref.attention`, and a small transformer.

The same names, signatures and conventions as the NumPy reference, on tensors of any device
(outputs stay on the input's device and dtype). In particular every mask is boolean with
**True = may attend** (``F.scaled_dot_product_attention``'s convention; ``nn.MultiheadAttention``
uses the opposite one, convert with :func:`to_mha_mask`), and a fully masked query row gives
zero weights and a zero output, never NaN.

On top of the twins:

- :class:`ScaledDotProductAttention`, a ``torch.autograd.Function`` whose backward pass is
  :func:`attention_backward` (written out, as in the notebook), with the one-call form
  :func:`scaled_dot_product_attention`; it equals ``F.scaled_dot_product_attention``.
- :class:`MultiHeadAttentionFunction` (one-call form :func:`multi_head_attention`): the whole
  multi-head layer differentiated by the written-out :func:`mha_backward`;
- :class:`MultiHeadAttention`, an ``nn.Module`` built on it, with the parameter names of
  ``nn.MultiheadAttention`` (``in_proj_weight`` = [W_q; W_k; W_v] (3E, E), ``in_proj_bias``,
  ``out_proj``), so either loads the other's ``state_dict``; batch first; it returns the
  head-averaged or per-head attention weights.
- :class:`TransformerBlock` (pre-norm: x + MHA(LN(x)), then x + MLP(LN(x))), with the submodule
  names of ``nn.TransformerEncoderLayer(norm_first=True)``, and :class:`SequenceTransformer`,
  an encoder with sinusoidal positions and one classifier per position, trained on the toy
  tasks of :mod:`dlcourse.data.sequences` by :func:`train_sequence_model`;
  :func:`sequence_setup` picks the task size for the device (larger on a GPU).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.gpu.device import default_device, to_tensor
from dlcourse.ref import attention as _ref
from dlcourse.ref.attention import (
    MHA_PARAM_NAMES,
    MHACache,
    check_attention_shapes,
    check_key_padding_shape,
    check_mha_param_shapes,
    check_mha_shapes,
    mha_mask_view,
)

__all__ = [
    # twins of dlcourse.ref.attention
    "positional_encoding",
    "causal_mask",
    "padding_mask",
    "to_mha_mask",
    "from_mha_mask",
    "to_additive_mask",
    "masked_softmax",
    "attention_weights",
    "attention_forward",
    "attention_backward",
    "split_heads",
    "merge_heads",
    "init_mha",
    "mha_forward",
    "mha_backward",
    "mha_params_to_torch",
    "mha_params_from_torch",
    # autograd and modules
    "ScaledDotProductAttention",
    "scaled_dot_product_attention",
    "MultiHeadAttentionFunction",
    "multi_head_attention",
    "MultiHeadAttention",
    "TransformerBlock",
    "SequenceTransformer",
    "SequenceSetup",
    "sequence_setup",
    "train_sequence_model",
    "sequence_accuracy",
]

Params = dict[str, torch.Tensor]
AttentionCache = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float]
Device = torch.device | str | None
_IGNORE = -100  # targets of padded positions (dlcourse.data.sequences.IGNORE_INDEX, F.cross_entropy's default)


# --------------------------------------------------------------------------- positions and masks


def positional_encoding(
    length: int, d_model: int, base: float = 10000.0, device: Device = None, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Sinusoidal positional encoding (L, D), interleaved sin/cos: computed by the reference, moved to ``device``."""
    return to_tensor(_ref.positional_encoding(length, d_model, base), device, dtype)


def causal_mask(length_q: int, length_k: int | None = None, align: str = "top-left", device: Device = None) -> torch.Tensor:
    """(Lq, Lk) bool, True = may attend: query i sees keys j ≤ i (top-left) or j ≤ i + Lk − Lq (bottom-right)."""
    return to_tensor(_ref.causal_mask(length_q, length_k, align), device)


def padding_mask(lengths: torch.Tensor, length: int) -> torch.Tensor:
    """(N, L) bool on ``lengths``' device, True at positions < lengths[n] (the real tokens)."""
    lengths = to_tensor(lengths)
    if lengths.dim() != 1 or lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must be a 1-D integer tensor (N,), got shape {tuple(lengths.shape)}, dtype {lengths.dtype}")
    if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
        raise ValueError(f"length must be a positive int, got {length!r}")
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > length):
        raise ValueError(f"lengths must lie in 0 … {length}, got {int(lengths.min())} … {int(lengths.max())}")
    return torch.arange(length, device=lengths.device)[None, :] < lengths[:, None]


def _bool(mask: Any, name: str = "mask", meaning: str = "True = may attend") -> torch.Tensor:
    m = to_tensor(mask)
    if m.dtype != torch.bool:
        raise ValueError(f"{name} must be a boolean tensor ({meaning}), got dtype {m.dtype}")
    return m


def to_mha_mask(mask: torch.Tensor) -> torch.Tensor:
    """True = may attend → ``nn.MultiheadAttention``'s True = masked out (the negation)."""
    return ~_bool(mask)


def from_mha_mask(mask: torch.Tensor) -> torch.Tensor:
    """``nn.MultiheadAttention``'s True = masked out → True = may attend (the negation)."""
    return ~_bool(mask, meaning="True = masked out")


def to_additive_mask(mask: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """0 where allowed, −∞ where not (dtype default float64); a fully masked row would give NaN."""
    m = _bool(mask)
    out = torch.zeros(m.shape, dtype=torch.float64 if dtype is None else dtype, device=m.device)
    return out.masked_fill(~m, -math.inf)


# --------------------------------------------------------------------------- scaled dot-product attention


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None, axis: int = -1) -> torch.Tensor:
    """Softmax over the allowed entries only (True = may attend); a fully masked row is all zeros."""
    if mask is None:
        return torch.softmax(scores, dim=axis)
    allowed = _bool(mask).to(scores.device)
    try:
        allowed = allowed.expand(scores.shape)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(allowed.shape)} does not broadcast to the scores' shape {tuple(scores.shape)}") from None
    s = scores.masked_fill(~allowed, -math.inf)
    m = s.amax(dim=axis, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # fully masked row: any finite shift
    e = torch.exp(s - m)
    z = e.sum(dim=axis, keepdim=True)
    return e / torch.where(z > 0, z, torch.ones_like(z))


def _scale(scale: float | None, d: int) -> float:
    return _ref._scale(scale, d)


def attention_weights(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None, scale: float | None = None
) -> torch.Tensor:
    """P = masked_softmax(s · q kᵀ): q (…, Lq, d), k (…, Lk, d) → (…, Lq, Lk); s = 1/√d by default."""
    check_attention_shapes(q.shape, k.shape, k.shape)
    return masked_softmax((q @ k.transpose(-1, -2)) * _scale(scale, q.shape[-1]), mask)


def attention_forward(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None, scale: float | None = None
) -> tuple[torch.Tensor, AttentionCache]:
    """out = masked_softmax(s · q kᵀ) v: q (…, Lq, d), k (…, Lk, d), v (…, Lk, d_v) → (…, Lq, d_v).

    cache: (q, k, v, P, s), P (…, Lq, Lk) the attention weights.
    """
    check_attention_shapes(q.shape, k.shape, v.shape)
    s = _scale(scale, q.shape[-1])
    p = masked_softmax((q @ k.transpose(-1, -2)) * s, mask)
    return p @ v, (q, k, v, p, s)


def attention_backward(dout: torch.Tensor, cache: AttentionCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dv = Pᵀ G;  dS = P ⊙ (G vᵀ − rowsum(G vᵀ ⊙ P));  dq = s·dS k;  dk = s·dSᵀ q  (G = dout (…, Lq, d_v))."""
    q, k, v, p, s = cache
    expected = tuple(p.shape[:-1]) + tuple(v.shape[-1:])
    if tuple(dout.shape) != expected:
        raise ValueError(f"dout has shape {tuple(dout.shape)}, expected the output's shape {expected}")
    dp = dout @ v.transpose(-1, -2)
    ds = p * (dp - (dp * p).sum(dim=-1, keepdim=True)) * s
    return ds @ k, ds.transpose(-1, -2) @ q, p.transpose(-1, -2) @ dout


class ScaledDotProductAttention(torch.autograd.Function):
    """``ScaledDotProductAttention.apply(q, k, v, mask, scale)`` → (out, P), differentiated by :func:`attention_backward`.

    Shapes: q (…, Lq, d), k (…, Lk, d), v (…, Lk, d_v) → out (…, Lq, d_v), P (…, Lq, Lk) (the
    weights, returned for inspection; no gradient flows through them).
    """

    @staticmethod
    def forward(ctx, q, k, v, mask=None, scale=None):  # type: ignore[override]
        out, (_, _, _, p, s) = attention_forward(q, k, v, mask, scale)
        ctx.save_for_backward(q, k, v, p)
        ctx.scale = s
        ctx.mark_non_differentiable(p)
        return out, p

    @staticmethod
    def backward(ctx, dout, _dp):  # type: ignore[override]
        q, k, v, p = ctx.saved_tensors
        dq, dk, dv = attention_backward(dout.contiguous(), (q, k, v, p, ctx.scale))
        return dq, dk, dv, None, None


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None, scale: float | None = None
) -> torch.Tensor:
    """Attention with the written-out backward; equals ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)``."""
    return ScaledDotProductAttention.apply(q, k, v, mask, scale)[0]


# --------------------------------------------------------------------------- multi-head attention (functions)


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(N, L, E) → (N, H, L, E/H), head h = features h·d … (h+1)·d − 1 (a view where possible)."""
    if isinstance(num_heads, bool) or not isinstance(num_heads, int) or num_heads <= 0:
        raise ValueError(f"num_heads must be a positive int, got {num_heads!r}")
    if x.dim() != 3:
        raise ValueError(f"split_heads expects (N, L, E), got shape {tuple(x.shape)}")
    n, length, e = x.shape
    if e % num_heads:
        raise ValueError(f"the embedding size {e} is not divisible by num_heads = {num_heads}")
    return x.reshape(n, length, num_heads, e // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(N, H, L, d) → (N, L, H·d), the inverse of :func:`split_heads`."""
    if x.dim() != 4:
        raise ValueError(f"merge_heads expects (N, H, L, d), got shape {tuple(x.shape)}")
    n, h, length, d = x.shape
    return x.transpose(1, 2).reshape(n, length, h * d)


def init_mha(
    embed_dim: int, rng: np.random.Generator | int | None = 0, device: Device = None, dtype: torch.dtype = torch.float64
) -> Params:
    """The reference's :func:`dlcourse.ref.attention.init_mha` parameters (same draws) as tensors on ``device``."""
    return {name: to_tensor(value, device, dtype) for name, value in _ref.init_mha(embed_dim, rng).items()}


def _combined_mask(
    mask: Any, key_padding_mask: Any, n: int, h: int, lq: int, lk: int, device: torch.device
) -> torch.Tensor | None:
    """Both masks (True = may attend) as one bool tensor broadcastable to (N, H, Lq, Lk), or None."""
    combined = None
    if mask is not None:
        m = _bool(mask).to(device)
        combined = m.reshape(mha_mask_view(m.shape, n, h, lq, lk))
    if key_padding_mask is not None:
        kp = _bool(key_padding_mask, "key_padding_mask").to(device)
        check_key_padding_shape(kp.shape, n, lk)
        kp = kp[:, None, None, :]
        combined = kp if combined is None else combined & kp
    return combined


def mha_forward(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    params: Params,
    num_heads: int,
    mask: torch.Tensor | None = None,
    key_padding_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, MHACache]:
    """Multi-head attention, batch first: query (N, Lq, E), key/value (N, Lk, E) → out (N, Lq, E).

    params in the course's layout (w (E, E) multiplies from the right); masks True = may attend:
    ``mask`` (Lq, Lk), (N, Lq, Lk) or (N, H, Lq, Lk), ``key_padding_mask`` (N, Lk).
    cache.weights (N, H, Lq, Lk) are the per-head attention weights.
    """
    n, lq, lk, e = check_mha_shapes(query.shape, key.shape, value.shape, {k: tuple(v.shape) for k, v in params.items()})
    allowed = _combined_mask(mask, key_padding_mask, n, num_heads, lq, lk, query.device)
    qh = split_heads(query @ params["w_q"] + params["b_q"], num_heads)
    kh = split_heads(key @ params["w_k"] + params["b_k"], num_heads)
    vh = split_heads(value @ params["w_v"] + params["b_v"], num_heads)
    o, att = attention_forward(qh, kh, vh, allowed)
    heads = merge_heads(o)
    out = heads @ params["w_o"] + params["b_o"]
    return out, MHACache(query, key, value, params, num_heads, heads, att, att[3])


def mha_backward(dout: torch.Tensor, cache: MHACache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, Params]:
    """Gradients of :func:`mha_forward`: dquery (N, Lq, E), dkey, dvalue (N, Lk, E), and a dict shaped like params."""
    query, key, value, params, h, heads, att, _ = cache
    if tuple(dout.shape) != tuple(heads.shape):
        raise ValueError(f"dout has shape {tuple(dout.shape)}, expected the output's shape {tuple(heads.shape)}")
    e = heads.shape[-1]
    grads: Params = {"w_o": heads.reshape(-1, e).T @ dout.reshape(-1, e), "b_o": dout.sum(dim=(0, 1))}
    dq, dk, dv = attention_backward(split_heads(dout @ params["w_o"].T, h), att)
    dx = {}
    for name, x, d in (("q", query, dq), ("k", key, dk), ("v", value, dv)):
        d = merge_heads(d)
        grads[f"w_{name}"] = x.reshape(-1, e).T @ d.reshape(-1, e)
        grads[f"b_{name}"] = d.sum(dim=(0, 1))
        dx[name] = d @ params[f"w_{name}"].T
    return dx["q"], dx["k"], dx["v"], {name: grads[name] for name in MHA_PARAM_NAMES}


def mha_params_to_torch(params: Params) -> dict[str, torch.Tensor]:
    """The course's params → ``nn.MultiheadAttention`` state-dict entries: in_proj_weight = [w_qᵀ; w_kᵀ; w_vᵀ] (3E, E), …"""
    check_mha_param_shapes({k: tuple(v.shape) for k, v in params.items()}, params["w_q"].shape[0] if "w_q" in params else 0)
    return {
        "in_proj_weight": torch.cat([params["w_q"].T, params["w_k"].T, params["w_v"].T], dim=0),
        "in_proj_bias": torch.cat([params["b_q"], params["b_k"], params["b_v"]]),
        "out_proj.weight": params["w_o"].T.clone(),
        "out_proj.bias": params["b_o"].clone(),
    }


def mha_params_from_torch(state: dict[str, torch.Tensor]) -> Params:
    """``nn.MultiheadAttention`` state-dict entries (e.g. ``module.state_dict()``) → the course's params (detached copies)."""
    need = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")
    missing = [k for k in need if k not in state]
    if missing:
        raise ValueError(f"state lacks {missing}; expected {list(need)} (kdim = vdim = embed_dim, bias=True)")
    w = state["in_proj_weight"].detach()
    if w.dim() != 2 or w.shape[0] != 3 * w.shape[1]:
        raise ValueError(f"in_proj_weight must be (3E, E), got shape {tuple(w.shape)}")
    b = state["in_proj_bias"].detach()
    params = {}
    for name, wi, bi in zip("qkv", w.chunk(3), b.chunk(3)):
        params[f"w_{name}"] = wi.T.clone()
        params[f"b_{name}"] = bi.clone()
    params["w_o"] = state["out_proj.weight"].detach().T.clone()
    params["b_o"] = state["out_proj.bias"].detach().clone()
    check_mha_param_shapes({k: tuple(v.shape) for k, v in params.items()}, w.shape[1])
    return {name: params[name] for name in MHA_PARAM_NAMES}


class MultiHeadAttentionFunction(torch.autograd.Function):
    """:func:`mha_forward` as an autograd node, differentiated by the written-out :func:`mha_backward`.

    ``MultiHeadAttentionFunction.apply(query, key, value, num_heads, mask, key_padding_mask,
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o)`` → (out (N, Lq, E), weights (N, H, Lq, Lk)); the
    weights are returned for inspection and carry no gradient. Passing one tensor as query, key
    and value (self-attention) makes autograd add the three input gradients.
    """

    @staticmethod
    def forward(ctx, query, key, value, num_heads, mask, key_padding_mask, *weights):  # type: ignore[override]
        out, cache = mha_forward(query, key, value, dict(zip(MHA_PARAM_NAMES, weights)), num_heads, mask,
                                 key_padding_mask)
        qh, kh, vh, p, s = cache.attention
        ctx.save_for_backward(query, key, value, cache.heads, qh, kh, vh, p, *weights)
        ctx.num_heads, ctx.scale = num_heads, s
        ctx.mark_non_differentiable(cache.weights)
        return out, cache.weights

    @staticmethod
    def backward(ctx, dout, _dweights):  # type: ignore[override]
        query, key, value, heads, qh, kh, vh, p, *weights = ctx.saved_tensors
        params = dict(zip(MHA_PARAM_NAMES, weights))
        cache = MHACache(query, key, value, params, ctx.num_heads, heads, (qh, kh, vh, p, ctx.scale), p)
        dq, dk, dv, grads = mha_backward(dout.contiguous(), cache)
        return (dq, dk, dv, None, None, None, *(grads[name] for name in MHA_PARAM_NAMES))


def multi_head_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    params: Params,
    num_heads: int,
    mask: torch.Tensor | None = None,
    key_padding_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """:func:`mha_forward`'s output with the written-out backward (arguments as there): (N, Lq, E)."""
    weights = [params[name] for name in MHA_PARAM_NAMES]
    return MultiHeadAttentionFunction.apply(query, key, value, num_heads, mask, key_padding_mask, *weights)[0]


# --------------------------------------------------------------------------- modules


class MultiHeadAttention(nn.Module):
    """Multi-head attention as ``nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)``,
    with this course's masks (True = may attend, fully masked rows give 0), differentiated by
    the written-out :func:`mha_backward` (through :class:`MultiHeadAttentionFunction`).

    Parameters have ``nn.MultiheadAttention``'s names and layout (``in_proj_weight`` (3E, E) =
    [W_q; W_k; W_v], ``in_proj_bias`` (3E,), ``out_proj`` an E → E ``nn.Linear``) and its
    initialization (Xavier-uniform in-projection, zero biases), so ``load_state_dict`` works in
    both directions.
    """

    def __init__(self, embed_dim: int, num_heads: int, device: Device = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim = {embed_dim} is not divisible by num_heads = {num_heads}")
        kw = {"device": device, "dtype": dtype}
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **kw))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim, **kw))
        self.out_proj = nn.Linear(embed_dim, embed_dim, **kw)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        average_attn_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """query (N, Lq, E), key/value (N, Lk, E) → (out (N, Lq, E), weights or None).

        weights: (N, Lq, Lk) averaged over heads (``average_attn_weights=True``, as
        ``nn.MultiheadAttention``), else (N, H, Lq, Lk). Masks as :func:`mha_forward`.
        """
        out, p = MultiHeadAttentionFunction.apply(
            query, key, value, self.num_heads, mask, key_padding_mask, *self.course_params().values()
        )
        if not need_weights:
            return out, None
        return out, (p.mean(dim=1) if average_attn_weights else p)

    def course_params(self) -> Params:
        """The parameters in the course's layout (w_q … b_o, x @ w + b), as views: gradients flow back."""
        e = self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        params = {}
        for i, name in enumerate("qkv"):
            params[f"w_{name}"] = w[i * e : (i + 1) * e].T
            params[f"b_{name}"] = b[i * e : (i + 1) * e]
        params["w_o"], params["b_o"] = self.out_proj.weight.T, self.out_proj.bias
        return {name: params[name] for name in MHA_PARAM_NAMES}


class TransformerBlock(nn.Module):
    """A pre-norm transformer encoder block: x ← x + MHA(LN₁(x)); x ← x + MLP(LN₂(x)).

    MLP = Linear(E, r·E) → GELU → Linear(r·E, E). The residual paths let the block start close
    to the identity and let gradients pass through deep stacks unchanged; normalizing *before*
    each sublayer (pre-norm) keeps the residual stream unnormalized and trains stably without
    a learning-rate warm-up. Submodules are named as in ``nn.TransformerEncoderLayer``
    (``self_attn``, ``norm1``, ``norm2``, ``linear1``, ``linear2``), whose ``norm_first=True,
    activation="gelu", batch_first=True`` version computes the same function.

    Shapes: x (N, L, E) → (N, L, E).
    """

    def __init__(
        self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, dropout: float = 0.0,
        device: Device = None, dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiHeadAttention(embed_dim, num_heads, **kw)
        self.norm1 = nn.LayerNorm(embed_dim, **kw)
        self.norm2 = nn.LayerNorm(embed_dim, **kw)
        self.linear1 = nn.Linear(embed_dim, mlp_ratio * embed_dim, **kw)
        self.linear2 = nn.Linear(mlp_ratio * embed_dim, embed_dim, **kw)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """x (N, L, E) → (N, L, E), or with ``need_weights`` also the per-head weights (N, H, L, L)."""
        y = self.norm1(x)
        a, weights = self.self_attn(y, y, y, mask, key_padding_mask, need_weights, average_attn_weights=False)
        x = x + self.dropout(a)
        x = x + self.dropout(self.linear2(F.gelu(self.linear1(self.norm2(x)))))
        return (x, weights) if need_weights else x


class SequenceTransformer(nn.Module):
    """Tokens → embeddings + sinusoidal positions → ``num_layers`` blocks → LayerNorm → one classifier per position.

    Args:
        vocab_size: number of token ids (digits and the pad token).
        max_length: longest sequence (rows of the positional-encoding table).
        num_classes: outputs per position (default ``vocab_size``).
        pad_token: when given, positions holding it are masked out as keys (unless an explicit
            ``key_padding_mask`` is passed to :meth:`forward`).

    Shapes: tokens (N, L) int64 → logits (N, L, num_classes).
    """

    def __init__(
        self, vocab_size: int, max_length: int, embed_dim: int = 64, num_heads: int = 4, num_layers: int = 2,
        mlp_ratio: int = 4, num_classes: int | None = None, pad_token: int | None = None, dropout: float = 0.0,
        device: Device = None, dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.pad_token = pad_token
        self.embed = nn.Embedding(vocab_size, embed_dim, **kw)
        pe = positional_encoding(max_length, embed_dim, device=device, dtype=dtype or torch.get_default_dtype())
        self.register_buffer("pe", pe, persistent=False)
        self.blocks = nn.ModuleList(
            TransformerBlock(embed_dim, num_heads, mlp_ratio, dropout, **kw) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(embed_dim, **kw)
        self.head = nn.Linear(embed_dim, num_classes or vocab_size, **kw)

    def forward(
        self, tokens: torch.Tensor, key_padding_mask: torch.Tensor | None = None, need_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """tokens (N, L) → logits (N, L, C); with ``need_weights`` also a list of (N, H, L, L) maps, one per block."""
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be (N, L), got shape {tuple(tokens.shape)}")
        if tokens.shape[1] > self.pe.shape[0]:
            raise ValueError(f"sequences of length {tokens.shape[1]} exceed max_length = {self.pe.shape[0]}")
        if key_padding_mask is None and self.pad_token is not None:
            key_padding_mask = tokens != self.pad_token
        x = self.embed(tokens) + self.pe[: tokens.shape[1]]
        maps = []
        for block in self.blocks:
            if need_weights:
                x, w = block(x, key_padding_mask=key_padding_mask, need_weights=True)
                maps.append(w.detach())
            else:
                x = block(x, key_padding_mask=key_padding_mask)
        logits = self.head(self.norm(x))
        return (logits, maps) if need_weights else logits


# --------------------------------------------------------------------------- training on the toy tasks


@dataclass(frozen=True)
class SequenceSetup:
    """Everything that sizes a toy-task run: data, model and optimization."""

    task: str = "reverse"
    length: int = 8
    min_length: int | None = 4
    n_digits: int = 10
    n_train: int = 20000
    n_test: int = 2000
    embed_dim: int = 64
    num_heads: int = 4
    num_layers: int = 2
    steps: int = 300
    batch_size: int = 128
    lr: float = 3e-3

    def model(self, device: Device = None, dtype: torch.dtype | None = None) -> SequenceTransformer:
        """A fresh :class:`SequenceTransformer` of this size (pad token masked out)."""
        return SequenceTransformer(
            self.n_digits + 1, self.length, self.embed_dim, self.num_heads, self.num_layers,
            num_classes=self.n_digits, pad_token=self.n_digits, device=device, dtype=dtype,
        )


def sequence_setup(device: Device = None, **changes: Any) -> SequenceSetup:
    """The run the notebook makes: sized for ≤ ~15 s on 2 CPU cores, larger on a GPU.

    On CUDA the same code trains on longer strings with a bigger model and more steps (a GPU
    does them in about the same time). Keyword arguments override any field.
    """
    device = default_device() if device is None else torch.device(device)
    setup = SequenceSetup()
    if device.type == "cuda":
        setup = replace(setup, length=12, min_length=6, n_train=50000, embed_dim=128, num_layers=3, steps=1000,
                        batch_size=256)
    return replace(setup, **changes)


def train_sequence_model(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    batch_size: int = 128,
    lr: float = 3e-3,
    rng: int = 0,
    log_every: int = 25,
) -> dict[str, list[float]]:
    """Adam on per-position cross-entropy (targets −100 ignored), cosine-decayed lr, gradients clipped to norm 1.

    Args:
        model: maps tokens (B, L) to logits (B, L, C); trained on its own device.
        x, y: (N, L) int tokens and targets (NumPy or tensors; moved to the model's device once).
        steps: optimizer steps, each on a batch drawn (with replacement) by a generator seeded by ``rng``
            (the model's initial weights are the caller's: seed torch before building it).

    Returns:
        history: "step", "loss" (mean of the last ``log_every`` batches) and "seconds" (wall clock).
    """
    device = next(model.parameters()).device
    x, y = to_tensor(x, device, torch.long), to_tensor(y, device, torch.long)
    if x.shape != y.shape or x.dim() != 2:
        raise ValueError(f"x and y must both be (N, L); got {tuple(x.shape)} and {tuple(y.shape)}")
    gen = torch.Generator(device="cpu").manual_seed(int(rng))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps)))
    history: dict[str, list[float]] = {"step": [], "loss": [], "seconds": []}
    model.train()
    t0, running = time.perf_counter(), []
    for step in range(1, steps + 1):
        idx = torch.randint(0, x.shape[0], (batch_size,), generator=gen).to(device)
        logits = model(x[idx])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[idx].reshape(-1), ignore_index=_IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running.append(loss.detach())
        if step % log_every == 0 or step == steps:
            history["step"].append(step)
            history["loss"].append(float(torch.stack(running).mean()))
            history["seconds"].append(time.perf_counter() - t0)
            running = []
    model.eval()
    return history


@torch.no_grad()
def sequence_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> dict[str, float]:
    """Accuracy on (N, L) tokens/targets: "token" (real positions right) and "sequence" (every position right)."""
    device = next(model.parameters()).device
    x, y = to_tensor(x, device, torch.long), to_tensor(y, device, torch.long)
    was_training = model.training
    model.eval()
    right = total = whole = 0
    for i in range(0, x.shape[0], batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        pred = model(xb).argmax(dim=-1)
        real = yb != _IGNORE
        ok = (pred == yb) & real
        right += int(ok.sum())
        total += int(real.sum())
        whole += int((ok | ~real).all(dim=1).sum())
    model.train(was_training)
    return {"token": right / max(total, 1), "sequence": whole / max(x.shape[0], 1)}
