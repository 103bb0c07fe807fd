"""Small lesson notebooks built in memory (nbformat.v4), with the nbgrader metadata the course's
lessons carry, and a scratch course directory around them; for the tests that need no kernel."""
import shutil

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import cells
from course.paths import REPOSITORY_ROOT

LESSON = "01_tiny"


def _nbgrader(grade_id, grade, solution, locked, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def answer_cell(grade_id, source):
    """A solution cell: the student writes it."""
    return new_code_cell(source, metadata=_nbgrader(grade_id, False, True, False))


def graded_cell(grade_id, source, points=1):
    """A graded test cell (locked, `points` points)."""
    return new_code_cell(source, metadata=_nbgrader(grade_id, True, False, True, points))


def locked_cell(grade_id, source):
    """A locked cell that is neither graded nor an answer (the lessons' check-helper import)."""
    return new_code_cell(source, metadata=_nbgrader(grade_id, False, False, True))


def lesson(*cells, title="# 01. 작은 강의 (A tiny lesson)\n\n**학습 목표**: 테스트"):
    """A notebook: a markdown title cell, then `cells` (cell ids by position, so that two
    notebooks built alike are equal)."""
    nb = new_notebook(cells=[new_markdown_cell(title), *cells])
    for number, each in enumerate(nb.cells):
        each.id = f"cell-{number}"
    return nb


def released():
    """The student version of a tiny lesson: two exercises, each with a test cell."""
    return lesson(
        locked_cell("checks", "from course.checks import *"),
        answer_cell("double", "def double(x):\n    raise NotImplementedError()"),
        graded_cell("test_double", "assert double(2) == 4", points=2),
        answer_cell("halve", "def halve(x):\n    raise NotImplementedError()"),
        graded_cell("test_halve", "assert halve(4) == 2\n### BEGIN HIDDEN TESTS\nassert halve(0) == 0\n"
                                "### END HIDDEN TESTS", points=1),
    )


def cell(nb, grade_id):
    """The cell of `nb` with that grade_id."""
    return next(c for c in nb.cells if cells.grade_id(c) == grade_id)


def error(ename, evalue="", traceback=None):
    """An error output, as the kernel (or the grader) writes it into a cell."""
    return new_output("error", ename=ename, evalue=evalue,
                      traceback=traceback if traceback is not None else [f"{ename}: {evalue}"])


def stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def course(root, notebooks):
    """A course directory at `root` with this repository's nbgrader_config.py and, for each
    {lesson: notebook}, the notebook as both its source and its release. Returns root."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPOSITORY_ROOT / "nbgrader_config.py", root)
    for lesson_id, nb in notebooks.items():
        for step in ("source", "release"):
            folder = root / step / lesson_id
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{lesson_id}.ipynb")
    return root
