"""Lecture 08's convolution code: the NumPy reference against finite differences and PyTorch,
and the ``dlcourse.gpu`` twin (unfold + matmul, written-out backward) against the reference and
``F.conv2d`` on every device (CUDA cases skip without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse import ref
from dlcourse.ref import conv as C

torch = pytest.importorskip("torch")
F = torch.nn.functional

FAST = settings(max_examples=25, deadline=None)


def t64(a, grad: bool = False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def close(a, b, tol: float = 1e-12) -> None:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


@st.composite
def conv_setups(draw):
    """(x, w, b, stride, pad) with any stride/padding (int or pair), non-square kernels, N ≥ 1."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 8))
    w = draw(st.integers(max(1, kw - 2 * pw), 8))
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    stride = sh if sh == sw and draw(st.booleans()) else (sh, sw)
    pad = ph if ph == pw and draw(st.booleans()) else (ph, pw)
    return (rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, kh, kw)), rng.standard_normal(f), stride, pad)


# ---------------------------------------------------------------- sizes and the lecture's numbers


def test_lecture_numbers() -> None:
    assert C.conv_output_size(32, 8, 2, 1) == 14
    assert C.conv_param_count(32, 32, 3, 20, 8, 2, 1, shared=False) == 756_560
    assert C.conv_param_count(32, 32, 3, 20, 8, 2, 1) == 3_860
    assert C.same_output_size(32, 2) == 16 and C.same_output_size(5, 2) == 3
    assert C.conv_output_size(5, 3) == 3 and C.conv_output_size(5, 3, 1, 1) == 5
    image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    assert C.correlate2d(image, kernel)[0, 0] == 4
    assert np.array_equal(C.correlate2d(image, kernel), C.convolve2d(image, kernel))  # symmetric kernel
    m = C.conv_matrix(np.array([[1.0, 2.0], [3.0, 4.0]]), (3, 3))
    assert m.shape == (4, 9)
    assert m[0].tolist() == [1, 2, 0, 3, 4, 0, 0, 0, 0] and m[3].tolist() == [0, 0, 0, 0, 1, 2, 0, 3, 4]
    x, _ = C.max_pool_forward(np.zeros((1, 5, 4, 4)), 2)
    assert x.shape == (1, 5, 2, 2)


def test_output_size_errors_and_same_padding() -> None:
    with pytest.raises(ValueError):
        C.conv_output_size(2, 5)
    for size in range(1, 12):
        for k in range(1, 6):
            for s in range(1, 4):
                before, after = C.same_padding(size, k, s)
                assert 0 <= after - before <= 1
                assert (size + before + after - k) // s + 1 == C.same_output_size(size, s)


def test_param_count_with_same_padding() -> None:
    """Unshared counts follow SAME's output size ⌈size/stride⌉ (the explicit padding it adds gives the same)."""
    for h, w, k, s in [(32, 32, 8, 2), (7, 5, 2, 1), (9, 4, 3, 3), (1, 6, 4, 2)]:
        got = C.conv_param_count(h, w, 3, 4, k, s, "same", shared=False)
        (bh, ah), (bw, aw) = C.same_padding(h, k, s), C.same_padding(w, k, s)
        oh, ow = (h + bh + ah - k) // s + 1, (w + bw + aw - k) // s + 1
        assert got == oh * ow * 4 * (k * k * 3 + 1) == C.same_output_size(h, s) * C.same_output_size(w, s) * 4 * (k * k * 3 + 1)
        assert C.conv_param_count(h, w, 3, 4, k, s, "same") == 4 * (k * k * 3 + 1)  # sharing: no dependence
    with pytest.raises(ValueError, match="same"):
        C.conv_param_count(8, 8, 1, 1, 3, pad="valid", shared=False)


