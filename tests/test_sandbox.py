"""The bubblewrap sandbox of a submission's kernel: its command line, its launcher, and a real kernel in it.

The command-line and launcher tests need no bubblewrap. The kernel tests start one sandboxed
kernel (about 2 s) and are skipped where :func:`detect_sandbox` finds no working ``bwrap``; the
hostile submissions graded through the CLI are in ``test_grading_sandbox.py``.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import dlcourse
from dlcourse.course import sandbox_launcher
from dlcourse.course.sandbox import (
    NO_SANDBOX,
    SandboxInfo,
    SandboxKernelManager,
    SandboxLimits,
    bwrap_command,
    detect_sandbox,
    kernel_environment,
    sandbox_config,
)

PACKAGE = Path(dlcourse.__file__).resolve().parent
REPO = PACKAGE.parent


def _binds(command: list[str]) -> dict[str, list[tuple[str, str]]]:
    """``{"--ro-bind": [(src, dest), ...], "--bind": [...]}`` of a bwrap command line."""
    found: dict[str, list[tuple[str, str]]] = {"--ro-bind": [], "--bind": []}
    for i, arg in enumerate(command):
        if arg in found:
            found[arg].append((command[i + 1], command[i + 2]))
    return found


def _command(tmp_path: Path, env: dict[str, str] | None = None, **kw: Any) -> list[str]:
    work, run = tmp_path / "work", tmp_path / "run"
    work.mkdir(exist_ok=True)
    run.mkdir(exist_ok=True)
    return bwrap_command(
        ["python", "-m", "ipykernel_launcher", "-f", str(run / "kernel.json")],
        workdir=tmp_path / "course" / "autograded" / "alice" / "01-add",
        workdir_source=work,
        runtime_dir=run,
        env=env if env is not None else dict(os.environ),
        limits=kw.pop("limits", SandboxLimits(memory_mb=512, processes=64, file_size_mb=8, cpu_seconds=60)),
        **kw,
    )


def test_only_the_work_and_runtime_folders_are_writable(tmp_path: Path) -> None:
    command = _command(tmp_path, hidden=[tmp_path / "course"])
    writable = _binds(command)["--bind"]
    assert writable == [
        (str(tmp_path / "run"), str(tmp_path / "run")),
        (str(tmp_path / "work"), str(tmp_path / "course" / "autograded" / "alice" / "01-add")),
    ]
    assert command[command.index("--chdir") + 1] == str(tmp_path / "course" / "autograded" / "alice" / "01-add")
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv"):
        assert flag in command or (flag in ("--unshare-net", "--unshare-pid") and "--unshare-all" in command)


def test_hidden_folders_are_never_bound_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The course root on PYTHONPATH (a checkout used as the course, as in this repository): only
    # its dlcourse package may be visible, never the submissions and gradebook next to it.
    course = tmp_path / "course"
    (course / "dlcourse").mkdir(parents=True)
    (course / "submitted").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PYTHONPATH", f"{course}{os.pathsep}{REPO}")
    monkeypatch.syspath_prepend(str(course))
    command = _command(tmp_path, env={**os.environ, "HOME": str(home)}, hidden=[course])
    sources = [Path(src) for src, _ in _binds(command)["--ro-bind"]]
    for hidden in (course, home, REPO if (REPO / "nbgrader_config.py").exists() else course):
        assert not any(src == hidden or src in hidden.parents for src in sources), (hidden, sources)
    assert course / "dlcourse" in sources
    assert PACKAGE in sources or any(p in PACKAGE.parents for p in sources)
    assert Path(sys.base_prefix).resolve() in sources or any(p in Path(sys.base_prefix).resolve().parents for p in sources)


def test_the_environment_is_an_allow_list() -> None:
    env = {"PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "x", "SSH_AUTH_SOCK": "/run/agent", "HOME": "/home/prof",
           "NBGRADER_EXECUTION": "autograde", "OMP_NUM_THREADS": "1", "LC_ALL": "C.UTF-8", "JPY_PARENT_PID": "42"}
    kept = kernel_environment(env, home="/tmp/home", data="/tmp/data")
    assert "AWS_SECRET_ACCESS_KEY" not in kept and "SSH_AUTH_SOCK" not in kept
    assert kept["HOME"] == "/tmp/home" and kept["DLCOURSE_DATA"] == "/tmp/data"
    assert kept["NBGRADER_EXECUTION"] == "autograde" and kept["OMP_NUM_THREADS"] == "1" and kept["LC_ALL"] == "C.UTF-8"
    assert kept["JPY_PARENT_PID"] == "1"  # the kernel's parent in its PID namespace is bwrap's init


def test_root_runs_the_kernel_as_the_given_user(tmp_path: Path) -> None:
    command = _command(tmp_path, uid=1234567)
    launcher = command.index(sandbox_launcher.__file__)
    options = command[launcher + 1 : command.index("--", launcher)]
    assert options[options.index("--uid") + 1] == "1234567"
    assert options[options.index("--nproc") + 1] == "64"
    assert options[options.index("--as") + 1] == str(512 * 1024 * 1024)
    assert "--uid" not in _command(tmp_path)[launcher:]


def test_launcher_sets_hard_limits_and_refuses_bad_arguments() -> None:
    probe = (
        "import resource as r; print(*(r.getrlimit(k) for k in "
        "(r.RLIMIT_AS, r.RLIMIT_NPROC, r.RLIMIT_FSIZE, r.RLIMIT_CPU, r.RLIMIT_CORE)))"
    )
    nproc = max(resource.getrlimit(resource.RLIMIT_NPROC)[0], 4096) if os.geteuid() else 4096
    limits = SandboxLimits(memory_mb=3072, processes=nproc, file_size_mb=5, cpu_seconds=77)
    out = subprocess.run(
        [sys.executable, "-I", sandbox_launcher.__file__, *limits.launcher_options(), "--", sys.executable, "-c", probe],
        capture_output=True, text=True, check=True,
    ).stdout
    mb = 1024 * 1024
    assert out.split() == [f"({v}," if i % 2 == 0 else f"{v})" for v in
                           (3072 * mb, nproc, 5 * mb, 77, 0) for i in range(2)]
    bad = subprocess.run([sys.executable, "-I", sandbox_launcher.__file__, "--as", "1"], capture_output=True, text=True)
    assert bad.returncode != 0 and "expected options, then --" in bad.stderr


def test_config_swaps_execute_for_the_sandboxed_one() -> None:
    from nbgrader.converters import Autograde
    from traitlets.config import Config

    from dlcourse.course.kernel import GradingExecute
    from dlcourse.course.sandbox import SandboxKernelManager

    config = sandbox_config(SandboxLimits(processes=32), hidden=["/course"])
    steps = config["Autograde"]["autograde_preprocessors"]
    assert steps[0] == "dlcourse.course.kernel.GradingExecute"
    assert not any(s.endswith(".Execute") for s in steps) and len(steps) > 1
    app = Autograde(config=Config(config))
    execute = app.autograde_preprocessors[0]
    assert execute == "dlcourse.course.kernel.GradingExecute"
    assert GradingExecute(config=Config(config)).kernel_manager_class is SandboxKernelManager
    assert config["SandboxKernelManager"]["max_processes"] == 32
    assert config["SandboxKernelManager"]["hidden_paths"] == [str(Path("/course").resolve())]


def test_missing_bwrap_means_no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    import dlcourse.course.sandbox as sandbox

    monkeypatch.setattr(sandbox, "_bwrap", lambda: None)
    sandbox.detect_sandbox.cache_clear()
    try:
        info = sandbox.detect_sandbox()
        assert info.kind == NO_SANDBOX and not info.available and "bubblewrap" in info.label
        assert info.label.startswith("none (")
    finally:
        sandbox.detect_sandbox.cache_clear()
    assert SandboxInfo("bubblewrap", "0.8.0").label == "bubblewrap 0.8.0"


needs_bwrap = pytest.mark.skipif(not detect_sandbox().available, reason=f"no sandbox: {detect_sandbox().detail}")


def _run_in_sandbox(tmp_path: Path, code: str, **traits: Any) -> tuple[str, str]:
    """Execute ``code`` in a sandboxed kernel started in ``tmp_path/cwd``; (status, stdout + error)."""

    async def go() -> tuple[str, str]:
        km = SandboxKernelManager(**traits)
        cwd = tmp_path / "cwd"
        cwd.mkdir(exist_ok=True)
        await km.start_kernel(cwd=str(cwd))
        kc = km.client()
        kc.start_channels()
        text: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            content = msg["content"]
            if msg["msg_type"] == "stream":
                text.append(content["text"])
            elif msg["msg_type"] == "error":
                text.append(f"{content['ename']}: {content['evalue']}")

        try:
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive(code, output_hook=hook, timeout=60)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return reply["content"]["status"], "".join(text)

    return asyncio.run(go())


@needs_bwrap
def test_a_sandboxed_kernel_sees_no_secrets_no_network_and_writes_only_its_copy(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor's eyes only")
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "data.txt").write_text("submission data")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[Any] = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = f"""
import os, socket
def attempt(label, f):
    try:
        f(); print(label, "ALLOWED")
    except Exception as e:
        print(label, "blocked", type(e).__name__)
