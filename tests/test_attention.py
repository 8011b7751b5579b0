"""dlcourse.ref.attention (NumPy) against finite differences and PyTorch; dlcourse.data.sequences.

Everything is float64. Tolerances:

- backward passes against h = 1e-5 central differences (``numerical_gradient_array``):
  rtol 1e-7, atol 1e-8 (the central difference's O(h²) truncation error is ~1e-10 here);
- forward values and gradients against PyTorch's built-ins (``F.scaled_dot_product_attention``,
  ``nn.MultiheadAttention`` with copied weights, autograd): rtol = atol = 1e-12, since both
  compute the same sums in float64 and differ only in rounding.

Masks: this module's convention is True = may attend; ``nn.MultiheadAttention`` gets them
through ``to_mha_mask`` (True = masked out).
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.data import sequences as S
from dlcourse.ref import attention as A
from dlcourse.ref.gradcheck import numerical_gradient_array
from dlcourse.ref.losses import softmax

torch = pytest.importorskip("torch")
F = torch.nn.functional

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
FD_RTOL, FD_ATOL = 1e-7, 1e-8
PT_TOL = 1e-12


def t64(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def assert_close(actual, expected, tol: float = PT_TOL) -> None:
    actual = actual.detach().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def assert_fd(analytic: np.ndarray, f, x: np.ndarray, dout: np.ndarray) -> None:
    numeric = numerical_gradient_array(f, x, dout)
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=FD_RTOL, atol=FD_ATOL)


def random_mask(rng: np.random.Generator, shape: tuple[int, ...], p: float = 0.7, full_row: bool = True) -> np.ndarray:
    """A random True = may-attend mask; with ``full_row`` the first query row is fully masked."""
    m = rng.random(shape) < p
    if full_row:
        m[..., 0, :] = False
    return m


def perturbed_params(e: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """init_mha's weights plus noise on everything, so the zero biases are tested too."""
    return {k: v + 0.2 * rng.standard_normal(v.shape) for k, v in A.init_mha(e, rng).items()}


def torch_mha(params: dict[str, np.ndarray], num_heads: int) -> torch.nn.MultiheadAttention:
    e = params["w_q"].shape[0]
    mha = torch.nn.MultiheadAttention(e, num_heads, batch_first=True, dtype=torch.float64)
    mha.load_state_dict({k: t64(v) for k, v in A.mha_params_to_torch(params).items()})
    return mha


# ---------------------------------------------------------------- positional encoding


@pytest.mark.parametrize("length, d", [(1, 1), (5, 4), (7, 5), (50, 16)])
def test_positional_encoding_matches_the_formula(length: int, d: int) -> None:
    pe = A.positional_encoding(length, d)
    assert pe.shape == (length, d) and pe.dtype == np.float64
    for p in range(length):
        for j in range(d):
            angle = p / 10000 ** (2 * (j // 2) / d)
            assert pe[p, j] == pytest.approx(math.sin(angle) if j % 2 == 0 else math.cos(angle), abs=1e-12)


def test_positional_encoding_shift_is_a_rotation_and_similarity_depends_on_distance() -> None:
    d, k = 16, 3
    pe = A.positional_encoding(40, d, base=100.0)
    omega = 100.0 ** (-2.0 * np.arange(d // 2) / d)
    rot = np.zeros((d, d))
    for i, w in enumerate(omega):  # [sin(a + kw), cos(a + kw)] = [sin a, cos a] · R(kw)
        c, s = math.cos(k * w), math.sin(k * w)
        rot[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c, -s], [s, c]]
    assert_close(pe[:-k] @ rot, pe[k:], 1e-12)
    sim = pe @ pe.T
    for offset in range(-5, 6):
        diag = np.diagonal(sim, offset)
        assert np.allclose(diag, diag[0], atol=1e-10)
    assert np.allclose(np.diagonal(sim), d / 2)  # sin² + cos² = 1 for each of the d/2 pairs


@pytest.mark.parametrize("bad", [dict(length=0, d_model=4), dict(length=3, d_model=-1), dict(length=2.5, d_model=4),
                                 dict(length=3, d_model=4, base=1.0), dict(length=True, d_model=4)])
def test_positional_encoding_rejects_bad_sizes(bad: dict) -> None:
    with pytest.raises(ValueError, match="length|d_model|base"):
        A.positional_encoding(**bad)


# ---------------------------------------------------------------- masks and their conventions


@pytest.mark.parametrize("lq, lk", [(4, 4), (3, 6), (6, 3)])
def test_causal_mask_top_left_is_torch_is_causal(lq: int, lk: int) -> None:
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, lq, 5)), rng.standard_normal((2, lk, 5)), rng.standard_normal((2, lk, 3))
    expected = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), is_causal=True)
    mask = A.causal_mask(lq, lk)
    assert mask.shape == (lq, lk) and mask.dtype == bool
    assert_close(F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=torch.from_numpy(mask)), expected)
    out, _ = A.attention_forward(q, k, v, mask)
    assert_close(out, expected)
    assert (mask == np.tril(np.ones((lq, lk), bool))).all()


