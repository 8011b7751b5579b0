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
