"""dlcourse.ref.tensors (and its PyTorch twin): the lecture's memory table, one-hot, mini-batches, distances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse import ref

torch = pytest.importorskip("torch")
gpu = pytest.importorskip("dlcourse.gpu")

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)


@pytest.mark.parametrize(
    "shape,nbytes",
    [((55000, 784), 172_480_000), ((55000, 10), 2_200_000), ((784, 10), 31_360), ((10,), 40)],
    ids=["train_features", "train_labels", "weights", "biases"],
)
def test_lecture_memory_table(shape, nbytes):
    assert ref.tensor_bytes(shape, np.float32) == nbytes
    assert ref.tensor_bytes(shape, np.float32) == np.zeros(shape, np.float32).nbytes
    assert gpu.tensor_bytes(shape, torch.float32) == nbytes == torch.zeros(shape).nbytes


@FAST
@given(shape=st.lists(st.integers(0, 6), max_size=4).map(tuple),
       dtype=st.sampled_from(["int8", "float16", "float32", "int64", "float64", "complex128"]))
def test_tensor_bytes_equals_nbytes(shape, dtype):
    got = ref.tensor_bytes(shape, dtype)
    assert isinstance(got, int) and got == np.zeros(shape, dtype).nbytes
    assert gpu.tensor_bytes(shape, dtype) == got


def test_tensor_bytes_of_huge_shapes_without_allocating():
    assert ref.tensor_bytes((100_000, 100_000, 3), np.float64) == 240_000_000_000


@FAST
@given(seed=seeds, n=st.integers(0, 30), c=st.integers(1, 8))
def test_one_hot_matches_torch(seed, n, c):
    y = np.random.default_rng(seed).integers(0, c, size=n)
    out = ref.one_hot(y, c)
    assert out.shape == (n, c) and out.dtype == np.float64
    expected = torch.nn.functional.one_hot(torch.from_numpy(y), c).numpy()
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(gpu.one_hot(torch.from_numpy(y), c).numpy(), out)
    if n:
        assert ref.one_hot(y).shape == (n, int(y.max()) + 1)


def test_one_hot_rejects_2d_labels():
    with pytest.raises(ValueError, match="expected \\(N,\\)"):
        ref.one_hot(np.zeros((2, 2), dtype=int))


@FAST
@given(seed=seeds, n=st.integers(1, 40), b=st.integers(1, 12))
def test_minibatches_cover_every_example_once(seed, n, b):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    y = np.arange(n)
    rng = np.random.default_rng(seed)
    batches = list(ref.minibatches(X, y, b, rng=rng))
    sizes = [len(yb) for _, yb in batches]
    assert sizes == [b] * (n // b) + ([n % b] if n % b else [])
    order = np.concatenate([yb for _, yb in batches])
    assert sorted(order) == list(range(n))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb, X[yb])
    # same seed: same epoch; the twin yields the same batches from the same generator state
    again = list(ref.minibatches(X, y, b, rng=np.random.default_rng(seed)))
    twin = list(gpu.minibatches(torch.from_numpy(X), torch.from_numpy(y), b, rng=np.random.default_rng(seed)))
    for (x1, y1), (x2, y2), (x3, y3) in zip(batches, again, twin):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(y1, y3.numpy())
        np.testing.assert_array_equal(x1, x3.numpy())


def test_minibatches_reshuffle_every_epoch():
    X, y = np.zeros((50, 1)), np.arange(50)
    rng = np.random.default_rng(0)
    first = np.concatenate([yb for _, yb in ref.minibatches(X, y, 8, rng=rng)])
    second = np.concatenate([yb for _, yb in ref.minibatches(X, y, 8, rng=rng)])
    assert not np.array_equal(first, second)
    plain = np.concatenate([yb for _, yb in ref.minibatches(X, y, 8, rng=rng, shuffle=False)])
    np.testing.assert_array_equal(plain, y)


def test_minibatches_validate_arguments():
    with pytest.raises(ValueError, match="y has 3"):
        list(ref.minibatches(np.zeros((4, 1)), np.zeros(3), 2, rng=0))
    with pytest.raises(ValueError, match="at least 1"):
        list(ref.minibatches(np.zeros((4, 1)), np.zeros(4), 0, rng=0))


@FAST
@given(seed=seeds, n=st.integers(1, 8), m=st.integers(1, 8), d=st.integers(1, 5))
def test_pairwise_distances_match_torch_cdist(seed, n, m, d):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    out = ref.pairwise_distances(A, B)
    assert out.shape == (n, m)
    expected = torch.cdist(torch.from_numpy(A), torch.from_numpy(B)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gpu.pairwise_distances(torch.from_numpy(A), torch.from_numpy(B)).numpy(), out,
                               rtol=1e-12, atol=1e-12)
    loops = np.array([[np.linalg.norm(a - b) for b in B] for a in A])
    np.testing.assert_allclose(out, loops, rtol=1e-12, atol=1e-12)


def test_pairwise_distance_of_a_point_to_itself_is_exactly_zero():
    A = np.random.default_rng(0).standard_normal((5, 3)) * 1e3
    assert np.all(np.diag(ref.pairwise_distances(A, A)) == 0.0)


def test_twins_stay_on_the_device(device):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((6, 3)), rng.standard_normal((4, 3))
    out = gpu.pairwise_distances(torch.from_numpy(A).to(device), torch.from_numpy(B).to(device))
    assert out.device.type == device.type
    np.testing.assert_allclose(out.cpu().numpy(), ref.pairwise_distances(A, B), rtol=1e-10)
    y = torch.tensor([0, 2, 1], device=device)
    assert gpu.one_hot(y, 3).device.type == device.type
    X = torch.arange(10.0, device=device).reshape(5, 2)
    batches = list(gpu.minibatches(X, torch.arange(5, device=device), 2, rng=0))
    assert [len(b[0]) for b in batches] == [2, 2, 1] and batches[0][0].device.type == device.type
