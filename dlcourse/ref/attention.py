"""Attention in NumPy: positional encoding, masks, scaled dot-product and multi-head attention.

Scaled dot-product attention of queries q (…, Lq, d), keys k (…, Lk, d) and values v (…, Lk, d_v)::

    S = s · q kᵀ            (…, Lq, Lk)   scores, s = 1/√d by default
    P = masked_softmax(S)   (…, Lq, Lk)   each query's weights over the keys, rows sum to 1
    out = P v               (…, Lq, d_v)

**One mask convention.** Every mask here is boolean and **True means "this query may attend to
this key"**, as the boolean ``attn_mask`` of ``torch.nn.functional.scaled_dot_product_attention``.
``torch.nn.MultiheadAttention`` uses the opposite convention (its ``attn_mask`` and
``key_padding_mask`` are True where attention is *forbidden*): convert explicitly with
:func:`to_mha_mask` / :func:`from_mha_mask`, never by remembering. :func:`to_additive_mask` gives
the float form (0 where allowed, −∞ where not) that both PyTorch functions also accept.

**Fully masked rows.** A query that may attend to no key at all (a padding query whose keys are
all padding, say) gets an all-zero row of weights, so its output is 0 and no gradient flows
through it. ``F.scaled_dot_product_attention`` does the same with a boolean mask;
``nn.MultiheadAttention`` returns NaN for such a row, and a NaN reaching a loss spoils every
gradient of the step.

**Causal masks** (:func:`causal_mask`) let query i see keys j ≤ i. When Lq ≠ Lk that
diagonal is ambiguous: PyTorch's ``is_causal=True`` aligns it to the *top-left* corner (query i
sees keys 0…i), while decoding with a cache of past keys needs *bottom-right* alignment (the last
query sees every key): choose with ``align``.

Multi-head attention works on batch-first inputs (N, L, E) with E = H · d_head, in the course's
layout for weights (``out = x @ w + b``, w of shape (E_in, E_out)); :func:`mha_params_to_torch`
and :func:`mha_params_from_torch` convert to and from ``nn.MultiheadAttention``'s
``in_proj_weight = [W_q; W_k; W_v]`` (3E, E), which multiplies from the other side.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from dlcourse.ref.init import xavier_uniform
from dlcourse.ref.losses import softmax, softmax_backward

__all__ = [
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
]

Params = dict[str, np.ndarray]
AttentionCache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]

MHA_PARAM_NAMES = ("w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o")


# --------------------------------------------------------------------------- input checks


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _float_array(name: str, a: object, min_ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    if a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got shape {a.shape}")
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def _bool_mask(mask: object, target: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """mask as a bool array broadcast to ``target``, or a ValueError that says what was expected."""
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(
            f"{name} must be a boolean array (True = may attend), got dtype {m.dtype}; "
            "for nn.MultiheadAttention's convention (True = masked out) use from_mha_mask"
        )
    try:
        return np.broadcast_to(m, target)
    except ValueError:
        raise ValueError(f"{name} of shape {m.shape} does not broadcast to the scores' shape {target}") from None


def _shapes(params: dict) -> dict[str, tuple[int, ...]]:
    return {name: tuple(np.shape(value)) for name, value in params.items()}


def _scale(scale: float | None, d: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(d)
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
        raise ValueError(f"scale must be a finite number or None (1/√d), got {scale!r}")
    return float(scale)


# --------------------------------------------------------------------------- positions and masks


def positional_encoding(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """Sinusoidal positional encoding (Vaswani et al., 2017), interleaved sin/cos.

    PE[p, 2i] = sin(p / base^(2i/d)),  PE[p, 2i+1] = cos(p / base^(2i/d)):  column pair i is a
    rotation at angular frequency ω_i = base^(−2i/d), from one radian per position (i = 0) down
    to about 1/base. Because a shift by k positions rotates every pair by k·ω_i, PE[p + k] is a
    fixed linear function of PE[p], and PE[p]·PE[q] depends on p − q only.

    Args:
        length: number of positions L (rows), positions 0 … L − 1.
        d_model: encoding size D (columns); an odd D ends with a sin column.
        base: the wavelength scale (10000 in the paper).

    Returns:
        (L, D) float64, every entry in [−1, 1].
    """
    length, d_model = _positive_int("length", length), _positive_int("d_model", d_model)
    if isinstance(base, bool) or not isinstance(base, numbers.Real) or not base > 1:
        raise ValueError(f"base must be a number > 1, got {base!r}")
    pair = np.arange(d_model) // 2  # column j belongs to frequency pair j // 2
    omega = float(base) ** (-2.0 * pair / d_model)
    angle = np.arange(length, dtype=np.float64)[:, None] * omega  # (L, D)
    return np.where(np.arange(d_model) % 2 == 0, np.sin(angle), np.cos(angle))


def causal_mask(length_q: int, length_k: int | None = None, align: str = "top-left") -> np.ndarray:
    """Which keys each query may see in left-to-right order: (Lq, Lk) bool, True = may attend.

    ``align="top-left"`` (PyTorch's ``is_causal=True``): query i sees keys j ≤ i.
    ``align="bottom-right"``: query i sees keys j ≤ i + (Lk − Lq), so the last query sees every
    key (the alignment for new queries appended after Lk − Lq cached ones).
    The two agree when Lq = Lk. With Lq > Lk and bottom-right alignment the first Lq − Lk
    queries see nothing: their rows are fully masked.

    Args:
        length_q: Lq; length_k: Lk (default Lq); align: "top-left" or "bottom-right".
    """
    length_q = _positive_int("length_q", length_q)
    length_k = length_q if length_k is None else _positive_int("length_k", length_k)
    if align not in ("top-left", "bottom-right"):
        raise ValueError(f"align must be 'top-left' or 'bottom-right', got {align!r}")
    offset = 0 if align == "top-left" else length_k - length_q
    return np.arange(length_k)[None, :] <= np.arange(length_q)[:, None] + offset


def padding_mask(lengths: np.ndarray, length: int) -> np.ndarray:
    """Which positions hold a real token: (N, L) bool, True at positions < lengths[n].

    As a key mask for scores of shape (N, Lq, Lk) use ``mask[:, None, :]``, and
    ``mask[:, None, None, :]`` for (N, H, Lq, Lk): every query may attend to the real keys only.

    Args:
        lengths: (N,) ints in 0 … length, the true length of each sequence.
        length: L, the padded length.
    """
    length = _positive_int("length", length)
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be a 1-D integer array (N,), got shape {lengths.shape}, dtype {lengths.dtype}")
    if lengths.size and (lengths.min() < 0 or lengths.max() > length):
        raise ValueError(f"lengths must lie in 0 … {length}, got {lengths.min()} … {lengths.max()}")
    return np.arange(length)[None, :] < lengths[:, None]


def to_mha_mask(mask: np.ndarray) -> np.ndarray:
    """This module's mask (True = may attend) → ``nn.MultiheadAttention``'s (True = masked out).

    Works for ``attn_mask`` (Lq, Lk) and ``key_padding_mask`` (N, Lk) alike: it is the negation,
    named so that the direction of a conversion is never guessed. (A 4-D (N, H, Lq, Lk) mask
    must further be reshaped to (N·H, Lq, Lk) for ``attn_mask``.)
    """
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(f"mask must be a boolean array (True = may attend), got dtype {m.dtype}")
    return ~m


def from_mha_mask(mask: np.ndarray) -> np.ndarray:
    """``nn.MultiheadAttention``'s mask (True = masked out) → this module's (True = may attend)."""
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(f"mask must be a boolean array (True = masked out), got dtype {m.dtype}")
    return ~m


def to_additive_mask(mask: np.ndarray, dtype: type | None = None) -> np.ndarray:
    """The float form of a boolean mask (True = may attend): 0 where allowed, −∞ where not.

    ``dtype`` defaults to float64.

    Added to the scores before the softmax it removes the forbidden keys (e^−∞ = 0); both
    ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention`` accept it. A fully masked
    row becomes all −∞, and a plain softmax of it is 0/0 = NaN (``torch.softmax``,
    ``nn.MultiheadAttention``); ``F.scaled_dot_product_attention`` returns zeros for it, as
    :func:`masked_softmax` does.
    """
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(f"mask must be a boolean array (True = may attend), got dtype {m.dtype}")
    return np.where(m, 0.0, -np.inf).astype(np.float64 if dtype is None else dtype)


# --------------------------------------------------------------------------- scaled dot-product attention


def masked_softmax(scores: np.ndarray, mask: np.ndarray | None = None, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` over the allowed entries only; a fully masked row is all zeros.

    p_j = mask_j · e^{s_j − m} / Σ_k mask_k · e^{s_k − m}, m the largest *allowed* score (the
    usual shift that keeps every exponent ≤ 0). Masked scores are never read, so a NaN or ∞ there
    does no harm. Its backward pass is the ordinary softmax one,
    :func:`dlcourse.ref.losses.softmax_backward`: where p = 0 the gradient is 0.

    Args:
        scores: any shape, float.
        mask: bool, broadcastable to ``scores``; True = may attend. None: plain softmax.

    Returns:
        probabilities shaped like ``scores``; rows sum to 1, or to 0 where fully masked.
    """
    scores = _float_array("scores", scores, 1)
    if mask is None:
        return softmax(scores, axis)
    allowed = _bool_mask(mask, scores.shape)
    s = np.where(allowed, scores, -np.inf)
    m = s.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # a fully masked row has max −∞; any finite shift works
    e = np.exp(s - m)  # e^−∞ = 0 exactly at the masked entries, without a warning
    z = e.sum(axis=axis, keepdims=True)
    return e / np.where(z > 0, z, 1.0)  # 0 / 1 = 0 on a fully masked row, instead of 0 / 0


def check_attention_shapes(q_shape: tuple[int, ...], k_shape: tuple[int, ...], v_shape: tuple[int, ...]) -> None:
    """Raise a ValueError unless q (…, Lq, d), k (…, Lk, d), v (…, Lk, d_v) fit together.

    Shapes only, so the PyTorch twins run the same checks on tensors of any device.
    """
    for name, shape in (("q", q_shape), ("k", k_shape), ("v", v_shape)):
        if len(shape) < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (…, L, d), got shape {tuple(shape)}")
    if not (tuple(q_shape[:-2]) == tuple(k_shape[:-2]) == tuple(v_shape[:-2])):
        raise ValueError(
            "q, k and v must share their leading (batch, head) dimensions: "
            f"got q {tuple(q_shape)}, k {tuple(k_shape)}, v {tuple(v_shape)}"
        )
    if q_shape[-1] != k_shape[-1]:
        raise ValueError(f"queries and keys must have the same size d: q is {tuple(q_shape)}, k is {tuple(k_shape)}")
    if k_shape[-2] != v_shape[-2]:
        raise ValueError(f"every key needs a value: k has {k_shape[-2]} rows, v has {v_shape[-2]}")


def _check_qkv(q: object, k: object, v: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q, k, v = (_float_array(n, a, 2) for n, a in (("q", q), ("k", k), ("v", v)))
    check_attention_shapes(q.shape, k.shape, v.shape)
    return q, k, v


def attention_weights(
    q: np.ndarray, k: np.ndarray, mask: np.ndarray | None = None, scale: float | None = None
) -> np.ndarray:
    """P = masked_softmax(s · q kᵀ): how much each query attends to each key.

    Args:
        q: (…, Lq, d); k: (…, Lk, d), same leading dimensions.
        mask: bool broadcastable to (…, Lq, Lk), True = may attend; None = all keys.
        scale: s; None means 1/√d. Without it (s = 1) the scores of d-dimensional random
            vectors have standard deviation √d, and the softmax saturates to nearly one-hot rows.

    Returns:
        (…, Lq, Lk), rows summing to 1 (0 where fully masked).
    """
    q, k, _ = _check_qkv(q, k, k)
    s = _scale(scale, q.shape[-1])
    return masked_softmax((q @ np.swapaxes(k, -1, -2)) * s, mask)


def attention_forward(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None, scale: float | None = None
) -> tuple[np.ndarray, AttentionCache]:
    """Scaled dot-product attention, out = masked_softmax(s · q kᵀ) v.

    Args:
        q: (…, Lq, d) queries; k: (…, Lk, d) keys; v: (…, Lk, d_v) values; the leading
            dimensions (batch, heads) are the same for all three.
        mask: bool broadcastable to (…, Lq, Lk); True = may attend. None = every key.
        scale: s; None means 1/√d.

    Returns:
        out: (…, Lq, d_v); a fully masked query row gives 0.
        cache: (q, k, v, P, s) with P (…, Lq, Lk) the attention weights.
    """
    q, k, v = _check_qkv(q, k, v)
    s = _scale(scale, q.shape[-1])
    p = masked_softmax((q @ np.swapaxes(k, -1, -2)) * s, mask)
    return p @ v, (q, k, v, p, s)


def attention_backward(dout: np.ndarray, cache: AttentionCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`attention_forward`.

    With G = dout (…, Lq, d_v):  dv = Pᵀ G;  dP = G vᵀ;  dS = P ⊙ (dP − rowsum(dP ⊙ P));
    dq = s · dS k;  dk = s · dSᵀ q. Masked entries have P = 0, so dS = 0 there (and on a
    fully masked row): the mask itself needs no gradient code.

    Returns:
        dq (…, Lq, d), dk (…, Lk, d), dv (…, Lk, d_v).
    """
    q, k, v, p, s = cache
    dout = np.asarray(dout)
    expected = p.shape[:-1] + v.shape[-1:]
    if dout.shape != expected:
        raise ValueError(f"dout has shape {dout.shape}, expected the output's shape {expected}")
    dv = np.swapaxes(p, -1, -2) @ dout
    ds = softmax_backward(dout @ np.swapaxes(v, -1, -2), p) * s
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, dv


# --------------------------------------------------------------------------- multi-head attention


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(N, L, E) → (N, H, L, E/H): head h gets features h·d … (h+1)·d − 1, d = E/H (PyTorch's split)."""
    num_heads = _positive_int("num_heads", num_heads)
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"split_heads expects (N, L, E), got shape {x.shape}")
    n, length, e = x.shape
    if e % num_heads:
        raise ValueError(f"the embedding size {e} is not divisible by num_heads = {num_heads}")
    return x.reshape(n, length, num_heads, e // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(N, H, L, d) → (N, L, H·d): the inverse of :func:`split_heads` (heads side by side)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"merge_heads expects (N, H, L, d), got shape {x.shape}")
    n, h, length, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, length, h * d)


def init_mha(embed_dim: int, rng: np.random.Generator | int | None = 0) -> Params:
    """Parameters of multi-head attention, float64, in the course's layout (``x @ w + b``).

    The four (E, E) weights w_q, w_k, w_v, w_o are Xavier-uniform (U(−√(3/E), √(3/E))), drawn
    in that order from ``rng``; the four (E,) biases are zero. The number of heads is not a
    parameter's shape: the same weights serve any H that divides E.
    """
    embed_dim = _positive_int("embed_dim", embed_dim)
    gen = np.random.default_rng(rng)
    params = {}
    for name in ("q", "k", "v", "o"):
        params[f"w_{name}"] = xavier_uniform((embed_dim, embed_dim), rng=gen)
        params[f"b_{name}"] = np.zeros(embed_dim)
    return {name: params[name] for name in MHA_PARAM_NAMES}


class MHACache(NamedTuple):
    """What :func:`mha_backward` needs; ``weights`` (N, H, Lq, Lk) are the per-head attention maps."""

    query: np.ndarray
    key: np.ndarray
    value: np.ndarray
    params: Params
    num_heads: int
    heads: np.ndarray  # (N, Lq, E) merged head outputs, the input of the output projection
    attention: AttentionCache
    weights: np.ndarray


def mha_mask_view(mask_shape: tuple[int, ...], n: int, h: int, lq: int, lk: int) -> tuple[int, ...]:
    """The shape to view a multi-head ``mask`` as, so that it broadcasts to (N, H, Lq, Lk).

    (Lq, Lk) applies to every sequence and head, (N, Lq, Lk) to every head of a sequence (a
    head axis is inserted: plain broadcasting would align N with H), (N or 1, H or 1, Lq, Lk)
    as it is. Raises a ValueError for anything else. Shapes only (shared with the twins).
    """
    shape = tuple(mask_shape)
    if len(shape) == 3:
        shape = (shape[0], 1) + shape[1:]
    if len(shape) not in (2, 4):
        raise ValueError(f"mask must be (Lq, Lk), (N, Lq, Lk) or (N, H, Lq, Lk), got shape {tuple(mask_shape)}")
    target = (n, h, lq, lk)
    if any(a not in (1, b) for a, b in zip(shape[::-1], target[::-1])):
        raise ValueError(f"mask of shape {tuple(mask_shape)} does not broadcast to (N, H, Lq, Lk) = {target}")
    return shape


def check_key_padding_shape(kp_shape: tuple[int, ...], n: int, lk: int) -> None:
    """Raise a ValueError unless a key-padding mask is (N, Lk)."""
    if tuple(kp_shape) != (n, lk):
        raise ValueError(f"key_padding_mask must be (N, Lk) = {(n, lk)}, got shape {tuple(kp_shape)}")


def _mha_mask(
    mask: np.ndarray | None, key_padding_mask: np.ndarray | None, n: int, h: int, lq: int, lk: int
) -> np.ndarray | None:
    """Both masks combined into one bool array broadcastable to (N, H, Lq, Lk), or None."""
    combined = None
    if mask is not None:
        m = np.asarray(mask)
        combined = _bool_mask(m.reshape(mha_mask_view(m.shape, n, h, lq, lk)), (n, h, lq, lk))
    if key_padding_mask is not None:
        kp = np.asarray(key_padding_mask)
        check_key_padding_shape(kp.shape, n, lk)
        kp = _bool_mask(kp, (n, lk), "key_padding_mask")[:, None, None, :]
        combined = kp if combined is None else combined & kp
    return combined


def check_mha_shapes(
    query_shape: tuple[int, ...], key_shape: tuple[int, ...], value_shape: tuple[int, ...], param_shapes: dict
) -> tuple[int, int, int, int]:
    """Raise a ValueError unless the inputs are (N, Lq, E), (N, Lk, E), (N, Lk, E) and the params fit E.

    Returns (N, Lq, Lk, E). Shapes only (shared with the twins).
    """
    shapes = [tuple(query_shape), tuple(key_shape), tuple(value_shape)]
    if any(len(sh) != 3 for sh in shapes):
        raise ValueError(f"query, key and value must be (N, L, E); got {shapes[0]}, {shapes[1]}, {shapes[2]}")
    (n, lq, e), ks, vs = shapes
    if ks[0] != n or vs[0] != n or ks[2] != e or vs[2] != e:
        raise ValueError(f"key and value must be (N, Lk, E) = ({n}, Lk, {e}); got {ks} and {vs}")
    if ks[1] != vs[1]:
        raise ValueError(f"key and value must have the same length Lk; got {ks[1]} and {vs[1]}")
    check_mha_param_shapes(param_shapes, e)
    return n, lq, ks[1], e


def check_mha_param_shapes(param_shapes: dict, e: int) -> None:
    """Raise a ValueError unless ``param_shapes`` maps every name of ``MHA_PARAM_NAMES`` to its shape for E."""
    missing = [name for name in MHA_PARAM_NAMES if name not in param_shapes]
    if missing:
        raise ValueError(f"params lack {missing}; expected the keys {list(MHA_PARAM_NAMES)}")
    for name in MHA_PARAM_NAMES:
        want = (e, e) if name.startswith("w") else (e,)
        if tuple(param_shapes[name]) != want:
            raise ValueError(f"params[{name!r}] has shape {tuple(param_shapes[name])}, expected {want} for E = {e}")


def mha_forward(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    params: Params,
    num_heads: int,
    mask: np.ndarray | None = None,
    key_padding_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, MHACache]:
    """Multi-head attention, batch first: project, split into heads, attend, merge, project.

    Q = query·w_q + b_q, K = key·w_k + b_k, V = value·w_v + b_v (each (N, L, E)); each is split
    into H heads of d = E/H features; every head runs :func:`attention_forward` with s = 1/√d;
    the heads' outputs are put side by side again (N, Lq, E) and mixed by out = heads·w_o + b_o.
    Self-attention is ``mha_forward(x, x, x, ...)``.

    Args:
        query: (N, Lq, E); key: (N, Lk, E); value: (N, Lk, E).
        params: w_q, w_k, w_v, w_o (E, E) and b_q, b_k, b_v, b_o (E,) (see :func:`init_mha`).
        num_heads: H, a divisor of E.
        mask: bool, True = may attend: (Lq, Lk) for every sequence and head, (N, Lq, Lk) per
            sequence, or (N, H, Lq, Lk).
        key_padding_mask: (N, Lk) bool, True = a real key (e.g. :func:`padding_mask`).

    Returns:
        out: (N, Lq, E). A query whose keys are all masked gets a zero attention output in every
        head, so its row of ``out`` is just b_o.
        cache: :class:`MHACache`; ``cache.weights`` (N, H, Lq, Lk) are the per-head attention
        weights (``nn.MultiheadAttention`` returns their mean over heads by default).
    """
    query, key, value = (_float_array(n, a, 3) for n, a in (("query", query), ("key", key), ("value", value)))
    n, lq, lk, e = check_mha_shapes(query.shape, key.shape, value.shape, _shapes(params))
    h = _positive_int("num_heads", num_heads)
    if e % h:
        raise ValueError(f"the embedding size {e} is not divisible by num_heads = {h}")
    allowed = _mha_mask(mask, key_padding_mask, n, h, lq, lk)
    qh = split_heads(query @ params["w_q"] + params["b_q"], h)
    kh = split_heads(key @ params["w_k"] + params["b_k"], h)
    vh = split_heads(value @ params["w_v"] + params["b_v"], h)
    o, att = attention_forward(qh, kh, vh, allowed)
    heads = merge_heads(o)
    out = heads @ params["w_o"] + params["b_o"]
    return out, MHACache(query, key, value, params, h, heads, att, att[3])


def mha_backward(
    dout: np.ndarray, cache: MHACache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Params]:
    """Gradients of :func:`mha_forward`.

    Backward through the output projection (a dense layer on every position), the merge (a
    reshape, undone by a split), every head's attention (:func:`attention_backward`) and the
    three input projections. In self-attention (query = key = value = x) the input gradient is
    the sum of the three: dx = dquery + dkey + dvalue.

    Args:
        dout: (N, Lq, E).

    Returns:
        dquery (N, Lq, E), dkey (N, Lk, E), dvalue (N, Lk, E), and grads: a dict shaped like
        params (d w_q … d b_o).
    """
    query, key, value, params, h, heads, att, _ = cache
    dout = np.asarray(dout)
    if dout.shape != heads.shape:
        raise ValueError(f"dout has shape {dout.shape}, expected the output's shape {heads.shape}")
    e = heads.shape[-1]
    grads: Params = {}
    grads["w_o"] = heads.reshape(-1, e).T @ dout.reshape(-1, e)
    grads["b_o"] = dout.sum(axis=(0, 1))
    dq, dk, dv = attention_backward(split_heads(dout @ params["w_o"].T, h), att)
    dx = {}
    for name, x, d in (("q", query, dq), ("k", key, dk), ("v", value, dv)):
        d = merge_heads(d)  # (N, L, E), gradient of the projection's output
        grads[f"w_{name}"] = x.reshape(-1, e).T @ d.reshape(-1, e)
        grads[f"b_{name}"] = d.sum(axis=(0, 1))
        dx[name] = d @ params[f"w_{name}"].T
    return dx["q"], dx["k"], dx["v"], {name: grads[name] for name in MHA_PARAM_NAMES}


# --------------------------------------------------------------------------- PyTorch's layout


def mha_params_to_torch(params: Params) -> dict[str, np.ndarray]:
    """The course's params → ``nn.MultiheadAttention``'s state-dict entries (as arrays).

    PyTorch multiplies from the left (y = x Wᵀ + b), so every weight is transposed, and the
    three input projections are stacked into one matrix, queries first:

        in_proj_weight = [w_qᵀ; w_kᵀ; w_vᵀ]  (3E, E),   in_proj_bias = [b_q; b_k; b_v]  (3E,),
        out_proj.weight = w_oᵀ (E, E),                   out_proj.bias = b_o (E,).
    """
    check_mha_param_shapes(_shapes(params), np.shape(params["w_q"])[0] if "w_q" in params else 0)
    return {
        "in_proj_weight": np.concatenate([params["w_q"].T, params["w_k"].T, params["w_v"].T], axis=0),
        "in_proj_bias": np.concatenate([params["b_q"], params["b_k"], params["b_v"]]),
        "out_proj.weight": params["w_o"].T.copy(),
        "out_proj.bias": params["b_o"].copy(),
    }


def mha_params_from_torch(state: dict[str, np.ndarray]) -> Params:
    """``nn.MultiheadAttention``'s state-dict entries (arrays) → the course's params.

    The inverse of :func:`mha_params_to_torch`: rows 0…E−1 of ``in_proj_weight`` are W_q,
    E…2E−1 W_k, 2E…3E−1 W_v (each transposed to the course's (E_in, E_out) layout).
    """
    need = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")
    missing = [k for k in need if k not in state]
    if missing:
        raise ValueError(f"state lacks {missing}; expected {list(need)} (kdim = vdim = embed_dim, bias=True)")
    w = np.asarray(state["in_proj_weight"])
    if w.ndim != 2 or w.shape[0] != 3 * w.shape[1]:
        raise ValueError(f"in_proj_weight must be (3E, E), got shape {w.shape}")
    e = w.shape[1]
    b = np.asarray(state["in_proj_bias"])
    params = {}
    for i, name in enumerate("qkv"):
        params[f"w_{name}"] = w[i * e : (i + 1) * e].T.copy()
        params[f"b_{name}"] = b[i * e : (i + 1) * e].copy()
    params["w_o"] = np.asarray(state["out_proj.weight"]).T.copy()
    params["b_o"] = np.asarray(state["out_proj.bias"]).copy()
    check_mha_param_shapes(_shapes(params), e)
    return {name: params[name] for name in MHA_PARAM_NAMES}
