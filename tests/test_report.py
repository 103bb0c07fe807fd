"""course.report without a kernel: the tables from Results (and a gradebook filled through
nbgrader's API), and report.html, where every value a student controls is escaped."""
import base64
import csv
import re
import shutil
from pathlib import Path

import markupsafe
import pytest
import tiny_lesson
from tiny_lesson import LESSON

from course.gradebook import gradebook
from course.report import exercise_table, score_table, status_line, status_table, write_report
from course.result import Result
from course.spreadsheet import safe_cell
from course.status import Status

OTHER = "02_tiny"


def _result(student, lesson=LESSON, status=Status.GRADED, score=0.0, max_score=3.0, notes=(), seconds=0.0):
    return Result(student, lesson, status, score=score, max_score=max_score, notes=list(notes),
                  seconds=seconds)


def test_status_table_has_a_row_per_submission_with_its_notes_joined():
    table = status_table([_result("ann", score=2.5, notes=["a note", "another"], seconds=12.345),
                          _result("bob", status=Status.CORRUPT, notes=["not JSON"])])
    assert list(table.columns) == ["student", "lesson", "status", "score", "max_score", "details", "seconds"]
    assert table.to_dict("records") == [
        {"student": "ann", "lesson": LESSON, "status": "graded", "score": 2.5, "max_score": 3.0,
         "details": "a note; another", "seconds": 12.3},
        {"student": "bob", "lesson": LESSON, "status": "corrupt", "score": 0.0, "max_score": 3.0,
         "details": "not JSON", "seconds": 0.0}]


def test_score_table_has_students_as_rows_and_lessons_as_columns():
    table = score_table([_result("bob", status=Status.CORRUPT),
                         _result("ann", score=2.5),
                         _result("ann", OTHER, status=Status.MISSING, max_score=5.0),
                         _result("cy", OTHER, score=5.0, max_score=5.0)])
    assert table.index.name == "student" and list(table.index) == ["ann", "bob", "cy"]
    assert table.to_dict("index") == {
        "ann": {LESSON: "2.5 / 3", OTHER: "0 (missing)"},
        "bob": {LESSON: "0 (corrupt)", OTHER: "-"},
        "cy": {LESSON: "-", OTHER: "5 / 5"}}


def test_status_line_gives_score_status_and_notes():
    assert status_line(_result("ann", score=2.0)) == f"{'ann':20s} {LESSON:18s} {'2/3':>9s}  graded"
    noted = _result("bob", status=Status.FAILED, notes=["a", "b"])
    assert status_line(noted) == f"{'bob':20s} {LESSON:18s} {'0/3':>9s}  failed: a; b"


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory):
    """A tiny course whose gradebook holds lesson 01_tiny (test_double: 2 points, test_halve: 1)
    and the scores of ann (2, 1), bob (1, 1) and cy (0, 0); dan has no submission. (Creating a
    gradebook runs `alembic`, seconds: once per module.)"""
    root = tiny_lesson.course(tmp_path_factory.mktemp("graded") / "course", {LESSON: tiny_lesson.released()})
    with gradebook(root) as gb:
        gb.add_assignment(LESSON)
        gb.add_notebook(LESSON, LESSON)
        for cell, points in (("test_halve", 1), ("test_double", 2)):  # the table sorts them
            gb.add_grade_cell(cell, LESSON, LESSON, max_score=points, cell_type="code")
        for student, scores in {"ann": (2, 1), "bob": (1, 1), "cy": (0, 0)}.items():
            gb.add_student(student)
            gb.add_submission(LESSON, student)
            for cell, score in zip(("test_double", "test_halve"), scores):
                gb.find_grade(cell, LESSON, LESSON, student).auto_score = score
        gb.add_student("dan")
        gb.db.commit()
    return root


@pytest.fixture
def course(graded_once, tmp_path):
    """A copy of the graded tiny course."""
    return Path(shutil.copytree(graded_once, tmp_path / "course"))


RESULTS = [_result("ann", score=3), _result("bob", score=2), _result("cy"),
           _result("dan", status=Status.MISSING)]


