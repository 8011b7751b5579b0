"""The download cache: fetch a registered data set once, verify it by checksum, reuse it afterwards.

Files are written to a temporary name in the cache folder and renamed only once their checksum
matches, so a cache folder never holds a half-downloaded or tampered file under its real name,
even when two notebooks fetch the same set at once.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from dlcourse.data.errors import ChecksumMismatchError, DatasetUnavailableError
from dlcourse.data.registry import DatasetSpec, RemoteFile, get_spec

__all__ = ["data_home", "fetch", "file_digest", "open_url", "Opener", "EMBEDDED_ALTERNATIVE"]

#: ``opener(url, timeout)`` returns a readable binary stream usable in a ``with`` block
#: (``urlopen``'s response, or ``io.BytesIO`` in tests).
Opener = Callable[[str, float], IO[bytes]]

EMBEDDED_ALTERNATIVE = "use dlcourse.data.load_digits() (bundled with scikit-learn, no download)"
DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 20
# What a failing host or a dropped connection raises: URLError, HTTPError and socket timeouts are
# OSErrors; IncompleteRead (the server closed early) is an HTTPException.
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException)


def data_home() -> Path:
    """The cache folder: ``$DLCOURSE_DATA`` if set, else ``~/.cache/dlcourse``; created if missing."""
    env = os.environ.get("DLCOURSE_DATA")
    home = Path(env).expanduser() if env else Path.home() / ".cache" / "dlcourse"
    home.mkdir(parents=True, exist_ok=True)
    return home


def open_url(url: str, timeout: float) -> IO[bytes]:
    """Default opener: an HTTP(S) GET with a timeout and a named User-Agent.

    Some hosts answer urllib's default User-Agent with 403, so the request names itself.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "dlcourse (course data download)"})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - URLs come from the registry


def file_digest(path: str | os.PathLike[str], algorithm: str = "md5") -> str:
    """Hex digest of a file's bytes, read in 1 MiB chunks (CIFAR-10 is 163 MB)."""
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


class _TransferError(Exception):
    """The remote end failed (as opposed to the local disk, whose errors propagate unchanged)."""


def _copy_stream(url: str, out: IO[bytes], hasher: Any, opener: Opener, timeout: float) -> int:
    try:
        stream = opener(url, timeout)
    except _NETWORK_ERRORS as exc:
        raise _TransferError(f"{type(exc).__name__}: {exc}") from exc
    size = 0
    with stream:
        while True:
            try:
                chunk = stream.read(_CHUNK)
            except _NETWORK_ERRORS as exc:
                raise _TransferError(f"{type(exc).__name__} after {size} bytes: {exc}") from exc
            if not chunk:
                return size
            hasher.update(chunk)
            out.write(chunk)
            size += len(chunk)


def _download_one(
    spec: DatasetSpec,
    remote: RemoteFile,
    target: Path,
    opener: Opener,
    timeout: float,
    verbose: bool,
    stale_note: str,
) -> None:
    failures: list[str] = []
    mismatches: list[str] = []
    for url in remote.urls:
        if verbose:
            # stdout, not stderr: nbgrader scores a cell that writes to stderr as failed.
            print(f"Downloading {url}", flush=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{remote.filename}.", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        hasher = hashlib.new(remote.algorithm)
        try:
            with os.fdopen(fd, "wb") as out:
                size = _copy_stream(url, out, hasher, opener, timeout)
        except _TransferError as exc:
            tmp.unlink(missing_ok=True)
            failures.append(f"{url} -> {exc}")
            continue
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        digest = hasher.hexdigest()
        if digest == remote.checksum:
            os.replace(tmp, target)
            if verbose:
                print(f"  verified {remote.algorithm} {digest}, {size} bytes -> {target}", flush=True)
            return
        tmp.unlink(missing_ok=True)
        mismatches.append(f"{url} gave {remote.algorithm} {digest} ({size} bytes)")

    by_hand = (
        f"Place the file by hand at {target} (the cache folder; set DLCOURSE_DATA to use another one), "
        f"or {EMBEDDED_ALTERNATIVE}."
    )
    if mismatches:
        lines = [
            f"{spec.title}: no URL delivered {remote.filename} with the published {remote.algorithm} "
            f"{remote.checksum}; the downloaded bytes were deleted.",
            *(f"  {m}" for m in mismatches),
            *(f"  {f}" for f in failures),
            "A proxy or captive portal that answers with a web page gives a wrong checksum too.",
            by_hand,
        ]
        raise ChecksumMismatchError("\n".join(lines))
    lines = [
        f"{spec.title}: could not download {remote.filename}. URLs tried:",
        *(f"  {f}" for f in failures),
        *([stale_note] if stale_note else []),
        "If this machine is offline, download the file elsewhere and copy it into the cache.",
        by_hand,
    ]
    raise DatasetUnavailableError("\n".join(lines))


def _cache_root(home: str | os.PathLike[str] | None) -> Path:
    if home is None:
        return data_home()
    root = Path(home).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def fetch(
    name: str,
    *,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
    files: Sequence[str] | None = None,
    opener: Opener | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    verbose: bool = True,
) -> Path:
    """Make sure a registered data set's files are in the cache, verified; return their folder.

    A cached file is reused when its checksum matches the registry's. Otherwise it is downloaded
    from each URL in turn until one delivers the published checksum.

    Args:
        name: "mnist", "fashion_mnist" or "cifar10".
        data_home: cache root; default :func:`data_home` (``$DLCOURSE_DATA`` or ``~/.cache/dlcourse``).
        download: if False, never touch the network: missing files raise DatasetUnavailableError.
        files: only these file names of the set (e.g. just the test split); default all of them.
        opener: ``opener(url, timeout) -> binary stream``; default :func:`open_url` (tests pass a fake).
        timeout: seconds for the connection and for each read.
        verbose: print one line per download attempt to stdout.

    Returns:
        The folder ``<data_home>/<name>`` holding the verified files under their published names.

    Raises:
        DatasetUnavailableError: a file is missing and no URL could deliver it (or download=False).
        ChecksumMismatchError: URLs answered, but with bytes of the wrong checksum (nothing is kept).
        ValueError: unknown data set name.
    """
    spec = get_spec(name)
    wanted = spec.files if files is None else tuple(spec.file(f) for f in files)
    folder = _cache_root(data_home) / spec.name
    # Looked up at call time so that tests can monkeypatch ``download.open_url``.
    use_opener = opener if opener is not None else open_url

    for remote in wanted:
        target = folder / remote.filename
        stale_note = ""
        if target.is_file():
            digest = file_digest(target, remote.algorithm)
            if digest == remote.checksum:
                continue
            stale_note = (
                f"The cached {target} has {remote.algorithm} {digest}, not the published {remote.checksum}; "
                "it is incomplete or a different file."
            )
        if not download:
            lines = [
                f"{spec.title}: {remote.filename} is not in the cache and download=False.",
                *([stale_note] if stale_note else []),
                f"Place the file at {target} (from one of: {', '.join(remote.urls)}), "
                f"call with download=True, or {EMBEDDED_ALTERNATIVE}.",
            ]
            raise DatasetUnavailableError("\n".join(lines))
        folder.mkdir(parents=True, exist_ok=True)
        _download_one(spec, remote, target, use_opener, timeout, verbose, stale_note)
    return folder
