"""The gradebook on PostgreSQL (COURSE_DB_URL in nbgrader_config.py): two workers grading the
tiny course at once into a real PostgreSQL server give what they give into SQLite."""
import csv

import postgres_server
import pytest
import tiny_course
from conftest import own_code_overrides

from course.grade import grade
from course.gradebook import cell_scores

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tiny_postgres")]
LESSON = tiny_course.LESSON


def _graded_class(root):
    """Grade tiny_course.submit_class with two workers; (the earned scores, {student: (status,
    score, max_score)}, {student: cell scores}, grades.csv rows without the timestamp)."""
    earned = tiny_course.submit_class(root)
    results = grade(root, jobs=2, overrides=own_code_overrides(), progress=False)
    outcomes = {r.student: (str(r.status), r.score, r.max_score) for r in results}
    cells = {student: cell_scores(root, LESSON, student) for student in earned}
    with open(root / "grades.csv", newline="") as handle:
        rows = sorted(tuple(sorted((k, v) for k, v in row.items() if k != "timestamp"))
                      for row in csv.DictReader(handle))
    return earned, outcomes, cells, rows


def test_two_workers_grading_into_postgresql_give_the_scores_of_sqlite(tmp_path, postgres_url,
                                                                       monkeypatch):
    monkeypatch.delenv("COURSE_DB_URL", raising=False)
    on_sqlite = tiny_course.make_tiny_course(tmp_path / "sqlite")
    earned, expected, expected_cells, expected_rows = _graded_class(on_sqlite)
    assert {s: score for s, (_, score, _) in expected.items()} == earned
    assert expected["ada"] == ("graded", tiny_course.FULL, tiny_course.FULL)

    monkeypatch.setenv("COURSE_DB_URL", postgres_url)  # the workers are spawned with it
    on_postgres = tiny_course.make_tiny_course(tmp_path / "postgres")
    _, outcomes, cells, rows = _graded_class(on_postgres)
    assert not (on_postgres / "gradebook.db").exists()
    assert outcomes == expected
    assert cells == expected_cells and cells["bo"]["test_mul"] == (0.0, tiny_course.POINTS["mul"])
    assert rows == expected_rows

    scored = postgres_server.query(postgres_url, """
        SELECT student.id, SUM(grade.auto_score) FROM grade
        JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
        JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
        JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id""")
    graded = {s: score for s, (status, score, _) in expected.items() if status == "graded"}
    assert dict(scored) == graded and len(graded) == 3
