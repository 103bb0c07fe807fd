"""The sandbox command on its own: what code inside it can and cannot do."""
import os
import subprocess
import sys
from pathlib import Path

from conftest import needs_bubblewrap

from course.paths import REPOSITORY_ROOT
from course.sandbox import WORKDIR, sandbox_command

LIMITS = {"memory_bytes": 4 * 2**30, "cpu_seconds": 60, "processes": 64, "uid": 60123,
          "workdir_bytes": 8 * 2**20, "tmp_bytes": 4 * 2**20}

PROBE = f"""
import os, socket, numpy
print("numpy", numpy.__version__)
print("cwd", os.getcwd())
print("repository", os.path.exists({str(REPOSITORY_ROOT / 'source')!r}))
print("home", os.path.exists(os.path.expanduser("~root/.bashrc")))
print("workdir", sorted(os.listdir(".")))
open("written.txt", "w").write("ok")
for folder in (".", "/tmp"):
    try:
        with open(os.path.join(folder, "big"), "wb") as handle:
            for _ in range(64):
                handle.write(b"x" * 2**20)
        print("disk yes", folder)
    except OSError as error:
        size = os.path.getsize(os.path.join(folder, "big"))
        print("disk no", folder, error.errno, -(-size // 2**20))  # MiB, rounded up
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    print("network yes")
except OSError:
    print("network no")
try:
    numpy.ones(2**31)  # 16 GiB
    print("memory yes")
except MemoryError:
    print("memory no")
"""


def test_python_bound_after_the_private_tmp(tmp_path):
    command = sandbox_command(["python"], str(tmp_path), **LIMITS)
    tmpfs = command.index("--tmpfs")
    prefix_binds = [i for i, arg in enumerate(command) if arg == os.path.realpath(sys.prefix)]
    assert prefix_binds and min(prefix_binds) > tmpfs, "a Python under /tmp must stay visible"


def test_working_directory_tmp_and_dev_shm_are_new_tmpfs_of_the_sizes_given(tmp_path):
    command = sandbox_command(["python"], str(tmp_path / "runtime"), **LIMITS)
    tmpfs = {command[i + 1]: command[i - 1] for i, arg in enumerate(command) if arg == "--tmpfs"}
    assert tmpfs == {"/tmp": str(LIMITS["tmp_bytes"]), "/dev/shm": str(LIMITS["tmp_bytes"]),
                     WORKDIR: str(LIMITS["workdir_bytes"])}
    assert all(command[i - 2] == "--size" for i, arg in enumerate(command) if arg == "--tmpfs")
    assert command[command.index("--chdir") + 1] == WORKDIR


def test_the_only_writable_host_path_is_the_socket_directory(tmp_path):
    runtime = str(tmp_path / "runtime")
    command = sandbox_command(["python"], runtime, **LIMITS)
    writable = [command[i + 1] for i, arg in enumerate(command) if arg in ("--bind", "--bind-try")]
    assert writable == [runtime]
    assert "--die-with-parent" in command and "--unshare-pid" in command


@needs_bubblewrap
def test_sandboxed_code_sees_only_its_own_empty_directories(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o777)
    runtime.chmod(0o777)
    command = sandbox_command([sys.executable, "-c", PROBE], str(runtime), **LIMITS)
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("numpy ")
    assert lines[1:] == [f"cwd {WORKDIR}", "repository False", "home False", "workdir []",
                         "disk no . 28 8", "disk no /tmp 28 4", "network no", "memory no"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["runtime"], "nothing comes back"


def test_a_bubblewrap_that_cannot_size_a_tmpfs_is_refused(monkeypatch):
    from course import sandbox
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(sandbox, "_bwrap_sizes_tmpfs", lambda: False)
    assert "--size" in sandbox.sandbox_problem()
    monkeypatch.setattr(sandbox, "_bwrap_sizes_tmpfs", lambda: True)
    assert sandbox.sandbox_problem() is None


class _ExitedSandbox:
    """A provisioner whose sandbox process has exited and been reaped."""

    def __init__(self):
        self.process = subprocess.Popen(["true"])
        self.process.wait()
        self.signals = []

    @property
    def has_process(self):
        return self.process is not None

    async def kill(self, restart=False):
        self.signals.append("kill")

    async def terminate(self, restart=False):
        self.signals.append("terminate")

    async def send_signal(self, signum):
        self.signals.append(signum)

    async def wait(self):
        self.process = None
        return 0


def test_a_dead_sandboxs_process_group_is_never_signalled(tmp_path, monkeypatch):
    """Its number may belong to another process group by then."""
    import asyncio
    import signal
    import tempfile

    from course.sandbox import SandboxedKernelManager
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for call in (lambda m: m._async_kill_kernel(), lambda m: m._async_send_kernel_sigterm(),
                 lambda m: m._async_signal_kernel(signal.SIGINT)):
        manager = SandboxedKernelManager()
        manager.provisioner = provisioner = _ExitedSandbox()
        asyncio.run(call(manager))
        assert provisioner.signals == [] and not manager.has_kernel


@needs_bubblewrap
def test_a_kernel_started_cold_ends_when_its_sandbox_is_killed(tmp_path, monkeypatch):
    """A cold kernel is PID 1 of its sandbox (so that bwrap can hide its memory), so no init of
    bwrap's kills it when bwrap dies, and bwrap (root) may not signal it (another uid): it ends
    itself when bwrap's status pipe closes. Before that pipe, it outlived bwrap."""
    import asyncio
    import signal
    import tempfile
    import time

    from course.sandbox import SandboxedKernelManager
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    async def start():
        manager = SandboxedKernelManager(warm=False, preload=[])
        await manager.start_kernel()
        return manager

    manager = asyncio.run(start())
    sandbox = manager.provisioner.process.pid
    deadline = time.monotonic() + 60
    kernel = None
    while kernel is None and time.monotonic() < deadline:  # its command runs setpriv, prlimit, then Python
        children = Path(f"/proc/{sandbox}/task/{sandbox}/children").read_text().split()
        if children and "--cold-kernel" in Path(f"/proc/{children[0]}/cmdline").read_text():
            kernel = int(children[0])
        time.sleep(0.1)
    assert kernel is not None, "no cold kernel started"
    os.kill(sandbox, signal.SIGKILL)
    manager.provisioner.process.wait()
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{kernel}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{kernel}"), "the kernel outlived its sandbox"
    asyncio.run(manager.cleanup_resources())
