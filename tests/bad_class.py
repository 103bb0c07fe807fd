"""A generated class for lesson 02: correct, partly correct and every kind of bad submission
`course grade` must survive, with the score and status each must get. Lesson 02's cells run in
about 2 s, so each restart after a kernel death replays little (lesson 01 trains for 6 s)."""
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course import cells, submissions
from course.paths import submitted_notebook

LESSON = "02_activations"
FULL = 16


@dataclass
class Case:
    student: str
    status: str            # expected Result.status
    score: float           # expected score
    noted: list = field(default_factory=list)  # words expected in the status details


def _cell(nb, grade_id):
    return next(c for c in nb.cells if cells.grade_id(c) == grade_id)


def _answers(root, replace):
    return submissions.answered(root, LESSON, replace)


def build(root):
    """Write the class into root/submitted and return the expected outcome of each student."""
    root = Path(root)
    solution = submissions.solutions(root, LESSON)
    cases = []

    def submit(case, nb=None, files=None):
        folder = submitted_notebook(root, case.student, LESSON).parent
        folder.mkdir(parents=True, exist_ok=True)
        if nb is not None:
            nbformat.write(nb, folder / f"{LESSON}.ipynb")
        for name, content in (files or {}).items():
            (folder / name).write_bytes(content)
        cases.append(case)

    submit(Case("correct", "graded", FULL), _answers(root, {}))
    wrong = submissions.wrong_answers(root, LESSON)[0]  # sigmoid_without_minus
    submit(Case("partly_correct", "graded", FULL - 3), submissions.with_wrong_answer(root, LESSON, wrong))
    # Kinds of trouble that cost points in cells no test reads together share a student, so the
    # class needs fewer kernels; each kind is still named in the details.
    submit(Case("errors", "graded", FULL - 2 - 2, ["syntax error", "dense_forward",
                                                       "exception ZeroDivisionError", "build_network"]),
           _answers(root, {"dense_forward": "def dense_forward(X, W, b, activation:\n    return 0",
                           "build_network": "1 / 0\n\n" + solution["build_network"]}))
    # One cell that computes forever, one that waits forever (no CPU spent: the machine's other
    # jobs go on meanwhile); each costs the timeout.
    submit(Case("stuck", "graded", FULL - 3 - 2, ["timeout", "relu", "test_collapse_linear"]),
           _answers(root, {"relu": "while True:\n    pass\n\n" + solution["relu"],
                           "collapse_linear": "import time\n\n\ndef collapse_linear(W1, b1, W2, b2):\n"
                                              "    time.sleep(10**6)"}))
    # At most one kernel death per student: a death costs two of the four restarts allowed.
    # Code that crashes the kernel or forks is also flagged for review (course/integrity.py): the
    # grade is still computed, and withheld until the instructor accepts it.
    submit(Case("crashes", "flagged", FULL - 2 - 3, ["kernel died", "build_network", "memory",
                                                     "forward_3layer", "import ctypes"]),
           _answers(root, {"build_network": "import ctypes\nctypes.string_at(0)\n\n" + solution["build_network"],
                           # 8 GB, more than the sandbox's memory limit
                           "forward_3layer": "hog = np.ones((32_000, 32_000))\n\n" + solution["forward_3layer"]}))
    submit(Case("os_exit", "flagged", FULL - 2, ["kernel died", "test_softmax", "os._exit"]),
           _answers(root, {"softmax": "import os\n\ndef softmax(a):\n    os._exit(1)"}))
    # The forked children outlive the loop (30 s), so it reaches the process limit however slowly
    # a loaded machine forks (tests/test_grading.py sets the limit).
    submit(Case("floods", "flagged", FULL - 2, ["exception BlockingIOError", "leaky_relu",
                                                "output flood", "forward_3layer", "os.fork"]),
           _answers(root, {"leaky_relu": (
               "import os, time\nfor _ in range(5000):\n    if os.fork() == 0:\n"
               "        time.sleep(30)\n        os._exit(0)\n\n") + solution["leaky_relu"],
                           "forward_3layer": solution["forward_3layer"]
                           + "\n\nfor _ in range(30_000):\n    print('spam ' * 100)"}))

    # What a student can do to the notebook's cells and files: each is undone or noted.
    nb = _answers(root, {})
    nb.cells.remove(_cell(nb, "test_softmax"))
    _cell(nb, "test_build_network").source = "pass  # trust me"
    original = _cell(nb, "relu")
    nb.cells.insert(nb.cells.index(original) + 1, nbformat.from_dict(dict(original)))
    _cell(nb, "test_collapse_linear").metadata.nbgrader["grade_id"] = "my_own_test"
    tampered = submitted_notebook(root, "tampered", LESSON).parent
    tampered.mkdir(parents=True)
    nbformat.write(nb, tampered / f"{LESSON} (1).ipynb")
    (tampered / "data.csv").write_bytes(b"a,b\n1,2\n")
    (tampered / "notes.txt").write_bytes(b"hi")
    cases.append(Case("tampered", "graded", FULL, [
        "deleted test cell restored", "test_softmax", "edited locked cell restored",
        "test_build_network", "duplicated graded cell", "relu", "unknown grade_id",
        "test_collapse_linear", "renamed notebook graded", "extra files ignored", "data.csv"]))

    # What students' tools save: correct work in files nbformat alone would refuse or nbgrader
    # would not recognise.
    pasted = json.loads(nbformat.writes(_answers(root, {})))
    for number, cell in enumerate(pasted["cells"]):
        cell["metadata"] = {"id": f"colab{number}"}  # a fresh Colab notebook's cells
    text = json.dumps(pasted, ensure_ascii=False, indent=1).replace("\n", "\r\n")
    submit(Case("colab_paste", "graded", FULL, ["recognised without its metadata"]),
           files={f"{LESSON}.ipynb": text.encode("utf-8-sig")})
    old = json.loads(nbformat.writes(_answers(root, {})))
    old["nbformat_minor"] = 0
    for cell in old["cells"]:
        for key in ("outputs", "execution_count", "id"):
            cell.pop(key, None)
    submit(Case("no_outputs", "graded", FULL), files={f"{LESSON}.ipynb": json.dumps(old).encode()})

    submit(Case("missing", "missing", 0, [f"no {LESSON}.ipynb"]))
    submit(Case("empty", "empty", 0, ["empty notebook"]), files={f"{LESSON}.ipynb": b""})
    submit(Case("corrupt", "corrupt", 0, ["not JSON"]), files={f"{LESSON}.ipynb": b'{"cells": [ oops'})
    submit(Case("snoop", "graded", FULL - 2, ["exception PermissionError", "softmax"]),
           _answers(root, {"softmax": snoop_code(root) + "\n\n" + solution["softmax"]}))
    return cases


def snoop_code(root):
    """Tries to read a hidden test from source/, another student's work and the gradebook, and
    to write into the gradebook and next to it; prints what it got, then fails loudly."""
    return f'''import pathlib
root = pathlib.Path({str(root)!r})
got = []
for target in [root / "source" / {LESSON!r} / {LESSON + ".ipynb"!r},
               root / "submitted" / "correct" / {LESSON!r} / {LESSON + ".ipynb"!r},
               root / "gradebook.db", pathlib.Path.home() / ".bashrc", pathlib.Path("/root/.bashrc")]:
    try:
        got.append(target.read_text(errors="replace")[:50])
    except OSError as error:
        print("read denied:", target, type(error).__name__)
for target in [root / "gradebook.db", root / "SNOOPED.txt", pathlib.Path("/tmp/SNOOPED.txt")]:
    try:
        with open(target, "a") as handle:
            handle.write("SNOOPED")
    except OSError as error:
        print("write denied:", target, type(error).__name__)
print("read", len(got), "files")
raise PermissionError("snoop finished")
'''
