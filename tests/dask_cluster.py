"""A real Dask cluster on this machine for tests: `dask scheduler` and worker processes
(`dask worker`, one process and one thread each), separate processes talking TCP on localhost,
started from this environment's bin/ and stopped afterwards."""
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

START_SECONDS = 120  # a loaded 2-core machine takes a while to import distributed thrice


@contextmanager
def local_cluster(folder, workers=2, env=None):
    """Start a scheduler and `workers` workers with their files (logs, the scheduler file, the
    workers' scratch space) in `folder` (made here); yield the scheduler's address
    (tcp://127.0.0.1:PORT) once every worker has joined. Raises RuntimeError, with the logs,
    where that takes longer than START_SECONDS."""
    from distributed import Client

    folder = Path(folder)
    folder.mkdir(parents=True)
    dask = str(Path(sys.executable).parent / "dask")
    scheduler_file = folder / "scheduler.json"
    environment = {**os.environ, **(env or {})}
    with ExitStack() as stack:
        logs = []

        def start(name, command):
            log = stack.enter_context(open(folder / f"{name}.log", "wb"))
            logs.append(folder / f"{name}.log")
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment,
                                       cwd=folder)
            stack.callback(_stop, process)

        start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                            "--scheduler-file", str(scheduler_file)])
        deadline = time.monotonic() + START_SECONDS
        while not scheduler_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the Dask scheduler did not start:\n" + _tails(logs))
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written in one go, but be sure it is complete
        address = json.loads(scheduler_file.read_text())["address"]
        for number in range(workers):
            start(f"worker{number}", [dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                      "--no-dashboard", "--host", "127.0.0.1",
                                      "--local-directory", str(folder / f"worker{number}")])
        with Client(address, timeout=f"{START_SECONDS}s") as client:
            try:
                client.wait_for_workers(workers, timeout=START_SECONDS)
            except TimeoutError:
                raise RuntimeError(f"{workers} Dask workers did not join:\n" + _tails(logs)) from None
        yield address


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tails(logs):
    return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in logs
                     if path.exists())