@pytest.mark.parametrize("lq, lk", [(4, 4), (3, 6), (6, 3)])
def test_causal_mask_bottom_right(lq: int, lk: int) -> None:
    mask = A.causal_mask(lq, lk, align="bottom-right")
    assert (mask == np.tril(np.ones((lq, lk), bool), k=lk - lq)).all()
    assert mask[-1].all()  # the last query sees every key
    if lq == lk:
        assert (mask == A.causal_mask(lq)).all()
    bias = pytest.importorskip("torch.nn.attention.bias")
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((lq, 4)), rng.standard_normal((lk, 4)), rng.standard_normal((lk, 4))
    if lq <= lk:  # torch's lower-right bias leaves fully masked rows (lq > lk) undefined
        lower_right = bias.causal_lower_right(lq, lk)
        expected = F.scaled_dot_product_attention(t64(q)[None], t64(k)[None], t64(v)[None], attn_mask=lower_right)[0]
        assert_close(A.attention_forward(q, k, v, mask)[0], expected)


def test_causal_mask_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="align"):
        A.causal_mask(3, align="top")
    with pytest.raises(ValueError, match="length_q"):
        A.causal_mask(0)


def test_padding_mask_and_errors() -> None:
    m = A.padding_mask(np.array([3, 0, 5]), 5)
    expected = np.array([[j < n for j in range(5)] for n in (3, 0, 5)])
    assert m.dtype == bool and (m == expected).all()
    with pytest.raises(ValueError, match=r"lengths must lie in 0 … 5"):
        A.padding_mask(np.array([6]), 5)
    with pytest.raises(ValueError, match="1-D integer"):
        A.padding_mask(np.array([[1.0]]), 5)


def test_mask_converters_are_explicit_inverses() -> None:
    m = random_mask(np.random.default_rng(2), (3, 4))
    assert (A.to_mha_mask(m) == ~m).all() and (A.from_mha_mask(A.to_mha_mask(m)) == m).all()
    add = A.to_additive_mask(m)
    assert add.dtype == np.float64 and (add[m] == 0).all() and np.isneginf(add[~m]).all()
    assert A.to_additive_mask(m, np.float32).dtype == np.float32
    for fn in (A.to_mha_mask, A.from_mha_mask, A.to_additive_mask):
        with pytest.raises(ValueError, match="boolean"):
            fn(m.astype(int))


def test_additive_and_boolean_masks_agree_with_torch_sdpa() -> None:
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 3))
    m = random_mask(rng, (2, 4, 5))  # row 0 fully masked
    ours = A.attention_forward(q, k, v, m)[0]
    with_bool = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=torch.from_numpy(m))
    with_float = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=t64(A.to_additive_mask(m)))
    assert_close(ours, with_bool)
    assert_close(ours, with_float)  # SDPA's softmax turns an all −∞ row into zeros too
    plain = torch.softmax(t64(np.zeros((2, 4, 5))) + t64(A.to_additive_mask(m)), dim=-1)
    assert torch.isnan(plain[:, 0]).all()  # a plain softmax of an all −∞ row is 0/0


# ---------------------------------------------------------------- masked softmax


