"""The kernel client of issue 14: a send on a channel must not swallow the wake-up of a reply
that is already waiting on the same socket (course/kernel_client.py has the mechanism)."""
import asyncio
import select
import time

import nbformat
import pytest
import zmq
import zmq.asyncio
from jupyter_client import AsyncKernelManager
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from course import execute as course_execute
from course.kernel_client import CourseKernelClient, RecheckingChannel
from course.nbgrader_api import load_config
from course.paths import REPOSITORY_ROOT
from course.sandbox import SandboxedKernelManager


async def _reply_seconds(channel_class, poll_seconds):
    """A client channel waits for a reply (as nbclient waits for execute_reply); the reply
    arrives and, before the event loop runs again, the client sends on the same socket (as
    nbclient's Output widget sends comm_msg). Seconds until get_msg returned the reply."""
    context = zmq.asyncio.Context()
    kernel = context.socket(zmq.ROUTER)  # used synchronously only, like the kernel's end
    port = kernel.bind_to_random_port("tcp://127.0.0.1")
    client_socket = context.socket(zmq.DEALER)
    client_socket.connect(f"tcp://127.0.0.1:{port}")
    session = Session(key=b"")
    channel = channel_class(client_socket, session)
    try:
        channel.send(session.msg("kernel_info_request"))
        identity = zmq.Socket.shadow(kernel.underlying).recv_multipart()[0]
        session.send(kernel, "kernel_info_reply", ident=identity)
        assert (await channel.get_msg(timeout=5))["msg_type"] == "kernel_info_reply"

        waiting = asyncio.ensure_future(channel.get_msg(timeout=poll_seconds))
        await asyncio.sleep(0.05)  # the poll is registered; the loop has nothing to do
        start = time.perf_counter()
        session.send(kernel, "execute_reply", ident=identity)
        # Block the loop until libzmq signals the reply's arrival on the socket's FD.
        deadline = time.monotonic() + 5
        while not select.select([client_socket.FD], [], [], 0.01)[0]:
            assert time.monotonic() < deadline, "the reply never arrived"
        channel.send(session.msg("comm_msg"))
        reply = await waiting
        assert reply["msg_type"] == "execute_reply"
        return time.perf_counter() - start
    finally:
        client_socket.close(0)
        kernel.close(0)
        context.term()


def test_a_send_does_not_hide_a_reply_that_has_arrived():
    assert asyncio.run(_reply_seconds(RecheckingChannel, poll_seconds=10)) < 2


def test_with_jupyter_clients_channel_the_reply_waits_for_the_poll_timer():
    """The control: the scenario above does lose the wake-up with the stock channel. If this
    fails, jupyter_client (or pyzmq) no longer loses it; course/kernel_client.py may then go."""
    assert asyncio.run(_reply_seconds(AsyncZMQSocketChannel, poll_seconds=1.5)) >= 1.4


@pytest.mark.parametrize("manager_class", [AsyncKernelManager, SandboxedKernelManager])
def test_nbgrader_config_selects_the_course_client(manager_class):
    manager = manager_class(config=load_config(REPOSITORY_ROOT))
    assert manager.client_factory is CourseKernelClient
    client = manager.client()
    for channel in ("shell", "control", "stdin"):
        assert getattr(client, f"{channel}_channel_class") is RecheckingChannel


def test_course_execute_uses_the_course_client(monkeypatch, tmp_path):
    factories = []

    class Recording(course_execute.NotebookClient):
        def execute(self, **kwargs):
            factories.append(self.create_kernel_manager().client_factory)

    monkeypatch.setattr(course_execute, "NotebookClient", Recording)
    path = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    course_execute.execute(path)
    assert factories == [CourseKernelClient]
