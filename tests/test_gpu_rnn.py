"""``dlcourse.gpu.rnn`` and ``dlcourse.gpu.charlm``: the PyTorch twins of lecture 10's reference.

- every name of ``dlcourse.ref.rnn`` has a twin with the same parameters, and both compute the
  same values (float64: 1e-10, float32: 1e-4, relative to the largest entry) on every device;
- the autograd Functions' written-out backward passes agree with ``torch.autograd.gradcheck``;
- :class:`RNN`, :class:`LSTM`, :class:`GRU` with weights copied by ``load_state_dict`` equal
  ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (outputs, final states and every gradient; stacked layers,
  both layouts) on the CPU, and on CUDA when present (conftest's ``device`` fixture: marker
  ``cuda``, skipped without a GPU);
- the character model trains below the unigram baseline, and sampling is reproducible.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from dlcourse.data.text import CharVocab, char_corpus, load_sonnets
from dlcourse.ref import rnn as R
from dlcourse.ref.rnn import nats_to_bits, random_windows, unigram_cross_entropy

torch = pytest.importorskip("torch")
G = pytest.importorskip("dlcourse.gpu.rnn")
from dlcourse.gpu import charlm  # noqa: E402

PRECISION = {"float64": (torch.float64, np.float64, 1e-10), "float32": (torch.float32, np.float32, 1e-4)}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def close(actual, expected, tol: float) -> None:
    a = actual.detach().cpu().double().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual, float)
    b = expected.detach().cpu().double().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


def draw(rng: np.random.Generator, np_dtype, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Values representable in np_dtype, as float64 for the reference."""
    return (scale * rng.standard_normal(shape)).astype(np_dtype).astype(np.float64)


# ---------------------------------------------------------------- the twin contract


def test_every_ref_name_has_a_twin_with_the_same_parameters() -> None:
    for name in R.__all__:
        assert name in G.__all__, f"dlcourse.gpu.rnn lacks {name}"
        ours = list(inspect.signature(getattr(G, name)).parameters.values())
        theirs = list(inspect.signature(getattr(R, name)).parameters.values())
        assert [(p.name, p.default) for p in ours] == [(p.name, p.default) for p in theirs], name


@pytest.mark.parametrize("prec", list(PRECISION))
@pytest.mark.parametrize("kind", ["rnn", "rnn-relu", "lstm", "gru"])
def test_twins_equal_the_reference(device: torch.device, prec: str, kind: str) -> None:
    dtype, np_dtype, tol = PRECISION[prec]
    kind, nonlinearity = ("rnn", "relu") if kind == "rnn-relu" else (kind, "tanh")
    extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    rng = np.random.default_rng(0)
    n, t, d, h = 3, 5, 4, 6
    x, h0, c0 = draw(rng, np_dtype, n, t, d), draw(rng, np_dtype, n, h), draw(rng, np_dtype, n, h)
    p = [draw(rng, np_dtype, *s, scale=0.5) for s in ((GATES[kind] * h, d), (GATES[kind] * h, h),
                                                     (GATES[kind] * h,), (GATES[kind] * h,))]
    dout, dc = draw(rng, np_dtype, n, t, h), draw(rng, np_dtype, n, h)
    T = lambda a: torch.tensor(a, dtype=dtype, device=device)  # noqa: E731
    # whole sequences
    if kind == "lstm":
        out_r, cache_r = R.lstm_forward(x, h0, c0, *p)
        out_g, cache_g = G.lstm_forward(T(x), T(h0), T(c0), *map(T, p))
        grads_r, grads_g = R.lstm_backward(dout, cache_r, dc), G.lstm_backward(T(dout), cache_g, T(dc))
        close(cache_g.c[-1], cache_r.c[-1], tol)
    else:
        out_r, cache_r = getattr(R, f"{kind}_forward")(x, h0, *p, **extra)
        out_g, cache_g = getattr(G, f"{kind}_forward")(T(x), T(h0), *map(T, p), **extra)
        grads_r, grads_g = getattr(R, f"{kind}_backward")(dout, cache_r), getattr(G, f"{kind}_backward")(T(dout), cache_g)
    assert out_g.device.type == device.type and out_g.dtype == dtype and out_g.is_contiguous()
    close(out_g, out_r, tol)
    assert len(grads_g) == len(grads_r)
    for a, b in zip(grads_g, grads_r):
        assert a.device.type == device.type and a.dtype == dtype
        close(a, b, tol)
    # one step
    if kind == "lstm":
        h_r, c_r, sc_r = R.lstm_step_forward(x[:, 0], h0, c0, *p)
        h_g, c_g, sc_g = G.lstm_step_forward(T(x[:, 0]), T(h0), T(c0), *map(T, p))
        close(c_g, c_r, tol)
        step_r, step_g = R.lstm_step_backward(dout[:, 0], dc, sc_r), G.lstm_step_backward(T(dout[:, 0]), T(dc), sc_g)
    else:
        h_r, sc_r = getattr(R, f"{kind}_step_forward")(x[:, 0], h0, *p, **extra)
        h_g, sc_g = getattr(G, f"{kind}_step_forward")(T(x[:, 0]), T(h0), *map(T, p), **extra)
        step_r = getattr(R, f"{kind}_step_backward")(dout[:, 0], sc_r)
        step_g = getattr(G, f"{kind}_step_backward")(T(dout[:, 0]), sc_g)
    close(h_g, h_r, tol)
    for a, b in zip(step_g, step_r):
        close(a, b, tol)


