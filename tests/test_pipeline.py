"""`course demo` end to end on lesson 01: release, three students, autograde, feedback,
grades.csv and the score table."""
import csv

import pytest

from course import submissions
from course.cli import main
from course.demo import STUDENTS
from course.paths import REPOSITORY_ROOT
from course.submissions import graded_cells

LESSON = "01_parameters"


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_demo_grades_three_students_and_goes_on_past_the_broken_one(tmp_path, capsys):
    assert main(["demo", "--lessons", LESSON, "--dir", str(tmp_path / "demo")]) == 0
    root = tmp_path / "demo"
    full = sum(graded_cells(REPOSITORY_ROOT, LESSON).values())
    with open(root / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    correct, partly_wrong, syntax_error = STUDENTS
    points = graded_cells(REPOSITORY_ROOT, LESSON)
    assert scores[correct] == full
    # The partly wrong student holds the lesson's first catalogued wrong answer.
    wrong = submissions.wrong_answers(REPOSITORY_ROOT, LESSON)[0]
    assert scores[partly_wrong] == full - sum(points[test] for test in wrong.loses)
    # The syntax error breaks the first exercise: every test cell reading it loses its points.
    first = next(iter(submissions.solutions(REPOSITORY_ROOT, LESSON)))
    broken = [test for test, cells in submissions.test_dependencies(REPOSITORY_ROOT, LESSON).items()
              if first in cells]
    assert broken and scores[syntax_error] == full - sum(points[test] for test in broken)
    for student in STUDENTS:
        assert (root / "feedback" / student / LESSON / f"{LESSON}.html").is_file()
    printed = capsys.readouterr().out
    assert f"{full:g} / {full:g}" in printed and "grades.csv" in printed
    assert not (root / "submitted" / correct / LESSON / f"{LESSON}.html").exists()


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "something").write_text("x")
    assert main(["demo", "--lessons", LESSON, "--dir", str(tmp_path)]) == 2
    assert "is not empty" in capsys.readouterr().err
