"""Run student kernels inside bubblewrap (bwrap), the sandbox Flatpak uses.

The kernel sees a read-only system and Python installation, an empty working directory and an
empty /tmp of its own (size-limited tmpfs that live as long as the sandbox; nothing in them is ever
copied back), and nothing of the course directory (not even the notebook it runs: the grader
sends it the cells), of the instructor's home, or of the network. Memory, CPU time and the number
of processes are limited with prlimit; a seccomp filter denies the system calls that would get
round those limits (course/syscall_filter.py). Kernel and grader talk over Unix sockets (ZeroMQ "ipc"
transport) in a private directory, since the kernel has no network; when the grader runs as root,
the kernel may create its sockets there, and the directory is closed to it before any cell runs.
"""
import asyncio
import base64
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, List, Unicode
from traitlets.utils.importstring import import_item

from course import kernel_zygote, syscall_filter, warm_kernels
from course.cpu_watch import kill_tree

INSTALL_HINT = ("bubblewrap (bwrap) is not installed. Debian/Ubuntu: `sudo apt-get install "
                "bubblewrap`; Fedora: `sudo dnf install bubblewrap`. Or grade without the sandbox: "
                "`course grade --no-sandbox` (student code then runs with your rights).")


def sandbox_problem():
    """Why the sandbox cannot run here, or None if it can."""
    if not sys.platform.startswith("linux"):
        return "the sandbox needs Linux (bubblewrap). " + INSTALL_HINT.split(". ", 1)[1]
    if shutil.which("bwrap") is None or shutil.which("prlimit") is None:
        return INSTALL_HINT
    if not _bwrap_sizes_tmpfs():
        return ("this bubblewrap cannot limit the size of a tmpfs (`bwrap --size`, bubblewrap 0.7 "
                "or newer): upgrade it, or grade without the sandbox: `course grade --no-sandbox`.")
    return None


def _bwrap_sizes_tmpfs():
    try:
        run = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--size" in run.stdout + run.stderr


def sandbox_refusal(config):
    """Why grading with this nbgrader config cannot start here: its kernel manager
    (`c.Execute.kernel_manager_class`) is the sandboxed one and the sandbox cannot run; else None."""
    manager = config.Execute.get("kernel_manager_class")
    if isinstance(manager, str):
        manager = import_item(manager)
    if isinstance(manager, type) and issubclass(manager, SandboxedKernelManager):
        seccomp = config.SandboxedKernelManager.get("seccomp", True)
        return sandbox_problem() or (syscall_filter.problem() if seccomp else None)
    return None


SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc")
WORKDIR = "/sandbox"  # the kernel's working directory: a fresh tmpfs


