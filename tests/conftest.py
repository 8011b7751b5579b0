"""Test-session settings shared by every test module."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import torch

# pytest-xdist runs one worker per core, and every notebook test starts a kernel in its worker.
# Left alone, each kernel's BLAS and PyTorch would start one thread per core as well, and their
# OpenMP threads spin-wait for work: on 2 cores, two kernels then run several times slower than
# one. One thread per worker keeps the cores busy with real work. (Kernels inherit this.)
if os.environ.get("PYTEST_XDIST_WORKER"):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> torch.device:
    """Each device a ``dlcourse.gpu`` test runs on: ``cpu`` always; ``cuda`` (marker ``cuda``) where present.

    Torch is imported here, not at the top, so that test modules that never ask for a device
    (and the notebook workers) do not pay for it; without a CUDA device the cuda case is skipped
    with the reason, and ``-m "not cuda"`` deselects it.
    """
    torch = pytest.importorskip("torch")
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device (torch.cuda.is_available() is False)")
    return torch.device(request.param)
