"""Run every submission's kernel in a bubblewrap sandbox.

nbgrader executes a student's notebook in a Jupyter kernel started by the grader. Here that kernel
is started by :class:`SandboxKernelManager` inside `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, the sandbox Flatpak uses; Debian/Ubuntu package ``bubblewrap``): a throwaway mount
namespace whose root is empty except for what the kernel needs, read-only:

- the system (``/usr``, ``/lib*``, ``/bin``, a short list of ``/etc`` files), the Python
  installation and its site-packages, the ``dlcourse`` package and the data cache;
- *not* the grader's home, the course folder (other students' submissions, the gradebook, the
  solutions), the grader's ``/tmp`` or its environment variables (only a short allow-list passes).

Writable: a fresh copy of the submission's working folder (mounted where nbgrader expects it, so
nothing the student's code writes reaches the folder nbgrader later writes the autograded notebook
into: a planted symlink there would make the grader write through it) and a private, size-limited
``/tmp``. No network: the sandbox has a network namespace of its own with only a loopback nobody
listens on. A PID namespace ends every process the kernel started when the kernel ends.

The kernel talks to the grader over ZeroMQ. Over TCP that would need the grader's network, so the
kernel manager switches the connection to ZeroMQ's ``ipc`` transport: Unix sockets in a small
runtime folder that is bound into the sandbox, which cross network namespaces as files do.
Interrupts (nbgrader's per-cell timeout) go over the control channel (``interrupt_request``),
because the process the grader started is ``bwrap``, not the kernel.

Resource limits are set by :mod:`dlcourse.course.sandbox_launcher` inside the sandbox, on top
of nbgrader's cell timeout and dlcourse's per-notebook time limit: address space (the memory
limit), processes (a fork bomb), file size (a multi-GB file; ``/tmp`` has the same size) and CPU
time. Linux never applies the process limit to root, so a grader running as root (a container, CI)
runs the kernel as an unprivileged user id of its own, picked per sandbox (no user namespace
needed: root may switch to any id); other graders run it under their own id inside a user
namespace, which makes the process count per sandbox as well.

Where ``bwrap`` is missing or cannot create namespaces (macOS; a host with user namespaces off),
:func:`detect_sandbox` says so and grading runs unsandboxed, reported as ``sandbox: none``;
``c.DlcourseGrading.require_sandbox = True`` refuses to grade then.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Integer, List, Unicode

from dlcourse.course.errors import CourseError
from dlcourse.course.kernel import GradingKernelManager, grading_preprocessors
from dlcourse.course.results import NO_SANDBOX

__all__ = [
    "NO_SANDBOX",
    "SandboxInfo",
    "SandboxKernelManager",
    "SandboxLimits",
    "bwrap_command",
    "detect_sandbox",
    "sandbox_config",
]


#: Namespaces every sandbox gets. As root, no user namespace: the launcher switches to an
#: unprivileged id instead (see the module docstring); otherwise bwrap needs one to work at all.
_NAMESPACES_ROOT = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
_NAMESPACES_USER = ["--unshare-all", "--disable-userns"]

#: System folders bound read-only (or re-created as the same symlink, on merged-/usr systems).
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: What of /etc a Python kernel reads: the dynamic loader's cache, time zone, TLS roots, fonts,
#: user names (getpass, matplotlib). Not /etc as a whole: it may hold secrets (/etc/shadow is
#: readable by a root-owned process, and some hosts keep credentials there).
_ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "ssl", "ca-certificates",
    "fonts", "alternatives", "mime.types", "nsswitch.conf", "passwd", "group", "hosts",
)
#: Environment variables the kernel keeps (by name, or by prefix ending in ``_``); the rest of the
#: grader's environment (tokens, SSH agent, proxies) stays outside.
_ENV_NAMES = {"PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "MPLBACKEND", "CUDA_VISIBLE_DEVICES"}
_ENV_PREFIXES = ("LC_", "NBGRADER_", "DLCOURSE_", "OMP_", "OPENBLAS_", "MKL_")

#: First user id of the per-sandbox ids a root grader runs kernels as: far above any real
#: account (login ids start at 1000; ``nobody`` is 65534) and below the 32-bit sentinel.
_ROOT_SANDBOX_UID_BASE = 0x40000000
_ids = itertools.count()
#: How long an interrupt waits for the kernel to acknowledge it (ms).
_INTERRUPT_REPLY_MS = 5000


@dataclass(frozen=True)
class SandboxInfo:
    """Whether submissions run sandboxed: ``kind`` is ``"bubblewrap"`` or ``"none"``.

    ``detail`` is bubblewrap's version, or why there is no sandbox (one line).
    """

    kind: str
    detail: str

    @property
    def available(self) -> bool:
        """Whether kernels can run in the sandbox."""
        return self.kind != NO_SANDBOX

    @property
    def label(self) -> str:
        """What summaries, ``grades.csv`` and logs print after ``sandbox:``."""
        return f"{self.kind} {self.detail}" if self.available else f"{NO_SANDBOX} ({self.detail})"


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed kernel; 0 means no limit.

    ``memory_mb``: address space (RLIMIT_AS); ``processes``: processes and threads (RLIMIT_NPROC);
    ``file_size_mb``: largest file written (RLIMIT_FSIZE) and the size of the private ``/tmp``;
    ``cpu_seconds``: CPU time of the kernel (RLIMIT_CPU), a backstop behind the wall-clock limits.
    """

    memory_mb: int = 0
    processes: int = 256
    file_size_mb: int = 1024
    cpu_seconds: int = 0

    def launcher_options(self) -> list[str]:
        """The :mod:`~dlcourse.course.sandbox_launcher` options that set these limits."""
        mb = 1024 * 1024
        options = []
        for flag, value in (
            ("--as", self.memory_mb * mb),
            ("--nproc", self.processes),
            ("--fsize", self.file_size_mb * mb),
            ("--cpu", self.cpu_seconds),
        ):
            if value > 0:
                options += [flag, str(int(value))]
        return options