@pytest.mark.parametrize("padding", ["SAME"])
def test_same_output_size_matches_torch_same_for_stride_1(padding) -> None:
    x = torch.zeros(1, 1, 7, 6, dtype=torch.float64)
    for k in (1, 3, 5):  # odd kernels: torch warns about even ones
        out = F.conv2d(x, torch.zeros(1, 1, k, k, dtype=torch.float64), padding=padding.lower())
        assert out.shape[-2:] == (C.same_output_size(7, 1), C.same_output_size(6, 1))


def test_correlation_versus_convolution_on_an_asymmetric_kernel() -> None:
    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal((6, 5)), rng.standard_normal((3, 2))
    close(C.correlate2d(image, kernel), F.conv2d(t64(image)[None, None], t64(kernel)[None, None])[0, 0])
    close(C.convolve2d(image, kernel), C.correlate2d(image, kernel[::-1, ::-1]))
    assert not np.allclose(C.convolve2d(image, kernel), C.correlate2d(image, kernel))
    # The lecture's formula, S(i, j) = Σ_m Σ_n I(i − m, j − n) K(m, n), literally (full, then cropped):
    kh, kw = kernel.shape
    full = np.zeros((image.shape[0] + kh - 1, image.shape[1] + kw - 1))
    for i in range(full.shape[0]):
        for j in range(full.shape[1]):
            for m in range(kh):
                for n in range(kw):
                    if 0 <= i - m < image.shape[0] and 0 <= j - n < image.shape[1]:
                        full[i, j] += image[i - m, j - n] * kernel[m, n]
    close(C.convolve2d(image, kernel), full[kh - 1 : image.shape[0], kw - 1 : image.shape[1]])


# ---------------------------------------------------------------- against PyTorch (hypothesis)


@FAST
@given(setup=conv_setups())
def test_conv_forward_and_naive_match_torch(setup) -> None:
    x, w, b, stride, pad = setup
    expected = F.conv2d(t64(x), t64(w), t64(b), stride=stride, padding=pad)
    out, cache = C.conv_forward(x, w, b, stride, pad)
    close(out, expected)
    close(C.conv_forward_naive(x, w, b, stride, pad)[0], expected)
    assert cache[:5] == (x, w, b, stride, pad)
    close(cache[5], C.im2col(x, w.shape[2], w.shape[3], stride, pad))


@FAST
@given(setup=conv_setups())
def test_conv_backward_matches_torch_autograd(setup) -> None:
    x, w, b, stride, pad = setup
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    out = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    dout = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(t64(dout))
    dx, dw, db = C.conv_backward(dout, C.conv_forward(x, w, b, stride, pad)[1])
    close(dx, tx.grad), close(dw, tw.grad), close(db, tb.grad)


@FAST
@given(setup=conv_setups())
def test_im2col_col2im_are_unfold_fold_and_adjoint(setup) -> None:
    x, w, _, stride, pad = setup
    kh, kw = w.shape[2:]
    cols = C.im2col(x, kh, kw, stride, pad)
    sp = (stride, stride) if isinstance(stride, int) else stride
    pp = (pad, pad) if isinstance(pad, int) else pad
    close(cols, F.unfold(t64(x), (kh, kw), padding=pp, stride=sp))
    y = np.random.default_rng(2).standard_normal(cols.shape)
    folded = C.col2im(y, x.shape, kh, kw, stride, pad)
    close(folded, F.fold(t64(y), x.shape[2:], (kh, kw), padding=pp, stride=sp))
    assert np.isclose(np.sum(cols * y), np.sum(x * folded))  # ⟨im2col x, y⟩ = ⟨x, col2im y⟩


