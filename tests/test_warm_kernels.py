"""Warm kernels (course/warm_kernels.py, course/kernel_zygote.py): kernels forked from one
server that imported the modules once are as far apart as kernels started cold in sandboxes of
their own. One server (preloading numpy) serves every test here, one kernel after another, as it
serves a grading worker."""
import asyncio
import json

import psutil
import pytest
from conftest import needs_bubblewrap
from traitlets.config import Config

from course import warm_kernels
from course.sandbox import SandboxedKernelManager

pytestmark = [needs_bubblewrap, pytest.mark.slow, pytest.mark.xdist_group("warm_kernels")]

LIMITS = {"memory_bytes": 3 * 2**30, "cpu_seconds": 77, "processes": 99}


def _config():
    config = Config()
    config.SandboxedKernelManager.preload = ["numpy"]
    for name, value in LIMITS.items():
        config.SandboxedKernelManager[name] = value
    return config


async def _run(code):
    """Run `code` in a new forked kernel; returns (its stdout, the kernel's host PID)."""
    manager = SandboxedKernelManager(config=_config(), kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    out = []
    try:
        await client.wait_for_ready(timeout=120)
        reply = await client.execute_interactive(
            code, timeout=120, output_hook=lambda m: out.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out), manager.provisioner.process.pid
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def run(code):
    return asyncio.run(_run(code))


def _json(code):
    return json.loads(run(code)[0].strip().splitlines()[-1])


@pytest.fixture(scope="module", autouse=True)
def one_server():
    yield
    warm_kernels.stop_all()


def test_a_forked_kernel_has_the_modules_already_and_its_own_limits():
    seen = _json("import sys, json, resource, os\n"
                 "print(json.dumps({'numpy': 'numpy' in sys.modules, 'cwd': os.getcwd(),"
                 " 'limits': [resource.getrlimit(getattr(resource, 'RLIMIT_' + n))[0]"
                 " for n in ('AS', 'CPU', 'NPROC', 'CORE')],"
                 " 'caps': [l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapBnd'))]}))")
    assert seen["numpy"], "numpy was imported by the server before the kernel was forked"
    assert seen["cwd"] == "/sandbox"
    assert seen["limits"] == [LIMITS["memory_bytes"], LIMITS["cpu_seconds"], LIMITS["processes"], 0]
    assert seen["caps"] == ["0000000000000000"] * 2


LEAVE_TRACES = """
import os, socket, subprocess, numpy, json
open('/tmp/left.txt', 'w').write('a secret')
open('/sandbox/left.txt', 'w').write('a secret')
numpy.pi = 3.0
os.environ['LEFT'] = '1'
abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
abstract.bind('\\0course-left')
abstract.listen(1)
try:
    tcp = socket.socket()
    tcp.bind(('127.0.0.1', 47011))
    tcp.listen(1)
except PermissionError:  # the system-call filter refuses IPv4 sockets; else the next must not reach it
    pass
subprocess.Popen(['setsid', 'sleep', '1000'], start_new_session=True)
print(json.dumps({'pid': os.getpid()}))
"""

FIND_TRACES = """
import os, socket, numpy, json
found = []
for path in ('/tmp/left.txt', '/sandbox/left.txt'):
    if os.path.exists(path):
        found.append(path)
if numpy.pi != 3.141592653589793:
    found.append('numpy.pi')
if 'LEFT' in os.environ:
    found.append('environment')
for family, address in ((socket.AF_UNIX, '\\0course-left'), (socket.AF_INET, ('127.0.0.1', 47011))):
    try:
        socket.socket(family, socket.SOCK_STREAM).connect(address)
        found.append(str(address))
    except OSError:
        pass
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            if b'sleep' in open(f'/proc/{pid}/cmdline', 'rb').read():
                found.append('the sleeping process')
        except OSError:
            pass
print(json.dumps(found))
"""


def test_nothing_of_one_kernel_reaches_the_next():
    _, first = run(LEAVE_TRACES)
    assert not psutil.pid_exists(first) or psutil.Process(first).status() == psutil.STATUS_ZOMBIE
    assert _json(FIND_TRACES) == []


def test_a_kernel_cannot_reach_the_server_or_undo_its_mounts():
    seen = _json("""
import ctypes, json, os, signal
libc = ctypes.CDLL(None, use_errno=True)
me = os.getpid()
reached = []
for pid in [p for p in os.listdir('/proc') if p.isdigit() and p != os.readlink('/proc/self')]:
    for what, attempt in (('mem', lambda: open(f'/proc/{pid}/mem', 'rb').read(1)),
                          ('environ', lambda: open(f'/proc/{pid}/environ', 'rb').read(1) or 1/0)):
        try:
            attempt()
            reached.append((pid, what))
        except (OSError, ZeroDivisionError):
            pass
TGKILL = {'x86_64': 234, 'aarch64': 131}[os.uname().machine]
def own_thread(tid):  # tgkill reaches only a thread of this process (its threads' /proc files are hidden)
    return libc.syscall(TGKILL, me, tid, 0) == 0
for pid in range(2, 4096):  # 1: this namespace's init (a signal from inside cannot end it)
    if not own_thread(pid):
        try:
            os.kill(pid, 0)
            reached.append((pid, 'signal'))
        except OSError:
            pass
# no user namespace of its own (which would give capabilities there; the mounts stay locked)
# (unshare needs a single-threaded process: a child of the kernel)
read_end, write_end = os.pipe()
if os.fork() == 0:
    found = []
    if libc.unshare(0x10000000 | 0x20000) != 0:
        found.append(('unshare', os.strerror(ctypes.get_errno())))
    for target in (b'/tmp', b'/sandbox', b'/dev/shm'):
        if libc.umount2(target, 2) == 0:
            found.append((target.decode(), 'unmounted'))
    os.write(write_end, json.dumps(found).encode())
    os._exit(0)
os.close(write_end)
child = json.loads(os.read(read_end, 65536))
reached += [r for r in child if r[0] != 'unshare']
unshared = not [r for r in child if r[0] == 'unshare']
print(json.dumps({'reached': reached, 'unshared': unshared}))
""")
    # the seccomp filter refuses the user namespace (course/syscall_filter.py), and the unmounts
    assert seen == {"reached": [], "unshared": False}


def test_a_dead_server_is_started_again():
    for zygote in warm_kernels._servers.values():
        zygote.process.kill()
        zygote.process.wait()
    assert _json("import json, sys; print(json.dumps('numpy' in sys.modules))") is True