@FAST
@given(seed=seeds, shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple))
def test_masked_softmax_matches_torch_and_zeroes_fully_masked_rows(seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    s = 3 * rng.standard_normal(shape)
    assert_close(A.masked_softmax(s), softmax(s))
    m = rng.random(shape) < 0.6
    p = A.masked_softmax(s, m)
    assert p.shape == s.shape and (p[~m] == 0).all()
    full = ~m.any(axis=-1)
    assert (p[full] == 0).all()
    assert np.allclose(p.sum(axis=-1)[~full], 1.0)
    expected = torch.softmax(t64(s).masked_fill(~torch.from_numpy(m), -math.inf), dim=-1).numpy()
    assert_close(p[~full], expected[~full])


def test_masked_softmax_never_reads_masked_scores() -> None:
    s = np.array([[1.0, np.nan, np.inf, 2.0], [np.nan, np.nan, np.nan, np.nan]])
    m = np.array([[True, False, False, True], [False, False, False, False]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = A.masked_softmax(s, m)
    assert_close(p, [[1 / (1 + math.e), 0, 0, math.e / (1 + math.e)], [0, 0, 0, 0]])


def test_masked_softmax_of_huge_scores_is_stable() -> None:
    p = A.masked_softmax(np.array([[1e300, -1e300, 1e300]]), np.array([[True, True, False]]))
    assert_close(p, [[1.0, 0.0, 0.0]])


# ---------------------------------------------------------------- scaled dot-product attention

attention_shapes = st.tuples(
    st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),  # batch / head dims
    st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4),  # Lq, Lk, d, d_v
)


@FAST
@given(seed=seeds, shapes=attention_shapes, masked=st.booleans(), scale=st.sampled_from([None, 1.0, 0.3]))
def test_attention_matches_torch_sdpa_forward_and_backward(seed, shapes, masked, scale) -> None:
    lead, lq, lk, d, dv = shapes
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((*lead, lq, d)), rng.standard_normal((*lead, lk, d)), rng.standard_normal((*lead, lk, dv))
    mask = random_mask(rng, (*lead, lq, lk), full_row=False) if masked else None
    out, cache = A.attention_forward(q, k, v, mask, scale)
    tq, tk, tv = t64(q, True), t64(k, True), t64(v, True)
    tmask = None if mask is None else torch.from_numpy(mask)
    expected = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask, scale=scale)
    assert out.shape == (*lead, lq, dv)
    assert_close(out, expected)
    assert_close(cache[3], A.attention_weights(q, k, mask, scale))
    dout = rng.standard_normal(out.shape)
    grads = torch.autograd.grad(expected, (tq, tk, tv), t64(dout))
    for mine, theirs in zip(A.attention_backward(dout, cache), grads):
        assert_close(mine, theirs)


@FAST
@given(seed=seeds, lq=st.integers(1, 4), lk=st.integers(1, 4), masked=st.booleans())
def test_attention_backward_matches_finite_differences(seed: int, lq: int, lk: int, masked: bool) -> None:
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((2, lq, 3)), rng.standard_normal((2, lk, 3)), rng.standard_normal((2, lk, 2))
    mask = random_mask(rng, (2, lq, lk)) if masked else None  # with a fully masked first row
    out, cache = A.attention_forward(q, k, v, mask)
    dout = rng.standard_normal(out.shape)
    dq, dk, dv = A.attention_backward(dout, cache)
    assert_fd(dq, lambda z: A.attention_forward(z, k, v, mask)[0], q, dout)
    assert_fd(dk, lambda z: A.attention_forward(q, z, v, mask)[0], k, dout)
    assert_fd(dv, lambda z: A.attention_forward(q, k, z, mask)[0], v, dout)


def test_fully_masked_row_gives_zero_output_and_zero_gradient() -> None:
    rng = np.random.default_rng(4)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out, cache = A.attention_forward(q, k, v, mask)
    assert np.isfinite(out).all() and (out[1] == 0).all() and (cache[3][1] == 0).all()
    dout = np.zeros_like(out)
    dout[1] = 1.0  # only the masked row's output is differentiated
    dq, dk, dv = A.attention_backward(dout, cache)
    assert (dq == 0).all() and (dk == 0).all() and (dv == 0).all()
    # and torch's SDPA agrees with a boolean mask (zeros too), in value and gradient
    tq = t64(q, True)
    expected = F.scaled_dot_product_attention(tq[None], t64(k)[None], t64(v)[None], attn_mask=torch.from_numpy(mask))[0]
    assert_close(out, expected)


