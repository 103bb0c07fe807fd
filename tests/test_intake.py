"""course.intake without a kernel: every kind of bad file a student hands in gets its status and
notes, what the student did to the graded cells is noted (and what would trip nbgrader is
stripped), submissions are found by student and lesson, and the staged copy is what gets graded."""
import copy

import nbformat
import pytest
import tiny_lesson
from tiny_lesson import LESSON, cell

from course.intake import check_graded_cells, find_submissions, restore_graded_cells, stage, take_in
from course.nbgrader_api import course_directory
from course.status import Note, Status


@pytest.fixture
def root(tmp_path):
    return tiny_lesson.course(tmp_path / "course", {LESSON: tiny_lesson.released()})


def _hand_in(root, student, files):
    """submitted/<student>/<lesson>/ holding `files` ({name: bytes or notebook})."""
    folder = root / "submitted" / student / LESSON
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            nbformat.write(content, folder / name)
    return folder


def _take_in(root, student="ann"):
    return take_in(root, course_directory(root), student, LESSON)


NOTEBOOK = f"{LESSON}.ipynb"


def test_the_untouched_release_is_taken_in_without_a_note(root):
    _hand_in(root, "ann", {NOTEBOOK: tiny_lesson.released()})
    intake = _take_in(root)
    assert (intake.status, intake.notes) == (Status.GRADED, [])
    assert intake.notebook == tiny_lesson.released()


def test_no_folder_is_missing(root):
    intake = _take_in(root)
    assert (intake.status, intake.notes, intake.notebook) == (
        Status.MISSING, [Note.NO_NOTEBOOK.say(lesson=LESSON)], None)


def test_a_folder_without_a_notebook_is_missing(root):
    _hand_in(root, "ann", {"answers.py": b"x = 1\n", "timestamp.txt": b"2024-03-01 10:00:00"})
    intake = _take_in(root)
    assert (intake.status, intake.notes, intake.notebook) == (
        Status.MISSING, [Note.NO_NOTEBOOK.say(lesson=LESSON)], None)


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n"], ids=["empty", "whitespace"])
def test_an_empty_file_is_empty(root, content):
    _hand_in(root, "ann", {NOTEBOOK: content})
    intake = _take_in(root)
    assert (intake.status, intake.notes, intake.notebook) == (Status.EMPTY, [Note.EMPTY_FILE.say()], None)


@pytest.mark.parametrize("content", [b'{"cells": [ oops', b"\xff\xfe{}", b"print('hello')"],
                         ids=["broken-json", "not-utf8", "python"])
def test_a_file_that_is_not_json_is_corrupt(root, content):
    _hand_in(root, "ann", {NOTEBOOK: content})
    intake = _take_in(root)
    assert intake.status is Status.CORRUPT and intake.notebook is None
    assert len(intake.notes) == 1 and intake.notes[0].startswith(Note.NOT_JSON.say() + ": ")


@pytest.mark.parametrize("content", [
    b'{"cells": 3}', b"[]", b"{}", b'{"nbformat": 4, "nbformat_minor": 5, "cells": []}',
    b'{"nbformat": 99, "nbformat_minor": 0, "metadata": {}, "cells": []}',
    b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
], ids=["cells-not-a-list", "list", "empty-object", "no-metadata", "unknown-version", "bad-cell"])
def test_json_that_is_not_a_notebook_is_corrupt(root, content):
    _hand_in(root, "ann", {NOTEBOOK: content})
    intake = _take_in(root)
    assert intake.status is Status.CORRUPT and intake.notebook is None
    assert len(intake.notes) == 1 and intake.notes[0].startswith(Note.NOT_A_NOTEBOOK.say() + ": ")


def test_a_renamed_notebook_is_graded_and_noted(root):
    renamed = tiny_lesson.released()
    cell(renamed, "double").source = "def double(x):\n    return 2 * x"
    _hand_in(root, "ann", {f"{LESSON} (1).ipynb": renamed})
    intake = _take_in(root)
    assert (intake.status, intake.notes) == (Status.GRADED, [Note.RENAMED.say(f"{LESSON} (1).ipynb")])
    assert cell(intake.notebook, "double").source == "def double(x):\n    return 2 * x"


