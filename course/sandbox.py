"""Run student kernels inside bubblewrap (bwrap), the sandbox Flatpak uses.

The kernel sees a read-only system and Python installation, its own working copy (read-write)
and an empty /tmp; nothing of the course directory (source/, submitted/, the gradebook), of the
instructor's home, or of the network. Memory, CPU time and the number of processes are limited
with prlimit. Kernel and grader talk over Unix sockets (ZeroMQ "ipc" transport) in a private
directory, since the kernel has no network.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer
from traitlets.utils.importstring import import_item

INSTALL_HINT = ("bubblewrap (bwrap) is not installed. Debian/Ubuntu: `sudo apt-get install "
                "bubblewrap`; Fedora: `sudo dnf install bubblewrap`. Or grade without the sandbox: "
                "`course grade --no-sandbox` (student code then runs with your rights).")


def sandbox_problem():
    """Why the sandbox cannot run here, or None if it can."""
    if not sys.platform.startswith("linux"):
        return "the sandbox needs Linux (bubblewrap). " + INSTALL_HINT.split(". ", 1)[1]
    if shutil.which("bwrap") is None or shutil.which("prlimit") is None:
        return INSTALL_HINT
    return None


def sandbox_refusal(config):
    """Why grading with this nbgrader config cannot start here: its kernel manager
    (`c.Execute.kernel_manager_class`) is the sandboxed one and the sandbox cannot run; else None."""
    manager = config.Execute.get("kernel_manager_class")
    if isinstance(manager, str):
        manager = import_item(manager)
    if isinstance(manager, type) and issubclass(manager, SandboxedKernelManager):
        return sandbox_problem()
    return None


SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc")
WORKDIR = "/sandbox"  # where the kernel sees its working copy


def _system_binds():
    """Read-only: the system, and this Python (a venv and the interpreter it points to)."""
    binds = []
    for path in SYSTEM_DIRS:
        if os.path.exists(path):
            binds += ["--ro-bind", path, path]
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for path in sorted(prefixes | {os.path.realpath(p) for p in prefixes}):
        if not any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS):
            binds += _with_parents(path) + ["--ro-bind", path, path]
    return binds


def _with_parents(path):
    """bwrap makes missing parents of a mount point; make them traversable by the kernel's uid
    (the real ones, such as a home directory, may not be)."""
    parents, parent = [], Path(path).parent
    while str(parent) not in ("/", "/tmp"):
        parents.insert(0, str(parent))
        parent = parent.parent
    return [arg for p in parents for arg in ("--perms", "0755", "--dir", p)]


def sandbox_command(kernel_cmd, workdir, runtime_dir, memory_bytes, cpu_seconds, processes, uid,
                    threads=1):
    """The kernel command wrapped in bwrap, a switch to an unprivileged uid, and prlimit."""
    command = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    # /tmp first: a Python installed under /tmp (a CI checkout) is then bound on top of it.
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    command += _system_binds()
    command += ["--bind", workdir, WORKDIR]
    command += _with_parents(runtime_dir) + ["--bind", runtime_dir, runtime_dir]
    environment = {"HOME": "/tmp", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                   "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3", "MPLCONFIGDIR": "/tmp",
                   "IPYTHONDIR": "/tmp/.ipython"}
    if threads:
        environment.update({name: str(threads) for name in (
            "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")})
    for name, value in environment.items():
        command += ["--setenv", name, value]
    command += ["--chdir", WORKDIR, "--"]
    if os.geteuid() == 0:
        # As root: drop to an unprivileged uid (RLIMIT_NPROC does not apply to root).
        command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all"]
    command += ["prlimit", f"--as={memory_bytes}", f"--cpu={cpu_seconds}",
                f"--nproc={processes}", "--core=0"]
    return command + list(kernel_cmd)


class SandboxedKernelManager(AsyncKernelManager):
    """An ipykernel started inside the sandbox, reached over Unix sockets."""

    memory_bytes = Integer(6 * 2**30, help="address-space limit of a kernel").tag(config=True)
    cpu_seconds = Integer(600, help="CPU-time limit of a kernel (all its threads)").tag(config=True)
    processes = Integer(512, help="limit on processes and threads of the kernel's uid").tag(config=True)
    threads = Integer(1, help="OpenMP and TensorFlow threads per kernel; 0 leaves the libraries' "
                              "defaults (one per core)").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.runtime_dir = tempfile.mkdtemp(prefix="course-kernel-")
        self.uid = 60000 + os.getpid() % 5000
        os.chmod(self.runtime_dir, 0o700)
        self.transport = "ipc"
        self.ip = os.path.join(self.runtime_dir, "ipc")
        self.connection_file = os.path.join(self.runtime_dir, "connection.json")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        workdir = os.path.realpath(kw.get("cwd") or os.getcwd())
        self.workdir = workdir
        # A signal would reach bwrap, not the kernel (its own session): interrupt by message.
        self.kernel_spec.interrupt_mode = "message"
        if os.geteuid() == 0:
            for path in (self.runtime_dir, self.connection_file):
                os.chown(path, self.uid, self.uid)
            _give_tree(workdir, self.uid)
        kw["env"] = {}
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL  # the kernel's own chatter, not the grader's
        command = sandbox_command(kernel_cmd, workdir, self.runtime_dir, self.memory_bytes,
                                  self.cpu_seconds, self.processes, self.uid, self.threads)
        await super()._async_launch_kernel(command, **kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            if os.geteuid() == 0 and getattr(self, "workdir", None):
                _give_tree(self.workdir, os.getuid())


def _give_tree(path, uid):
    for folder, _, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)