def test_scaling_keeps_the_softmax_from_saturating() -> None:
    rng = np.random.default_rng(5)
    d = 256
    q, k = rng.standard_normal((20, d)), rng.standard_normal((20, d))
    scaled, raw = A.attention_weights(q, k), A.attention_weights(q, k, scale=1.0)
    assert np.std(q @ k.T / math.sqrt(d)) == pytest.approx(1.0, abs=0.15)  # the reason for 1/√d
    assert raw.max(axis=-1).mean() > 0.85 > 0.5 > scaled.max(axis=-1).mean()  # near one-hot vs spread


def test_attention_keeps_float32() -> None:
    rng = np.random.default_rng(6)
    q = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out, cache = A.attention_forward(q, q, q)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in A.attention_backward(np.ones_like(out), cache))
    assert A.attention_forward(q.astype(np.int64), q, q)[0].dtype == np.float64  # ints are promoted


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda q: A.attention_forward(q, q[:, :, :3], q), "same size d"),
        (lambda q: A.attention_forward(q, q, q[:, :2]), "every key needs a value"),
        (lambda q: A.attention_forward(q, q[:1], q[:1]), "leading"),
        (lambda q: A.attention_forward(q[0, 0], q, q), "at least 2 dimensions|leading"),
        (lambda q: A.attention_forward(q, q, q, np.ones((3, 3))), "boolean"),
        (lambda q: A.attention_forward(q, q, q, np.ones((2, 4), bool)), "does not broadcast"),
        (lambda q: A.attention_forward(q, q, q, scale=float("nan")), "scale"),
        (lambda q: A.attention_forward(q.astype(bool), q, q), "real numeric"),
        (lambda q: A.attention_backward(np.ones((2, 3, 5)), A.attention_forward(q, q, q)[1]), "dout has shape"),
    ],
)
def test_attention_rejects_bad_input_clearly(call, message: str) -> None:
    q = np.random.default_rng(7).standard_normal((2, 3, 4))
    with pytest.raises(ValueError, match=message):
        call(q)


# ---------------------------------------------------------------- heads


def test_split_and_merge_heads() -> None:
    x = np.arange(2 * 3 * 8, dtype=float).reshape(2, 3, 8)
    h = A.split_heads(x, 4)
    assert h.shape == (2, 4, 3, 2)
    assert (h[1, 2, 0] == x[1, 0, 4:6]).all()  # head 2 = features 4, 5
    assert (A.merge_heads(h) == x).all()
    with pytest.raises(ValueError, match="not divisible"):
        A.split_heads(x, 3)
    with pytest.raises(ValueError, match=r"\(N, L, E\)"):
        A.split_heads(x[0], 2)
    with pytest.raises(ValueError, match=r"\(N, H, L, d\)"):
        A.merge_heads(x)


def test_init_mha_shapes_bounds_and_seed() -> None:
    p = A.init_mha(12, rng=3)
    assert list(p) == ["w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o"]
    for name, value in p.items():
        assert value.shape == ((12, 12) if name[0] == "w" else (12,)) and value.dtype == np.float64
        if name[0] == "b":
            assert (value == 0).all()
        else:
            assert np.abs(value).max() <= math.sqrt(3 / 12)
    again = A.init_mha(12, rng=3)
    assert all((p[k] == again[k]).all() for k in p)
    assert not (A.init_mha(12, rng=4)["w_q"] == p["w_q"]).all()


def test_param_layout_round_trip_and_torch_layout() -> None:
    p = perturbed_params(6, np.random.default_rng(8))
    state = A.mha_params_to_torch(p)
    assert state["in_proj_weight"].shape == (18, 6) and state["in_proj_bias"].shape == (18,)
    assert (state["in_proj_weight"][6:12] == p["w_k"].T).all()  # [W_q; W_k; W_v], PyTorch's side
    back = A.mha_params_from_torch(state)
    assert all((back[k] == p[k]).all() for k in p)
    assert set(torch_mha(p, 2).state_dict()) == set(state)
    with pytest.raises(ValueError, match=r"\(3E, E\)"):
        A.mha_params_from_torch({**state, "in_proj_weight": np.zeros((6, 6))})
    with pytest.raises(ValueError, match="lack"):
        A.mha_params_to_torch({"w_q": p["w_q"]})


# ---------------------------------------------------------------- multi-head attention

mha_shapes = st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.sampled_from([(4, 1), (4, 2), (6, 3), (8, 4)]))


