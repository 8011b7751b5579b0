"""The first program inside a submission's sandbox: set resource limits, drop root, then exec the kernel.

Run by path (``python -I .../sandbox_launcher.py``) so that it imports nothing of dlcourse and
starts in a few milliseconds. Usage::

    sandbox_launcher.py [--as BYTES] [--nproc N] [--fsize BYTES] [--cpu SECONDS] [--uid UID] -- KERNEL ARGV...

Every limit is set as both the soft and the hard limit, so the student's code cannot raise it
again. ``--uid`` (given only when the grader runs as root, see :mod:`dlcourse.course.sandbox`)
switches to that unprivileged user and group before the kernel starts: the kernel then has no
capabilities, and the process limit (which Linux never applies to root) counts only the
processes of this sandbox.
"""

from __future__ import annotations

import os
import resource
import sys

__all__ = ["main"]

_LIMITS = {
    "--as": resource.RLIMIT_AS,
    "--nproc": resource.RLIMIT_NPROC,
    "--fsize": resource.RLIMIT_FSIZE,
    "--cpu": resource.RLIMIT_CPU,
}


def main(argv: list[str]) -> None:
    """Apply the options in ``argv`` and replace this process with the command after ``--``."""
    if "--" not in argv:
        raise SystemExit("sandbox_launcher: expected options, then -- and the kernel's command line")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    if len(options) % 2 or not command:
        raise SystemExit(f"sandbox_launcher: bad arguments {argv!r}")
    uid = None
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing kernel must not dump GBs of core
    for flag, value in zip(options[::2], options[1::2]):
        if flag == "--uid":
            uid = int(value)
        elif flag in _LIMITS:
            resource.setrlimit(_LIMITS[flag], (int(value), int(value)))
        else:
            raise SystemExit(f"sandbox_launcher: unknown option {flag}")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        try:  # a real switch leaves no way back to root; refuse to run the kernel otherwise
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise SystemExit("sandbox_launcher: could not drop root privileges")
    os.umask(0o077)
    if os.environ.get("HOME"):
        os.makedirs(os.environ["HOME"], exist_ok=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
