"""Hostile submissions against the sandbox and the grader (issue 13, kinds 2 to 6), graded with
`course grade` on the tiny course (tests/tiny_course.py): no hidden-test line or foreign file
reaches a student, nothing the grader keeps follows a student's link, disks and outputs are
limited, a cell that hangs costs only its exercise, no process is left and the run ends."""
import asyncio
import faulthandler
import hashlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import tiny_course
from conftest import copy_course, needs_bubblewrap
from tiny_course import FULL, HIDDEN_MARKER, LESSON, SOLUTIONS

from course import cells
from course.grade import grade
from course.nbgrader_plugins import ResilientExecute
from course.sandbox import SandboxedKernelManager, kill_kernels

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sandbox_attacks"), needs_bubblewrap]

DISK = 32 * 2**20
# The slowest honest cell here (forks_then_floods' flood) takes about 6 s alone, twice that on a
# loaded machine. A cell that will not stop costs the timeout and the grace after the interrupt:
# kept short, each hang costs about 20 s instead of 45.
OVERRIDES = {"Execute": {"timeout": 15}, "ResilientExecute": {"interrupt_grace_seconds": 3},
             "SandboxedKernelManager": {"workdir_bytes": DISK, "tmp_bytes": DISK}}
HANG_SECONDS = 1500  # the whole class run; past this the test process dumps its stacks and exits

# What each student writes in front of (or instead of) an answer: {student: {grade_id: code}}.
LOOK_FOR_NOTEBOOKS = '''import os, sys
print("cwd holds", sorted(os.listdir(".")))
marker = "{marker_head}" + "{marker_tail}"
system = ("/proc", "/sys", "/dev", "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32",
          sys.base_prefix, sys.prefix)
paths = [{notebook!r}]
for folder, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(folder, d) not in system]
    paths += [os.path.join(folder, name) for name in files]
for path in paths:
    try:
        text = open(path, errors="replace").read(2_000_000)
    except OSError:
        continue
    if marker in text:
        print("FOUND", path, text)
print("looked in", len(paths), "files")
'''
PLANT_LINKS = '''import os, sys
course = {root!r}
targets = {{"gradebook": course + "/gradebook.db", "up": "../../../gradebook.db", "root": "/",
           "source": course + "/source/01_tiny/01_tiny.ipynb",
           "other": course + "/submitted/honest/01_tiny/01_tiny.ipynb"}}
for folder in (".", "/tmp"):
    for name, target in targets.items():
        os.symlink(target, os.path.join(folder, name))
    os.symlink(course + "/gradebook.db", os.path.join(folder, "01_tiny.ipynb"))
    os.mkfifo(os.path.join(folder, "timestamp.txt"))
    os.mkfifo(os.path.join(folder, "pipe.ipynb"))
runtime = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
for name in ("g", "ipc-9"):
    try:
        os.symlink(course + "/gradebook.db", os.path.join(runtime, name))
    except OSError as error:
        print("runtime", type(error).__name__)
'''
FILL_DISKS = '''import os, sys
runtime = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
for folder in (".", "/tmp", "/dev/shm", runtime):
    path = os.path.join(folder, "big")
    try:
        with open(path, "wb") as handle:
            for _ in range(3 * 1024):
                handle.write(b"x" * 2**20)
    except OSError as error:
        print("full", folder, type(error).__name__, os.path.getsize(path) if os.path.exists(path) else 0)
'''
FLOOD_DISPLAYS = '''from IPython.display import clear_output, display, update_display
display("small", display_id="d")
update_display("u" * 50_000_000, display_id="d")
for _ in range(300):
    display("a", display_id="e")
update_display("v" * 20_000, display_id="e")
for _ in range(40):
    print("z" * 100_000)
    clear_output(wait=True)
'''
IGNORE_SIGINT = '''import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
'''
SWALLOW_INTERRUPTS = '''import time
while True:
    try:
        time.sleep(1000)
    except KeyboardInterrupt:
        pass
'''
LEAVE_PROCESSES = '''import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(1)
    os._exit(0)
'''
HOLD_THE_GIL = "sum(range(10 ** 13))"  # one C call: hours
FORK_BOMB = '''import os, time
for _ in range(5000):
    if os.fork() == 0:
        time.sleep(2)
        os._exit(0)
'''


