"""The kernel manager and client that grading uses: nbgrader's ``Execute`` without the stalled widget cells.

**The stall.** Now and then a cell that shows a widget never got its reply in a headless run
(nbgrader, nbclient): the kernel had answered and gone idle, yet the grader waited out the whole
cell timeout (300 s), then found the reply and carried on. The cause is on the grader's side, in
how two libraries meet:

- nbclient executes a cell and awaits ``poll()`` on the shell socket (a ``zmq.asyncio`` socket)
  for the ``execute_reply``. pyzmq's asyncio sockets are woken through the socket's file
  descriptor, which libzmq signals *edge-triggered*: any libzmq call on the socket that processes
  the pending "message arrived" command consumes the signal, and pyzmq then re-checks the socket
  itself, as long as the call went through its asyncio wrapper.
- A widget cell whose output goes through an ``Output`` widget makes nbclient sync the widget's
  state back to the kernel: a ``comm_msg`` sent on that same shell socket while the poll waits.
  ``jupyter_client.Session.send`` sends on an asyncio socket through a *blocking shadow* of it
  (``zmq.Socket.shadow``), past pyzmq's wrapper. When that send runs just as the reply arrives
  (the reply follows the widget's last output within milliseconds, and a loaded machine widens
  the window), the send consumes the signal, nobody re-checks, and the poll sleeps until its
  timeout, when pyzmq polls once more and finds the reply.

Seen in loops of 04-backprop's training dashboard (``benchmarks/widget_stalls.py``) on 2 cores at
a load average of 10-17: while a poll slept, the reply sat in the socket (``ZMQ_EVENTS`` had
``POLLIN``, the descriptor was not readable) and the last thing before it was such a send. 13
stalls in 228 widget cells with ipykernel 6.31, 2 in 48 with 7.4; with the fix, none in 96 with
either. The kernel plays no part, so the ipykernel version does not matter.

**The fix.** :class:`GradingKernelClient`'s channels send through the asyncio socket's own
``send_multipart`` (:class:`WakefulChannel`), which re-checks the socket after every send and
wakes a waiting poll. :class:`GradingExecute` is nbgrader's ``Execute`` with that client;
:func:`grading_preprocessors` puts it in ``Autograde``'s steps, with the kernel sandboxed or not.
As a second line of defence, every wait of these channels polls in slices of :data:`POLL_SLICE_S`,
so a wake-up lost in any other way costs a second rather than the cell timeout.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import DottedObjectName, Type
from traitlets.utils.importstring import import_item

__all__ = [
    "GradingExecute",
    "GradingKernelClient",
    "GradingKernelManager",
    "POLL_SLICE_S",
    "WakefulChannel",
    "grading_preprocessors",
]


class _AsyncSender:
    """What ``Session.send`` sends on: the asyncio socket's own ``send_multipart``, not a blocking shadow."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    def send_multipart(self, parts: list[Any], copy: bool = True, track: bool = False) -> Any:
        # pyzmq sends at once when it can and then re-checks the socket for a reply that the
        # send's own libzmq call noticed, waking any poll() on it (the part the shadow skips)
        return self.socket.send_multipart(parts, copy=copy)


# The longest a wait for a message polls before it looks again. A lost wake-up (above, or one we
# have not found yet: a 12-generative validate run still waited out a 300 s cell once after the
# send fix) then costs at most this long instead of the whole cell timeout.
POLL_SLICE_S = 1.0


class WakefulChannel(AsyncZMQSocketChannel):
    """An async channel whose sends cannot leave a poll on the same socket asleep.

    Its waits also poll in slices of :data:`POLL_SLICE_S`: each new poll re-checks the socket, so a
    reply that arrived without waking the poll is found within a slice.
    """

    def send(self, msg: dict[str, Any]) -> None:
        """Send ``msg`` (built by the client's session) on this channel's socket."""
        assert self.socket is not None
        self.session.send(_AsyncSender(self.socket), msg)

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        """The next message, waiting at most ``timeout`` seconds (forever when None); raises ``queue.Empty``."""
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait = POLL_SLICE_S if left is None else min(POLL_SLICE_S, left)
            if await self.socket.poll(int(wait * 1000)):
                return await self._recv()
            if left is not None and left <= wait:
                raise Empty


class GradingKernelClient(AsyncKernelClient):
    """``AsyncKernelClient`` with :class:`WakefulChannel` for every channel that is sent on."""

    shell_channel_class = Type(WakefulChannel)
    control_channel_class = Type(WakefulChannel)
    stdin_channel_class = Type(WakefulChannel)
    iopub_channel_class = Type(WakefulChannel)  # never sent on; its waits poll in slices too


class GradingKernelManager(AsyncKernelManager):
    """``AsyncKernelManager`` whose clients are :class:`GradingKernelClient`."""

    client_class = DottedObjectName(f"{__name__}.GradingKernelClient", config=True)
    # AsyncKernelManager fixes the factory's default itself instead of deriving it from client_class
    client_factory = Type(GradingKernelClient, klass=AsyncKernelClient, config=True)


class GradingExecute(Execute):
    """nbgrader's ``Execute`` with :class:`GradingKernelManager`, or the manager ``kernel_manager`` names.

    nbgrader passes its kernel manager class as an argument (configuring it has no effect), so
    the class is chosen here, by name: the sandbox (:func:`dlcourse.course.sandbox.sandbox_config`)
    names :class:`~dlcourse.course.sandbox.SandboxKernelManager`, a subclass of this module's.
    """

    kernel_manager = DottedObjectName(
        f"{__name__}.GradingKernelManager", help="The kernel manager class (a GradingKernelManager)."
    ).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = import_item(str(self.kernel_manager))
        if not issubclass(manager, GradingKernelManager):
            raise TypeError(f"GradingExecute.kernel_manager must name a GradingKernelManager, not {manager}")
        self.kernel_manager_class = manager


def _dotted(step: Any) -> str:
    """A preprocessor (class or dotted name) as a dotted name, nbgrader's ``Execute`` made :class:`GradingExecute`."""
    if isinstance(step, str):
        return _dotted(import_item(step)) if step.rsplit(".", 1)[-1] == "Execute" else step
    if step is Execute:
        step = GradingExecute
    return f"{step.__module__}.{step.__qualname__}"


def grading_preprocessors(config: Any = None, *, kernel_manager: str | None = None) -> dict[str, Any]:
    """Config sections (plain JSON) that make ``Autograde`` execute with :class:`GradingExecute`.

    ``Autograde``'s steps as ``config`` sets them (else nbgrader's defaults), ``Execute`` replaced;
    ``kernel_manager`` (a dotted name) replaces :class:`GradingKernelManager`.
    """
    from nbgrader.converters import Autograde

    steps = [_dotted(step) for step in Autograde(config=config).autograde_preprocessors]
    manager = kernel_manager or f"{__name__}.GradingKernelManager"
    return {"Autograde": {"autograde_preprocessors": steps}, "GradingExecute": {"kernel_manager": manager}}
