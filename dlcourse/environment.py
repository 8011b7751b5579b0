"""The environment report behind ``dlcourse.doctor()`` and ``dlcourse doctor``.

One ``key: value`` line per fact a helper needs to answer "it does not work on my machine":
versions, whether PyTorch sees a GPU, and whether the JupyterLab extensions that widgets and
nbgrader need are enabled. Nothing here may crash: a missing or broken package is reported,
not raised. Heavy packages (torch) are imported only when the report is made.
"""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from typing import Any, TextIO

from dlcourse.ansi import strip_ansi

__all__ = ["LAB_EXTENSIONS", "doctor", "environment_report", "lab_extension_status", "parse_lab_extensions"]

NOT_INSTALLED = "not installed"
UNKNOWN = "unknown"

#: Report key -> the JupyterLab extension it stands for.
LAB_EXTENSIONS = {
    "widgets lab extension": "@jupyter-widgets/jupyterlab-manager",
    "nbgrader lab extension": "@jupyter/nbgrader",
}


def package_version(distribution: str) -> str:
    """The installed version of ``distribution``, or ``not installed`` (the package is not imported)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return NOT_INSTALLED


def torch_report() -> dict[str, str]:
    """PyTorch's version and what it knows about CUDA; imports torch, so call it only when needed."""
    try:
        import torch
    except ImportError:
        return {
            "torch": NOT_INSTALLED,
            "cuda available": "no (torch not installed)",
            "cuda device": "none",
            "cuda version": "none",
        }
    except Exception as exc:  # a broken install (missing shared library) must still give a report
        return {
            "torch": f"broken ({type(exc).__name__}: {exc})",
            "cuda available": UNKNOWN,
            "cuda device": UNKNOWN,
            "cuda version": UNKNOWN,
        }
    cuda_version = getattr(torch.version, "cuda", None) or "none (CPU-only build)"
    try:
        available = bool(torch.cuda.is_available())
        device = torch.cuda.get_device_name(0) if available else "none"
    except Exception as exc:  # driver problems surface here
        return {
            "torch": torch.__version__,
            "cuda available": f"error ({exc})",
            "cuda device": UNKNOWN,
            "cuda version": cuda_version,
        }
    return {
        "torch": str(torch.__version__),
        "cuda available": "yes" if available else "no",
        "cuda device": device,
        "cuda version": cuda_version,
    }


def parse_lab_extensions(text: str) -> dict[str, str]:
    """Parse ``jupyter labextension list`` output into ``{extension name: "enabled"|"disabled"|...}``.

    Lines look like ``@jupyter/nbgrader v0.9.6 enabled OK`` (colours stripped); an ``X`` instead
    of ``OK`` means JupyterLab found a problem with the extension.
    """
    found = {}
    for raw in strip_ansi(text).splitlines():
        parts = raw.split()
        if len(parts) < 3 or not parts[1].startswith("v"):
            continue
        state = "enabled" if "enabled" in parts else "disabled" if "disabled" in parts else UNKNOWN
        if "X" in parts[2:]:
            state += " (with problems: run `jupyter labextension list`)"
        found[parts[0]] = state
    return found


def lab_extension_status(timeout: float = 60.0) -> dict[str, str]:
    """The state of each of :data:`LAB_EXTENSIONS`, ``unknown`` when JupyterLab cannot be asked."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "jupyter", "labextension", "list"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return dict.fromkeys(LAB_EXTENSIONS, UNKNOWN)
    if proc.returncode != 0:
        return dict.fromkeys(LAB_EXTENSIONS, UNKNOWN)
    states = parse_lab_extensions(proc.stdout + "\n" + proc.stderr)
    return {key: states.get(name, NOT_INSTALLED) for key, name in LAB_EXTENSIONS.items()}


def environment_report() -> dict[str, str]:
    """Every fact of the report, as strings, in the order it is printed."""
    from dlcourse.version import __version__

    report = {
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "dlcourse": __version__,
        "numpy": package_version("numpy"),
    }
    report.update(torch_report())
    for key, dist in [
        ("matplotlib", "matplotlib"),
        ("ipywidgets", "ipywidgets"),
        ("jupyterlab", "jupyterlab"),
        ("nbgrader", "nbgrader"),
        ("jupyterlab_widgets", "jupyterlab_widgets"),
    ]:
        report[key] = package_version(dist)
    report.update(lab_extension_status())
    return report


def doctor(*, file: TextIO | Any = None) -> dict[str, str]:
    """Print the report as ``key: value`` lines (to ``file``, default stdout) and return it."""
    report = environment_report()
    out = sys.stdout if file is None else file
    for key, value in report.items():
        print(f"{key}: {value}", file=out)
    return report
