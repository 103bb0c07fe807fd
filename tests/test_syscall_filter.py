"""The kernels' seccomp filter (course/syscall_filter.py).

The fast tests load the filter into a Python process of their own (as a warm kernel does,
course/kernel_zygote.py) after dropping every capability, and try each denied call, other ABIs,
and what honest code needs. The slow ones run hostile cells in sandboxed kernels, cold
(bubblewrap loads the filter) and warm (forked from the warm-kernel server), as
tests/test_warm_attacks.py does.
"""
import json
import os
import platform
import signal
import subprocess
import sys

import pytest
from conftest import needs_bubblewrap
from test_warm_attacks import last_json, scenario

from course import sandbox, syscall_filter
from course.nbgrader_api import load_config
from course.paths import REPOSITORY_ROOT

# CI installs libseccomp2 (.ci/run); elsewhere the tests that need it say why they skip.
pytestmark = pytest.mark.skipif(syscall_filter.problem() is not None,
                                reason=f"the seccomp filter cannot be built here: {syscall_filter.problem()}")

# Loads the filter (argv[1] == "on"), then prints what each attempt gave: an errno's text, a
# result, or a child's exit code (negative: the signal that killed it).
PROBE = r'''
import ctypes, json, mmap, os, platform, signal, subprocess, sys, threading
import pyseccomp
from course import kernel_zygote, syscall_filter
libc = ctypes.CDLL(None, use_errno=True)
numbers = {name: pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
           for name in syscall_filter.DENIED + ("clone", "clone3")}
kernel_zygote._drop_capabilities()  # root without capabilities: no call below can change the host
if sys.argv[1] == "on":
    kernel_zygote._load_syscall_filter(syscall_filter.bpf_program())

def call(name, *args):
    result = libc.syscall(numbers[name], *args)
    return os.strerror(ctypes.get_errno()) if result < 0 else result

def in_child(attempt):
    pid = os.fork()
    if pid == 0:
        attempt()
        os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

def clone(flags):  # a raw clone, as fork: the new process leaves at once
    pid = libc.syscall(numbers["clone"], flags | signal.SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    os._exit(ctypes.get_errno() if pid < 0 else 0)

def i386_getpid():  # mov eax, 20; int 0x80; ret
    code = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    code.write(b"\xb8\x14\x00\x00\x00\xcd\x80\xc3")
    ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(code)))()

seen = {"denied": {name: call(name, -1, -1, -1, -1, -1, -1) for name in syscall_filter.DENIED}}
seen["clone3"] = call("clone3", -1, -1)
seen["clone"] = {hex(flag): in_child(lambda: clone(flag)) for flag in syscall_filter.CLONE_NEW_FLAGS}
seen["plain clone"] = in_child(lambda: clone(0))
if platform.machine() == "x86_64":
    seen["x32 getpid"] = in_child(lambda: libc.syscall(0x40000000 | 39))
    seen["i386 getpid"] = in_child(i386_getpid)
results = []
thread = threading.Thread(target=lambda: results.append(os.getpid()))
thread.start()
thread.join()
seen["thread"] = results == [os.getpid()]
seen["fork"] = in_child(lambda: None)
import socket
pair = socket.socketpair()
default = pair[0].getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
pair[0].setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2**24)  # no error either way
pair[0].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2**24)
pair[0].setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # another option still works
seen["socket buffers"] = {"default": default, "asked": pair[0].getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
                          "receive": pair[0].getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                          "keepalive": pair[0].getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)}
child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid() > 1); os.memfd_create('x')"],
                       capture_output=True, text=True)
seen["subprocess"] = [child.stdout.strip(), child.stderr.strip().splitlines()[-1:]]
print(json.dumps(seen))
'''
EPERM = os.strerror(1)


def probe(state):
    run = subprocess.run([sys.executable, "-c", PROBE, state], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)})
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def filtered():
    return probe("on")


@pytest.fixture(scope="module")
def unfiltered():
    return probe("off")


def test_the_program_is_whole_bpf_instructions():
    program = syscall_filter.bpf_program()
    assert program and len(program) % 8 == 0 and len(program) // 8 < 4096  # BPF_MAXINSNS


def test_every_denied_call_fails_with_eperm(filtered):
    assert filtered["denied"] == dict.fromkeys(syscall_filter.DENIED, EPERM)


def test_clone_with_a_new_namespace_fails_and_clone3_is_unknown(filtered):
    assert filtered["clone"] == {hex(flag): 1 for flag in syscall_filter.CLONE_NEW_FLAGS}  # errno EPERM
    assert filtered["plain clone"] == 0
    assert filtered["clone3"] == os.strerror(38)  # ENOSYS: glibc and Python fall back to clone


def test_bigger_socket_buffers_are_ignored_and_other_options_work(filtered, unfiltered):
    """Asking for 16 MiB buffers succeeds and changes nothing (without the filter the buffer
    grows to net.core.wmem_max x 2): what socket buffers hold is memory outside memory_bytes."""
    seen = filtered["socket buffers"]
    assert seen["asked"] == seen["default"] and seen["keepalive"] == 1, seen
    assert seen["receive"] < 2**24
    assert unfiltered["socket buffers"]["asked"] > unfiltered["socket buffers"]["default"]


