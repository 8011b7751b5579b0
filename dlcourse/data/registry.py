"""The downloadable data sets: file names, URLs (tried in order) and published checksums.

A wrong digit in a checksum breaks every real download, so each one below was copied from the
source cited beside it and cross-checked against a second one where a second one exists.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RemoteFile", "DatasetSpec", "REGISTRY", "get_spec"]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set, as published.

    Attributes:
        filename: the name the file is cached under (the last component of every URL).
        urls: where to download it, tried in order until one delivers the right checksum.
        checksum: the published hex digest of the file's bytes.
        algorithm: the ``hashlib`` name of the digest ("md5" for every set here).
    """

    filename: str
    urls: tuple[str, ...]
    checksum: str
    algorithm: str = "md5"


@dataclass(frozen=True)
class DatasetSpec:
    """A downloadable data set: its cache folder name and its files."""

    name: str
    title: str
    homepage: str
    files: tuple[RemoteFile, ...]

    def file(self, filename: str) -> RemoteFile:
        """The entry for ``filename``; KeyError if the set has no such file."""
        for remote in self.files:
            if remote.filename == filename:
                return remote
        known = ", ".join(f.filename for f in self.files)
        raise KeyError(f"{self.name} has no file {filename!r}; its files are: {known}")


def _mirrored(filename: str, checksum: str, bases: tuple[str, ...]) -> RemoteFile:
    return RemoteFile(filename, tuple(base + filename for base in bases), checksum, "md5")


# MNIST. The S3 mirror (torchvision's) comes first: yann.lecun.com often refuses scripted downloads
# (HTTP 403), and every failed attempt costs a student a round trip; the original host stays as a fallback.
_MNIST_BASES = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
# MD5s: torchvision, torchvision/datasets/mnist.py, class MNIST, ``resources``
# (https://github.com/pytorch/vision/blob/main/torchvision/datasets/mnist.py).
_MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    homepage="http://yann.lecun.com/exdb/mnist/",
    files=(
        _mirrored("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", _MNIST_BASES),  # torchvision mnist.py
        _mirrored("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", _MNIST_BASES),  # torchvision mnist.py
        _mirrored("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", _MNIST_BASES),  # torchvision mnist.py
        _mirrored("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", _MNIST_BASES),  # torchvision mnist.py
    ),
)

# Fashion-MNIST. The README's "Get the Data" table links the S3 website; the same README says the files
# also live in the repository under data/fashion, which GitHub serves raw.
_FASHION_BASES = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
# MD5s: the Fashion-MNIST README, table "Get the Data", column "MD5 Checksum"
# (https://github.com/zalandoresearch/fashion-mnist#get-the-data); identical in torchvision's
# torchvision/datasets/mnist.py, class FashionMNIST, ``resources``.
_FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    title="Fashion-MNIST",
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    files=(
        _mirrored("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", _FASHION_BASES),  # README table
        _mirrored("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", _FASHION_BASES),  # README table
        _mirrored("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", _FASHION_BASES),  # README table
        _mirrored("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", _FASHION_BASES),  # README table
    ),
)

# CIFAR-10, python version. Only the Toronto host publishes it.
_CIFAR10 = DatasetSpec(
    name="cifar10",
    title="CIFAR-10 (python version)",
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    files=(
        RemoteFile(
            "cifar-10-python.tar.gz",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
            # md5sum column of the "Download" table on https://www.cs.toronto.edu/~kriz/cifar.html
            # ("CIFAR-10 python version | 163 MB"); identical to ``tgz_md5`` in torchvision's
            # torchvision/datasets/cifar.py, class CIFAR10.
            "c58f30108f718f92721af3b95e74349a",
            "md5",
        ),
    ),
)

REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in (_MNIST, _FASHION_MNIST, _CIFAR10)}


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name`` ("mnist", "fashion_mnist" or "cifar10"; "-" and case are ignored).

    Raises:
        ValueError: unknown name; the message lists the known ones.
    """
    key = name.strip().lower().replace("-", "_")
    if key == "cifar_10":
        key = "cifar10"
    if key not in REGISTRY:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[key]
