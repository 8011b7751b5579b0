"""Stalled widget cells: headless executions of 04-backprop's training dashboard, with and without the fix.

Each run is a fresh process that executes a notebook of ``--cells`` cells, each showing the
training dashboard (an ``Output`` widget that nbclient captures), through nbclient with a
``--cell-timeout``. A cell that takes the whole timeout although the kernel replied within
seconds is a stall (see :mod:`dlcourse.course.kernel`). Runs alternate between nbclient's default
kernel manager and dlcourse's ``GradingKernelManager``. Stalls need a loaded machine (a few in a
hundred cells at a load of 10+ on 2 cores; almost none on an idle one); nothing is asserted.

    python benchmarks/widget_stalls.py [--runs N] [--cells N] [--cell-timeout S]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SETUP = """import numpy as np, dlcourse
from dlcourse.data import spirals
from dlcourse.widgets.backprop import training_dashboard
dlcourse.setup(seed=0)
X, y = spirals(n_per_class=50, n_classes=3, noise=0.2, rng=0)"""
CELL = "training_dashboard(X, y, hidden=20, lr=1.0, steps=60, reg=1e-3)"


def one_run(cells: int, timeout: int, fixed: bool) -> None:
    """Execute the notebook once (in this process) and print one JSON line."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[new_code_cell(SETUP)] + [new_code_cell(CELL) for _ in range(cells)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    extra = {}
    if fixed:
        from dlcourse.course.kernel import GradingKernelManager

        extra["kernel_manager_class"] = GradingKernelManager
    client = NotebookClient(nb, timeout=timeout, interrupt_on_timeout=True, allow_errors=True,
                            kernel_name="python3", **extra)
    durations: list[float] = []
    execute = client.async_execute_cell

    async def timed(cell, cell_index, **kw):  # type: ignore[no-untyped-def]
        start = time.monotonic()
        try:
            return await execute(cell, cell_index, **kw)
        finally:
            durations.append(time.monotonic() - start)

    client.async_execute_cell = timed  # type: ignore[method-assign]
    client.execute()
    stalls = sum(1 for d in durations[1:] if d >= timeout - 0.5)
    print(json.dumps({"fixed": fixed, "stalls": stalls, "cells": len(durations) - 1,
                      "median_s": sorted(durations[1:])[len(durations[1:]) // 2]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per kernel manager")
    parser.add_argument("--cells", type=int, default=12)
    parser.add_argument("--cell-timeout", type=int, default=30)
    parser.add_argument("--one", choices=["fixed", "default"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.cells, args.cell_timeout, args.one == "fixed")
        return
    totals = {"default": [0, 0], "fixed": [0, 0]}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    for run in range(args.runs):
        for kind in ("default", "fixed"):
            out = subprocess.run(
                [sys.executable, __file__, "--one", kind, "--cells", str(args.cells), "--cell-timeout",
                 str(args.cell_timeout)], capture_output=True, text=True, env=env, check=True,
            ).stdout.strip().splitlines()[-1]
            result = json.loads(out)
            totals[kind][0] += result["stalls"]
            totals[kind][1] += result["cells"]
            print(f"run {run + 1} {kind:>7}: {result['stalls']} stalls in {result['cells']} widget cells "
                  f"(median cell {result['median_s']:.2f} s; load average {os.getloadavg()[0]:.1f})", flush=True)
    for kind, (stalls, cells) in totals.items():
        print(f"{kind:>7} kernel manager: {stalls} stalls in {cells} widget cells")


if __name__ == "__main__":
    main()
