"""Grading throughput: a synthetic class of 04-backprop submissions, autograded with 1 and 2 workers.

Builds a throwaway course (this repository's ``nbgrader_config.py`` and ``solutions/04-backprop``)
and a class of ``--submissions`` students (default 30) in fixed proportions:

- 40 % correct (the instructor notebook, submitted as a student: full marks);
- 27 % wrong (the solution with one function replaced by a known mistake: relu's mask ``>= 0``,
  sigmoid without ``dout``, a softmax loss summed instead of averaged, ``db`` not summed);
- 20 % blank (the release, untouched: every exercise raises ``NotImplementedError``);
- 13 % hostile (an infinite loop after a correct definition, a shortcut through ``dlcourse.ref``,
  warnings to stderr in a student function, corrupt JSON).

Then ``dlcourse.course.autograde`` grades the whole class with ``--jobs 1``, again, from an
empty gradebook, with ``--jobs 2``, and once more on a local Dask cluster of two single-threaded
worker processes (``--scheduler``, as a real cluster is used; target: within 10 % of ``--jobs 2``). Printed: wall time, submissions per minute, the speed-up, and
the grading overhead per submission beyond executing the notebook: the serial run's time per
submission minus the time nbclient alone takes to execute the same submitted notebook (for
``--baseline`` submissions of different kinds, each executed, graded on its own and executed again,
back to back, so that each pair shares the machine's load of the moment), and the sandbox's
overhead per submission: the same submission graded with the bubblewrap sandbox and without
(``DlcourseGrading.sandbox = False``), back to back. Every kernel gets one BLAS/OpenMP thread, as
autograde's do. Nothing is asserted; on a shared machine run it twice and trust what holds in
both runs (the load average is printed next to each figure).

    python benchmarks/grading.py [--quick] [--submissions N] [--cell-timeout S] [--baseline N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NAME = "04-backprop"

WRONG = {
    "relu_ge_zero": ("activations-solution", "def relu_backward(dout, cache):\n    return dout * (cache >= 0)\n"),
    "sigmoid_no_dout": (
        "activations-solution",
        "def sigmoid_backward(dout, cache):\n    return cache * (1 - cache)\n",
    ),
    "softmax_sum": (
        "softmax-ce-solution",
        "def softmax_cross_entropy(scores, y):\n"
        "    z = scores - scores.max(axis=1, keepdims=True)\n"
        "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
        "    loss = -np.log(p[np.arange(len(y)), y]).sum()\n"
        "    d = p.copy()\n    d[np.arange(len(y)), y] -= 1\n    return loss, d\n",
    ),
    "db_not_summed": (
        "affine-backward-solution",
        "_right_affine_backward = affine_backward\n\n"
        "def affine_backward(dout, cache):\n"
        "    dx, dw, db = _right_affine_backward(dout, cache)\n    return dx, dw, dout\n",
    ),
}
HOSTILE = {
    "loop_after_definition": ("affine-forward-solution", "while True:\n    pass\n"),
    "shortcut": (
        "affine-forward-solution",
        "from dlcourse.ref import affine_forward as _key\n\ndef affine_forward(x, w, b):\n    return _key(x, w, b)\n",
    ),
    "stderr": (
        "affine-forward-solution",
        "import sys\n_af = affine_forward\n\ndef affine_forward(x, w, b):\n"
        "    print('debugging affine_forward', file=sys.stderr)\n    return _af(x, w, b)\n",
    ),
}


def _append(nb: Any, cell_id: str, code: str) -> Any:
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            cell.source = str(cell.source) + "\n\n" + code
            return nb
    raise KeyError(cell_id)


def build_class(root: Path, n: int) -> dict[str, str]:
    """The course at ``root`` and ``n`` submissions; returns ``{student: kind}``."""
    import nbformat

    from dlcourse.course import release

    root.mkdir(parents=True)
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions" / NAME, root / "solutions" / NAME)
    release(root, [NAME])
    solution = root / "solutions" / NAME / f"{NAME}.ipynb"
    blank = root / "notebooks" / NAME / f"{NAME}.ipynb"
    n_correct, n_wrong, n_blank = round(0.4 * n), round(0.27 * n), round(0.2 * n)
    kinds = ["correct"] * n_correct + ["wrong"] * n_wrong + ["blank"] * n_blank
    kinds += ["hostile"] * (n - len(kinds))
    students: dict[str, str] = {}
    hostile_kinds = ["loop_after_definition", "shortcut", "stderr", "corrupt"]
    for i, kind in enumerate(kinds):
        student = f"s{i:03d}-{kind}"
        variant = ""
        if kind == "wrong":
            variant = list(WRONG)[i % len(WRONG)]
        elif kind == "hostile":
            variant = hostile_kinds[i % len(hostile_kinds)]
        if variant:
            student += f"-{variant}"
        folder = root / "submitted" / student / NAME
        folder.mkdir(parents=True)
        dest = folder / f"{NAME}.ipynb"
        students[student] = kind
        if kind == "correct":
            shutil.copyfile(solution, dest)
        elif kind == "blank":
            shutil.copyfile(blank, dest)
        elif variant == "corrupt":
            dest.write_text('{"cells": [', encoding="utf-8")
        else:
            cell_id, code = (WRONG if kind == "wrong" else HOSTILE)[variant]
            nbformat.write(_append(nbformat.read(str(solution), as_version=4), cell_id, code), str(dest))
    return students


def reset(root: Path) -> None:
    """Forget every grade: gradebook, autograded notebooks, status file."""
    (root / "gradebook.db").unlink(missing_ok=True)
    shutil.rmtree(root / "autograded", ignore_errors=True)


def grade(
    root: Path, jobs: int, cell_timeout: float, only: list[str] | None = None, scheduler: str | None = None
) -> tuple[float, list[tuple[str, float]], list[Any]]:
    """Wall time of one autograde run, the completion time of each submission, the results."""
    from dlcourse.course import autograde

    done: list[tuple[str, float]] = []
    start = time.perf_counter()

    def progress(result: Any) -> None:
        done.append((result.student, time.perf_counter() - start))

    results = autograde(
        root, NAME, only, jobs=jobs, cell_timeout=cell_timeout, scheduler=scheduler, progress=progress
    )
    return time.perf_counter() - start, done, results


def set_sandbox(root: Path, on: bool) -> None:
    """Turn the sandbox on or off in the course's ``nbgrader_config.py`` (the last line wins)."""
    path = root / "nbgrader_config.py"
    lines = [line for line in path.read_text().splitlines() if not line.startswith("c.DlcourseGrading.sandbox ")]
    path.write_text("\n".join([*lines, f"c.DlcourseGrading.sandbox = {on}", ""]))


