"""Exceptions raised while fetching and reading data sets."""

from __future__ import annotations

__all__ = ["DatasetUnavailableError", "ChecksumMismatchError", "DatasetFormatError"]


class DatasetUnavailableError(RuntimeError):
    """A data set file is not in the cache and no URL could deliver it (offline, host down, download=False)."""


class ChecksumMismatchError(RuntimeError):
    """Every URL that answered delivered bytes whose checksum is not the published one."""


class DatasetFormatError(ValueError):
    """A data set file is not in the expected format (wrong magic number, truncated, corrupt archive)."""