def test_exercise_table_gives_each_graded_cell_and_the_share_with_full_points(course):
    table = exercise_table(course, RESULTS)
    assert list(table.columns) == ["lesson", "exercise", "points", "students", "passing (%)"]
    assert table.to_dict("records") == [
        {"lesson": LESSON, "exercise": "test_double", "points": 2.0, "students": 3, "passing (%)": 33.3},
        {"lesson": LESSON, "exercise": "test_halve", "points": 1.0, "students": 3, "passing (%)": 66.7}]


HOSTILE = "<img src=x onerror=alert(1)>"
QUOTED = """o'neil "the <b>bold</b>" & co"""


def _hostile_results():
    return RESULTS + [_result(HOSTILE, score=1, notes=["<script>alert(2)</script>"]),
                      _result(QUOTED, status=Status.CORRUPT, notes=['not JSON: "{<oops>'])]


def test_the_report_escapes_what_students_control(course):
    page = write_report(course, _hostile_results()).read_text(encoding="utf-8")
    for raw in (HOSTILE, QUOTED, "<script>", "<b>bold</b>", '"{<oops>'):
        assert raw not in page
    for raw in (HOSTILE, QUOTED, "<script>alert(2)</script>", 'not JSON: "{<oops>'):
        assert str(markupsafe.escape(raw)) in page
    assert page.count("<script") == 0 and page.count("<img") == 1, "only the histogram is an image"


def test_the_report_embeds_the_histogram_and_links_feedback_that_exists(course):
    feedback = course / "feedback" / "ann" / LESSON / f"{LESSON}.html"
    feedback.parent.mkdir(parents=True)
    feedback.write_text("<html></html>")
    page = write_report(course, _hostile_results()).read_text(encoding="utf-8")
    png = (course / "reports" / "scores.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [base64.b64decode(data) for data in embedded] == [png]
    assert re.findall(r'href="([^"]*)"', page) == [f"feedback/ann/{LESSON}/{LESSON}.html"]
    for status, count in ((Status.GRADED, 4), (Status.MISSING, 1)):
        assert f"<tr><td>{status}</td><td>{count}</td><td>{markupsafe.escape(status.text)}</td></tr>" in page


def test_the_report_csvs_have_their_columns_and_a_row_each(course):
    write_report(course, _hostile_results())
    with open(course / "reports" / "status.csv", newline="", encoding="utf-8") as handle:
        statuses = list(csv.DictReader(handle))
    assert list(statuses[0]) == ["student", "lesson", "status", "score", "max_score", "details", "seconds"]
    assert [row["student"] for row in statuses] == ["ann", "bob", "cy", "dan", HOSTILE, QUOTED]
    assert statuses[-1]["details"] == 'not JSON: "{<oops>'
    with open(course / "reports" / "exercises.csv", newline="", encoding="utf-8") as handle:
        exercises = list(csv.DictReader(handle))
    assert [(row["exercise"], row["students"]) for row in exercises] == [("test_double", "3"),
                                                                         ("test_halve", "3")]
    assert list(exercises[0]) == ["lesson", "exercise", "points", "students", "passing (%)"]


def test_control_characters_in_a_name_are_shown_escaped(course):
    """A folder named with a terminal escape (ESC [31m) does not colour the instructor's terminal
    nor put a raw control character in report.html."""
    name = "x\x1b[31mred\x07"
    results = RESULTS + [_result(name, score=1)]
    page = write_report(course, results).read_text(encoding="utf-8")
    printed = score_table(results).to_string()
    for text in (page, printed):
        assert "\x1b" not in text and "\x07" not in text
        assert "x\\x1b[31mred\\x07" in text


@pytest.mark.parametrize("name", ["=1+1", " =1+1", "\u200b=HYPERLINK(\"x\")", "\ufeff@SUM(A1)", "＝1+1",
                                  "\u3000-2+3", "\n=1", "\u3164=1+1", "\ufe0f +1"])
def test_a_formula_behind_spaces_or_unseen_characters_stays_text(name):
    assert safe_cell(name) == "'" + name


@pytest.mark.parametrize("name", ["kim", "이하늘", "a=b", "1-2"])
def test_other_names_are_left_as_they_are(name):
    assert safe_cell(name) == name