def test_threads_fork_and_subprocesses_work_and_inherit_the_filter(filtered):
    assert (filtered["thread"], filtered["fork"]) == (True, 0)
    assert filtered["subprocess"] == ["True", ["PermissionError: [Errno 1] Operation not permitted"]]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x32 and i386 are x86-64's other ABIs")
def test_a_call_of_another_abi_kills_the_process(filtered, unfiltered):
    assert filtered["x32 getpid"] == -signal.SIGSYS
    # a kernel built or booted without 32-bit emulation answers int 0x80 with SIGSEGV before any
    # filter runs: there the call cannot get through either
    i386_runs = unfiltered["i386 getpid"] == 0
    assert filtered["i386 getpid"] == (-signal.SIGSYS if i386_runs else unfiltered["i386 getpid"])


def test_grading_is_refused_where_the_filter_cannot_be_built(monkeypatch):
    """Without libseccomp (or pyseccomp) the sandbox as configured cannot run; with
    `seccomp = False` it can."""
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: None)
    assert sandbox.sandbox_refusal(load_config(REPOSITORY_ROOT)) is None
    monkeypatch.setattr(syscall_filter, "problem", lambda: syscall_filter.INSTALL_HINT)
    assert sandbox.sandbox_refusal(load_config(REPOSITORY_ROOT)) == syscall_filter.INSTALL_HINT
    unfiltered = load_config(REPOSITORY_ROOT, {"SandboxedKernelManager": {"seccomp": False}})
    assert sandbox.sandbox_refusal(unfiltered) is None


def test_without_the_filter_the_probe_gets_through(unfiltered):
    """The probe above can tell: without the filter none of the calls it makes is refused so."""
    assert unfiltered["denied"]["memfd_create"] != EPERM and unfiltered["denied"]["unshare"] != EPERM
    assert unfiltered["clone3"] != os.strerror(38)
    assert unfiltered["subprocess"][1] == []
    if platform.machine() == "x86_64":
        assert -signal.SIGSYS not in (unfiltered["x32 getpid"], unfiltered["i386 getpid"])


# -- in sandboxed kernels, cold and warm ---------------------------------------------------------

DISK = 32 * 2**20
LIMITS = {"memory_bytes": 2**30, "workdir_bytes": DISK, "tmp_bytes": DISK}
HOSTILE = r"""
import ctypes, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
def outcome(result):
    return os.strerror(ctypes.get_errno()) if result < 0 else result
seen = {}
read_end, write_end = os.pipe()
if os.fork() == 0:  # unshare(CLONE_NEWUSER) wants a single thread: the kernel has several
    found = {"unshare": outcome(libc.unshare(0x10000000 | 0x20000))}  # a user and a mount namespace
    os.makedirs("/tmp/own", exist_ok=True)
    found["mount"] = outcome(libc.mount(b"tmpfs", b"/tmp/own", b"tmpfs", 0, None))
    os.write(write_end, json.dumps(found).encode())
    os._exit(0)
os.close(write_end)
os.wait()
seen.update(json.loads(os.read(read_end, 4096)))
try:
    os.memfd_create("x")
    seen["memfd_create"] = "made"
except OSError as error:
    seen["memfd_create"] = error.strerror
seen["session keyring"] = outcome(libc.syscall(250, 0, -3, 0))  # KEYCTL_GET_KEYRING_ID
seen["grader's key"] = outcome(libc.syscall(250, 10, -3, b"user", b"grader-secret", 0))  # KEYCTL_SEARCH
seen["clone3"] = outcome(libc.syscall(435, 0, 0))
child = subprocess.run([sys.executable, "-c", "import os; os.memfd_create('x')"], capture_output=True, text=True)
seen["a child's memfd_create"] = child.stderr.strip().splitlines()[-1:]
seen["filters"] = [line.split()[1] for line in open("/proc/self/status") if line.startswith("Seccomp:")]
print(json.dumps(seen))
"""
HONEST = r"""
import concurrent.futures, json, multiprocessing, os, subprocess, sys
import numpy as np
seen = {}
pid = os.fork()
if pid == 0:
    os._exit(7)
seen["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
seen["subprocess"] = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout.strip()
pid = os.posix_spawn(sys.executable, [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
seen["posix_spawn"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
receiver, sender = multiprocessing.Pipe(duplex=False)
process = multiprocessing.get_context("fork").Process(target=sender.send, args=([1, 2],))
process.start()
seen["multiprocessing"] = receiver.recv()
process.join()
with multiprocessing.get_context("fork").Pool(2) as pool:  # its locks are semaphores in /dev/shm
    seen["pool"] = pool.map(abs, [-1, -2, 3])
with concurrent.futures.ThreadPoolExecutor(4) as threads:
    seen["threads"] = sum(threads.map(lambda x: x * x, range(10)))
seen["numpy"] = float((np.ones((64, 64)) @ np.ones(64)).sum())
print(json.dumps(seen))
"""
# review16's two attacks (tests/test_warm_attacks.py), which succeeded without the filter
MEMFD = """
import json, os, resource
limit = resource.getrlimit(resource.RLIMIT_AS)[0]
held, files, error = 0, [], None
try:
    while held < limit + 2**28:
        files.append(os.memfd_create('hog'))
        try:
            while True:
                held += os.write(files[-1], b'x' * 2**24)
        except OSError as full:  # 'File too large' at the file size limit: the next file
            if full.errno != 27:
                raise
except OSError as refused:
    error = refused.strerror
print(json.dumps({'limit MiB': limit >> 20, 'held MiB': held >> 20, 'error': error}))
"""
OWN_TMPFS = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
uid, gid = os.getuid(), os.getgid()
read, write = os.pipe()
child = os.fork()
if child == 0:  # unshare(CLONE_NEWUSER) wants a single thread: the kernel has several
    seen = {}
    try:
        if libc.unshare(0x10000000 | 0x20000) != 0:  # a user and a mount namespace
            raise OSError(ctypes.get_errno(), 'unshare: ' + os.strerror(ctypes.get_errno()))
        open('/proc/self/setgroups', 'w').write('deny')
        open('/proc/self/uid_map', 'w').write(f'0 {uid} 1')
        open('/proc/self/gid_map', 'w').write(f'0 {gid} 1')
        os.makedirs('/tmp/own', exist_ok=True)
        if libc.mount(b'tmpfs', b'/tmp/own', b'tmpfs', 0, None) != 0:  # no size=
            raise OSError(ctypes.get_errno(), 'mount: ' + os.strerror(ctypes.get_errno()))
        seen['written MiB'] = 0
        for number in range(4):  # files under the file size limit (the larger disk, 32 MiB)
            with open(f'/tmp/own/{number}', 'wb') as handle:
                for _ in range(16):
                    handle.write(b'x' * 2**20)
            seen['written MiB'] += os.path.getsize(f'/tmp/own/{number}') >> 20
    except OSError as error:
        seen['error'] = str(error)
    os.write(write, json.dumps(seen).encode())
    os._exit(0)