def test_several_notebooks_none_named_right_are_missing(root):
    _hand_in(root, "ann", {"b.ipynb": tiny_lesson.released(), "a.ipynb": tiny_lesson.released()})
    intake = _take_in(root)
    assert (intake.status, intake.notebook) == (Status.MISSING, None)
    assert intake.notes == [Note.NO_NOTEBOOK.say(lesson=LESSON),
                            Note.SEVERAL_NOTEBOOKS.say("a.ipynb, b.ipynb", lesson=LESSON)]


def test_the_rightly_named_notebook_wins_over_others(root):
    other = tiny_lesson.released()
    cell(other, "double").source = "def double(x):\n    return 0"
    _hand_in(root, "ann", {NOTEBOOK: tiny_lesson.released(), "old.ipynb": other})
    intake = _take_in(root)
    assert intake.notes == [Note.EXTRA_FILES.say("old.ipynb")]
    assert intake.notebook == tiny_lesson.released()


def test_extra_files_are_noted_but_not_the_timestamp_or_checkpoints(root):
    _hand_in(root, "ann", {NOTEBOOK: tiny_lesson.released(), "data.csv": b"a,b\n", "notes.txt": b"hi",
                           "timestamp.txt": b"2024-03-01 10:00:00",
                           f".ipynb_checkpoints/{LESSON}-checkpoint.ipynb": tiny_lesson.released()})
    intake = _take_in(root)
    assert (intake.status, intake.notes) == (Status.GRADED, [Note.EXTRA_FILES.say("data.csv, notes.txt")])


def test_many_extra_files_are_cut_to_five_names(root):
    _hand_in(root, "ann", {NOTEBOOK: tiny_lesson.released(), **{f"f{i}.txt": b"" for i in range(7)}})
    assert _take_in(root).notes == [Note.EXTRA_FILES.say("f0.txt, f1.txt, f2.txt, f3.txt, f4.txt ...")]


# ---- check_graded_cells, on notebooks in memory -----------------------------------------------

def _checked(change):
    """(notes, notebook) after the student's `change` to the released notebook."""
    nb = tiny_lesson.released()
    change(nb)
    notes = []
    check_graded_cells(nb, tiny_lesson.released(), notes)
    restore_graded_cells(nb, tiny_lesson.released(), {}, notes)
    return notes, nb


def test_answering_is_not_noted():
    notes, _ = _checked(lambda nb: setattr(cell(nb, "double"), "source", "def double(x):\n    return x + x"))
    assert notes == []


def test_an_unknown_grade_id_is_stripped_and_noted():
    def rename(nb):
        cell(nb, "test_halve").metadata.nbgrader["grade_id"] = "my_own_test"
    notes, nb = _checked(rename)
    renamed = nb.cells[-1]
    assert renamed.metadata.nbgrader["grade_id"] == "test_halve", "nbgrader would reject a grade_id it does not know"
    assert renamed.source == cell(tiny_lesson.released(), "test_halve").source
    # stripped, then recognised by its source as the release's test cell, and graded as that
    assert notes == [Note.UNKNOWN_GRADE_ID.say("my_own_test"), Note.METADATA_RESTORED.say("test_halve")]


def test_a_duplicated_graded_cell_loses_its_metadata_in_the_second_copy():
    def duplicate(nb):
        original = cell(nb, "double")
        original.source = "def double(x):\n    return 2 * x"
        nb.cells.insert(nb.cells.index(original) + 1, copy.deepcopy(original))
    notes, nb = _checked(duplicate)
    first, second = (c for c in nb.cells if c.source == "def double(x):\n    return 2 * x")
    assert first.metadata.nbgrader["grade_id"] == "double"
    assert "nbgrader" not in second.metadata
    assert notes == [Note.DUPLICATED_CELL.say("double")]


def test_an_edited_test_cell_is_noted():
    notes, _ = _checked(lambda nb: setattr(cell(nb, "test_double"), "source", "pass  # trust me"))
    assert notes == [Note.EDITED_LOCKED.say("test_double")]


def test_a_deleted_test_cell_is_noted_as_restored():
    notes, _ = _checked(lambda nb: nb.cells.remove(cell(nb, "test_double")))
    assert notes == [Note.DELETED_TEST.say("test_double")]


