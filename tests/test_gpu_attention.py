"""dlcourse.gpu.attention against dlcourse.ref.attention and PyTorch's built-ins, on every device.

Every twin test takes the ``device`` fixture: ``cpu`` always, ``cuda`` (marker ``cuda``) skipped
with a reason when no CUDA device is present. Tolerances, relative to the size of the expected
result: float64 1e-10, float32 1e-5 (twins against the NumPy reference); modules against
``F.scaled_dot_product_attention``, ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer``
with copied weights: 1e-10 in float64.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from dlcourse.data import sequences as S
from dlcourse.ref import attention as R

torch = pytest.importorskip("torch")
F = torch.nn.functional
G = pytest.importorskip("dlcourse.gpu.attention")

PRECISIONS = {"float64": (torch.float64, np.float64, 1e-10), "float32": (torch.float32, np.float32, 1e-5)}


@pytest.fixture(params=list(PRECISIONS))
def prec(request: pytest.FixtureRequest) -> tuple[torch.dtype, type, float]:
    return PRECISIONS[request.param]


def draw(rng: np.random.Generator, np_dtype: type, *shape: int) -> np.ndarray:
    """Gaussian values representable in np_dtype, as float64 for the reference."""
    return rng.standard_normal(shape).astype(np_dtype).astype(np.float64)


def T(a, device: torch.device, dtype: torch.dtype | None = torch.float64) -> torch.Tensor:
    return G.to_tensor(a, device, dtype)


def assert_twin(actual: torch.Tensor, expected, device: torch.device, dtype: torch.dtype | None, tol: float) -> None:
    """actual: a tensor on device (of dtype), equal to expected within tol relative to expected's size."""
    assert isinstance(actual, torch.Tensor), f"expected a tensor, got {type(actual).__name__}"
    assert actual.device.type == device.type, f"output on {actual.device}, input was on {device}"
    if dtype is not None:
        assert actual.dtype == dtype, f"output is {actual.dtype}, input was {dtype}"
    expected = expected.detach().cpu().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert tuple(actual.shape) == expected.shape
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(actual.detach().cpu().numpy().astype(np.float64), expected.astype(np.float64),
                               rtol=tol, atol=tol * max(scale, 1.0))


# ---------------------------------------------------------------- the twin contract


def test_every_ref_name_has_a_twin_with_the_same_signature() -> None:
    for name in R.__all__:
        assert name in G.__all__, f"dlcourse.gpu.attention lacks {name}"
        ref_params = list(inspect.signature(getattr(R, name)).parameters.values())
        gpu_params = list(inspect.signature(getattr(G, name)).parameters.values())
        assert [p.name for p in gpu_params[: len(ref_params)]] == [p.name for p in ref_params], name
        assert [p.default for p in gpu_params[: len(ref_params)]] == [p.default for p in ref_params], name
        assert all(p.default is not inspect.Parameter.empty for p in gpu_params[len(ref_params):]), name


def test_every_public_name_exists() -> None:
    for name in G.__all__:
        assert getattr(G, name) is not None


# ---------------------------------------------------------------- twins of the reference


def test_position_and_mask_twins(device: torch.device) -> None:
    assert_twin(G.positional_encoding(9, 6, device=device), R.positional_encoding(9, 6), device, torch.float64, 0.0)
    assert G.positional_encoding(3, 4, device=device, dtype=torch.float32).dtype == torch.float32
    for lq, lk, align in [(4, None, "top-left"), (3, 5, "top-left"), (5, 3, "bottom-right")]:
        m = G.causal_mask(lq, lk, align, device=device)
        assert m.dtype == torch.bool and m.device.type == device.type
        assert (m.cpu().numpy() == R.causal_mask(lq, lk, align)).all()
    lengths = torch.tensor([0, 2, 4], device=device)
    pm = G.padding_mask(lengths, 4)
    assert pm.device.type == device.type and (pm.cpu().numpy() == R.padding_mask(np.array([0, 2, 4]), 4)).all()
    with pytest.raises(ValueError, match="lengths must lie"):
        G.padding_mask(torch.tensor([5], device=device), 4)
    m = torch.tensor([[True, False], [False, False]], device=device)
    assert torch.equal(G.to_mha_mask(m), ~m) and torch.equal(G.from_mha_mask(~m), m)
    add = G.to_additive_mask(m)
    assert add.dtype == torch.float64 and add[0, 0] == 0 and torch.isinf(add[~m]).all()
    with pytest.raises(ValueError, match="boolean"):
        G.to_mha_mask(m.int())