os.close(write)
os.waitpid(child, 0)
print(os.read(read, 4096).decode())
"""
MODES = {"cold": (), "warm": ("numpy",)}  # no preload: every kernel starts cold


@pytest.fixture(scope="module", params=list(MODES))
def kernels(request):
    """What each cell printed, each in a new kernel, with the grader holding a session keyring."""
    results = scenario([HOSTILE, HONEST, MEMFD, OWN_TMPFS], preload=MODES[request.param],
                       session_keyring=True, limits=LIMITS)
    return dict(zip(["hostile", "honest", "memfd", "own tmpfs"], map(last_json, results)))


def slow(test):
    """Marks a test that runs sandboxed kernels (minutes on a loaded machine)."""
    for mark in (needs_bubblewrap, pytest.mark.slow, pytest.mark.xdist_group("syscall_filter")):
        test = mark(test)
    return test


@slow
def test_a_kernel_cannot_make_namespaces_or_mount(kernels):
    seen = kernels["hostile"]
    assert (seen["unshare"], seen["mount"]) == (EPERM, EPERM), seen


@slow
def test_a_kernel_cannot_make_memory_backed_files(kernels):
    assert kernels["hostile"]["memfd_create"] == EPERM, kernels["hostile"]


@slow
def test_a_kernel_cannot_use_any_keyring(kernels):
    """Cold kernels shared the grader's session keyring, warm ones have their own: neither can
    reach one now, nor read the grader's key."""
    seen = kernels["hostile"]
    assert (seen["session keyring"], seen["grader's key"]) == (EPERM, EPERM), seen


@slow
def test_the_kernel_and_its_children_are_filtered(kernels):
    seen = kernels["hostile"]
    assert seen["filters"] == ["2"], seen  # SECCOMP_MODE_FILTER
    assert seen["a child's memfd_create"] == ["PermissionError: [Errno 1] Operation not permitted"], seen


@slow
def test_clone3_is_unknown_and_honest_code_runs(kernels):
    assert kernels["hostile"]["clone3"] == os.strerror(38), kernels["hostile"]  # ENOSYS
    assert kernels["honest"] == {"fork": 7, "subprocess": "42", "posix_spawn": 3, "multiprocessing": [1, 2],
                                 "pool": [1, 2, 3], "threads": 285, "numpy": 4096.0}


@slow
def test_a_kernel_holds_no_more_memory_than_memory_bytes(kernels):
    """RLIMIT_AS bounds mappings only: memfd files filled with write() held the host's memory
    without being mapped, each up to the file size limit, as many as the kernel liked."""
    seen = kernels["memfd"]
    assert seen["held MiB"] <= seen["limit MiB"] and seen["error"] == EPERM, seen


@slow
def test_a_kernel_writes_no_more_than_its_disk_limits(kernels):
    """A kernel made a user namespace (in a child process: the kernel is multithreaded) and
    mounted a tmpfs of its own there, without a size: memory beyond workdir_bytes and tmp_bytes."""
    seen = kernels["own tmpfs"]
    assert seen.get("written MiB", 0) <= DISK >> 20 and "unshare: Operation not permitted" in seen["error"], seen
