"""A tiny course for tests of the grader itself: one lesson of three exercises that needs no
TensorFlow (a kernel runs it in a second), with hidden tests that carry a marker line."""
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import cells, paths
from course.paths import REPOSITORY_ROOT, release_notebook
from course.release import release

LESSON = "01_tiny"
HIDDEN_MARKER = "HIDDEN_TEST_LINE_7f3a"  # a line of every hidden test: it may never reach a student
SOLUTIONS = {"add": "def add(a, b):\n    return a + b",
             "mul": "def mul(a, b):\n    return a * b",
             "sub": "def sub(a, b):\n    return a - b"}
POINTS = {"add": 2, "mul": 2, "sub": 1}
FULL = sum(POINTS.values())
VISIBLE = {"add": ("add(1, 2)", 3), "mul": ("mul(2, 3)", 6), "sub": ("sub(5, 2)", 3)}
HIDDEN = {"add": ("add(20, 22)", 42), "mul": ("mul(6, 7)", 42), "sub": ("sub(50, 8)", 42)}


def nbgrader_metadata(grade_id, *, solution=False, grade=False, points=None):
    """A cell's metadata as nbgrader writes it for a solution, a graded (test) or a locked cell."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    """The instructor's notebook: a title, a setup cell, then per exercise an answer cell and a
    test cell with a visible and a hidden check."""
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"},
                                "language_info": {"name": "python"}})
    nb.cells = [new_markdown_cell("# 01. 작은 연습 (tiny)\n\n채점기 시험용 강의입니다."),
                new_code_cell("import numpy as np")]
    for name, body in SOLUTIONS.items():
        head, answer = body.split("\n", 1)
        nb.cells.append(new_markdown_cell(f"### `{name}` ({POINTS[name]}점)"))
        nb.cells.append(new_code_cell(
            f"{head}\n    ### BEGIN SOLUTION\n{answer}\n    ### END SOLUTION",
            metadata=nbgrader_metadata(name, solution=True)))
        (call, want), (hidden_call, hidden_want) = VISIBLE[name], HIDDEN[name]
        nb.cells.append(new_code_cell(
            f"assert {call} == {want}, '{name}: {call}은 {want}이어야 합니다'\n"
            "### BEGIN HIDDEN TESTS\n"
            f"# {HIDDEN_MARKER}\n"
            f"assert {hidden_call} == {hidden_want}, '{name}: 숨겨진 검사에서 틀렸습니다'\n"
            "### END HIDDEN TESTS",
            metadata=nbgrader_metadata(f"test_{name}", grade=True, points=POINTS[name])))
    return nb


def make_tiny_course(root):
    """A course directory at `root` (new or empty) with this repository's nbgrader_config.py
    (warm kernels preloading numpy only: the lesson needs no TensorFlow) and the tiny lesson
    released; returns its path."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPOSITORY_ROOT / "nbgrader_config.py", root)
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        # its kernels are forked warm all the same, from a server that imports only numpy
        config.write('\nc.SandboxedKernelManager.preload = ["numpy"]\n')
    path = paths.source_notebook(root, LESSON)
    path.parent.mkdir(parents=True)
    nbformat.write(source_notebook(), path)
    release(root, [LESSON], update_readme=False)
    return root


def answered(root, replace=None):
    """The release notebook with every answer cell answered correctly, except those in
    `replace` ({grade_id: code})."""
    answers = {**SOLUTIONS, **(replace or {})}
    nb = nbformat.read(release_notebook(root, LESSON), as_version=4)
    for cell in nb.cells:
        if cells.is_answer(cell) and cells.grade_id(cell) in answers:
            cell.source = answers[cells.grade_id(cell)]
    return nb


def submit(root, student, nb):
    """Write `nb` as `student`'s submission; returns the notebook's path."""
    path = paths.submitted_notebook(root, student, LESSON)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


WRONG = {"add": "def add(a, b):\n    return a - b",
         "mul": "def mul(a, b):\n    return a + b",
         "sub": "def sub(a, b):\n    return b - a"}


def submit_class(root):
    """A small class of the tiny lesson: "ada" answers everything, "bo" gets `mul` wrong, "cy"
    `add` and `sub`, "di" hands in no notebook and "eve" a file that is not one. Returns
    {student: the score the answers earn} (from POINTS; 0 for those with nothing to grade)."""
    wrong = {"ada": [], "bo": ["mul"], "cy": ["add", "sub"]}
    for student, names in wrong.items():
        submit(root, student, answered(root, {name: WRONG[name] for name in names}))
    paths.submitted_notebook(root, "di", LESSON).parent.mkdir(parents=True)
    eve = paths.submitted_notebook(root, "eve", LESSON)
    eve.parent.mkdir(parents=True)
    eve.write_text('{"cells": [ oops')
    earned = {student: FULL - sum(POINTS[name] for name in names) for student, names in wrong.items()}
    return {**earned, "di": 0, "eve": 0}