@FAST
@given(seed=seeds, shapes=mha_shapes, mask_kind=st.sampled_from(["none", "2d", "3d", "4d"]), padded=st.booleans())
def test_mha_matches_torch_multihead_attention(seed, shapes, mask_kind, padded) -> None:
    n, lq, lk, (e, h) = shapes
    rng = np.random.default_rng(seed)
    query, kv = rng.standard_normal((n, lq, e)), rng.standard_normal((n, lk, e))
    p = perturbed_params(e, rng)
    mask = {"none": None, "2d": rng.random((lq, lk)) < 0.8, "3d": rng.random((n, lq, lk)) < 0.8,
            "4d": rng.random((n, h, lq, lk)) < 0.8}[mask_kind]
    kp = A.padding_mask(rng.integers(0, lk + 1, n), lk) if padded else None
    out, cache = A.mha_forward(query, kv, kv, p, h, mask, kp)
    assert out.shape == (n, lq, e) and cache.weights.shape == (n, h, lq, lk)

    mha = torch_mha(p, h)
    tq, tkv = t64(query, True), t64(kv, True)
    t_mask = None
    if mask is not None:  # torch wants (Lq, Lk) or (N·H, Lq, Lk), True = masked out
        m4 = np.broadcast_to(mask[:, None] if mask.ndim == 3 else mask, (n, h, lq, lk)) if mask.ndim > 2 else mask
        t_mask = torch.from_numpy(A.to_mha_mask(m4.reshape(-1, lq, lk) if mask.ndim > 2 else m4))
    t_kp = None if kp is None else torch.from_numpy(A.to_mha_mask(kp))
    t_out, t_w = mha(tq, tkv, tkv, key_padding_mask=t_kp, attn_mask=t_mask, average_attn_weights=False)

    allowed = A._mha_mask(mask, kp, n, h, lq, lk)
    live = np.ones((n, lq), bool) if allowed is None else np.broadcast_to(allowed, (n, h, lq, lk)).any(-1).all(1)
    # torch gives NaN where some head's row is fully masked; ours gives that head 0, the output b_o
    assert_close(out[live], t_out.detach().numpy()[live])
    assert_close(cache.weights.transpose(0, 2, 1, 3)[live], t_w.detach().numpy().transpose(0, 2, 1, 3)[live])
    assert np.isfinite(out).all() and np.isfinite(cache.weights).all()
    if allowed is not None and (~live).any():
        assert torch.isnan(t_out.detach()[torch.from_numpy(~live)]).all()

    dout = rng.standard_normal(out.shape) * live[..., None]
    dq, dk, dv, grads = A.mha_backward(dout, cache)
    t_grads = torch.autograd.grad(t_out, [tq, tkv, *mha.parameters()], t64(dout))
    if not live.all():
        # a NaN row poisons torch's gradients even where its upstream gradient is 0 (0 · NaN = NaN)
        assert all(np.isfinite(g).all() for g in (dq, dk, dv, *grads.values()))
        assert torch.isnan(t_grads[2]).any()
        return
    assert_close(dq, t_grads[0])
    assert_close(dk + dv, t_grads[1])
    named = dict(zip([name for name, _ in mha.named_parameters()], t_grads[2:]))
    expected = A.mha_params_from_torch({k: v.numpy() for k, v in named.items()})  # same linear layout map
    for name in A.MHA_PARAM_NAMES:
        assert_close(grads[name], expected[name])


def test_mha_head_averaged_weights_are_torchs_default() -> None:
    rng = np.random.default_rng(9)
    x, p = rng.standard_normal((2, 5, 8)), perturbed_params(8, rng)
    _, cache = A.mha_forward(x, x, x, p, 4, A.causal_mask(5))
    _, t_avg = torch_mha(p, 4)(t64(x), t64(x), t64(x), attn_mask=torch.from_numpy(A.to_mha_mask(A.causal_mask(5))))
    assert t_avg.shape == (2, 5, 5)
    assert_close(cache.weights.mean(axis=1), t_avg)


