"""The kernel client every notebook run of the course uses (issue 14: the widget stall).

A cell with an ipywidgets `interact` sometimes made nbclient wait for exactly the cell timeout
after the cell had finished. The cause is in how jupyter_client sends on an asyncio socket:

- nbclient waits for a cell's `execute_reply` with `await shell_socket.poll(timeout)`;
  pyzmq's asyncio socket wakes that poll when the socket's ZMQ_FD becomes readable.
- While it waits, nbclient's Output-widget emulation answers the kernel's output with a
  `comm_msg` sent on the same shell socket. `Session.send` sends it through a *synchronous*
  shadow of the socket (`zmq.Socket.shadow(socket.underlying)`), so pyzmq's asyncio layer
  does not see the send.
- ZMQ_FD is edge-triggered: any operation on the socket, a send included, may consume the
  notification that a message has arrived. When the kernel's `execute_reply` arrives just
  before that send (the kernel sends it right after the widget's last output), the send takes
  the notification, the message waits in the socket, and the event loop never wakes the poll.
  Only its timer ends it: `poll(0)` then finds the reply, and the run goes on without an error.

pyzmq keeps its asyncio sockets correct after its own sends by asking libzmq for ZMQ_EVENTS
and scheduling the waiting receivers if a message is there (`_AsyncSocket.get(zmq.EVENTS)` does
this). The channels below do the same after every send. Upstream: nbclient#312 and #311,
jupyter_client#1059 (open; jupyter_client 8.10.0 and nbclient 0.11.0 still send this way).
"""
import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type
from traitlets.config import Config

CLIENT_CLASS = "course.kernel_client.CourseKernelClient"


class RecheckingChannel(AsyncZMQSocketChannel):
    """An asyncio channel that re-checks its socket for waiting messages after each send."""

    def send(self, msg):
        """Send `msg` (a message dict from `Session.msg`), then wake a pending `get_msg`
        whose message arrived while the synchronous send ran."""
        super().send(msg)
        # On pyzmq's asyncio socket, reading EVENTS schedules the receivers waiting on it
        # when a message is ready (the level that the edge-triggered FD may no longer show).
        self.socket.get(zmq.EVENTS)


class CourseKernelClient(AsyncKernelClient):
    """jupyter_client's AsyncKernelClient with rechecking channels for the sockets it sends
    on (shell, control, stdin). Selected by `AsyncKernelManager.client_class`."""

    shell_channel_class = Type(RecheckingChannel)
    control_channel_class = Type(RecheckingChannel)
    stdin_channel_class = Type(RecheckingChannel)


def kernel_client_config():
    """traitlets Config that makes kernel managers (AsyncKernelManager and its subclasses,
    e.g. nbclient's default) hand out CourseKernelClient; nbgrader_config.py sets the same."""
    config = Config()
    config.AsyncKernelManager.client_class = CLIENT_CLASS
    return config
