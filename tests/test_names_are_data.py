"""A student's folder name is data: escaped in HTML, text in a spreadsheet, and never a glob
pattern to nbgrader (graded with plain Python kernels, no TensorFlow)."""
import csv
import shutil

import nbformat
import pytest

from course import cells, submissions
from course.demo import make_course
from course.grade import NO_SANDBOX, grade
from course.paths import REPOSITORY_ROOT
from course.release import release
from course.report import status_line
from course.status import Status

LESSON = "01_parameters"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("names")]  # plain Python kernels
NAMES = ["a,b\"c", "=1+1<img src=x onerror=alert(1)>", "bell\x07", "-김 철수"]
PATTERNS = ["*", "[ab]", "a?"]  # what nbgrader would read as a pattern: refused, with the reason


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp("names"), [LESSON])
    release(root, [LESSON], update_readme=False)
    nothing_to_run = submissions.blank(root, LESSON)  # no TensorFlow: every code cell passes
    for cell in nothing_to_run.cells:
        if cell.cell_type == "code" and not cells.is_test(cell) and cells.grade_id(cell) != "checks":
            cell.source = "pass"
    for name in NAMES + PATTERNS:
        submissions.submit(root, name, LESSON, nothing_to_run)
    results = grade(root, jobs=1, overrides=NO_SANDBOX, progress=False)
    return root, results


def test_every_name_is_graded_once_as_itself(graded):
    root, results = graded
    assert sorted(r.student for r in results) == sorted(NAMES + PATTERNS)
    statuses = {r.student: r.status for r in results}
    assert {statuses[n] for n in NAMES} == {Status.GRADED}, [(r.student, r.reason) for r in results]
    for name in PATTERNS:
        result = next(r for r in results if r.student == name)
        assert result.status is Status.FAILED and "rename the folder" in result.reason
        assert not (root / "autograded" / name).exists()
    for name in NAMES:
        assert (root / "autograded" / name / LESSON / f"{LESSON}.ipynb").is_file(), name
        nbformat.read(root / "autograded" / name / LESSON / f"{LESSON}.ipynb", as_version=4)


def test_grades_csv_is_quoted_and_holds_no_formula(graded):
    root, _ = graded
    with open(root / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ids = sorted(row["student_id"] for row in rows)
    assert ids == sorted("'" + n if n.startswith(("=", "-")) else n for n in NAMES + PATTERNS)
    for path in (root / "reports" / "status.csv", root / "grades.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))], path


def test_the_report_escapes_names(graded):
    root, _ = graded
    page = (root / "reports" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page
    assert "=1+1&lt;img src=x onerror=alert(1)&gt;" in page


def test_status_lines_show_control_characters_escaped(graded):
    _, results = graded
    line = status_line(next(r for r in results if r.student.startswith("bell")))
    assert "\x07" not in line and "bell\\x07" in line


def test_the_names_do_not_leak_into_each_others_folders(graded, tmp_path):
    root, _ = graded
    shutil.rmtree(tmp_path)
    assert sorted(p.name for p in (root / "feedback").iterdir()) == sorted(NAMES)
