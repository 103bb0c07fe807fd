"""One warm-kernel server per grading process (course.warm_kernels.share and lend): `course grade`
starts it and its workers fork their kernels from it, in this class and the next one this process
grades, instead of each worker importing the modules again in a server of its own."""
import asyncio
import threading

import psutil
import pytest
import tiny_course
from conftest import copy_course, needs_bubblewrap
from test_warm_kernels import stop_servers_of
from traitlets.config import Config

from course import warm_kernels
from course.grade import grade
from course.sandbox import SandboxedKernelManager

pytestmark = [needs_bubblewrap, pytest.mark.slow, pytest.mark.xdist_group("tiny_shared_server")]


class ServerWatch:
    """The PIDs of every warm-kernel server preloading numpy alone (a Python running
    course/kernel_zygote.py's source, started by bwrap; the tiny course's) among this process's descendants while it runs, sampled every 50 ms (a server lives at least
    as long as the class is graded: seconds)."""

    def __init__(self):
        self.seen, self._stop = set(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.wait(0.05):
            for process in psutil.Process().children(recursive=True):
                try:  # the kernels it forks have its command line, but not bwrap as parent
                    command, parent = process.cmdline(), process.parent()
                    server = any("The warm-kernel server" in part for part in command[:3]) and (
                        command[-1] == "numpy" and parent is not None and parent.name() == "bwrap")
                except psutil.Error:  # ended meanwhile
                    continue
                if server:
                    self.seen.add(process.pid)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def test_two_classes_graded_by_two_workers_fork_every_kernel_from_one_server(released_tiny_course,
                                                                            tmp_path):
    stop_servers_of(["numpy"])  # none of this process's earlier tests' servers
    firsts = []
    with ServerWatch() as watch:
        for number in range(2):
            root = copy_course(released_tiny_course, tmp_path / f"class{number}")
            earned = tiny_course.submit_class(root)
            results = grade(root, jobs=2, progress=False)
            assert {r.student: r.score for r in results if r.student in earned} == earned
            firsts.append(sorted(watch.seen))
    assert len(firsts[0]) == 1, f"servers of the first class: {firsts[0]}"
    assert firsts[1] == firsts[0], "the second class was graded with the same server"
    (zygote,) = [z for z in warm_kernels._servers.values() if z.alive() and z.modules == ("numpy",)]
    assert zygote.process.pid in {p.pid for p in psutil.Process(firsts[0][0]).parents()}, \
        "the server is this (grading) process's own"


def test_workers_whose_lent_server_has_ended_use_servers_of_their_own(released_tiny_course, tmp_path,
                                                                    monkeypatch):
    root = copy_course(released_tiny_course, tmp_path / "class")
    earned = tiny_course.submit_class(root)
    ended = []

    def share_then_end(modules, command, uid):
        zygote = warm_kernels.Zygote.get(modules, command, uid)
        zygote.process.kill()
        zygote.process.wait()
        ended.append(zygote.process.pid)
        return zygote.shared()

    monkeypatch.setattr(warm_kernels, "share", share_then_end)
    stop_servers_of(["numpy"])
    with ServerWatch() as watch:
        results = grade(root, jobs=2, progress=False)
    assert {r.student: r.score for r in results if r.student in earned} == earned
    assert ended and watch.seen and not watch.seen & set(ended)


FILL_PROCESSES = """
import os, time
children = []
try:
    while len(children) < 1000:
        pid = os.fork()
        if pid == 0:
            time.sleep(600)
            os._exit(0)
        children.append(pid)
except OSError:
    pass
print(len(children))
"""


async def _kernel(config):
    manager = SandboxedKernelManager(config=config, kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=120)
    return manager, client


async def _run(client, code):
    out = []
    reply = await client.execute_interactive(code, timeout=120,
                                             output_hook=lambda m: out.append(m["content"].get("text", "")))
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out)


def test_kernels_of_one_server_running_at_once_each_have_the_whole_process_limit():
    """Two kernels forked from one server run as one uid (as root): one that forks until the
    limit refuses leaves the other its whole limit."""
    config = Config()
    config.SandboxedKernelManager.preload = ["numpy"]
    config.SandboxedKernelManager.processes = 40

    async def both():
        (first, first_client), (second, second_client) = await _kernel(config), await _kernel(config)
        try:
            return int(await _run(first_client, FILL_PROCESSES)), int(await _run(second_client, FILL_PROCESSES))
        finally:
            for manager, client in ((first, first_client), (second, second_client)):
                client.stop_channels()
                await manager.shutdown_kernel(now=True)

    filled = asyncio.run(both())
    assert 20 < filled[0] < 40 and filled[1] == filled[0], filled
