"""Readers for the on-disk formats of the downloadable sets: IDX (MNIST, Fashion-MNIST) and CIFAR's pickles."""

from __future__ import annotations

import gzip
import math
import os
import pickle
import posixpath
import struct
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from dlcourse.data.errors import DatasetFormatError

__all__ = ["read_idx", "read_cifar_batches", "CIFAR_FOLDER"]

_IDX_UBYTE = 0x08
_REFETCH = "delete it and fetch again (dlcourse.data.fetch re-downloads files whose checksum does not match)"


def read_idx(path: str | os.PathLike[str], *, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed if the name ends in .gz).

    Layout: magic ``0x0000 08 D`` (08 = unsigned byte, D = number of dimensions), D big-endian
    uint32 sizes, then the values in C order. Labels are D = 1 (magic 0x801), images D = 3 (0x803).

    Args:
        path: the file.
        ndim: the number of dimensions the caller expects; a different magic number is an error.

    Returns:
        A writable uint8 array of the shape the header states, e.g. (N, 28, 28) or (N,).

    Raises:
        DatasetFormatError: not gzip, wrong magic number, truncated or with trailing bytes.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # EOFError is how gzip reports a download that stopped early.
        raise DatasetFormatError(f"{path} is not a complete gzip file ({exc}); {_REFETCH}") from exc

    if len(raw) < 4:
        raise DatasetFormatError(f"{path} is truncated: {len(raw)} bytes, shorter than an IDX header; {_REFETCH}")
    (magic,) = struct.unpack(">I", raw[:4])
    dims_count = raw[3]
    if raw[:2] != b"\x00\x00" or raw[2] != _IDX_UBYTE or (ndim is not None and dims_count != ndim):
        want = f"0x{(_IDX_UBYTE << 8) | ndim:08x}" if ndim is not None else "0x000008XX"
        raise DatasetFormatError(
            f"{path}: magic number 0x{magic:08x} is not that of an IDX file of unsigned bytes with "
            f"{ndim if ndim is not None else 'any number of'} dimensions (expected {want}); "
            f"is it the right file? Otherwise {_REFETCH}"
        )
    header = 4 + 4 * dims_count
    if len(raw) < header:
        raise DatasetFormatError(f"{path} is truncated inside its header; {_REFETCH}")
    shape = struct.unpack(f">{dims_count}I", raw[4:header])
    expected = math.prod(shape)
    found = len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise DatasetFormatError(
            f"{path} is {what}: the header promises shape {shape} = {expected} bytes, the file holds {found}; {_REFETCH}"
        )
    # bytearray makes the array writable without a second copy of the data.
    return np.frombuffer(bytearray(raw[header:]), dtype=np.uint8).reshape(shape)


CIFAR_FOLDER = "cifar-10-batches-py"


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles the dicts of arrays that CIFAR ships, and refuses anything that could run code."""

    # numpy.core became numpy._core in NumPy 2; the published batches (written by NumPy 1 under
    # Python 2) name the old module, pickles written by NumPy 2 the new one. _codecs.encode is how
    # protocol 2 stores bytes.
    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR batch holds only NumPy arrays")
        return super().find_class(module, name)


def _read_batch(stream: IO[bytes], where: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        # encoding="bytes": the batches were pickled by Python 2, whose str keys must stay bytes.
        batch = _NumpyOnlyUnpickler(stream, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DatasetFormatError(f"{where} is not a CIFAR batch pickle ({exc})") from exc
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetFormatError(f"{where} is not a CIFAR-10 batch: expected a dict with b'data' and b'labels'")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetFormatError(f"{where}: data is {data.dtype} {data.shape}, expected uint8 (N, 3072)")
    if labels.shape != (data.shape[0],):
        raise DatasetFormatError(f"{where}: {labels.shape[0]} labels for {data.shape[0]} images")
    # Each row is 1024 red, 1024 green, 1024 blue values, each plane row-major: exactly (3, 32, 32).
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar_batches(archive: str | os.PathLike[str], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10 batches straight out of ``cifar-10-python.tar.gz``, in the order of ``names``.

    Members are read in memory by exact name (``cifar-10-batches-py/<name>``); nothing is written to
    disk, so a hostile member name cannot escape the cache folder.

    Args:
        archive: path of the tar.gz.
        names: batch names, e.g. ``["data_batch_1", …, "data_batch_5"]`` or ``["test_batch"]``.

    Returns:
        X: (N, 3, 32, 32) uint8, N = 10000 per batch in the published archive.
        y: (N,) int64 in 0..9.

    Raises:
        DatasetFormatError: corrupt archive, a missing batch, or a batch that is not the expected dict.
    """
    wanted = {f"{CIFAR_FOLDER}/{name}": name for name in names}
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            # One pass over the members: a .tar.gz cannot seek, so looking members up by name
            # would decompress the archive once per batch.
            for member in tar:
                key = posixpath.normpath(member.name)
                if key not in wanted:
                    continue
                stream = tar.extractfile(member) if member.isfile() else None
                if stream is None:
                    raise DatasetFormatError(f"{archive}: member {member.name} is not a regular file")
                found[wanted[key]] = _read_batch(stream, f"{archive}:{member.name}")
                if len(found) == len(wanted):
                    break
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetFormatError(f"{archive} is not a complete tar.gz archive ({exc}); {_REFETCH}") from exc
    missing = [name for name in names if name not in found]
    if missing:
        raise DatasetFormatError(f"{archive} lacks {', '.join(f'{CIFAR_FOLDER}/{m}' for m in missing)}")
    X = np.concatenate([found[name][0] for name in names])
    y = np.concatenate([found[name][1] for name in names])
    return X, y
