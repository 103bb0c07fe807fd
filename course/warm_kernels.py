"""Warm kernels: one sandboxed server imports the course's modules once and forks each student
kernel from there (course/kernel_zygote.py says how a forked kernel is kept apart).
SandboxedKernelManager uses this when `preload` names modules. `course grade` starts the server
in its own process and lends it to its worker processes (share, lend): one server for every
worker and every class that process grades, started once (TensorFlow's import: about 9 s of CPU).

What the grader holds of a forked kernel is a ForkedProcess: the forked process's PID and a
pidfd of it, which cannot reach another process once that PID is reused.
"""
import asyncio
import atexit
import dataclasses
import itertools
import json
import multiprocessing.util
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course import kernel_zygote
from course.kernel_zygote import FORK_SOCKET

START_SECONDS = 180  # the server's imports (TensorFlow) on a loaded machine


class WarmKernelsUnavailable(Exception):
    """The warm-kernel server cannot run or fork here (for example, nested user namespaces are
    not allowed): kernels start cold instead."""


class ForkedProcess:
    """The Popen-like handle jupyter_client keeps of a kernel process it did not start: poll,
    wait, send_signal, kill, terminate through a pidfd. The exit status is not known (the
    process is the server's child): -1 once it has ended."""

    stdin = stdout = stderr = None

    def __init__(self, pid):
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)
        self.returncode = None

    def _ended(self, timeout):
        if self.returncode is None and select.select([self._pidfd], [], [], timeout)[0]:
            self.returncode = -1
            os.close(self._pidfd)
        return self.returncode

    def poll(self):
        return self._ended(0)

    def wait(self, timeout=None):
        return self._ended(timeout)

    def send_signal(self, number):
        if self.poll() is None:
            try:
                signal.pidfd_send_signal(self._pidfd, number)
            except ProcessLookupError:
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


_servers = {}  # (preloaded modules, sandbox command) -> the Zygote of this process
_numbers = itertools.count()
_lent = []  # the SharedServer a grading worker was lent by its parent process (lend), if any


@dataclasses.dataclass(frozen=True)
class SharedServer:
    """What a worker process needs to fork its kernels from its parent's server (pickled into
    the worker): the modules, the sandbox command around the server, its socket, its sockets
    root, the uid its kernels run as (as root) and its PID."""
    modules: tuple
    wrapper: tuple
    socket: str
    root: str
    uid: int
    pid: int