@FAST
@given(setup=conv_setups())
def test_conv_matrix_reproduces_the_convolution_and_its_transpose(setup) -> None:
    x, w, _, stride, pad = setup
    m = C.conv_matrix(w, x.shape[1:], stride, pad)
    out, _ = C.conv_forward(x, w, np.zeros(w.shape[0]), stride, pad)
    close(x.reshape(len(x), -1) @ m.T, out.reshape(len(x), -1))
    # Mᵀ is the transposed convolution with the same weights (F.conv_transpose2d's w is (C_in, C_out, ...)).
    y = np.random.default_rng(3).standard_normal(out.shape)
    back = (y.reshape(len(y), -1) @ m).reshape(x.shape)
    sp = (stride, stride) if isinstance(stride, int) else stride
    pp = (pad, pad) if isinstance(pad, int) else pad
    extra = tuple(x.shape[2 + i] - ((out.shape[2 + i] - 1) * sp[i] - 2 * pp[i] + w.shape[2 + i]) for i in range(2))
    expected = F.conv_transpose2d(t64(y), t64(w), stride=sp, padding=pp, output_padding=extra) if max(extra) < max(sp) else None
    if expected is not None and min(extra) >= 0:
        close(back, expected)


def test_conv_matrix_single_channel_equals_4d() -> None:
    rng = np.random.default_rng(0)
    k = rng.standard_normal((2, 3))
    close(C.conv_matrix(k, (4, 5), 2, 1), C.conv_matrix(k[None, None], (1, 4, 5), 2, 1))


@FAST
@given(setup=conv_setups())
def test_conv_transpose_matches_torch(setup) -> None:
    x, w, b, stride, pad = setup
    sp = (stride, stride) if isinstance(stride, int) else stride
    pp = (pad, pad) if isinstance(pad, int) else pad
    wt = w  # read as (C_in=F, C_out=C, kh, kw): an input of F channels becomes C channels
    y = np.random.default_rng(4).standard_normal((x.shape[0], w.shape[0], 3, 4))
    if any((s - 1) * st_ - 2 * p + k <= 0 for s, st_, p, k in zip(y.shape[2:], sp, pp, w.shape[2:])):
        return
    bc = np.random.default_rng(5).standard_normal(w.shape[1])
    ty, tw, tb = t64(y, True), t64(wt, True), t64(bc, True)
    expected = F.conv_transpose2d(ty, tw, tb, stride=sp, padding=pp)
    out, cache = C.conv_transpose_forward(y, wt, bc, stride, pad)
    close(out, expected)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    expected.backward(t64(dout))
    for got, t in zip(C.conv_transpose_backward(dout, cache), (ty, tw, tb)):
        close(got, t.grad)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
    h=st.integers(3, 8), w=st.integers(3, 8), ties=st.booleans(),
)
def test_pooling_matches_torch(seed, kh, kw, sh, sw, h, w, ties) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 2, h, w)).astype(float) if ties else rng.standard_normal((2, 2, h, w))
    for ours_f, ours_b, theirs in ((C.max_pool_forward, C.max_pool_backward, F.max_pool2d),
                                   (C.avg_pool_forward, C.avg_pool_backward, F.avg_pool2d)):
        tx = t64(x, True)
        expected = theirs(tx, (kh, kw), (sh, sw))
        out, cache = ours_f(x, (kh, kw), (sh, sw))
        close(out, expected)
        dout = rng.standard_normal(out.shape)
        expected.backward(t64(dout))
        close(ours_b(dout, cache), tx.grad)


def test_pool_stride_defaults_to_pool_size() -> None:
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    out, _ = C.max_pool_forward(x)
    assert out.shape == (1, 2, 2, 2) and out[0, 0].tolist() == [[5, 7], [13, 15]]


def test_conv1x1_is_a_matrix_per_pixel() -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 5, 3, 4)), rng.standard_normal((7, 5, 1, 1)), rng.standard_normal(7)
    out, _ = C.conv1x1_forward(x, w, b)
    close(out, F.conv2d(t64(x), t64(w), t64(b)))
    close(out, C.conv_forward(x, w, b)[0])


# ---------------------------------------------------------------- finite differences


