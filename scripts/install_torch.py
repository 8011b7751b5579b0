#!/usr/bin/env python3
"""Install PyTorch into the running interpreter without pulling CUDA wheels onto a CPU-only machine.

A plain ``pip install torch`` on Linux downloads the CUDA build (several GB of nvidia-* wheels)
even where no GPU exists. This script:

- does nothing when torch is already importable (Colab, a GPU workstation, a second run);
- installs the default build from PyPI on macOS (CPU/MPS wheels) and where ``nvidia-smi`` finds
  a GPU (the CUDA build is then what you want);
- otherwise installs the CPU build from PyTorch's CPU index, pinned to ``DLCOURSE_TORCH``
  (default below) so that a pip configuration with a local wheel of that version uses it.

Offline, or behind a firewall that lets only PyPI through, pip would retry the CPU index five
times per request (about 50 warnings and two minutes) before giving up on it. The index is
therefore probed once, with a short timeout; when it cannot be reached, the script says so in
one line and installs the same version from whatever pip can reach (a local wheel, a mirror,
PyPI). ``DLCOURSE_TORCH_INDEX`` replaces the CPU index's address (a mirror; the tests use it).

Usage: ``python scripts/install_torch.py [--dry-run]``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

DEFAULT_CPU_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MIN_VERSION = "2.2"
#: Seconds the one probe of the CPU index may take.
PROBE_TIMEOUT = 5.0
#: pip's network settings: one retry and 15 s per request instead of its 5 retries (and whatever
#: PIP_DEFAULT_TIMEOUT says), so an index that stops answering costs seconds, not minutes.
PIP_NETWORK = ["--retries", "1", "--timeout", "15"]


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


@functools.lru_cache(maxsize=1)
def has_nvidia_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def cpu_index() -> str:
    """The CPU index's address: ``DLCOURSE_TORCH_INDEX`` or PyTorch's."""
    return os.environ.get("DLCOURSE_TORCH_INDEX", CPU_INDEX).rstrip("/")


def wants_cpu_build() -> bool:
    """True on Linux and Windows without an NVIDIA GPU: the default wheel there would be CUDA's."""
    return not (platform.system() == "Darwin" or has_nvidia_gpu())


def probe_index(url: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why ``url``'s torch page cannot be reached within ``timeout`` seconds, or None when it can."""
    request = urllib.request.Request(f"{url}/torch/", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError:  # the server answered (a mirror may refuse HEAD): pip can talk to it
        return None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return str(reason) or type(reason).__name__


def pip_command(cpu_index_reachable: bool = True) -> list[str]:
    """The pip arguments that install the right build here."""
    pip = [sys.executable, "-m", "pip", "install", "--progress-bar", "off", *PIP_NETWORK]
    if not wants_cpu_build():
        return pip + [f"torch>={MIN_VERSION}"]
    version = os.environ.get("DLCOURSE_TORCH", DEFAULT_CPU_VERSION)
    if not cpu_index_reachable:
        return pip + [f"torch=={version}"]
    return pip + [f"torch=={version}", "--index-url", cpu_index()]


def fallback_note(index: str, reason: str, version: str) -> str:
    """The one line said when the CPU index is unreachable."""
    cuda = " (on Linux, PyPI's torch is the CUDA build: several GB)" if platform.system() == "Linux" else ""
    return (
        f"install_torch: PyTorch's CPU index {index} is unreachable ({reason}); installing torch=={version} "
        f"from what pip can reach instead: a local wheel, a mirror or PyPI{cuda}."
    )


def main(argv: list[str]) -> int:
    if torch_installed():
        print("install_torch: torch is already installed; leaving it as it is.")
        return 0
    reachable = True
    if wants_cpu_build():
        reason = probe_index(cpu_index())
        if reason is not None:
            reachable = False
            version = os.environ.get("DLCOURSE_TORCH", DEFAULT_CPU_VERSION)
            print(fallback_note(cpu_index(), reason, version), flush=True)
    cmd = pip_command(reachable)
    print("install_torch:", " ".join(cmd[1:]), flush=True)
    if "--dry-run" in argv:
        return 0
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
