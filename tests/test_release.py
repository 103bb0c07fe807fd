"""`course release` stops on a metadata problem and says where it is."""
import shutil

import nbformat
import pytest

from course import cells
from course.cli import main
from course.errors import CourseError
from course.paths import REPOSITORY_ROOT, source_notebook
from course.release import metadata_problems, release

LESSON = "01_parameters"


@pytest.fixture
def unreleased_course(tmp_path):
    """A course with lesson 01's source and nothing released (conftest's course_copy is released)."""
    shutil.copy(REPOSITORY_ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(REPOSITORY_ROOT / "source" / LESSON, tmp_path / "source" / LESSON)
    return tmp_path


def _edit(root, change):
    path = source_notebook(root, LESSON)
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)
    return path


def _graded(nb):
    return [c for c in nb.cells if cells.is_test(c)]


def test_the_committed_sources_have_no_metadata_problem():
    assert metadata_problems(source_notebook(REPOSITORY_ROOT, LESSON)) == []


@pytest.mark.parametrize(("change", "said"), [
    (lambda nb: _graded(nb)[1].metadata.nbgrader.update(grade_id="test_dense_params"),
     "grade_id 'test_dense_params' is already used by cell"),
    (lambda nb: _graded(nb)[0].metadata.nbgrader.pop("points"), "a test cell needs points > 0"),
    (lambda nb: _graded(nb)[0].metadata.nbgrader.pop("grade_id"), "nbgrader cell without grade_id"),
    (lambda nb: setattr(_graded(nb)[0], "source", _graded(nb)[0].source.replace(
        "### END HIDDEN TESTS", "")), "unbalanced BEGIN/END HIDDEN TESTS"),
    (lambda nb: nb.cells[5].metadata.pop("nbgrader", None) or setattr(
        nb.cells[5], "source", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
     "'BEGIN SOLUTION' in a cell that nbgrader does not manage"),
], ids=["duplicate-grade-id", "no-points", "no-grade-id", "unbalanced-hidden", "stray-solution"])
def test_metadata_problem_stops_the_release_and_names_the_cell(unreleased_course, change, said):
    path = _edit(unreleased_course, change)
    with pytest.raises(CourseError) as failure:
        release(unreleased_course, [LESSON], update_readme=False)
    assert said in str(failure.value) and str(path) in str(failure.value)
    assert not (unreleased_course / "release" / LESSON).exists(), "nothing is released"


def test_cli_reports_a_metadata_problem_with_exit_code_2(unreleased_course, capsys):
    _edit(unreleased_course, lambda nb: _graded(nb)[0].metadata.nbgrader.pop("points"))
    assert main(["release", "--root", str(unreleased_course)]) == 2
    assert "a test cell needs points > 0" in capsys.readouterr().err


def test_cli_rejects_an_unknown_lesson(unreleased_course, capsys):
    assert main(["release", "--root", str(unreleased_course), "99_nothing"]) == 2
    assert "unknown lesson(s) 99_nothing" in capsys.readouterr().err


def test_the_check_helpers_cell_is_folded_in_every_release_notebook():
    """The ~200 lines of course/checks.py inlined at release are folded in JupyterLab: a
    beginner sees the cell's first comment, not the helpers."""
    from course.nbgrader_plugins import CHECKS_MODULE
    from course.paths import lesson_ids, release_notebook

    first_line = CHECKS_MODULE.read_text(encoding="utf-8").splitlines()[0]
    for lesson in lesson_ids(REPOSITORY_ROOT):
        nb = nbformat.read(release_notebook(REPOSITORY_ROOT, lesson), as_version=4)
        helpers = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(first_line)]
        assert len(helpers) == 1, lesson
        assert helpers[0].metadata.get("jupyter", {}).get("source_hidden") is True, lesson
