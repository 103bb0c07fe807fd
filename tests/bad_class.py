"""A generated class for lesson 01: correct, partly correct and every kind of bad submission
`course grade` must survive, with the score and status each must get."""
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course import submissions

LESSON = "01_parameters"
FULL = 13


@dataclass
class Case:
    student: str
    status: str            # expected Result.status
    score: float           # expected score
    noted: list = field(default_factory=list)  # words expected in the status details


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _answers(root, replace):
    return submissions.answered(root, LESSON, replace)


def build(root):
    """Write the class into root/submitted and return the expected outcome of each student."""
    root = Path(root)
    solution = submissions.solutions(root, LESSON)
    cases = []

    def submit(case, nb=None, files=None):
        folder = root / "submitted" / case.student / LESSON
        folder.mkdir(parents=True, exist_ok=True)
        if nb is not None:
            nbformat.write(nb, folder / f"{LESSON}.ipynb")
        for name, content in (files or {}).items():
            (folder / name).write_bytes(content)
        cases.append(case)

    submit(Case("correct", "graded", FULL), _answers(root, {}))
    wrong = submissions.wrong_answers(root, LESSON)[0]
    submit(Case("partly_correct", "graded", FULL - 4), submissions.with_wrong_answer(root, LESSON, wrong))
    submit(Case("syntax_error", "graded", FULL - 4, ["syntax error", "dense_params"]),
           _answers(root, {"dense_params": "def dense_params(inputs, units:\n    return 0"}))
    submit(Case("exception", "graded", FULL - 2, ["exception ZeroDivisionError", "linear_predict"]),
           _answers(root, {"linear_predict": "1 / 0\n\n" + solution["linear_predict"]}))
    submit(Case("loop_in_cell", "graded", FULL - 2, ["timeout", "celsius_model"]),
           _answers(root, {"celsius_model": "while True:\n    pass\n\n" + solution["celsius_model"]}))
    submit(Case("loop_in_function", "graded", FULL - 2, ["timeout", "test_stack_params"]),
           _answers(root, {"stack_params": "def stack_params(inputs, units_list):\n"
                                           "    while True:\n        pass"}))
    submit(Case("os_exit", "graded", FULL - 2, ["kernel died", "test_linear_predict"]),
           _answers(root, {"linear_predict": "import os\n\ndef linear_predict(X, w, b):\n"
                                             "    os._exit(1)"}))
    submit(Case("segfault", "graded", FULL - 2, ["kernel died", "build_model"]),
           _answers(root, {"build_model": "import ctypes\nctypes.string_at(0)\n\n"
                                          + solution["build_model"]}))
    submit(Case("memory_hog", "graded", FULL - 3, ["memory", "forward_pass"]),  # 8 GB > the limit
           _answers(root, {"forward_pass": "hog = np.ones((32_000, 32_000))\n\n"
                                           + solution["forward_pass"]}))
    submit(Case("fork_bomb", "graded", FULL - 4, ["exception BlockingIOError", "dense_params"]),
           _answers(root, {"dense_params": (
               "import os, time\nfor _ in range(5000):\n    if os.fork() == 0:\n"
               "        time.sleep(2)\n        os._exit(0)\n\n") + solution["dense_params"]}))
    submit(Case("output_flood", "graded", FULL, ["output flood", "dense_params"]),
           _answers(root, {"dense_params": solution["dense_params"]
                           + "\n\nfor _ in range(30_000):\n    print('spam ' * 100)"}))

    nb = _answers(root, {})
    nb.cells.remove(_cell(nb, "test_dense_params"))
    submit(Case("deleted_test", "graded", FULL, ["deleted test cell restored", "test_dense_params"]), nb)
    nb = _answers(root, {})
    _cell(nb, "test_build_model").source = "pass  # trust me"
    submit(Case("edited_test", "graded", FULL, ["edited locked cell restored", "test_build_model"]), nb)
    nb = _answers(root, {})
    original = _cell(nb, "dense_params")
    nb.cells.insert(nb.cells.index(original) + 1, nbformat.from_dict(dict(original)))
    submit(Case("duplicated_cell", "graded", FULL, ["duplicated graded cell", "dense_params"]), nb)
    nb = _answers(root, {})
    _cell(nb, "test_stack_params").metadata.nbgrader["grade_id"] = "my_own_test"
    submit(Case("changed_grade_id", "graded", FULL, ["unknown grade_id", "test_stack_params"]), nb)

    submit(Case("missing", "missing", 0, ["no 01_parameters.ipynb"]))
    renamed = root / "submitted" / "renamed" / LESSON
    renamed.mkdir(parents=True)
    nbformat.write(_answers(root, {}), renamed / f"{LESSON} (1).ipynb")
    cases.append(Case("renamed", "graded", FULL, ["renamed notebook graded"]))
    submit(Case("empty", "empty", 0, ["empty notebook"]), files={f"{LESSON}.ipynb": b""})
    submit(Case("corrupt", "corrupt", 0, ["not JSON"]), files={f"{LESSON}.ipynb": b'{"cells": [ oops'})
    submit(Case("extra_files", "graded", FULL, ["extra files ignored", "data.csv"]),
           _answers(root, {}), files={"data.csv": b"a,b\n1,2\n", "notes.txt": b"hi"})
    submit(Case("snoop", "graded", FULL - 4, ["exception PermissionError", "dense_params"]),
           _answers(root, {"dense_params": snoop_code(root) + "\n\n" + solution["dense_params"]}))
    return cases


def snoop_code(root):
    """Tries to read a hidden test from source/, another student's work and the gradebook, and
    to write into the gradebook and next to it; prints what it got, then fails loudly."""
    return f'''import pathlib
root = pathlib.Path({str(root)!r})
got = []
for target in [root / "source" / "01_parameters" / "01_parameters.ipynb",
               root / "submitted" / "correct" / "01_parameters" / "01_parameters.ipynb",
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
