"""course.cpu_watch on real process trees (no kernel): CPU time is added up over the children,
and a tree past its budget is killed whole. The spinning processes burn at most ~1.5 s of CPU."""
import os
import subprocess
import sys
import time

import psutil

from course.cpu_watch import CpuWatch, tree_cpu_seconds

# A parent that starts `n` children, each spinning `seconds` of CPU time; it prints their pids,
# waits for them (reaping them) and then sleeps until killed.
TREE = '''import subprocess, sys, time
spin = "import time\\nstart = time.process_time()\\nwhile time.process_time() - start < {seconds}:\\n    pass"
children = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range({n})]
print(" ".join(str(child.pid) for child in children), flush=True)
for child in children:
    child.wait()
print("reaped", flush=True)
time.sleep(60)
'''


def _tree(n, seconds):
    process = subprocess.Popen([sys.executable, "-c", TREE.format(n=n, seconds=seconds)],
                               stdout=subprocess.PIPE, text=True)
    children = [int(pid) for pid in process.stdout.readline().split()]
    return process, children


def _end(process):
    for child in psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []:
        child.kill()
    process.kill()
    process.wait()


def test_reaped_children_count_in_the_tree():
    """Two children spin 0.3 s each and are reaped: the parent's tree has used 0.6 s, though
    the parent itself has barely run."""
    process, _ = _tree(2, 0.3)
    try:
        assert process.stdout.readline() == "reaped\n"
        own = psutil.Process(process.pid).cpu_times()
        assert own.user + own.system < 0.5
        assert tree_cpu_seconds(process.pid) >= 0.55
    finally:
        _end(process)
    assert tree_cpu_seconds(process.pid) is None, "a process that is gone has no tree"


def test_a_tree_past_its_budget_is_killed_whole():
    """Two children that would spin 20 s each: the watch stops the tree once it has used 0.6 s
    (within the cores x interval it does not see), children and parent."""
    process, pids = _tree(2, 20)
    children = [psutil.Process(pid) for pid in pids]  # is_running() below tells a reused PID apart
    start = time.monotonic()
    try:
        with CpuWatch(process.pid, 0.6, interval=0.1) as watch:
            process.wait(timeout=30)
    finally:
        _end(process)
    assert watch.fired and process.returncode == -9, (watch.fired, process.returncode)
    assert 0.6 < watch.used <= 0.6 + (os.cpu_count() or 1) * 0.1 + 0.2, watch.used
    assert time.monotonic() - start < 20
    deadline = time.monotonic() + 5  # SIGKILL takes a moment to land on a loaded machine (CI)
    for child in children:  # CI's other tests fork thousands of processes: PIDs come back fast
        while child.is_running() and child.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, child


def test_a_tree_within_its_budget_is_left_alone():
    process, _ = _tree(1, 0.2)
    try:
        with CpuWatch(process.pid, 5, interval=0.1) as watch:
            assert process.stdout.readline() == "reaped\n"
            time.sleep(0.3)  # a few more readings
        assert not watch.fired and process.poll() is None
        assert 0.15 < watch.used < 5
    finally:
        _end(process)


def test_a_watch_without_a_process_or_budget_does_nothing():
    for pid, budget in ((None, 1), (os.getpid(), 0)):
        with CpuWatch(pid, budget) as watch:
            pass
        assert not watch.fired and watch._thread is None