def test_masked_softmax_twin(device: torch.device, prec) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(0)
    s, m = draw(rng, np_dtype, 3, 4, 5), rng.random((3, 4, 5)) < 0.6
    m[0, 0] = False
    assert_twin(G.masked_softmax(T(s, device, dtype), T(m, device, None)), R.masked_softmax(s, m), device, dtype, tol)
    assert_twin(G.masked_softmax(T(s, device, dtype), axis=1), R.masked_softmax(s, axis=1), device, dtype, tol)
    with pytest.raises(ValueError, match="does not broadcast"):
        G.masked_softmax(T(s, device, dtype), T(m[:, :2], device, None))


@pytest.mark.parametrize("masked", [False, True])
def test_attention_twins(device: torch.device, prec, masked: bool) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(1)
    q, k, v = draw(rng, np_dtype, 2, 3, 4, 5), draw(rng, np_dtype, 2, 3, 6, 5), draw(rng, np_dtype, 2, 3, 6, 2)
    mask = None
    if masked:
        mask = rng.random((2, 1, 4, 6)) < 0.6
        mask[0, 0, 0] = False  # a fully masked row
    tm = None if mask is None else T(mask, device, None)
    out_r, cache_r = R.attention_forward(q, k, v, mask, 0.7)
    out, cache = G.attention_forward(T(q, device, dtype), T(k, device, dtype), T(v, device, dtype), tm, 0.7)
    assert_twin(out, out_r, device, dtype, tol)
    assert_twin(cache[3], cache_r[3], device, dtype, tol)
    assert_twin(G.attention_weights(T(q, device, dtype), T(k, device, dtype), tm), R.attention_weights(q, k, mask),
                device, dtype, tol)
    dout = draw(rng, np_dtype, *out_r.shape)
    for got, want in zip(G.attention_backward(T(dout, device, dtype), cache), R.attention_backward(dout, cache_r)):
        assert_twin(got, want, device, dtype, tol)


def test_heads_twins(device: torch.device) -> None:
    x = np.arange(2 * 3 * 8, dtype=float).reshape(2, 3, 8)
    h = G.split_heads(T(x, device), 4)
    assert_twin(h, R.split_heads(x, 4), device, torch.float64, 0.0)
    assert_twin(G.merge_heads(h), x, device, torch.float64, 0.0)
    with pytest.raises(ValueError, match="not divisible"):
        G.split_heads(T(x, device), 3)


@pytest.mark.parametrize("cross", [False, True])
def test_mha_twins(device: torch.device, prec, cross: bool) -> None:
    dtype, np_dtype, tol = prec
    rng = np.random.default_rng(2)
    n, lq, e, h = 2, 3, 8, 2
    lk = 5 if cross else lq
    query = draw(rng, np_dtype, n, lq, e)
    kv = draw(rng, np_dtype, n, lk, e) if cross else query
    p_ref = {k: (v + 0.2 * rng.standard_normal(v.shape)).astype(np_dtype).astype(np.float64)
             for k, v in R.init_mha(e, rng).items()}
    mask, kp = R.causal_mask(lq, lk), R.padding_mask(np.array([lk, 1]), lk)
    out_r, cache_r = R.mha_forward(query, kv, kv, p_ref, h, mask, kp)
    params = {k: T(v, device, dtype) for k, v in p_ref.items()}
    tq, tkv = T(query, device, dtype), T(kv, device, dtype)
    out, cache = G.mha_forward(tq, tkv, tkv, params, h, T(mask, device, None), T(kp, device, None))
    assert_twin(out, out_r, device, dtype, tol)
    assert_twin(cache.weights, cache_r.weights, device, dtype, tol)
    dout = draw(rng, np_dtype, n, lq, e)
    *dx, grads = G.mha_backward(T(dout, device, dtype), cache)
    *dx_r, grads_r = R.mha_backward(dout, cache_r)
    for got, want in zip(dx, dx_r):
        assert_twin(got, want, device, dtype, tol)
    for name in R.MHA_PARAM_NAMES:
        assert_twin(grads[name], grads_r[name], device, dtype, tol)
    with pytest.raises(ValueError, match="dout has shape"):
        G.mha_backward(T(dout[:, :1], device, dtype), cache)


