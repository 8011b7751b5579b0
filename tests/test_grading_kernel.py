"""The lost wake-up behind the stalled widget cells, reproduced without a kernel, and the channel that fixes it.

See :mod:`dlcourse.course.kernel`: a reply arrives on the shell socket while nbclient awaits
``poll()`` on it, and a send on the same socket (nbclient syncing an ``Output`` widget) runs
before the event loop sees the socket's signal. jupyter_client's channel sends through a
blocking shadow socket, which swallows the signal: the poll sleeps until its timeout. The
channel grading uses wakes it. The reply is made to arrive first (a blocking sleep keeps the
event loop from running), so the race is hit every time, not now and then.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from dlcourse.course.kernel import GradingExecute, GradingKernelClient, GradingKernelManager, WakefulChannel

POLL_S = 3.0


def _reply_wait(channel_class: type[AsyncZMQSocketChannel]) -> float:
    """Seconds a pending poll takes to see a reply that arrived just before a send on its socket."""

    async def go() -> float:
        ctx = zmq.asyncio.Context()
        peer = zmq.Context.instance().socket(zmq.ROUTER)
        port = peer.bind_to_random_port("tcp://127.0.0.1")
        dealer = ctx.socket(zmq.DEALER)
        dealer.connect(f"tcp://127.0.0.1:{port}")
        session = Session(key=b"k")
        loop = asyncio.get_running_loop()
        channel = channel_class(dealer, session, loop)
        try:
            channel.send(session.msg("kernel_info_request"))
            ident = peer.recv_multipart()[0]  # the peer now knows where to answer
            poll = asyncio.ensure_future(channel.socket.poll(int(POLL_S * 1000)))
            await asyncio.sleep(0.05)  # the poll is waiting on the socket's signal
            peer.send_multipart([ident, b"reply"])
            time.sleep(0.2)  # the reply arrives; the event loop has not run yet
            channel.send(session.msg("comm_msg", content={"data": {}}))  # nbclient's Output-widget sync
            start = time.monotonic()
            ready = await poll
            assert ready, "the reply never became readable"
            return time.monotonic() - start
        finally:
            dealer.close(linger=0)
            peer.close(linger=0)
            ctx.term()

    return asyncio.run(go())


def test_jupyter_clients_channel_sleeps_through_the_reply() -> None:
    # The bug itself: if this starts to pass quickly, jupyter_client or pyzmq fixed it upstream
    # and the workaround can go (the test then fails to say so).
    assert _reply_wait(AsyncZMQSocketChannel) > POLL_S * 0.8


def test_the_grading_channel_wakes_the_poll() -> None:
    assert _reply_wait(WakefulChannel) < 0.5


class _MissingSocket:
    """A socket whose first poll misses a message that is there (a lost wake-up), as in the stall."""

    def __init__(self) -> None:
        self.polls: list[int | None] = []

    async def poll(self, timeout_ms: int | None = None) -> int:
        self.polls.append(timeout_ms)
        return 0 if len(self.polls) == 1 else 1  # the first poll sleeps through; a new one looks again


def _get_msg(timeout: float | None) -> tuple[Any, list[int | None]]:
    channel = WakefulChannel.__new__(WakefulChannel)
    channel.socket = _MissingSocket()

    async def recv() -> str:
        return "reply"

    channel._recv = recv
    return asyncio.run(channel.get_msg(timeout=timeout)), channel.socket.polls


@pytest.mark.parametrize("timeout", [300.0, None])
def test_a_lost_wake_up_costs_one_poll_slice_not_the_cell_timeout(timeout: float | None) -> None:
    from dlcourse.course.kernel import POLL_SLICE_S

    got, polls = _get_msg(timeout)
    assert got == "reply"
    assert polls == [int(POLL_SLICE_S * 1000)] * 2  # two short polls, never one of 300 s


def test_a_wait_that_finds_nothing_still_ends_at_its_timeout() -> None:
    from queue import Empty

    channel = WakefulChannel.__new__(WakefulChannel)

    class Silent:
        polls: list[int] = []

        async def poll(self, timeout_ms: int) -> int:
            self.polls.append(timeout_ms)
            return 0

    channel.socket = Silent()
    with pytest.raises(Empty):
        asyncio.run(channel.get_msg(timeout=0.05))
    assert channel.socket.polls and all(t <= 50 for t in channel.socket.polls)


def test_grading_uses_the_wakeful_client_with_or_without_the_sandbox() -> None:
    from traitlets.config import Config

    from dlcourse.course.sandbox import SandboxKernelManager

    plain = GradingExecute()
    assert plain.kernel_manager_class is GradingKernelManager
    assert GradingKernelManager().client_factory is GradingKernelClient
    client = GradingKernelClient()
    for name in ("shell", "control", "stdin"):
        assert getattr(client, f"{name}_channel_class") is WakefulChannel
    boxed = GradingExecute(config=Config({"GradingExecute": {"kernel_manager": "dlcourse.course.sandbox.SandboxKernelManager"}}))
    assert boxed.kernel_manager_class is SandboxKernelManager
    with pytest.raises(TypeError, match="GradingKernelManager"):
        GradingExecute(config=Config({"GradingExecute": {"kernel_manager": "jupyter_client.manager.AsyncKernelManager"}}))
    assert issubclass(SandboxKernelManager, GradingKernelManager)


@pytest.mark.parametrize("configured", [None, ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.LimitOutput"]])
def test_grading_preprocessors_replace_only_execute(configured: Any) -> None:
    from traitlets.config import Config

    from dlcourse.course.kernel import grading_preprocessors

    config = Config({"Autograde": {"autograde_preprocessors": configured}}) if configured else None
    steps = grading_preprocessors(config)["Autograde"]["autograde_preprocessors"]
    assert steps[0] == "dlcourse.course.kernel.GradingExecute"
    if configured:
        assert steps[1:] == configured[1:]
    else:
        assert "nbgrader.preprocessors.saveautogrades.SaveAutoGrades" in steps