def dask_cluster(workers: int) -> Any:
    """A local Dask cluster of ``workers`` single-threaded worker processes, or None without Dask."""
    try:
        from distributed import LocalCluster
    except ImportError:
        return None
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and every finished descendant (workers, kernels)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def plain_execution(path: Path, cell_timeout: float) -> float:
    """Seconds nbclient alone takes to execute the notebook at ``path`` (errors allowed)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=int(cell_timeout),
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    ).execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10 submissions, 3 overhead pairs")
    parser.add_argument("--cell-timeout", type=float, default=10.0)
    parser.add_argument("--baseline", type=int, default=3, help="overhead pairs (nbclient alone vs graded)")
    args = parser.parse_args()
    # autograde's kernels run with one BLAS/OpenMP thread; the nbclient baseline gets the same
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    n = 10 if args.quick else args.submissions
    n_base = 3 if args.quick else args.baseline
    scratch = Path(tempfile.mkdtemp(prefix="dlcourse-bench-"))
    try:
        root = scratch / "course"
        t0 = time.perf_counter()
        students = build_class(root, n)
        print(f"class of {n} submissions of {NAME} built in {time.perf_counter() - t0:.1f} s "
              f"({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f})")
        runs = {}
        for jobs in (1, 2):
            reset(root)
            cpu = cpu_seconds()
            wall, done, results = grade(root, jobs, args.cell_timeout)
            cpu = cpu_seconds() - cpu
            runs[jobs] = (wall, done, results, cpu)
            graded = sum(r.graded for r in results)
            print(f"jobs={jobs}: {wall:6.1f} s  {n / wall * 60:5.1f} submissions/min  "
                  f"({graded} graded, {n - graded} not graded; load average {os.getloadavg()[0]:.2f}); "
                  f"CPU {cpu:6.1f} s = {cpu / n:.2f} s per submission, {cpu / wall:.2f} cores obtained")
        speedup = runs[1][0] / runs[2][0]
        print(f"speed-up with 2 workers: {speedup:.2f}x (target >= 1.8x)")
        cluster = dask_cluster(2)
        if cluster is None:
            print("dask: not installed (pip install 'dask[distributed]')")
        else:
            try:
                reset(root)
                cpu = cpu_seconds()
                wall, done, results = grade(root, 2, args.cell_timeout, scheduler=cluster.scheduler_address)
                cpu = cpu_seconds() - cpu
                graded = sum(r.graded for r in results)
                print(f"dask, 2 workers: {wall:6.1f} s  {n / wall * 60:5.1f} submissions/min  "
                      f"({graded} graded, {n - graded} not graded; load average {os.getloadavg()[0]:.2f}); "
                      f"{wall / runs[2][0]:.2f}x the time of jobs=2 (target <= 1.10x)")
                same = {r.student: (r.score, r.status) for r in results} == {
                    r.student: (r.score, r.status) for r in runs[2][2]
                }
                print(f"dask scores and statuses equal to jobs=2: {same}")
            finally:
                cluster.close()
        print(f"sandbox: {next((r.sandbox for r in runs[1][2] if r.sandbox), '(none reported)')}")
        # on 2 idle cores one worker keeps about one core busy and two keep two busy: the speed-up
        # is then bounded by 2 x (CPU work with 1 worker) / (CPU work with 2 workers)
        ratio = runs[2][3] / runs[1][3]
        print(f"CPU work, 2 workers / 1 worker: {ratio:.2f} (1.00: parallel grading adds no work); "
              f"cores obtained {runs[1][3] / runs[1][0]:.2f} and {runs[2][3] / runs[2][0]:.2f}; "
              f"bound for 2 idle cores: {2 / ratio:.2f}x")

        # overhead: the same submission executed by nbclient alone, graded alone, and executed again,
        # back to back (the machine's load drifts over minutes; pairs taken together share it)
        wall1, done1, results1, _ = runs[1]
        by_student = {r.student: r for r in results1}
        first_graded = next(t for s, t in done1 if by_student[s].graded)
        print(f"first submission of the serial run (gradebook sync + template + first kernel): {first_graded:.1f} s")
        picked = [
            next(s for s in sorted(students) if students[s] == kind)
            for kind in ("correct", "wrong", "blank", "correct", "wrong", "blank")[: max(1, n_base)]
            if any(students[s] == kind for s in students)
        ]
        picked = list(dict.fromkeys(picked))
        overheads = []
        for student in picked:
            notebook = root / "submitted" / student / NAME / f"{NAME}.ipynb"
            before = plain_execution(notebook, args.cell_timeout)
            reset(root)
            # the first submission of a run also pays for the gradebook sync and the template
            warm = next(s for s in sorted(students) if students[s] == "correct" and s != student)
            _, done, _ = grade(root, 1, args.cell_timeout, [warm, student])
            graded = done[1][1] - done[0][1]
            after = plain_execution(notebook, args.cell_timeout)
            overheads.append(graded - (before + after) / 2)
            print(f"  {student:<40} nbclient {before:5.2f} / {after:5.2f} s, graded in {graded:5.2f} s "
                  f"-> overhead {overheads[-1]:5.2f} s")
        print(f"overhead per submission beyond executing the notebook: median {statistics.median(overheads):.2f} s "
              f"(mean {statistics.mean(overheads):.2f} s, {len(overheads)} pairs)")
        # the sandbox's own cost: the same submission graded in it and without it, back to back
        sandboxed = []
        for student in picked:
            warm = next(s for s in sorted(students) if students[s] == "correct" and s != student)
            times = {}
            for on in (True, False):
                set_sandbox(root, on)
                reset(root)
                _, done, results = grade(root, 1, args.cell_timeout, [warm, student])
                times[on] = done[1][1] - done[0][1]
            sandboxed.append(times[True] - times[False])
            print(f"  {student:<40} sandboxed {times[True]:5.2f} s, unsandboxed {times[False]:5.2f} s "
                  f"-> sandbox overhead {sandboxed[-1]:5.2f} s")
        set_sandbox(root, True)
        print(f"sandbox overhead per submission: median {statistics.median(sandboxed):.2f} s "
              f"(mean {statistics.mean(sandboxed):.2f} s, {len(sandboxed)} pairs)")
        print("outcomes (jobs=2):")
        for r in runs[2][2]:
            score = f"{r.score:g}/{r.max_score:g}" if r.score is not None else f"-/{r.max_score:g}"
            print(f"  {r.student:<40} {score:>7}  {r.status[:90]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