def _bwrap() -> str | None:
    return shutil.which("bwrap")


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _namespaces() -> list[str]:
    return list(_NAMESPACES_ROOT if _as_root() else _NAMESPACES_USER)


@functools.lru_cache(maxsize=1)
def detect_sandbox() -> SandboxInfo:
    """Whether bubblewrap is installed *and* can create the namespaces the sandbox uses.

    Runs ``bwrap`` once with the same namespaces, ``/dev`` and ``/proc`` as a real sandbox (a
    host or container with user namespaces off fails here, not in the middle of a class).
    """
    if not sys.platform.startswith("linux"):
        return SandboxInfo(NO_SANDBOX, f"bubblewrap needs Linux; this is {sys.platform}")
    bwrap = _bwrap()
    if bwrap is None:
        return SandboxInfo(NO_SANDBOX, "bwrap not found: install the package bubblewrap")
    probe = [bwrap, *_namespaces(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        run = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SandboxInfo(NO_SANDBOX, f"bwrap does not run: {exc}")
    if run.returncode != 0:
        why = (run.stderr.strip().splitlines() or [f"exit code {run.returncode}"])[-1]
        return SandboxInfo(NO_SANDBOX, f"bwrap cannot create a sandbox here ({why}); user namespaces may be off")
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.split()
    return SandboxInfo("bubblewrap", version[-1] if version else "")


def _contains(parent: Path, child: Path) -> bool:
    """Whether ``child`` is ``parent`` or lies inside it."""
    return child == parent or parent in child.parents


def _python_paths(hidden: Sequence[Path]) -> list[Path]:
    """What the kernel's Python needs to see: its installation, site-packages, ``sys.path``, dlcourse.

    A ``sys.path`` entry that holds a hidden folder (the course root on ``PYTHONPATH``, an
    editable install at the course root, the home folder) or is a course itself (it holds an
    ``nbgrader_config.py``: a checkout of this repository used as a course) is not bound
    whole: only its ``dlcourse`` package is, which is what the kernel imports from there.
    """
    import site

    import dlcourse

    wanted = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    wanted += [os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))]
    wanted += site.getsitepackages() + [site.getusersitepackages()]
    wanted += [p for p in sys.path if p] + os.environ.get("PYTHONPATH", "").split(os.pathsep)
    package = Path(dlcourse.__file__).resolve().parent
    paths = [package]
    for entry in wanted:
        if not entry or not os.path.isdir(entry):
            continue
        path = Path(entry).resolve()
        if any(_contains(path, h) for h in hidden) or (path / "nbgrader_config.py").is_file():
            inner = path / "dlcourse"
            if inner.is_dir():
                paths.append(inner.resolve())
            continue
        paths.append(path)
    return paths


def _data_cache() -> Path | None:
    """The dlcourse data cache (downloaded sets), when it exists: bound read-only."""
    env = os.environ.get("DLCOURSE_DATA")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "dlcourse"
    return path.resolve() if path.is_dir() else None


