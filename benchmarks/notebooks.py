"""Execution time and peak memory of every solution notebook, against the course's budgets.

Each notebook runs in a fresh kernel, started by a fresh Python process; after the kernel has
exited, that process reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak resident memory
of the kernel (its largest reaped child). Budgets (DESIGN.md): 60 s and 1.5 GB per notebook on
2 CPU cores.

    python benchmarks/notebooks.py [NAME ...] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 60.0
BUDGET_MB = 1536.0

# Runs inside a child process so that RUSAGE_CHILDREN covers exactly one kernel.
_RUNNER = r"""
import json, resource, subprocess, sys, tempfile, time
import nbformat
from nbclient import NotebookClient
from dlcourse.course.kernel import GradingKernelManager  # no stalled widget replies (see its docstring)
nb = nbformat.read(sys.argv[1], as_version=4)
with tempfile.TemporaryDirectory() as tmp:
    client = NotebookClient(nb, timeout=600, allow_errors=False, resources={"metadata": {"path": tmp}},
                            kernel_manager_class=GradingKernelManager)
    start = time.perf_counter()
    client.execute(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux reports KiB
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))
"""


def measure(notebook: Path) -> dict[str, float]:
    """Execute ``notebook`` once; returns seconds (kernel start included) and the kernel's peak MB."""
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(notebook)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{notebook.name} failed to execute:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="lectures to run (default: all in solutions/)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per notebook; the median is printed")
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry; same as --repeats 1")
    args = parser.parse_args(argv)
    names = args.names or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    print(f"{'notebook':28s} {'seconds':>8s} {'budget':>7s} {'peak MB':>8s} {'budget':>7s}")
    over = 0
    for name in names:
        runs = [measure(ROOT / "solutions" / name / f"{name}.ipynb") for _ in range(max(1, args.repeats))]
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        ok_t, ok_m = seconds <= BUDGET_S, peak <= BUDGET_MB
        over += (not ok_t) + (not ok_m)
        print(f"{name:28s} {seconds:8.1f} {'ok' if ok_t else 'OVER':>7s} {peak:8.0f} {'ok' if ok_m else 'OVER':>7s}")
    print(f"budgets: {BUDGET_S:.0f} s and {BUDGET_MB:.0f} MB per notebook (2 CPU cores); {over} over budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
