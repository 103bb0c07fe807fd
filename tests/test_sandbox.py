"""The sandbox command on its own: what code inside it can and cannot do."""
import os
import subprocess
import sys

from conftest import needs_bubblewrap

from course.paths import REPOSITORY_ROOT
from course.sandbox import WORKDIR, sandbox_command

PROBE = f"""
import os, socket, numpy
print("numpy", numpy.__version__)
print("cwd", os.getcwd())
print("repository", os.path.exists({str(REPOSITORY_ROOT / 'source')!r}))
print("home", os.path.exists(os.path.expanduser("~root/.bashrc")))
open("written.txt", "w").write("ok")
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    print("network yes")
except OSError:
    print("network no")
try:
    numpy.ones(2**31)  # 16 GiB
    print("memory yes")
except MemoryError:
    print("memory no")
"""


def test_python_bound_after_the_private_tmp(tmp_path):
    command = sandbox_command(["python"], str(tmp_path), str(tmp_path), 2**30, 10, 64, 60123)
    tmpfs = command.index("--tmpfs")
    prefix_binds = [i for i, arg in enumerate(command) if arg == os.path.realpath(sys.prefix)]
    assert prefix_binds and min(prefix_binds) > tmpfs, "a Python under /tmp must stay visible"


@needs_bubblewrap
def test_sandboxed_code_sees_only_its_working_copy(tmp_path):
    work, runtime = tmp_path / "work", tmp_path / "runtime"
    work.mkdir(mode=0o777)
    runtime.mkdir(mode=0o777)
    work.chmod(0o777)
    command = sandbox_command([sys.executable, "-c", PROBE], str(work), str(runtime),
                              4 * 2**30, 60, 64, 60123)
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("numpy ")
    assert lines[1:] == [f"cwd {WORKDIR}", "repository False", "home False", "network no",
                         "memory no"]
    assert (work / "written.txt").read_text() == "ok"