def _attacks(root):
    """{student: (replacements, expected status, expected score)}."""
    return {
        "honest": ({}, "graded", FULL),
        "leak": ({"add": LOOK_FOR_NOTEBOOKS.format(
            marker_head=HIDDEN_MARKER[:8], marker_tail=HIDDEN_MARKER[8:],
            notebook=str(root / "autograded" / "leak" / LESSON / f"{LESSON}.ipynb"))
            + SOLUTIONS["add"]}, "flagged", FULL),
        # Flagged for what a beginner never needs (sys.argv, os.symlink, os.mkfifo), graded all
        # the same: the sandbox is what holds here.
        "links": ({"add": PLANT_LINKS.format(root=str(root)) + SOLUTIONS["add"]}, "flagged", FULL),
        "disks": ({"sub": FILL_DISKS + SOLUTIONS["sub"]}, "flagged", FULL),
        "displays": ({"mul": FLOOD_DISPLAYS + SOLUTIONS["mul"]}, "flagged", FULL),
        "huge_print": ({"add": 'print("p" * 300_000_000)\n' + SOLUTIONS["add"]}, "graded", FULL - 2),
        "huge_error": ({"mul": SOLUTIONS["mul"] + '\nraise ValueError("e" * 20_000_000)'}, "graded", FULL),
        "ignores_sigint": ({"mul": IGNORE_SIGINT + SOLUTIONS["mul"]}, "flagged", FULL - 2),
        "two_hangs": ({"add": IGNORE_SIGINT, "sub": SWALLOW_INTERRUPTS}, "flagged", FULL - 3),
        # Processes a cell leaves behind cost that cell: the kernel is restarted without it.
        "daemon": ({"add": LEAVE_PROCESSES + SOLUTIONS["add"]}, "flagged", FULL - 2),
        # Unreaped children hold the process limit and broke the kernel's later messages.
        "forks_then_floods": ({"add": FORK_BOMB + SOLUTIONS["add"],
                               "mul": SOLUTIONS["mul"] + "\nfor _ in range(30_000):\n    print('spam ' * 100)"},
                              "flagged", FULL - 2),
    }