def test_init_and_layout_twins(device: torch.device) -> None:
    params = G.init_mha(6, rng=3, device=device)
    ref = R.init_mha(6, rng=3)
    for name in R.MHA_PARAM_NAMES:
        assert_twin(params[name], ref[name], device, torch.float64, 0.0)
    state = G.mha_params_to_torch(params)
    for name, value in R.mha_params_to_torch(ref).items():
        assert_twin(state[name], value, device, torch.float64, 0.0)
    back = G.mha_params_from_torch(state)
    assert all(torch.equal(back[k], params[k]) for k in params)
    with pytest.raises(ValueError, match=r"\(3E, E\)"):
        G.mha_params_from_torch({**state, "in_proj_weight": state["out_proj.weight"]})


# ---------------------------------------------------------------- against PyTorch's built-ins


@pytest.mark.parametrize("mask_kind", ["none", "bool", "causal-scale"])
def test_scaled_dot_product_attention_equals_torchs(device: torch.device, mask_kind: str) -> None:
    rng = np.random.default_rng(4)
    q, k, v = (T(rng.standard_normal(s), device).requires_grad_() for s in ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 3)))
    mask, kwargs = None, {}
    if mask_kind == "bool":
        m = rng.random((2, 3, 4, 6)) < 0.6
        m[1, 2, 3] = False  # fully masked row: zeros in both
        mask = T(m, device, None)
        kwargs = {"attn_mask": mask}
    elif mask_kind == "causal-scale":
        mask = G.causal_mask(4, 6, device=device)
        kwargs = {"is_causal": True, "scale": 0.3}
    mine = G.scaled_dot_product_attention(q, k, v, mask, kwargs.get("scale"))
    theirs = F.scaled_dot_product_attention(q, k, v, **kwargs)
    assert_twin(mine, theirs, device, torch.float64, 1e-10)
    dout = torch.randn_like(theirs)
    for a, b in zip(torch.autograd.grad(mine, (q, k, v), dout), torch.autograd.grad(theirs, (q, k, v), dout)):
        assert_twin(a, b, device, torch.float64, 1e-10)


def test_sdpa_function_runs_the_written_out_backward(device: torch.device, monkeypatch) -> None:
    calls = []
    real = G.attention_backward
    monkeypatch.setattr(G, "attention_backward", lambda d, c: calls.append(1) or real(d, c))
    q = torch.randn(2, 3, 4, dtype=torch.float64, device=device, requires_grad=True)
    G.scaled_dot_product_attention(q, q, q).sum().backward()
    assert calls == [1] and q.grad is not None
    assert torch.autograd.gradcheck(lambda a, b, c: G.scaled_dot_product_attention(a, b, c),
                                    (q.detach().requires_grad_(), torch.randn_like(q).requires_grad_(),
                                     torch.randn_like(q).requires_grad_()))


def test_mha_function_runs_the_written_out_backward(device: torch.device, monkeypatch) -> None:
    calls = []
    real = G.mha_backward
    monkeypatch.setattr(G, "mha_backward", lambda d, c: calls.append(1) or real(d, c))
    torch.manual_seed(8)
    params = {k: (v + 0.1 * torch.randn_like(v)).requires_grad_() for k, v in G.init_mha(4, device=device).items()}
    x = torch.randn(2, 3, 4, dtype=torch.float64, device=device, requires_grad=True)
    kv = torch.randn(2, 5, 4, dtype=torch.float64, device=device, requires_grad=True)
    mask, keys = G.causal_mask(3, 5, device=device), G.padding_mask(torch.tensor([5, 2], device=device), 5)
    G.multi_head_attention(x, x, x, params, 2).sum().backward()
    assert calls == [1]

    def f(q, k, *weights):
        return G.multi_head_attention(q, k, k, dict(zip(R.MHA_PARAM_NAMES, weights)), 2, mask, keys)

    assert torch.autograd.gradcheck(f, (x, kv, *params.values()))
    # the same function as nn.MultiheadAttention with the weights moved into its layout
    theirs = torch.nn.MultiheadAttention(4, 2, batch_first=True, dtype=torch.float64, device=device)
    theirs.load_state_dict({k: v.detach() for k, v in G.mha_params_to_torch(params).items()})
    expected, _ = theirs(x, kv, kv, attn_mask=G.to_mha_mask(mask), key_padding_mask=G.to_mha_mask(keys))
    assert_twin(f(x, kv, *params.values()), expected, device, torch.float64, 1e-10)