def _minimal(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without duplicates and without those inside another one, parents first."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: (len(p.parts), str(p))):
        if not any(_contains(k, path) for k in kept):
            kept.append(path)
    return kept


def kernel_environment(env: Mapping[str, str], *, home: str, data: str) -> dict[str, str]:
    """The allow-listed part of ``env`` plus a ``HOME`` and data cache inside the sandbox."""
    kept = {k: v for k, v in env.items() if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES)}
    kept.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    kept.update(HOME=home, TMPDIR="/tmp", DLCOURSE_DATA=data, MPLCONFIGDIR=f"{home}/.matplotlib")
    # "the parent is init": ipykernel then neither polls for its parent (which, in the PID
    # namespace, is bwrap's pid 1) nor prints its console banner. bwrap --die-with-parent and
    # the namespace end the kernel when the grader goes.
    kept["JPY_PARENT_PID"] = "1"
    return kept


def bwrap_command(
    kernel_cmd: Sequence[str],
    *,
    workdir: Path,
    workdir_source: Path,
    runtime_dir: Path,
    env: Mapping[str, str],
    limits: SandboxLimits,
    hidden: Sequence[Path] = (),
    uid: int | None = None,
    bwrap: str = "bwrap",
) -> list[str]:
    """The command line that runs ``kernel_cmd`` in a sandbox.

    ``workdir`` is the kernel's working folder as the kernel sees it (nbgrader's path), backed
    by the writable ``workdir_source``; ``runtime_dir`` (connection file and IPC sockets) is bound
    at its own path. ``hidden`` folders (course root, grader's home) are never bound whole.
    ``uid``: the unprivileged id a root grader runs the kernel as (``None`` otherwise).
    """
    from dlcourse.course import sandbox_launcher

    homes = {Path(os.path.expanduser("~")).resolve()} | ({Path(env["HOME"]).resolve()} if env.get("HOME") else set())
    hide = [Path(h).resolve() for h in hidden] + sorted(homes)
    args = [bwrap, *_namespaces(), "--die-with-parent", "--clearenv"]
    mounts = _Mounts()
    for folder in _SYSTEM:
        if os.path.islink(folder):
            mounts.add("--symlink", os.readlink(folder), folder)
        elif os.path.isdir(folder):
            mounts.add("--ro-bind", folder, folder)
    for name in _ETC:
        if os.path.exists(f"/etc/{name}"):
            mounts.add("--ro-bind", f"/etc/{name}", f"/etc/{name}")
    mounts.add("--dev", None, "/dev")
    mounts.add("--proc", None, "/proc")
    for device in sorted(Path("/dev").glob("nvidia*")):  # a GPU grader: CUDA needs its devices
        mounts.add("--dev-bind", str(device), str(device))
    size = limits.file_size_mb * 1024 * 1024
    mounts.add("--tmpfs", None, "/tmp", size=size, perms="1777")
    data = _data_cache()
    readonly = _python_paths(hide) + ([data] if data else [])
    for path in _minimal(p for p in readonly if not _contains(Path("/usr"), p)):
        mounts.add("--ro-bind", str(path), str(path))
    mounts.add("--bind", str(runtime_dir), str(runtime_dir))
    mounts.add("--bind", str(workdir_source), str(workdir))
    args += mounts.args + ["--chdir", str(workdir)]
    sandbox_home = "/tmp/home"  # the launcher creates it, as the kernel's user
    for key, value in kernel_environment(env, home=sandbox_home, data=str(data or "/tmp/dlcourse-data")).items():
        args += ["--setenv", key, value]
    launcher = [sys.executable, "-I", sandbox_launcher.__file__, *limits.launcher_options()]
    if uid is not None:
        launcher += ["--uid", str(uid)]
    return [*args, *launcher, "--", *kernel_cmd]


