"""Real-world files a student's tools save, taken in without a kernel: each correct answer must
reach autograde as a valid notebook with every graded cell in place (issue: every honest
submission graded right)."""
import copy
import json

import nbformat
import pytest

from course import cells, submissions
from course.intake import decode, take_in
from course.nbgrader_api import course_directory
from course.status import Status

LESSON = "01_parameters"


@pytest.fixture(scope="module")
def course(released_lesson_01):
    return released_lesson_01  # students are added under their own names: no copy needed


def _graded_ids(nb):
    return [cells.grade_id(c) for c in nb.cells if cells.grade_id(c)]


def _take(course, student, raw):
    folder = course / "submitted" / student / LESSON
    folder.mkdir(parents=True)
    (folder / f"{LESSON}.ipynb").write_bytes(raw)
    return take_in(course, course_directory(course), student, LESSON)


def _as_dict(course):
    return json.loads(nbformat.writes(submissions.answered(course, LESSON)))


def _expect_whole(course, intake):
    assert intake.status is Status.GRADED, intake.notes
    nbformat.validate(intake.notebook)
    assert _graded_ids(intake.notebook) == _graded_ids(submissions.answered(course, LESSON))
    answers = submissions.solutions(course, LESSON)
    for cell in intake.notebook.cells:
        if cells.is_answer(cell):
            assert cell.source == answers[cells.grade_id(cell)]


def test_a_code_cell_without_outputs_or_execution_count(course):
    nb = _as_dict(course)
    for cell in nb["cells"]:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    _expect_whole(course, _take(course, "no_outputs", json.dumps(nb).encode()))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_a_byte_order_mark_and_windows_line_ends(course, encoding):
    text = json.dumps(_as_dict(course), ensure_ascii=False, indent=1).replace("\n", "\r\n")
    _expect_whole(course, _take(course, f"bom_{encoding}", text.encode(encoding)))


def test_korean_windows_code_page(course):
    nb = _as_dict(course)
    nb["cells"][0]["source"] = "# 한글 제목"
    raw = json.dumps(nb, ensure_ascii=False).encode("cp949", errors="replace")
    assert decode(raw)[1] == "cp949"
    _expect_whole(course, _take(course, "cp949", raw))


def test_an_old_minor_version_without_cell_ids(course):
    nb = _as_dict(course)
    nb["nbformat_minor"] = 0
    for cell in nb["cells"]:
        cell.pop("id", None)
    _expect_whole(course, _take(course, "minor_0", json.dumps(nb).encode()))


def test_duplicate_cell_ids(course):
    nb = _as_dict(course)
    for cell in nb["cells"]:
        cell["id"] = "same"
    _expect_whole(course, _take(course, "same_ids", json.dumps(nb).encode()))


def test_nbformat_3(course):
    v3 = nbformat.convert(submissions.answered(course, LESSON), 3)
    _expect_whole(course, _take(course, "v3", nbformat.writes(v3, version=3).encode()))


def test_cells_pasted_into_a_fresh_colab_notebook(course):
    """Colab replaces every cell's metadata with its own id: no nbgrader key anywhere."""
    nb = _as_dict(course)
    nb["metadata"] = {"colab": {"provenance": []}, "kernelspec": {"name": "python3",
                                                                   "display_name": "Python 3"}}
    for number, cell in enumerate(nb["cells"]):
        cell["metadata"] = {"id": f"colab{number}"}
    intake = _take(course, "colab_paste", json.dumps(nb).encode())
    _expect_whole(course, intake)
    assert any("recognised without its metadata" in note for note in intake.notes)


def test_colab_paste_with_an_extra_cell_and_a_helper(course):
    """Extra cells of the student's own (a print, a helper the answer uses) change nothing."""
    nb = _as_dict(course)
    for number, cell in enumerate(nb["cells"]):
        cell["metadata"] = {"id": f"c{number}"}
    helper = nbformat.v4.new_code_cell("def helper(n):\n    return n + 1\nprint('hello')")
    nb["cells"].insert(3, json.loads(nbformat.writes(nbformat.v4.new_notebook(cells=[helper])))["cells"][0])
    intake = _take(course, "colab_extra", json.dumps(nb).encode())
    assert intake.status is Status.GRADED, intake.notes
    assert _graded_ids(intake.notebook) == _graded_ids(submissions.answered(course, LESSON))


def test_colab_paste_missing_an_answer_asks_for_a_manual_check(course):
    nb = _as_dict(course)
    nb["cells"] = [c for c in nb["cells"] if "def stack_params" not in "".join(c["source"])]
    for cell in nb["cells"]:
        cell["metadata"] = {}
    intake = _take(course, "colab_missing", json.dumps(nb).encode())
    assert intake.status is Status.MANUAL
    assert any("stack_params" in note and "grade by hand" in note for note in intake.notes)
    ids = _graded_ids(intake.notebook)
    assert "test_stack_params" in ids and "stack_params" not in ids
    assert ids.index("test_stack_params") == ids.index("test_dense_params") + 1


def test_a_deleted_test_cell_is_put_back_after_its_answer(course):
    nb = submissions.answered(course, LESSON)
    nb.cells = [c for c in nb.cells if cells.grade_id(c) != "test_linear_predict"]
    intake = _take(course, "deleted_test", nbformat.writes(nb).encode())
    ids = _graded_ids(intake.notebook)
    assert ids.index("test_linear_predict") == ids.index("linear_predict") + 1
    assert any("deleted test cell restored): test_linear_predict" in note for note in intake.notes)


def test_the_students_outputs_and_kernel_do_not_reach_the_grader(course):
    nb = copy.deepcopy(submissions.answered(course, LESSON))
    nb.metadata["kernelspec"] = {"name": "evil", "display_name": "evil", "language": "python"}
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="x" * 1000)]
    code.execution_count = 3
    intake = _take(course, "outputs", nbformat.writes(nb).encode())
    assert intake.notebook.metadata.kernelspec.name != "evil"
    assert all(not c.get("outputs") for c in intake.notebook.cells if c.cell_type == "code")