def test_a_deleted_answer_cell_is_noted():
    notes, _ = _checked(lambda nb: nb.cells.remove(cell(nb, "halve")))
    assert notes == [Note.DELETED_CELL.say("halve")]


# ---- finding and staging ----------------------------------------------------------------------

def test_find_submissions_filters_by_student_and_lesson(tmp_path):
    root = tiny_lesson.course(tmp_path / "course", {LESSON: tiny_lesson.released(),
                                                    "02_tiny": tiny_lesson.released()})
    for student, lesson in [("bob", "02_tiny"), ("ann", LESSON), ("bob", LESSON), ("cy", "99_unknown")]:
        (root / "submitted" / student / lesson).mkdir(parents=True)
    (root / "submitted" / "dan").mkdir()
    (root / "submitted" / "dan" / LESSON).write_text("a file, not a submission folder")
    everyone = [("ann", LESSON), ("bob", LESSON), ("bob", "02_tiny")]
    assert find_submissions(root) == sorted(everyone)
    assert find_submissions(root, students=["bob"]) == [("bob", LESSON), ("bob", "02_tiny")]
    assert find_submissions(root, lessons=["02_tiny"]) == [("bob", "02_tiny")]
    assert find_submissions(root, students=["ann"], lessons=["02_tiny"]) == []


def test_stage_writes_the_notebook_and_copies_the_timestamp(root):
    submitted = _hand_in(root, "ann", {NOTEBOOK: b"whatever was handed in",
                                       "timestamp.txt": b"2024-03-01 10:00:00.000000 UTC"})
    coursedir = course_directory(root)
    old = root / ".grading" / "submitted" / "ann" / LESSON
    old.mkdir(parents=True)
    (old / "stale.txt").write_text("from an earlier run")
    nb = tiny_lesson.released()
    staged = stage(coursedir, ".grading/submitted", "ann", LESSON, nb)
    assert staged == old
    assert sorted(p.name for p in staged.iterdir()) == [NOTEBOOK, "timestamp.txt"]
    assert nbformat.read(staged / NOTEBOOK, as_version=4) == nb
    assert (staged / "timestamp.txt").read_bytes() == b"2024-03-01 10:00:00.000000 UTC"
    assert (submitted / NOTEBOOK).read_bytes() == b"whatever was handed in", "submitted/ is only read"


def test_stage_without_a_timestamp_writes_only_the_notebook(root):
    _hand_in(root, "ann", {NOTEBOOK: tiny_lesson.released()})
    staged = stage(course_directory(root), ".grading/submitted", "ann", LESSON, tiny_lesson.released())
    assert [p.name for p in staged.iterdir()] == [NOTEBOOK]


def test_another_directory_structure_is_read_where_nbgrader_puts_the_submissions(root):
    """{student_id}/{nbgrader_step}/{assignment_id}: submissions are found, taken in, and two
    students' hard-linked file is still told apart from a link to the source notebook."""
    import os

    from course.paths import source_notebook, submitted_notebook
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text(encoding="utf-8") + "\nc.CourseDirectory.directory_structure = "
                      '"{student_id}/{nbgrader_step}/{assignment_id}"\n', encoding="utf-8")
    for student in ("ada", "bo", "cy", "dee"):
        submitted_notebook(root, student, LESSON).parent.mkdir(parents=True)
    ada = submitted_notebook(root, "ada", LESSON)
    nbformat.write(tiny_lesson.released(), ada)
    assert ada == root / "ada" / "submitted" / LESSON / NOTEBOOK
    os.link(ada, submitted_notebook(root, "bo", LESSON))
    os.link(source_notebook(root, LESSON), submitted_notebook(root, "cy", LESSON))
    nbformat.write(tiny_lesson.released(), submitted_notebook(root, "dee", LESSON))
    assert find_submissions(root) == [(s, LESSON) for s in ("ada", "bo", "cy", "dee")]
    taken = {s: _take_in(root, s) for s in ("ada", "bo", "cy", "dee")}
    assert {s: t.status for s, t in taken.items()} == {
        "ada": Status.FLAGGED, "bo": Status.FLAGGED, "cy": Status.CORRUPT, "dee": Status.GRADED}
    assert "bo's submission" in taken["ada"].notes[0] and "ada's submission" in taken["bo"].notes[0]