attempt("read-secret", lambda: open({str(secret)!r}).read())
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
attempt("write-outside", lambda: open({str(tmp_path / 'planted.txt')!r}, "w").write("x"))
attempt("write-package", lambda: open({str(PACKAGE / 'planted.py')!r}, "w").write("x"))
print("cwd-data", open("data.txt").read())
open("written.txt", "w").write("kernel output")
print("uid-is-root", os.getuid() == 0)
"""
    try:
        status, out = _run_in_sandbox(tmp_path, code, hidden_paths=[str(tmp_path)])
    finally:
        server.close()
    assert status == "ok", out
    for label in ("read-secret", "tcp", "write-outside", "write-package"):
        assert f"{label} blocked" in out, out
    assert "cwd-data submission data" in out and "uid-is-root False" in out
    assert not accepted and not (tmp_path / "planted.txt").exists() and not (PACKAGE / "planted.py").exists()
    # the kernel wrote into a copy: the folder nbgrader writes the autograded notebook into is untouched
    assert not (tmp_path / "cwd" / "written.txt").exists()


@needs_bwrap
def test_a_sandboxed_kernel_is_held_to_its_limits(tmp_path: Path) -> None:
    code = """
import os
try:
    open("big.bin", "wb").write(b"x" * (64 * 1024 * 1024))
    print("big file ALLOWED")
except OSError as e:
    print("big file blocked", e.errno)
children = 0
try:
    for _ in range(500):
        if os.fork() == 0:
            import time; time.sleep(2); os._exit(0)
        children += 1
except OSError:
    pass
print("children", children)
"""
    status, out = _run_in_sandbox(tmp_path, code, max_processes=64, max_file_size_mb=16)
    assert status == "ok", out
    assert "big file blocked 27" in out, out  # EFBIG
    children = int(out.split("children")[1].split()[0])
    assert children < 64, out