def test_conv_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    for stride, pad in ((1, 0), (2, 1), ((2, 1), (0, 1))):
        out, cache = C.conv_forward(x, w, b, stride, pad)
        dout = rng.standard_normal(out.shape)
        grads = C.conv_backward(dout, cache)
        for i, g in enumerate(grads):
            args = [x.copy(), w.copy(), b.copy()]

            def f(z, i=i, args=args):
                args[i] = z
                return C.conv_forward(*args, stride, pad)[0]

            numeric = ref.numerical_gradient_array(f, args[i], dout)
            np.testing.assert_allclose(g, numeric, rtol=1e-7, atol=1e-8)


def test_pool_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 5, 6))  # distinct values: max is differentiable
    for fwd, bwd in ((C.max_pool_forward, C.max_pool_backward), (C.avg_pool_forward, C.avg_pool_backward)):
        for pool, stride in ((2, None), (3, 1), ((2, 3), (1, 2))):
            out, cache = fwd(x, pool, stride)
            dout = rng.standard_normal(out.shape)
            numeric = ref.numerical_gradient_array(lambda z: fwd(z, pool, stride)[0], x.copy(), dout)
            np.testing.assert_allclose(bwd(dout, cache), numeric, rtol=1e-7, atol=1e-8)


def test_float32_stays_float32() -> None:
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4,)))
    out, cache = C.conv_forward(x, w, b, 1, 1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in C.conv_backward(np.ones_like(out), cache))


# ---------------------------------------------------------------- the gpu twin

gpu = pytest.importorskip("dlcourse.gpu")


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)], ids=["float64", "float32"])
@pytest.mark.parametrize("stride,pad", [(1, 0), (1, 1), (2, 1), ((2, 1), (0, 2))])
def test_gpu_conv2d_function_equals_f_conv2d(device, dtype, tol, stride, pad) -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 2, 7, 6)), rng.standard_normal((4, 2, 3, 2)), rng.standard_normal(4)
    make = lambda a: torch.tensor(a, dtype=dtype, device=device, requires_grad=True)  # noqa: E731
    ours, theirs = [make(a) for a in (x, w, b)], [make(a) for a in (x, w, b)]
    out = gpu.conv2d(*ours, stride, pad)
    expected = F.conv2d(*theirs, stride=stride, padding=pad)
    assert out.device.type == device.type and out.dtype == dtype
    close(out, expected, tol)
    dout = torch.tensor(rng.standard_normal(tuple(out.shape)), dtype=dtype, device=device)
    out.backward(dout)
    expected.backward(dout)
    for a, t in zip(ours, theirs):
        close(a.grad, t.grad, tol)


