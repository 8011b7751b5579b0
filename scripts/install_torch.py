#!/usr/bin/env python3
"""Install PyTorch into the running interpreter without pulling CUDA wheels onto a CPU-only machine.

A plain ``pip install torch`` on Linux downloads the CUDA build (several GB of nvidia-* wheels)
even where no GPU exists. This script:

- does nothing when torch is already importable (Colab, a GPU workstation, a second run);
- installs the default build from PyPI on macOS (CPU/MPS wheels) and where ``nvidia-smi`` finds
  a GPU (the CUDA build is then what you want);
- otherwise installs the CPU build from PyTorch's CPU index, pinned to ``DLCOURSE_TORCH``
  (default below) so that a pip configuration with a local wheel of that version uses it.

Usage: ``python scripts/install_torch.py [--dry-run]``.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys

DEFAULT_CPU_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MIN_VERSION = "2.2"


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def has_nvidia_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def pip_command() -> list[str]:
    """The pip arguments that install the right build here."""
    pip = [sys.executable, "-m", "pip", "install", "--progress-bar", "off"]
    if platform.system() == "Darwin" or has_nvidia_gpu():
        return pip + [f"torch>={MIN_VERSION}"]
    version = os.environ.get("DLCOURSE_TORCH", DEFAULT_CPU_VERSION)
    return pip + [f"torch=={version}", "--index-url", CPU_INDEX]


def main(argv: list[str]) -> int:
    if torch_installed():
        print("install_torch: torch is already installed; leaving it as it is.")
        return 0
    cmd = pip_command()
    print("install_torch:", " ".join(cmd[1:]))
    if "--dry-run" in argv:
        return 0
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
