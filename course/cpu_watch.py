"""CPU time of a kernel's whole process tree, watched while a cell runs.

The sandbox's RLIMIT_CPU (prlimit --cpu) holds per process: every child a cell spawns gets the
full allowance again, so a few children can hold the cores for every other student's kernel.
`CpuWatch` adds up the CPU time of the kernel's process and everything below it (children that
exited and were reaped count in their parent's `children_*` times) and kills the whole tree once
a cell has used its budget. Portable: psutil and /proc, no cgroups (which need root).
"""
import threading

import psutil


def tree_cpu_seconds(pid):
    """CPU seconds (user + system) used so far by the process `pid` and all its descendants,
    with the children each of them has reaped; None if the process is gone. A process that
    exits between the listing and the reading is left out (its time is then counted in its
    parent's once the parent reaps it)."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def kill_tree(pid):
    """SIGKILL the process `pid` and all its descendants (listed twice, for children forked
    while the first kills went out). Returns how many processes were signalled."""
    killed = 0
    for _ in range(2):
        try:
            root = psutil.Process(pid)
            tree = [*root.children(recursive=True), root]
        except psutil.Error:
            tree = []
        for process in tree:
            try:
                process.kill()
                killed += 1
            except psutil.Error:
                continue
    return killed


class CpuWatch:
    """A context manager: while it is open, a thread adds up the CPU time of the process tree
    under `pid` every `interval` seconds and, once the tree has used more than `budget` seconds
    since the watch began, kills the whole tree (kill_tree) and sets `fired` (with `used`, the
    seconds counted). With `pid` None or `budget` <= 0 it does nothing. What the tree uses in
    the last interval before the kill is not stopped: at most the machine's cores x `interval`."""

    def __init__(self, pid, budget, interval=0.25):
        self.pid, self.budget, self.interval = pid, budget, interval
        self.fired, self.used = False, 0.0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        start = tree_cpu_seconds(self.pid) if self.pid is not None and self.budget > 0 else None
        if start is not None:
            self._thread = threading.Thread(target=self._watch, args=(start,), daemon=True,
                                            name=f"cpu-watch-{self.pid}")
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return False

    def _watch(self, start):
        while not self._stop.wait(self.interval):
            now = tree_cpu_seconds(self.pid)
            if now is None:
                return  # the kernel is gone: nothing left to watch
            self.used = now - start
            if self.used > self.budget:
                self.fired = True
                kill_tree(self.pid)
                return