def test_embedding_clipping_and_causal_conv_twins(device: torch.device) -> None:
    rng = np.random.default_rng(1)
    T = lambda a: torch.tensor(a, device=device)  # noqa: E731
    w, idx = rng.standard_normal((6, 3)), np.array([[0, 2, 2], [5, 2, 0]])
    out_r, cache_r = R.embedding_forward(idx, w)
    out_g, cache_g = G.embedding_forward(T(idx), T(w))
    close(out_g, out_r, 1e-15)
    dout = rng.standard_normal(out_r.shape)
    close(G.embedding_backward(T(dout), cache_g), R.embedding_backward(dout, cache_r), 1e-12)
    grads = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(4)}
    for max_norm in (0.5, 50.0):
        for norm_type in (2.0, float("inf")):
            clipped_r, norm_r = R.clip_grad_norm(grads, max_norm, norm_type)
            clipped_g, norm_g = G.clip_grad_norm({k: T(v) for k, v in grads.items()}, max_norm, norm_type)
            assert norm_g == pytest.approx(norm_r, rel=1e-12) and list(clipped_g) == ["a", "b"]
            for k in grads:
                close(clipped_g[k], clipped_r[k], 1e-12)
    x, wc, b = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    for dilation in (1, 2):
        o_r, c_r = R.causal_conv1d_forward(x, wc, b, dilation)
        o_g, c_g = G.causal_conv1d_forward(T(x), T(wc), T(b), dilation)
        close(o_g, o_r, 1e-12)
        d = rng.standard_normal(o_r.shape)
        for a, e in zip(G.causal_conv1d_backward(T(d), c_g), R.causal_conv1d_backward(d, c_r)):
            close(a, e, 1e-12)
    assert G.receptive_field(2, [1, 2, 4, 8]) == 16