def _pair(e: int, h: int, device: torch.device) -> tuple[torch.nn.Module, torch.nn.MultiheadAttention]:
    torch.manual_seed(5)
    theirs = torch.nn.MultiheadAttention(e, h, batch_first=True, dtype=torch.float64, device=device)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))  # non-zero biases
    mine = G.MultiHeadAttention(e, h, device=device, dtype=torch.float64)
    mine.load_state_dict(theirs.state_dict())
    return mine, theirs


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_module_equals_nn_multiheadattention(device: torch.device, cross: bool, average: bool) -> None:
    e, h, n, lq = 8, 4, 3, 5
    lk = 6 if cross else lq
    mine, theirs = _pair(e, h, device)
    q = torch.randn(n, lq, e, dtype=torch.float64, device=device, requires_grad=True)
    kv = torch.randn(n, lk, e, dtype=torch.float64, device=device, requires_grad=True) if cross else q
    keys = G.padding_mask(torch.tensor([lk, lk - 2, 1], device=device), lk)
    causal = G.causal_mask(lq, lk, device=device)
    o1, w1 = mine(q, kv, kv, mask=causal, key_padding_mask=keys, average_attn_weights=average)
    o2, w2 = theirs(q, kv, kv, attn_mask=G.to_mha_mask(causal), key_padding_mask=G.to_mha_mask(keys),
                    average_attn_weights=average)
    assert w1.shape == ((n, lq, lk) if average else (n, h, lq, lk))
    assert_twin(o1, o2, device, torch.float64, 1e-10)
    assert_twin(w1, w2, device, torch.float64, 1e-10)
    dout = torch.randn_like(o2)
    inputs_1 = [q] + ([kv] if cross else []) + list(mine.parameters())
    inputs_2 = [q] + ([kv] if cross else []) + list(theirs.parameters())
    for a, b in zip(torch.autograd.grad(o1, inputs_1, dout), torch.autograd.grad(o2, inputs_2, dout)):
        assert_twin(a, b, device, torch.float64, 1e-10)
    assert mine(q, kv, kv, need_weights=False)[1] is None
    theirs.load_state_dict(mine.state_dict())  # and back


def test_multihead_module_fully_masked_sequence_is_finite(device: torch.device) -> None:
    mine, theirs = _pair(8, 2, device)
    x = torch.randn(2, 4, 8, dtype=torch.float64, device=device, requires_grad=True)
    keys = G.padding_mask(torch.tensor([4, 0], device=device), 4)
    out, w = mine(x, x, x, key_padding_mask=keys)
    assert torch.isfinite(out).all() and (w[1] == 0).all()
    assert_twin(out[1], mine.out_proj.bias.expand(4, 8), device, torch.float64, 1e-12)
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and all(torch.isfinite(p.grad).all() for p in mine.parameters())
    t_out, _ = theirs(x, x, x, key_padding_mask=G.to_mha_mask(keys))
    assert torch.isnan(t_out[1]).all()


def test_transformer_block_equals_pre_norm_encoder_layer(device: torch.device) -> None:
    e, h = 16, 4
    torch.manual_seed(6)
    theirs = torch.nn.TransformerEncoderLayer(e, h, 4 * e, dropout=0.0, activation="gelu", batch_first=True,
                                              norm_first=True, dtype=torch.float64, device=device)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    mine = G.TransformerBlock(e, h, device=device, dtype=torch.float64)
    mine.load_state_dict(theirs.state_dict())
    x = torch.randn(3, 7, e, dtype=torch.float64, device=device, requires_grad=True)
    keys = G.padding_mask(torch.tensor([7, 5, 2], device=device), 7)
    y1 = mine(x, key_padding_mask=keys)
    y2 = theirs(x, src_key_padding_mask=G.to_mha_mask(keys))
    assert_twin(y1, y2, device, torch.float64, 1e-10)
    dout = torch.randn_like(y1)
    names = [name for name, _ in theirs.named_parameters()]  # the two register them in different orders
    mine_params, their_params = dict(mine.named_parameters()), dict(theirs.named_parameters())
    g1 = torch.autograd.grad(y1, [x] + [mine_params[k] for k in names], dout)
    g2 = torch.autograd.grad(y2, [x] + [their_params[k] for k in names], dout)
    for a, b in zip(g1, g2):
        assert_twin(a, b, device, torch.float64, 1e-10)
    y3, w = mine(x, mask=G.causal_mask(7, device=device), need_weights=True)
    assert w.shape == (3, h, 7, 7) and (w.triu(1) == 0).all()


