"""Warm kernels: one sandboxed server per grading process imports the course's modules once and
forks each student kernel from there (course/kernel_zygote.py says how a forked kernel is kept
apart). SandboxedKernelManager uses this when `preload` names modules.

What the grader holds of a forked kernel is a ForkedProcess: the forked process's PID and a
pidfd of it, which cannot reach another process once that PID is reused.
"""
import asyncio
import atexit
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


_servers = {}  # preloaded modules -> the Zygote of this process


class Zygote:
    """The warm-kernel server of this process: started on first use inside the sandbox (the
    system read-only, no network, an unprivileged uid), restarted if it has died."""

    def __init__(self, modules, command):
        self.modules = tuple(modules)
        self.root = sockets_root()
        self.socket = os.path.join(self.root, "zygote.sock")
        if os.path.lexists(self.socket):  # a dead server's
            os.unlink(self.socket)
        # Its source is passed on the command line: the course's own files stay outside the sandbox.
        source = Path(kernel_zygote.__file__).read_text(encoding="utf-8")
        self.process = subprocess.Popen(command(self.root, [
            sys.executable, "-c", source, self.socket, *self.modules]),
            cwd=self.root, env={}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    @classmethod
    def get(cls, modules, command):
        """The running server for `modules`; `command(root, argv)` wraps argv in the sandbox."""
        zygote = _servers.get(tuple(modules))
        if zygote is None or zygote.process.poll() is not None:
            zygote = _servers[tuple(modules)] = cls(modules, command)
        return zygote

    async def ready(self):
        deadline = time.monotonic() + START_SECONDS
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise WarmKernelsUnavailable("the warm-kernel server did not start")
            await asyncio.sleep(0.1)

    async def fork(self, request, uid=None):
        """A kernel forked for `request` (see course.kernel_zygote); returns its ForkedProcess.
        Raises WarmKernelsUnavailable if no forked process reports within START_SECONDS."""
        await self.ready()
        loop = asyncio.get_running_loop()
        path = os.path.join(request["runtime_dir"], FORK_SOCKET)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(path)
            if uid is not None:
                os.chown(path, 0, uid)
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
                self.process.kill()  # whatever broke it, the next kernel gets a new server
                raise WarmKernelsUnavailable("no kernel was forked (see course.kernel_zygote)") from None
        os.unlink(path)
        with connection:
            credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            pid = int.from_bytes(credentials[:4], sys.byteorder)
            process = ForkedProcess(pid)
            connection.sendall(b"1")
        return process


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
    _servers.clear()
    if _root:
        shutil.rmtree(_root.pop(), ignore_errors=True)
