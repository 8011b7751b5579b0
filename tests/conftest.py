"""Test-session settings shared by every test module."""

from __future__ import annotations

import os

# pytest-xdist runs one worker per core, and every notebook test starts a kernel in its worker.
# Left alone, each kernel's BLAS and PyTorch would start one thread per core as well, and their
# OpenMP threads spin-wait for work: on 2 cores, two kernels then run several times slower than
# one. One thread per worker keeps the cores busy with real work. (Kernels inherit this.)
if os.environ.get("PYTEST_XDIST_WORKER"):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