class Zygote:
    """The warm-kernel server of this process: started on first use inside the sandbox (the
    system read-only, no network, an unprivileged uid), restarted if it has died. `command(root,
    argv)` wraps argv in the sandbox; `uid` is the uid it runs as when the grader is root."""

    def __init__(self, modules, command, uid):
        self.modules, self.uid = tuple(modules), uid
        self.root = sockets_root()
        self.socket = os.path.join(self.root, f"zygote-{next(_numbers)}.sock")
        self.wrapper = tuple(command(self.root, []))
        if os.geteuid() == 0:  # the server and its kernels (as `uid`) make their sockets there
            os.chown(self.root, 0, uid)
            os.chmod(self.root, 0o770)
        # Its source is passed on the command line: the course's own files stay outside the sandbox.
        source = Path(kernel_zygote.__file__).read_text(encoding="utf-8")
        self.process = subprocess.Popen([*self.wrapper, sys.executable, "-c", source, self.socket,
                                         *self.modules],
            cwd=self.root, env={}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    @classmethod
    def get(cls, modules, command, uid):
        """The running server of this process for `modules` in the sandbox `command` makes."""
        key = (tuple(modules), tuple(command(sockets_root(), [])))
        zygote = _servers.get(key)
        if zygote is None or not zygote.alive():
            zygote = _servers[key] = cls(modules, command, uid)
        return zygote

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        self.process.kill()

    def shared(self):
        """This server as a worker process borrows it (SharedServer)."""
        return SharedServer(self.modules, self.wrapper, self.socket, self.root, self.uid,
                            self.process.pid)

    async def ready(self):
        deadline = time.monotonic() + START_SECONDS
        while not os.path.exists(self.socket):
            if not self.alive() or time.monotonic() > deadline:
                self.stop()
                raise WarmKernelsUnavailable("the warm-kernel server did not start")
            await asyncio.sleep(0.1)

    async def fork(self, request):
        """A kernel forked for `request` (see course.kernel_zygote); returns its ForkedProcess.
        Raises WarmKernelsUnavailable if no forked process reports within START_SECONDS."""
        await self.ready()
        loop = asyncio.get_running_loop()
        path = os.path.join(request["runtime_dir"], FORK_SOCKET)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(path)
            if os.geteuid() == 0:
                os.chown(path, 0, self.uid)
                os.chmod(path, 0o660)
            listener.listen(1)
            listener.setblocking(False)
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
                    await loop.sock_connect(server, self.socket)
                    await loop.sock_sendall(server, (json.dumps(request) + "\n").encode())
            except OSError as error:
                raise WarmKernelsUnavailable(f"the warm-kernel server: {error}") from None
            try:
                connection, _ = await asyncio.wait_for(loop.sock_accept(listener), START_SECONDS)
            except TimeoutError:
                self.stop()  # whatever broke it, the next kernel gets a new server
                raise WarmKernelsUnavailable("no kernel was forked (see course.kernel_zygote)") from None
        os.unlink(path)
        with connection:
            credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            pid = int.from_bytes(credentials[:4], sys.byteorder)
            process = ForkedProcess(pid)
            connection.sendall(b"1")
        return process


class BorrowedZygote(Zygote):
    """The server of the parent process, used by a grading worker: the same requests, but the
    worker neither starts nor stops it (a kernel whose manager found it running starts cold if it
    has gone since; later managers use the worker's own server)."""

    def __init__(self, shared):
        self.modules, self.wrapper, self.socket = shared.modules, shared.wrapper, shared.socket
        self.root, self.uid = shared.root, shared.uid
        try:
            self._pidfd = os.pidfd_open(shared.pid)
        except OSError:
            self._pidfd = None

    def alive(self):
        return self._pidfd is not None and not select.select([self._pidfd], [], [], 0)[0]

    def stop(self):
        pass


def share(modules, command, uid):
    """Start this process's server for `modules` now (command, uid: as for Zygote) and return
    the SharedServer its grading workers borrow (lend), so that one server serves every worker of
    this process and every class it grades."""
    return Zygote.get(modules, command, uid).shared()


def lend(shared):
    """In a grading worker: fork the kernels from `shared` (a SharedServer, or None for none),
    the parent's server, wherever the worker's own would be the same (borrowed)."""
    _lent[:] = [] if shared is None else [BorrowedZygote(shared)]


def borrowed(modules, command):
    """The parent's server lent to this worker if it preloads `modules`, is running, and runs in
    the sandbox this worker's own would run in (`command(root, argv, uid)` wraps argv in it); else
    None."""
    for zygote in _lent:
        if (zygote.modules == tuple(modules) and zygote.alive()
                and zygote.wrapper == tuple(command(zygote.root, [], zygote.uid))):
            return zygote
    return None


_root = []


def sockets_root():
    """The directory, made once per process, under which the server's socket and every forked
    kernel's socket directory live (the server sees it; each kernel sees only its own). It and
    the servers go when the process ends."""
    if not _root:
        _root.append(tempfile.mkdtemp(prefix="course-warm-"))
        atexit.register(stop_all)
        multiprocessing.util.Finalize(None, stop_all, exitpriority=10)  # a pool's worker: no atexit
    return _root[0]


def stop_all():
    """Kill the servers of this process (their sandboxes end with them)."""
    for zygote in _servers.values():
        zygote.process.kill()
        zygote.process.wait()
    _lent.clear()
    _servers.clear()
    if _root:
        shutil.rmtree(_root.pop(), ignore_errors=True)