def test_gpu_twins_equal_ref(device) -> None:
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 2, 3)), rng.standard_normal(4)
    T = lambda a: torch.tensor(a, dtype=torch.float64, device=device)  # noqa: E731
    for stride, pad in ((1, 0), (2, 1)):
        out_r, cache_r = ref.conv_forward(x, w, b, stride, pad)
        out_g, cache_g = gpu.conv_forward(T(x), T(w), T(b), stride, pad)
        close(out_g, out_r)
        close(gpu.conv_forward_naive(T(x), T(w), T(b), stride, pad)[0], out_r)
        dout = rng.standard_normal(out_r.shape)
        for g, r in zip(gpu.conv_backward(T(dout), cache_g), ref.conv_backward(dout, cache_r)):
            close(g, r)
        close(gpu.im2col(T(x), 2, 3, stride, pad), ref.im2col(x, 2, 3, stride, pad))
        cols = rng.standard_normal(ref.im2col(x, 2, 3, stride, pad).shape)
        close(gpu.col2im(T(cols), x.shape, 2, 3, stride, pad), ref.col2im(cols, x.shape, 2, 3, stride, pad))
        close(gpu.conv_matrix(T(w), x.shape[1:], stride, pad), ref.conv_matrix(w, x.shape[1:], stride, pad))
        wt = rng.standard_normal((3, 2, 3, 2))
        out_r, cache_r = ref.conv_transpose_forward(x, wt, b[:2], stride, pad)
        out_g, cache_g = gpu.conv_transpose_forward(T(x), T(wt), T(b[:2]), stride, pad)
        close(out_g, out_r)
        dout = rng.standard_normal(out_r.shape)
        for g, r in zip(gpu.conv_transpose_backward(T(dout), cache_g), ref.conv_transpose_backward(dout, cache_r)):
            close(g, r)
    xi = rng.integers(0, 3, (2, 2, 6, 7)).astype(float)  # ties
    for name in ("max_pool", "avg_pool"):
        for pool, stride in ((2, None), (3, 1)):
            out_r, cache_r = getattr(ref, name + "_forward")(xi, pool, stride)
            out_g, cache_g = getattr(gpu, name + "_forward")(T(xi), pool, stride)
            close(out_g, out_r)
            dout = rng.standard_normal(out_r.shape)
            close(getattr(gpu, name + "_backward")(T(dout), cache_g), getattr(ref, name + "_backward")(dout, cache_r))
    close(gpu.conv1x1_forward(T(x), T(w[:, :, :1, :1]), T(b))[0], ref.conv1x1_forward(x, w[:, :, :1, :1], b)[0])
    img, k = rng.standard_normal((5, 6)), rng.standard_normal((2, 3))
    close(gpu.correlate2d(T(img), T(k)), ref.correlate2d(img, k))
    close(gpu.convolve2d(T(img), T(k)), ref.convolve2d(img, k))


def test_gpu_conv2d_passes_gradcheck() -> None:
    rng = np.random.default_rng(2)
    args = [torch.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 2, 5, 4), (3, 2, 2, 3), (3,))]
    assert torch.autograd.gradcheck(lambda x, w, b: gpu.conv2d(x, w, b, (2, 1), 1), args)


def test_conv_backward_accepts_a_cache_with_contiguous_unfold_columns() -> None:
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((4, 2, 3, 2)), rng.standard_normal(4)
    out, cache = C.conv_forward(x, w, b, 2, 1)
    assert not cache[5].flags.c_contiguous  # the forward pass keeps a (K, N·P) array and a view
    own = cache[:5] + (np.ascontiguousarray(C.im2col(x, 3, 2, 2, 1)),)
    dout = rng.standard_normal(out.shape)
    for a, b_ in zip(C.conv_backward(dout, cache), C.conv_backward(dout, own)):
        close(a, b_)


def test_recycled_buffers_never_alias_live_results() -> None:
    rng = np.random.default_rng(4)
    shape_x, shape_w = (8, 8, 24, 24), (16, 8, 3, 3)  # columns of ~1.3 MB: pooled scratch buffers
    x1, x2 = rng.standard_normal(shape_x), rng.standard_normal(shape_x)
    w, b = rng.standard_normal(shape_w), rng.standard_normal(16)
    out1, cache1 = C.conv_forward(x1, w, b, 1, 1)
    keep_out1, keep_cols1 = out1.copy(), np.array(cache1[5])
    out2, cache2 = C.conv_forward(x2, w, b, 1, 1)
    assert np.array_equal(out1, keep_out1) and np.array_equal(cache1[5], keep_cols1)
    close(cache2[5], C.im2col(x2, 3, 3, 1, 1))
    d = rng.standard_normal(out1.shape)
    g1 = C.conv_backward(d, cache1)
    keep = [a.copy() for a in g1]
    g2 = C.conv_backward(-d, cache2)
    for a, k in zip(g1, keep):
        assert np.array_equal(a, k)
    close(g2[0], -C.conv_backward(d, cache2)[0])
    del out1, cache1, g1
    out3, _ = C.conv_forward(x1, w, b, 1, 1)  # may reuse the freed buffers, and is still right
    close(out3, keep_out1)
