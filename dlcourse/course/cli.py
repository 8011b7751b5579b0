"""The ``dlcourse`` command: release, validate, collect, autograde, similarity, feedback, export, doctor, lab.

Exit status: 0 when everything worked, 1 when a check or grading step failed, 2 for usage and
configuration errors. Results go to stdout, errors to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import dlcourse
from dlcourse.course.errors import EXIT_FAILURE, EXIT_USAGE, CourseError

if TYPE_CHECKING:  # the commands import what they need when they run, so `dlcourse --help` stays quick
    from dlcourse.course.results import SubmissionResult

__all__ = ["build_parser", "main", "summary_table"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dlcourse`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="dlcourse",
        description="Release, validate and autograde the dlcourse notebooks with nbgrader.",
    )
    parser.add_argument("--version", action="version", version=f"dlcourse {dlcourse.__version__}")
    root_help = (
        "course root (the folder holding nbgrader_config.py); default: found from the working directory"
    )
    parser.add_argument("--root", type=Path, default=None, help=root_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS, help=root_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "release", parents=[common], help="generate notebooks/ from solutions/ (all assignments by default)"
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="assignment, e.g. 01-intro")
    p = sub.add_parser(
        "validate",
        parents=[common],
        help="check that releases are current, solutions score full marks and blank releases score zero",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="assignment, e.g. 01-intro")
    p = sub.add_parser(
        "collect",
        parents=[common],
        help="import an LMS download (zip of notebooks) into submitted/<student>/NAME/",
    )
    p.add_argument("archive", type=Path, metavar="ARCHIVE.zip", help="the zip downloaded from Canvas, Moodle, ...")
    p.add_argument("--assignment", "-a", required=True, metavar="NAME", help="assignment the notebooks belong to")
    p.add_argument("--dry-run", action="store_true", help="report what would be collected, write nothing")
    p = sub.add_parser(
        "autograde", parents=[common], help="grade submitted/*/NAME/ in parallel and write a CSV of grades"
    )
    p.add_argument("name", metavar="NAME", help="assignment to grade")
    p.add_argument(
        "-j", "--jobs", type=int, default=None, metavar="N",
        help="submissions graded at the same time (default: DlcourseGrading.jobs, 1)",
    )
    p.add_argument(
        "--cell-timeout", type=float, default=None, metavar="S",
        help="seconds a cell may run before it is interrupted (default: ExecutePreprocessor.timeout)",
    )
    p.add_argument(
        "--time-limit", type=float, default=None, metavar="S",
        help="seconds one notebook may take in all (default: DlcourseGrading.notebook_time_limit)",
    )
    p.add_argument(
        "--memory-limit", type=int, default=None, metavar="MB",
        help="address-space limit of each kernel in MB, 0 for none (default: DlcourseGrading.memory_limit_mb)",
    )
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786) instead of "
        "local worker processes",
    )
    p.add_argument(
        "--student",
        action="append",
        dest="students",
        metavar="ID",
        help="grade only this student (repeatable)",
    )
    p.add_argument(
        "-o", "--output", type=Path, default=None, help="CSV file to write (default: <root>/grades.csv)"
    )
    p.add_argument(
        "--similarity", action="store_true",
        help="also write the similarity report (see `dlcourse similarity`); it never changes a score",
    )
    p = sub.add_parser(
        "similarity",
        parents=[common],
        help="compare submitted/*/NAME/ with dlcourse.ref and with each other: similarity/NAME.csv and .html",
    )
    p.add_argument("name", metavar="NAME", help="assignment")
    p.add_argument(
        "--threshold", type=float, default=None, metavar="F",
        help="report pairs sharing at least this fraction of one side's code (default: 0.5)",
    )
    p.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                   help="folder for the report (default: <root>/similarity)")
    p = sub.add_parser(
        "feedback", parents=[common], help="write feedback/<student>/NAME/*.html without hidden tests"
    )
    p.add_argument("name", metavar="NAME", help="assignment")
    p.add_argument("--student", action="append", dest="students", metavar="ID", help="only this student (repeatable)")
    p = sub.add_parser(
        "export", parents=[common], help="write the gradebook as a CSV for an LMS upload (per-cell points)"
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="assignments (default: all in the gradebook)")
    p.add_argument(
        "-o", "--output", type=Path, default=None, help="CSV file to write (default: <root>/grades-export.csv)"
    )
    sub.add_parser("doctor", help="print an environment report to paste into a help request")
    p = sub.add_parser(
        "lab",
        parents=[common],
        help="start JupyterLab on the course's notebooks/ as a student sees it (extra arguments go to jupyter lab)",
    )
    p.add_argument(
        "--instructor",
        action="store_true",
        help="open the course root with nbgrader's Formgrader and Create Assignment instead",
    )
    p.add_argument("lab_args", nargs=argparse.REMAINDER, metavar="ARGS", help="passed on to jupyter lab")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dlcourse`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if args.command == "lab":  # options meant for jupyter lab are not ours to reject
            args.lab_args = [*unknown, *args.lab_args]
        elif unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    try:
        return _COMMANDS[args.command](args, sys.stdout)
    except CourseError as exc:
        print(f"dlcourse {args.command}: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"dlcourse {args.command}: interrupted", file=sys.stderr)
        return 130


def _root(args: argparse.Namespace) -> Path:
    """The course root from ``--root`` (checked) or found from the working directory."""
    from dlcourse.course.config import CONFIG_FILENAME, find_course_root

    if args.root is None:
        return find_course_root()
    root = Path(args.root).resolve()
    if not (root / CONFIG_FILENAME).is_file():
        raise CourseError(f"--root {args.root}: no {CONFIG_FILENAME} there", exit_code=EXIT_USAGE)
    return root


def _release(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse release [NAME ...]``."""
    from dlcourse.course.release import release

    root = _root(args)
    for path in release(root, args.names):
        print(f"wrote {path.relative_to(root).as_posix()}", file=out)
    return 0


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse validate [NAME ...]``."""
    from dlcourse.course.validate import format_table, validate

    results = validate(_root(args), args.names)
    print(format_table(results), file=out)
    failed = [r for r in results if not r.ok]
    if failed:
        names = ", ".join(dict.fromkeys(f"{r.assignment} ({r.check})" for r in failed))
        print(f"dlcourse validate: {len(failed)} check(s) failed: {names}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _collect(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse collect ARCHIVE.zip --assignment NAME``: fail (1) when some file was not collected."""
    from dlcourse.course.collect import collect

    root = _root(args)
    report = collect(root, args.archive, args.assignment, dry_run=args.dry_run)
    verb = "would collect" if args.dry_run else "collected"
    for member, student, dest in report.collected:
        print(f"{verb} {member} -> {dest.relative_to(root).as_posix()}", file=out)
    print(
        f"{verb} {len(report.collected)} notebook(s) of {report.assignment} from "
        f"{len(report.students)} student(s)",
        file=out,
    )
    if report.unmatched:
        listed = "\n".join(f"  {member}: {why}" for member, why in report.unmatched)
        print(
            f"dlcourse collect: {len(report.unmatched)} file(s) in {args.archive} not collected:\n{listed}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def summary_table(results: Sequence[SubmissionResult]) -> str:
    """The autograde results as an aligned ``student  score  status  review`` table with a count line.

    ``review`` counts the submission's review reasons and shows the first (grades.csv has them all).
    """
    rows = [("student", "score", "status", "review")]
    for r in results:
        got, best = r.score, r.max_score
        score = f"{got:g}/{best:g}" if got is not None else f"-/{best:g}"
        review = r.review
        flag = f"{len(review)}: {review[0]}" if review else ""
        rows.append((r.student, score, r.status, flag))
    width_s = max(len(a) for a, _, _, _ in rows)
    width_p = max(len(b) for _, b, _, _ in rows)
    width_t = max(len(c) for _, _, c, _ in rows)
    lines = [f"{a:<{width_s}}  {b:>{width_p}}  {c:<{width_t}}  {d}".rstrip() for a, b, c, d in rows]
    graded = sum(1 for r in results if r.graded)
    flagged = sum(1 for r in results if r.review)
    lines.append(f"{graded} graded, {len(results) - graded} not graded, {len(results)} in all"
                 + (f"; {flagged} to review (see the review column of the CSV)" if flagged else ""))
    bare = sorted({r.sandbox for r in results if r.unsandboxed})
    if bare:  # said only when it matters: student code ran with the grader's own permissions
        lines.append(
            f"sandbox: {'; '.join(bare)}: WARNING: student code ran unsandboxed, with your permissions "
            "(install bubblewrap; set DlcourseGrading.require_sandbox to refuse)"
        )
    return "\n".join(lines)


def _autograde(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse autograde NAME``: grade, write the CSV, then fail if any submission was not graded."""
    from dlcourse.course.export import write_grades_csv
    from dlcourse.course.parallel import autograde

    root = _root(args)
    results = autograde(
        root,
        args.name,
        args.students,
        jobs=args.jobs,
        cell_timeout=args.cell_timeout,
        notebook_time_limit=args.time_limit,
        memory_limit_mb=args.memory_limit,
        scheduler=args.scheduler,
    )
    if not results:
        raise CourseError(f"no submissions of {args.name} in submitted/*/{args.name}/")
    csv_path = write_grades_csv(results, args.output if args.output is not None else root / "grades.csv")
    print(summary_table(results), file=out)
    print(f"wrote {csv_path}", file=out)
    if args.similarity:
        from dlcourse.course.similarity import similarity

        report = similarity(root, args.name)
        print(f"wrote {report.csv} and {report.html} ({len(report.pairs)} pair(s) above the threshold)", file=out)
    bad = [r for r in results if not r.graded]
    if bad:
        listed = "\n".join(f"  {r.student}: {r.status}" for r in bad)
        print(
            f"dlcourse autograde: {len(bad)} of {len(results)} submission(s) of {args.name} not graded "
            f"(they have no score in {csv_path.name}):\n{listed}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def _similarity(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse similarity NAME``: the report; never changes a score."""
    from dlcourse.course.similarity import DEFAULT_THRESHOLD, similarity

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if not 0 < threshold <= 1:
        raise CourseError(f"--threshold must be in (0, 1], got {threshold}", exit_code=EXIT_USAGE)
    report = similarity(_root(args), args.name, threshold=threshold, out_dir=args.output)
    for p in report.pairs:
        print(f"{p.share:4.0%}  {p.a} ~ {p.b}  ({p.tokens} tokens)", file=out)
    print(f"wrote {report.csv} and {report.html} ({len(report.pairs)} pair(s) above {threshold:g})", file=out)
    return 0


def _feedback(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse feedback NAME``."""
    from dlcourse.course.feedback import feedback

    root = _root(args)
    for path in feedback(root, args.name, args.students):
        print(f"wrote {path.relative_to(root).as_posix()}", file=out)
    return 0


def _export(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse export [NAME ...]``."""
    from dlcourse.course.export import export_grades

    path = export_grades(_root(args), args.names, args.output)
    print(f"wrote {path}", file=out)
    return 0


def _doctor(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse doctor``."""
    from dlcourse.environment import doctor

    doctor(file=out)
    return 0


def _lab(args: argparse.Namespace, out: TextIO) -> int:
    """``dlcourse lab [--instructor] [ARGS ...]``: replace this process with JupyterLab."""
    from dlcourse.course.config import find_course_root
    from dlcourse.course.lab import instructor_lab, start_lab, student_lab

    root = Path(args.root).resolve() if args.root is not None else find_course_root()
    launch = (instructor_lab if args.instructor else student_lab)(root, args.lab_args)
    for note in launch.notes:
        print(f"dlcourse lab: {note}", file=out)
    out.flush()
    start_lab(launch)
    return 0  # only reached when start_lab is replaced (tests)


_COMMANDS = {
    "release": _release,
    "validate": _validate,
    "collect": _collect,
    "autograde": _autograde,
    "similarity": _similarity,
    "feedback": _feedback,
    "export": _export,
    "doctor": _doctor,
    "lab": _lab,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
