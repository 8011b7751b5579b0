"""How long ``import dlcourse`` (and its light sub-packages) takes in a fresh interpreter.

Each measurement starts a new ``python`` process (so nothing is cached in ``sys.modules``) which
times the import with ``time.perf_counter`` and reports which heavy libraries it pulled in.
The median of ``--repeats`` runs is printed next to ``import numpy`` and ``import torch`` for
scale, with the ratio torch / module: how many times cheaper the import is than PyTorch's.

    python benchmarks/import_time.py [--quick] [--repeats N]

Exits 1 if a dlcourse import loaded torch, matplotlib or ipywidgets (a correctness failure,
not a timing one: no time limit is asserted).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "matplotlib", "ipywidgets", "sklearn", "nbgrader")
FORBIDDEN = ("torch", "matplotlib", "ipywidgets")  # DESIGN.md: `import dlcourse` must not load these

# Runs in the child: time the import, then list heavy modules that are now loaded.
CHILD = """
import json, sys, time
t0 = time.perf_counter()
try:
    import {module}
except ImportError as e:  # a sub-package that does not exist (yet) is reported, not fatal
    print(json.dumps({{"error": f"{{type(e).__name__}}: {{e}}"}}))
    raise SystemExit(0)
dt = time.perf_counter() - t0
print(json.dumps({{"seconds": dt, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""

MODULES = ("dlcourse", "dlcourse.ref", "dlcourse.checks", "dlcourse.data")
SCALE = ("numpy", "torch")


def time_import(module: str, repeats: int) -> dict:
    """Median in-process import time of ``module`` over fresh interpreters, plus the wall time of the whole process."""
    seconds, walls, heavy = [], [], set()
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD.format(module=module, heavy=HEAVY)],
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if "error" in result:
            return {"error": result["error"]}
        seconds.append(result["seconds"])
        heavy.update(result["heavy"])
    return {"seconds": statistics.median(seconds), "wall": statistics.median(walls), "heavy": sorted(heavy)}


def empty_interpreter(repeats: int) -> float:
    """Median wall time of ``python -c pass``: the start-up cost every import is added to."""
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs per module instead of 11")
    parser.add_argument("--repeats", type=int, default=None, help="runs per module (median is reported)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 11)

    baseline = empty_interpreter(repeats)
    results = {m: time_import(m, repeats) for m in (*MODULES, *SCALE)}
    torch_s = results["torch"].get("seconds")

    print(f"python {sys.version.split()[0]}, median of {repeats} fresh interpreters")
    print(f"empty interpreter (python -c pass): {baseline * 1e3:8.1f} ms wall")
    print(f"{'import':<18}{'import ms':>10}{'wall-base ms':>14}{'torch/this':>12}  heavy modules loaded")
    failed = False
    for module, r in results.items():
        if "error" in r:
            print(f"{module:<18}{'skipped':>10}  ({r['error']})")
            continue
        ratio = f"{torch_s / r['seconds']:11.1f}x" if torch_s and module != "torch" else f"{'':>12}"
        heavy = ", ".join(r["heavy"]) or "none"
        print(f"{module:<18}{r['seconds'] * 1e3:10.1f}{(r['wall'] - baseline) * 1e3:14.1f}{ratio}  {heavy}")
        if module.startswith("dlcourse") and set(r["heavy"]) & set(FORBIDDEN):
            failed = True
    if failed:
        print(f"FAIL: a dlcourse import above loaded one of {', '.join(FORBIDDEN)} (DESIGN.md, 'Lazy heavy imports')")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