class _Mounts:
    """bwrap mount arguments, each preceded by the folders it needs (mode 0755: bwrap makes them 0700)."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self._made: set[Path] = {Path("/")}
        self._bound: list[Path] = []

    def add(self, op: str, source: str | None, dest: str, size: int = 0, perms: str = "") -> None:
        """Append ``op [source] dest`` (``size``: of a tmpfs, in bytes; ``perms``: its mode)."""
        target = Path(dest)
        for parent in reversed(target.parents):
            if parent in self._made or any(_contains(b, parent) for b in self._bound):
                continue
            self.args += ["--perms", "0755", "--dir", str(parent)]
            self._made.add(parent)
        if size > 0:
            self.args += ["--size", str(size)]
        if perms:
            self.args += ["--perms", perms]
        self.args += [op, *([source] if source is not None else []), dest]
        if op == "--tmpfs":
            self._made.add(target)
        else:
            self._bound.append(target)


def _chown_tree(path: Path, uid: int) -> None:
    """Give ``path`` and everything in it to ``uid`` (root grader: the kernel's own id)."""
    os.chown(path, uid, uid, follow_symlinks=False)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


class SandboxKernelManager(GradingKernelManager):
    """A :class:`.GradingKernelManager` whose kernel runs in a bubblewrap sandbox over IPC sockets."""

    memory_limit_mb = Integer(0, help="Address-space limit of the kernel (MB); 0 for none.").tag(config=True)
    max_processes = Integer(256, help="Processes and threads the kernel may run at once; 0 for no limit.").tag(
        config=True
    )
    max_file_size_mb = Integer(1024, help="Largest file the kernel may write, and the size of its /tmp (MB).").tag(
        config=True
    )
    cpu_time_limit = Integer(0, help="CPU seconds the kernel may use; 0 for no limit.").tag(config=True)
    hidden_paths = List(
        Unicode(), help="Folders never bound into the sandbox whole (the course root; the home folder always)."
    ).tag(config=True)
    scratch = Unicode(
        "", help="Folder for the sandbox's own files (a job's folder, removed with it); default: the temp folder."
    ).tag(config=True)

    _box: Path | None = None

    @property
    def limits(self) -> SandboxLimits:
        """This manager's limits."""
        return SandboxLimits(self.memory_limit_mb, self.max_processes, self.max_file_size_mb, self.cpu_time_limit)

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self._box is None:
            # a short path: a Unix socket's path must stay under 108 bytes
            self._box = Path(tempfile.mkdtemp(prefix="dlk-", dir=self.scratch or None))
            (self._box / "run").mkdir()
            self.transport = "ipc"
            self.connection_file = str(self._box / "run" / "kernel.json")
            self.ip = str(self._box / "run" / "k")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        bwrap = _bwrap()
        if bwrap is None or self._box is None:
            raise CourseError("bubblewrap (bwrap) is needed to start a sandboxed kernel and was not found")
        workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        work = self._box / "work"
        if work.exists():  # a restart starts from the submission again
            shutil.rmtree(work)
        shutil.copytree(workdir, work, symlinks=True)
        uid = None
        if _as_root():
            uid = _ROOT_SANDBOX_UID_BASE + ((os.getpid() & 0x3FFFFF) << 6) + next(_ids) % 64
            _chown_tree(self._box, uid)
        env = dict(kw.get("env") or os.environ)
        command = bwrap_command(
            kernel_cmd,
            workdir=workdir,
            workdir_source=work,
            runtime_dir=self._box / "run",
            env=env,
            limits=self.limits,
            hidden=[Path(p) for p in self.hidden_paths],
            uid=uid,
            bwrap=bwrap,
        )
        await super()._async_launch_kernel(command, **kw)

    async def interrupt_kernel(self) -> None:  # type: ignore[override]
        """Interrupt the running cell: an ``interrupt_request`` on the control channel.

        AsyncKernelManager binds ``interrupt_kernel`` to the base class's coroutine, so this
        overrides the public name.
        """
        # The process jupyter_client started is bwrap, which does not pass SIGINT on: ask the
        # kernel itself (ipykernel answers interrupt_request on its control thread).
        # A socket of its own, and the reply awaited: sent without waiting on the long-lived
        # control socket, the request was seen to sit unsent while nbclient polled for the cell.
        if not self.has_kernel:
            await super()._async_interrupt_kernel()
            return
        socket = self._create_connected_socket("control")
        try:
            self.session.send(socket, self.session.msg("interrupt_request", content={}))
            await socket.poll(_INTERRUPT_REPLY_MS)
        finally:
            socket.close(linger=0)

    _async_interrupt_kernel = interrupt_kernel

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._box is not None:
            shutil.rmtree(self._box, ignore_errors=True)
            self._box = None


def sandbox_config(
    limits: SandboxLimits, hidden: Sequence[Path | str] = (), config: Any = None, scratch: Path | str | None = None
) -> dict[str, Any]:
    """Config sections (plain JSON) that make nbgrader's ``Autograde`` run kernels in the sandbox.

    Merge them into the course config of the process that grades: ``Autograde`` then executes
    notebooks with :class:`.GradingExecute` (in place of ``Execute`` in its steps, as ``config``
    sets them) and :class:`SandboxKernelManager` under ``limits``; ``hidden`` folders (the course
    root) are never bound into the sandbox; ``scratch`` holds the sandbox's own files (a job's
    folder: a job killed at its time limit leaves nothing behind once its folder is removed).
    """
    return {
        **grading_preprocessors(config, kernel_manager=f"{__name__}.SandboxKernelManager"),
        "SandboxKernelManager": {
            "memory_limit_mb": int(limits.memory_mb),
            "max_processes": int(limits.processes),
            "max_file_size_mb": int(limits.file_size_mb),
            "cpu_time_limit": int(limits.cpu_seconds),
            "hidden_paths": [str(Path(h).resolve()) for h in hidden],
            "scratch": str(scratch) if scratch else "",
        },
    }