def test_twins_reject_bad_inputs_like_the_reference() -> None:
    x, h0 = torch.zeros(2, 3, 4), torch.zeros(2, 5)
    with pytest.raises(ValueError, match=r"w_hh has shape \(5, 5\); expected \(4·H, H\)"):
        G.lstm_forward(x, h0, h0, torch.zeros(20, 4), torch.zeros(5, 5), torch.zeros(20), torch.zeros(20))
    with pytest.raises(ValueError, match="integer token indices"):
        G.embedding_forward(torch.zeros(3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        G.embedding_forward(torch.tensor([4]), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="max_norm"):
        G.clip_grad_norm([torch.ones(2)], -1.0)
    with pytest.raises(ValueError, match="3-D input"):
        G.LSTM(4, 5)(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        G.RNN(4, 5, nonlinearity="gelu")


# ---------------------------------------------------------------- autograd Functions


def test_functions_pass_gradcheck() -> None:
    rng = np.random.default_rng(2)
    t = lambda *s: torch.tensor(0.5 * rng.standard_normal(s), requires_grad=True)  # noqa: E731
    n, s, d, h = 2, 3, 3, 2
    assert torch.autograd.gradcheck(lambda *a: G.rnn_layer(*a, "tanh"), (t(n, s, d), t(n, h), t(h, d), t(h, h), t(h), t(h)))
    assert torch.autograd.gradcheck(G.lstm_layer, (t(n, s, d), t(n, h), t(n, h), t(4 * h, d), t(4 * h, h), t(4 * h), t(4 * h)))
    assert torch.autograd.gradcheck(G.gru_layer, (t(n, s, d), t(n, h), t(3 * h, d), t(3 * h, h), t(3 * h), t(3 * h)))
    idx = torch.tensor([[0, 1, 1], [3, 1, 0]])
    assert torch.autograd.gradcheck(lambda w: G.embedding(idx, w), (t(4, 2),))
    assert torch.autograd.gradcheck(lambda x, w, b: G.causal_conv1d(x, w, b, 2), (t(2, 2, 6), t(3, 2, 2), t(3)))


# ---------------------------------------------------------------- modules equal to PyTorch's


@pytest.mark.parametrize("kind", ["rnn", "rnn-relu", "lstm", "gru"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["time-major", "batch-first"])
def test_modules_equal_torch_with_copied_weights(device: torch.device, kind: str, batch_first: bool) -> None:
    torch.manual_seed(0)
    kind, extra = ("rnn", {"nonlinearity": "relu"}) if kind == "rnn-relu" else (kind, {})
    theirs_cls, ours_cls = {"rnn": (torch.nn.RNN, G.RNN), "lstm": (torch.nn.LSTM, G.LSTM),
                            "gru": (torch.nn.GRU, G.GRU)}[kind]
    theirs = theirs_cls(4, 5, num_layers=2, batch_first=batch_first, **extra).double().to(device)
    ours = ours_cls(4, 5, num_layers=2, batch_first=batch_first, **extra).double().to(device)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    shape = (3, 6, 4) if batch_first else (6, 3, 4)
    x = torch.randn(*shape, dtype=torch.float64, device=device)
    h0 = torch.randn(2, 3, 5, dtype=torch.float64, device=device)
    hx = (h0, torch.randn_like(h0)) if kind == "lstm" else h0
    xs = [x.clone().requires_grad_() for _ in range(2)]
    hxs = [tuple(a.clone().requires_grad_() for a in hx) if kind == "lstm" else hx.clone().requires_grad_()
           for _ in range(2)]
    results = [m(xi, hi) for m, xi, hi in ((theirs, xs[0], hxs[0]), (ours, xs[1], hxs[1]))]
    for (out, state), weights in zip(results, (torch.arange(1.0, 6.0, dtype=torch.float64, device=device),) * 2):
        finals = state if kind == "lstm" else (state,)
        # A loss that uses the output and every final state, weighted so no gradient is trivial.
        (out.pow(2) * weights).sum().add(sum((f * f.tanh()).sum() for f in finals)).backward()
    (o1, s1), (o2, s2) = results
    close(o2, o1, 1e-12)
    for a, b in zip(s2 if kind == "lstm" else (s2,), s1 if kind == "lstm" else (s1,)):
        close(a, b, 1e-12)
    close(xs[1].grad, xs[0].grad, 1e-12)
    for a, b in zip(hxs[1] if kind == "lstm" else (hxs[1],), hxs[0] if kind == "lstm" else (hxs[0],)):
        close(a.grad, b.grad, 1e-12)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, q.grad, 1e-12)


def test_module_initialisation_follows_pytorch() -> None:
    m = G.LSTM(3, 16)
    bound = 1 / 16 ** 0.5
    assert all(p.abs().max() <= bound for p in m.parameters())
    assert m.weight_ih_l0.std() > bound / 3  # uniform on (−b, b): std = b/√3, not left at zeros
    out, (h, c) = m(torch.zeros(7, 2, 3))
    assert out.shape == (7, 2, 16) and h.shape == c.shape == (1, 2, 16)


# ---------------------------------------------------------------- the character model


def test_corpus_vocabulary_and_windows() -> None:
    text = load_sonnets()
    assert text.startswith("From fairest creatures") and "#" not in text and text.count("\n\n") == 153
    corpus = char_corpus()
    assert len(corpus.train) + len(corpus.val) == len(text)
    assert corpus.vocab.decode(corpus.train[:4]) == "From" and text[len(corpus.train) - 1] == "\n"
    assert corpus.vocab.decode(corpus.vocab.encode("Shall I")) == "Shall I"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.vocab.encode("Zebra")  # no capital Z in the Sonnets
    x, y = random_windows(corpus.train, 16, 5, 0)
    assert x.shape == y.shape == (5, 16) and x.dtype == np.int64
    assert np.array_equal(x[:, 1:], y[:, :-1])  # the target is the input shifted by one
    assert np.array_equal(random_windows(corpus.train, 16, 5, 0)[0], x)  # seeded
    # The baseline: cross-entropy of the validation characters under the training frequencies.
    vocab = CharVocab.from_text("aab")
    u = unigram_cross_entropy(vocab.encode("aab"), vocab.encode("ab"), len(vocab))
    assert u == pytest.approx(-(np.log(3 / 5) + np.log(2 / 5)) / 2)  # add-one counts: a 3, b 2
    assert nats_to_bits(np.log(2)) == pytest.approx(1.0)


def test_char_lm_learns_below_the_unigram_baseline() -> None:
    config = charlm.LMConfig(embed_dim=16, hidden_size=64, steps=120, batch_size=16, seq_len=32, lr=1e-2,
                             eval_every=60)
    seen = []
    corpus = char_corpus()
    result = charlm.train_char_lm(corpus, config, device="cpu", seed=0, callback=lambda s, l: seen.append(s))
    assert seen == list(range(1, 121)) and result.val_steps == [60, 120]
    assert result.unigram_bits == pytest.approx(nats_to_bits(unigram_cross_entropy(corpus.train, corpus.val, 61)))
    assert result.val_bits < result.unigram_bits - 0.5, result.summary()
    assert np.mean(result.train_loss[-20:]) < np.mean(result.train_loss[:20])
    assert "bits/char" in result.summary()
    # The same seed gives the same run.
    again = charlm.train_char_lm(corpus, charlm.LMConfig(embed_dim=16, hidden_size=64, steps=5, batch_size=16,
                                                         seq_len=32), device="cpu", seed=3)
    again2 = charlm.train_char_lm(corpus, again.config, device="cpu", seed=3)
    assert again.train_loss == again2.train_loss


def test_char_lm_trains_a_model_it_is_given() -> None:
    """train_char_lm(model=...) trains that module (a student's own) exactly as it trains its own CharLM."""
    config = charlm.LMConfig(embed_dim=8, hidden_size=16, steps=4, batch_size=4, seq_len=8)
    corpus = char_corpus()
    own = charlm.train_char_lm(corpus, config, device="cpu", seed=2)
    torch.manual_seed(2)
    given = charlm.CharLM(len(corpus.vocab), 8, 16)
    result = charlm.train_char_lm(corpus, config, device="cpu", seed=2, model=given)
    assert result.model is given
    assert result.train_loss == own.train_loss and result.val_loss == own.val_loss


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_char_lm_twin_layers_train_like_torchs(device: torch.device, cell: str) -> None:
    """With the course's recurrent layers the model computes the same losses, step for step.

    On CUDA, PyTorch's layers run cuDNN, which may use TF32 arithmetic: a looser tolerance there.
    """
    config = charlm.LMConfig(embed_dim=8, hidden_size=16, cell=cell, steps=3, batch_size=4, seq_len=8)
    corpus = char_corpus()
    ours = charlm.train_char_lm(corpus, config, device=device, seed=1, twin=True)
    theirs = charlm.train_char_lm(corpus, config, device=device, seed=1, twin=False)
    assert ours.device == device and next(ours.model.parameters()).device.type == device.type
    np.testing.assert_allclose(ours.train_loss, theirs.train_loss, rtol=1e-5 if device.type == "cpu" else 2e-3)
    assert ours.sample("O", 5, seed=2) == charlm.sample_text(ours.model, ours.vocab, "O", 5, seed=2)
    np.testing.assert_array_equal(ours.next_char_probs("O"), charlm.next_char_probs(ours.model, ours.vocab, "O"))


def test_sampling_is_reproducible_and_temperature_controls_it() -> None:
    torch.manual_seed(0)
    corpus = char_corpus()
    model = charlm.CharLM(len(corpus.vocab), 8, 16)
    text = charlm.sample_text(model, corpus.vocab, "Shall I", 40, temperature=1.0, seed=7)
    assert text.startswith("Shall I") and len(text) == 47 and set(text) <= set(corpus.vocab.chars)
    assert charlm.sample_text(model, corpus.vocab, "Shall I", 40, temperature=1.0, seed=7) == text
    greedy = charlm.sample_text(model, corpus.vocab, "Shall I", 10, temperature=0)
    p = charlm.next_char_probs(model, corpus.vocab, "Shall I")
    assert p.shape == (61,) and p.sum() == pytest.approx(1.0)
    assert greedy[7] == corpus.vocab.chars[int(np.argmax(p))]
    cold, hot = (charlm.next_char_probs(model, corpus.vocab, "Shall I", t) for t in (0.1, 10.0))
    assert cold.max() > p.max() > hot.max()  # T < 1 sharpens, T > 1 flattens
    with pytest.raises(ValueError, match="temperature"):
        charlm.next_char_probs(model, corpus.vocab, "a", 0.0)


def test_config_scales_up_on_a_gpu() -> None:
    cpu, gpu = charlm.LMConfig.for_device("cpu"), charlm.LMConfig.for_device("cuda")
    assert cpu == charlm.LMConfig()
    assert gpu.hidden_size > cpu.hidden_size and gpu.steps > cpu.steps and gpu.batch_size > cpu.batch_size
    assert charlm.LMConfig.for_device("cpu", steps=7).steps == 7
