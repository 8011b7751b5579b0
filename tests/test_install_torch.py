"""scripts/install_torch.py fails fast where PyTorch's CPU index cannot be reached.

No test here needs the network: the unreachable index is a closed port on this machine, the
reachable one a tiny HTTP server the test starts on the loopback address.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def install_torch(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The script as a module, on a Linux machine without a GPU and without torch."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import install_torch as module

    monkeypatch.setattr(module.platform, "system", lambda: "Linux")
    monkeypatch.setattr(module, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(module, "torch_installed", lambda: False)
    monkeypatch.delenv("DLCOURSE_TORCH", raising=False)
    return module


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the with-block ends: connections are refused


@pytest.fixture
def local_index() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers every request with 200."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 -- the name http.server calls
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/whl/cpu"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_index_is_reported_in_one_line_and_skipped(
    install_torch, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index = f"http://127.0.0.1:{_closed_port()}/whl/cpu"
    monkeypatch.setenv("DLCOURSE_TORCH_INDEX", index)
    assert install_torch.main(["--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2, lines  # the note, then the pip command
    note, command = lines
    assert note.startswith(f"install_torch: PyTorch's CPU index {index} is unreachable (")
    assert f"torch=={install_torch.DEFAULT_CPU_VERSION}" in note and "CUDA build" in note
    assert "--index-url" not in command and index not in command
    assert f"torch=={install_torch.DEFAULT_CPU_VERSION}" in command.split()
    assert "--retries 1" in command and "--timeout 15" in command


def test_a_reachable_index_is_used(
    install_torch, local_index: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DLCOURSE_TORCH_INDEX", local_index)
    monkeypatch.setenv("DLCOURSE_TORCH", "2.9.1")
    assert install_torch.probe_index(local_index) is None
    assert install_torch.main(["--dry-run"]) == 0
    [command] = capsys.readouterr().out.splitlines()
    args = command.split()
    assert args[args.index("--index-url") + 1] == local_index
    assert "torch==2.9.1" in args and "--retries" in args


def test_probe_says_why(install_torch) -> None:
    reason = install_torch.probe_index(f"http://127.0.0.1:{_closed_port()}/whl/cpu", timeout=2.0)
    assert reason and "refused" in reason.lower()


def test_no_probe_where_the_default_wheel_is_right(
    install_torch, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a GPU (or on macOS) PyPI's default build is wanted: no probe, no CPU index."""
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: True)
    monkeypatch.setattr(install_torch, "probe_index", lambda *a, **k: pytest.fail("must not probe"))
    assert install_torch.main(["--dry-run"]) == 0
    [command] = capsys.readouterr().out.splitlines()
    assert f"torch>={install_torch.MIN_VERSION}" in command and "--index-url" not in command


def test_nothing_to_do_when_torch_is_there(
    install_torch, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(install_torch, "torch_installed", lambda: True)
    monkeypatch.setattr(install_torch, "probe_index", lambda *a, **k: pytest.fail("must not probe"))
    assert install_torch.main([]) == 0
    assert "already installed" in capsys.readouterr().out