def python_dirs():
    """The folders of this Python (a venv and the interpreter it points to) outside SYSTEM_DIRS,
    sorted: the sandbox binds them read-only."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return [path for path in sorted(prefixes | {os.path.realpath(p) for p in prefixes})
            if not any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)]


def _system_binds():
    """Read-only: the system, and this Python."""
    binds = []
    for path in SYSTEM_DIRS:
        if os.path.exists(path):
            binds += ["--ro-bind", path, path]
    for path in python_dirs():
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


# A kernel started cold is the namespace's PID 1 (the command bwrap runs, not a child of its
# init), so that its /proc entries exist while bwrap sets up: its /proc/self/mem reads as
# /dev/null, its threads' (/proc/self/task/*/mem) are not there, and /proc is read-only. Through
# them a cell could rewrite the checks' bytecode in place or read hidden tests left in freed
# memory (review rounds 9 and 11). The kernel's children see the same mounts.
# bwrap's init would kill it when bwrap dies (the grader died, or killed the kernel); without
# it, the kernel ends itself when bwrap's status pipe (--json-status-fd) closes
# (kernel_zygote.guarded_kernel).
COLD_KERNEL_PROC = ["--as-pid-1", "--dev-bind", "/dev/null", "/proc/1/mem",
                    "--perms", "0555", "--size", "4096", "--tmpfs", "/proc/1/task", "--remount-ro", "/proc"]


def sandbox_command(kernel_cmd, runtime_dir, *, memory_bytes, cpu_seconds, processes, uid,
                    workdir_bytes, tmp_bytes, open_files=256, threads=1, limits=True, seccomp_fd=None,
                    alive=None):
    """The kernel command wrapped in bwrap, a switch to an unprivileged uid, and prlimit.

    The working directory (WORKDIR), /tmp and /dev/shm are new tmpfs of `workdir_bytes`,
    `tmp_bytes` and `tmp_bytes` (bytes; a write beyond gets "No space left on device");
    `runtime_dir` (the grader's socket directory) is the only host path bound writable.
    `limits=False` leaves out prlimit (the warm-kernel server: each kernel it forks sets its
    own, and hides its own memory); otherwise /proc is read-only. With `alive` (the read and
    write descriptors of a pipe, passed to bwrap, for a kernel of guarded_command) the kernel
    hides its memory as a forked one does (COLD_KERNEL_PROC), and bwrap writes its status to the
    write end, which it alone holds, open until it ends.
    `seccomp_fd`: a descriptor, passed to bwrap, of the seccomp filter's BPF program
    (course/syscall_filter.py) for the kernel and all it starts; None: no filter (the
    warm-kernel server, whose kernels load it themselves)."""
    command = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    # /tmp first: a Python installed under /tmp (a CI checkout) is then bound on top of it.
    # /dev/shm (POSIX shared memory and semaphores: multiprocessing's Pool) as big as /tmp
    if alive is not None:
        command += ["--json-status-fd", str(alive[1])]
    proc = (COLD_KERNEL_PROC if alive is not None else ["--remount-ro", "/proc"]) if limits else []
    command += ["--proc", "/proc", *proc, "--dev", "/dev",
                "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/dev/shm",
                "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    command += _system_binds()
    command += ["--perms", "1777", "--size", str(workdir_bytes), "--tmpfs", WORKDIR]
    command += _with_parents(runtime_dir) + ["--bind", runtime_dir, runtime_dir]
    environment = {"HOME": "/tmp", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                   "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3", "MPLCONFIGDIR": "/tmp",
                   "IPYTHONDIR": "/tmp/.ipython"}
    if threads:
        environment.update({name: str(threads) for name in (
            "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")})
    for name, value in environment.items():
        command += ["--setenv", name, value]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    command += ["--chdir", WORKDIR, "--"]
    if os.geteuid() == 0:
        # As root: drop to an unprivileged uid (RLIMIT_NPROC does not apply to root).
        command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all"]
    if limits:
        command += ["prlimit", *(f"--{name.lower()}={value}" for name, value in rlimits(
            memory_bytes=memory_bytes, cpu_seconds=cpu_seconds, processes=processes,
            file_bytes=max(workdir_bytes, tmp_bytes), open_files=open_files).items())]
    return command + list(kernel_cmd)


def rlimits(*, memory_bytes, cpu_seconds, processes, file_bytes, open_files=256):
    """The resource limits of a kernel, by their RLIMIT_ names without the prefix. FSIZE
    (`file_bytes`, the larger tmpfs): no file larger, memory-backed files (memfd_create, which no
    tmpfs size and, never mapped, no address-space limit bounds) included; it is per file.
    NOFILE (`open_files`) also bounds the kernel's sockets, whose buffers are memory outside
    memory_bytes (the filter keeps each at the system's default size), and the descriptors a
    process may have in flight over Unix sockets."""
    return {"AS": memory_bytes, "CPU": cpu_seconds, "NPROC": processes, "CORE": 0,
            "FSIZE": file_bytes, "NOFILE": open_files}


def guarded_command(kernel_cmd, modules, alive):
    """`kernel_cmd` (python -m ipykernel_launcher ARGS) as the same kernel with a warm kernel's
    guards, `modules` imported first (course.kernel_zygote.guarded_kernel), that ends when the
    pipe `alive` (read and write descriptors, both passed to bwrap) reads end of file; None for
    any other kernel command. The source goes on the command line, as the warm-kernel server's
    does."""
    if kernel_cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return None
    source = Path(kernel_zygote.__file__).read_text(encoding="utf-8")
    return [kernel_cmd[0], "-c", source, kernel_zygote.COLD_KERNEL, ",".join(map(str, alive)), *modules,
            "--", *kernel_cmd[3:]]


SOCKETS_SECONDS = 120  # how long a starting kernel may take to create its sockets
_live = weakref.WeakSet()  # the sandboxed kernel managers of this process


class SandboxedKernelManager(AsyncKernelManager):
    """An ipykernel started inside the sandbox, reached over Unix sockets.

    The `cwd` nbgrader asks for (the autograded folder, which holds the notebook with its hidden
    tests) is not given to the kernel: it works in a fresh tmpfs."""

    kernel_depth = 2  # bwrap, then its init in the new PID namespace, then the kernel
    memory_bytes = Integer(6 * 2**30, help="address-space limit of a kernel").tag(config=True)
    cpu_seconds = Integer(600, help="CPU-time limit of a kernel (all its threads)").tag(config=True)
    processes = Integer(512, help="limit on processes and threads of the kernel's uid").tag(config=True)
    open_files = Integer(256, help="limit on open files and sockets of each kernel process (each "
                                    "socket's buffers are memory outside memory_bytes)").tag(config=True)
    threads = Integer(1, help="OpenMP and TensorFlow threads per kernel; 0 leaves the libraries' "
                              "defaults (one per core)").tag(config=True)
    workdir_bytes = Integer(256 * 2**20, help="size of the kernel's working directory (a tmpfs, in "
                                              "memory)").tag(config=True)
    tmp_bytes = Integer(256 * 2**20, help="size of the kernel's /tmp (a tmpfs, in memory)").tag(config=True)
    max_message_bytes = Integer(64 * 2**20, help="largest message part the grader accepts from the "
                                                 "kernel; a larger one is dropped").tag(config=True)
    seccomp = Bool(True, help="deny the kernel the system calls that get round the sandbox's limits "
                              "(namespaces, mounts, memfd_create, keyrings...: course/syscall_filter.py)"
                   ).tag(config=True)
    preload = List(Unicode(), help="modules a warm-kernel server imports once per grading process; "
                                   "each kernel is forked from it, in namespaces of its own "
                                   "(course/kernel_zygote.py). Empty: every kernel starts cold"
                   ).tag(config=True)
    warm = Bool(True, help="fork kernels from a warm-kernel server; False: every kernel starts cold, "
                           "importing `preload` itself, with the same guards").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.runtime_dir = tempfile.mkdtemp(prefix="course-kernel-",
                                            dir=warm_kernels.sockets_root() if self.preload else None)
        self.uid = 60000 + os.getpid() % 5000
        os.chmod(self.runtime_dir, 0o700)
        self.transport = "ipc"
        self.ip = os.path.join(self.runtime_dir, "ipc")
        self.connection_file = os.path.join(self.runtime_dir, "connection.json")
        _live.add(self)

    def client(self, **kwargs):
        """A client whose sockets drop any message part larger than max_message_bytes (ZeroMQ's
        MAXMSGSIZE), so that one huge output cannot fill the grader's memory."""
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        client = super().client(context=context, **kwargs)
        client._created_context = True  # destroyed with the client's channels
        return client

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # A signal would reach bwrap, not the kernel (its own session): interrupt by message.
        self.kernel_spec.interrupt_mode = "message"
        root = os.geteuid() == 0
        if root:
            self._open_runtime_dir()
        if self.preload and self.warm and await self._launch_warm():
            connection_info = self.provisioner.connection_info
        else:
            connection_info = await self._launch_cold(kernel_cmd, **kw)
        self._reconcile_connection_info(connection_info)
        if root:
            await self._wait_for_sockets()
            os.chmod(self.runtime_dir, 0o750)  # the kernel can no longer create files there

    async def _launch_warm(self):
        """Fork the kernel from this process's warm-kernel server; False where that cannot be
        done here (the kernel then starts cold)."""
        root = os.geteuid() == 0
        if root:
            os.chown(warm_kernels.sockets_root(), 0, self.uid)
            os.chmod(warm_kernels.sockets_root(), 0o770)
        zygote = warm_kernels.Zygote.get(self.preload, lambda runtime_root, argv: sandbox_command(
            argv, runtime_root, memory_bytes=self.memory_bytes, cpu_seconds=self.cpu_seconds,
            processes=self.processes, uid=self.uid, workdir_bytes=self.workdir_bytes,
            tmp_bytes=self.tmp_bytes, open_files=self.open_files, threads=self.threads, limits=False))
        request = {"connection_file": self.connection_file, "runtime_dir": self.runtime_dir,
                   "workdir": WORKDIR, "workdir_bytes": self.workdir_bytes, "python_dirs": python_dirs(),
                   "tmp_bytes": self.tmp_bytes,
                   "limits": rlimits(memory_bytes=self.memory_bytes, cpu_seconds=self.cpu_seconds,
                                     processes=self.processes, open_files=self.open_files,
                                     file_bytes=max(self.workdir_bytes, self.tmp_bytes)),
                   "seccomp": (base64.b64encode(syscall_filter.bpf_program()).decode()
                               if self.seccomp else None)}
        try:
            process = await zygote.fork(request, uid=self.uid if root else None)
        except warm_kernels.WarmKernelsUnavailable as error:
            self.log.warning("%s: this kernel starts cold", error)
            return False
        self.provisioner.process, self.provisioner.pid, self.provisioner.pgid = process, process.pid, None
        return True

    async def _launch_cold(self, kernel_cmd, **kw):
        """Start the kernel in a sandbox of its own; returns the connection info."""
        kw["env"] = {}
        kw["cwd"] = self.runtime_dir  # of bwrap itself; never the autograded folder
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL  # the kernel's own chatter, not the grader's
        program = syscall_filter.program_file() if self.seccomp else None
        alive = os.pipe()  # bwrap holds the write end (its status) while it runs
        try:
            kw["pass_fds"] = (*alive, *([] if program is None else [program.fileno()]))
            guarded = guarded_command(kernel_cmd, self.preload or ["numpy"], alive)
            command = sandbox_command(guarded or kernel_cmd, self.runtime_dir, memory_bytes=self.memory_bytes,
                                      cpu_seconds=self.cpu_seconds, processes=self.processes,
                                      uid=self.uid, workdir_bytes=self.workdir_bytes,
                                      tmp_bytes=self.tmp_bytes, open_files=self.open_files,
                                      threads=self.threads, alive=alive if guarded else None,
                                      seccomp_fd=None if program is None else program.fileno())
            return await self.provisioner.launch_kernel(command, **kw)
        finally:
            for descriptor in alive:
                os.close(descriptor)
            if program is not None:
                program.close()  # bwrap has its own descriptor of it

    def _open_runtime_dir(self):
        """Let the kernel's uid (as group) create its sockets; the connection file stays the
        grader's, readable by the kernel."""
        os.chown(self.runtime_dir, 0, self.uid)
        os.chmod(self.runtime_dir, 0o770)
        os.chown(self.connection_file, 0, self.uid, follow_symlinks=False)
        os.chmod(self.connection_file, 0o640, follow_symlinks=False)

    def _socket_paths(self):
        info = self.get_connection_info()
        return [f"{self.ip}-{info[name]}" for name in
                ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")]

    async def _wait_for_sockets(self):
        """Until the kernel has created its five sockets (before it runs any cell), or has
        exited, or SOCKETS_SECONDS have passed."""
        deadline = time.monotonic() + SOCKETS_SECONDS
        process = getattr(self.provisioner, "process", None)
        while time.monotonic() < deadline and (process is None or process.poll() is None):
            if all(_is_socket(path) for path in self._socket_paths()):
                return
            await asyncio.sleep(0.05)

    def _exited(self):
        """The sandbox (bwrap) has exited and been reaped: its process group is gone with it (the
        PID namespace ends), and its number may already belong to another process."""
        process = getattr(self.provisioner, "process", None)
        return process is not None and process.poll() is not None

    # jupyter_client signals the kernel's process group by number, also after the kernel died by
    # itself; with PIDs reused (student code forks a lot), that number can be anybody's group.
    async def _async_kill_kernel(self, restart=False):
        if self._exited():
            await self.provisioner.wait()
            return
        kill_tree(self.provisioner.process.pid)  # the kernel too, which may have left bwrap's group
        await super()._async_kill_kernel(restart=restart)

    async def _async_send_kernel_sigterm(self, restart=False):
        if self._exited():
            await self.provisioner.wait()
            return
        await super()._async_send_kernel_sigterm(restart=restart)

    async def _async_signal_kernel(self, signum):
        if self._exited():
            await self.provisioner.wait()
            return
        await super()._async_signal_kernel(signum)

    _kill_kernel = _async_kill_kernel  # AsyncKernelManager's public aliases of the three
    _send_kernel_sigterm = _async_send_kernel_sigterm
    signal_kernel = _async_signal_kernel

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)


def _is_socket(path):
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError:
        return False


def kill_kernels():
    """Kill every sandboxed kernel this process started and has not shut down (with all their
    processes: the sandbox's PID namespace ends with them); returns how many were running.
    The kernel is killed with bwrap: a kernel started cold is the namespace's PID 1, which ends
    itself when bwrap goes, but not while a C call holds its GIL."""
    killed = 0
    for manager in list(_live):
        process = getattr(manager.provisioner, "process", None) if manager.provisioner else None
        if process is not None and process.poll() is None:
            kill_tree(process.pid)
            process.wait()
            killed += 1
    return killed