def test_mha_fully_masked_query_is_finite_where_torch_gives_nan() -> None:
    rng = np.random.default_rng(10)
    x, p = rng.standard_normal((2, 4, 8)), perturbed_params(8, rng)
    kp = A.padding_mask(np.array([4, 0]), 4)  # sequence 1 has no real key at all
    out, cache = A.mha_forward(x, x, x, p, 2, key_padding_mask=kp)
    assert_close(out[1], np.broadcast_to(p["b_o"], (4, 8)))
    t_out, _ = torch_mha(p, 2)(t64(x), t64(x), t64(x), key_padding_mask=torch.from_numpy(A.to_mha_mask(kp)))
    assert torch.isnan(t_out[1]).all(), "nn.MultiheadAttention no longer gives NaN here: update the lecture's claim"
    dout = np.zeros_like(out)
    dout[1] = rng.standard_normal((4, 8))
    dq, dk, dv, grads = A.mha_backward(dout, cache)
    assert (dq == 0).all() and (dk == 0).all() and (dv == 0).all()
    assert all(np.isfinite(g).all() for g in grads.values())
    assert_close(grads["b_o"], dout.sum(axis=(0, 1)))


@pytest.mark.parametrize("masked", [False, True])
def test_mha_backward_matches_finite_differences(masked: bool) -> None:
    rng = np.random.default_rng(11)
    n, lq, lk, e, h = 2, 3, 4, 4, 2
    query, key, value = rng.standard_normal((n, lq, e)), rng.standard_normal((n, lk, e)), rng.standard_normal((n, lk, e))
    p = perturbed_params(e, rng)
    mask = A.causal_mask(lq, lk) if masked else None
    kp = A.padding_mask(np.array([4, 2]), lk) if masked else None
    out, cache = A.mha_forward(query, key, value, p, h, mask, kp)
    dout = rng.standard_normal(out.shape)
    dq, dk, dv, grads = A.mha_backward(dout, cache)
    assert_fd(dq, lambda z: A.mha_forward(z, key, value, p, h, mask, kp)[0], query, dout)
    assert_fd(dk, lambda z: A.mha_forward(query, z, value, p, h, mask, kp)[0], key, dout)
    assert_fd(dv, lambda z: A.mha_forward(query, key, z, p, h, mask, kp)[0], value, dout)
    for name in A.MHA_PARAM_NAMES:
        assert grads[name].shape == p[name].shape
        assert_fd(grads[name], lambda z: A.mha_forward(query, key, value, {**p, name: z}, h, mask, kp)[0], p[name], dout)


