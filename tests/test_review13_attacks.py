"""Review of issue 13's sandbox (the seccomp filter of course/syscall_filter.py and the kernel
limits): a hostile student's cells run in sandboxed kernels, cold (bubblewrap loads the filter)
and warm (forked from the warm-kernel server, course/kernel_zygote.py), as
tests/test_syscall_filter.py does. Each test asserts the safe behaviour; before the filter
denied `shmget`, `msgget` and AF_INET/AF_INET6 sockets, every case failed but warm TCP (a warm
kernel's loopback is down); the Unix-socket cases failed before the filter ignored buffer sizes and
the kernel's open files were limited.

System V IPC is memory of the same kind as memfd: a shared-memory segment filled through a
mapping and detached is no longer in the address space, nor in any process's RSS (the OOM
killer would not even pick the sandbox), and stays; message queues hold `msgmni` x `msgmnb`
(32000 x 16 KiB, 500 MiB) in each IPC namespace. TCP buffers on a cold kernel's loopback count
in the host's TCP memory, one pool for every network namespace.
"""

import pytest
from conftest import needs_bubblewrap
from test_warm_attacks import last_json, scenario

pytestmark = [needs_bubblewrap, pytest.mark.slow, pytest.mark.xdist_group("review13")]

MiB = 2**20
LIMITS = {"memory_bytes": 2**30, "workdir_bytes": 32 * MiB, "tmp_bytes": 32 * MiB}

# System V shared memory: segments filled through a mapping, then detached; until 256 MiB
# more than the address-space limit is held.
SYSV_SHM = r'''
import ctypes, json, os, resource
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
limit = resource.getrlimit(resource.RLIMIT_AS)[0]
held, error, chunk = 0, None, 64 * 2**20
while held < limit + 2**28:
    ident = libc.shmget(0, chunk, 0o600 | 0o1000)  # IPC_PRIVATE, IPC_CREAT
    if ident < 0:
        error = 'shmget: ' + os.strerror(ctypes.get_errno())
        break
    address = libc.shmat(ident, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        error = 'shmat: ' + os.strerror(ctypes.get_errno())
        break
    ctypes.memset(address, 1, chunk)
    libc.shmdt(ctypes.c_void_p(address))
    held += chunk
print(json.dumps({'limit MiB': limit >> 20, 'held MiB': held >> 20, 'error': error}))
'''
# System V message queues: as many queues as the namespace allows, each filled.
SYSV_MSG = r'''
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
class Message(ctypes.Structure):
    _fields_ = [('mtype', ctypes.c_long), ('mtext', ctypes.c_char * 8000)]
message = Message(1, b'x' * 8000)
held, error, queues = 0, None, 0
while held < 2**29:
    queue = libc.msgget(0, 0o600 | 0o1000)  # IPC_PRIVATE, IPC_CREAT
    if queue < 0:
        error = 'msgget: ' + os.strerror(ctypes.get_errno())
        break
    queues += 1
    while libc.msgsnd(queue, ctypes.byref(message), 8000, 0o4000) == 0:  # IPC_NOWAIT
        held += 8000
print(json.dumps({'held MiB': held >> 20, 'queues': queues, 'error': error}))
'''
# TCP over the sandbox's loopback: connections whose receiver never reads. TCP's memory is
# accounted host-wide (/proc/net/sockstat "mem", bounded by net.ipv4.tcp_mem), not per network
# namespace; the cell reports it while the connections are open.
TCP_BUFFERS = r'''
import json, resource, socket
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
sockstat = open('/proc/net/sockstat')
def tcp_pages():
    sockstat.seek(0)
    return int([l for l in sockstat.read().splitlines() if l.startswith('TCP:')][0].split()[-1])
held, connections, error = 0, [], None
try:
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1000)
    while held < 3 * 2**30 and len(connections) < min(9000, hard // 2 - 200):
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2**24)
        client.connect(server.getsockname())
        peer, _ = server.accept()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2**24)
        connections.append((client, peer))
        client.setblocking(False)
        try:
            while True:
                held += client.send(b'x' * 65536)
        except BlockingIOError:
            pass
except OSError as refused:
    error = str(refused)
print(json.dumps({'held MiB': held >> 20, 'connections': len(connections), 'error': error,
                  'host TCP pages': tcp_pages(), 'limit MiB': resource.getrlimit(resource.RLIMIT_AS)[0] >> 20}))
'''
# Unix socket pairs, each end's send buffer asked for 16 MiB and filled; both ends then passed
# through a carrier socket (SCM_RIGHTS) and closed, so that they hold memory with no descriptor
# left; until 3 GiB is held or the kernel refuses.
UNIX_SOCKETS = r'''
import array, json, resource, socket
# ipykernel sets up a thread's output pipe at its first print: done before the descriptors run out
print("unix sockets", flush=True)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
except (ValueError, OSError):
    pass
held, pairs, in_flight, error = 0, [], 0, None
def fill(sock):
    global held
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2**24)
    sock.setblocking(False)
    try:
        while True:
            held += sock.send(b'x' * 65536)
    except BlockingIOError:
        pass
try:
    carriers = [socket.socketpair()]
    carriers[-1][0].setblocking(False)
    while held < 3 * 2**30:
        a, b = socket.socketpair()
        fill(a); fill(b)
        try:  # pass both ends through a carrier and close them here: in flight, no descriptor left
            carriers[-1][0].sendmsg([b'.'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [a.fileno(), b.fileno()]))])
            a.close(); b.close(); in_flight += 2
        except BlockingIOError:  # this carrier is full: the next one
            pairs.append((a, b))
            carriers.append(socket.socketpair())
            carriers[-1][0].setblocking(False)
        except OSError:  # too many in flight
            pairs.append((a, b))
except OSError as refused:
    error = str(refused)
print(json.dumps({'held MiB': held >> 20, 'open pairs': len(pairs), 'carriers': len(carriers), 'in flight': in_flight, 'error': error,
                  'nofile': resource.getrlimit(resource.RLIMIT_NOFILE),
                  'limit MiB': resource.getrlimit(resource.RLIMIT_AS)[0] >> 20}))
'''
CELLS = {"shm": SYSV_SHM, "msg": SYSV_MSG, "tcp": TCP_BUFFERS, "unix": UNIX_SOCKETS}
MODES = {"cold": (), "warm": ("numpy",)}


