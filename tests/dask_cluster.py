"""A real Dask cluster on this machine for tests: `dask scheduler` and worker processes
(`dask worker`, one process and one thread each), separate processes talking TCP on localhost,
started from this environment's bin/ and stopped afterwards."""
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil

START_SECONDS = 120  # a loaded 2-core machine takes a while to import distributed thrice
LEFTOVER_SECONDS = 20  # for the workers' grading processes to end after their worker


@contextmanager
def local_cluster(folder, workers=2, env=None, hide=()):
    """Start a scheduler and `workers` workers with their files (logs, the scheduler file, the
    workers' scratch space) in `folder` (made here); the folders `hide` are empty for the
    workers (each worker runs in bubblewrap with an empty tmpfs there, as on a machine that
    shares no disk with the instructor's). Yield the scheduler's address
    (tcp://127.0.0.1:PORT) once every worker has joined. Raises RuntimeError, with the logs,
    where that takes longer than START_SECONDS, and afterwards where a process the cluster
    started (a worker's grading process) outlived it by LEFTOVER_SECONDS (it is killed)."""
    from distributed import Client

    folder = Path(folder)
    folder.mkdir(parents=True)
    dask = str(Path(sys.executable).parent / "dask")
    scheduler_file = folder / "scheduler.json"
    environment = {**os.environ, **(env or {})}
    started = []
    with ExitStack() as stack:
        stack.callback(_stop_all, started)
        logs = []

        def start(name, command):
            log = stack.enter_context(open(folder / f"{name}.log", "wb"))
            logs.append(folder / f"{name}.log")
            started.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env=environment, cwd=folder, start_new_session=True))

        start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                            "--scheduler-file", str(scheduler_file)])
        deadline = time.monotonic() + START_SECONDS
        while not scheduler_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the Dask scheduler did not start:\n" + _tails(logs))
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written in one go, but be sure it is complete
        address = json.loads(scheduler_file.read_text())["address"]
        hiding = ["bwrap", "--die-with-parent", "--dev-bind", "/", "/"] + [a for p in hide for a in ("--tmpfs", str(p))] + ["--"]
        for number in range(workers):
            start(f"worker{number}", (hiding if hide else []) + [dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                      "--no-dashboard", "--host", "127.0.0.1",
                                      "--local-directory", str(folder / f"worker{number}")])
        with Client(address, timeout=f"{START_SECONDS}s") as client:
            try:
                client.wait_for_workers(workers, timeout=START_SECONDS)
            except TimeoutError:
                raise RuntimeError(f"{workers} Dask workers did not join:\n" + _tails(logs)) from None
        yield address


def _stop_all(processes):
    """Stop the workers, then the scheduler (SIGTERM to each one's process group: a worker in
    bubblewrap gets it too); RuntimeError if any of their descendants is left."""
    descendants = []
    for process in processes:
        try:
            descendants += psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    for process in reversed(processes):
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    _, alive = psutil.wait_procs(descendants, timeout=LEFTOVER_SECONDS)
    for process in alive:
        process.kill()
    if alive:
        raise RuntimeError(f"processes outlived the Dask cluster: {[p.pid for p in alive]}")


def _tails(logs):
    return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in logs
                     if path.exists())
