"""Optional material ("더 알아보기 (선택)") sits at the end of a lesson, after its summary, and
holds nothing graded, so a beginner can stop at the summary (docs/authoring.md)."""
import nbformat
import pytest

from course import cells
from course.paths import REPOSITORY_ROOT, lesson_ids

OPTIONAL = "## 더 알아보기 (선택)"
SUMMARY = "## 정리"


def _headings(nb):
    """(cell number, first line) of the markdown cells that start with a level-2 heading."""
    return [(number, cell.source.lstrip().splitlines()[0]) for number, cell in enumerate(nb.cells)
            if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## ")]


def optional_layout_problems(nb):
    """What breaks the rule in `nb`: an optional section before the summary, a main section after
    an optional one, or a graded cell (solution or test) inside an optional section."""
    headings = _headings(nb)
    summary = next((number for number, line in headings if line.startswith(SUMMARY)), None)
    problems = []
    first_optional = None
    for number, line in headings:
        if line.startswith(OPTIONAL):
            if summary is None or number < summary:
                problems.append(f"cell {number}: '{line}' before the summary")
            first_optional = number if first_optional is None else first_optional
        elif first_optional is not None:
            problems.append(f"cell {number}: '{line}' after an optional section")
    if first_optional is not None:
        problems += [f"cell {number}: graded cell {cells.grade_id(cell)} in an optional section"
                     for number, cell in enumerate(nb.cells)
                     if number > first_optional and (cells.is_test(cell) or cells.is_answer(cell))]
    return problems


@pytest.mark.parametrize("lesson", lesson_ids(REPOSITORY_ROOT))
def test_optional_sections_come_last_and_are_not_graded(lesson):
    nb = nbformat.read(REPOSITORY_ROOT / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    assert not optional_layout_problems(nb)


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source) for source in sources])


def test_an_optional_section_before_the_summary_is_found():
    nb = _notebook("## 1. 본문", "## 더 알아보기 (선택): 여담", "## 정리 (summary)")
    assert optional_layout_problems(nb) == ["cell 1: '## 더 알아보기 (선택): 여담' before the summary",
                                            "cell 2: '## 정리 (summary)' after an optional section"]


def test_a_graded_cell_in_an_optional_section_is_found():
    nb = _notebook("## 정리 (summary)", "## 더 알아보기 (선택): 여담")
    graded = nbformat.v4.new_code_cell("assert True")
    graded.metadata["nbgrader"] = {"grade": True, "grade_id": "test_extra", "points": 1, "solution": False,
                                   "locked": True, "schema_version": 3, "task": False}
    nb.cells.append(graded)
    assert optional_layout_problems(nb) == ["cell 2: graded cell test_extra in an optional section"]