# ---------------------------------------------------------------- the sequence model and its training


def test_sequence_transformer_masks_padding_and_returns_maps(device: torch.device) -> None:
    torch.manual_seed(7)
    model = G.SequenceTransformer(11, 6, embed_dim=16, num_heads=2, num_layers=2, num_classes=10, pad_token=10,
                                  device=device, dtype=torch.float64)
    tokens = torch.tensor([[1, 2, 3, 10, 10, 10], [4, 5, 6, 7, 8, 9]], device=device)
    logits, maps = model(tokens, need_weights=True)
    assert logits.shape == (2, 6, 10) and len(maps) == 2
    for w in maps:
        assert w.shape == (2, 2, 6, 6) and not w.requires_grad
        assert torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)))
        assert (w[0, :, :, 3:] == 0).all()  # nobody attends to padding
    other = tokens.clone()
    other[0, 3:] = torch.tensor([1, 1, 1], device=device)  # what sits in the padding must not matter…
    masked = G.SequenceTransformer.forward(model, other, key_padding_mask=tokens != 10)
    assert_twin(masked[0, :3], logits[0, :3], device, torch.float64, 1e-12)
    assert not torch.allclose(model(other)[0, :3], logits[0, :3])  # …unless it is unmasked
    assert torch.equal(model(tokens), logits)
    with pytest.raises(ValueError, match="max_length"):
        model(torch.zeros(1, 7, dtype=torch.long, device=device))


def test_sequence_setup_scales_with_the_device() -> None:
    cpu, cuda = G.sequence_setup("cpu"), G.sequence_setup("cuda")
    assert cpu.task in S.TASKS and cpu.min_length is not None and cpu.min_length < cpu.length
    assert cuda.length > cpu.length and cuda.embed_dim * cuda.steps > cpu.embed_dim * cpu.steps
    assert G.sequence_setup("cpu", steps=7).steps == 7
    model = cpu.model()
    assert model.head.out_features == cpu.n_digits and model.pad_token == cpu.n_digits


@pytest.fixture
def one_thread():
    """One intra-op thread: tiny matrices gain nothing from more, and on a busy machine OpenMP's
    spinning threads can make a 2-thread run many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_training_learns_a_small_reversal(device: torch.device, one_thread) -> None:
    """A 1-layer model on length-4 strings: a few seconds on a CPU core, and the loss must collapse."""
    torch.manual_seed(0)
    setup = G.sequence_setup(device, length=4, min_length=None, n_train=3000, n_test=500, embed_dim=32,
                             num_layers=1, steps=150, batch_size=64, lr=1e-2)
    (xt, yt), (xs, ys) = S.train_test_sequences("reverse", setup.n_train, setup.n_test, setup.length, rng=0)
    model = setup.model(device)
    before = G.sequence_accuracy(model, xs, ys)
    hist = G.train_sequence_model(model, xt, yt, setup.steps, setup.batch_size, setup.lr, log_every=50)
    after = G.sequence_accuracy(model, xs, ys)
    assert hist["step"] == [50, 100, 150] and len(hist["loss"]) == 3 and hist["seconds"][-1] > 0
    assert hist["loss"][-1] < 0.3 * hist["loss"][0]
    assert before["token"] < 0.3 and after["token"] > 0.9, (before, after)
    assert 0 <= after["sequence"] <= after["token"]
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        G.train_sequence_model(model, xt, yt[:, :2], 1)


def test_sequence_accuracy_counts_real_positions_only() -> None:
    class Echo(torch.nn.Module):  # predicts the input token at every position
        def __init__(self) -> None:
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, tokens):
            return F.one_hot(tokens.clamp(max=9), 10).double()

    x = np.array([[1, 2, 10], [3, 3, 3]])
    y = np.array([[1, 5, -100], [3, 3, 4]])
    acc = G.sequence_accuracy(Echo(), x, y)
    assert acc == {"token": 3 / 5, "sequence": 0.0}
    acc = G.sequence_accuracy(Echo(), x[:1], np.array([[1, 2, -100]]))
    assert acc == {"token": 1.0, "sequence": 1.0}
