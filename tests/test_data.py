"""dlcourse.data: generators, digits, registry, download cache and loaders.

No test touches the network: downloads go through a fake opener (or file:// URLs) serving files
that the tests write, with the registry entry patched to those files' checksums.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import re
import socket
import struct
import subprocess
import sys
import tarfile
import urllib.error
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import dlcourse.data as data
from dlcourse.data import download, registry
from dlcourse.data.registry import DatasetSpec, RemoteFile

GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "spirals": data.spirals,
    "xor": data.xor,
    "moons": data.moons,
    "circles": data.circles,
}
# (generator, kwargs, expected number of rows, expected number of classes)
SIZES = [
    ("spirals", {}, 300, 3),
    ("spirals", {"n_per_class": 7, "n_classes": 5}, 35, 5),
    ("xor", {}, 200, 2),
    ("xor", {"n": 9}, 9, 2),
    ("moons", {}, 200, 2),
    ("moons", {"n": 7}, 7, 2),
    ("circles", {}, 200, 2),
    ("circles", {"n": 11}, 11, 2),
]


# ----------------------------------------------------------------------------- synthetic generators


@pytest.mark.parametrize("name, kwargs, n, k", SIZES)
def test_generator_shapes_dtypes_and_labels(name: str, kwargs: dict, n: int, k: int) -> None:
    X, y = GENERATORS[name](**kwargs)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y).tolist()) == set(range(k))
    assert np.all(np.isfinite(X))
    # Classes are balanced to within one point.
    counts = np.bincount(y, minlength=k)
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_same_seed_same_data_and_generator_accepted(name: str) -> None:
    gen = GENERATORS[name]
    X1, y1 = gen(rng=3)
    X2, y2 = gen(rng=3)
    X3, y3 = gen(rng=np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(X1, X3)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, y3)


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_different_seeds_differ(name: str) -> None:
    gen = GENERATORS[name]
    X1, y1 = gen(rng=0)
    X2, y2 = gen(rng=1)
    np.testing.assert_array_equal(y1, y2)  # labels depend on the sizes only
    assert not np.allclose(X1, X2)


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_advances_a_shared_generator(name: str) -> None:
    gen = GENERATORS[name]
    rng = np.random.default_rng(0)
    X1, _ = gen(rng=rng)
    X2, _ = gen(rng=rng)
    assert not np.allclose(X1, X2)


def test_spirals_geometry() -> None:
    n = 50
    X, y = data.spirals(n_per_class=n, n_classes=3, noise=0.3, rng=0)
    # Noise is on the angle only: radii are exactly linspace(0, 1) within every arm.
    for k in range(3):
        np.testing.assert_allclose(np.linalg.norm(X[y == k], axis=1), np.linspace(0, 1, n), atol=1e-12)
    # Without noise, arm k sweeps the angle 4k → 4(k+1): point (r sin θ, r cos θ).
    X0, _ = data.spirals(n_per_class=n, n_classes=3, noise=0.0)
    theta = np.linspace(8.0, 12.0, n)
    r = np.linspace(0.0, 1.0, n)
    np.testing.assert_allclose(X0[2 * n :], np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))


def test_xor_labels_are_xor_of_blob_signs() -> None:
    X0, y0 = data.xor(n=40, noise=0.0)
    assert set(map(tuple, X0.tolist())) == {(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)}
    np.testing.assert_array_equal(y0, (X0[:, 0] * X0[:, 1] < 0).astype(np.int64))
    X, y = data.xor(n=4000, noise=0.1, rng=1)
    # With small noise nearly every point keeps its blob's quadrant, so the label still is XOR of signs.
    assert np.mean(y == (X[:, 0] * X[:, 1] < 0)) > 0.99
    assert abs(np.std(X - np.sign(X)) - 0.1) < 0.01


@pytest.mark.parametrize("n", [1, 2, 7, 200])
def test_moons_and_circles_match_scikit_learn_without_noise(n: int) -> None:
    from sklearn.datasets import make_circles, make_moons

    X, y = data.moons(n=n, noise=0.0)
    X_ref, y_ref = make_moons(n_samples=n, shuffle=False, noise=0.0)
    np.testing.assert_allclose(X, X_ref, atol=1e-12)
    np.testing.assert_array_equal(y, y_ref)
    X, y = data.circles(n=n, noise=0.0, factor=0.3)
    X_ref, y_ref = make_circles(n_samples=n, shuffle=False, noise=0.0, factor=0.3)
    np.testing.assert_allclose(X, X_ref, atol=1e-12)
    np.testing.assert_array_equal(y, y_ref)


@pytest.mark.parametrize("name", ["moons", "circles"])
def test_noise_is_gaussian_with_the_requested_std(name: str) -> None:
    gen = GENERATORS[name]
    clean, _ = gen(n=20000, noise=0.0)
    noisy, _ = gen(n=20000, noise=0.2, rng=5)
    residual = noisy - clean
    assert abs(residual.mean()) < 0.01
    assert abs(residual.std() - 0.2) < 0.005


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.spirals(n_per_class=-3), "n_per_class must be a positive int, got -3"),
        (lambda: data.spirals(n_per_class=0), "n_per_class must be a positive int, got 0"),
        (lambda: data.spirals(n_per_class=2.5), "n_per_class must be a positive int, got 2.5"),
        (lambda: data.spirals(n_per_class=True), "n_per_class must be a positive int, got True"),
        (lambda: data.spirals(n_classes=0), "n_classes must be a positive int, got 0"),
        (lambda: data.spirals(noise=-0.1), "noise must be a finite float >= 0, got -0.1"),
        (lambda: data.spirals(noise=float("nan")), "noise must be a finite float >= 0, got nan"),
        (lambda: data.xor(n=0), "n must be a positive int, got 0"),
        (lambda: data.xor(noise=-1), "noise must be a finite float >= 0, got -1"),
        (lambda: data.moons(n=-1), "n must be a positive int, got -1"),
        (lambda: data.moons(n="10"), "n must be a positive int, got '10'"),
        (lambda: data.circles(n=0), "n must be a positive int, got 0"),
        (lambda: data.circles(factor=1.0), "factor must be a float in [0, 1), got 1.0"),
        (lambda: data.circles(factor=-0.5), "factor must be a float in [0, 1), got -0.5"),
    ],
)
def test_generator_argument_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_generator_accepts_numpy_int_and_rejects_bad_rng() -> None:
    X, _ = data.spirals(n_per_class=np.int64(4), n_classes=np.int32(2))
    assert X.shape == (8, 2)
    with pytest.raises(TypeError, match="rng must be"):
        data.moons(rng="seed")


# ----------------------------------------------------------------------------- digits and import hygiene


def test_load_digits() -> None:
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    images, y2 = data.load_digits(flatten=False)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y2, y)
    raw, _ = data.load_digits(normalize=False)
    assert raw.max() == 16.0
    np.testing.assert_allclose(raw / 16.0, X)


def test_import_pulls_no_heavy_dependency() -> None:
    code = (
        "import sys, dlcourse.data; "
        "print(sorted(m for m in ('torch', 'matplotlib', 'ipywidgets', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- registry

# Published MD5s, pinned a second time here so that an edit to one copy fails the tests.
# MNIST: torchvision/datasets/mnist.py (MNIST.resources). Fashion-MNIST: README "Get the Data".
# CIFAR-10: https://www.cs.toronto.edu/~kriz/cifar.html, "CIFAR-10 python version".
PUBLISHED_MD5 = {
    ("mnist", "train-images-idx3-ubyte.gz"): "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ("mnist", "train-labels-idx1-ubyte.gz"): "d53e105ee54ea40749a09fcbcd1e9432",
    ("mnist", "t10k-images-idx3-ubyte.gz"): "9fb629c4189551a2d022fa330f9573f3",
    ("mnist", "t10k-labels-idx1-ubyte.gz"): "ec29112dd5afa0611ce80d1b7f02629c",
    ("fashion_mnist", "train-images-idx3-ubyte.gz"): "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ("fashion_mnist", "train-labels-idx1-ubyte.gz"): "25c81989df183df01b3e8a0aad5dffbe",
    ("fashion_mnist", "t10k-images-idx3-ubyte.gz"): "bef4ecab320f06d8554ea6380940ec79",
    ("fashion_mnist", "t10k-labels-idx1-ubyte.gz"): "bb300cfdad3c16e7a12a480ee83cd310",
    ("cifar10", "cifar-10-python.tar.gz"): "c58f30108f718f92721af3b95e74349a",
}


def test_registry_checksums_are_the_published_md5s() -> None:
    entries = {(spec.name, f.filename): f for spec in data.REGISTRY.values() for f in spec.files}
    assert set(entries) == set(PUBLISHED_MD5)
    for key, remote in entries.items():
        assert remote.algorithm == "md5"
        assert re.fullmatch(r"[0-9a-f]{32}", remote.checksum), key
        assert remote.checksum == PUBLISHED_MD5[key], key


def test_registry_urls() -> None:
    for spec in data.REGISTRY.values():
        for remote in spec.files:
            assert remote.urls, remote.filename
            assert len(set(remote.urls)) == len(remote.urls)
            for url in remote.urls:
                assert url.startswith(("https://", "http://")) and url.endswith("/" + remote.filename), url
            if spec.name in ("mnist", "fashion_mnist"):
                assert len(remote.urls) >= 2, f"{spec.name}/{remote.filename} needs a mirror"
    mnist_urls = data.REGISTRY["mnist"].files[0].urls
    assert mnist_urls[0].startswith("https://ossci-datasets.s3.amazonaws.com/mnist/")
    assert any("yann.lecun.com" in u for u in mnist_urls)


def test_get_spec_names() -> None:
    assert registry.get_spec("Fashion-MNIST").name == "fashion_mnist"
    assert registry.get_spec("CIFAR-10").name == "cifar10"
    with pytest.raises(ValueError, match="unknown data set 'imagenet'; known: cifar10, fashion_mnist, mnist"):
        registry.get_spec("imagenet")
    with pytest.raises(KeyError, match="no file 'nope'"):
        registry.get_spec("mnist").file("nope")


# ----------------------------------------------------------------------------- data_home


def test_data_home_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "cache"
    monkeypatch.setenv("DLCOURSE_DATA", str(target))
    assert data.data_home() == target
    assert target.is_dir()


def test_data_home_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DLCOURSE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.data_home() == tmp_path / ".cache" / "dlcourse"
    assert (tmp_path / ".cache" / "dlcourse").is_dir()


# ----------------------------------------------------------------------------- test files and fakes


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0x0000 08 D, D big-endian sizes, the values."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


def md5(raw: bytes) -> str:
    return hashlib.md5(raw).hexdigest()


def make_idx_set(seed: int) -> dict[str, tuple[np.ndarray, bytes]]:
    """Tiny MNIST-layout files: 5 train and 3 test images of 28×28."""
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", 5), ("t10k", 3)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        out[f"{prefix}-images-idx3-ubyte.gz"] = (images, gz(idx_bytes(images)))
        out[f"{prefix}-labels-idx1-ubyte.gz"] = (labels, gz(idx_bytes(labels)))
    return out


PRIMARY = "https://primary.invalid/"
MIRROR = "https://mirror.invalid/"


def patch_registry(monkeypatch: pytest.MonkeyPatch, name: str, files: dict[str, bytes], bases=(PRIMARY, MIRROR)) -> None:
    """Point a registry entry at fake URLs, with the checksums of the files the test made."""
    spec = data.REGISTRY[name]
    fake = DatasetSpec(
        spec.name,
        spec.title,
        spec.homepage,
        tuple(RemoteFile(f, tuple(b + f for b in bases), md5(raw), "md5") for f, raw in files.items()),
    )
    monkeypatch.setitem(registry.REGISTRY, name, fake)


class FakeOpener:
    """Serves ``routes[url]`` (bytes, or an exception to raise) and records every URL asked for."""

    def __init__(self, routes: dict[str, bytes | BaseException]) -> None:
        self.routes = routes
        self.calls: list[str] = []

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.calls.append(url)
        answer = self.routes.get(url, urllib.error.URLError("[Errno -2] Name or service not known"))
        if isinstance(answer, BaseException):
            raise answer
        return io.BytesIO(answer)


class DropsAfter(io.BytesIO):
    """A stream whose connection dies after the first read."""

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        self.reads += 1
        if self.reads > 1:
            raise socket.timeout("timed out")
        return super().read(min(size if size and size > 0 else len(self.getvalue()), 100))


@pytest.fixture
def idx_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """MNIST registry patched to tiny files; returns (arrays, file bytes, cache root)."""
    made = make_idx_set(seed=0)
    raw = {f: b for f, (_, b) in made.items()}
    patch_registry(monkeypatch, "mnist", raw)
    return {f: a for f, (a, _) in made.items()}, raw, tmp_path / "cache"


def no_part_files(folder: Path) -> bool:
    return not any(p.name.endswith(".part") for p in folder.iterdir())


# ----------------------------------------------------------------------------- fetch


def test_fetch_downloads_verifies_and_reuses(idx_set, capsys: pytest.CaptureFixture[str]) -> None:
    _, raw, root = idx_set
    opener = FakeOpener({PRIMARY + f: b for f, b in raw.items()})
    folder = data.fetch("mnist", data_home=root, opener=opener)
    assert folder == root / "mnist"
    assert opener.calls == [PRIMARY + f for f in raw]
    for f, b in raw.items():
        assert (folder / f).read_bytes() == b
    assert no_part_files(folder)
    assert "Downloading https://primary.invalid/train-images-idx3-ubyte.gz" in capsys.readouterr().out

    # Second call: every file is cached with the right checksum, so the network is not touched.
    offline = FakeOpener({})
    assert data.fetch("mnist", data_home=root, opener=offline) == folder
    assert offline.calls == []


def test_fetch_uses_cache_placed_by_hand(idx_set, monkeypatch: pytest.MonkeyPatch) -> None:
    _, raw, root = idx_set
    monkeypatch.setenv("DLCOURSE_DATA", str(root))
    (root / "mnist").mkdir(parents=True)
    for f, b in raw.items():
        (root / "mnist" / f).write_bytes(b)
    opener = FakeOpener({})
    assert data.fetch("mnist", opener=opener) == root / "mnist"
    assert data.fetch("mnist", download=False) == root / "mnist"
    assert opener.calls == []


def test_fetch_falls_back_to_the_mirror(idx_set) -> None:
    _, raw, root = idx_set
    routes: dict[str, bytes | BaseException] = {PRIMARY + f: urllib.error.HTTPError(PRIMARY + f, 403, "Forbidden", {}, None) for f in raw}
    routes.update({MIRROR + f: b for f, b in raw.items()})
    opener = FakeOpener(routes)
    folder = data.fetch("mnist", data_home=root, opener=opener, verbose=False)
    assert opener.calls == [u for f in raw for u in (PRIMARY + f, MIRROR + f)]
    assert all((folder / f).read_bytes() == b for f, b in raw.items())
    assert no_part_files(folder)


def test_fetch_falls_back_when_the_connection_drops_midway(idx_set) -> None:
    _, raw, root = idx_set
    name = "train-images-idx3-ubyte.gz"
    routes: dict[str, bytes | BaseException] = {MIRROR + name: raw[name]}
    opener = FakeOpener(routes)
    dropping = DropsAfter(raw[name])

    def flaky(url: str, timeout: float):
        return dropping if url.startswith(PRIMARY) else opener(url, timeout)

    folder = data.fetch("mnist", data_home=root, files=[name], opener=flaky, verbose=False)
    assert dropping.reads == 2
    assert (folder / name).read_bytes() == raw[name]
    assert sorted(p.name for p in folder.iterdir()) == [name]


def test_fetch_checksum_mismatch_raises_and_keeps_nothing(idx_set) -> None:
    _, raw, root = idx_set
    name = "t10k-labels-idx1-ubyte.gz"
    page = b"<html>captive portal</html>"
    other = raw[name][:-1] + bytes([raw[name][-1] ^ 0xFF])  # one byte off
    opener = FakeOpener({PRIMARY + name: page, MIRROR + name: other})
    with pytest.raises(data.ChecksumMismatchError) as info:
        data.fetch("mnist", data_home=root, files=[name], opener=opener, verbose=False)
    message = str(info.value)
    assert f"{PRIMARY + name} gave md5 {md5(page)}" in message
    assert f"{MIRROR + name} gave md5 {md5(other)}" in message
    assert md5(raw[name]) in message  # the expected checksum
    assert list((root / "mnist").iterdir()) == []


def test_fetch_mismatch_on_primary_then_good_mirror(idx_set) -> None:
    _, raw, root = idx_set
    name = "t10k-labels-idx1-ubyte.gz"
    opener = FakeOpener({PRIMARY + name: b"not it", MIRROR + name: raw[name]})
    folder = data.fetch("mnist", data_home=root, files=[name], opener=opener, verbose=False)
    assert sorted(p.name for p in folder.iterdir()) == [name]
    assert (folder / name).read_bytes() == raw[name]


def test_fetch_offline_names_urls_cache_and_load_digits(idx_set) -> None:
    _, raw, root = idx_set
    name = "train-images-idx3-ubyte.gz"
    opener = FakeOpener({PRIMARY + name: socket.timeout("timed out")})  # the mirror: URLError
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.fetch("mnist", data_home=root, opener=opener, verbose=False)
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    assert "MNIST" in message
    assert PRIMARY + name in message and MIRROR + name in message
    assert "timed out" in message and "Name or service not known" in message
    assert str(root / "mnist" / name) in message
    assert "use dlcourse.data.load_digits() (bundled with scikit-learn, no download)" in message
    assert opener.calls == [PRIMARY + name, MIRROR + name]  # stops at the first file it cannot get
    assert list((root / "mnist").iterdir()) == []


def test_fetch_download_false_never_opens(idx_set) -> None:
    _, _, root = idx_set
    opener = FakeOpener({})
    with pytest.raises(data.DatasetUnavailableError, match="download=False") as info:
        data.fetch("mnist", data_home=root, download=False, opener=opener)
    assert "load_digits()" in str(info.value)
    assert opener.calls == []


def test_fetch_replaces_a_stale_cached_file(idx_set) -> None:
    _, raw, root = idx_set
    name = "t10k-labels-idx1-ubyte.gz"
    (root / "mnist").mkdir(parents=True)
    (root / "mnist" / name).write_bytes(raw[name][:10])  # an interrupted copy
    with pytest.raises(data.DatasetUnavailableError, match="not the published"):
        data.fetch("mnist", data_home=root, files=[name], opener=FakeOpener({}), verbose=False)
    opener = FakeOpener({PRIMARY + name: raw[name]})
    data.fetch("mnist", data_home=root, files=[name], opener=opener, verbose=False)
    assert (root / "mnist" / name).read_bytes() == raw[name]


def test_fetch_with_the_real_urllib_opener_on_file_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    made = make_idx_set(seed=1)
    raw = {f: b for f, (_, b) in made.items()}
    for f, b in raw.items():
        (served / f).write_bytes(b)
    missing_host = (tmp_path / "nowhere").as_uri() + "/"
    patch_registry(monkeypatch, "mnist", raw, bases=(missing_host, served.as_uri() + "/"))
    folder = data.fetch("mnist", data_home=tmp_path / "cache", verbose=False)  # default opener: urllib
    assert all((folder / f).read_bytes() == b for f, b in raw.items())


# ----------------------------------------------------------------------------- loaders


@pytest.mark.parametrize("name, loader", [("mnist", data.load_mnist), ("fashion_mnist", data.load_fashion_mnist)])
def test_idx_loaders(name: str, loader, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made = make_idx_set(seed=2)
    raw = {f: b for f, (_, b) in made.items()}
    patch_registry(monkeypatch, name, raw)
    opener = FakeOpener({PRIMARY + f: b for f, b in raw.items()})
    monkeypatch.setattr(download, "open_url", opener)
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path))

    X, y = loader("test")
    # Only the test split is downloaded.
    assert opener.calls == [PRIMARY + "t10k-images-idx3-ubyte.gz", PRIMARY + "t10k-labels-idx1-ubyte.gz"]
    images, labels = made["t10k-images-idx3-ubyte.gz"][0], made["t10k-labels-idx1-ubyte.gz"][0]
    assert X.shape == (3, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (3,) and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)

    X, y = loader("train", normalize=False, flatten=True)
    assert X.shape == (5, 784) and X.dtype == np.uint8
    np.testing.assert_array_equal(X, made["train-images-idx3-ubyte.gz"][0].reshape(5, 784))
    np.testing.assert_array_equal(y, made["train-labels-idx1-ubyte.gz"][0])
    X[0, 0] = 7  # the arrays are the caller's to modify

    with pytest.raises(ValueError, match="kind must be 'train' or 'test', got 'val'"):
        loader("val")


def test_load_mnist_offline_error_mentions_digits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def offline(url: str, timeout: float):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(download, "open_url", offline)
    with pytest.raises(data.DatasetUnavailableError, match=re.escape("dlcourse.data.load_digits()")):
        data.load_mnist("test", data_home=tmp_path)


def place_in_cache(monkeypatch: pytest.MonkeyPatch, root: Path, name: str, files: dict[str, bytes]) -> None:
    patch_registry(monkeypatch, name, files)
    (root / name).mkdir(parents=True, exist_ok=True)
    for f, b in files.items():
        (root / name / f).write_bytes(b)


def test_read_idx_rejects_wrong_magic_and_truncation(tmp_path: Path) -> None:
    labels = np.arange(10, dtype=np.uint8)
    good = tmp_path / "labels.gz"
    good.write_bytes(gz(idx_bytes(labels)))
    np.testing.assert_array_equal(data.read_idx(good, ndim=1), labels)

    with pytest.raises(data.DatasetFormatError, match=r"magic number 0x00000801 .*\(expected 0x00000803\)"):
        data.read_idx(good, ndim=3)  # a labels file where images were expected

    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gz(idx_bytes(labels)[:-3]))
    with pytest.raises(data.DatasetFormatError, match=r"truncated: the header promises shape \(10,\) = 10 bytes, the file holds 7"):
        data.read_idx(truncated)

    cut_gzip = tmp_path / "cut.gz"
    cut_gzip.write_bytes(gz(idx_bytes(labels))[:-12])
    with pytest.raises(data.DatasetFormatError, match="not a complete gzip file"):
        data.read_idx(cut_gzip)

    html = tmp_path / "page.gz"
    html.write_bytes(b"<html>404</html>")
    with pytest.raises(data.DatasetFormatError, match="not a complete gzip file"):
        data.read_idx(html)

    wrong_type = tmp_path / "int32.gz"
    wrong_type.write_bytes(gz(b"\x00\x00\x0c\x01" + struct.pack(">I", 1) + b"\x00\x00\x00\x01"))
    with pytest.raises(data.DatasetFormatError, match="magic number 0x00000c01"):
        data.read_idx(wrong_type)


def test_load_mnist_corrupt_cached_file_gives_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made = make_idx_set(seed=3)
    raw = {f: b for f, (_, b) in made.items()}
    # Checksums match (patched registry), but the image file's header promises more than it holds.
    images = made["t10k-images-idx3-ubyte.gz"][0]
    raw["t10k-images-idx3-ubyte.gz"] = gz(idx_bytes(images)[:-100])
    place_in_cache(monkeypatch, tmp_path, "mnist", raw)
    with pytest.raises(data.DatasetFormatError, match="t10k-images-idx3-ubyte.gz is truncated"):
        data.load_mnist("test", data_home=tmp_path, download=False)

    # Images and labels that disagree on N.
    raw["t10k-images-idx3-ubyte.gz"] = gz(idx_bytes(images[:2]))
    place_in_cache(monkeypatch, tmp_path, "mnist", raw)
    with pytest.raises(data.DatasetFormatError, match="2 images but 3 labels"):
        data.load_mnist("test", data_home=tmp_path, download=False)


def cifar_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, bytes]:
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    # As published: rows of 3072 = R plane, G plane, B plane, keys as bytes, labels a list.
    batch = {b"batch_label": b"test", b"labels": labels.tolist(), b"data": images.reshape(n, 3072), b"filenames": []}
    return images, labels, pickle.dumps(batch, protocol=2)


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, raw in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def test_load_cifar10(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    members, expected = {}, {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images, labels, raw = cifar_batch(rng, n=2)
        members[f"cifar-10-batches-py/{name}"] = raw
        expected[name] = (images, labels)
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({b"label_names": [b"airplane"]}, protocol=2)
    archive = tar_gz(members)
    patch_registry(monkeypatch, "cifar10", {"cifar-10-python.tar.gz": archive})
    opener = FakeOpener({PRIMARY + "cifar-10-python.tar.gz": archive})
    monkeypatch.setattr(download, "open_url", opener)

    X, y = data.load_cifar10("train", data_home=tmp_path)
    assert X.shape == (10, 3, 32, 32) and X.dtype == np.float32
    assert y.shape == (10,) and y.dtype == np.int64
    train_images = np.concatenate([expected[f"data_batch_{i}"][0] for i in range(1, 6)])
    np.testing.assert_allclose(X, train_images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, np.concatenate([expected[f"data_batch_{i}"][1] for i in range(1, 6)]))

    X, y = data.load_cifar10("test", data_home=tmp_path, normalize=False, flatten=True)
    assert X.shape == (2, 3072) and X.dtype == np.uint8
    np.testing.assert_array_equal(X, expected["test_batch"][0].reshape(2, 3072))
    np.testing.assert_array_equal(y, expected["test_batch"][1])
    assert opener.calls == [PRIMARY + "cifar-10-python.tar.gz"]  # downloaded once, then cached


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cifar_reader_refuses_code_and_traversal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = tmp_path / "evil.tar.gz"
    evil.write_bytes(tar_gz({"cifar-10-batches-py/test_batch": pickle.dumps({b"data": _Evil()}, protocol=2)}))
    with pytest.raises(data.DatasetFormatError, match=r"refusing to load (__builtin__|builtins)\.print"):
        data.read_cifar_batches(evil, ["test_batch"])
    assert "pwned" not in capsys.readouterr().out

    _, _, raw = cifar_batch(np.random.default_rng(0), n=1)
    sneaky = tmp_path / "sneaky.tar.gz"
    sneaky.write_bytes(tar_gz({"../cifar-10-batches-py/test_batch": raw}))
    with pytest.raises(data.DatasetFormatError, match="lacks cifar-10-batches-py/test_batch"):
        data.read_cifar_batches(sneaky, ["test_batch"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar.gz", "sneaky.tar.gz"]

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(sneaky.read_bytes()[:-40])
    with pytest.raises(data.DatasetFormatError, match="not a complete tar.gz archive"):
        data.read_cifar_batches(cut, ["test_batch"])