def _snapshot(folder):
    """{path: (mode, sha256 or link target)} of everything below `folder`, links not followed."""
    snapshot = {}
    for path in sorted(Path(folder).rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            content = os.readlink(path)
        elif stat.S_ISREG(info.st_mode):
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            content = stat.S_IFMT(info.st_mode)
        snapshot[str(path.relative_to(folder))] = (info.st_mode, content)
    return snapshot


def _sandbox_processes(marker):
    """PIDs of processes whose mounts name `marker` (the sandboxes bind their socket directory,
    made under it): the processes of this test's sandboxes, whatever uid or name they took."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "mountinfo").read_text():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def attacked(released_tiny_course, tmp_path_factory):
    root = copy_course(released_tiny_course, tmp_path_factory.mktemp("attacks") / "course")
    kernels_tmp = tmp_path_factory.mktemp("kernels")  # socket directories: TMPDIR of the workers
    attacks = _attacks(root)
    for student, (replace, _, _) in attacks.items():
        tiny_course.submit(root, student, tiny_course.answered(root, replace))
    source_link = root / "submitted" / "linked_source" / LESSON
    source_link.mkdir(parents=True)
    (source_link / f"{LESSON}.ipynb").symlink_to(root / "source" / LESSON / f"{LESSON}.ipynb")
    (root / "submitted" / "linked_folder").mkdir()
    (root / "submitted" / "linked_folder" / LESSON).symlink_to(root / "submitted" / "honest" / LESSON)
    pipe = root / "submitted" / "pipe" / LESSON
    pipe.mkdir(parents=True)
    os.mkfifo(pipe / f"{LESSON}.ipynb")
    for student in ("linked_source", "linked_folder", "pipe"):
        attacks[student] = (None, "corrupt", 0)
    before = {"submitted": _snapshot(root / "submitted"), "source": _snapshot(root / "source")}
    gradebook_mode = (root / "gradebook.db").lstat().st_mode
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TMPDIR", str(kernels_tmp))
            results = {r.student: r for r in grade(root, overrides=OVERRIDES, progress=False)}
    finally:
        faulthandler.cancel_dump_traceback_later()
    after = {"submitted": _snapshot(root / "submitted"), "source": _snapshot(root / "source")}
    return {"root": root, "attacks": attacks, "results": results, "before": before, "after": after,
            "gradebook_mode": gradebook_mode, "leftover": _sandbox_processes(str(kernels_tmp)),
            "kernels_tmp": kernels_tmp}


def _outputs(root, student, grade_id):
    nb = nbformat.read(root / "autograded" / student / LESSON / f"{LESSON}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if cells.grade_id(c) == grade_id)
    return "".join(str(o.get("text", "")) + str(o.get("evalue", "")) + str(o.get("data", ""))
                   for o in cell.outputs)


def test_every_attack_gets_its_status_and_score(attacked):
    got = {s: (str(r.status), r.score) for s, r in attacked["results"].items()}
    want = {s: (status, float(score)) for s, (_, status, score) in attacked["attacks"].items()}
    assert got == want, {s: attacked["results"][s].reason for s in got if got[s] != want[s]}


def test_the_kernel_sees_no_notebook_and_no_hidden_test(attacked):
    printed = _outputs(attacked["root"], "leak", "add")
    assert "cwd holds []" in printed and "FOUND" not in printed


def test_no_hidden_test_line_reaches_feedback_or_reports(attacked):
    root = attacked["root"]
    pages = [p for p in (root / "feedback").rglob("*") if p.is_file()]
    pages += [p for p in (root / "reports").rglob("*") if p.is_file()] + [root / "grades.csv"]
    assert len(pages) > len(attacked["attacks"])
    leaking = [str(p) for p in pages if HIDDEN_MARKER.encode() in p.read_bytes()]
    assert not leaking


def test_outputs_hold_only_what_the_grader_wrote(attacked):
    """No link anywhere the grader writes; each student's folders hold the grader's files only."""
    root = attacked["root"]
    for step in ("autograded", "feedback", "reports", ".grading"):
        links = [str(p) for p in (root / step).rglob("*") if p.is_symlink()]
        assert not links, links
    for student, (_, status, _) in attacked["attacks"].items():
        graded = status in ("graded", "flagged")  # a flagged score is computed, only withheld
        for step, name in (("autograded", f"{LESSON}.ipynb"), ("feedback", f"{LESSON}.html")):
            folder = root / step / student / LESSON
            files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            assert files == ([name] if graded else []), (student, step, files)


def test_submitted_source_and_the_gradebook_are_untouched(attacked):
    assert attacked["after"] == attacked["before"]
    gradebook = attacked["root"] / "gradebook.db"
    assert gradebook.lstat().st_mode == attacked["gradebook_mode"] and not gradebook.is_symlink()


def test_links_planted_by_the_kernel_stay_in_the_sandbox(attacked):
    root = attacked["root"]
    assert "runtime PermissionError" in _outputs(root, "links", "add")
    assert not list(attacked["kernels_tmp"].iterdir()), "socket directories are removed"


def test_disks_are_limited_and_nothing_comes_back(attacked):
    root = attacked["root"]
    printed = _outputs(root, "disks", "sub")
    full = dict((folder, int(size)) for folder, size in
                re.findall(r"full (\S+) (?:OSError|PermissionError|FileNotFoundError) (\d+)", printed))
    assert full["."] <= DISK and full["/tmp"] <= DISK
    # /dev/shm: a tmpfs of the kernel's own (cold or warm), as limited as /tmp; none in the
    # runtime directory
    assert full["/dev/shm"] <= DISK and len(full) == 4, printed
    big = [str(p) for p in root.rglob("*") if p.is_file() and p.stat().st_size > 2**20]
    assert not big


def test_outputs_are_limited_whatever_their_kind(attacked):
    root = attacked["root"]
    limit = ResilientExecute.class_traits()["max_notebook_output_chars"].default()
    for student in ("displays", "huge_print", "huge_error"):
        notebook = root / "autograded" / student / LESSON / f"{LESSON}.ipynb"
        feedback = root / "feedback" / student / LESSON / f"{LESSON}.html"
        assert notebook.stat().st_size < 2 * limit and feedback.stat().st_size < 4 * limit, student
    assert "output flood" in attacked["results"]["displays"].reason


def test_a_cell_that_will_not_stop_costs_only_its_exercise(attacked):
    results = attacked["results"]
    for student in ("ignores_sigint", "two_hangs", "huge_print"):
        assert "timeout" in results[student].reason, results[student].reason


def test_no_process_is_left(attacked):
    assert attacked["leftover"] == []


def test_killing_a_workers_kernels_ends_every_process_in_their_sandbox(tmp_path, monkeypatch):
    """The job's time limit kills its kernels (course.job): nothing inside them survives."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the socket directory goes
    manager = SandboxedKernelManager()

    async def start_and_kill():
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=120)
            await client.execute_interactive(LEAVE_PROCESSES, timeout=60)
            client.execute(HOLD_THE_GIL)  # the kernel's own watch of bwrap cannot run
            await asyncio.sleep(1)  # the daemon is forked twice
            during = len(_sandbox_processes(str(tmp_path)))
            return during, kill_kernels()
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    during, killed = asyncio.run(start_and_kill())
    assert during == 2 and killed == 1  # the kernel (the sandbox's PID 1) and the daemon
    deadline = time.monotonic() + 10  # a killed process takes a moment to go on a loaded machine
    while _sandbox_processes(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _sandbox_processes(str(tmp_path)) == []


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_kernel_shut_down_while_it_holds_the_gil_in_its_own_session_ends(tmp_path, monkeypatch, warm):
    """nbclient's shutdown kills bwrap's process group; a kernel started cold that left it
    (os.setsid) and runs one long C call (its thread that watches bwrap cannot run) is killed by
    its PID too. A warm kernel leads a session of its own from the start."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    manager = SandboxedKernelManager(warm=warm)

    async def start_and_shut_down():
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=120)
            reply = await client.execute_interactive(
                "import os\nif os.getsid(0) != os.getpid():\n    os.setsid()", timeout=60)
            assert reply["content"]["status"] == "ok", reply["content"]
            client.execute(HOLD_THE_GIL)
            await asyncio.sleep(1)
            return len(_sandbox_processes(str(tmp_path)))
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    assert asyncio.run(start_and_shut_down()) >= 1
    deadline = time.monotonic() + 10
    while _sandbox_processes(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _sandbox_processes(str(tmp_path)) == []