@pytest.fixture(scope="module", params=list(MODES))
def kernels(request):
    """What each cell printed, each in a new kernel (1 GiB memory_bytes)."""
    results = scenario(list(CELLS.values()), preload=MODES[request.param], limits=LIMITS)
    return {"mode": request.param, **dict(zip(CELLS, map(last_json, results)))}


def test_a_kernel_holds_no_more_memory_than_memory_bytes_in_sysv_shared_memory(kernels):
    """shmget/shmat/memset/shmdt, 64 MiB at a time: 1280 MiB held with a 1024 MiB limit, and
    nothing stops it before the host runs out (shmall of a new IPC namespace is unlimited)."""
    seen = kernels["shm"]
    assert seen["held MiB"] <= seen["limit MiB"], (kernels["mode"], seen)


def test_a_kernel_holds_no_more_than_a_little_memory_in_sysv_message_queues(kernels):
    """msgget/msgsnd: up to 32000 queues of 16 KiB each (500 MiB) outside memory_bytes and outside
    any disk limit; honest notebook code never uses System V message queues."""
    seen = kernels["msg"]
    assert seen["held MiB"] <= 32, (kernels["mode"], seen)


def test_a_kernel_cannot_push_the_hosts_tcp_memory_into_pressure(kernels):
    """Loopback TCP connections whose receiver never reads: 9000 of them held 2282 MiB past a
    1024 MiB memory_bytes, and the host's TCP memory (one pool for every network namespace)
    went past net.ipv4.tcp_mem's hard limit (593079 pages > 575796): while that kernel runs,
    every TCP socket of the host (the Dask engine, the Postgres gradebook, SSH) is throttled
    or refused memory. (A warm kernel's loopback is down: "Network is unreachable", it holds there.)"""
    with open("/proc/sys/net/ipv4/tcp_mem") as limits:
        pressure = int(limits.read().split()[1])
    seen = kernels["tcp"]
    assert seen["host TCP pages"] < pressure and seen["held MiB"] <= seen["limit MiB"], (kernels["mode"], seen)


def test_a_kernel_process_holds_little_memory_in_unix_socket_buffers(kernels):
    """Unix socket pairs with 16 MiB send buffers (SO_SNDBUF up to net.core.wmem_max), filled, and
    passed in flight so that they outlive their descriptors: 3076 MiB held past a 1024 MiB
    memory_bytes, and nothing stopped it. Now setsockopt of the buffer sizes is ignored (the
    filter) and open_files (256) bounds the sockets a process has open and in flight: about
    2 x 256 x net.core.wmem_default (208 KiB), 101 MiB here."""
    seen = kernels["unix"]
    assert seen["nofile"] == [256, 256], (kernels["mode"], seen)
    assert seen["held MiB"] <= 128, (kernels["mode"], seen)