def test_self_attention_gradient_is_the_sum_of_the_three() -> None:
    rng = np.random.default_rng(12)
    x, p = rng.standard_normal((2, 3, 4)), perturbed_params(4, rng)
    out, cache = A.mha_forward(x, x, x, p, 2)
    dout = rng.standard_normal(out.shape)
    dq, dk, dv, _ = A.mha_backward(dout, cache)
    assert_fd(dq + dk + dv, lambda z: A.mha_forward(z, z, z, p, 2)[0], x, dout)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_heads=3), "not divisible"),
        (dict(num_heads=0), "num_heads"),
        (dict(query=np.zeros((3, 8))), "at least 3 dimensions"),
        (dict(key=np.zeros((2, 5, 6))), r"\(N, Lk, E\)"),
        (dict(value=np.zeros((2, 4, 8))), "same length Lk"),
        (dict(mask=np.ones((3, 4), bool)), "does not broadcast"),
        (dict(mask=np.ones((1, 1, 1, 3, 5), bool)), r"mask must be \(Lq, Lk\)"),
        (dict(mask=np.ones((3, 5))), "boolean"),
        (dict(key_padding_mask=np.ones((2, 3), bool)), r"key_padding_mask must be \(N, Lk\)"),
        (dict(key_padding_mask=np.ones((2, 5))), "boolean"),
        (dict(params={"w_q": np.zeros((8, 8))}), "lack"),
        (dict(params={**A.init_mha(8), "b_o": np.zeros(7)}), r"params\['b_o'\] has shape \(7,\)"),
    ],
)
def test_mha_rejects_bad_input_clearly(kwargs: dict, message: str) -> None:
    rng = np.random.default_rng(13)
    args = dict(query=rng.standard_normal((2, 3, 8)), key=rng.standard_normal((2, 5, 8)),
                value=rng.standard_normal((2, 5, 8)), params=A.init_mha(8), num_heads=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        A.mha_forward(**args)


def test_mha_backward_rejects_a_wrong_dout() -> None:
    x = np.random.default_rng(14).standard_normal((2, 3, 8))
    _, cache = A.mha_forward(x, x, x, A.init_mha(8), 2)
    with pytest.raises(ValueError, match=r"dout has shape \(2, 5, 8\), expected the output's shape \(2, 3, 8\)"):
        A.mha_backward(np.zeros((2, 5, 8)), cache)


def test_module_declares_its_public_names() -> None:
    for name in A.__all__:
        assert callable(getattr(A, name)), name


# ---------------------------------------------------------------- data.sequences


def test_sequence_tasks_targets() -> None:
    x = np.array([[3, 1, 4, 10, 10], [2, 7, 1, 8, 2]])
    assert S.sequence_targets("reverse", x).tolist() == [[4, 1, 3, -100, -100], [2, 8, 1, 7, 2]]
    assert S.sequence_targets("sort", x).tolist() == [[1, 3, 4, -100, -100], [1, 2, 2, 7, 8]]
    assert S.format_sequence(x[0]) == "3 1 4 · ·"
    assert S.format_sequence(S.sequence_targets("reverse", x)[0], pad="_") == "4 1 3 _ _"
    with pytest.raises(ValueError, match="unknown task"):
        S.sequence_targets("shuffle", x)
    with pytest.raises(ValueError, match="padding must come last"):
        S.sequence_targets("reverse", np.array([[10, 1]]))
    with pytest.raises(ValueError, match="tokens must lie"):
        S.sequence_targets("sort", np.array([[11, 1]]))


@FAST
@given(seed=seeds, n=st.integers(1, 30), length=st.integers(1, 9), lo=st.integers(1, 9), digits=st.integers(2, 12))
def test_sequence_task_properties(seed: int, n: int, length: int, lo: int, digits: int) -> None:
    lo = min(lo, length)
    x, y = S.sequence_task("reverse", n, length, digits, lo, rng=seed)
    pad = S.pad_token(digits)
    assert x.shape == y.shape == (n, length) and x.dtype == y.dtype == np.int64
    ell = (x != pad).sum(axis=1)
    assert ((ell >= lo) & (ell <= length)).all()
    for row, target, n_real in zip(x, y, ell):
        assert (row[n_real:] == pad).all() and (row[:n_real] < digits).all()
        assert target[:n_real].tolist() == row[:n_real][::-1].tolist()
        assert (target[n_real:] == S.IGNORE_INDEX).all()
    _, ys = S.sequence_task("sort", n, length, digits, lo, rng=seed)
    for row, target, n_real in zip(x, ys, ell):
        assert target[:n_real].tolist() == sorted(row[:n_real].tolist())
    again, _ = S.sequence_task("reverse", n, length, digits, lo, rng=seed)
    assert (again == x).all()


def test_train_test_sequences_are_disjoint_and_reproducible() -> None:
    (xt, yt), (xs, ys) = S.train_test_sequences("sort", 500, 100, 3, n_digits=10, min_length=2, rng=0)
    assert xt.shape == (500, 3) and xs.shape == (100, 3)
    train = {tuple(r) for r in xt}
    assert len(train) == 500 and len({tuple(r) for r in xs}) == 100
    assert not train & {tuple(r) for r in xs}
    assert (yt == S.sequence_targets("sort", xt)).all() and (ys == S.sequence_targets("sort", xs)).all()
    (xt2, _), (xs2, _) = S.train_test_sequences("sort", 500, 100, 3, n_digits=10, min_length=2, rng=0)
    assert (xt2 == xt).all() and (xs2 == xs).all()
    # 10² + 10³ = 1100 strings of length 2…3 exist: asking for more must fail clearly
    with pytest.raises(ValueError, match="only 1100 distinct strings"):
        S.train_test_sequences("sort", 1000, 101, 3, min_length=2)


@pytest.mark.parametrize("kwargs, message", [(dict(n=0), "n must"), (dict(length=0), "length must"),
                                             (dict(min_length=9), "min_length must be at most"),
                                             (dict(n_digits=0), "n_digits must"), (dict(rng="x"), "rng must")])
def test_digit_strings_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    args = dict(n=3, length=5)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        S.digit_strings(**args)


def test_reference_and_data_modules_import_no_heavy_library() -> None:
    code = ("import sys, dlcourse.ref.attention, dlcourse.data.sequences; "
            "heavy = [m for m in ('torch', 'matplotlib', 'ipywidgets') if m in sys.modules]; assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
